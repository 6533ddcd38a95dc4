/* pb-flows - Packetbeat flow events from packets (pb-flows(1)). */
#include <stdlib.h>
#include <string.h>

#include "cli/tool.h"
#include "decode/decode.h"
#include "event/flow_record.h"
#include "flow/flow.h"
#include "util/log.h"
#include "util/time.h"
#include "util/banned.h"

enum { OPT_MAX_FLOWS = 256, OPT_TIMEOUT, OPT_PERIOD, OPT_NO_REASSEMBLY };

static const struct option flow_opts[] = {
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "period", required_argument, NULL, OPT_PERIOD },
	{ "no-reassembly", no_argument, NULL, OPT_NO_REASSEMBLY },
	{ NULL, 0, NULL, 0 },
};

/* command-line values, which win over the configuration */
static int64_t opt_max_flows = -1, opt_timeout = -1, opt_period;
static int has_period, reassemble = 1;

static int on_opt(struct pb_tool *t, int val, const char *arg)
{
	int64_t v;

	(void)t;
	switch (val) {
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
	case OPT_PERIOD:
		if (pb_parse_duration(arg, &v) < 0 || (v >= 0 && v < 1000000000)) {
			pb_error("--period: '%s' is not -1 or a duration of 1s or more", arg);
			return PB_EUSAGE;
		}
		opt_period = v < 0 ? -1 : v;
		has_period = 1;
		return 0;
	case OPT_NO_REASSEMBLY:
		reassemble = 0;
		return 0;
	}
	return -1;
}

static struct pb_flow_conf fc;

/* The configuration's packetbeat.flows, then the command line over it. */
static int on_conf(struct pb_tool *t)
{
	pb_flow_conf_init(&fc);
	if (pb_flow_conf_load(&fc, &t->conf) < 0) {
		pb_error("%s", t->conf.err);
		return PB_EUSAGE;
	}
	if (opt_max_flows > 0)
		fc.max_flows = (uint32_t)opt_max_flows;
	if (opt_timeout > 0)
		fc.timeout_ns = opt_timeout;
	if (has_period)
		fc.period_ns = opt_period;
	return 0;
}

static const struct pb_tool_desc desc = {
	.name = "pb-flows",
	.summary = "Report network flows as Packetbeat flow events (see pb-flows(1)).",
	.usage = "[options] [-r FILE ... | -i IFACE] [FILE ...]",
	.own_help = "Flows:\n"
		    "      --timeout DUR      end a flow idle this long (default 30s;\n"
		    "                         packetbeat.flows.timeout)\n"
		    "      --period DUR       interim reports at each multiple of DUR\n"
		    "                         (default 10s; -1: final reports only;\n"
		    "                         packetbeat.flows.period)\n"
		    "      --max-flows N      flows held at once; when full, the least\n"
		    "                         recently active ends (default 1048576;\n"
		    "                         packetbeat.flows.max_flows)\n"
		    "      --no-reassembly    do not reassemble IP fragments\n",
	.opts = flow_opts,
	.on_opt = on_opt,
	.on_conf = on_conf,
	.reads_packets = 1,
	.live_idle = 1,
	.runs_processors = 1,
};

struct ctx {
	struct pb_tool *t;
	struct pb_flow_record_opts ro;
};

static void on_report(void *arg, const struct pb_flow *f, int64_t when,
		      enum pb_flow_why why)
{
	struct ctx *c = arg;

	pb_flow_record(&c->t->out, f, when, why, &c->ro);
	pb_tool_record_done(c->t);
}

static void on_packet(void *arg, const struct pb_packet *p, const struct pb_decoded *d)
{
	pb_flow_packet(arg, p, d);
}

static void on_clock(void *arg, int64_t now_ns)
{
	pb_flow_advance(arg, now_ns);
}

static void print_flow_stats(const struct pb_flow_table *ft)
{
	const struct pb_flow_stats *s = &ft->st;

	fprintf(stderr, "  flows: created %llu, peak at once %llu\n",
		(unsigned long long)s->flows, (unsigned long long)s->peak);
	fprintf(stderr, "  reports: interim %llu; final: timed out %llu, evicted %llu, "
		"at end %llu\n",
		(unsigned long long)s->interim, (unsigned long long)s->timed_out,
		(unsigned long long)s->evicted, (unsigned long long)s->ended);
	fprintf(stderr, "  frames counted in flows %llu\n", (unsigned long long)s->counted);
	if (s->frag_held)
		fprintf(stderr, "    fragments counted with their datagram %llu\n",
			(unsigned long long)s->frag_held);
	fprintf(stderr, "  not in a flow: undecodable %llu, not IP and no MAC %llu\n",
		(unsigned long long)s->undecodable, (unsigned long long)s->not_ip);
	if (s->late)
		fprintf(stderr, "  packets older than the clock (out of order) %llu\n",
			(unsigned long long)s->late);
	if (s->alloc_failed)
		fprintf(stderr, "  table growth failed %llu times\n",
			(unsigned long long)s->alloc_failed);
}

int main(int argc, char **argv)
{
	struct pb_flow_table ft;
	struct pb_decoder dec;
	struct pb_tool t;
	struct ctx c;
	int rc;

	rc = pb_tool_init(&t, &desc, argc, argv);
	if (rc == PB_TOOL_DONE || rc) {
		pb_tool_release(&t);
		return rc == PB_TOOL_DONE ? PB_EXIT_OK : rc;
	}
	if (!fc.enabled) {
		pb_warn("flows are disabled (packetbeat.flows.enabled: false): "
			"nothing to report");
		return pb_tool_finish(&t, 0);
	}
	if ((rc = pb_tool_open_input(&t)) != 0) {
		pb_tool_finish(&t, 0);
		return rc;
	}
	memset(&c, 0, sizeof(c));
	c.t = &t;
	if (pb_flow_table_init(&ft, &fc, on_report, &c) < 0 ||
	    pb_decoder_init(&dec, reassemble, NULL) < 0) {
		pb_error("out of memory");
		pb_flow_table_release(&ft);
		pb_tool_finish(&t, 0);
		return PB_EXIT_DATA;
	}
	pb_tool_packet_loop(&t, &dec, on_packet, on_clock, &ft);
	pb_flow_finish(&ft);
	pb_decoder_finish(&dec);
	pb_tool_flush(&t, 1);
	if (t.stats) {
		pb_tool_print_capture_stats(&t);
		pb_tool_print_decode_stats(&dec);
		print_flow_stats(&ft);
	}
	pb_flow_table_release(&ft);
	pb_decoder_release(&dec);
	return pb_tool_finish(&t, 0);
}
