/* pb-export - events and packets into SQLite, Elasticsearch or pcap (pb-export(1)). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/tool.h"
#include "event/reader.h"
#include "decode/decode.h"
#include "out/carve.h"
#include "out/doc.h"
#include "out/es.h"
#include "out/pcapw.h"
#include "out/sqlite.h"
#include "util/log.h"
#include "util/banned.h"

enum {
	OPT_SQLITE = 256, OPT_BATCH, OPT_PCAP, OPT_PCAPNG, OPT_ES_BULK, OPT_ES,
	OPT_INDEX, OPT_PIPELINE, OPT_OP_TYPE, OPT_WORKERS, OPT_BULK_MAX,
	OPT_DEAD_LETTER, OPT_TEMPLATE, OPT_SETUP, OPT_TEST_OUTPUT, OPT_FROM,
};

static const struct option export_opts[] = {
	{ "sqlite", required_argument, NULL, OPT_SQLITE },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "pcapng", no_argument, NULL, OPT_PCAPNG },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "es-bulk", optional_argument, NULL, OPT_ES_BULK },
	{ "es", required_argument, NULL, OPT_ES },
	{ "index", required_argument, NULL, OPT_INDEX },
	{ "pipeline", required_argument, NULL, OPT_PIPELINE },
	{ "op-type", required_argument, NULL, OPT_OP_TYPE },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "bulk-max-size", required_argument, NULL, OPT_BULK_MAX },
	{ "dead-letter", required_argument, NULL, OPT_DEAD_LETTER },
	{ "template", no_argument, NULL, OPT_TEMPLATE },
	{ "setup", no_argument, NULL, OPT_SETUP },
	{ "test-output", no_argument, NULL, OPT_TEST_OUTPUT },
	{ NULL, 0, NULL, 0 },
};

enum sink { S_NONE, S_SQLITE, S_PCAP, S_BULK, S_ES, S_TEMPLATE, S_SETUP, S_TEST };
static const char *const sink_opt[] = {
	"", "--sqlite", "--pcap", "--es-bulk", "--es", "--template", "--setup",
	"--test-output",
};

static enum sink sink;
static const char *sqlite_path, *pcap_path, *dead_letter;
static uint32_t batch = PB_SQLITE_BATCH;
static int pcapng;
/* --from: the captures to carve the events' packets from */
static const char *from[PB_TOOL_MAX_INPUTS];
static int n_from;
/* command-line Elasticsearch settings, which win over the configuration */
static const char *opt_hosts, *opt_index, *opt_pipeline;
static int opt_op_type = -1, opt_workers, opt_bulk_max;
static struct pb_es_conf es;

static int set_sink(enum sink s)
{
	if (sink != S_NONE && sink != s) {
		pb_error("%s and %s cannot be used together: one output per run",
			 sink_opt[sink], sink_opt[s]);
		return PB_EUSAGE;
	}
	sink = s;
	return 0;
}

static int int_opt(const char *name, const char *arg, int64_t lo, int64_t hi, int64_t *v)
{
	if (pb_parse_int(arg, v) < 0 || *v < lo || *v > hi) {
		pb_error("--%s: '%s' is not a number from %lld to %lld", name, arg,
			 (long long)lo, (long long)hi);
		return PB_EUSAGE;
	}
	return 0;
}

static int on_opt(struct pb_tool *t, int val, const char *arg)
{
	int64_t v;

	switch (val) {
	case OPT_SQLITE:
		sqlite_path = arg;
		return set_sink(S_SQLITE);
	case OPT_BATCH:
		if (int_opt("batch", arg, 1, 10000000, &v) < 0)
			return PB_EUSAGE;
		batch = (uint32_t)v;
		return 0;
	case OPT_PCAP:
		pcap_path = arg;
		return set_sink(S_PCAP);
	case OPT_PCAPNG:
		pcapng = 1;
		return 0;
	case OPT_FROM:
		if (n_from == PB_TOOL_MAX_INPUTS) {
			pb_error("--from: too many captures (at most %d)", PB_TOOL_MAX_INPUTS);
			return PB_EUSAGE;
		}
		from[n_from++] = arg;
		return 0;
	case OPT_ES_BULK:
		if (arg)
			t->output = arg;
		return set_sink(S_BULK);
	case OPT_ES:
		/* the hosts; the output too, unless --setup or --test-output
		 * says what to do with them */
		opt_hosts = arg;
		return 0;
	case OPT_INDEX:
		opt_index = arg;
		return 0;
	case OPT_PIPELINE:
		opt_pipeline = arg;
		return 0;
	case OPT_OP_TYPE:
		if (!strcmp(arg, "create"))
			opt_op_type = 1;
		else if (!strcmp(arg, "index"))
			opt_op_type = 0;
		else {
			pb_error("--op-type: '%s' is not create or index", arg);
			return PB_EUSAGE;
		}
		return 0;
	case OPT_WORKERS:
		if (int_opt("workers", arg, 1, PB_ES_MAX_WORKERS, &v) < 0)
			return PB_EUSAGE;
		opt_workers = (int)v;
		return 0;
	case OPT_BULK_MAX:
		if (int_opt("bulk-max-size", arg, 1, 1000000, &v) < 0)
			return PB_EUSAGE;
		opt_bulk_max = (int)v;
		return 0;
	case OPT_DEAD_LETTER:
		dead_letter = arg;
		return 0;
	case OPT_TEMPLATE:
		return set_sink(S_TEMPLATE);
	case OPT_SETUP:
		return set_sink(S_SETUP);
	case OPT_TEST_OUTPUT:
		return set_sink(S_TEST);
	}
	return -1;
}

/* output.elasticsearch from the configuration, then the flags over it. */
static int on_conf(struct pb_tool *t)
{
	struct pb_es_index *ix;
	char err[256];

	pb_es_conf_init(&es);
	if (opt_hosts && sink == S_NONE)
		sink = S_ES;
	else if (opt_hosts && sink != S_SETUP && sink != S_TEST && set_sink(S_ES) < 0)
		return PB_EUSAGE;
	if (opt_hosts && pb_es_conf_add_hosts(&es, opt_hosts) < 0)
		return PB_EUSAGE;
	if (pb_es_conf_load(&es, &t->conf) < 0) {
		pb_error("%s", t->conf.err);
		return PB_EUSAGE;
	}
	if (opt_index)
		es.index = opt_index;
	if (opt_pipeline)
		es.pipeline = *opt_pipeline ? opt_pipeline : NULL;
	if (opt_op_type >= 0)
		es.op_create = opt_op_type;
	if (opt_workers)
		es.workers = opt_workers;
	if (opt_bulk_max)
		es.bulk_max_size = opt_bulk_max;
	if (pb_es_index_compile(&ix, es.index, err, sizeof(err)) < 0) {
		pb_error("index: %s", err);
		return PB_EUSAGE;
	}
	pb_es_index_free(ix);
	if (sink == S_NONE && !t->check_config) {
		pb_error("no output: give --sqlite, --pcap, --es-bulk, --es, "
			 "--template, --setup or --test-output");
		return PB_EUSAGE;
	}
	if ((sink == S_ES || sink == S_SETUP || sink == S_TEST) && !es.n_hosts) {
		pb_error("%s needs hosts: --es URL or output.elasticsearch.hosts",
			 sink_opt[sink]);
		return PB_EUSAGE;
	}
	if ((pcapng || n_from) && sink != S_PCAP) {
		pb_error("%s goes with --pcap", pcapng ? "--pcapng" : "--from");
		return PB_EUSAGE;
	}
	if (dead_letter && sink != S_ES) {
		pb_error("--dead-letter goes with --es");
		return PB_EUSAGE;
	}
	if (t->output && sink != S_BULK && sink != S_TEMPLATE && sink != S_TEST) {
		pb_error("-o names the output of --es-bulk, --template or --test-output; "
			 "%s names its own", sink_opt[sink]);
		return PB_EUSAGE;
	}
	return 0;
}

static const struct pb_tool_desc desc = {
	.name = "pb-export",
	.summary = "Write events into SQLite or Elasticsearch, and packets into "
		   "pcap (see pb-export(1)).",
	.usage = "[options] --sqlite DB | --pcap FILE [--from CAPTURE] | --es-bulk[=FILE] | --es URL "
		 "| --template | --setup | --test-output [FILE ...]",
	.own_help =
		"Outputs (one per run):\n"
		"      --sqlite DB        insert events into the SQLite database DB\n"
		"                         (created or upgraded; see pb-sqlite(5))\n"
		"      --batch N          rows per SQLite transaction (default 10000)\n"
		"      --pcap FILE        write packet records as a capture ('-':\n"
		"                         standard output)\n"
		"      --pcapng           write pcapng even when pcap would do\n"
		"      --from CAPTURE     with --pcap: read events (flows, transactions)\n"
		"                         and write their packets from CAPTURE\n"
		"                         (repeatable: read as one capture)\n"
		"      --es-bulk[=FILE]   write Elasticsearch bulk request bodies to\n"
		"                         FILE (or -o FILE, or standard output)\n"
		"      --es URL[,URL...]  send events to Elasticsearch\n"
		"      --template         print the index template\n"
		"      --setup            install the index template on the cluster\n"
		"      --test-output      check the connection and the credentials\n"
		"Elasticsearch (also output.elasticsearch.* in the configuration):\n"
		"      --index PATTERN    index name pattern (default\n"
		"                         packetbeat-%{[agent.version]}-%{+yyyy.MM.dd})\n"
		"      --pipeline NAME    ingest pipeline\n"
		"      --op-type TYPE     create (default) or index\n"
		"      --workers N        requests in flight at once (default 1)\n"
		"      --bulk-max-size N  documents per bulk request (default 1600)\n"
		"      --dead-letter FILE write documents that failed for good to FILE\n",
	.opts = export_opts,
	.on_opt = on_opt,
	.on_conf = on_conf,
};

/* ---- reading events ---- */

struct run {
	struct pb_tool *t;
	uint64_t errors;           /* events not written, each reported */
	uint64_t events;
	struct pb_sqlite *db;
	struct pb_es_index *ix;
	struct pb_es_client *cl;
	struct pb_buf index;
	void *ix_carve;            /* --from: the conversations selected */
	int stop;
};

typedef int (*event_fn)(struct run *r, struct pb_event_reader *rd, const cJSON *ev,
			const char *canon, size_t len, const char *id);

/* Read every event of the inputs and hand it on with its canonical text
 * and id.  0, or PB_EIO when the input or the sink failed. */
static int each_event(struct run *r, event_fn fn)
{
	struct pb_event_reader *rd;
	struct pb_buf scratch;
	int rc;

	rc = pb_event_reader_open(&rd, r->t->inputs, r->t->n_inputs, r->t->strict);
	if (rc < 0)
		return rc;
	pb_buf_init(&scratch, PB_EVENT_MAX_LINE + 4096);
	for (;;) {
		const char *text, *canon;
		size_t len, clen;
		char id[PB_OUT_ID_LEN + 1];
		cJSON *ev;

		if (pb_capture_interrupted()) {
			pb_error("interrupted: %llu events read", (unsigned long long)r->events);
			rc = PB_EIO;
			break;
		}
		rc = pb_event_reader_next(rd, &ev);
		if (rc == PB_EOF) {
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		r->events++;
		text = pb_event_reader_text(rd, &len);
		if (pb_out_canon(ev, text, len, &scratch, &canon, &clen) < 0 ||
		    pb_out_event_id(canon, clen, id) < 0) {
			pb_error("out of memory");
			cJSON_Delete(ev);
			rc = PB_ENOMEM;
			break;
		}
		rc = fn(r, rd, ev, canon, clen, id);
		cJSON_Delete(ev);
		if (rc < 0 || r->stop)
			break;
	}
	if (pb_event_reader_stats(rd)->bad)
		r->errors += pb_event_reader_stats(rd)->bad;
	if (r->t->stats) {
		const struct pb_event_reader_stats *s = pb_event_reader_stats(rd);

		fprintf(stderr, "%s: input: %llu lines, %llu events, %llu skipped "
			"(%llu too long)\n", r->t->desc->name, (unsigned long long)s->lines,
			(unsigned long long)s->events, (unsigned long long)s->bad,
			(unsigned long long)s->oversized);
	}
	pb_event_reader_free(rd);
	pb_buf_release(&scratch);
	return rc;
}

/* ---- SQLite ---- */

static int to_sqlite(struct run *r, struct pb_event_reader *rd, const cJSON *ev,
		     const char *canon, size_t len, const char *id)
{
	(void)rd;
	return pb_sqlite_add(r->db, ev, canon, len, id) < 0 ? PB_EIO : 0;
}

static int run_sqlite(struct run *r)
{
	struct pb_sqlite_opts o;
	int rc, crc;

	pb_sqlite_opts_init(&o);
	o.batch = batch;
	if (pb_sqlite_open(&r->db, sqlite_path, &o) < 0)
		return PB_EIO;
	rc = each_event(r, to_sqlite);
	if (r->t->stats) {
		const struct pb_sqlite_stats *s = pb_sqlite_stats(r->db);

		fprintf(stderr, "%s: '%s': %llu events inserted, %llu already there, "
			"%llu without @timestamp, %llu transactions\n", r->t->desc->name,
			sqlite_path, (unsigned long long)s->inserted,
			(unsigned long long)s->duplicates, (unsigned long long)s->no_time,
			(unsigned long long)s->batches + (rc == 0));
	}
	crc = pb_sqlite_close(r->db);
	return rc < 0 ? rc : crc;
}

/* ---- Elasticsearch bulk bodies, to a file or to a cluster ---- */

static int index_of(struct run *r, struct pb_event_reader *rd, const cJSON *ev)
{
	const char *why = NULL;

	if (pb_es_index_eval(r->ix, ev, &r->index, &why) < 0) {
		pb_error("%s: line %llu: %s; event not written", pb_event_reader_name(rd),
			 (unsigned long long)pb_event_reader_line(rd), why);
		r->errors++;
		return -1;
	}
	return 0;
}

static int to_bulk(struct run *r, struct pb_event_reader *rd, const cJSON *ev,
		   const char *canon, size_t len, const char *id)
{
	if (index_of(r, rd, ev) < 0)
		return 0;
	if (pb_es_bulk_item(&r->t->out, es.op_create, r->index.data, id, es.pipeline,
			    canon, len) < 0) {
		pb_error("out of memory");
		return PB_ENOMEM;
	}
	pb_tool_record_done(r->t);
	return r->t->out_error ? PB_EIO : 0;
}

static int to_es(struct run *r, struct pb_event_reader *rd, const cJSON *ev,
		 const char *canon, size_t len, const char *id)
{
	if (index_of(r, rd, ev) < 0)
		return 0;
	if (pb_es_client_add(r->cl, r->index.data, id, canon, len) < 0) {
		pb_error("%s: line %llu: not sent, and the rest of the input not read: "
			 "the client stopped", pb_event_reader_name(rd),
			 (unsigned long long)pb_event_reader_line(rd));
		return PB_EIO;
	}
	return 0;
}

static int run_es(struct run *r)
{
	int rc, frc;

	if (pb_es_client_new(&r->cl, &es, dead_letter) < 0)
		return PB_EIO;
	rc = each_event(r, to_es);
	frc = pb_es_client_finish(r->cl);
	if (r->t->stats) {
		const struct pb_es_stats *s = pb_es_client_stats(r->cl);

		fprintf(stderr, "%s: elasticsearch: %llu documents indexed, %llu already "
			"there, %llu failed for good, %llu sent again; %llu requests, "
			"%llu failed or refused\n", r->t->desc->name,
			(unsigned long long)s->sent, (unsigned long long)s->existed,
			(unsigned long long)s->dead, (unsigned long long)s->retried,
			(unsigned long long)s->requests, (unsigned long long)s->request_errors);
	}
	pb_es_client_free(r->cl);
	return rc < 0 ? rc : frc;
}

/* The template's index pattern: the literal start of the index name. */
static void template_pattern(char *out, size_t n)
{
	const char *p = strstr(es.index, "%{");
	size_t k = p ? (size_t)(p - es.index) : strlen(es.index);

	if (k == 0)
		snprintf(out, n, "*");
	else
		snprintf(out, n, "%.*s*", (int)k, es.index);
}

static int run_template(struct run *r, int install)
{
	char pattern[256], name[256];
	int rc;

	template_pattern(pattern, sizeof(pattern));
	if (pb_es_template(&r->t->out, pattern, es.op_create) < 0) {
		pb_error("out of memory");
		return PB_ENOMEM;
	}
	if (!install) {
		pb_buf_addc(&r->t->out, '\n');
		return 0;
	}
	{
		size_t k = strlen(pattern) - 1;  /* less the '*' */

		while (k > 0 && (pattern[k - 1] == '-' || pattern[k - 1] == '.'))
			k--;
		snprintf(name, sizeof(name), "%.*s", (int)k, pattern);
	}
	if (!name[0])
		snprintf(name, sizeof(name), "pbtools");
	rc = pb_es_put_template(&es, name, pb_buf_cstr(&r->t->out));
	pb_buf_clear(&r->t->out);
	if (rc == 0 && !r->t->quiet)
		fprintf(stderr, "%s: index template '%s' installed for '%s'\n",
			r->t->desc->name, name, pattern);
	return rc;
}

/* ---- packets into pcap ---- */

static int to_carve(struct run *r, struct pb_event_reader *rd, const cJSON *ev,
		    const char *canon, size_t len, const char *id)
{
	struct pb_carve *c = (struct pb_carve *)r->ix_carve;
	const char *why = "";
	int rc;

	(void)canon;
	(void)len;
	(void)id;
	rc = pb_carve_add(c, ev, &why);
	if (rc == PB_EINVAL) {
		pb_error("%s: line %llu: %s; no packets selected by it",
			 pb_event_reader_name(rd), (unsigned long long)pb_event_reader_line(rd),
			 why);
		r->errors++;
		return 0;
	}
	if (rc < 0) {
		pb_error("%s: line %llu: %s", pb_event_reader_name(rd),
			 (unsigned long long)pb_event_reader_line(rd),
			 rc == PB_ETOOBIG ? why : "out of memory");
		return rc;
	}
	return 0;
}

static int run_pcap(struct run *r)
{
	struct pb_pcapw *w;
	struct pb_packet p;
	int rc, crc;

	struct pb_carve *carve = NULL;
	struct pb_decoder dec;

	if (n_from) {
		/* the events first: they say which packets to keep */
		if (!(carve = pb_carve_new())) {
			pb_error("out of memory");
			return PB_ENOMEM;
		}
		r->ix_carve = carve;
		if ((rc = each_event(r, to_carve)) < 0) {
			pb_carve_free(carve);
			return rc;
		}
		/* the captures are the input from here on */
		memcpy(r->t->inputs, from, (size_t)n_from * sizeof(from[0]));
		r->t->n_inputs = n_from;
		if (pb_decoder_init(&dec, 0, NULL) < 0) {
			pb_carve_free(carve);
			pb_error("out of memory");
			return PB_ENOMEM;
		}
	}
	if ((rc = pb_pcapw_open(&w, pcap_path, pcapng)) < 0) {
		if (carve) {
			pb_decoder_release(&dec);
			pb_carve_free(carve);
		}
		return rc == PB_EUSAGE ? rc : PB_EIO;
	}
	if ((rc = pb_tool_open_input(r->t)) != 0) {
		pb_pcapw_close(w);
		if (carve) {
			pb_decoder_release(&dec);
			pb_carve_free(carve);
		}
		return rc == PB_EXIT_USAGE ? PB_EUSAGE : PB_EIO;
	}
	while ((rc = pb_input_next(r->t->in, &p)) == 0) {
		if (carve) {
			struct pb_decoded d;

			/* each frame on its own: no reassembly, so every
			 * fragment is a packet to keep or leave */
			pb_decoder_run(&dec, &p, &d);
			if (!pb_carve_match(carve, &p, &d))
				continue;
		}
		if ((rc = pb_pcapw_write(w, &p)) < 0)
			break;
		r->t->written++;
		pb_tool_tick(r->t);
	}
	if (carve) {
		if (r->t->stats)
			fprintf(stderr, "%s: %llu events selected packets\n", r->t->desc->name,
				(unsigned long long)pb_carve_count(carve));
		pb_decoder_release(&dec);
		pb_carve_free(carve);
	}
	if (rc == PB_EOF)
		rc = 0;
	if (r->t->stats)
		pb_tool_print_capture_stats(r->t);
	crc = pb_pcapw_close(w);
	return rc < 0 ? rc : crc;
}

int main(int argc, char **argv)
{
	struct pb_tool t;
	struct run r;
	char err[256];
	int rc;

	rc = pb_tool_init(&t, &desc, argc, argv);
	if (rc == PB_TOOL_DONE || rc) {
		pb_es_conf_release(&es);
		pb_tool_release(&t);
		return rc == PB_TOOL_DONE ? PB_EXIT_OK : rc;
	}
	memset(&r, 0, sizeof(r));
	r.t = &t;
	pb_buf_init(&r.index, 4096);
	if (pb_es_index_compile(&r.ix, es.index, err, sizeof(err)) < 0) {
		pb_error("index: %s", err);
		rc = PB_ENOMEM;
		goto out;
	}
	switch (sink) {
	case S_SQLITE: rc = run_sqlite(&r); break;
	case S_PCAP: rc = run_pcap(&r); break;
	case S_BULK: rc = each_event(&r, to_bulk); break;
	case S_ES: rc = run_es(&r); break;
	case S_TEMPLATE: rc = run_template(&r, 0); break;
	case S_SETUP: rc = run_template(&r, 1); break;
	case S_TEST:
		pb_tool_flush(&t, 1);
		rc = pb_es_test_output(&es, stdout);
		break;
	case S_NONE: rc = 0; break;
	}
out:
	pb_es_index_free(r.ix);
	pb_buf_release(&r.index);
	pb_es_conf_release(&es);
	if (rc == PB_EUSAGE) {
		pb_tool_finish(&t, 0);
		return PB_EXIT_USAGE;
	}
	return pb_tool_finish(&t, r.errors + (rc < 0));
}
