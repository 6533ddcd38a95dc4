/* pb-txn - Packetbeat transaction events from packets (pb-txn(1)). */
#include <stdlib.h>
#include <string.h>

#include "cli/tool.h"
#include "decode/decode.h"
#include "txn/engine.h"
#include "util/log.h"
#include "util/banned.h"

enum { OPT_FLOWS = 256, OPT_PROTOCOLS, OPT_MAX_FLOWS, OPT_TIMEOUT, OPT_NO_REASSEMBLY,
       OPT_SEGMENT_BYTES };

static const struct option txn_opts[] = {
	{ "flows", no_argument, NULL, OPT_FLOWS },
	{ "protocols", required_argument, NULL, OPT_PROTOCOLS },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "no-reassembly", no_argument, NULL, OPT_NO_REASSEMBLY },
	{ "segment-bytes", required_argument, NULL, OPT_SEGMENT_BYTES },
	{ NULL, 0, NULL, 0 },
};

static int opt_flows, reassemble = 1;
static const char *opt_protocols;
static int64_t opt_max_flows = -1, opt_timeout = -1, opt_segment_bytes;

static int on_opt(struct pb_tool *t, int val, const char *arg)
{
	int64_t v;

	(void)t;
	switch (val) {
	case OPT_FLOWS:
		opt_flows = 1;
		return 0;
	case OPT_PROTOCOLS:
		opt_protocols = arg;
		return 0;
	case OPT_MAX_FLOWS:
		if (pb_parse_int(arg, &v) < 0 || v < 1 || v > PB_FLOW_MAX_MAX) {
			pb_error("--max-flows: '%s' is not a number from 1 to %u",
				 arg, PB_FLOW_MAX_MAX);
			return PB_EUSAGE;
		}
		opt_max_flows = v;
		return 0;
	case OPT_TIMEOUT:
		if (pb_parse_duration(arg, &v) < 0 || v < 1000000000) {
			pb_error("--timeout: '%s' is not a duration of 1s or more", arg);
			return PB_EUSAGE;
		}
		opt_timeout = v;
		return 0;
	case OPT_NO_REASSEMBLY:
		reassemble = 0;
		return 0;
	case OPT_SEGMENT_BYTES:
		if (pb_parse_int(arg, &v) < 0 || v < 1 || v > 65535) {
			pb_error("--segment-bytes: '%s' is not a number from 1 to 65535", arg);
			return PB_EUSAGE;
		}
		opt_segment_bytes = v;
		return 0;
	}
	return -1;
}

static struct pb_flow_conf fc;
static struct pb_txn_conf tc;

/* --protocols a,b: only these, whatever the configuration enables */
static int restrict_protocols(const char *list)
{
	uint8_t keep[PB_TXN_MAX_PROTOS] = { 0 };
	const char *s = list;
	unsigned i;

	while (*s) {
		size_t n = strcspn(s, ",");
		int found = 0;

		for (i = 0; i < pb_n_protos; i++)
			if (strlen(pb_protos[i]->name) == n &&
			    memcmp(pb_protos[i]->name, s, n) == 0) {
				keep[i] = 1;
				found = 1;
			}
		if (!found) {
			pb_error("--protocols: '%.*s' is not a protocol pb-txn decodes",
				 (int)n, s);
			return PB_EUSAGE;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	for (i = 0; i < pb_n_protos; i++)
		if (!keep[i])
			tc.common[i].enabled = 0;
	return 0;
}

/* packetbeat.flows and packetbeat.protocols, then the command line. */
static int on_conf(struct pb_tool *t)
{
	pb_flow_conf_init(&fc);
	if (pb_txn_conf_init(&tc) < 0) {
		pb_error("out of memory");
		return PB_EXIT_DATA;
	}
	if (pb_flow_conf_load(&fc, &t->conf) < 0 || pb_txn_conf_load(&tc, &t->conf) < 0) {
		pb_error("%s", t->conf.err);
		return PB_EUSAGE;
	}
	if (opt_max_flows > 0)
		fc.max_flows = (uint32_t)opt_max_flows;
	if (opt_timeout > 0)
		fc.timeout_ns = opt_timeout;
	if (opt_protocols) {
		int rc = restrict_protocols(opt_protocols);

		if (rc)
			return rc;
	}
	if (pb_txn_conf_map(&tc, &t->conf) < 0) {
		pb_error("%s", t->conf.err);
		return PB_EUSAGE;
	}
	if (opt_flows && !fc.enabled)
		pb_warn("--flows: flows are disabled (packetbeat.flows.enabled: false): "
			"no flow events");
	return 0;
}

static const struct pb_tool_desc desc = {
	.name = "pb-txn",
	.summary = "Report application transactions as Packetbeat events (see pb-txn(1)).",
	.usage = "[options] [-r FILE ... | -i IFACE] [FILE ...]",
	.own_help = "Transactions:\n"
		    "      --protocols LIST   decode only these protocols (comma-separated:\n"
		    "                         http,dns,tls,icmp); default: those the\n"
		    "                         configuration lists, or all\n"
		    "      --flows            write flow events too (as pb-flows)\n"
		    "      --timeout DUR      end a connection idle this long, emitting\n"
		    "                         what is pending (default 30s;\n"
		    "                         packetbeat.flows.timeout)\n"
		    "      --max-flows N      connections held at once; when full, the\n"
		    "                         least recently active ends (default 1048576)\n"
		    "      --no-reassembly    do not reassemble IP fragments\n"
		    "      --segment-bytes N  hand TCP data to the parsers N bytes at a\n"
		    "                         time (a test: the events must not change)\n",
	.opts = txn_opts,
	.on_opt = on_opt,
	.on_conf = on_conf,
	.reads_packets = 1,
	.live_idle = 1,
	.runs_processors = 1,
};

static void on_done(void *ctx)
{
	pb_tool_record_done(ctx);
}

static void on_packet(void *arg, const struct pb_packet *p, const struct pb_decoded *d)
{
	pb_txn_packet(arg, p, d);
}

static void on_clock(void *arg, int64_t now_ns)
{
	pb_txn_advance(arg, now_ns);
}

static void print_txn_stats(const struct pb_txn_engine *e)
{
	const struct pb_tcp_stats *ts = &e->tcp_st;
	unsigned i;
	int width = 0;

	fprintf(stderr, "  conversations followed %llu; packets given to a protocol %llu\n",
		(unsigned long long)e->st.conns, (unsigned long long)e->st.followed);
	for (i = 0; i < pb_n_protos; i++)
		if ((int)strlen(pb_protos[i]->name) > width)
			width = (int)strlen(pb_protos[i]->name);
	for (i = 0; i < pb_n_protos; i++) {
		const struct pb_proto_stats *s = &e->pst[i];

		if (!e->conf->common[i].enabled && !s->conns)
			continue;
		fprintf(stderr, "  %-*s conversations %llu, transactions %llu, messages %llu, "
			"unmatched requests %llu, unmatched responses %llu, "
			"unreadable %llu, gaps %llu (%llu bytes)\n", width, pb_protos[i]->name,
			(unsigned long long)s->conns,
			(unsigned long long)s->transactions,
			(unsigned long long)s->messages,
			(unsigned long long)s->unmatched_requests,
			(unsigned long long)s->unmatched_responses,
			(unsigned long long)s->parse_errors,
			(unsigned long long)s->gaps, (unsigned long long)s->gap_bytes);
	}
	fprintf(stderr, "  tcp: segments with data %llu, retransmitted %llu, overlapping %llu, "
		"out of order %llu, gaps %llu (%llu bytes), unusable bytes dropped %llu\n",
		(unsigned long long)ts->segments, (unsigned long long)ts->retransmitted,
		(unsigned long long)ts->overlaps, (unsigned long long)ts->out_of_order,
		(unsigned long long)ts->gaps, (unsigned long long)ts->gap_bytes,
		(unsigned long long)ts->dropped_bytes);
	fprintf(stderr, "  events: transactions %llu, flows %llu\n",
		(unsigned long long)e->st.events, (unsigned long long)e->st.flow_events);
	if (e->st.alloc_failed)
		fprintf(stderr, "  conversations not followed for lack of memory %llu\n",
			(unsigned long long)e->st.alloc_failed);
}

int main(int argc, char **argv)
{
	struct pb_txn_engine e;
	struct pb_decoder dec;
	struct pb_tool t;
	int rc;

	rc = pb_tool_init(&t, &desc, argc, argv);
	if (rc == PB_TOOL_DONE || rc) {
		pb_txn_conf_release(&tc);
		pb_tool_release(&t);
		return rc == PB_TOOL_DONE ? PB_EXIT_OK : rc;
	}
	if ((rc = pb_tool_open_input(&t)) != 0) {
		pb_txn_conf_release(&tc);
		pb_tool_finish(&t, 0);
		return rc;
	}
	if (pb_txn_engine_init(&e, &tc, &fc, opt_flows && fc.enabled, &t.out,
			       on_done, &t) < 0 ||
	    pb_decoder_init(&dec, reassemble, NULL) < 0) {
		pb_error("out of memory");
		pb_txn_engine_release(&e);
		pb_txn_conf_release(&tc);
		pb_tool_finish(&t, 0);
		return PB_EXIT_DATA;
	}
	e.segment_bytes = (size_t)opt_segment_bytes;
	pb_tool_packet_loop(&t, &dec, on_packet, on_clock, &e);
	pb_txn_finish(&e);
	pb_decoder_finish(&dec);
	pb_tool_flush(&t, 1);
	if (t.stats) {
		pb_tool_print_capture_stats(&t);
		pb_tool_print_decode_stats(&dec);
		print_txn_stats(&e);
	}
	pb_txn_engine_release(&e);
	pb_decoder_release(&dec);
	pb_txn_conf_release(&tc);
	return pb_tool_finish(&t, 0);
}
