/*
 * community_id.h - Community ID v1 flow hashes (corelight community-id-spec).
 *
 *   sha1(seed 16 | saddr | daddr | proto 8 | 0 8 | sport 16 | dport 16)
 *   endpoints ordered so the smaller address:port comes first; ports are
 *   left out for protocols that have none; ICMP and ICMPv6 use the type
 *   and the counterpart type (or code) as ports, and one-way ICMP messages
 *   keep their direction.  Written as "1:" + base64(digest).
 */
#ifndef PB_COMMUNITY_ID_H
#define PB_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

#define PB_COMMUNITY_ID_LEN 30 /* "1:" + 28 base64 characters */

struct pb_flow_tuple {
	const uint8_t *saddr, *daddr;  /* 4 or 16 bytes */
	uint8_t alen;
	uint8_t proto;
	uint8_t has_ports;            /* TCP, UDP, SCTP with ports seen */
	uint16_t sport, dport;        /* ports, or ICMP type and code */
};

/* ICMP types that come in request/reply pairs (echo, timestamp,
 * information, router, address mask; ICMPv6 echo, router, neighbour,
 * MLD, node information, home agent): 1 with the counterpart type, and
 * whether type is the request; 0 for a message with no reply. */
int pb_icmp_counterpart(uint8_t type, int v6, uint8_t *other, int *is_request);

/* Writes PB_COMMUNITY_ID_LEN characters and a NUL; 0 or -1. */
int pb_community_id(char *out, const struct pb_flow_tuple *t, uint16_t seed);

#endif
