/*
 * es.h - Elasticsearch: settings (output.elasticsearch in pb-config(5)),
 * index name patterns, bulk request bodies, the HTTP client that sends
 * them, and the index template.
 *
 * Bulk bodies are NDJSON pairs: an action line naming the index, the
 * deterministic _id (doc.h) and the ingest pipeline, then the canonical
 * document.  With op_type create (the default, as data streams need), a
 * document sent again is refused by Elasticsearch with 409, which the
 * client counts as already there: a re-run batch job adds nothing.
 */
#ifndef PB_OUT_ES_H
#define PB_OUT_ES_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "conf/conf.h"
#include "util/buf.h"
#include "util/time.h"

#define PB_ES_MAX_HOSTS 64
#define PB_ES_MAX_HEADERS 32      /* output.elasticsearch.headers entries */
#define PB_ES_MAX_WORKERS 64
#define PB_ES_DEFAULT_INDEX "packetbeat-%{[agent.version]}-%{+yyyy.MM.dd}"

enum pb_es_verify { PB_ES_VERIFY_FULL, PB_ES_VERIFY_CERTIFICATE, PB_ES_VERIFY_NONE };

struct pb_es_conf {
	const char *hosts[PB_ES_MAX_HOSTS]; /* URLs or host:port */
	int n_hosts;
	const char *protocol;     /* http or https, for hosts without a scheme */
	const char *path;         /* path prefix before /_bulk */
	const char *index;        /* pattern */
	const char *pipeline;
	const char *username, *password, *api_key;
	const char *ca_file, *cert, *key;
	enum pb_es_verify verify;
	int workers;
	int bulk_max_size;
	int compression_level;    /* 0: no gzip */
	int max_retries;          /* -1: forever */
	int op_create;            /* op_type create (1) or index (0) */
	int64_t backoff_init_ns, backoff_max_ns, timeout_ns;
	const char *proxy_url;    /* the HTTP proxy, or NULL: libcurl's
				   * environment (http_proxy ...) */
	int proxy_disable;        /* no proxy at all, not even from the
				   * environment */
	/* headers: "Name: value" lines sent with every request; parameters:
	 * the URL query string of bulk requests ("a=1&b=2", escaped), or
	 * NULL; both owned */
	char *headers[PB_ES_MAX_HEADERS];
	int n_headers;
	char *parameters;
	/* storage for strings made here (split host lists) */
	char *owned[PB_ES_MAX_HOSTS];
	int n_owned;
};

void pb_es_conf_init(struct pb_es_conf *c);
void pb_es_conf_release(struct pb_es_conf *c);
/* Read and check output.elasticsearch.* from conf: 0, or PB_EUSAGE with
 * conf->err naming file, line and key.  Unknown keys draw a warning. */
int pb_es_conf_load(struct pb_es_conf *c, struct pb_conf *conf);
/* Add hosts from a comma-separated list (--es): 0 or PB_EUSAGE. */
int pb_es_conf_add_hosts(struct pb_es_conf *c, const char *list);

/* Index name patterns, as Beats writes them: literal text, %{[a.b]} (a
 * field of the event; %{[a.b]:default} when it may be absent; an absent
 * agent.version is pbtools' version) and %{+yyyy.MM.dd} (the event's own
 * @timestamp in UTC; letters y Y M d H m s, other characters as they
 * are).  The name is lower-cased, as Elasticsearch requires. */
struct pb_es_index;
int pb_es_index_compile(struct pb_es_index **out, const char *pattern,
			char *err, size_t errlen);
/* The index name of an event into out (cleared first): 0, or PB_EINVAL
 * with why set (a field absent, no @timestamp). */
int pb_es_index_eval(const struct pb_es_index *ix, const cJSON *ev, struct pb_buf *out,
		     const char **why);
void pb_es_index_free(struct pb_es_index *ix);

/* Append one bulk item (action line and document, each ended by a
 * newline) to body: 0 or PB_ETOOBIG. */
int pb_es_bulk_item(struct pb_buf *body, int op_create, const char *index,
		    const char *id, const char *pipeline, const char *doc, size_t len);

/* The HTTP client (eshttp.c). */
struct pb_es_client;
struct pb_es_stats {
	uint64_t sent;           /* documents Elasticsearch took (2xx) */
	uint64_t existed;        /* 409 to a create: already there */
	uint64_t dead;           /* failed for good (dead letter) */
	uint64_t retried;        /* documents sent again */
	uint64_t requests;       /* HTTP requests made */
	uint64_t request_errors; /* connection errors, 429 and 5xx answers */
};
/* dead_letter: a path for the documents that failed for good, or NULL
 * (then each is reported on standard error).  0 or an error (reported). */
int pb_es_client_new(struct pb_es_client **out, const struct pb_es_conf *c,
		     const char *dead_letter);
/* Queue one document (its index, id and canonical text are copied);
 * blocks while every worker is busy and the queue full.  0, or PB_EIO
 * when the client has stopped on a fatal error (reported). */
int pb_es_client_add(struct pb_es_client *cl, const char *index, const char *id,
		     const char *doc, size_t len);
/* Send what is queued, wait for the workers, and stop them: 0, or PB_EIO
 * when a document failed for good or a fatal error stopped the client. */
int pb_es_client_finish(struct pb_es_client *cl);
const struct pb_es_stats *pb_es_client_stats(const struct pb_es_client *cl);
void pb_es_client_free(struct pb_es_client *cl);

/* GET / on the first host that answers: prints the cluster's name and
 * version to out (like packetbeat test output).  0 or PB_EIO (reported). */
int pb_es_test_output(const struct pb_es_conf *c, void *out_file);
/* PUT _index_template/NAME with the template: 0 or PB_EIO (reported). */
int pb_es_put_template(const struct pb_es_conf *c, const char *name, const char *body);

/* The index template for patterns (e.g. "packetbeat-*"), mappings from
 * the event schema, into out: 0 or PB_ENOMEM. */
int pb_es_template(struct pb_buf *out, const char *pattern, int data_stream);

#endif
