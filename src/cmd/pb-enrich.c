/* pb-enrich - Beats processors over event NDJSON (pb-enrich(1)). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/tool.h"
#include "event/reader.h"
#include "proc/proc.h"
#include "util/log.h"
#include "util/banned.h"

enum { OPT_GEOIP = 256, OPT_ASN, OPT_COMMUNITY_ID, OPT_INTERNAL, OPT_ADD_FIELD,
       OPT_DROP_FIELD };

static const struct option enrich_opts[] = {
	{ "geoip", required_argument, NULL, OPT_GEOIP },
	{ "asn", required_argument, NULL, OPT_ASN },
	{ "community-id", no_argument, NULL, OPT_COMMUNITY_ID },
	{ "internal-networks", required_argument, NULL, OPT_INTERNAL },
	{ "add-field", required_argument, NULL, OPT_ADD_FIELD },
	{ "drop-field", required_argument, NULL, OPT_DROP_FIELD },
	{ NULL, 0, NULL, 0 },
};

/* The shortcuts, in command-line order: each becomes a processor after
 * those of the configuration. */
#define MAX_SHORTCUTS 256
static struct shortcut {
	int opt;
	const char *arg;
} shortcuts[MAX_SHORTCUTS];
static int n_shortcuts;
static struct pb_proc_set *procs;

static int on_opt(struct pb_tool *t, int val, const char *arg)
{
	(void)t;
	if (val < OPT_GEOIP || val > OPT_DROP_FIELD)
		return -1;
	if (n_shortcuts == MAX_SHORTCUTS) {
		pb_error("too many processor options (at most %d)", MAX_SHORTCUTS);
		return PB_EUSAGE;
	}
	if (val == OPT_ADD_FIELD && (!strchr(arg, '=') || arg[0] == '=')) {
		pb_error("--add-field: '%s' is not FIELD=VALUE", arg);
		return PB_EUSAGE;
	}
	shortcuts[n_shortcuts].opt = val;
	shortcuts[n_shortcuts++].arg = arg;
	return 0;
}

/* A value of --add-field as YAML: numbers and booleans keep their type,
 * the rest is a quoted string. */
static int yaml_value(char *out, size_t n, const char *v)
{
	char *end;

	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0 ||
	    (*v && (strtod(v, &end), !*end) && strspn(v, "+-0123456789.eE") == strlen(v)))
		return snprintf(out, n, "%s", v) < (int)n ? 0 : -1;
	return pb_proc_yaml_quote(out, n, v);
}

static int shortcut_yaml(const struct shortcut *s, char *y, size_t n, const char **name)
{
	char q[2048], k[1024];
	const char *eq;

	switch (s->opt) {
	case OPT_GEOIP:
	case OPT_ASN: {
		const char *proc = s->opt == OPT_GEOIP ? "add_geoip" : "add_asn";
		const char *sub = s->opt == OPT_GEOIP ? "geo" : "as";

		*name = s->opt == OPT_GEOIP ? "--geoip" : "--asn";
		if (pb_proc_yaml_quote(q, sizeof(q), s->arg) < 0)
			return -1;
		return snprintf(y, n, "processors:\n"
				"- %s: {field: source.ip, target_field: source.%s, "
				"database_file: %s, ignore_missing: true}\n"
				"- %s: {field: destination.ip, target_field: destination.%s, "
				"database_file: %s, ignore_missing: true}\n",
				proc, sub, q, proc, sub, q) < (int)n ? 0 : -1;
	}
	case OPT_COMMUNITY_ID:
		*name = "--community-id";
		return snprintf(y, n, "processors:\n- community_id: {}\n") < (int)n ? 0 : -1;
	case OPT_INTERNAL: {
		const char *p = s->arg;
		size_t o;

		*name = "--internal-networks";
		o = (size_t)snprintf(y, n, "processors:\n- add_network_direction:\n"
				     "    internal_networks:\n");
		while (*p) {
			size_t l;

			while (*p == ' ')
				p++;
			l = strcspn(p, ",");
			while (l && p[l - 1] == ' ')
				l--;
			if (l) {
				snprintf(k, sizeof(k), "%.*s", (int)l, p);
				if (pb_proc_yaml_quote(q, sizeof(q), k) < 0 || o >= n)
					return -1;
				o += (size_t)snprintf(y + o, n - o, "    - %s\n", q);
			}
			p += l;
			while (*p == ' ')
				p++;
			p += *p == ',';
		}
		return o < n ? 0 : -1;
	}
	case OPT_ADD_FIELD:
		*name = "--add-field";
		eq = strchr(s->arg, '=');
		snprintf(k, sizeof(k), "%.*s", (int)(eq - s->arg), s->arg);
		if (pb_proc_yaml_quote(q, sizeof(q), k) < 0)
			return -1;
		{
			char v[2048];

			if (yaml_value(v, sizeof(v), eq + 1) < 0)
				return -1;
			return snprintf(y, n, "processors:\n- add_fields:\n    target: ''\n"
					"    fields: {%s: %s}\n", q, v) < (int)n ? 0 : -1;
		}
	case OPT_DROP_FIELD:
		*name = "--drop-field";
		if (pb_proc_yaml_quote(q, sizeof(q), s->arg) < 0)
			return -1;
		return snprintf(y, n, "processors:\n- drop_fields: {fields: [%s], "
				"ignore_missing: true}\n", q) < (int)n ? 0 : -1;
	}
	return -1;
}

/* The configuration's processors, then the shortcuts. */
static int on_conf(struct pb_tool *t)
{
	int i, rc;

	if ((rc = pb_proc_set_load(&procs, &t->conf)) < 0) {
		pb_error("%s", rc == PB_EUSAGE ? t->conf.err : pb_strerror(rc));
		return PB_EUSAGE;
	}
	for (i = 0; i < n_shortcuts; i++) {
		char yaml[8192];
		const char *name = "";

		if (shortcut_yaml(&shortcuts[i], yaml, sizeof(yaml), &name) < 0) {
			pb_error("%s: value too long", name);
			return PB_EUSAGE;
		}
		if ((rc = pb_proc_set_add_yaml(procs, &t->conf, name, yaml)) < 0) {
			pb_error("%s", rc == PB_EUSAGE ? t->conf.err : pb_strerror(rc));
			return PB_EUSAGE;
		}
	}
	return 0;
}

static const struct pb_tool_desc desc = {
	.name = "pb-enrich",
	.summary = "Apply Beats processors to event NDJSON (see pb-enrich(1)).",
	.usage = "[options] [FILE ...]",
	.own_help = "Input: event NDJSON from FILEs, or standard input ('-' or none).\n"
		    "\n"
		    "Processors (after those of the configuration's processors:):\n"
		    "      --geoip DB         add source.geo and destination.geo from the\n"
		    "                         MaxMind City database DB\n"
		    "      --asn DB           add source.as and destination.as from the\n"
		    "                         MaxMind ASN database DB\n"
		    "      --community-id     add network.community_id where it is missing\n"
		    "      --internal-networks LIST\n"
		    "                         add network.direction; LIST is CIDRs and named\n"
		    "                         networks (private, loopback, ...) split by ','\n"
		    "      --add-field F=V    add field F with value V to every event\n"
		    "      --drop-field F     remove field F from every event\n"
		    "      --strict           stop at the first line that is not a JSON object\n",
	.opts = enrich_opts,
	.on_opt = on_opt,
	.on_conf = on_conf,
};

int main(int argc, char **argv)
{
	struct pb_event_reader *r = NULL;
	const struct pb_event_reader_stats *rs;
	const struct pb_proc_stats *ps;
	struct pb_tool t;
	uint64_t errors = 0;
	cJSON *ev;
	int rc;

	rc = pb_tool_init(&t, &desc, argc, argv);
	if (rc == PB_TOOL_DONE || rc) {
		pb_proc_set_free(procs);
		pb_tool_release(&t);
		return rc == PB_TOOL_DONE ? PB_EXIT_OK : rc;
	}
	if (pb_event_reader_open(&r, t.inputs, t.n_inputs, t.strict) < 0) {
		pb_proc_set_free(procs);
		pb_tool_finish(&t, 1);
		return PB_EXIT_DATA;
	}
	while ((rc = pb_event_reader_next(r, &ev)) == 0) {
		if (pb_proc_set_run(procs, ev)) {
			if (pb_proc_write_json(&t.out, ev) < 0) {
				pb_error("%s: line %llu: event too large to write; skipped",
					 pb_event_reader_name(r),
					 (unsigned long long)pb_event_reader_line(r));
				errors++;
			} else {
				pb_tool_record_done(&t);
			}
		}
		cJSON_Delete(ev);
		if (t.out_error)
			break;
	}
	if (rc != PB_EOF && rc != 0)
		errors++;
	rs = pb_event_reader_stats(r);
	ps = pb_proc_set_stats(procs);
	errors += rs->bad;
	pb_tool_flush(&t, 1);
	if (t.stats) {
		fprintf(stderr, "pb-enrich: lines read %llu, events %llu, bad lines skipped %llu"
			" (too long %llu)\n", (unsigned long long)rs->lines,
			(unsigned long long)rs->events, (unsigned long long)rs->bad,
			(unsigned long long)rs->oversized);
		fprintf(stderr, "  dropped %llu, processor failures recorded %llu, "
			"events written %llu\n", (unsigned long long)ps->dropped,
			(unsigned long long)ps->failed, (unsigned long long)t.written);
	}
	pb_event_reader_free(r);
	pb_proc_set_free(procs);
	return pb_tool_finish(&t, errors);
}
