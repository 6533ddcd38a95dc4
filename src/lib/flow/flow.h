/*
 * flow.h - the flow table: bidirectional conversations, their counters,
 * and when they are reported (pb-flows(1), flow events in pb-ndjson(5)).
 *
 * A flow is keyed by
 *   - the VLAN ids (outer and inner), and the MAC addresses only when the
 *     configuration asks for it (allow_mismatched_eth: false);
 *   - for IP: the innermost addresses, the protocol, and
 *       TCP, UDP, SCTP, UDP-Lite: the ports;
 *       ICMP, ICMPv6: the message pair (echo request and reply are one
 *       flow, told apart by identifier) or, for a message with no reply
 *       (unreachable, time exceeded, ...), its type and code;
 *       anything else: nothing more;
 *   - for ARP: the sender's and target's IPv4 addresses, so a request
 *     and its reply are one flow;
 *   - for other Ethernet frames (LLDP, LACP, ...): the MAC addresses and
 *     the ethertype.
 * The two ends are stored in a canonical order (the smaller address and
 * port first), so both directions find the same flow; counters are kept
 * per end and which end is the source is decided by the best evidence
 * seen so far (struct pb_flow.evidence), so it can still change.
 *
 * Time is whatever the caller says: capture time in file mode, the wall
 * clock live.  The clock only moves forward: a packet older than the
 * clock counts in its flow (event.start/end cover it) but does not move
 * time back.  Before a packet at time T is counted, everything due by T is
 * reported, in time order:
 *   - a flow idle for more than the timeout ends (final report, at the
 *     instant the timeout ran out: last activity + timeout).  A packet
 *     exactly timeout after the last one still belongs to the flow;
 *   - at every multiple of the period (capture time, counted from the
 *     epoch), each flow active since the previous multiple gets an
 *     interim report.
 * When the table is full, the least recently active flow ends (final,
 * "evicted") to make room.  pb_flow_finish() ends every flow left.
 *
 * Memory: one struct pb_flow (192 bytes) and two hash-table words per
 * flow, allocated as the table grows, up to max_flows.
 */
#ifndef PB_FLOW_H
#define PB_FLOW_H

#include <stdint.h>

#include "capture/capture.h"
#include "conf/conf.h"
#include "decode/decode.h"

#define PB_FLOW_DEF_TIMEOUT_NS (30 * INT64_C(1000000000))
#define PB_FLOW_DEF_PERIOD_NS (10 * INT64_C(1000000000))
#define PB_FLOW_DEF_MAX (1u << 20)
#define PB_FLOW_MAX_MAX (1u << 28)    /* largest max_flows accepted */

struct pb_flow_conf {
	int enabled;
	int64_t timeout_ns;      /* >= 1 s */
	int64_t period_ns;       /* >= 1 s, or <= 0: final reports only */
	uint32_t max_flows;
	uint8_t key_macs;        /* MAC addresses are part of the key */
	uint8_t delta;           /* counters restart after each report */
};

void pb_flow_conf_init(struct pb_flow_conf *fc);
/* Read packetbeat.flows.* over the defaults.  0 or PB_EUSAGE with the
 * reason in c->err. */
int pb_flow_conf_load(struct pb_flow_conf *fc, struct pb_conf *c);

/* Key kinds (struct pb_flow_key.kind) */
enum {
	PB_FK_IP = 1,        /* addresses and protocol */
	PB_FK_PORTS = 2,     /* ... and ports */
	PB_FK_ICMP = 3,      /* ... and an ICMP message class in aux */
	PB_FK_ETHER = 4,     /* non-IP: MAC addresses, ethertype in aux */
};

/* 64 bytes, compared and hashed whole: every byte is set. */
struct pb_flow_key {
	uint8_t addr[2][16];     /* IPv4 in the first 4; for PB_FK_ETHER the
				  * ARP IPv4 addresses (family 4) or MACs */
	uint8_t mac[2][6];       /* only when keyed by MAC */
	uint16_t port[2];
	uint16_t vlan[2];
	uint32_t aux;            /* ICMP class and id, or the ethertype */
	uint8_t kind;            /* PB_FK_* */
	uint8_t family;          /* 4, 6; 0 for PB_FK_ETHER by MAC */
	uint8_t proto;           /* IP protocol */
	uint8_t n_vlan;          /* 0, 1 or 2 */
	uint8_t pad[4];
};

/* How sure the choice of source is (struct pb_flow.evidence). */
enum {
	PB_FLOW_EV_FIRST = 0,    /* sent the first packet seen */
	PB_FLOW_EV_PORT,         /* TCP without SYN: the client of a port
				  * below 1024 when the other is not */
	PB_FLOW_EV_ANSWER,       /* received a SYN-ACK or an ICMP reply */
	PB_FLOW_EV_OPEN,         /* sent a SYN or an ICMP request */
};

/* Why a report is made. */
enum pb_flow_why {
	PB_FLOW_INTERIM = 0,     /* the period ended; the flow goes on */
	PB_FLOW_TIMEOUT,         /* idle past the timeout */
	PB_FLOW_EVICTED,         /* the table was full */
	PB_FLOW_END,             /* end of input */
};
const char *pb_flow_why_name(enum pb_flow_why w); /* "timeout", ... */

struct pb_flow {
	struct pb_flow_key key;
	uint32_t hash, hnext;    /* hash chain (index), or the free list */
	uint32_t older, newer;   /* activity list (index) */
	int64_t create_ns;       /* time of the first packet seen */
	int64_t first_ns, last_ns; /* earliest and latest packet times */
	int64_t touch_ns;        /* the clock at the last packet */
	uint64_t packets[2], bytes[2]; /* per end of the key */
	uint64_t first_pkt, last_pkt;  /* packet.index of first and last */
	uint8_t mac[2][6];       /* per end, from its first packet with one */
	uint16_t tcp_flags[2];   /* per end: every flag seen */
	uint8_t src;             /* the end that is the source (0 or 1) */
	uint8_t evidence;        /* PB_FLOW_EV_* */
	uint8_t has_mac;         /* bits 0-1: mac[end] is set; bits 2-3: it is
				  * the end's own, seen as a sender */
	uint8_t prec;            /* timestamp digits of the first packet */
	uint8_t icmp_type, icmp_code; /* first ICMP message ... */
	uint8_t icmp_end;        /* ... and the end that sent it */
	uint8_t sender;          /* the end that sent the latest packet */
	void *user;              /* for the caller (pb-txn's streams) */
};

struct pb_flow_stats {
	uint64_t packets;        /* offered */
	uint64_t counted;        /* counted in a flow (frames) */
	uint64_t frag_held;      /* fragments held, counted with their datagram */
	uint64_t not_ip;         /* no IP, and no Ethernet addresses to key by */
	uint64_t undecodable;    /* IP, but the transport could not be read */
	uint64_t late;           /* timestamp before the clock (out of order) */
	uint64_t flows;          /* flows created */
	uint64_t timed_out, evicted, ended;  /* final reports, by why */
	uint64_t interim;        /* interim reports */
	uint64_t active, peak;   /* flows in the table now, and at most */
	uint64_t alloc_failed;   /* growth failed: handled as a full table */
};

/* Called for each report.  final: the flow is removed after the call. */
typedef void (*pb_flow_report_fn)(void *ctx, const struct pb_flow *f,
				  int64_t when_ns, enum pb_flow_why why);

struct pb_flow_table {
	struct pb_flow_conf conf;
	struct pb_flow_stats st;
	pb_flow_report_fn report;
	void *ctx;
	struct pb_flow *flows;   /* cap entries */
	uint32_t cap, used;      /* allocated, ever handed out */
	uint32_t free_head;
	uint32_t *bucket;        /* heads of hash chains */
	uint32_t mask;           /* buckets - 1 */
	uint32_t oldest, newest; /* the activity list */
	int64_t clock;           /* INT64_MIN until the first packet */
	int64_t next_period;     /* the next period boundary */
	uint8_t started;
	uint32_t last_hit;       /* the flow of the latest packet, or NIL */
};

int pb_flow_table_init(struct pb_flow_table *t, const struct pb_flow_conf *fc,
		       pb_flow_report_fn report, void *ctx);
void pb_flow_table_release(struct pb_flow_table *t);

/* Move the clock to now_ns, making the reports due by then. */
void pb_flow_advance(struct pb_flow_table *t, int64_t now_ns);

/* Count one decoded packet (pb_decoder_run's output).  Returns its flow,
 * or NULL when it is not counted in one (see the stats). */
struct pb_flow *pb_flow_packet(struct pb_flow_table *t, const struct pb_packet *p,
			       const struct pb_decoded *d);

/* End of input: a final report for every flow left, at the clock. */
void pb_flow_finish(struct pb_flow_table *t);

/* Derived values for reports. */
/* flow.id: 22 characters of base64url and a NUL. */
#define PB_FLOW_ID_LEN 22
void pb_flow_id(char *out, const struct pb_flow *f);
/* Community ID v1 of the flow; 0 or -1 (not an IP flow). */
int pb_flow_community_id(char *out, const struct pb_flow *f, uint16_t seed);

#endif
