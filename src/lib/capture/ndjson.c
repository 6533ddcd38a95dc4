/*
 * ndjson.c - packet records (pb-ndjson(5)) as a packet source.
 *
 * Each line is one JSON object.  The frame comes from packet.data (base64);
 * @timestamp, packet.index, packet.length, packet.linktype and
 * packet.interface are taken when present, nested ("packet":{"data":...})
 * or dotted ("packet.data":...).  The timestamp's precision is the number
 * of fractional digits it has, so records written again keep it.
 * Blank lines are skipped; a line that is not JSON, or lacks what a packet
 * needs, is reported with its line number and skipped (or ends the input
 * with --strict).
 */
#include "capture/capture_int.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"
#include "util/banned.h"

/* Field lookup that accepts nested and dotted spellings. */
static const cJSON *field(const cJSON *root, const char *obj, const char *key)
{
	char dotted[64];
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, obj);

	if (cJSON_IsObject(o)) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

		if (v)
			return v;
	}
	snprintf(dotted, sizeof(dotted), "%s.%s", obj, key);
	return cJSON_GetObjectItemCaseSensitive(root, dotted);
}

/* An unsigned integer field in [0, max], or -1 when absent or wrong. */
static int64_t uint_field(const cJSON *v, double max)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return -1;
	return (int64_t)v->valuedouble;
}

/* Decode one line; 0 with p filled, or a message in *why. */
static int ndjson_packet(struct pb_capture *c, const char *line, size_t n,
			 struct pb_packet *p, const char **why)
{
	const cJSON *data, *ts, *v;
	cJSON *root;
	size_t dlen;
	long got;
	int64_t x;
	int rc = -1;

	root = cJSON_ParseWithLength(line, n);
	if (!root) {
		*why = "not valid JSON";
		return -1;
	}
	if (!cJSON_IsObject(root)) {
		*why = "not a JSON object";
		goto out;
	}
	data = field(root, "packet", "data");
	if (!cJSON_IsString(data)) {
		*why = "no packet.data (records written with --no-data "
		       "cannot be decoded again)";
		goto out;
	}
	dlen = strlen(data->valuestring);
	if (dlen / 4 * 3 > PB_MAX_FRAME) {
		*why = "packet.data exceeds the 256 KiB maximum";
		c->st.oversized++;
		goto out;
	}
	if (!c->frame && !(c->frame = malloc(PB_MAX_FRAME + 3))) {
		*why = "out of memory";
		goto out;
	}
	got = pb_base64_decode(c->frame, data->valuestring, dlen);
	if (got < 0) {
		*why = "packet.data is not valid base64";
		goto out;
	}
	ts = cJSON_GetObjectItemCaseSensitive(root, "@timestamp");
	if (!cJSON_IsString(ts) ||
	    pb_time_parse(ts->valuestring, strlen(ts->valuestring), &p->ts) < 0) {
		*why = "no valid @timestamp";
		goto out;
	}
	p->data = c->frame;
	p->caplen = (uint32_t)got;
	x = uint_field(field(root, "packet", "length"), 4294967295.0);
	p->len = x >= 0 ? (uint32_t)x : p->caplen;
	x = uint_field(field(root, "packet", "linktype"), 65535);
	p->linktype = x >= 0 ? (uint32_t)x : 1; /* Ethernet by default */
	x = uint_field(field(root, "packet", "interface"), 4294967295.0);
	p->iface = x >= 0 ? (uint32_t)x : 0;
	v = field(root, "packet", "index");
	x = uint_field(v, 9007199254740992.0);
	if (x < 0 && cJSON_IsString(v)) {
		char *end;
		unsigned long long u = strtoull(v->valuestring, &end, 10);

		x = *v->valuestring && !*end ? (int64_t)u : -1;
	}
	c->index++;
	p->index = x > 0 ? (uint64_t)x : c->index;
	/* a record from a merged run says which file it came from */
	v = field(root, "packet", "file");
	p->file = NULL;
	if (cJSON_IsString(v) && strlen(v->valuestring) < sizeof(c->file)) {
		memcpy(c->file, v->valuestring, strlen(v->valuestring) + 1);
		p->file = c->file;
		x = uint_field(field(root, "packet", "file_index"), 9007199254740992.0);
		p->file_index = x > 0 ? (uint64_t)x : p->index;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

int pb_cap_ndjson_next(struct pb_capture *c, struct pb_packet *p)
{
	for (;;) {
		const uint8_t *s;
		size_t len, i;
		const char *why = NULL;
		int rc = pb_stream_line(&c->s, PB_NDJSON_MAX_LINE, &s, &len);

		if (rc == 0)
			return PB_EOF;
		if (rc == PB_EIO) {
			pb_cap_report(c, "read error after line %llu: %s",
				      (unsigned long long)c->line,
				      strerror(c->s.err));
			return PB_EIO;
		}
		c->line++;
		if (rc == PB_ETOOBIG) {
			c->st.records++;
			c->st.bad++;
			c->st.oversized++;
			pb_cap_report(c, "line %llu: longer than %u bytes; %s",
				      (unsigned long long)c->line, PB_NDJSON_MAX_LINE,
				      c->opts.strict ? "stopping (--strict)" : "skipped");
			if (c->opts.strict)
				return PB_ETOOBIG;
			continue;
		}
		for (i = 0; i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'); i++)
			;
		if (i == len)
			continue;
		c->st.records++;
		if (ndjson_packet(c, (const char *)s, len, p, &why) == 0)
			return 0;
		c->st.bad++;
		pb_cap_report(c, "line %llu: %s; %s", (unsigned long long)c->line, why,
			      c->opts.strict ? "stopping (--strict)" : "skipped");
		if (c->opts.strict)
			return PB_EINVAL;
	}
}
