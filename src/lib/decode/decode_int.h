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

#endif
