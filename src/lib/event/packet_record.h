/*
 * packet_record.h - the packet record pb-decode writes (pb-ndjson(5)).
 */
#ifndef PB_PACKET_RECORD_H
#define PB_PACKET_RECORD_H

#include "capture/capture.h"
#include "decode/decode.h"
#include "util/buf.h"

struct pb_record_opts {
	int with_data;       /* include packet.data (base64 of the frame) */
	uint16_t cid_seed;   /* Community ID seed */
};

/* Append one record and a newline to out. */
void pb_packet_record(struct pb_buf *out, const struct pb_packet *p,
		      const struct pb_decoded *d, const struct pb_record_opts *o);

/* Format an IPv4 or IPv6 address (RFC 5952 for v6); returns length. */
size_t pb_format_ip(char *out, const uint8_t *addr, int len);
/* Format a MAC address the ECS way: 00-1A-2B-3C-4D-5E. */
void pb_format_mac(char *out, const uint8_t *mac);

#endif
