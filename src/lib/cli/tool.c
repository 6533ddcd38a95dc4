/* tool.c - the common command-line frame of every pbtools command. */
#include "cli/tool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "decode/decode.h"
#include "proc/proc.h"
#include "util/log.h"
#include "util/time.h"
#include "util/banned.h"

enum {
	OPT_SNAPLEN = 1000, OPT_NO_PROMISC, OPT_COUNT, OPT_DURATION, OPT_REALTIME,
	OPT_STATS, OPT_STRICT, OPT_CHECK_CONFIG, OPT_HELP, OPT_VERSION,
	OPT_PROGRESS, OPT_NO_PROGRESS, OPT_SINCE, OPT_UNTIL,
};

static const struct option common_opts[] = {
	{ "read", required_argument, NULL, 'r' },
	{ "interface", required_argument, NULL, 'i' },
	{ "filter", required_argument, NULL, 'f' },
	{ "config", required_argument, NULL, 'c' },
	{ "set", required_argument, NULL, 'E' },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
	{ "no-promisc", no_argument, NULL, OPT_NO_PROMISC },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "realtime", no_argument, NULL, OPT_REALTIME },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
};
#define N_COMMON (sizeof(common_opts) / sizeof(common_opts[0]))

static const char common_packet_help[] =
	"Input:\n"
	"  -r, --read FILE        read a pcap, pcapng (gzip or not) or NDJSON file;\n"
	"                         '-' or no input at all reads standard input;\n"
	"                         several files (or a directory of them) are read\n"
	"                         as one capture, merged by timestamp\n"
	"  -i, --interface IFACE  capture live from IFACE ('any' for all)\n"
	"  -f, --filter BPF       keep only packets matching the BPF expression\n"
	"                         (applies to files too)\n"
	"      --snaplen N        live: bytes captured per packet (default 262144)\n"
	"      --no-promisc       live: do not put the interface in promiscuous mode\n"
	"      --count N          stop after N packets\n"
	"      --duration S       stop after S seconds (live: wall clock; files:\n"
	"                         capture time from the first packet)\n"
	"      --since TIME       skip packets before TIME (RFC 3339 or epoch seconds)\n"
	"      --until TIME       stop at packets after TIME; a file is read up to\n"
	"                         its first packet past TIME\n"
	"      --realtime         replay a file at the pace it was captured\n"
	"      --strict           stop at the first unreadable NDJSON line\n";

static const char common_help[] =
	"Common:\n"
	"  -c, --config FILE      read settings from a packetbeat.yml-style FILE\n"
	"  -E, --set KEY=VALUE    override a setting (repeatable)\n"
	"      --check-config     check the configuration and exit\n"
	"  -o, -w, --output FILE  write to FILE instead of standard output\n"
	"  -q, --quiet            no warnings, no progress\n"
	"  -v, --verbose          more diagnostics (twice: debug)\n"
	"      --stats            print a summary on standard error at the end\n"
	"      --progress         show progress even when standard error is not\n"
	"                         a terminal; --no-progress never shows it\n"
	"      --help             show this help and exit\n"
	"      --version          show the version and exit\n"
	"\nExit status: 0 success, 1 data or I/O error, 2 usage or configuration error.\n";

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void usage_hint(const struct pb_tool_desc *d)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", d->name);
}

static void print_help(const struct pb_tool_desc *d)
{
	printf("Usage: %s %s\n%s\n\n", d->name, d->usage, d->summary);
	if (d->own_help && *d->own_help)
		printf("%s\n", d->own_help);
	if (d->reads_packets)
		printf("%s\n", common_packet_help);
	printf("%s", common_help);
}

static struct pb_tool *progress_tool;

static void clear_progress(void)
{
	if (progress_tool && progress_tool->progress_shown) {
		fputs("\r\033[K", stderr);
		progress_tool->progress_shown = 0;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	pb_capture_interrupt();
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* Settings from packetbeat.interfaces that the command line did not set. */
static int apply_interface_conf(struct pb_tool *t)
{
	struct pb_conf *c = &t->conf;
	const struct pb_conf_node *ifs = pb_conf_get(c, "packetbeat.interfaces");
	char base[64] = "packetbeat.interfaces", key[128];
	const char *s;
	int64_t v;
	int b, rc;

	if (!ifs)
		return 0;
	if (ifs->kind == PB_CONF_SEQ) {
		int n = 0;
		const struct pb_conf_node *k;

		for (k = ifs->child; k; k = k->next)
			n++;
		if (n > 1)
			pb_warn("%s:%d: packetbeat.interfaces lists %d interfaces; "
				"only the first is used", ifs->file, ifs->line, n);
		snprintf(base, sizeof(base), "packetbeat.interfaces.0");
	}
#define KEY(name) (snprintf(key, sizeof(key), "%s.%s", base, name), key)
	if ((rc = pb_conf_str(c, KEY("file"), &s)) == 0 && *s && !t->n_inputs &&
	    !t->device)
		t->inputs[t->n_inputs++] = s;
	else if (rc < 0)
		return rc;
	if ((rc = pb_conf_str(c, KEY("device"), &s)) == 0 && *s && !t->n_inputs &&
	    !t->device)
		t->device = s;
	else if (rc < 0)
		return rc;
	if ((rc = pb_conf_str(c, KEY("bpf_filter"), &s)) == 0 && *s && !t->iopts.cap.bpf)
		t->iopts.cap.bpf = s;
	else if (rc < 0)
		return rc;
	if ((rc = pb_conf_int(c, KEY("snaplen"), &v)) == 0) {
		if (v < 1 || v > 262144)
			return pb_conf_fail(c, key, "snaplen must be from 1 to 262144");
		if (!t->iopts.cap.snaplen)
			t->iopts.cap.snaplen = (int)v;
	} else if (rc < 0) {
		return rc;
	}
	/* topspeed / no_realtime: true is the default already; false asks
	 * for replay at capture pace, as Packetbeat without -t does. */
	if ((rc = pb_conf_bool(c, KEY("topspeed"), &b)) == 0 && !t->realtime_set)
		t->iopts.realtime = !b;
	else if (rc < 0)
		return rc;
	if ((rc = pb_conf_bool(c, KEY("no_realtime"), &b)) == 0 && !t->realtime_set)
		t->iopts.realtime = !b;
	else if (rc < 0)
		return rc;
	/* Live captures are promiscuous unless this says false or
	 * --no-promisc is given. */
	if ((rc = pb_conf_bool(c, KEY("auto_promisc_mode"), &b)) == 0)
		t->iopts.cap.promisc = b;
	else if (rc < 0)
		return rc;
#undef KEY
	return 0;
}

static int load_config(struct pb_tool *t)
{
	int i, rc;

	if (pb_conf_init(&t->conf) < 0)
		return PB_ENOMEM;
	if (t->config && (rc = pb_conf_load_file(&t->conf, t->config)) < 0)
		goto bad;
	for (i = 0; i < t->n_sets; i++)
		if ((rc = pb_conf_set(&t->conf, t->sets[i])) < 0)
			goto bad;
	if ((rc = pb_conf_expand(&t->conf)) < 0)
		goto bad;
	if ((rc = pb_conf_check(&t->conf)) < 0)
		goto bad;
	if (t->desc->reads_packets && (rc = apply_interface_conf(t)) < 0)
		goto bad;
	/* Tools that make Packetbeat events run the configuration's
	 * processors on them before writing (pb-enrich runs its own). */
	if (t->desc->runs_processors) {
		if ((rc = pb_proc_set_load(&t->procs, &t->conf)) < 0)
			goto bad;
		if (!pb_proc_set_active(t->procs)) {
			pb_proc_set_free(t->procs);
			t->procs = NULL;
		}
	}
	return 0;
bad:
	pb_error("%s", t->conf.err[0] ? t->conf.err : pb_strerror(rc));
	return PB_EUSAGE;
}

int pb_tool_init(struct pb_tool *t, const struct pb_tool_desc *d, int argc, char **argv)
{
	struct option opts[N_COMMON + 64];
	char shortopts[] = "r:i:f:c:E:o:w:qv";
	size_t n = 0, i;
	int ch, promisc_off = 0;

	memset(t, 0, sizeof(*t));
	t->desc = d;
	t->out_fd = STDOUT_FILENO;
	pb_buf_init(&t->out, 64u << 20);
	pb_capture_opts_init(&t->iopts.cap);
	t->iopts.cap.idle_wakeup = d->live_idle;
	t->iopts.cap.snaplen = 0; /* 0 until set: the configuration may set it */
	t->progress = isatty(STDERR_FILENO);
	pb_log_set_prog(d->name);

	for (i = 0; i < N_COMMON; i++)
		opts[n++] = common_opts[i];
	for (i = 0; d->opts && d->opts[i].name && n < N_COMMON + 63; i++)
		opts[n++] = d->opts[i];
	memset(&opts[n], 0, sizeof(opts[n]));

	if (argc > 0)
		argv[0] = (char *)d->name; /* getopt's messages name the tool */
	while ((ch = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		uint64_t u;

		switch (ch) {
		case 'r':
			if (t->n_inputs == PB_TOOL_MAX_INPUTS) {
				pb_error("too many inputs (at most %d)", PB_TOOL_MAX_INPUTS);
				return PB_EXIT_USAGE;
			}
			t->inputs[t->n_inputs++] = optarg;
			break;
		case 'i': t->device = optarg; break;
		case 'f': t->iopts.cap.bpf = optarg; break;
		case 'c': t->config = optarg; break;
		case 'E':
			if (t->n_sets == PB_TOOL_MAX_SETS) {
				pb_error("too many -E settings (at most %d)", PB_TOOL_MAX_SETS);
				return PB_EXIT_USAGE;
			}
			t->sets[t->n_sets++] = optarg;
			break;
		case 'o': case 'w': t->output = optarg; break;
		case 'q': t->quiet = 1; break;
		case 'v': t->verbose++; break;
		case OPT_SNAPLEN:
			if (parse_u64(optarg, &u) < 0 || u < 1 || u > 262144) {
				pb_error("--snaplen: '%s' is not a number from 1 to 262144", optarg);
				return PB_EXIT_USAGE;
			}
			t->iopts.cap.snaplen = (int)u;
			break;
		case OPT_NO_PROMISC: promisc_off = 1; break;
		case OPT_COUNT:
			if (parse_u64(optarg, &u) < 0) {
				pb_error("--count: '%s' is not a number", optarg);
				return PB_EXIT_USAGE;
			}
			t->iopts.count = u;
			break;
		case OPT_DURATION: {
			int64_t ns;

			if (pb_parse_duration(optarg, &ns) < 0 || ns <= 0) {
				pb_error("--duration: '%s' is not a duration (like 30 or 5m)", optarg);
				return PB_EXIT_USAGE;
			}
			t->iopts.duration = t->iopts.cap.duration = (double)ns / 1e9;
			break;
		}
		case OPT_SINCE:
		case OPT_UNTIL: {
			struct pb_time tm;

			if (pb_time_parse(optarg, strlen(optarg), &tm) < 0) {
				pb_error("--%s: '%s' is not a time (RFC 3339, like "
					 "2026-11-29T10:00:00Z, or epoch seconds)",
					 ch == OPT_SINCE ? "since" : "until", optarg);
				return PB_EXIT_USAGE;
			}
			if (ch == OPT_SINCE) {
				t->iopts.since = tm;
				t->iopts.has_since = 1;
			} else {
				t->iopts.until = tm;
				t->iopts.has_until = 1;
			}
			break;
		}
		case OPT_REALTIME:
			t->iopts.realtime = 1;
			t->realtime_set = 1;
			break;
		case OPT_STATS: t->stats = 1; break;
		case OPT_STRICT: t->strict = t->iopts.cap.strict = 1; break;
		case OPT_CHECK_CONFIG: t->check_config = 1; break;
		case OPT_PROGRESS: t->progress = 2; break;
		case OPT_NO_PROGRESS: t->progress = 0; break;
		case OPT_HELP:
			print_help(d);
			return PB_TOOL_DONE;
		case OPT_VERSION:
			printf("%s (pbtools) %s\n", d->name, PACKAGE_VERSION);
			return PB_TOOL_DONE;
		case '?':
			usage_hint(d);
			return PB_EXIT_USAGE;
		default:
			if (!d->on_opt || d->on_opt(t, ch, optarg) < 0) {
				usage_hint(d);
				return PB_EXIT_USAGE;
			}
			break;
		}
	}
	for (; optind < argc; optind++) {
		if (t->n_inputs == PB_TOOL_MAX_INPUTS) {
			pb_error("too many inputs (at most %d)", PB_TOOL_MAX_INPUTS);
			return PB_EXIT_USAGE;
		}
		t->inputs[t->n_inputs++] = argv[optind];
	}
	if (t->quiet) {
		pb_log_set_level(PB_LOG_ERROR);
		t->progress = 0;
	} else {
		pb_log_set_level(PB_LOG_WARN + t->verbose);
	}
	if (t->device && t->n_inputs) {
		pb_error("-i and -r (or a file name) cannot be used together");
		usage_hint(d);
		return PB_EXIT_USAGE;
	}
	if (load_config(t) < 0 || (d->on_conf && d->on_conf(t) < 0)) {
		/* nothing will run: free what the configuration took */
		pb_proc_set_free(t->procs);
		t->procs = NULL;
		pb_conf_release(&t->conf);
		return PB_EXIT_USAGE;
	}
	if (promisc_off)
		t->iopts.cap.promisc = 0;
	if (!t->iopts.cap.snaplen)
		t->iopts.cap.snaplen = 262144;
	if (t->iopts.cap.bpf) {
		char err[512];

		if (pb_capture_check_filter(t->iopts.cap.bpf, err, sizeof(err)) < 0) {
			pb_error("bad filter '%s': %s", t->iopts.cap.bpf, err);
			return PB_EXIT_USAGE;
		}
	}
	if (t->check_config) {
		if (!t->quiet)
			printf("Config OK\n");
		return PB_TOOL_DONE;
	}
	if (t->output && strcmp(t->output, "-")) {
		t->out_fd = open(t->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (t->out_fd < 0) {
			pb_error("cannot open '%s': %s", t->output, strerror(errno));
			return PB_EXIT_DATA;
		}
	}
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	progress_tool = t;
	pb_log_set_hook(clear_progress);
	t->start_ns = now_ns();
	return 0;
}

void pb_tool_release(struct pb_tool *t)
{
	pb_proc_set_free(t->procs);
	t->procs = NULL;
	pb_conf_release(&t->conf);
	pb_buf_release(&t->out);
}

int pb_tool_open_input(struct pb_tool *t)
{
	int rc;

	/* Live and paced output is for someone watching: write each record
	 * as it comes instead of in blocks. */
	t->flush_each = t->device || t->iopts.realtime;
	rc = pb_input_open(&t->in, t->inputs, t->n_inputs, t->device, &t->iopts);
	if (rc == PB_EUSAGE)
		return PB_EXIT_USAGE;
	return rc < 0 ? PB_EXIT_DATA : 0;
}

int pb_tool_process_record(struct pb_tool *t)
{
	int kept = pb_proc_set_run_tail(t->procs, &t->out, t->rec_start);

	t->rec_start = t->out.len;
	return kept;
}

void pb_tool_flush(struct pb_tool *t, int force)
{
	size_t off = 0;

	(void)force;
	while (off < t->out.len && !t->out_error) {
		ssize_t w = write(t->out_fd, t->out.data + off, t->out.len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			t->out_error = errno;
			pb_error("cannot write %s: %s",
				 t->output ? t->output : "standard output", strerror(errno));
			pb_capture_interrupt(); /* nothing more can be written */
			break;
		}
		off += (size_t)w;
	}
	pb_buf_clear(&t->out);
	t->rec_start = 0;
}

static void human_bytes(char *out, size_t n, uint64_t b)
{
	if (b >= 10ull << 30)
		snprintf(out, n, "%.1f GiB", (double)b / (1u << 30));
	else if (b >= 10u << 20)
		snprintf(out, n, "%.1f MiB", (double)b / (1u << 20));
	else
		snprintf(out, n, "%.1f KiB", (double)b / 1024);
}

static int64_t wall_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int pb_tool_packet_loop(struct pb_tool *t, struct pb_decoder *dec,
			void (*on_packet)(void *arg, const struct pb_packet *p,
					  const struct pb_decoded *d),
			void (*on_clock)(void *arg, int64_t now_ns), void *arg)
{
	struct pb_decoded d;
	struct pb_packet p;
	int rc, live = pb_input_is_live(t->in);

	for (;;) {
		rc = pb_input_next(t->in, &p);
		if (rc == PB_EAGAIN) {
			/* live and idle: time still passes */
			on_clock(arg, wall_clock_ns() - 1000000000LL);
			continue;
		}
		if (rc != 0)
			break;
		pb_decoder_run(dec, &p, &d);
		on_packet(arg, &p, &d);
		pb_tool_tick(t);
	}
	if (live)
		on_clock(arg, wall_clock_ns());
	return rc;
}

void pb_tool_tick(struct pb_tool *t)
{
	struct pb_capture_stats s;
	int64_t now;
	double el, rate;
	char done[32], total[32];

	if (!t->progress || !t->in || ++t->since_check < 8192)
		return;
	t->since_check = 0;
	now = now_ns();
	if (now - t->last_progress_ns < 250000000LL)
		return;
	t->last_progress_ns = now;
	pb_input_capture_stats(t->in, &s);
	el = (double)(now - t->start_ns) / 1e9;
	rate = el > 0 ? (double)s.records / el : 0;
	human_bytes(done, sizeof(done), s.bytes);
	if (s.size && t->n_inputs <= 1) {
		double frac = (double)s.bytes / (double)s.size;
		double eta = frac > 0 ? el / frac - el : 0;

		human_bytes(total, sizeof(total), s.size);
		fprintf(stderr, "\r\033[K%s: %s of %s (%.0f%%), %.0f packets/s, ETA %d:%02d",
			t->desc->name, done, total, frac * 100, rate,
			(int)eta / 60, (int)eta % 60);
	} else if (pb_input_is_live(t->in)) {
		fprintf(stderr, "\r\033[K%s: %llu packets, %.0f packets/s",
			t->desc->name, (unsigned long long)s.records, rate);
	} else {
		fprintf(stderr, "\r\033[K%s: %s, %llu packets, %.0f packets/s",
			t->desc->name, done, (unsigned long long)s.records, rate);
	}
	t->progress_shown = 1;
}

void pb_tool_print_capture_stats(struct pb_tool *t)
{
	const struct pb_input_stats *is;
	struct pb_capture_stats s;
	double el = (double)(now_ns() - t->start_ns) / 1e9;

	if (!t->in)
		return;
	pb_input_capture_stats(t->in, &s);
	is = pb_input_stats(t->in);
	clear_progress();
	fprintf(stderr, "%s: input: %s\n", t->desc->name, pb_input_name(t->in));
	if (t->n_inputs > 1 || is->files > 1)
		fprintf(stderr, "  files read         %llu\n", (unsigned long long)is->files);
	fprintf(stderr, "  records read       %llu\n", (unsigned long long)s.records);
	fprintf(stderr, "  packets            %llu\n", (unsigned long long)is->packets);
	if (t->iopts.cap.bpf)
		fprintf(stderr, "  filtered out       %llu\n", (unsigned long long)s.filtered);
	if (t->iopts.has_since)
		fprintf(stderr, "  before --since     %llu\n", (unsigned long long)is->before_since);
	if (t->iopts.has_until)
		fprintf(stderr, "  after --until      %llu\n", (unsigned long long)is->after_until);
	fprintf(stderr, "  skipped (bad)      %llu\n", (unsigned long long)s.bad);
	if (s.oversized)
		fprintf(stderr, "    over 256 KiB     %llu\n", (unsigned long long)s.oversized);
	if (s.truncated)
		fprintf(stderr, "  truncated input    %llu\n", (unsigned long long)s.truncated);
	if (s.snaplen_exceeded)
		fprintf(stderr, "  caplen > snaplen   %llu\n", (unsigned long long)s.snaplen_exceeded);
	if (s.caplen_gt_len)
		fprintf(stderr, "  caplen > length    %llu\n", (unsigned long long)s.caplen_gt_len);
	if (pb_input_is_live(t->in))
		fprintf(stderr, "  kernel: received %llu, dropped %llu, interface dropped %llu\n",
			(unsigned long long)s.live_recv, (unsigned long long)s.live_drop,
			(unsigned long long)s.live_ifdrop);
	fprintf(stderr, "  records written    %llu\n", (unsigned long long)t->written);
	fprintf(stderr, "  elapsed            %.3f s (%.0f packets/s)\n", el,
		el > 0 ? (double)s.records / el : 0);
}

void pb_tool_print_decode_stats(const struct pb_decoder *dec)
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
		if (r->frames_dropped)
			fprintf(stderr, "  fragment frames of datagrams not rebuilt %llu\n",
				(unsigned long long)r->frames_dropped);
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

int pb_tool_finish(struct pb_tool *t, uint64_t data_errors)
{
	int status = PB_EXIT_OK;

	pb_tool_flush(t, 1);
	clear_progress();
	if (t->out_fd != STDOUT_FILENO && t->out_fd >= 0) {
		if (close(t->out_fd) < 0 && !t->out_error) {
			t->out_error = errno;
			pb_error("cannot write '%s': %s", t->output, strerror(errno));
		}
	}
	if (t->out_error || data_errors || (t->in && pb_input_errors(t->in)))
		status = PB_EXIT_DATA;
	pb_input_free(t->in);
	t->in = NULL;
	pb_tool_release(t);
	progress_tool = NULL;
	pb_log_set_hook(NULL);
	return status;
}
