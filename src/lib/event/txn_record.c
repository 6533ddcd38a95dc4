/*
 * txn_record.c - one transaction event (txn_record.h).
 *
 * Key order is fixed (pb-ndjson(5)): @timestamp, type, event, status,
 * method, query, resource, path, client, server, source, destination,
 * network, related, the protocol's objects, request, response, error, pb.
 * The client is the source and the server the destination, as Packetbeat
 * writes them.
 */
#include "event/txn_record.h"

#include <string.h>

#include "decode/decode.h"
#include "event/ecs.h"
#include "util/community_id.h"
#include "util/json.h"
#include "util/banned.h"

static void opt_str(struct pb_json *j, const char *key, const char *v)
{
	if (!v)
		return;
	pb_json_keyn(j, key, strlen(key));
	pb_json_cstr(j, v);
}

static void endpoint(struct pb_json *j, const char *name, const struct pb_txn_conn *c,
		     int e, int bytes, uint64_t nbytes, const char *domain)
{
	pb_json_keyn(j, name, strlen(name));
	pb_json_obj(j);
	pb_ecs_ip(j, "ip", c->addr[e], c->family == 4 ? 4 : 16);
	if (c->transport == 6 || c->transport == 17) {
		pb_json_key(j, "port");
		pb_json_u64(j, c->port[e]);
	}
	if (bytes) {
		pb_json_key(j, "bytes");
		pb_json_u64(j, nbytes);
	}
	opt_str(j, "domain", domain);
	pb_json_obj_end(j);
}

static int community_id(char *out, const struct pb_txn_conn *c, const struct pb_txn *t,
			uint16_t seed)
{
	struct pb_flow_tuple ft;
	int cl = t->client & 1;

	memset(&ft, 0, sizeof(ft));
	ft.saddr = c->addr[cl];
	ft.daddr = c->addr[!cl];
	ft.alen = c->family == 4 ? 4 : 16;
	ft.proto = c->transport;
	if (c->transport == 6 || c->transport == 17) {
		ft.has_ports = 1;
		ft.sport = c->port[cl];
		ft.dport = c->port[!cl];
	} else if (t->has_icmp) {
		ft.has_ports = 1;
		ft.sport = t->icmp_type;
		ft.dport = t->icmp_code;
	}
	return pb_community_id(out, &ft, seed);
}

void pb_txn_record(struct pb_buf *out, const struct pb_txn_conn *c,
		   const struct pb_txn *t, const struct pb_txn_record_opts *o)
{
	int cl = t->client & 1, bytes = !t->no_bytes;
	const char *name = c->proto->name;
	char cid[PB_COMMUNITY_ID_LEN + 1];
	const char *tname = pb_ip_proto_name(c->transport);
	unsigned i;
	struct pb_json j;

	pb_json_init(&j, out);
	pb_json_obj(&j);
	pb_json_key(&j, "@timestamp");
	pb_ecs_time_ns(&j, t->start_ns, c->prec);
	pb_json_key(&j, "type");
	pb_json_cstr(&j, name);

	pb_json_key(&j, "event");
	pb_json_obj(&j);
	pb_json_key(&j, "kind");
	pb_ecs_str(&j, "event");
	pb_json_key(&j, "category");
	pb_json_arr(&j);
	pb_ecs_str(&j, "network");
	pb_json_arr_end(&j);
	pb_json_key(&j, "type");
	pb_json_arr(&j);
	pb_ecs_str(&j, "connection");
	if (!t->event_type_connection_only)
		pb_ecs_str(&j, "protocol");
	pb_json_arr_end(&j);
	pb_json_key(&j, "dataset");
	pb_json_cstr(&j, name);
	pb_json_key(&j, "start");
	pb_ecs_time_ns(&j, t->start_ns, c->prec);
	/* the end and the duration come with a response, as Packetbeat sets
	 * them: a lone request has neither (a lone response ends where it
	 * starts) */
	if (t->has_response) {
		pb_json_key(&j, "end");
		pb_ecs_time_ns(&j, t->end_ns, c->prec);
		if (t->end_ns >= t->start_ns) {
			pb_json_key(&j, "duration");
			pb_json_i64(&j, t->end_ns - t->start_ns);
		}
	}
	pb_json_obj_end(&j);

	opt_str(&j, "status", t->status);
	opt_str(&j, "method", t->method);
	opt_str(&j, "query", t->query);
	opt_str(&j, "resource", t->resource);
	opt_str(&j, "path", t->path);

	endpoint(&j, "client", c, cl, bytes, t->request_bytes, NULL);
	endpoint(&j, "server", c, !cl, bytes, t->response_bytes, t->server_domain);
	endpoint(&j, "source", c, cl, bytes, t->request_bytes, NULL);
	endpoint(&j, "destination", c, !cl, bytes, t->response_bytes, t->server_domain);

	pb_json_key(&j, "network");
	pb_json_obj(&j);
	pb_json_key(&j, "type");
	pb_ecs_str(&j, c->family == 4 ? "ipv4" : "ipv6");
	if (tname) {
		pb_json_key(&j, "transport");
		pb_ecs_str(&j, tname);
	}
	pb_ecs_iana_number(&j, c->transport);
	pb_json_key(&j, "protocol");
	pb_json_cstr(&j, name);
	if (bytes) {
		pb_json_key(&j, "bytes");
		pb_json_u64(&j, t->request_bytes + t->response_bytes);
	}
	if (community_id(cid, c, t, o ? o->cid_seed : 0) == 0) {
		pb_json_key(&j, "community_id");
		pb_json_ascii(&j, cid, PB_COMMUNITY_ID_LEN);
	}
	opt_str(&j, "forwarded_ip", t->forwarded_ip);
	pb_json_obj_end(&j);

	pb_json_key(&j, "related");
	pb_json_obj(&j);
	pb_json_key(&j, "ip");
	pb_json_arr(&j);
	{
		char a[48];
		int alen = c->family == 4 ? 4 : 16;

		pb_json_ascii(&j, a, pb_format_ip(a, c->addr[cl], alen));
		if (memcmp(c->addr[0], c->addr[1], (size_t)alen) != 0)
			pb_json_ascii(&j, a, pb_format_ip(a, c->addr[!cl], alen));
		for (i = 0; i < t->n_related && i < PB_TXN_MAX_RELATED; i++) {
			int len = t->related_len[i];

			/* the endpoints are there already */
			if (len == alen && (memcmp(t->related[i], c->addr[0], (size_t)len) == 0 ||
					    memcmp(t->related[i], c->addr[1], (size_t)len) == 0))
				continue;
			pb_json_ascii(&j, a, pb_format_ip(a, t->related[i], len));
		}
	}
	pb_json_arr_end(&j);
	if (t->n_hosts) {
		pb_json_key(&j, "hosts");
		pb_json_arr(&j);
		for (i = 0; i < t->n_hosts && i < PB_TXN_MAX_HOSTS; i++)
			pb_json_cstr(&j, t->hosts[i]);
		pb_json_arr_end(&j);
	}
	pb_json_obj_end(&j);

	if (t->write)
		t->write(&j, t, t->arg);

	if (t->request && c->common && c->common->send_request) {
		pb_json_key(&j, "request");
		pb_json_str(&j, t->request, t->request_len);
	}
	if (t->response && c->common && c->common->send_response) {
		pb_json_key(&j, "response");
		pb_json_str(&j, t->response, t->response_len);
	}
	if (t->n_notes) {
		pb_json_key(&j, "error");
		pb_json_obj(&j);
		pb_json_key(&j, "message");
		if (t->n_notes == 1) {
			pb_json_cstr(&j, t->notes[0]);
		} else {
			pb_json_arr(&j);
			for (i = 0; i < t->n_notes && i < PB_TXN_MAX_NOTES; i++)
				pb_json_cstr(&j, t->notes[i]);
			pb_json_arr_end(&j);
		}
		pb_json_obj_end(&j);
	}

	pb_json_key(&j, "pb");
	pb_json_obj(&j);
	pb_json_key(&j, "packet");
	pb_json_obj(&j);
	pb_json_key(&j, "first");
	pb_json_u64(&j, t->first_pkt);
	pb_json_key(&j, "last");
	pb_json_u64(&j, t->last_pkt);
	pb_json_obj_end(&j);
	pb_json_obj_end(&j);

	pb_json_obj_end(&j);
	pb_buf_addc(out, '\n');
}
