/*
 * packet_record.h - the packet record pb-decode writes (pb-ndjson(5)).
 */
#ifndef PB_PACKET_RECORD_H
#define PB_PACKET_RECORD_H

#include "capture/capture.h"
#include "decode/decode.h"
#include "event/ecs.h"
#include "util/buf.h"

struct pb_record_opts {
	int with_data;       /* include packet.data (base64 of the frame) */
	uint16_t cid_seed;   /* Community ID seed */
};

/* Append one record and a newline to out. */
void pb_packet_record(struct pb_buf *out, const struct pb_packet *p,
		      const struct pb_decoded *d, const struct pb_record_opts *o);

#endif
