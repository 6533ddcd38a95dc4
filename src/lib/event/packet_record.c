/*
 * packet_record.c - one NDJSON packet record per frame.
 *
 * Key order is fixed (pb-ndjson(5)):  @timestamp, event, packet, source,
 * destination, network, tunnel, mpls, pppoe, ip, tcp, icmp, arp, payload,
 * pb, error.
 * Fields are left out when the packet does not have them.
 */
#include "event/packet_record.h"

#include <stdio.h>
#include <string.h>

#include "event/ecs.h"
#include "util/community_id.h"
#include "util/json.h"
#include "util/time.h"
#include "util/banned.h"

#define put_str pb_ecs_str
#define put_ip pb_ecs_ip
#define put_mac pb_ecs_mac

/* source / destination: mac, ip, port as each is known */
static void endpoint(struct pb_json *j, const char *name, const uint8_t *mac,
		     const uint8_t *ip, int alen, int has_port, uint16_t port)
{
	if (!mac && !ip)
		return;
	pb_json_keyn(j, name, strlen(name));
	pb_json_obj(j);
	if (mac)
		put_mac(j, mac);
	if (ip)
		put_ip(j, "ip", ip, alen);
	if (ip && has_port) {
		pb_json_key(j, "port");
		pb_json_u64(j, port);
	}
	pb_json_obj_end(j);
}

static const char *net_type(const struct pb_decoded *d)
{
	if (d->ip_version == 4)
		return "ipv4";
	if (d->ip_version == 6)
		return "ipv6";
	if (d->layers & PB_LAYER_ARP)
		return "arp";
	return NULL;
}

static void network(struct pb_json *j, const struct pb_decoded *d,
		    const struct pb_record_opts *o)
{
	const char *type = net_type(d);

	if (!type && !d->n_vlan)
		return;
	pb_json_key(j, "network");
	pb_json_obj(j);
	if (type) {
		pb_json_key(j, "type");
		put_str(j, type);
	}
	if (d->ip_version && d->has_proto) {
		const char *t = pb_ip_proto_name(d->proto);

		if (t) {
			pb_json_key(j, "transport");
			put_str(j, t);
		}
		pb_ecs_iana_number(j, d->proto);
		{
			struct pb_flow_tuple ft = {
				d->src_ip, d->dst_ip, d->addr_len, d->proto, 0, 0, 0
			};
			char cid[PB_COMMUNITY_ID_LEN + 1];

			if (d->has_ports) {
				ft.has_ports = 1;
				ft.sport = d->sport;
				ft.dport = d->dport;
			} else if (d->layers & (PB_LAYER_ICMP | PB_LAYER_ICMP6)) {
				ft.has_ports = 1;
				ft.sport = d->icmp_type;
				ft.dport = d->icmp_code;
			}
			if (pb_community_id(cid, &ft, o->cid_seed) == 0) {
				pb_json_key(j, "community_id");
				pb_json_ascii(j, cid, PB_COMMUNITY_ID_LEN);
			}
		}
	}
	if (d->n_vlan) {
		pb_json_key(j, "vlan");
		pb_json_obj(j);
		pb_json_key(j, "id");
		pb_json_u64(j, d->vlan[0]);
		pb_json_obj_end(j);
		if (d->n_vlan > 1) {
			pb_json_key(j, "inner");
			pb_json_obj(j);
			pb_json_key(j, "vlan");
			pb_json_obj(j);
			pb_json_key(j, "id");
			pb_json_u64(j, d->vlan[1]);
			pb_json_obj_end(j);
			pb_json_obj_end(j);
		}
	}
	pb_json_obj_end(j);
}

static void ip_fields(struct pb_json *j, const struct pb_decoded *d)
{
	if (!d->ip_version)
		return;
	pb_json_key(j, "ip");
	pb_json_obj(j);
	pb_json_key(j, "version");
	pb_json_u64(j, d->ip_version);
	pb_json_key(j, "ttl");
	pb_json_u64(j, d->ttl);
	pb_json_key(j, "tos");
	pb_json_u64(j, d->tos);
	pb_json_key(j, "length");
	pb_json_u64(j, d->ip_len);
	if (d->ip_version == 4) {
		pb_json_key(j, "id");
		pb_json_u64(j, d->ip_id);
		pb_json_key(j, "header_length");
		pb_json_u64(j, d->ip_hlen);
		pb_json_key(j, "flags");
		pb_json_arr(j);
		if (d->ip_flags & PB_IP_RF)
			put_str(j, "RF");
		if (d->ip_flags & PB_IP_DF)
			put_str(j, "DF");
		if (d->ip_flags & PB_IP_MF)
			put_str(j, "MF");
		pb_json_arr_end(j);
	} else {
		pb_json_key(j, "flow_label");
		pb_json_u64(j, d->ip6_flow);
	}
	if (d->is_fragment) {
		pb_json_key(j, "fragment");
		pb_json_obj(j);
		pb_json_key(j, "id");
		pb_json_u64(j, d->frag_id);
		pb_json_key(j, "offset");
		pb_json_u64(j, d->frag_offset);
		pb_json_key(j, "more");
		pb_json_bool(j, d->frag_more);
		if (d->reassembled_len) {
			pb_json_key(j, "reassembled");
			pb_json_obj(j);
			pb_json_key(j, "length");
			pb_json_u64(j, d->reassembled_len);
			pb_json_obj_end(j);
		}
		pb_json_obj_end(j);
	}
	pb_json_obj_end(j);
}

/* tunnel: the outer layers crossed, outermost first */
static void tunnel_fields(struct pb_json *j, const struct pb_decoded *d)
{
	int i;

	if (!d->n_tunnels)
		return;
	pb_json_key(j, "tunnel");
	pb_json_arr(j);
	for (i = 0; i < d->n_tunnels; i++) {
		const struct pb_tunnel *t = &d->tunnels[i];

		pb_json_obj(j);
		pb_json_key(j, "type");
		put_str(j, pb_tunnel_name(t->type));
		if (t->has_id) {
			pb_json_key(j, "id");
			pb_json_u64(j, t->id);
		}
		if (t->has_seq) {
			pb_json_key(j, "seq");
			pb_json_u64(j, t->seq);
		}
		if (t->erspan_version) {
			pb_json_key(j, "erspan_version");
			pb_json_u64(j, t->erspan_version);
		}
		if (t->src_ip) {
			endpoint(j, "source", NULL, t->src_ip, t->addr_len, t->has_ports, t->sport);
			endpoint(j, "destination", NULL, t->dst_ip, t->addr_len, t->has_ports,
				 t->dport);
		}
		pb_json_obj_end(j);
	}
	pb_json_arr_end(j);
}

/* mpls and pppoe: what carried the network layer */
static void carrier_fields(struct pb_json *j, const struct pb_decoded *d)
{
	int i;

	if (d->n_mpls) {
		pb_json_key(j, "mpls");
		pb_json_obj(j);
		pb_json_key(j, "labels");
		pb_json_arr(j);
		for (i = 0; i < d->n_mpls && i < PB_MAX_MPLS_KEPT; i++)
			pb_json_u64(j, d->mpls[i]);
		pb_json_arr_end(j);
		pb_json_key(j, "depth");
		pb_json_u64(j, d->n_mpls);
		pb_json_obj_end(j);
	}
	if (d->has_pppoe) {
		pb_json_key(j, "pppoe");
		pb_json_obj(j);
		pb_json_key(j, "session_id");
		pb_json_u64(j, d->pppoe_session);
		pb_json_obj_end(j);
	}
}

static void tcp_fields(struct pb_json *j, const struct pb_decoded *d)
{
	const struct pb_tcp_opts *t = &d->tcpopt;
	int i;

	if (!(d->layers & PB_LAYER_TCP))
		return;
	pb_json_key(j, "tcp");
	pb_json_obj(j);
	pb_json_key(j, "flags");
	pb_ecs_tcp_flags(j, d->tcp_flags);
	pb_json_key(j, "seq");
	pb_json_u64(j, d->seq);
	pb_json_key(j, "ack");
	pb_json_u64(j, d->ack);
	pb_json_key(j, "window");
	pb_json_u64(j, d->window);
	pb_json_key(j, "header_length");
	pb_json_u64(j, d->tcp_hlen);
	if (t->has_mss || t->has_wscale || t->sack_permitted || t->has_ts || t->nsack) {
		pb_json_key(j, "options");
		pb_json_obj(j);
		if (t->has_mss) {
			pb_json_key(j, "mss");
			pb_json_u64(j, t->mss);
		}
		if (t->has_wscale) {
			pb_json_key(j, "wscale");
			pb_json_u64(j, t->wscale);
		}
		if (t->sack_permitted) {
			pb_json_key(j, "sack_permitted");
			pb_json_bool(j, 1);
		}
		if (t->nsack) {
			pb_json_key(j, "sack");
			pb_json_arr(j);
			for (i = 0; i < t->nsack; i++) {
				pb_json_arr(j);
				pb_json_u64(j, t->sack[i][0]);
				pb_json_u64(j, t->sack[i][1]);
				pb_json_arr_end(j);
			}
			pb_json_arr_end(j);
		}
		if (t->has_ts) {
			pb_json_key(j, "timestamp");
			pb_json_obj(j);
			pb_json_key(j, "val");
			pb_json_u64(j, t->tsval);
			pb_json_key(j, "ecr");
			pb_json_u64(j, t->tsecr);
			pb_json_obj_end(j);
		}
		pb_json_obj_end(j);
	}
	pb_json_obj_end(j);
}

static void icmp_fields(struct pb_json *j, const struct pb_decoded *d)
{
	if (!(d->layers & (PB_LAYER_ICMP | PB_LAYER_ICMP6)))
		return;
	pb_json_key(j, "icmp");
	pb_json_obj(j);
	pb_json_key(j, "type");
	pb_json_u64(j, d->icmp_type);
	pb_json_key(j, "code");
	pb_json_u64(j, d->icmp_code);
	if (d->has_icmp_echo) {
		pb_json_key(j, "id");
		pb_json_u64(j, d->icmp_id);
		pb_json_key(j, "seq");
		pb_json_u64(j, d->icmp_seq);
	}
	pb_json_obj_end(j);
}

static void arp_fields(struct pb_json *j, const struct pb_decoded *d)
{
	if (!(d->layers & PB_LAYER_ARP))
		return;
	pb_json_key(j, "arp");
	pb_json_obj(j);
	pb_json_key(j, "operation");
	switch (d->arp_op) {
	case 1: put_str(j, "request"); break;
	case 2: put_str(j, "reply"); break;
	default: pb_json_u64(j, d->arp_op); break;
	}
	if (d->arp_spa) {
		char mac[18];

		pb_format_mac(mac, d->arp_sha);
		pb_json_key(j, "sender_mac");
		pb_json_ascii(j, mac, 17);
		put_ip(j, "sender_ip", d->arp_spa, 4);
		pb_format_mac(mac, d->arp_tha);
		pb_json_key(j, "target_mac");
		pb_json_ascii(j, mac, 17);
		put_ip(j, "target_ip", d->arp_tpa, 4);
	}
	pb_json_obj_end(j);
}

static const char event_obj[] = "{\"kind\":\"event\",\"dataset\":\"packet\"}";

void pb_packet_record(struct pb_buf *out, const struct pb_packet *p,
		      const struct pb_decoded *d, const struct pb_record_opts *o)
{
	struct pb_json j;
	char ts[PB_TIME_MAXLEN];
	size_t n;
	int i;

	pb_json_init(&j, out);
	pb_json_obj(&j);
	n = pb_time_format(ts, &p->ts);
	pb_json_key(&j, "@timestamp");
	pb_json_ascii(&j, ts, n);
	pb_json_key(&j, "event");
	pb_json_raw(&j, event_obj, sizeof(event_obj) - 1);

	pb_json_key(&j, "packet");
	pb_json_obj(&j);
	pb_json_key(&j, "index");
	pb_json_u64(&j, p->index);
	pb_json_key(&j, "length");
	pb_json_u64(&j, p->len);
	pb_json_key(&j, "caplen");
	pb_json_u64(&j, p->caplen);
	pb_json_key(&j, "linktype");
	pb_json_u64(&j, p->linktype);
	pb_json_key(&j, "interface");
	pb_json_u64(&j, p->iface);
	if (p->file) {
		pb_json_key(&j, "file");
		pb_json_cstr(&j, p->file);
		pb_json_key(&j, "file_index");
		pb_json_u64(&j, p->file_index);
	}
	if (o->with_data) {
		pb_json_key(&j, "data");
		pb_json_base64(&j, p->data, p->caplen);
	}
	pb_json_obj_end(&j);

	endpoint(&j, "source", d->src_mac, d->src_ip, d->addr_len, d->has_ports, d->sport);
	endpoint(&j, "destination", d->dst_mac, d->dst_ip, d->addr_len, d->has_ports, d->dport);
	network(&j, d, o);
	tunnel_fields(&j, d);
	carrier_fields(&j, d);
	ip_fields(&j, d);
	tcp_fields(&j, d);
	icmp_fields(&j, d);
	arp_fields(&j, d);
	if (d->has_payload) {
		pb_json_key(&j, "payload");
		pb_json_obj(&j);
		pb_json_key(&j, "bytes");
		pb_json_u64(&j, d->payload_len);
		pb_json_obj_end(&j);
	}
	if (d->n_anomalies || (d->has_ethertype && !d->ip_version &&
			       !(d->layers & PB_LAYER_ARP))) {
		pb_json_key(&j, "pb");
		pb_json_obj(&j);
		if (d->has_ethertype && !d->ip_version && !(d->layers & PB_LAYER_ARP)) {
			char et[8];
			int k = snprintf(et, sizeof(et), "0x%04x", d->ethertype);

			pb_json_key(&j, "ethertype");
			pb_json_ascii(&j, et, (size_t)k);
		}
		if (d->n_anomalies) {
			pb_json_key(&j, "anomalies");
			pb_json_arr(&j);
			for (i = 0; i < d->n_anomalies; i++)
				put_str(&j, pb_anomaly_name(d->anomalies[i]));
			pb_json_arr_end(&j);
		}
		pb_json_obj_end(&j);
	}
	if (d->error) {
		pb_json_key(&j, "error");
		pb_json_obj(&j);
		pb_json_key(&j, "message");
		put_str(&j, pb_anomaly_message(d->error));
		pb_json_obj_end(&j);
	}
	pb_json_obj_end(&j);
	pb_buf_addc(out, '\n');
}
