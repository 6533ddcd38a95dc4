/*
 * engine.h - pb-txn's engine: from decoded packets to transaction events.
 *
 *   packet -> flow table (one entry per conversation; its user pointer
 *             holds the conversation's connection when a protocol follows
 *             it) -> protocol chosen by port (TCP, UDP) or by being ICMP
 *          -> TCP reassembly (tcp/tcp.h) or the datagram as it is
 *          -> the protocol's parser (proto/proto.h) -> pb_txn_emit()
 *          -> the event (event/txn_record.h) in the output buffer.
 *
 * The flow table's timeouts end connections: when a flow ends (idle past
 * packetbeat.flows.timeout, evicted, or at the end of the input) its
 * connection's held bytes are delivered after a gap, the parser's close()
 * emits what is pending, and the connection is freed.  With flows on,
 * the flow events are written to the same output.
 *
 * Ownership: the engine owns its connections, their reassembly buffers
 * and parser states; everything it allocates is bounded by the flow
 * table's max_flows and, per connection, by max_message_size and max_ooo.
 */
#ifndef PB_TXN_ENGINE_H
#define PB_TXN_ENGINE_H

#include <stdint.h>

#include "conf/conf.h"
#include "event/flow_record.h"
#include "event/txn_record.h"
#include "flow/flow.h"
#include "proto/proto.h"
#include "tcp/tcp.h"
#include "util/buf.h"

#define PB_TXN_MAX_PROTOS 32
/* the least a TCP direction may keep for its parser: a TLS record with its
 * header (2^14 + 2048 + 5) and an HTTP head (64 KiB) must fit */
#define PB_TXN_MIN_BUFFER (80u << 10)
/* out-of-order TCP bytes held per direction, waiting for a hole to fill */
#define PB_TXN_DEF_MAX_OOO (1u << 20)

struct pb_txn_conf {
	uint8_t configured;          /* packetbeat.protocols was given: only
				      * the protocols it lists are on */
	struct pb_proto_common common[PB_TXN_MAX_PROTOS];
	void *pconf[PB_TXN_MAX_PROTOS];     /* each protocol's own options */
	uint8_t tcp_port[65536];     /* protocol index + 1, or 0 */
	uint8_t udp_port[65536];
	int icmp;                    /* protocol index + 1 of ICMP, or 0 */
	uint64_t max_ooo;
};

/* Defaults: every protocol on, with its default ports. */
int pb_txn_conf_init(struct pb_txn_conf *tc);
/* packetbeat.protocols (a list of maps with `type`, or a map by name):
 * 0, or -1 with the error in c->err.  Warnings (a protocol pbtools does
 * not know, an unknown key) go to standard error.  Then
 * pb_txn_conf_map(). */
int pb_txn_conf_load(struct pb_txn_conf *tc, struct pb_conf *c);
/* The port maps from the protocols' ports and enabled flags (again after
 * changing them); 0, or -1 with the error in c->err (a port in two
 * protocols of one transport). */
int pb_txn_conf_map(struct pb_txn_conf *tc, struct pb_conf *c);
void pb_txn_conf_release(struct pb_txn_conf *tc);

struct pb_txn_stats {
	uint64_t packets;            /* offered */
	uint64_t followed;           /* given to a protocol */
	uint64_t conns;              /* connections followed */
	uint64_t events;             /* transaction events written */
	uint64_t flow_events;        /* flow events written (--flows) */
	uint64_t alloc_failed;       /* connections not followed: no memory */
};

struct pb_txn_engine {
	const struct pb_txn_conf *conf;
	struct pb_flow_table ft;
	int flows_out;               /* write flow events too */
	size_t segment_bytes;        /* > 0: TCP payloads handed to reassembly
				      * in pieces of this many bytes */
	struct pb_buf *out;
	void (*done)(void *ctx);     /* after each event written */
	void *ctx;
	struct pb_txn_record_opts ro;
	struct pb_flow_record_opts fro;
	struct pb_txn_sink sink;
	struct pb_txn_conn *conns;   /* every open connection */
	int64_t clock;               /* capture time, never backwards */
	int64_t next_expire;         /* next expire() round */
	struct pb_txn_stats st;
	struct pb_proto_stats pst[PB_TXN_MAX_PROTOS];
	struct pb_tcp_stats tcp_st;
};

int pb_txn_engine_init(struct pb_txn_engine *e, const struct pb_txn_conf *tc,
		       const struct pb_flow_conf *fc, int flows_out,
		       struct pb_buf *out, void (*done)(void *ctx), void *ctx);
void pb_txn_engine_release(struct pb_txn_engine *e);

void pb_txn_packet(struct pb_txn_engine *e, const struct pb_packet *p,
		   const struct pb_decoded *d);
/* Time passes without packets (live capture). */
void pb_txn_advance(struct pb_txn_engine *e, int64_t now_ns);
/* The end of the input: every connection closes. */
void pb_txn_finish(struct pb_txn_engine *e);

#endif
