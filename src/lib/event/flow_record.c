/*
 * flow_record.c - one flow event (flow_record.h).
 *
 * Key order is fixed (pb-ndjson(5)): @timestamp, type, event, flow, source,
 * destination, network, related, pb.  Per end: mac, ip, port, bytes,
 * packets, as Packetbeat writes them.
 */
#include "event/flow_record.h"

#include <string.h>

#include "event/ecs.h"
#include "util/community_id.h"
#include "util/json.h"
#include "util/banned.h"

static const char *ether_name(uint32_t ethertype)
{
	switch (ethertype) {
	case 0x0806: return "arp";
	case 0x8035: return "rarp";
	case 0x88cc: return "lldp";
	case 0x888e: return "eapol";
	case 0x8809: return "slow";   /* LACP and friends */
	case 0x88f7: return "ptp";
	case 0x8863: return "pppoe_discovery";
	case 0x22f0: return "avtp";
	case 0x9000: return "loopback";
	}
	return NULL;
}

static void end_obj(struct pb_json *j, const char *name, const struct pb_flow *f, int e)
{
	const struct pb_flow_key *k = &f->key;

	pb_json_keyn(j, name, strlen(name));
	pb_json_obj(j);
	if (k->kind == PB_FK_ETHER && k->family == 0) {
		pb_ecs_mac(j, k->addr[e]);
	} else {
		if (f->has_mac & (1u << e))
			pb_ecs_mac(j, f->mac[e]);
		pb_ecs_ip(j, "ip", k->addr[e], k->family == 4 ? 4 : 16);
		if (k->kind == PB_FK_PORTS) {
			pb_json_key(j, "port");
			pb_json_u64(j, k->port[e]);
		}
	}
	pb_json_key(j, "bytes");
	pb_json_u64(j, f->bytes[e]);
	pb_json_key(j, "packets");
	pb_json_u64(j, f->packets[e]);
	pb_json_obj_end(j);
}

void pb_flow_record(struct pb_buf *out, const struct pb_flow *f, int64_t when,
		    enum pb_flow_why why, const struct pb_flow_record_opts *o)
{
	const struct pb_flow_key *k = &f->key;
	int s = f->src, final = why != PB_FLOW_INTERIM;
	char id[PB_FLOW_ID_LEN + 1], cid[PB_COMMUNITY_ID_LEN + 1];
	struct pb_json j;

	pb_json_init(&j, out);
	pb_json_obj(&j);
	pb_json_key(&j, "@timestamp");
	pb_ecs_time_ns(&j, when, f->prec);
	pb_json_key(&j, "type");
	pb_ecs_str(&j, "flow");

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
	if (final)
		pb_ecs_str(&j, "end");
	pb_json_arr_end(&j);
	pb_json_key(&j, "action");
	pb_ecs_str(&j, "network_flow");
	pb_json_key(&j, "dataset");
	pb_ecs_str(&j, "flow");
	pb_json_key(&j, "start");
	pb_ecs_time_ns(&j, f->first_ns, f->prec);
	pb_json_key(&j, "end");
	pb_ecs_time_ns(&j, f->last_ns, f->prec);
	pb_json_key(&j, "duration");
	pb_json_i64(&j, f->last_ns - f->first_ns);
	pb_json_obj_end(&j);

	pb_json_key(&j, "flow");
	pb_json_obj(&j);
	pb_flow_id(id, f);
	pb_json_key(&j, "id");
	pb_json_ascii(&j, id, PB_FLOW_ID_LEN);
	pb_json_key(&j, "final");
	pb_json_bool(&j, final);
	if (k->n_vlan == 1) {
		pb_json_key(&j, "vlan");
		pb_json_u64(&j, k->vlan[0]);
	} else if (k->n_vlan == 2) {
		pb_json_key(&j, "vlan");
		pb_json_arr(&j);
		pb_json_u64(&j, k->vlan[0]);
		pb_json_u64(&j, k->vlan[1]);
		pb_json_arr_end(&j);
	}
	pb_json_obj_end(&j);

	end_obj(&j, "source", f, s);
	end_obj(&j, "destination", f, !s);

	pb_json_key(&j, "network");
	pb_json_obj(&j);
	if (k->kind == PB_FK_ETHER) {
		const char *t = ether_name(k->aux);

		if (t) {
			pb_json_key(&j, "type");
			pb_ecs_str(&j, t);
		}
	} else {
		const char *t = pb_ip_proto_name(k->proto);

		pb_json_key(&j, "type");
		pb_ecs_str(&j, k->family == 4 ? "ipv4" : "ipv6");
		if (t) {
			pb_json_key(&j, "transport");
			pb_ecs_str(&j, t);
		}
		pb_ecs_iana_number(&j, k->proto);
	}
	pb_json_key(&j, "bytes");
	pb_json_u64(&j, f->bytes[0] + f->bytes[1]);
	pb_json_key(&j, "packets");
	pb_json_u64(&j, f->packets[0] + f->packets[1]);
	if (pb_flow_community_id(cid, f, o ? o->cid_seed : 0) == 0) {
		pb_json_key(&j, "community_id");
		pb_json_ascii(&j, cid, PB_COMMUNITY_ID_LEN);
	}
	pb_json_obj_end(&j);

	if (k->family) {
		int alen = k->family == 4 ? 4 : 16;

		pb_json_key(&j, "related");
		pb_json_obj(&j);
		pb_json_key(&j, "ip");
		pb_json_arr(&j);
		{
			char a[48];

			pb_json_ascii(&j, a, pb_format_ip(a, k->addr[s], alen));
			if (memcmp(k->addr[0], k->addr[1], (size_t)alen) != 0)
				pb_json_ascii(&j, a, pb_format_ip(a, k->addr[!s], alen));
		}
		pb_json_arr_end(&j);
		pb_json_obj_end(&j);
	}

	pb_json_key(&j, "pb");
	pb_json_obj(&j);
	pb_json_key(&j, "flow");
	pb_json_obj(&j);
	if (final) {
		pb_json_key(&j, "end_reason");
		pb_ecs_str(&j, pb_flow_why_name(why));
	}
	pb_json_key(&j, "source_from");
	pb_ecs_str(&j, f->evidence == PB_FLOW_EV_OPEN ? "open" :
		       f->evidence == PB_FLOW_EV_ANSWER ? "answer" :
		       f->evidence == PB_FLOW_EV_PORT ? "port" : "first_packet");
	pb_json_obj_end(&j);
	pb_json_key(&j, "packet");
	pb_json_obj(&j);
	pb_json_key(&j, "first");
	pb_json_u64(&j, f->first_pkt);
	pb_json_key(&j, "last");
	pb_json_u64(&j, f->last_pkt);
	pb_json_obj_end(&j);
	if (k->kind == PB_FK_PORTS && k->proto == 6) {
		pb_json_key(&j, "source");
		pb_json_obj(&j);
		pb_json_key(&j, "tcp_flags");
		pb_ecs_tcp_flags(&j, f->tcp_flags[s]);
		pb_json_obj_end(&j);
		pb_json_key(&j, "destination");
		pb_json_obj(&j);
		pb_json_key(&j, "tcp_flags");
		pb_ecs_tcp_flags(&j, f->tcp_flags[!s]);
		pb_json_obj_end(&j);
	}
	if (k->kind == PB_FK_ICMP) {
		pb_json_key(&j, "icmp");
		pb_json_obj(&j);
		pb_json_key(&j, "type");
		pb_json_u64(&j, f->icmp_type);
		pb_json_key(&j, "code");
		pb_json_u64(&j, f->icmp_code);
		/* echo pairs carry an identifier */
		if ((k->aux & 0x1000000u) &&
		    (((k->aux >> 16) & 0xff) == 8 || ((k->aux >> 16) & 0xff) == 128)) {
			pb_json_key(&j, "id");
			pb_json_u64(&j, k->aux & 0xffff);
		}
		pb_json_obj_end(&j);
	}
	if (k->kind == PB_FK_ETHER) {
		pb_json_key(&j, "ethertype");
		pb_json_u64(&j, k->aux);
	}
	pb_json_obj_end(&j);
	pb_json_obj_end(&j);
	pb_buf_addc(out, '\n');
}
