/*
 * input.h - what a tool reads: one live interface, or one or more capture
 * files (and directories of them) read as a single capture merged by
 * timestamp, with the limits that apply across them: --since/--until,
 * --count, --duration and --realtime pacing.
 *
 * Files are opened lazily: each is peeked once for its first timestamp,
 * then opened for good only when the merged stream reaches that time, and
 * closed at its end, so a rotated set of a thousand files holds one or two
 * open at a time.  Ties go to the file named first.
 *
 * packet.index: with one input, the packet's position in it; with several,
 * its position in the merged stream, unique across the run, while
 * packet.file and packet.file_index say where it came from.
 */
#ifndef PB_INPUT_H
#define PB_INPUT_H

#include "capture/capture.h"

#define PB_INPUT_MAX_FILES 65536  /* files one run reads, directories expanded */

struct pb_input_opts {
	struct pb_capture_opts cap;  /* per source: filter, strict, live settings */
	uint64_t count;              /* stop after this many packets; 0: no limit */
	double duration;             /* files: seconds of capture time from the first packet */
	int realtime;                /* pace packets by their timestamps */
	int has_since, has_until;
	struct pb_time since, until; /* keep packets in [since, until] */
};

struct pb_input_stats {
	uint64_t packets;      /* handed out */
	uint64_t before_since; /* skipped: earlier than --since */
	uint64_t after_until;  /* skipped: later than --until (files stop there) */
	uint64_t files;        /* inputs opened */
};

struct pb_input;

/* Open n paths ("-" is standard input, at most once; a directory stands
 * for the files in it, by name), or a live device when device != NULL.
 * Problems are reported on standard error.  0 or a PB_E* code. */
int pb_input_open(struct pb_input **out, const char *const *paths, int n,
		  const char *device, const struct pb_input_opts *o);
/* 0 and a packet, PB_EOF, PB_EAGAIN (live, idle, when asked for), or a
 * fatal PB_E* code. */
int pb_input_next(struct pb_input *in, struct pb_packet *p);
const struct pb_input_stats *pb_input_stats(const struct pb_input *in);
/* Capture statistics summed over every source read so far. */
void pb_input_capture_stats(const struct pb_input *in, struct pb_capture_stats *sum);
/* Problems reported by any source (exit status 1 when non-zero). */
uint64_t pb_input_errors(const struct pb_input *in);
/* "x.pcap", or "3 files" */
const char *pb_input_name(const struct pb_input *in);
int pb_input_is_live(const struct pb_input *in);
void pb_input_free(struct pb_input *in);

#endif
