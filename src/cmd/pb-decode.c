/* pb-decode - one NDJSON packet record per captured packet (pb-decode(1)). */
#include <stdlib.h>
#include <string.h>

#include "cli/tool.h"
#include "decode/decode.h"
#include "event/packet_record.h"
#include "util/log.h"
#include "util/banned.h"

enum { OPT_NO_DATA = 256, OPT_NO_REASSEMBLY };

static const struct option decode_opts[] = {
	{ "no-data", no_argument, NULL, OPT_NO_DATA },
	{ "no-reassembly", no_argument, NULL, OPT_NO_REASSEMBLY },
	{ NULL, 0, NULL, 0 },
};

static struct pb_record_opts ropts = { 1, 0 };
static int reassemble = 1;

static int on_opt(struct pb_tool *t, int val, const char *arg)
{
	(void)t;
	(void)arg;
	switch (val) {
	case OPT_NO_DATA:
		ropts.with_data = 0;
		return 0;
	case OPT_NO_REASSEMBLY:
		reassemble = 0;
		return 0;
	}
	return -1;
}

static const struct pb_tool_desc desc = {
	.name = "pb-decode",
	.summary = "Decode packets into NDJSON packet records (see pb-decode(1)).",
	.usage = "[options] [-r FILE ... | -i IFACE] [FILE ...]",
	.own_help = "Output:\n"
		    "      --no-data          leave out packet.data (the frame in base64);\n"
		    "                         such records cannot be decoded again\n"
		    "      --no-reassembly    do not reassemble IP fragments\n",
	.opts = decode_opts,
	.on_opt = on_opt,
	.reads_packets = 1,
};

static void print_decode_stats(const struct pb_decoder *dec)
{
	const struct pb_decode_stats *st = &dec->st;
	int a;

	fprintf(stderr, "  decoded: ipv4 %llu, ipv6 %llu, arp %llu, other %llu\n",
		(unsigned long long)st->ipv4, (unsigned long long)st->ipv6,
		(unsigned long long)st->arp, (unsigned long long)st->other_net);
	fprintf(stderr, "           tcp %llu, udp %llu, icmp %llu, icmpv6 %llu, "
		"other %llu, fragments %llu\n",
		(unsigned long long)st->tcp, (unsigned long long)st->udp,
		(unsigned long long)st->icmp, (unsigned long long)st->icmp6,
		(unsigned long long)st->other_transport,
		(unsigned long long)st->fragments);
	if (st->tunnelled)
		fprintf(stderr, "  tunnel layers      %llu\n", (unsigned long long)st->tunnelled);
	if (dec->reassemble && st->fragments) {
		const struct pb_reasm_stats *r = &dec->reasm.st;

		fprintf(stderr, "  fragments: reassembled %llu datagrams; not reassembled: "
			"timed out %llu, evicted %llu, too big %llu, malformed %llu, "
			"overlap drops %llu, too many %llu, not captured %llu\n",
			(unsigned long long)r->reassembled, (unsigned long long)r->timed_out,
			(unsigned long long)r->evicted_for_limits, (unsigned long long)r->too_big,
			(unsigned long long)r->bad, (unsigned long long)r->overlap_drops,
			(unsigned long long)r->too_many_fragments,
			(unsigned long long)dec->frag_not_captured);
		fprintf(stderr, "  fragment anomalies: overlaps %llu (conflicting %llu), "
			"duplicates %llu, tiny first %llu\n",
			(unsigned long long)r->overlaps, (unsigned long long)r->overlap_conflicts,
			(unsigned long long)r->duplicates, (unsigned long long)r->tiny_first);
	}
	fprintf(stderr, "  not fully decoded  %llu\n", (unsigned long long)st->errors);
	for (a = 1; a < PB_AN_MAX; a++)
		if (st->anomalies[a])
			fprintf(stderr, "    %-28s %llu\n", pb_anomaly_name(a),
				(unsigned long long)st->anomalies[a]);
}

int main(int argc, char **argv)
{
	struct pb_decoder dec;
	struct pb_decoded d;
	struct pb_packet p;
	struct pb_tool t;
	int rc;

	rc = pb_tool_init(&t, &desc, argc, argv);
	if (rc == PB_TOOL_DONE)
		return PB_EXIT_OK;
	if (rc)
		return rc;
	if ((rc = pb_tool_open_input(&t)) != 0) {
		pb_tool_finish(&t, 0);
		return rc;
	}
	if (pb_decoder_init(&dec, reassemble, NULL) < 0) {
		pb_error("out of memory for fragment reassembly");
		pb_tool_finish(&t, 0);
		return PB_EXIT_DATA;
	}
	while (pb_input_next(t.in, &p) == 0) {
		pb_decoder_run(&dec, &p, &d);
		pb_packet_record(&t.out, &p, &d, &ropts);
		pb_tool_record_done(&t);
		pb_tool_tick(&t);
	}
	pb_tool_flush(&t, 1);
	pb_decoder_finish(&dec);
	if (t.stats) {
		pb_tool_print_capture_stats(&t);
		print_decode_stats(&dec);
	}
	pb_decoder_release(&dec);
	return pb_tool_finish(&t, 0);
}
