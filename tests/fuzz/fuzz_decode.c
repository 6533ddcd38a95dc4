/*
 * fuzz_decode.c - libFuzzer harness for the capture readers and decoders.
 *
 * The first byte picks what the rest is:
 *   even: a whole capture (pcap, pcapng, gzip or NDJSON), read from memory
 *         through a memfd, every packet decoded and written as a record;
 *   odd:  one frame; the next two bytes are its link type.
 * Build and run with tools/fuzz.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "event/packet_record.h"
#include "util/buf.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode (with fragment reassembly) and write the record. */
static void record(struct pb_decoder *dec, const struct pb_packet *p, struct pb_buf *out)
{
	static const struct pb_record_opts o = { 1, 0 };
	struct pb_decoded d;

	pb_decoder_run(dec, p, &d);
	pb_buf_clear(out);
	pb_packet_record(out, p, &d, &o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pb_reasm_limits lim = { 64, 1u << 20, 0, 16 };
	struct pb_decoder dec;
	struct pb_buf out;

	if (size < 1 || ((data[0] & 1) && size < 3))
		return 0;
	pb_log_set_level(PB_LOG_QUIET);
	if (pb_decoder_init(&dec, 1, &lim) < 0)
		return 0;
	pb_buf_init(&out, 16u << 20);
	if (data[0] & 1) {
		struct pb_packet p;

		memset(&p, 0, sizeof(p));
		p.index = 1;
		p.linktype = (uint32_t)data[1] << 8 | data[2];
		p.data = data + 3;
		p.caplen = p.len = (uint32_t)(size - 3);
		p.ts.prec = 6;
		record(&dec, &p, &out);
	} else {
		struct pb_capture_opts o;
		struct pb_capture *c;
		struct pb_packet p;
		char path[64];
		int fd = memfd_create("fuzz", 0);

		if (fd < 0)
			return 0;
		if (write(fd, data + 1, size - 1) == (ssize_t)(size - 1)) {
			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
			pb_capture_opts_init(&o);
			if (pb_capture_open_file(&c, path, &o) == 0) {
				while (pb_capture_next(c, &p) == 0)
					record(&dec, &p, &out);
				pb_capture_free(c);
			}
		}
		close(fd);
	}
	pb_decoder_finish(&dec);
	pb_decoder_release(&dec);
	pb_buf_release(&out);
	return 0;
}
