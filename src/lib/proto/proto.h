/*
 * proto.h - the protocol parser interface: parsers, the connections they
 * see, and the transactions they hand back.
 *
 * pb-txn's stages after decoding: the flow table (flow/flow.h) finds the
 * conversation of every packet; the engine picks the protocol of a new
 * TCP or UDP conversation by its configured ports (ICMP and ICMPv6 go to
 * the "icmp" parser), reassembles TCP (tcp/tcp.h) and calls the parser
 * with the bytes of each direction in order; the parser pairs requests
 * with responses and hands each transaction to pb_txn_emit(), which
 * writes the event.
 *
 * A parser is a struct pb_proto in proto/<name>.c, listed in the registry
 * (proto/proto.c).  It never sees a packet: only
 *
 *   TCP   parse()    the unconsumed bytes of one direction, in sequence
 *                    order, from the first byte it has not consumed; it
 *                    returns how many it consumed (0: needs more).  What
 *                    it leaves is given again, with more after it, on the
 *                    next call.  The engine buffers at most
 *                    max_message_size bytes per direction; when a parser
 *                    consumes nothing of a full buffer, the engine drops
 *                    the buffer and calls gap() for its length.
 *         gap()      bytes of a direction that were never captured; any
 *                    bytes given to parse() and not consumed were dropped
 *                    first (and are counted in n).  The parser emits or
 *                    marks what was in flight and resynchronises.
 *         fin()      the direction ended (FIN, or RST for both).
 *   UDP   datagram() one datagram's payload, as captured (c->wire_len
 *                    says how long it was on the wire).
 *   ICMP  datagram() the ICMP message (type, code, checksum, rest).
 *   all   expire()   called with the capture clock at least once a second
 *                    of capture time: emit the transactions older than the
 *                    protocol's transaction_timeout.
 *         close()    the conversation ended (idle past the flow timeout,
 *                    evicted, or end of input): emit everything pending
 *                    and free what the state points to (not the state).
 *
 * Direction: dir 0 is the data sent by endpoint 0 of the connection (the
 * sender of the first packet seen), dir 1 by endpoint 1.  A parser says
 * which endpoint was the client of each transaction (pb_txn.client).
 *
 * Adding a protocol:
 *   1. src/lib/proto/<name>.c defining `const struct pb_proto
 *      pb_proto_<name>` (and added to LIB_SOURCES in Makefile.am);
 *   2. one line in the registry, proto/proto.c;
 *   3. man/man7/pb-proto-<name>.7, the teaching page;
 *   4. golden cases in tests/golden/TESTLIST on samples from real servers
 *      (tools/make-samples), and tests/unit/check_<name>.c.
 *
 * Ownership: the bytes given to parse() and datagram() are borrowed for the
 * call; what a parser keeps it copies into its state, with a cap.
 *
 * Times: c->now_ns and c->now_pkt are the time and packet.index of the
 * packet being handled.  For TCP, pb_txn_byte_time() gives the time and
 * packet of any byte passed to parse(), so a message's start is the time
 * of its first byte even when it arrived in several segments.
 */
#ifndef PB_PROTO_H
#define PB_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "util/json.h"

#define PB_TXN_MAX_PORTS 64
#define PB_TXN_MAX_NOTES 4
#define PB_TXN_MAX_HOSTS 4
#define PB_TXN_MAX_RELATED 16
#define PB_TXN_DEF_TIMEOUT_NS (10 * INT64_C(1000000000))
#define PB_TXN_DEF_MAX_MESSAGE (10u << 20)

enum {
	PB_TP_TCP = 1,
	PB_TP_UDP = 2,
	PB_TP_ICMP = 4,      /* ICMP and ICMPv6, from the IP layer */
};

/* The options every protocol has (packetbeat.protocols entry). */
struct pb_proto_common {
	int enabled;
	uint16_t ports[PB_TXN_MAX_PORTS];
	unsigned n_ports;
	int send_request, send_response;
	int64_t timeout_ns;          /* transaction_timeout */
	uint64_t max_message_size;   /* TCP bytes buffered per direction */
};

struct pb_txn_conn;

/* A transaction (or a lone request or response) as a parser hands it to
 * pb_txn_emit().  Strings are NUL-terminated and only need to live until
 * pb_txn_emit() returns; NULL means absent. */
struct pb_txn {
	uint8_t client;              /* endpoint (0 or 1) that asked */
	uint8_t has_request, has_response;
	uint8_t single;              /* a message that has no answer by its
				      * nature (an ICMP error, a SIP or DHCP
				      * message): counted as a message, not
				      * as an unmatched request */
	uint8_t no_bytes;            /* no client/server/network bytes (TLS) */
	uint8_t event_type_connection_only; /* event.type ["connection"] (ICMP) */
	uint8_t has_icmp;            /* ICMP: the request's (or the lone
				      * message's) type and code, for the
				      * Community ID */
	uint8_t icmp_type, icmp_code;
	int64_t start_ns;            /* first byte of the request (or of the
				      * response when there is no request) */
	int64_t end_ns;              /* last byte of the response (or of the
				      * request when there is no response) */
	uint64_t first_pkt, last_pkt;/* packet.index of those bytes */
	uint64_t request_bytes;      /* client.bytes */
	uint64_t response_bytes;     /* server.bytes */
	const char *status;          /* "OK", "Error", ... */
	const char *method, *query, *resource, *path; /* summary fields */
	const char *server_domain;   /* destination.domain / server.domain */
	const char *forwarded_ip;    /* network.forwarded_ip */
	const char *hosts[PB_TXN_MAX_HOSTS];  /* related.hosts */
	unsigned n_hosts;
	const char *notes[PB_TXN_MAX_NOTES];  /* error.message */
	unsigned n_notes;
	/* raw text, written as "request" / "response" when the protocol's
	 * send_request / send_response is on (the engine checks) */
	const uint8_t *request;
	size_t request_len;
	const uint8_t *response;
	size_t response_len;
	/* The protocol's own fields, written into the event object after
	 * the common ones (e.g. "http":{...},"url":{...}). */
	void (*write)(struct pb_json *j, const struct pb_txn *t, void *arg);
	void *arg;
	/* more addresses for related.ip (DNS answers, a forwarded client),
	 * 4 or 16 bytes each (pb_txn_related_ip adds them) */
	uint8_t related[PB_TXN_MAX_RELATED][16];
	uint8_t related_len[PB_TXN_MAX_RELATED];
	unsigned n_related;
	/* event.action ("redis.set") and event.outcome ("success",
	 * "failure", "unknown"), where Packetbeat writes them; NULL: absent */
	const char *action, *outcome;
};

/* Add a note (error.message); notes past PB_TXN_MAX_NOTES are dropped. */
void pb_txn_note(struct pb_txn *t, const char *note);
void pb_txn_host(struct pb_txn *t, const char *host);
/* Add an address (len 4 or 16) to related.ip; past PB_TXN_MAX_RELATED
 * they are dropped. */
void pb_txn_related_ip(struct pb_txn *t, const uint8_t *addr, int len);

struct pb_proto {
	const char *name;            /* "http": type, network.protocol,
				      * event.dataset, and its config type */
	uint8_t transports;          /* PB_TP_* */
	const uint16_t *ports;       /* default ports */
	unsigned n_ports;
	/* the options beyond the common ones: a zeroed block of conf_size
	 * bytes, given defaults by conf_init and read by conf_load from
	 * the entry at `prefix` ("packetbeat.protocols.2"); conf_load
	 * returns 0, or -1 with the error in c->err (pb_conf_* set it).
	 * Either may be NULL. */
	size_t conf_size;
	void (*conf_init)(void *conf);
	int (*conf_load)(void *conf, struct pb_conf *c, const char *prefix);
	/* per-conversation state: a zeroed block of state_size bytes at
	 * c->state before the first call */
	size_t state_size;
	size_t (*parse)(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len);
	void (*gap)(struct pb_txn_conn *c, int dir, uint64_t n);
	void (*fin)(struct pb_txn_conn *c, int dir);
	void (*datagram)(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len);
	void (*expire)(struct pb_txn_conn *c, int64_t now_ns);
	void (*close)(struct pb_txn_conn *c);
	const char *const *keys;     /* its own option names, NULL-terminated
				      * (others are warned about); may be NULL */
};

/* Per-protocol counters, shown by --stats. */
struct pb_proto_stats {
	uint64_t transactions;       /* emitted with request and response */
	uint64_t unmatched_requests; /* emitted without a response */
	uint64_t unmatched_responses;/* emitted without a request */
	uint64_t messages;           /* emitted alone by nature (single) */
	uint64_t gaps;               /* gap() calls */
	uint64_t gap_bytes;
	uint64_t parse_errors;       /* messages the parser could not read */
	uint64_t conns;              /* conversations given to it */
};

/* Where a connection's transactions go: the engine's writer, or a test's. */
struct pb_txn_sink {
	void (*emit)(void *arg, struct pb_txn_conn *c, const struct pb_txn *t);
	void *arg;
};

/* One conversation as its parser sees it. */
struct pb_txn_conn {
	const struct pb_proto *proto;
	const struct pb_proto_common *common;
	const void *conf;            /* the protocol's own options */
	struct pb_proto_stats *st;   /* the protocol's counters */
	void *state;                 /* the parser's, state_size bytes */
	uint8_t transport;           /* 6, 17, 1 or 58 */
	uint8_t family;              /* 4 or 6 */
	uint8_t addr[2][16];         /* endpoint addresses (4 or 16 bytes) */
	uint16_t port[2];            /* 0 for ICMP */
	uint8_t mid_stream[2];       /* TCP: the direction's start was not
				      * captured (no SYN seen) */
	uint8_t prec;                /* timestamp digits (6 or 9) */
	int64_t now_ns;              /* the packet being handled */
	uint64_t now_pkt;
	const struct pb_txn_sink *sink;
	/* for the engine */
	void *eng;
	void *tcp;                   /* TCP reassembly state */
	struct pb_txn_conn *prev, *next;
	/* UDP, ICMP: the datagram's length on the wire, when datagram()
	 * runs; more than the len it was given when a snapshot length (or a
	 * fragment left unreassembled) cut it */
	uint32_t wire_len;
};

/* Hand t to the connection's sink (the engine writes its event, with the
 * common fields from the connection; see event/txn_record.h). */
void pb_txn_emit(struct pb_txn_conn *c, const struct pb_txn *t);

/* TCP: the time and packet.index of the byte at offset off of the data
 * last passed to parse() for dir (c->now_ns / now_pkt when the engine
 * keeps no reassembly state, as in unit tests). */
void pb_txn_byte_time(const struct pb_txn_conn *c, int dir, size_t off,
		      int64_t *ns, uint64_t *pkt);

/* The registry: every protocol pbtools knows, in a fixed order. */
extern const struct pb_proto *const pb_protos[];
extern const unsigned pb_n_protos;
const struct pb_proto *pb_proto_find(const char *name);
/* The defaults of the common options: enabled, the protocol's ports, 10 s,
 * 10 MiB. */
void pb_proto_common_init(struct pb_proto_common *pc, const struct pb_proto *p);

#endif
