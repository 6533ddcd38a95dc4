/*
 * tool.h - what every pbtools command shares: the common options, the
 * configuration, opening the input, the output, progress and --stats.
 * A tool's main() fills a struct pb_tool_desc, calls pb_tool_init(), runs
 * its loop and returns pb_tool_finish().
 *
 * Exit status: 0 success; 1 a data or I/O error (after writing all it
 * could); 2 a usage or configuration error.
 */
#ifndef PB_TOOL_H
#define PB_TOOL_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/input.h"
#include "conf/conf.h"
#include "util/buf.h"

enum { PB_EXIT_OK = 0, PB_EXIT_DATA = 1, PB_EXIT_USAGE = 2 };
/* pb_tool_init() result: the work is done (--help, --version,
 * --check-config); exit 0. */
#define PB_TOOL_DONE (-1)

#define PB_TOOL_MAX_INPUTS 1024
#define PB_TOOL_MAX_SETS 256

struct pb_tool;

/* A tool's own options: long options (val >= 256 recommended) and a
 * handler called with each; return 0, or PB_EUSAGE after printing why. */
struct pb_tool_desc {
	const char *name;          /* "pb-decode" */
	const char *summary;       /* one line for --help */
	const char *usage;         /* the synopsis after the name */
	const char *own_help;      /* help text for the tool's options */
	const struct option *opts; /* terminated by a zero entry, or NULL */
	int (*on_opt)(struct pb_tool *t, int val, const char *arg);
	/* Called once the configuration is loaded (and before --check-config
	 * reports): read the tool's own keys; 0, or PB_EUSAGE after saying
	 * why.  May be NULL. */
	int (*on_conf)(struct pb_tool *t);
	int reads_packets;         /* takes -r/-i/-f and the capture options */
	int live_idle;             /* live: pb_input_next() returns PB_EAGAIN
				    * after 100 ms without a packet, so the
				    * tool can act on the clock */
	int runs_processors;       /* writes Packetbeat events: each record goes
				    * through the configuration's fields, tags
				    * and processors (proc/proc.h) as written */
};

struct pb_tool {
	const struct pb_tool_desc *desc;
	/* common options */
	const char *inputs[PB_TOOL_MAX_INPUTS];
	int n_inputs;
	const char *device;        /* -i */
	const char *config;        /* -c */
	const char *sets[PB_TOOL_MAX_SETS]; /* -E */
	int n_sets;
	const char *output;        /* -o / -w */
	int quiet, verbose, stats, strict, check_config;
	int progress;              /* show progress on a terminal */
	struct pb_input_opts iopts;
	int realtime_set;          /* --realtime given on the command line */

	struct pb_conf conf;
	struct pb_input *in;       /* the open input */

	/* output */
	int out_fd;
	struct pb_buf out;
	uint64_t written;          /* records written */
	/* the configuration's processors, run on each record of a tool with
	 * runs_processors (proc/proc.h); NULL when there are none */
	struct pb_proc_set *procs;
	size_t rec_start;          /* where the record being written begins */
	int flush_each;            /* write every record at once (live, paced) */
	int out_error;

	/* progress */
	int64_t start_ns, last_progress_ns;
	int progress_shown;
	uint64_t since_check;
};

/* Parse options, load the configuration, open the output.  Returns
 * 0 to go on, PB_TOOL_DONE, or an exit status to return at once. */
int pb_tool_init(struct pb_tool *t, const struct pb_tool_desc *d, int argc, char **argv);

/* Free what pb_tool_init() made (the configuration, its processors, the
 * output buffer): for a tool that stops after pb_tool_init() returned
 * PB_TOOL_DONE or an exit status (pb_tool_finish() does it otherwise). */
void pb_tool_release(struct pb_tool *t);

/* Open the input the options or the configuration name. */
int pb_tool_open_input(struct pb_tool *t);

/* Flush the output buffer when it is large enough (or always). */
void pb_tool_flush(struct pb_tool *t, int force);
/* The record just written through the processors: 0 when dropped. */
int pb_tool_process_record(struct pb_tool *t);
static inline void pb_tool_record_done(struct pb_tool *t)
{
	if (t->procs && !pb_tool_process_record(t))
		return;
	t->written++;
	if (t->out.len >= (256u << 10) || t->flush_each)
		pb_tool_flush(t, 0);
}

/* Call now and then from the loop: shows progress on a terminal. */
void pb_tool_tick(struct pb_tool *t);

/* The loop of a tool that takes decoded packets (pb-flows, pb-txn): read
 * each packet, decode it with dec and give it to on_packet.  In live
 * capture, when no packet comes, on_clock gets a time a second behind
 * the wall clock (the kernel hands packets over up to a block timeout
 * after their timestamps: so they are not older than the clock), and at
 * the end the wall clock.  Returns the input's last result (PB_EOF, or
 * an error). */
struct pb_decoded;
struct pb_decoder;
int pb_tool_packet_loop(struct pb_tool *t, struct pb_decoder *dec,
			void (*on_packet)(void *arg, const struct pb_packet *p,
					  const struct pb_decoded *d),
			void (*on_clock)(void *arg, int64_t now_ns), void *arg);

/* Print the common part of --stats. */
void pb_tool_print_capture_stats(struct pb_tool *t);

/* Print the decoder's part of --stats (layers, reassembly, anomalies). */
void pb_tool_print_decode_stats(const struct pb_decoder *dec);

/* Flush, close, and work out the exit status (data_errors: the tool's own
 * count of problems that make the exit status 1). */
int pb_tool_finish(struct pb_tool *t, uint64_t data_errors);

#endif
