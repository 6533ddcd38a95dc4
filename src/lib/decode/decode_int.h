/* decode_int.h - the decode stages' shared helpers. */
#ifndef PB_DECODE_INT_H
#define PB_DECODE_INT_H

#include "decode/decode.h"
#include "util/cursor.h"

/* Record an anomaly; stop != 0 makes it the error that ended decoding. */
static inline void pb_dec_anomaly(struct pb_decoded *d, struct pb_decode_stats *st,
				  enum pb_anomaly a, int stop)
{
	if (d->n_anomalies < PB_MAX_ANOMALIES)
		d->anomalies[d->n_anomalies++] = (uint8_t)a;
	if (stop && !d->error)
		d->error = (uint8_t)a;
	st->anomalies[a]++;
}

/* Each stage decodes from the cursor and calls the next one. */
void pb_dec_link(struct pb_cur *c, const struct pb_packet *p,
		 struct pb_decoded *d, struct pb_decode_stats *st);
void pb_dec_ethertype(struct pb_cur *c, uint16_t type, const struct pb_packet *p,
		      struct pb_decoded *d, struct pb_decode_stats *st);
void pb_dec_ip(struct pb_cur *c, int version, const struct pb_packet *p,
	       struct pb_decoded *d, struct pb_decode_stats *st);
void pb_dec_transport(struct pb_cur *c, uint32_t wire_len, const struct pb_packet *p,
		      struct pb_decoded *d, struct pb_decode_stats *st);
void pb_dec_ethernet(struct pb_cur *c, const struct pb_packet *p,
		     struct pb_decoded *d, struct pb_decode_stats *st);

/* tunnel.c */
void pb_dec_mpls(struct pb_cur *c, const struct pb_packet *p,
		 struct pb_decoded *d, struct pb_decode_stats *st);
void pb_dec_pppoe(struct pb_cur *c, const struct pb_packet *p,
		  struct pb_decoded *d, struct pb_decode_stats *st);
/* IP protocols 4, 41 and 47 after an IP header. */
void pb_dec_ip_tunnel(struct pb_cur *c, const struct pb_packet *p,
		      struct pb_decoded *d, struct pb_decode_stats *st);
/* UDP ports that may carry a tunnel: VXLAN 4789, Geneve 6081, Teredo 3544,
 * GRE in UDP 4754 (RFC 8086), MPLS in UDP 6635 (RFC 7510). */
static inline int pb_udp_tunnel_port(uint16_t port)
{
	return port == 4789 || port == 6081 || port == 3544 || port == 4754 ||
	       port == 6635;
}

/* UDP tunnels by port; returns 1 when the payload was one. */
int pb_dec_udp_tunnel(struct pb_cur *c, const struct pb_packet *p,
		      struct pb_decoded *d, struct pb_decode_stats *st);

#endif
