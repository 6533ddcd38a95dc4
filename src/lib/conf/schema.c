/*
 * schema.c - the keys pbtools knows, their types, and the check that
 * warns about unknown keys and rejects values of the wrong type.
 *
 * A pattern is a dotted path where '*' matches any one key.  Sections that
 * a later stage reads as a whole (processors, outputs) are ANY here and
 * are checked by the stage that uses them.  Keys Packetbeat has but
 * pbtools has no use for are IGNORED: accepted silently, so a user's
 * packetbeat.yml loads without noise, and listed in pb-config(5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "pb.h"
#include "util/log.h"
#include "util/banned.h"

enum ctype {
	CT_MAP,       /* a map whose keys are checked further */
	CT_MAPS,      /* a map, or a list of maps, checked further */
	CT_ANY,       /* anything; checked by the stage that reads it */
	CT_IGNORED,   /* a Packetbeat key pbtools does not use */
	CT_STR,
	CT_INT,
	CT_BOOL,
	CT_DURATION,
	CT_SIZE,
	CT_FLOAT,
	CT_STRS,      /* a value or a list of values */
	CT_PORTS,     /* a port or a list of ports */
};

static const struct {
	const char *path;
	enum ctype type;
} schema[] = {
	{ "name", CT_STR },
	{ "tags", CT_STRS },
	{ "fields", CT_ANY },
	{ "fields_under_root", CT_BOOL },
	{ "processors", CT_ANY },
	{ "packetbeat", CT_MAP },
	{ "packetbeat.interfaces", CT_MAPS },
	{ "packetbeat.interfaces.device", CT_STR },
	{ "packetbeat.interfaces.file", CT_STR },
	{ "packetbeat.interfaces.type", CT_STR },
	{ "packetbeat.interfaces.snaplen", CT_INT },
	{ "packetbeat.interfaces.bpf_filter", CT_STR },
	{ "packetbeat.interfaces.topspeed", CT_BOOL },
	{ "packetbeat.interfaces.no_realtime", CT_BOOL },
	{ "packetbeat.interfaces.loop", CT_INT },
	{ "packetbeat.interfaces.buffer_size_mb", CT_IGNORED },
	{ "packetbeat.interfaces.with_vlans", CT_IGNORED },
	{ "packetbeat.interfaces.with_loopback", CT_IGNORED },
	{ "packetbeat.interfaces.auto_promisc_mode", CT_BOOL },
	{ "packetbeat.interfaces.internal_networks", CT_STRS },
	{ "packetbeat.interfaces.poll_default_route", CT_IGNORED },
	{ "packetbeat.interfaces.metrics_interval", CT_IGNORED },
	{ "packetbeat.interfaces.fanout_group", CT_IGNORED },
	{ "packetbeat.interfaces.sample_rate", CT_IGNORED },
	{ "packetbeat.interfaces.ignore_outgoing", CT_IGNORED },
	{ "packetbeat.flows", CT_MAP },
	{ "packetbeat.flows.enabled", CT_BOOL },
	{ "packetbeat.flows.timeout", CT_DURATION },
	{ "packetbeat.flows.period", CT_DURATION },
	{ "packetbeat.flows.max_flows", CT_INT },
	{ "packetbeat.flows.allow_mismatched_eth", CT_BOOL },
	{ "packetbeat.flows.enable_delta_flow_reports", CT_BOOL },
	{ "packetbeat.flows.fields", CT_ANY },
	{ "packetbeat.flows.fields_under_root", CT_BOOL },
	{ "packetbeat.flows.tags", CT_STRS },
	{ "packetbeat.flows.processors", CT_ANY },
	{ "packetbeat.flows.index", CT_IGNORED },
	{ "packetbeat.flows.keep_null", CT_IGNORED },
	{ "packetbeat.protocols", CT_ANY },
	{ "packetbeat.ignore_outgoing", CT_BOOL },
	{ "packetbeat.shutdown_timeout", CT_IGNORED },
	{ "packetbeat.procs", CT_IGNORED },
	{ "packetbeat.overwrite_pipelines", CT_IGNORED },
	{ "output", CT_ANY },
	{ "setup", CT_IGNORED },
	{ "logging", CT_IGNORED },
	{ "monitoring", CT_IGNORED },
	{ "http", CT_IGNORED },
	{ "path", CT_IGNORED },
	{ "queue", CT_IGNORED },
	{ "cloud", CT_IGNORED },
	{ "max_procs", CT_IGNORED },
	{ "xpack", CT_IGNORED },
	{ "instrumentation", CT_IGNORED },
	{ "seccomp", CT_IGNORED },
};

/* Does pattern (with '*' segments) match path exactly? */
static int match(const char *pat, const char *path)
{
	while (*pat && *path) {
		if (pat[0] == '*' && (pat[1] == '.' || !pat[1])) {
			while (*path && *path != '.')
				path++;
			pat++;
		} else {
			while (*pat && *pat != '.' && *pat == *path)
				pat++, path++;
			if ((*pat && *pat != '.') || (*path && *path != '.'))
				return 0;
		}
		if (*pat != *path)
			return 0;
		if (*pat)
			pat++, path++;
	}
	return !*pat && !*path;
}

static int lookup(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(schema) / sizeof(schema[0]); i++)
		if (match(schema[i].path, path))
			return (int)i;
	return -1;
}

static int fail(struct pb_conf *c, const struct pb_conf_node *n, const char *path,
		const char *what)
{
	snprintf(c->err, sizeof(c->err), "%s:%d: %s: %s", n->file, n->line, path, what);
	return PB_EUSAGE;
}

static int check_scalar(struct pb_conf *c, const struct pb_conf_node *n,
			const char *path, enum ctype t)
{
	int64_t i;
	uint64_t u;
	int b;

	if (n->kind != PB_CONF_SCALAR)
		return fail(c, n, path, "expected a single value");
	switch (t) {
	case CT_INT:
		if (pb_parse_int(n->value, &i) < 0)
			return fail(c, n, path, "expected an integer");
		break;
	case CT_BOOL:
		if (pb_parse_bool(n->value, &b) < 0)
			return fail(c, n, path, "expected true or false");
		break;
	case CT_DURATION:
		/* a negative duration ("-1s") is Go's, and Packetbeat's way of
		 * turning flow periods off: whoever reads the key decides */
		if (pb_parse_duration(n->value[0] == '-' && n->value[1] ? n->value + 1 : n->value,
				      &i) < 0)
			return fail(c, n, path, "expected a duration like 10s, 500ms or -1");
		break;
	case CT_SIZE:
		if (pb_parse_size(n->value, &u) < 0)
			return fail(c, n, path, "expected a size like 10mb or 4096");
		break;
	case CT_FLOAT: {
		char *end;

		strtod(n->value, &end);
		if (end == n->value || *end)
			return fail(c, n, path, "expected a number");
		break;
	}
	case CT_PORTS:
		if (pb_parse_int(n->value, &i) < 0 || i < 1 || i > 65535)
			return fail(c, n, path, "expected port numbers from 1 to 65535");
		break;
	default:
		break;
	}
	return 0;
}

static int check_node(struct pb_conf *c, const struct pb_conf_node *n, char *path,
		      size_t plen, size_t cap);

static int check_children(struct pb_conf *c, const struct pb_conf_node *n,
			  char *path, size_t plen, size_t cap)
{
	const struct pb_conf_node *k;

	for (k = n->child; k; k = k->next) {
		int w = snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", k->key);
		int rc;

		if (w < 0 || plen + (size_t)w >= cap)
			return fail(c, k, k->key, "key path too long");
		rc = check_node(c, k, path, plen + (size_t)w, cap);
		path[plen] = '\0';
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int check_node(struct pb_conf *c, const struct pb_conf_node *n, char *path,
		      size_t plen, size_t cap)
{
	int i = lookup(path), rc;
	const struct pb_conf_node *k;
	enum ctype t;

	if (i < 0) {
		pb_warn("%s:%d: unknown setting '%s' (ignored)", n->file, n->line, path);
		return 0;
	}
	t = schema[i].type;
	switch (t) {
	case CT_ANY:
	case CT_IGNORED:
		if (t == CT_IGNORED)
			pb_debug("%s:%d: '%s' has no effect in pbtools", n->file, n->line, path);
		return 0;
	case CT_MAP:
		if (n->kind != PB_CONF_MAP)
			return fail(c, n, path, "expected a map of settings");
		return check_children(c, n, path, plen, cap);
	case CT_MAPS:
		if (n->kind == PB_CONF_MAP)
			return check_children(c, n, path, plen, cap);
		if (n->kind != PB_CONF_SEQ)
			return fail(c, n, path, "expected a map of settings or a list of them");
		for (k = n->child; k; k = k->next) {
			if (k->kind != PB_CONF_MAP)
				return fail(c, k, path, "expected a map of settings in the list");
			if ((rc = check_children(c, k, path, plen, cap)) < 0)
				return rc;
		}
		return 0;
	case CT_STRS:
	case CT_PORTS:
		if (n->kind == PB_CONF_SEQ) {
			for (k = n->child; k; k = k->next)
				if ((rc = check_scalar(c, k, path, t)) < 0)
					return rc;
			return 0;
		}
		return check_scalar(c, n, path, t);
	default:
		return check_scalar(c, n, path, t);
	}
}

int pb_conf_check(struct pb_conf *c)
{
	char path[512] = "";

	return check_children(c, c->root, path, 0, sizeof(path));
}
