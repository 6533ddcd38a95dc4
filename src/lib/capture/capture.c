/*
 * capture.c - opening sources, sniffing the input kind, the BPF filter,
 * count/duration limits and real-time pacing common to every source.
 */
#include "capture/capture_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "util/banned.h"

static volatile sig_atomic_t interrupted;
static pcap_t *volatile live_handle;

void pb_capture_interrupt(void)
{
	interrupted = 1;
	if (live_handle)
		pcap_breakloop(live_handle);
}

int pb_capture_interrupted(void)
{
	return interrupted;
}

void pb_capture_opts_init(struct pb_capture_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->snaplen = 262144;
	o->promisc = 1;
}

void pb_cap_report(struct pb_capture *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->errors++;
	pb_error("%s: %s", c->name, msg);
}

static struct pb_capture *capture_new(const char *name,
				      const struct pb_capture_opts *opts)
{
	struct pb_capture *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->name = strdup(name);
	if (!c->name) {
		free(c);
		return NULL;
	}
	c->opts = *opts;
	c->s.fd = -1;
	return c;
}

int pb_capture_open_file(struct pb_capture **out, const char *path,
			 const struct pb_capture_opts *opts)
{
	struct pb_capture *c;
	const uint8_t *p;
	size_t n;
	uint32_t m;
	int rc;

	*out = NULL;
	if (!path)
		path = "-";
	c = capture_new(strcmp(path, "-") ? path : "(standard input)", opts);
	if (!c)
		return PB_ENOMEM;
	rc = pb_stream_open(&c->s, path, PB_NG_MAX_BLOCK + (1u << 20));
	if (rc < 0) {
		int e = errno;

		pb_error("cannot open '%s': %s", path, strerror(e));
		pb_capture_free(c);
		errno = e;
		return rc;
	}
	c->st.size = c->s.raw_size;
	n = pb_stream_fill(&c->s, 4);
	if (c->s.err) {
		pb_error("cannot read '%s': %s", c->name, strerror(c->s.err));
		pb_capture_free(c);
		return PB_EIO;
	}
	if (n == 0) {
		/* An empty pipe is an empty NDJSON stream (a jq filter upstream
		 * may select nothing); an empty file is a broken capture. */
		if (!c->s.raw_size && !strcmp(path, "-")) {
			c->kind = PB_INPUT_NDJSON;
			*out = c;
			return 0;
		}
		pb_error("%s: empty input: not a pcap, pcapng or NDJSON capture", c->name);
		pb_capture_free(c);
		return PB_EFORMAT;
	}
	p = pb_stream_ptr(&c->s);
	m = n >= 4 ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		     (uint32_t)p[2] << 8 | p[3] : 0;
	switch (m) {
	case 0xa1b2c3d4: case 0xd4c3b2a1: /* pcap, microseconds */
	case 0xa1b23c4d: case 0x4d3cb2a1: /* pcap, nanoseconds */
	case 0xa1b2cd34: case 0x34cdb2a1: /* pcap, Kuznetzov's extended */
		c->kind = PB_INPUT_PCAP;
		rc = pb_cap_pcap_open(c);
		break;
	case 0x0a0d0d0a:                  /* pcapng section header */
		c->kind = PB_INPUT_PCAPNG;
		rc = pb_cap_pcapng_open(c);
		break;
	default: {
		/* NDJSON: the first non-blank byte opens an object. */
		size_t i = 0;

		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
				 p[i] == '\n')) {
			i++;
			if (i == n)
				n = pb_stream_fill(&c->s, n + 4096);
			p = pb_stream_ptr(&c->s);
		}
		if (i < n && p[i] == '{') {
			c->kind = PB_INPUT_NDJSON;
			rc = 0;
		} else {
			pb_error("%s: not a pcap, pcapng or NDJSON capture "
				 "(first bytes %02x %02x %02x %02x)", c->name,
				 n > 0 ? p[0] : 0, n > 1 ? p[1] : 0,
				 n > 2 ? p[2] : 0, n > 3 ? p[3] : 0);
			rc = PB_EFORMAT;
		}
	}
	}
	if (rc < 0) {
		pb_capture_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int pb_capture_open_live(struct pb_capture **out, const char *device,
			 const struct pb_capture_opts *opts)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pb_capture *c;
	pcap_t *h;
	int rc;

	*out = NULL;
	c = capture_new(device, opts);
	if (!c)
		return PB_ENOMEM;
	c->kind = PB_INPUT_LIVE;
	h = pcap_create(device, errbuf);
	if (!h) {
		pb_error("cannot open interface '%s': %s", device, errbuf);
		pb_capture_free(c);
		return PB_EIO;
	}
	pcap_set_snaplen(h, opts->snaplen > 0 ? opts->snaplen : 262144);
	pcap_set_promisc(h, opts->promisc);
	pcap_set_timeout(h, PB_LIVE_TIMEOUT_MS);
	pcap_set_buffer_size(h, 32 << 20);
	pcap_set_tstamp_precision(h, PCAP_TSTAMP_PRECISION_NANO);
	rc = pcap_activate(h);
	if (rc < 0) {
		pb_error("cannot capture on '%s': %s", device,
			 rc == PCAP_ERROR ? pcap_geterr(h) : pcap_statustostr(rc));
		pcap_close(h);
		pb_capture_free(c);
		return PB_EIO;
	}
	if (rc > 0)
		pb_warn("%s: %s", device, pcap_statustostr(rc));
	if (opts->bpf && *opts->bpf) {
		struct bpf_program prog;

		if (pcap_compile(h, &prog, opts->bpf, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
		    pcap_setfilter(h, &prog) < 0) {
			pb_error("bad filter '%s': %s", opts->bpf, pcap_geterr(h));
			pcap_close(h);
			pb_capture_free(c);
			return PB_EUSAGE;
		}
		pcap_freecode(&prog);
	}
	if (pcap_setnonblock(h, 1, errbuf) < 0)
		pb_warn("%s: cannot make the capture non-blocking: %s", device, errbuf);
	c->live = h;
	/* libpcap speaks DLT_* values; records carry LINKTYPE_* ones, which
	 * differ for raw IP (DLT_RAW is 12 or 14, LINKTYPE_RAW 101). */
	c->linktype = (uint32_t)pcap_datalink(h);
	if (c->linktype == DLT_RAW)
		c->linktype = 101;
	c->nsec = pcap_get_tstamp_precision(h) == PCAP_TSTAMP_PRECISION_NANO;
	live_handle = h;
	*out = c;
	return 0;
}

int pb_capture_check_filter(const char *expr, char *err, size_t errlen)
{
	pcap_t *d = pcap_open_dead(DLT_EN10MB, (int)PB_MAX_FRAME);
	struct bpf_program prog;
	int rc = 0;

	if (!d)
		return PB_ENOMEM;
	if (pcap_compile(d, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "%s", pcap_geterr(d));
		rc = PB_EUSAGE;
	} else {
		pcap_freecode(&prog);
	}
	pcap_close(d);
	return rc;
}

/* Files carry LINKTYPE_* values and pcap_open_dead() wants DLT_* ones.
 * They are the same number except for a few old types; the one that
 * matters here is raw IP: LINKTYPE_RAW (101), and the BSD DLT_RAW values
 * 12 and 14 that some files carry, are this platform's DLT_RAW. */
static int dlt_of(uint32_t lt)
{
	switch (lt) {
	case 101: case 12: case 14:
		return DLT_RAW;
	}
	return (int)lt;
}

/* The filter program for a link type, compiled on first use. */
static struct pb_filter_cache *filter_for(struct pb_capture *c, uint32_t lt)
{
	struct pb_filter_cache *f;
	pcap_t *d;
	int i;

	for (i = 0; i < c->n_fc; i++)
		if (c->fc[i].linktype == lt)
			return &c->fc[i];
	if (c->n_fc == PB_FILTER_CACHE) {
		/* More link types than slots: recycle the oldest. */
		pcap_freecode(&c->fc[0].prog);
		memmove(&c->fc[0], &c->fc[1], sizeof(c->fc[0]) * (PB_FILTER_CACHE - 1));
		c->n_fc--;
	}
	f = &c->fc[c->n_fc++];
	memset(f, 0, sizeof(*f));
	f->linktype = lt;
	d = pcap_open_dead(dlt_of(lt), (int)PB_MAX_FRAME);
	if (d && pcap_compile(d, &f->prog, c->opts.bpf, 1, PCAP_NETMASK_UNKNOWN) == 0) {
		f->ok = 1;
	} else {
		pb_cap_report(c, "filter '%s' cannot apply to link type %u: %s; "
			      "those packets are dropped", c->opts.bpf, lt,
			      d ? pcap_geterr(d) : "out of memory");
	}
	if (d)
		pcap_close(d);
	return f;
}

static int filter_pass(struct pb_capture *c, const struct pb_packet *p)
{
	struct pb_filter_cache *f = filter_for(c, p->linktype);
	struct pcap_pkthdr h;

	if (!f->ok)
		return 0;
	memset(&h, 0, sizeof(h));
	h.caplen = p->caplen;
	h.len = p->len;
	return pcap_offline_filter(&f->prog, &h, p->data) != 0;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* intervals: monotonic */
static int64_t wall_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static int live_next(struct pb_capture *c, struct pb_packet *p)
{
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *d;
		int rc;

		if (!c->drain_until_ns &&
		    (interrupted ||
		     (c->opts.duration > 0 && c->dur_started &&
		      wall_ns() - c->dur_wall_ns >= (int64_t)(c->opts.duration * 1e9)))) {
			/* Stopping.  The kernel hands packets over in blocks
			 * it closes at the latest PB_LIVE_TIMEOUT_MS after
			 * their first packet: read on a little longer than
			 * that, so the packets captured before the stop are
			 * not lost in a block still open. */
			c->stop_ns = clock_ns(CLOCK_REALTIME); /* as packet times */
			c->drain_until_ns = wall_ns() + (PB_LIVE_TIMEOUT_MS + 50) * 1000000LL;
		}
		if (c->drain_until_ns && wall_ns() >= c->drain_until_ns)
			return PB_EOF;
		if (!c->dur_started) {
			c->dur_started = 1;
			c->dur_wall_ns = wall_ns();
		}
		rc = pcap_next_ex(c->live, &h, &d);
		if (rc == 0) {
			/* Nothing buffered: wait at most 100 ms, then look at
			 * the clock and the stop flag again.  (A blocking read
			 * may never time out on an idle Linux interface.) */
			struct pollfd pfd = { pcap_get_selectable_fd(c->live), POLLIN, 0 };

			if (pfd.fd >= 0 && poll(&pfd, 1, c->drain_until_ns ? 10 : 100) == 0 &&
			    c->opts.idle_wakeup && !c->drain_until_ns)
				return PB_EAGAIN;
			continue;
		}
		if (rc == PCAP_ERROR_BREAK)
			continue; /* pcap_breakloop() from the signal: drain */
		if (rc < 0) {
			pb_cap_report(c, "capture failed: %s", pcap_geterr(c->live));
			return PB_EIO;
		}
		if (c->drain_until_ns &&
		    (int64_t)h->ts.tv_sec * 1000000000LL +
		    (int64_t)h->ts.tv_usec * (c->nsec ? 1 : 1000) > c->stop_ns)
			continue; /* captured after the stop */
		p->index = ++c->index;
		p->ts.sec = h->ts.tv_sec;
		p->ts.nsec = (uint32_t)h->ts.tv_usec * (c->nsec ? 1u : 1000u);
		p->ts.prec = c->nsec ? 9 : 6;
		p->caplen = h->caplen;
		p->len = h->len;
		p->linktype = c->linktype;
		p->iface = 0;
		p->data = d;
		c->st.records++;
		return 0;
	}
}

int pb_capture_next(struct pb_capture *c, struct pb_packet *p)
{
	for (;;) {
		int rc;

		if (c->done || (interrupted && c->kind != PB_INPUT_LIVE))
			return PB_EOF;
		switch (c->kind) {
		case PB_INPUT_PCAP: rc = pb_cap_pcap_next(c, p); break;
		case PB_INPUT_PCAPNG: rc = pb_cap_pcapng_next(c, p); break;
		case PB_INPUT_NDJSON: rc = pb_cap_ndjson_next(c, p); break;
		default: rc = live_next(c, p); break;
		}
		if (c->kind != PB_INPUT_LIVE)
			c->st.bytes = pb_stream_raw_offset(&c->s);
		if (rc == PB_EAGAIN)
			return rc; /* live and idle: not the end */
		if (rc < 0) {
			c->done = 1;
			return rc;
		}
		if (c->kind != PB_INPUT_NDJSON || !p->file) {
			p->file = NULL;
			p->file_index = p->index;
		}
		if (c->opts.bpf && *c->opts.bpf && c->kind != PB_INPUT_LIVE &&
		    !filter_pass(c, p)) {
			c->st.filtered++;
			continue;
		}
		c->st.packets++;
		return 0;
	}
}

enum pb_input_kind pb_capture_kind(const struct pb_capture *c) { return c->kind; }
const char *pb_capture_name(const struct pb_capture *c) { return c->name; }
uint64_t pb_capture_errors(const struct pb_capture *c) { return c->errors; }

const struct pb_capture_stats *pb_capture_stats(const struct pb_capture *c)
{
	struct pb_capture *m = (struct pb_capture *)c;

	if (c->live) {
		struct pcap_stat ps;

		if (pcap_stats(c->live, &ps) == 0) {
			m->st.live_recv = ps.ps_recv;
			m->st.live_drop = ps.ps_drop;
			m->st.live_ifdrop = ps.ps_ifdrop;
		}
	}
	return &c->st;
}

void pb_capture_free(struct pb_capture *c)
{
	int i;

	if (!c)
		return;
	if (c->live) {
		live_handle = NULL;
		pcap_close(c->live);
	}
	for (i = 0; i < c->n_fc; i++)
		if (c->fc[i].ok)
			pcap_freecode(&c->fc[i].prog);
	pb_stream_close(&c->s);
	free(c->ifaces);
	free(c->frame);
	free(c->name);
	free(c);
}
