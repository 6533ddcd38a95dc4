/*
 * eshttp.c - bulk requests to Elasticsearch over HTTP(S) with libcurl
 * (see es.h).
 *
 * The reading thread fills a batch of up to bulk_max_size documents (or
 * 8 MiB of body) and queues it; `workers` threads take batches from a
 * queue of at most two per worker, so memory stays bounded whatever the
 * input.  A worker sends its batch to the hosts in turn (load balancing;
 * the next host after a failure), reads the answer item by item and
 * sends again, after an exponential backoff, what was refused for lack
 * of room (429) or by a failing node (5xx), or everything after a
 * connection error or a 429/5xx answer to the whole request.  After
 * max_retries, and at once for an item Elasticsearch rejected (a mapping
 * error, a 400), the document goes to the dead-letter file with the
 * reason, never dropped.  A 401 or 403 stops the client: credentials do
 * not get better by retrying.
 */
#include "out/es.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <zlib.h>

#include "out/doc.h"
#include "pb.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/log.h"
#include "util/banned.h"

#define BATCH_MAX_BODY (8u << 20)    /* send a batch once its body is this big */
#define BODY_CAP (256u << 20)        /* one document (64 MiB) always fits */
#define ANSWER_CAP (64u << 20)       /* the largest answer read */

struct item {
	size_t off, act_len, len;   /* action line at off; the pair is len bytes */
};

struct batch {
	struct pb_buf body;
	struct item *items;
	uint32_t n, cap;
	struct batch *next;
};

struct pb_es_client {
	const struct pb_es_conf *c;
	char **urls;                 /* base URLs: scheme://host:port/path */
	FILE *dead;
	const char *dead_path;
	pthread_mutex_t mu;
	pthread_cond_t cv_item, cv_room;
	struct batch *head, *tail, *cur;
	int queued, max_queued;
	int done, fatal;
	pthread_t threads[PB_ES_MAX_WORKERS];
	int n_threads;
	unsigned next_host;
	struct pb_es_stats st;
};

/* ---- URLs and handles ---- */

static char *base_url(const struct pb_es_conf *c, const char *host)
{
	struct pb_buf b;
	const char *rest = strstr(host, "://");
	const char *hp = rest ? rest + 3 : host;
	size_t hl = strcspn(hp, "/");
	const char *path;
	int has_port;

	pb_buf_init(&b, 4096);
	if (rest)
		pb_buf_add(&b, host, (size_t)(hp - host));
	else
		pb_buf_addf(&b, "%s://", c->protocol);
	pb_buf_add(&b, hp, hl);
	/* a port after the host, or after a bracketed IPv6 address */
	if (hp[0] == '[') {
		const char *rb = memchr(hp, ']', hl);

		has_port = rb && rb + 1 < hp + hl && rb[1] == ':';
	} else {
		has_port = memchr(hp, ':', hl) != NULL;
	}
	if (!has_port)
		pb_buf_adds(&b, ":9200");   /* Elasticsearch's port, as Beats assumes */
	path = hp[hl] ? hp + hl : c->path;
	if (path && *path) {
		if (*path != '/')
			pb_buf_addc(&b, '/');
		pb_buf_adds(&b, path);
	}
	while (b.len && b.data[b.len - 1] == '/')
		b.len--;
	pb_buf_cstr(&b);
	return b.data;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct pb_buf *b = arg;

	if (pb_buf_add(b, p, size * n) < 0)
		return 0;
	return size * n;
}

/* A handle with everything but the URL and the body set. */
static CURL *handle(const struct pb_es_conf *c, struct pb_buf *answer,
		    struct curl_slist **hdrs, int ndjson, int gzip)
{
	CURL *h = curl_easy_init();
	struct pb_buf auth;

	*hdrs = NULL;
	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->timeout_ns / 1000000));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, answer);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "pbtools/" "pb-export");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  /* gzip answers too */
	if (c->username) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
	}
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
	}
	if (c->proxy_disable) {
		curl_easy_setopt(h, CURLOPT_PROXY, "");
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	} else if (c->proxy_url) {
		curl_easy_setopt(h, CURLOPT_PROXY, c->proxy_url);
	}
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->verify == PB_ES_VERIFY_NONE ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->verify == PB_ES_VERIFY_FULL ? 2L : 0L);
	*hdrs = curl_slist_append(NULL, ndjson ? "Content-Type: application/x-ndjson"
					       : "Content-Type: application/json");
	if (gzip)
		*hdrs = curl_slist_append(*hdrs, "Content-Encoding: gzip");
	if (c->api_key) {
		/* Beats takes id:key and sends it base64'd; a key already in
		 * base64 (no ':') goes as it is */
		pb_buf_init(&auth, 8192);
		pb_buf_adds(&auth, "Authorization: ApiKey ");
		if (strchr(c->api_key, ':')) {
			size_t n = strlen(c->api_key);

			if (pb_buf_grow(&auth, pb_base64_enc_len(n) + 1) == 0) {
				pb_base64_encode(auth.data + auth.len, c->api_key, n);
				auth.len += pb_base64_enc_len(n);
			}
		} else {
			pb_buf_adds(&auth, c->api_key);
		}
		*hdrs = curl_slist_append(*hdrs, pb_buf_cstr(&auth));
		pb_buf_release(&auth);
	}
	{
		int i;

		for (i = 0; i < c->n_headers; i++)
			*hdrs = curl_slist_append(*hdrs, c->headers[i]);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
	return h;
}

static int gzip_body(const char *in, size_t n, int level, struct pb_buf *out)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return PB_ENOMEM;
	pb_buf_clear(out);
	if (pb_buf_grow(out, deflateBound(&z, n) + 1) < 0) {
		deflateEnd(&z);
		return PB_ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)(out->cap - 1);
	rc = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : PB_ENOMEM;
}

/* ---- the dead letter ---- */

static void dead_letter(struct pb_es_client *cl, const struct batch *b,
			const struct item *it, long status, const char *reason)
{
	struct pb_buf line;
	struct pb_json j;
	const char *doc = b->body.data + it->off + it->act_len + 1;
	size_t dlen = it->len - it->act_len - 2;

	pb_buf_init(&line, BODY_CAP);
	pb_json_init(&j, &line);
	pb_json_obj(&j);
	pb_json_key(&j, "reason");
	pb_json_cstr(&j, reason);
	if (status) {
		pb_json_key(&j, "status");
		pb_json_i64(&j, status);
	}
	pb_json_key(&j, "action");
	pb_json_raw(&j, b->body.data + it->off, it->act_len);
	pb_json_key(&j, "event");
	pb_json_raw(&j, doc, dlen);
	pb_json_obj_end(&j);
	pb_buf_addc(&line, '\n');
	pthread_mutex_lock(&cl->mu);
	cl->st.dead++;
	if (cl->dead) {
		if (fwrite(line.data, 1, line.len, cl->dead) != line.len ||
		    fflush(cl->dead) != 0) {
			pb_error("cannot write '%s': %s", cl->dead_path, strerror(errno));
			fclose(cl->dead);
			cl->dead = NULL;
		}
	}
	if (!cl->dead)
		pb_error("document not indexed: %.*s: %s", (int)it->act_len,
			 b->body.data + it->off, reason);
	pthread_mutex_unlock(&cl->mu);
	pb_buf_release(&line);
}

/* ---- sending one batch ---- */

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int is_retryable(long status)
{
	return status == 429 || status >= 500;
}

/* The reason an item or answer gives: "type: reason". */
static void error_reason(const cJSON *err, char *out, size_t n, long status)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(err, "type");
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(err, "reason");

	if (cJSON_IsString(type) && cJSON_IsString(reason))
		snprintf(out, n, "%s: %s", type->valuestring, reason->valuestring);
	else if (cJSON_IsString(err))
		snprintf(out, n, "%s", err->valuestring);
	else
		snprintf(out, n, "HTTP status %ld", status);
}

static void send_batch(struct pb_es_client *cl, struct batch *b)
{
	const struct pb_es_conf *c = cl->c;
	uint32_t *pending = malloc(b->n * sizeof(*pending)), *again;
	uint32_t n_pending = b->n, i;
	struct pb_buf body, gz, answer;
	int64_t backoff = c->backoff_init_ns;
	int attempt = 0;
	char reason[8192] = "";
	long last_status = 0;

	again = malloc(b->n * sizeof(*again));
	pb_buf_init(&body, BODY_CAP);
	pb_buf_init(&gz, BODY_CAP);
	pb_buf_init(&answer, ANSWER_CAP);
	if (!pending || !again) {
		for (i = 0; i < b->n; i++)
			dead_letter(cl, b, &b->items[i], 0, "out of memory");
		goto out;
	}
	for (i = 0; i < b->n; i++)
		pending[i] = i;
	while (n_pending) {
		struct curl_slist *hdrs = NULL;
		const char *send = b->body.data;
		size_t send_len = b->body.len;
		char url[4096];
		uint32_t n_again = 0;
		unsigned host;
		long status = 0;
		CURLcode cc;
		CURL *h;
		int fatal;

		pthread_mutex_lock(&cl->mu);
		fatal = cl->fatal;
		host = cl->next_host++ % (unsigned)c->n_hosts;
		cl->st.requests++;
		pthread_mutex_unlock(&cl->mu);
		if (fatal) {
			for (i = 0; i < n_pending; i++)
				dead_letter(cl, b, &b->items[pending[i]], 0,
					    "not sent: the client stopped on an earlier error");
			break;
		}
		if (n_pending != b->n) {
			/* only what is left: the items' own bytes, in order */
			pb_buf_clear(&body);
			for (i = 0; i < n_pending; i++) {
				const struct item *it = &b->items[pending[i]];

				pb_buf_add(&body, b->body.data + it->off, it->len);
			}
			send = body.data;
			send_len = body.len;
		}
		if (c->compression_level > 0) {
			if (gzip_body(send, send_len, c->compression_level, &gz) < 0) {
				for (i = 0; i < n_pending; i++)
					dead_letter(cl, b, &b->items[pending[i]], 0,
						    "out of memory compressing");
				break;
			}
			send = gz.data;
			send_len = gz.len;
		}
		pb_buf_clear(&answer);
		snprintf(url, sizeof(url), "%s/_bulk%s%s", cl->urls[host],
			 cl->c->parameters ? "?" : "", cl->c->parameters ? cl->c->parameters : "");
		h = handle(c, &answer, &hdrs, 1, c->compression_level > 0);
		if (h) {
			curl_easy_setopt(h, CURLOPT_URL, url);
			curl_easy_setopt(h, CURLOPT_POST, 1L);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, send);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)send_len);
			cc = curl_easy_perform(h);
			if (cc == CURLE_OK)
				curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
			curl_easy_cleanup(h);
		} else {
			cc = CURLE_OUT_OF_MEMORY;
		}
		curl_slist_free_all(hdrs);
		last_status = status;

		if (cc != CURLE_OK || is_retryable(status)) {
			/* the whole request again, later, on the next host */
			if (cc != CURLE_OK)
				snprintf(reason, sizeof(reason), "%s: %s", url,
					 curl_easy_strerror(cc));
			else
				snprintf(reason, sizeof(reason), "%s: HTTP status %ld", url, status);
			pb_info("%s; %u documents to send again", reason, n_pending);
			pthread_mutex_lock(&cl->mu);
			cl->st.request_errors++;
			pthread_mutex_unlock(&cl->mu);
			memcpy(again, pending, n_pending * sizeof(*pending));
			n_again = n_pending;
		} else if (status == 401 || status == 403) {
			pthread_mutex_lock(&cl->mu);
			if (!cl->fatal)
				pb_error("%s: HTTP status %ld: %s: check the credentials "
					 "(output.elasticsearch.username, password or api_key)",
					 url, status, status == 401 ? "not authenticated"
								    : "not allowed");
			cl->fatal = 1;
			pthread_cond_broadcast(&cl->cv_room);
			pthread_mutex_unlock(&cl->mu);
			snprintf(reason, sizeof(reason), "HTTP status %ld from %s", status, url);
			for (i = 0; i < n_pending; i++)
				dead_letter(cl, b, &b->items[pending[i]], status, reason);
			break;
		} else if (status < 200 || status >= 300) {
			cJSON *a = cJSON_ParseWithLength(answer.data ? answer.data : "", answer.len);

			error_reason(cJSON_GetObjectItemCaseSensitive(a, "error"), reason,
				     sizeof(reason), status);
			cJSON_Delete(a);
			for (i = 0; i < n_pending; i++)
				dead_letter(cl, b, &b->items[pending[i]], status, reason);
			break;
		} else {
			cJSON *a = cJSON_ParseWithLength(answer.data ? answer.data : "", answer.len);
			const cJSON *items = cJSON_GetObjectItemCaseSensitive(a, "items");
			const cJSON *e;
			uint64_t ok = 0, existed = 0;

			if (!cJSON_IsArray(items) ||
			    (uint32_t)cJSON_GetArraySize(items) != n_pending) {
				/* an answer that does not say what became of each
				 * document: send them again (ids make it safe) */
				snprintf(reason, sizeof(reason), "%s: an answer without one "
					 "item per document", url);
				pb_info("%s", reason);
				cJSON_Delete(a);
				memcpy(again, pending, n_pending * sizeof(*pending));
				n_again = n_pending;
				pthread_mutex_lock(&cl->mu);
				cl->st.request_errors++;
				pthread_mutex_unlock(&cl->mu);
				goto retry;
			}
			i = 0;
			cJSON_ArrayForEach(e, items) {
				const cJSON *res = e->child;
				const cJSON *st = cJSON_GetObjectItemCaseSensitive(res, "status");
				long s = cJSON_IsNumber(st) ? (long)st->valuedouble : 0;
				uint32_t k = pending[i++];

				if (s >= 200 && s < 300) {
					ok++;
				} else if (s == 409 && c->op_create) {
					existed++;  /* sent before: create refuses a copy */
				} else if (is_retryable(s)) {
					again[n_again++] = k;
					error_reason(cJSON_GetObjectItemCaseSensitive(res, "error"),
						     reason, sizeof(reason), s);
					last_status = s;
				} else {
					char why[512];

					error_reason(cJSON_GetObjectItemCaseSensitive(res, "error"),
						     why, sizeof(why), s);
					dead_letter(cl, b, &b->items[k], s, why);
				}
			}
			cJSON_Delete(a);
			pthread_mutex_lock(&cl->mu);
			cl->st.sent += ok;
			cl->st.existed += existed;
			pthread_mutex_unlock(&cl->mu);
		}
retry:
		if (!n_again)
			break;
		attempt++;
		if (c->max_retries >= 0 && attempt > c->max_retries) {
			char why[8400];

			snprintf(why, sizeof(why), "gave up after %d retries: %s",
				 c->max_retries, reason);
			for (i = 0; i < n_again; i++)
				dead_letter(cl, b, &b->items[again[i]], last_status, why);
			break;
		}
		pthread_mutex_lock(&cl->mu);
		cl->st.retried += n_again;
		pthread_mutex_unlock(&cl->mu);
		sleep_ns(backoff);
		backoff = backoff * 2 > c->backoff_max_ns ? c->backoff_max_ns : backoff * 2;
		memcpy(pending, again, n_again * sizeof(*again));
		n_pending = n_again;
	}
out:
	free(pending);
	free(again);
	pb_buf_release(&body);
	pb_buf_release(&gz);
	pb_buf_release(&answer);
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	pb_buf_release(&b->body);
	free(b->items);
	free(b);
}

static void *worker(void *arg)
{
	struct pb_es_client *cl = arg;

	for (;;) {
		struct batch *b;

		pthread_mutex_lock(&cl->mu);
		while (!cl->head && !cl->done)
			pthread_cond_wait(&cl->cv_item, &cl->mu);
		b = cl->head;
		if (b) {
			cl->head = b->next;
			if (!cl->head)
				cl->tail = NULL;
			cl->queued--;
			pthread_cond_broadcast(&cl->cv_room);
		}
		pthread_mutex_unlock(&cl->mu);
		if (!b)
			return NULL;
		send_batch(cl, b);
		batch_free(b);
	}
}

int pb_es_client_new(struct pb_es_client **out, const struct pb_es_conf *c,
		     const char *dead_path)
{
	struct pb_es_client *cl = calloc(1, sizeof(*cl));
	int i;

	*out = NULL;
	if (!cl || !(cl->urls = calloc((size_t)c->n_hosts, sizeof(char *)))) {
		free(cl);
		pb_error("out of memory");
		return PB_ENOMEM;
	}
	cl->c = c;
	for (i = 0; i < c->n_hosts; i++)
		if (!(cl->urls[i] = base_url(c, c->hosts[i]))) {
			pb_es_client_free(cl);
			pb_error("out of memory");
			return PB_ENOMEM;
		}
	if (dead_path) {
		cl->dead_path = dead_path;
		if (!(cl->dead = fopen(dead_path, "w"))) {
			pb_error("cannot open '%s': %s", dead_path, strerror(errno));
			pb_es_client_free(cl);
			return PB_EIO;
		}
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&cl->mu, NULL);
	pthread_cond_init(&cl->cv_item, NULL);
	pthread_cond_init(&cl->cv_room, NULL);
	cl->max_queued = 2 * c->workers;
	for (i = 0; i < c->workers; i++) {
		if (pthread_create(&cl->threads[i], NULL, worker, cl) != 0) {
			pb_error("cannot start a worker thread: %s", strerror(errno));
			cl->done = 1;
			break;
		}
		cl->n_threads++;
	}
	*out = cl;
	if (!cl->n_threads) {
		cl->fatal = 1;
		return PB_EIO;
	}
	return 0;
}

/* Queue the batch being filled (the caller holds no lock). */
static int push(struct pb_es_client *cl)
{
	struct batch *b = cl->cur;
	int fatal;

	cl->cur = NULL;
	if (!b || !b->n) {
		batch_free(b);
		return 0;
	}
	pthread_mutex_lock(&cl->mu);
	while (cl->queued >= cl->max_queued && !cl->fatal)
		pthread_cond_wait(&cl->cv_room, &cl->mu);
	/* after a fatal error the batch still goes to a worker, which
	 * writes each document to the dead letter */
	b->next = NULL;
	if (cl->tail)
		cl->tail->next = b;
	else
		cl->head = b;
	cl->tail = b;
	cl->queued++;
	fatal = cl->fatal;
	pthread_cond_signal(&cl->cv_item);
	pthread_mutex_unlock(&cl->mu);
	return fatal ? PB_EIO : 0;
}

int pb_es_client_add(struct pb_es_client *cl, const char *index, const char *id,
		     const char *doc, size_t len)
{
	struct batch *b = cl->cur;
	struct item *it;
	size_t off;
	int fatal;

	pthread_mutex_lock(&cl->mu);
	fatal = cl->fatal;
	pthread_mutex_unlock(&cl->mu);
	if (fatal)
		return PB_EIO;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return PB_ENOMEM;
		pb_buf_init(&b->body, BODY_CAP);
		cl->cur = b;
	}
	if (b->n == b->cap) {
		uint32_t nc = b->cap ? b->cap * 2 : 64;
		struct item *ni = realloc(b->items, nc * sizeof(*ni));

		if (!ni)
			return PB_ENOMEM;
		b->items = ni;
		b->cap = nc;
	}
	off = b->body.len;
	if (pb_es_bulk_item(&b->body, cl->c->op_create, index, id, cl->c->pipeline, doc,
			    len) < 0) {
		pb_error("out of memory");
		return PB_ENOMEM;
	}
	it = &b->items[b->n++];
	it->off = off;
	it->len = b->body.len - off;
	it->act_len = (size_t)((const char *)memchr(b->body.data + off, '\n', it->len) -
			       (b->body.data + off));
	if (b->n >= (uint32_t)cl->c->bulk_max_size || b->body.len >= BATCH_MAX_BODY)
		return push(cl);
	return 0;
}

int pb_es_client_finish(struct pb_es_client *cl)
{
	int i;

	if (cl->n_threads)
		push(cl);
	pthread_mutex_lock(&cl->mu);
	cl->done = 1;
	pthread_cond_broadcast(&cl->cv_item);
	pthread_mutex_unlock(&cl->mu);
	for (i = 0; i < cl->n_threads; i++)
		pthread_join(cl->threads[i], NULL);
	cl->n_threads = 0;
	if (cl->dead && fclose(cl->dead) != 0) {
		pb_error("cannot write '%s': %s", cl->dead_path, strerror(errno));
		cl->fatal = 1;
	}
	cl->dead = NULL;
	if (cl->st.dead)
		pb_error("%llu documents not indexed%s%s%s", (unsigned long long)cl->st.dead,
			 cl->dead_path ? " (written to '" : "",
			 cl->dead_path ? cl->dead_path : "", cl->dead_path ? "')" : "");
	return cl->fatal || cl->st.dead ? PB_EIO : 0;
}

const struct pb_es_stats *pb_es_client_stats(const struct pb_es_client *cl)
{
	return &cl->st;
}

void pb_es_client_free(struct pb_es_client *cl)
{
	int i;

	if (!cl)
		return;
	if (cl->n_threads)
		pb_es_client_finish(cl);
	while (cl->head) {
		struct batch *b = cl->head;

		cl->head = b->next;
		batch_free(b);
	}
	batch_free(cl->cur);
	if (cl->dead)
		fclose(cl->dead);
	for (i = 0; cl->urls && i < cl->c->n_hosts; i++)
		free(cl->urls[i]);
	free(cl->urls);
	free(cl);
}

/* ---- single requests: the root endpoint and the template ---- */

/* One request to each host in turn until one answers: the status (0 if
 * none answered) and the answer in *answer. */
static long request(const struct pb_es_conf *c, const char *method, const char *path,
		    const char *body, struct pb_buf *answer, char *err, size_t errlen)
{
	int i;

	err[0] = '\0';
	for (i = 0; i < c->n_hosts; i++) {
		char *base = base_url(c, c->hosts[i]);
		struct curl_slist *hdrs = NULL;
		char url[4096];
		long status = 0;
		CURLcode cc;
		CURL *h;

		if (!base)
			return 0;
		pb_buf_clear(answer);
		h = handle(c, answer, &hdrs, 0, 0);
		snprintf(url, sizeof(url), "%s%s", base, path);
		free(base);
		if (!h) {
			snprintf(err, errlen, "%s: out of memory", url);
			curl_slist_free_all(hdrs);
			return 0;
		}
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (body)
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		cc = curl_easy_perform(h);
		if (cc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(h);
		curl_slist_free_all(hdrs);
		if (cc == CURLE_OK) {
			snprintf(err, errlen, "%s", url);
			return status;
		}
		snprintf(err, errlen, "%s: %s", url, curl_easy_strerror(cc));
		pb_warn("%s", err);
	}
	return 0;
}

int pb_es_test_output(const struct pb_es_conf *c, void *out_file)
{
	FILE *out = out_file;
	struct pb_buf answer;
	char err[4200], reason[512];
	long status;
	cJSON *a;
	int rc = 0;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	pb_buf_init(&answer, ANSWER_CAP);
	status = request(c, "GET", "/", NULL, &answer, err, sizeof(err));
	if (!status) {
		fprintf(out, "elasticsearch: connection... ERROR\n");
		pb_error("cannot reach Elasticsearch: %s", err);
		pb_buf_release(&answer);
		return PB_EIO;
	}
	fprintf(out, "elasticsearch: %s\n", err);
	fprintf(out, "  connection... OK\n");
	a = cJSON_ParseWithLength(answer.data ? answer.data : "", answer.len);
	if (status == 401 || status == 403) {
		fprintf(out, "  credentials... ERROR (HTTP status %ld)\n", status);
		pb_error("'%s': HTTP status %ld: the credentials were refused", err, status);
		rc = PB_EIO;
	} else if (status != 200) {
		error_reason(cJSON_GetObjectItemCaseSensitive(a, "error"), reason,
			     sizeof(reason), status);
		fprintf(out, "  credentials... ERROR (HTTP status %ld)\n", status);
		pb_error("'%s': %s", err, reason);
		rc = PB_EIO;
	} else {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(a, "cluster_name");
		const cJSON *ver = pb_out_field(a, "version.number");

		fprintf(out, "  credentials... OK\n");
		fprintf(out, "  cluster: %s\n", cJSON_IsString(name) ? name->valuestring : "?");
		fprintf(out, "  version: %s\n", cJSON_IsString(ver) ? ver->valuestring : "?");
	}
	cJSON_Delete(a);
	pb_buf_release(&answer);
	return rc;
}

int pb_es_put_template(const struct pb_es_conf *c, const char *name, const char *body)
{
	struct pb_buf answer;
	char path[512], err[4200], reason[512];
	long status;
	int rc = 0;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	pb_buf_init(&answer, ANSWER_CAP);
	snprintf(path, sizeof(path), "/_index_template/%s", name);
	status = request(c, "PUT", path, body, &answer, err, sizeof(err));
	if (!status) {
		pb_error("cannot reach Elasticsearch: %s", err);
		rc = PB_EIO;
	} else if (status < 200 || status >= 300) {
		cJSON *a = cJSON_ParseWithLength(answer.data ? answer.data : "", answer.len);

		error_reason(cJSON_GetObjectItemCaseSensitive(a, "error"), reason,
			     sizeof(reason), status);
		pb_error("cannot install the index template '%s': %s: %s", name, err, reason);
		cJSON_Delete(a);
		rc = PB_EIO;
	}
	pb_buf_release(&answer);
	return rc;
}
