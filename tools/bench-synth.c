/*
 * bench-synth: write a synthetic capture with many concurrent TCP flows.
 *
 * The capture stresses a flow table: every flow is opened before any flow
 * carries data, and every flow carries data before any flow is closed, so
 * all flows are live at the same time.  In file order:
 *
 *   1. for each flow: SYN, SYN-ACK, ACK           (three-way handshake)
 *   2. for each flow: request, response           (one HTTP/1.1 exchange)
 *   3. for each flow: the close, either
 *        rst: RST|ACK from the client             (1 packet, the default)
 *        fin: FIN|ACK, FIN|ACK, ACK               (3 packets)
 *
 * With the default 300,000 flows and "rst" that is 1,800,000 packets.
 *
 * With -s SECONDS ("spread" mode) the flows do not overlap like that: flow
 * i starts at i * SECONDS / FLOWS seconds into the capture, and each flow
 * is short: SYN, SYN-ACK, ACK, request, response within a few to a few
 * tens of milliseconds, then the close after an idle time of 0 to 2 s.
 * Packets of all flows are written in timestamp order, so only the flows
 * started in the last couple of seconds are in the middle of their packets
 * at any time, and a flow table with an idle timeout T holds about
 * FLOWS / SECONDS * (T + 1) flows at once, however many flows the file
 * has.  Same packets per flow as above (6 with rst, 8 with fin).
 *
 * The output is fully deterministic: addresses, ports, sequence numbers,
 * payload sizes and timestamps depend only on the flow number and the
 * options, so the same command always writes the same bytes.  IPv4 and TCP
 * checksums are correct.  Link type is Ethernet, timestamps in
 * microseconds, starting at 2024-01-01T00:00:00Z and 2 us apart (spread
 * mode: see above).
 *
 * Addresses (never sent anywhere, this only writes a file):
 *   servers 10.98.0.1 - 10.98.0.4, port 80
 *   clients 10.98.16.1 - 10.98.215.250, ports 32768 and up
 *
 * Usage: bench-synth -o FILE [-n FLOWS] [-c rst|fin] [-s SECONDS]
 *
 * Build: cc -O2 -Wall -Wextra -std=c11 -o bench-synth bench-synth.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_FLOWS 300000UL
/* Ports are 32768 + 1000 * (flow / 50000) + flow % 1000: keep them < 65536. */
#define MAX_FLOWS 1600000UL

#define ETH_HLEN 14
#define IP_HLEN 20
#define TCP_HLEN 20
#define SYN_OPT_LEN 12 /* MSS, NOP, NOP, SACK permitted, NOP, window scale */
#define MAX_FRAME 1514 /* Ethernet header + 1500-byte MTU */
#define MAX_PAYLOAD (MAX_FRAME - ETH_HLEN - IP_HLEN - TCP_HLEN)

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

#define START_SEC 1704067200UL /* 2024-01-01T00:00:00Z */
#define STEP_USEC 2UL
/* Spread mode: -s up to this (11.5 days); keeps i * span_usec in 64 bits. */
#define MAX_SPREAD_SEC 1000000UL

/* One side of a flow: addresses, ports, MAC and its own send state. */
struct side {
	uint8_t mac[6];
	uint32_t ip; /* host byte order */
	uint16_t port;
	uint32_t seq;   /* next sequence number to send */
	uint16_t ip_id; /* next IPv4 identification */
};

/* Everything about one flow, recomputed from its number in each phase. */
struct flow {
	struct side cli, srv;
	uint16_t req_len, rsp_len; /* TCP payload sizes */
};

/* The output file and the running clock and counters. */
struct out {
	FILE *f;
	const char *path;
	uint64_t usec; /* microseconds since START_SEC */
	uint64_t packets, bytes;
};

/* splitmix64: a small, good, deterministic hash of the flow number. */
static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Little-endian stores for the pcap headers (the file is written LE). */
static void
le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Adds big-endian 16-bit words of buf to a one's complement sum. */
static uint32_t
csum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)buf[i] << 8 | buf[i + 1];
	if (len & 1)
		sum += (uint32_t)buf[len - 1] << 8;
	return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
die_write(const struct out *o)
{
	fprintf(stderr, "bench-synth: %s: write failed: %s\n", o->path,
	    strerror(errno));
	exit(1);
}

static void
write_file_header(struct out *o)
{
	uint8_t h[24];

	le32(h, 0xa1b2c3d4); /* microsecond timestamps */
	le16(h + 4, 2);
	le16(h + 6, 4);
	le32(h + 8, 0);      /* thiszone */
	le32(h + 12, 0);     /* sigfigs */
	le32(h + 16, 65535); /* snaplen */
	le32(h + 20, 1);     /* LINKTYPE_ETHERNET */
	if (fwrite(h, sizeof h, 1, o->f) != 1)
		die_write(o);
}

/*
 * Writes one TCP segment from `from` to `to` and advances the sender's
 * sequence number and IP id.  SYN segments carry the usual options; the
 * payload, if any, is `len` bytes of `data`.
 */
static void
emit(struct out *o, struct side *from, const struct side *to, uint8_t flags,
    const uint8_t *data, uint16_t len)
{
	static const uint8_t syn_opts[SYN_OPT_LEN] = {
		2, 4, 0x05, 0xb4, /* MSS 1460 */
		1, 1, 4, 2,       /* NOP, NOP, SACK permitted */
		1, 3, 3, 7,       /* NOP, window scale 7 */
	};
	uint8_t frame[ETH_HLEN + IP_HLEN + TCP_HLEN + SYN_OPT_LEN +
	    MAX_PAYLOAD];
	uint8_t rec[16];
	uint8_t *ip = frame + ETH_HLEN, *tcp = ip + IP_HLEN;
	uint16_t optlen = (flags & TH_SYN) ? SYN_OPT_LEN : 0;
	uint16_t tcplen = (uint16_t)(TCP_HLEN + optlen + len);
	uint16_t iplen = (uint16_t)(IP_HLEN + tcplen);
	uint32_t framelen = (uint32_t)(ETH_HLEN + iplen);
	uint32_t sum;
	uint8_t pseudo[12];

	/* Ethernet */
	memcpy(frame, to->mac, 6);
	memcpy(frame + 6, from->mac, 6);
	put16(frame + 12, 0x0800);

	/* IPv4, DF set, TTL 64 */
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, iplen);
	put16(ip + 4, from->ip_id++);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	put16(ip + 10, 0);
	put32(ip + 12, from->ip);
	put32(ip + 16, to->ip);
	put16(ip + 10, csum_fold(csum_add(0, ip, IP_HLEN)));

	/* TCP */
	put16(tcp, from->port);
	put16(tcp + 2, to->port);
	put32(tcp + 4, from->seq);
	put32(tcp + 8, (flags & TH_ACK) ? to->seq : 0);
	tcp[12] = (uint8_t)(((TCP_HLEN + optlen) / 4) << 4);
	tcp[13] = flags;
	put16(tcp + 14, (flags & TH_SYN) ? 64240 : 502);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	if (optlen)
		memcpy(tcp + TCP_HLEN, syn_opts, optlen);
	if (len)
		memcpy(tcp + TCP_HLEN + optlen, data, len);

	put32(pseudo, from->ip);
	put32(pseudo + 4, to->ip);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, tcplen);
	sum = csum_add(0, pseudo, sizeof pseudo);
	sum = csum_add(sum, tcp, tcplen);
	put16(tcp + 16, csum_fold(sum));

	/* SYN and FIN take one sequence number each. */
	from->seq += len + ((flags & TH_SYN) ? 1 : 0) +
	    ((flags & TH_FIN) ? 1 : 0);

	/* pcap record header */
	le32(rec, (uint32_t)(START_SEC + o->usec / 1000000));
	le32(rec + 4, (uint32_t)(o->usec % 1000000));
	le32(rec + 8, framelen);
	le32(rec + 12, framelen);
	if (fwrite(rec, sizeof rec, 1, o->f) != 1 ||
	    fwrite(frame, framelen, 1, o->f) != 1)
		die_write(o);
	o->usec += STEP_USEC;
	o->packets++;
	o->bytes += framelen;
}

/*
 * Fills in flow number i: who talks to whom and the initial sequence
 * numbers and ids.  The 4-tuple is unique for every i < MAX_FLOWS: the
 * client address takes i % 50000 and the port block i / 50000.
 */
static void
flow_init(struct flow *fl, uint64_t i)
{
	static const uint8_t cli_mac[6] = {0x02, 0x00, 0x5e, 0x62, 0x00, 0x02};
	static const uint8_t srv_mac[6] = {0x02, 0x00, 0x5e, 0x62, 0x00, 0x01};
	uint64_t h = mix64(i);
	uint32_t host = (uint32_t)(i % 250), net = (uint32_t)((i / 250) % 200);

	memset(fl, 0, sizeof *fl);
	memcpy(fl->cli.mac, cli_mac, 6);
	memcpy(fl->srv.mac, srv_mac, 6);
	fl->cli.ip = (10U << 24) | (98U << 16) | ((16 + net) << 8) | (1 + host);
	fl->srv.ip = (10U << 24) | (98U << 16) | (uint32_t)(1 + i % 4);
	fl->cli.port = (uint16_t)(32768 + 1000 * (i / 50000) + i % 1000);
	fl->srv.port = 80;
	fl->cli.seq = (uint32_t)h;
	fl->srv.seq = (uint32_t)(h >> 32);
	fl->cli.ip_id = (uint16_t)(h >> 16);
	fl->srv.ip_id = (uint16_t)(h >> 48);
	/* Response bodies of 64 to 1087 bytes: one segment each. */
	fl->rsp_len = (uint16_t)(64 + (h >> 20) % 1024);
}

/* Builds the request of flow i into buf and returns its length. */
static uint16_t
make_request(char *buf, size_t size, uint64_t i, const struct flow *fl)
{
	int n = snprintf(buf, size,
	    "GET /item/%" PRIu64 " HTTP/1.1\r\n"
	    "Host: 10.98.0.%u\r\n"
	    "User-Agent: bench-synth/1\r\n"
	    "Accept: */*\r\n\r\n",
	    i, (unsigned)(fl->srv.ip & 0xff));
	return (uint16_t)n;
}

/* Builds the response of flow i (headers and a body of a few hundred bytes). */
static uint16_t
make_response(char *buf, size_t size, uint64_t i, const struct flow *fl)
{
	size_t body = fl->rsp_len, k;
	int n = snprintf(buf, size,
	    "HTTP/1.1 200 OK\r\n"
	    "Server: bench-synth\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n\r\n",
	    body);

	for (k = 0; k < body && (size_t)n + k < size; k++)
		buf[n + k] = (char)('a' + (i + k) % 26);
	return (uint16_t)(n + k);
}

/*
 * Spread mode.  One pending packet per live flow sits in a min-heap keyed
 * by (time, flow number), so packets come out in timestamp order (ties in
 * flow order: deterministic).  Only flows in the middle of their packets
 * are in the heap: a few hundred at most with the defaults of tools/bench.
 */
enum { SP_SYN, SP_SYNACK, SP_ACK, SP_REQ, SP_RSP, SP_CLOSE, SP_CLOSE2,
	SP_CLOSE3 };

struct live {
	uint64_t t; /* usec of this flow's next packet */
	uint64_t i; /* flow number */
	struct flow fl;
	uint32_t rtt, srv_usec, idle_usec; /* this flow's timing */
	uint8_t step; /* SP_*: the next packet */
};

struct heap {
	struct live *v;
	size_t n, cap;
};

static int
live_before(const struct live *a, const struct live *b)
{
	return a->t < b->t || (a->t == b->t && a->i < b->i);
}

static void
heap_push(struct heap *h, const struct live *x)
{
	size_t k, up;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 1024;
		struct live *v = realloc(h->v, cap * sizeof *v);

		if (v == NULL) {
			fprintf(stderr, "bench-synth: out of memory\n");
			exit(1);
		}
		h->v = v;
		h->cap = cap;
	}
	k = h->n++;
	while (k > 0 && live_before(x, &h->v[up = (k - 1) / 2])) {
		h->v[k] = h->v[up];
		k = up;
	}
	h->v[k] = *x;
}

/* Removes the top; the caller has copied it. */
static void
heap_pop(struct heap *h)
{
	struct live x = h->v[--h->n];
	size_t k = 0, c;

	while ((c = 2 * k + 1) < h->n) {
		if (c + 1 < h->n && live_before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!live_before(&h->v[c], &x))
			break;
		h->v[k] = h->v[c];
		k = c;
	}
	if (h->n)
		h->v[k] = x;
}

/*
 * Writes x's next packet at its time and sets the time of the one after;
 * returns 0 when the flow is done.
 */
static int
spread_step(struct out *o, struct live *x, int close_fin, char *req,
    size_t reqsize, char *rsp, size_t rspsize)
{
	struct flow *fl = &x->fl;
	uint16_t len;

	o->usec = x->t;
	switch (x->step) {
	case SP_SYN:
		emit(o, &fl->cli, &fl->srv, TH_SYN, NULL, 0);
		x->t += 20; /* captured next to the server */
		break;
	case SP_SYNACK:
		emit(o, &fl->srv, &fl->cli, TH_SYN | TH_ACK, NULL, 0);
		x->t += x->rtt;
		break;
	case SP_ACK:
		emit(o, &fl->cli, &fl->srv, TH_ACK, NULL, 0);
		x->t += 30;
		break;
	case SP_REQ:
		len = make_request(req, reqsize, x->i, fl);
		emit(o, &fl->cli, &fl->srv, TH_PSH | TH_ACK, (uint8_t *)req,
		    len);
		x->t += x->srv_usec;
		break;
	case SP_RSP:
		len = make_response(rsp, rspsize, x->i, fl);
		emit(o, &fl->srv, &fl->cli, TH_PSH | TH_ACK, (uint8_t *)rsp,
		    len);
		x->t += x->idle_usec;
		break;
	case SP_CLOSE:
		if (!close_fin) {
			emit(o, &fl->cli, &fl->srv, TH_RST | TH_ACK, NULL, 0);
			return 0;
		}
		emit(o, &fl->cli, &fl->srv, TH_FIN | TH_ACK, NULL, 0);
		x->t += 20;
		break;
	case SP_CLOSE2:
		emit(o, &fl->srv, &fl->cli, TH_FIN | TH_ACK, NULL, 0);
		x->t += x->rtt;
		break;
	default:
		emit(o, &fl->cli, &fl->srv, TH_ACK, NULL, 0);
		return 0;
	}
	x->step++;
	return 1;
}

static void
write_spread(struct out *o, unsigned long nflows, unsigned long spread_sec,
    int close_fin, size_t *max_live)
{
	static char req[256], rsp[MAX_PAYLOAD];
	uint64_t span = (uint64_t)spread_sec * 1000000, i;
	struct heap h = {NULL, 0, 0};
	struct live x;

	*max_live = 0;
	for (i = 0; i <= nflows; i++) {
		/* Flow i starts here; write everything due before it. */
		uint64_t start = i * span / nflows;

		while (h.n && (i == nflows || h.v[0].t <= start)) {
			x = h.v[0];
			heap_pop(&h);
			if (spread_step(o, &x, close_fin, req, sizeof req, rsp,
			    sizeof rsp))
				heap_push(&h, &x);
		}
		if (i == nflows)
			break;
		memset(&x, 0, sizeof x);
		flow_init(&x.fl, i);
		{
			/* Independent of flow_init's hash of i. */
			uint64_t g = mix64(i ^ 0x5bd1e9955bd1e995ULL);

			x.rtt = (uint32_t)(100 + g % 1900);      /* 0.1-2 ms */
			x.srv_usec = (uint32_t)(200 + (g >> 16) % 19800);
			x.idle_usec = (uint32_t)((g >> 32) % 2000000); /* 0-2 s */
		}
		x.i = i;
		x.t = start;
		x.step = SP_SYN;
		heap_push(&h, &x);
		if (h.n > *max_live)
			*max_live = h.n;
	}
	free(h.v);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bench-synth -o FILE [-n FLOWS] [-c rst|fin] [-s SECONDS]\n"
	    "  -o FILE     pcap file to write (\"-\" for standard output)\n"
	    "  -n FLOWS    number of TCP flows (default %lu, max %lu), all\n"
	    "              open at once unless -s is given\n"
	    "  -c CLOSE    how flows end: rst = RST|ACK from the client, 6\n"
	    "              packets a flow (default); fin = FIN, FIN, ACK, 8 "
	    "packets a flow\n"
	    "  -s SECONDS  spread the flows' starts evenly over SECONDS of\n"
	    "              capture time (1 to %lu), each flow short (its\n"
	    "              packets within about 2 s), in timestamp order\n",
	    DEFAULT_FLOWS, MAX_FLOWS, MAX_SPREAD_SEC);
}

int
main(int argc, char **argv)
{
	static char iobuf[1 << 20];
	const char *path = NULL;
	unsigned long nflows = DEFAULT_FLOWS, spread_sec = 0;
	size_t max_live = 0;
	int close_fin = 0, opt;
	struct out o;
	struct flow fl;
	char req[256], rsp[MAX_PAYLOAD];
	uint64_t i;
	char *end;

	while ((opt = getopt(argc, argv, "o:n:c:s:h")) != -1) {
		switch (opt) {
		case 'o':
			path = optarg;
			break;
		case 'n':
			errno = 0;
			nflows = strtoul(optarg, &end, 10);
			if (errno || *end || nflows == 0 || nflows > MAX_FLOWS) {
				fprintf(stderr, "bench-synth: bad -n %s "
				    "(1 to %lu)\n", optarg, MAX_FLOWS);
				return 1;
			}
			break;
		case 'c':
			if (strcmp(optarg, "fin") == 0)
				close_fin = 1;
			else if (strcmp(optarg, "rst") == 0)
				close_fin = 0;
			else {
				fprintf(stderr, "bench-synth: bad -c %s "
				    "(rst or fin)\n", optarg);
				return 1;
			}
			break;
		case 's':
			errno = 0;
			spread_sec = strtoul(optarg, &end, 10);
			if (errno || *end || spread_sec == 0 ||
			    spread_sec > MAX_SPREAD_SEC) {
				fprintf(stderr, "bench-synth: bad -s %s "
				    "(1 to %lu)\n", optarg, MAX_SPREAD_SEC);
				return 1;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 1;
	}

	memset(&o, 0, sizeof o);
	o.path = path;
	if (strcmp(path, "-") == 0)
		o.f = stdout;
	else if ((o.f = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "bench-synth: %s: %s\n", path, strerror(errno));
		return 1;
	}
	setvbuf(o.f, iobuf, _IOFBF, sizeof iobuf);
	write_file_header(&o);

	if (spread_sec) {
		write_spread(&o, nflows, spread_sec, close_fin, &max_live);
		goto done;
	}

	/*
	 * Each phase recomputes the flow from its number and replays the
	 * earlier phases' effect on the sequence numbers, so no per-flow
	 * state has to be kept: memory use does not grow with -n.
	 */

	/* Phase 1: open every flow. */
	for (i = 0; i < nflows; i++) {
		flow_init(&fl, i);
		emit(&o, &fl.cli, &fl.srv, TH_SYN, NULL, 0);
		emit(&o, &fl.srv, &fl.cli, TH_SYN | TH_ACK, NULL, 0);
		emit(&o, &fl.cli, &fl.srv, TH_ACK, NULL, 0);
	}

	/* Phase 2: one request and one response on every flow. */
	for (i = 0; i < nflows; i++) {
		uint16_t qlen, rlen;

		flow_init(&fl, i);
		fl.cli.seq++; /* the SYNs */
		fl.srv.seq++;
		fl.cli.ip_id += 2;
		fl.srv.ip_id += 1;
		qlen = make_request(req, sizeof req, i, &fl);
		rlen = make_response(rsp, sizeof rsp, i, &fl);
		emit(&o, &fl.cli, &fl.srv, TH_PSH | TH_ACK, (uint8_t *)req,
		    qlen);
		emit(&o, &fl.srv, &fl.cli, TH_PSH | TH_ACK, (uint8_t *)rsp,
		    rlen);
	}

	/* Phase 3: close every flow. */
	for (i = 0; i < nflows; i++) {
		flow_init(&fl, i);
		fl.cli.seq += 1 + make_request(req, sizeof req, i, &fl);
		fl.srv.seq += 1 + make_response(rsp, sizeof rsp, i, &fl);
		fl.cli.ip_id += 3;
		fl.srv.ip_id += 2;
		if (close_fin) {
			emit(&o, &fl.cli, &fl.srv, TH_FIN | TH_ACK, NULL, 0);
			emit(&o, &fl.srv, &fl.cli, TH_FIN | TH_ACK, NULL, 0);
			emit(&o, &fl.cli, &fl.srv, TH_ACK, NULL, 0);
		} else {
			emit(&o, &fl.cli, &fl.srv, TH_RST | TH_ACK, NULL, 0);
		}
	}

done:
	if (fflush(o.f) != 0 || (o.f != stdout && fclose(o.f) != 0))
		die_write(&o);
	fprintf(stderr, "bench-synth: flows=%lu packets=%" PRIu64
	    " bytes=%" PRIu64, nflows, o.packets, o.bytes);
	if (spread_sec)
		fprintf(stderr, " seconds=%" PRIu64 " max_in_progress=%zu",
		    o.usec / 1000000, max_live);
	fprintf(stderr, "\n");
	return 0;
}
