/*
 * carve.h - the packets of selected conversations: events (flows or
 * transactions, typically filtered with jq) say which; the packets come
 * from the original captures.
 *
 * An event names a conversation by its two ends (source and destination,
 * or client and server: addresses and ports) and its transport, and a
 * part of it by its packet numbers (pb.packet.first and last, the input
 * packet numbers of the run that wrote the event) or, without them, by
 * its time range (event.start to event.end, or @timestamp).  A packet is
 * kept when its ends and transport are an event's, either way round, and
 * its number (or time) is in that event's range.  The fragments of a
 * datagram after the first carry no ports: they are kept on their
 * addresses and transport alone.
 */
#ifndef PB_OUT_CARVE_H
#define PB_OUT_CARVE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "capture/capture.h"
#include "decode/decode.h"

#define PB_CARVE_MAX 4000000u   /* events one run selects by */

struct pb_carve;

struct pb_carve *pb_carve_new(void);
/* Select by one event: 0; PB_EINVAL with *why when it names no
 * conversation (no addresses); PB_ENOMEM, or PB_ETOOBIG past PB_CARVE_MAX. */
int pb_carve_add(struct pb_carve *c, const cJSON *ev, const char **why);
/* Whether the packet p, decoded as d, belongs to a selected part. */
int pb_carve_match(const struct pb_carve *c, const struct pb_packet *p,
		   const struct pb_decoded *d);
uint64_t pb_carve_count(const struct pb_carve *c);
void pb_carve_free(struct pb_carve *c);

#endif
