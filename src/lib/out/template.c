/*
 * template.c - the Elasticsearch index template of pbtools events.
 *
 * Mappings follow the event schema (pb-ndjson(5), EVENTS.md): timestamps
 * as date_nanos (captures carry nanoseconds), addresses as ip, counters,
 * ports and ids that are numbers as long, flags as boolean, and every
 * other string as keyword by a dynamic template, as Packetbeat maps them.
 * Objects nest as "properties", the way Elasticsearch shows mappings.
 */
#include "out/es.h"

#include <string.h>

#include "pb.h"
#include "util/banned.h"

static const struct {
	const char *path, *type;
} fields[] = {
	{ "@timestamp", "date_nanos" },
	{ "event.start", "date_nanos" },
	{ "event.end", "date_nanos" },
	{ "event.duration", "long" },
	{ "source.ip", "ip" }, { "source.port", "long" },
	{ "source.bytes", "long" }, { "source.packets", "long" },
	{ "destination.ip", "ip" }, { "destination.port", "long" },
	{ "destination.bytes", "long" }, { "destination.packets", "long" },
	{ "client.ip", "ip" }, { "client.port", "long" }, { "client.bytes", "long" },
	{ "server.ip", "ip" }, { "server.port", "long" }, { "server.bytes", "long" },
	{ "related.ip", "ip" },
	{ "network.bytes", "long" }, { "network.packets", "long" },
	{ "network.vlan.id", "keyword" },
	{ "flow.final", "boolean" }, { "flow.vlan", "long" },
	{ "packet.index", "long" }, { "packet.length", "long" },
	{ "packet.caplen", "long" }, { "packet.linktype", "long" },
	{ "packet.interface", "long" }, { "packet.file_index", "long" },
	{ "packet.data", "binary" },
	{ "ip.ttl", "long" }, { "ip.id", "long" },
	{ "tcp.seq", "long" }, { "tcp.ack", "long" }, { "tcp.window", "long" },
	{ "icmp.type", "long" }, { "icmp.code", "long" },
	{ "payload.bytes", "long" },
	{ "pb.packet.first", "long" }, { "pb.packet.last", "long" },
	{ "http.request.bytes", "long" }, { "http.request.body.bytes", "long" },
	{ "http.response.bytes", "long" }, { "http.response.body.bytes", "long" },
	{ "http.response.status_code", "long" },
	{ "dns.id", "long" }, { "dns.answers_count", "long" },
	{ "dns.authorities_count", "long" }, { "dns.additionals_count", "long" },
	{ "dns.resolved_ip", "ip" },
	{ "dns.flags.authoritative", "boolean" },
	{ "dns.flags.recursion_available", "boolean" },
	{ "dns.flags.recursion_desired", "boolean" },
	{ "dns.flags.authentic_data", "boolean" },
	{ "dns.flags.checking_disabled", "boolean" },
	{ "dns.flags.truncated_response", "boolean" },
	{ "dns.opt.udp_size", "long" }, { "dns.opt.do", "boolean" },
	{ "tls.established", "boolean" }, { "tls.resumed", "boolean" },
	{ "tls.client.not_after", "date" }, { "tls.client.not_before", "date" },
	{ "tls.server.not_after", "date" }, { "tls.server.not_before", "date" },
	{ "mysql.affected_rows", "long" }, { "mysql.insert_id", "long" },
	{ "mysql.num_fields", "long" }, { "mysql.num_rows", "long" },
	{ "mysql.error_code", "long" }, { "mysql.error_message", "keyword" },
	{ "pgsql.num_fields", "long" }, { "pgsql.num_rows", "long" },
	{ "pgsql.error_code", "keyword" }, { "pgsql.error_message", "keyword" },
	{ "redis.error", "keyword" },
	{ "memcache.request.bytes", "long" }, { "memcache.response.bytes", "long" },
	{ "mongodb.numberReturned", "long" }, { "mongodb.numberToReturn", "long" },
	{ "mongodb.numberToSkip", "long" },
	{ "request", "text" }, { "response", "text" },
	{ "error.message", "text" },
};

/* The mapping object of path under props, made on the way. */
static cJSON *mapping_at(cJSON *props, const char *path)
{
	const char *dot = strchr(path, '.');
	char key[128];
	size_t n = dot ? (size_t)(dot - path) : strlen(path);
	cJSON *o, *sub;

	if (n >= sizeof(key))
		return NULL;
	memcpy(key, path, n);
	key[n] = '\0';
	o = cJSON_GetObjectItemCaseSensitive(props, key);
	if (!o && !(o = cJSON_AddObjectToObject(props, key)))
		return NULL;
	if (!dot)
		return o;
	sub = cJSON_GetObjectItemCaseSensitive(o, "properties");
	if (!sub && !(sub = cJSON_AddObjectToObject(o, "properties")))
		return NULL;
	return mapping_at(sub, dot + 1);
}

int pb_es_template(struct pb_buf *out, const char *pattern, int data_stream)
{
	cJSON *root = cJSON_CreateObject(), *tpl, *maps, *props, *dyn, *m, *pats;
	char *s;
	size_t i;
	int rc = PB_ENOMEM;

	if (!root)
		return PB_ENOMEM;
	pats = cJSON_AddArrayToObject(root, "index_patterns");
	cJSON_AddItemToArray(pats, cJSON_CreateString(pattern));
	if (data_stream)
		cJSON_AddObjectToObject(root, "data_stream");
	cJSON_AddNumberToObject(root, "priority", 150);
	tpl = cJSON_AddObjectToObject(root, "template");
	m = cJSON_AddObjectToObject(cJSON_AddObjectToObject(
		cJSON_AddObjectToObject(cJSON_AddObjectToObject(tpl, "settings"), "index"),
		"mapping"), "total_fields");
	cJSON_AddNumberToObject(m, "limit", 10000);
	maps = cJSON_AddObjectToObject(tpl, "mappings");
	cJSON_AddBoolToObject(maps, "date_detection", 0);
	dyn = cJSON_AddArrayToObject(maps, "dynamic_templates");
	m = cJSON_CreateObject();
	cJSON_AddItemToArray(dyn, m);
	m = cJSON_AddObjectToObject(m, "strings_as_keyword");
	cJSON_AddStringToObject(m, "match_mapping_type", "string");
	m = cJSON_AddObjectToObject(m, "mapping");
	cJSON_AddStringToObject(m, "type", "keyword");
	cJSON_AddNumberToObject(m, "ignore_above", 1024);
	props = cJSON_AddObjectToObject(maps, "properties");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		m = mapping_at(props, fields[i].path);
		if (!m)
			goto out;
		cJSON_AddStringToObject(m, "type", fields[i].type);
		if (!strcmp(fields[i].type, "keyword"))
			cJSON_AddNumberToObject(m, "ignore_above", 1024);
	}
	m = cJSON_AddObjectToObject(root, "_meta");
	cJSON_AddStringToObject(m, "description", "pbtools events (pb-ndjson(5))");
	cJSON_AddStringToObject(m, "managed_by", "pb-export");
	s = cJSON_PrintUnformatted(root);
	if (s) {
		rc = pb_buf_adds(out, s) < 0 ? PB_ENOMEM : 0;
		cJSON_free(s);
	}
out:
	cJSON_Delete(root);
	return rc;
}
