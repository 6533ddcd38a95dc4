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

int main(int argc, char **argv)
{
	struct pb_decoder dec;
	struct pb_decoded d;
	struct pb_packet p;
	struct pb_tool t;
	int rc;

	rc = pb_tool_init(&t, &desc, argc, argv);
	if (rc == PB_TOOL_DONE || rc) {
		pb_tool_release(&t);
		return rc == PB_TOOL_DONE ? PB_EXIT_OK : rc;
	}
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
		pb_tool_print_decode_stats(&dec);
	}
	pb_decoder_release(&dec);
	return pb_tool_finish(&t, 0);
}
