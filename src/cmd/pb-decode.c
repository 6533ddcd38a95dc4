/* pb-decode - one NDJSON packet record per captured packet (pb-decode(1)). */
#include <stdlib.h>
#include <string.h>

#include "cli/tool.h"
#include "decode/decode.h"
#include "event/packet_record.h"
#include "util/log.h"
#include "util/banned.h"

enum { OPT_NO_DATA = 256 };

static const struct option decode_opts[] = {
	{ "no-data", no_argument, NULL, OPT_NO_DATA },
	{ NULL, 0, NULL, 0 },
};

static struct pb_record_opts ropts = { 1, 0 };

static int on_opt(struct pb_tool *t, int val, const char *arg)
{
	(void)t;
	(void)arg;
	if (val == OPT_NO_DATA) {
		ropts.with_data = 0;
		return 0;
	}
	return -1;
}

static const struct pb_tool_desc desc = {
	.name = "pb-decode",
	.summary = "Decode packets into NDJSON packet records (see pb-decode(1)).",
	.usage = "[options] [-r FILE | -i IFACE] [FILE]",
	.own_help = "Output:\n"
		    "      --no-data          leave out packet.data (the frame in base64);\n"
		    "                         such records cannot be decoded again\n",
	.opts = decode_opts,
	.on_opt = on_opt,
	.reads_packets = 1,
};

static void print_decode_stats(const struct pb_decode_stats *st)
{
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
	fprintf(stderr, "  not fully decoded  %llu\n", (unsigned long long)st->errors);
	for (a = 1; a < PB_AN_MAX; a++)
		if (st->anomalies[a])
			fprintf(stderr, "    %-28s %llu\n", pb_anomaly_name(a),
				(unsigned long long)st->anomalies[a]);
}

int main(int argc, char **argv)
{
	struct pb_decode_stats st;
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
	memset(&st, 0, sizeof(st));
	while (pb_input_next(t.in, &p) == 0) {
		pb_decode(&p, &d, &st);
		pb_packet_record(&t.out, &p, &d, &ropts);
		pb_tool_record_done(&t);
		pb_tool_tick(&t);
	}
	pb_tool_flush(&t, 1);
	if (t.stats) {
		pb_tool_print_capture_stats(&t);
		print_decode_stats(&st);
	}
	return pb_tool_finish(&t, 0);
}
