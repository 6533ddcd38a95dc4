/*
 * check_capture.c - packet sources: pcap (both byte orders, micro- and
 * nanoseconds, Kuznetzov), pcapng (sections, interfaces, resolutions,
 * EPB/SPB/PB, unknown blocks), gzip, NDJSON, hostile inputs, BPF.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pb.h"
#include "capture/capture.h"
#include "util/base64.h"
#include "util/log.h"

#include "pcapgen.h"

/* ---- frames ---- */

/* Ethernet + IPv4 + TCP or UDP, with n payload bytes; returns the length.
 * raw != 0 leaves out the Ethernet header (LINKTYPE_RAW). */
static size_t mkframe(uint8_t *out, int raw, uint8_t proto, uint16_t sport,
		      uint16_t dport, size_t n)
{
	static const uint8_t eth[14] = {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
	};
	size_t l4 = proto == 6 ? 20 : 8, off = 0, ip;
	uint16_t tot = (uint16_t)(20 + l4 + n);

	if (!raw) {
		memcpy(out, eth, 14);
		off = 14;
	}
	ip = off;
	memset(out + ip, 0, 20);
	out[ip] = 0x45;
	out[ip + 2] = (uint8_t)(tot >> 8);
	out[ip + 3] = (uint8_t)tot;
	out[ip + 8] = 64;
	out[ip + 9] = proto;
	out[ip + 12] = 10, out[ip + 15] = 1;
	out[ip + 16] = 10, out[ip + 19] = 2;
	off += 20;
	memset(out + off, 0, l4);
	out[off] = (uint8_t)(sport >> 8);
	out[off + 1] = (uint8_t)sport;
	out[off + 2] = (uint8_t)(dport >> 8);
	out[off + 3] = (uint8_t)dport;
	if (proto == 6) {
		out[off + 12] = 0x50;
		out[off + 13] = 0x02;
	} else {
		out[off + 4] = (uint8_t)((8 + n) >> 8);
		out[off + 5] = (uint8_t)(8 + n);
	}
	off += l4;
	memset(out + off, 'x', n);
	return off + n;
}

/* A recognisable frame of n bytes: byte i is seed + i. */
static void pattern(uint8_t *out, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(seed + i);
}

/* ---- reading ---- */

#define MAX_RECS 16

struct rec {
	struct pb_packet p;
	uint8_t data[80]; /* the first bytes of the frame */
};

struct run {
	char path[PG_PATH_MAX];
	struct pb_capture *c;
	struct rec r[MAX_RECS];
	int n;        /* packets read */
	int end_rc;   /* what ended the reading */
};

static int open_img(struct run *x, const struct pg *g, const struct pb_capture_opts *o)
{
	struct pb_capture_opts def;
	int rc;

	if (!o) {
		pb_capture_opts_init(&def);
		o = &def;
	}
	ck_assert_int_eq(pg_write_tmp(g, x->path), 0);
	rc = pb_capture_open_file(&x->c, x->path, o);
	/* the capture keeps its descriptor: no file is left behind even
	 * when an assertion ends the test early */
	pg_unlink(x->path);
	return rc;
}

static void read_all(struct run *x)
{
	struct pb_packet p;
	int rc;

	x->n = 0;
	while ((rc = pb_capture_next(x->c, &p)) == 0) {
		ck_assert_int_lt(x->n, MAX_RECS);
		x->r[x->n].p = p;
		memcpy(x->r[x->n].data, p.data,
		       p.caplen < sizeof(x->r[0].data) ? p.caplen : sizeof(x->r[0].data));
		x->n++;
	}
	x->end_rc = rc;
	/* once ended, a capture stays ended */
	ck_assert_int_eq(pb_capture_next(x->c, &p), PB_EOF);
}

/* Open an image, read it all, keep the capture for its stats. */
static void run_img(struct run *x, const struct pg *g, const struct pb_capture_opts *o)
{
	ck_assert_int_eq(open_img(x, g, o), 0);
	read_all(x);
}

/* (the file itself was removed as soon as it was opened) */
static void run_done(struct run *x)
{
	pb_capture_free(x->c);
	x->c = NULL;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* ---- pcap ---- */

/* _i: bit 0 big-endian, bit 1 nanoseconds */
START_TEST(test_pcap_orders_and_units)
{
	int be = _i & 1, nsec = (_i & 2) != 0;
	struct pg g;
	struct run x;
	uint8_t f[60];
	const struct pb_capture_stats *st;
	int i;

	pg_init(&g, be);
	/* FCS bits above the link type are not part of it */
	pg_pcap_header(&g, nsec ? PG_PCAP_NSEC : PG_PCAP_USEC, 65535, 0x14000000u | 1);
	for (i = 0; i < 3; i++) {
		pattern(f, sizeof(f), (uint8_t)(i * 16));
		pg_pcap_rec(&g, 1700000000u + (uint32_t)i,
			    nsec ? 123456789u + (uint32_t)i : 123456u + (uint32_t)i,
			    f, 40 + (size_t)i * 10);
	}
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.end_rc, PB_EOF);
	ck_assert_int_eq(x.n, 3);
	ck_assert_int_eq(pb_capture_kind(x.c), PB_INPUT_PCAP);
	for (i = 0; i < 3; i++) {
		const struct pb_packet *p = &x.r[i].p;

		ck_assert_uint_eq(p->index, (uint64_t)i + 1);
		ck_assert_int_eq(p->ts.sec, 1700000000 + i);
		if (nsec) {
			ck_assert_uint_eq(p->ts.nsec, 123456789u + (uint32_t)i);
			ck_assert_uint_eq(p->ts.prec, 9);
		} else {
			ck_assert_uint_eq(p->ts.nsec, (123456u + (uint32_t)i) * 1000u);
			ck_assert_uint_eq(p->ts.prec, 6);
		}
		ck_assert_uint_eq(p->caplen, 40 + (uint32_t)i * 10);
		ck_assert_uint_eq(p->len, p->caplen);
		ck_assert_uint_eq(p->linktype, 1);
		ck_assert_uint_eq(p->iface, 0);
		ck_assert_uint_eq(x.r[i].data[0], (uint8_t)(i * 16));
		ck_assert_uint_eq(x.r[i].data[39], (uint8_t)(i * 16 + 39));
	}
	st = pb_capture_stats(x.c);
	ck_assert_uint_eq(st->records, 3);
	ck_assert_uint_eq(st->packets, 3);
	ck_assert_uint_eq(st->bad + st->truncated + st->oversized + st->filtered, 0);
	ck_assert_uint_eq(st->size, g.len);
	ck_assert_uint_eq(st->bytes, g.len);
	ck_assert_uint_eq(pb_capture_errors(x.c), 0);
	ck_assert_str_eq(pb_capture_name(x.c), x.path);
	run_done(&x);
	pg_free(&g);
}
END_TEST

START_TEST(test_pcap_kuznetzov)
{
	int be = _i;
	struct pg g;
	struct run x;
	uint8_t f[50];

	pg_init(&g, be);
	pg_pcap_header(&g, PG_PCAP_KUZNETZOV, 65535, 1);
	pattern(f, sizeof(f), 0x10);
	pg_pcap_rec_kuz(&g, 1000, 5, f, 50);
	pattern(f, sizeof(f), 0x80);
	pg_pcap_rec_kuz(&g, 1001, 999999, f, 30);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.end_rc, PB_EOF);
	ck_assert_int_eq(x.n, 2);
	ck_assert_uint_eq(x.r[0].p.caplen, 50);
	ck_assert_uint_eq(x.r[0].data[0], 0x10); /* the 8 extra bytes skipped */
	ck_assert_uint_eq(x.r[0].data[49], 0x10 + 49);
	ck_assert_int_eq(x.r[0].p.ts.sec, 1000);
	ck_assert_uint_eq(x.r[0].p.ts.nsec, 5000);
	ck_assert_uint_eq(x.r[0].p.ts.prec, 6);
	ck_assert_uint_eq(x.r[1].p.caplen, 30);
	ck_assert_uint_eq(x.r[1].data[0], 0x80);
	ck_assert_uint_eq(x.r[1].p.ts.nsec, 999999000);
	ck_assert_uint_eq(pb_capture_errors(x.c), 0);
	run_done(&x);
	pg_free(&g);
}
END_TEST

START_TEST(test_pcap_odd_records)
{
	struct pg g;
	struct run x;
	uint8_t f[100];
	const struct pb_capture_stats *st;

	pattern(f, sizeof(f), 1);
	pg_init(&g, 0);
	pg_pcap_header(&g, PG_PCAP_USEC, 64, 1);
	/* a microsecond field past one second is carried into seconds */
	pg_pcap_rec(&g, 10, 2500000, f, 20);
	/* caplen above the snaplen: counted, kept */
	pg_pcap_rec(&g, 11, 0, f, 100);
	/* caplen above the original length: counted, kept */
	pg_pcap_rec_raw(&g, 12, 0, 30, 20, f, 30);
	/* snaplen cut: fewer bytes than on the wire */
	pg_pcap_rec_raw(&g, 13, 0, 10, 1500, f, 10);
	/* an empty record */
	pg_pcap_rec(&g, 14, 0, f, 0);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.end_rc, PB_EOF);
	ck_assert_int_eq(x.n, 5);
	ck_assert_int_eq(x.r[0].p.ts.sec, 12);
	ck_assert_uint_eq(x.r[0].p.ts.nsec, 500000000);
	ck_assert_uint_eq(x.r[1].p.caplen, 100);
	ck_assert_uint_eq(x.r[2].p.caplen, 30);
	ck_assert_uint_eq(x.r[2].p.len, 20);
	ck_assert_uint_eq(x.r[3].p.caplen, 10);
	ck_assert_uint_eq(x.r[3].p.len, 1500);
	ck_assert_uint_eq(x.r[4].p.caplen, 0);
	ck_assert_uint_eq(x.r[4].p.index, 5);
	st = pb_capture_stats(x.c);
	ck_assert_uint_eq(st->snaplen_exceeded, 1);
	ck_assert_uint_eq(st->caplen_gt_len, 1);
	ck_assert_uint_eq(st->records, 5);
	ck_assert_uint_eq(pb_capture_errors(x.c), 0);
	run_done(&x);
	pg_free(&g);
}
END_TEST

START_TEST(test_pcap_gzip)
{
	struct pg g;
	struct run x;
	uint8_t f[200];
	const struct pb_capture_stats *st;
	struct pb_capture_opts o;
	uint64_t gz_size;
	int i, rc;

	pg_init(&g, 0);
	pg_pcap_header(&g, PG_PCAP_NSEC, 65535, 101);
	for (i = 0; i < 10; i++) {
		pattern(f, sizeof(f), (uint8_t)i);
		pg_pcap_rec(&g, 100 + (uint32_t)i, (uint32_t)i, f, 60 + (size_t)i * 14);
	}
	ck_assert_int_eq(pg_write_gz(&g, x.path), 0);
	gz_size = file_size(x.path);
	pb_capture_opts_init(&o);
	rc = pb_capture_open_file(&x.c, x.path, &o);
	pg_unlink(x.path);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_lt(gz_size, g.len); /* really compressed */
	ck_assert_int_eq(pb_capture_kind(x.c), PB_INPUT_PCAP);
	read_all(&x);
	ck_assert_int_eq(x.end_rc, PB_EOF);
	ck_assert_int_eq(x.n, 10);
	for (i = 0; i < 10; i++) {
		ck_assert_uint_eq(x.r[i].p.caplen, 60 + (uint32_t)i * 14);
		ck_assert_uint_eq(x.r[i].p.linktype, 101);
		ck_assert_int_eq(x.r[i].p.ts.sec, 100 + i);
		ck_assert_uint_eq(x.r[i].p.ts.nsec, (uint32_t)i);
		ck_assert_uint_eq(x.r[i].p.ts.prec, 9);
		ck_assert_uint_eq(x.r[i].data[0], (uint8_t)i);
		ck_assert_uint_eq(x.r[i].data[59], (uint8_t)(i + 59));
	}
	st = pb_capture_stats(x.c);
	/* progress counts the compressed bytes of the file */
	ck_assert_uint_eq(st->size, gz_size);
	ck_assert_uint_eq(st->bytes, st->size);
	ck_assert_uint_eq(pb_capture_errors(x.c), 0);
	run_done(&x);
	pg_free(&g);
}
END_TEST

/* ---- pcapng ---- */

static const uint64_t T_US = 1700000000ULL * 1000000 + 123456;

START_TEST(test_pcapng_sections)
{
	struct pg g;
	struct run x;
	uint8_t f[64], body[13] = "custom block";
	const struct pb_capture_stats *st;
	const struct pb_packet *p;

	pg_init(&g, 0);
	/* section 1, little-endian: ten interfaces, so the table grows */
	pg_shb(&g);
	pg_idb(&g, 1, 65535, -1, 0, 0);        /* 0: Ethernet, microseconds */
	pg_idb(&g, 101, 0, 9, 0, 0);           /* 1: raw IP, nanoseconds */
	pg_idb(&g, 228, 0, 3, 1, -100);        /* 2: ms, offset -100 s */
	pg_idb(&g, 1, 0, 6, 0, 0);
	pg_idb(&g, 1, 0, 6, 0, 0);
	pg_idb(&g, 1, 0, 6, 0, 0);
	pg_idb(&g, 1, 0, 6, 0, 0);
	pg_idb(&g, 1, 0, 6, 0, 0);
	pg_idb(&g, 1, 0, 6, 0, 0);
	pg_idb(&g, 113, 0, 6, 0, 0);           /* 9: SLL */
	pattern(f, sizeof(f), 0);
	pg_epb(&g, 0, T_US, f, 60);
	pg_block(&g, PG_NG_NRB, body, 8);      /* skipped */
	pg_epb(&g, 1, 1700000000123456789ULL, f, 40);
	pg_block(&g, 0x00000bad, body, 12);    /* unknown: skipped */
	pg_epb(&g, 2, 1700000000123ULL, f, 20);
	pg_block(&g, PG_NG_ISB, body, 12);     /* statistics: skipped */
	pg_epb(&g, 9, T_US, f, 24);
	/* section 2, big-endian, numbering restarts */
	g.be = 1;
	pg_shb(&g);
	pg_idb(&g, 276, 128, 0x80 | 20, 1, 1000); /* 2^-20 s, +1000 s */
	pg_idb(&g, 1, 48, -1, 0, 0);
	pg_epb(&g, 0, (1700000000ULL << 20) | (1u << 19), f, 30);
	pg_epb(&g, 1, T_US, f, 50);            /* 50 > snaplen 48: counted */
	pg_spb(&g, 100, f, 14);                /* interface 0, no time */
	pg_pb(&g, 1, T_US + 1, f, 34);
	pg_block(&g, 0x40000bad, body, 4);     /* custom: skipped */
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.end_rc, PB_EOF);
	ck_assert_int_eq(pb_capture_kind(x.c), PB_INPUT_PCAPNG);
	ck_assert_int_eq(x.n, 8);

	p = &x.r[0].p; /* Ethernet, default microseconds */
	ck_assert_uint_eq(p->index, 1);
	ck_assert_uint_eq(p->linktype, 1);
	ck_assert_uint_eq(p->iface, 0);
	ck_assert_int_eq(p->ts.sec, 1700000000);
	ck_assert_uint_eq(p->ts.nsec, 123456000);
	ck_assert_uint_eq(p->ts.prec, 6);
	ck_assert_uint_eq(p->caplen, 60);
	ck_assert_uint_eq(x.r[0].data[59], 59);

	p = &x.r[1].p; /* raw IP, nanoseconds */
	ck_assert_uint_eq(p->linktype, 101);
	ck_assert_uint_eq(p->iface, 1);
	ck_assert_int_eq(p->ts.sec, 1700000000);
	ck_assert_uint_eq(p->ts.nsec, 123456789);
	ck_assert_uint_eq(p->ts.prec, 9);
	ck_assert_uint_eq(p->caplen, 40);

	p = &x.r[2].p; /* milliseconds, offset -100 s */
	ck_assert_uint_eq(p->linktype, 228);
	ck_assert_uint_eq(p->iface, 2);
	ck_assert_int_eq(p->ts.sec, 1700000000 - 100);
	ck_assert_uint_eq(p->ts.nsec, 123000000);
	ck_assert_uint_eq(p->ts.prec, 6);

	p = &x.r[3].p; /* the tenth interface */
	ck_assert_uint_eq(p->linktype, 113);
	ck_assert_uint_eq(p->iface, 9);
	ck_assert_uint_eq(p->caplen, 24);

	p = &x.r[4].p; /* section 2, 2^-20 s and +1000 s */
	ck_assert_uint_eq(p->index, 5);
	ck_assert_uint_eq(p->linktype, 276);
	ck_assert_uint_eq(p->iface, 10);
	ck_assert_int_eq(p->ts.sec, 1700000000 + 1000);
	ck_assert_uint_eq(p->ts.nsec, 500000000);
	ck_assert_uint_eq(p->ts.prec, 6);
	ck_assert_uint_eq(p->caplen, 30);
	ck_assert_uint_eq(x.r[4].data[29], 29);

	p = &x.r[5].p;
	ck_assert_uint_eq(p->linktype, 1);
	ck_assert_uint_eq(p->iface, 11);
	ck_assert_uint_eq(p->caplen, 50);

	p = &x.r[6].p; /* SPB: interface 0 of the section, no timestamp */
	ck_assert_uint_eq(p->linktype, 276);
	ck_assert_uint_eq(p->iface, 10);
	ck_assert_uint_eq(p->len, 100);
	ck_assert_uint_eq(p->caplen, 16); /* the block's bytes, padding included */
	ck_assert_int_eq(p->ts.sec, 0);
	ck_assert_uint_eq(p->ts.nsec, 0);
	ck_assert_uint_eq(x.r[6].data[13], 13);

	p = &x.r[7].p; /* obsolete Packet Block */
	ck_assert_uint_eq(p->linktype, 1);
	ck_assert_uint_eq(p->iface, 11);
	ck_assert_uint_eq(p->caplen, 34);
	ck_assert_int_eq(p->ts.sec, 1700000000);
	ck_assert_uint_eq(p->ts.nsec, 123457000);

	st = pb_capture_stats(x.c);
	ck_assert_uint_eq(st->records, 8);
	ck_assert_uint_eq(st->packets, 8);
	ck_assert_uint_eq(st->snaplen_exceeded, 1);
	ck_assert_uint_eq(st->bad, 0);
	ck_assert_uint_eq(st->bytes, g.len);
	ck_assert_uint_eq(pb_capture_errors(x.c), 0);
	run_done(&x);
	pg_free(&g);
}
END_TEST

START_TEST(test_pcapng_spb_snaplen)
{
	struct pg g;
	struct run x;
	uint8_t f[64];

	/* an SPB is cut to the original length and to interface 0's snaplen */
	pattern(f, sizeof(f), 0);
	pg_init(&g, 1);
	pg_shb(&g);
	pg_idb(&g, 1, 20, -1, 0, 0);
	pg_spb(&g, 60, f, 60);
	pg_spb(&g, 10, f, 12);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.n, 2);
	ck_assert_uint_eq(x.r[0].p.caplen, 20);
	ck_assert_uint_eq(x.r[0].p.len, 60);
	ck_assert_uint_eq(x.r[1].p.caplen, 10);
	ck_assert_uint_eq(x.r[1].p.len, 10);
	ck_assert_uint_eq(pb_capture_errors(x.c), 0);
	run_done(&x);
	pg_free(&g);
}
END_TEST

/* ---- NDJSON ---- */

static char *b64(const void *p, size_t n)
{
	char *s = malloc(pb_base64_enc_len(n) + 1);

	ck_assert_ptr_nonnull(s);
	pb_base64_encode(s, p, n);
	s[pb_base64_enc_len(n)] = '\0';
	return s;
}

START_TEST(test_ndjson)
{
	uint8_t f[64];
	char *d, text[4096];
	struct run x;
	struct pb_capture_opts o;
	const struct pb_capture_stats *st;

	pattern(f, sizeof(f), 0x40);
	d = b64(f, 42);
	snprintf(text, sizeof(text),
		 "\n  \n"
		 "{\"@timestamp\":\"2024-02-29T12:34:56.123456789Z\",\"packet\":{\"data\":\"%s\","
		 "\"index\":7,\"length\":100,\"linktype\":101,\"interface\":3}}\n"
		 "{\"@timestamp\":\"1700000000.5\",\"packet.data\":\"%s\",\"packet.length\":60}\n"
		 "\n"
		 " \t \n"
		 "this is not json\n"
		 "{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"packet\":{\"length\":5}}\n"
		 "{\"@timestamp\":\"not a time\",\"packet.data\":\"%s\"}\n"
		 "{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"packet.data\":\"!!!!\"}\n"
		 "[1,2,3]\n"
		 "{\"@timestamp\":\"2024-01-01T00:00:00.5Z\",\"packet\":{\"data\":\"%s\"},"
		 "\"packet.index\":\"12\",\"packet.interface\":2}\r\n"
		 "{\"@timestamp\":\"2024-01-01T00:00:01Z\",\"packet.data\":\"%s\","
		 "\"packet.length\":-1,\"packet.linktype\":1.5,\"packet.index\":0}",
		 d, d, d, d, d);
	free(d);
	ck_assert_int_eq(pg_write_str(text, x.path), 0);
	pb_capture_opts_init(&o);
	ck_assert_int_eq(pb_capture_open_file(&x.c, x.path, &o), 0);
	pg_unlink(x.path);
	ck_assert_int_eq(pb_capture_kind(x.c), PB_INPUT_NDJSON);
	read_all(&x);
	ck_assert_int_eq(x.end_rc, PB_EOF);
	ck_assert_int_eq(x.n, 4);

	/* nested keys */
	ck_assert_uint_eq(x.r[0].p.index, 7);
	ck_assert_uint_eq(x.r[0].p.caplen, 42);
	ck_assert_uint_eq(x.r[0].p.len, 100);
	ck_assert_uint_eq(x.r[0].p.linktype, 101);
	ck_assert_uint_eq(x.r[0].p.iface, 3);
	ck_assert_int_eq(x.r[0].p.ts.sec, 1709210096);
	ck_assert_uint_eq(x.r[0].p.ts.nsec, 123456789);
	ck_assert_uint_eq(x.r[0].p.ts.prec, 9);
	ck_assert_mem_eq(x.r[0].data, f, 42);

	/* dotted keys, defaults, epoch time */
	ck_assert_uint_eq(x.r[1].p.index, 2);
	ck_assert_uint_eq(x.r[1].p.len, 60);
	ck_assert_uint_eq(x.r[1].p.linktype, 1);
	ck_assert_uint_eq(x.r[1].p.iface, 0);
	ck_assert_int_eq(x.r[1].p.ts.sec, 1700000000);
	ck_assert_uint_eq(x.r[1].p.ts.nsec, 500000000);
	ck_assert_uint_eq(x.r[1].p.ts.prec, 6);

	/* nested and dotted mixed in one record; index as a string */
	ck_assert_uint_eq(x.r[2].p.index, 12);
	ck_assert_uint_eq(x.r[2].p.iface, 2);
	ck_assert_uint_eq(x.r[2].p.len, 42);

	/* out-of-range numbers are taken as absent */
	ck_assert_uint_eq(x.r[3].p.index, 4);
	ck_assert_uint_eq(x.r[3].p.len, 42);
	ck_assert_uint_eq(x.r[3].p.linktype, 1);

	st = pb_capture_stats(x.c);
	ck_assert_uint_eq(st->records, 9);
	ck_assert_uint_eq(st->bad, 5);
	ck_assert_uint_eq(st->packets, 4);
	ck_assert_uint_eq(pb_capture_errors(x.c), 5);
	ck_assert_uint_eq(st->bytes, strlen(text));
	run_done(&x);
}
END_TEST

START_TEST(test_ndjson_strict)
{
	uint8_t f[20];
	char *d, text[1024];
	struct run x;
	struct pb_capture_opts o;
	struct pb_packet p;
	const struct pb_capture_stats *st;

	pattern(f, sizeof(f), 0);
	d = b64(f, 20);
	snprintf(text, sizeof(text),
		 "{\"@timestamp\":\"1\",\"packet.data\":\"%s\"}\n"
		 "{\"@timestamp\":\"2\"}\n"
		 "{\"@timestamp\":\"3\",\"packet.data\":\"%s\"}\n", d, d);
	free(d);
	ck_assert_int_eq(pg_write_str(text, x.path), 0);
	pb_capture_opts_init(&o);
	o.strict = 1;
	ck_assert_int_eq(pb_capture_open_file(&x.c, x.path, &o), 0);
	pg_unlink(x.path);
	ck_assert_int_eq(pb_capture_next(x.c, &p), 0);
	ck_assert_int_eq(p.ts.sec, 1);
	ck_assert_int_eq(pb_capture_next(x.c, &p), PB_EINVAL);
	ck_assert_int_eq(pb_capture_next(x.c, &p), PB_EOF);
	st = pb_capture_stats(x.c);
	ck_assert_uint_eq(st->packets, 1);
	ck_assert_uint_eq(st->bad, 1);
	ck_assert_uint_eq(st->records, 2);
	ck_assert_uint_eq(pb_capture_errors(x.c), 1);
	run_done(&x);

	/* without --strict the same input gives two packets */
	ck_assert_int_eq(pg_write_str(text, x.path), 0);
	o.strict = 0;
	ck_assert_int_eq(pb_capture_open_file(&x.c, x.path, &o), 0);
	pg_unlink(x.path);
	read_all(&x);
	ck_assert_int_eq(x.n, 2);
	ck_assert_int_eq(x.r[1].p.ts.sec, 3);
	ck_assert_uint_eq(x.r[1].p.index, 2);
	ck_assert_uint_eq(pb_capture_errors(x.c), 1);
	run_done(&x);
}
END_TEST

/* ---- hostile inputs ---- */

static int open_bytes(const void *p, size_t n, struct run *x)
{
	struct pb_capture_opts o;
	int rc;

	pb_capture_opts_init(&o);
	ck_assert_int_eq(pg_write_bytes(p, n, x->path), 0);
	x->c = NULL;
	rc = pb_capture_open_file(&x->c, x->path, &o);
	pg_unlink(x->path);
	if (rc < 0)
		ck_assert_ptr_null(x->c);
	return rc;
}

START_TEST(test_hostile_open)
{
	static const uint8_t pcap_le[] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0 };
	static const uint8_t ng[] = { 0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0 };
	struct run x;

	/* empty */
	ck_assert_int_eq(open_bytes("", 0, &x), PB_EFORMAT);
	/* three bytes of a pcap magic */
	ck_assert_int_eq(open_bytes(pcap_le, 3, &x), PB_EFORMAT);
	/* a truncated global header */
	ck_assert_int_eq(open_bytes(pcap_le, sizeof(pcap_le), &x), PB_ETRUNC);
	/* a truncated section header */
	ck_assert_int_eq(open_bytes(ng, sizeof(ng), &x), PB_ETRUNC);
	/* neither a capture nor JSON */
	ck_assert_int_eq(open_bytes("hello world\n", 12, &x), PB_EFORMAT);
	ck_assert_int_eq(open_bytes("\n\n\n", 3, &x), PB_EFORMAT);
	/* a file that does not exist, and a directory */
	{
		struct pb_capture *c = NULL;
		struct pb_capture_opts o;

		pb_capture_opts_init(&o);
		ck_assert_int_eq(pb_capture_open_file(&c, "/nonexistent/pbtest.pcap", &o),
				 PB_EIO);
		ck_assert_ptr_null(c);
		ck_assert_int_eq(pb_capture_open_file(&c, "/", &o), PB_EIO);
		ck_assert_ptr_null(c);
	}
}
END_TEST

START_TEST(test_hostile_pcap_truncated)
{
	struct pg g;
	struct run x;
	uint8_t f[60];
	const struct pb_capture_stats *st;

	pattern(f, sizeof(f), 0);
	/* the last record's data is cut short */
	pg_init(&g, 0);
	pg_pcap_header(&g, PG_PCAP_USEC, 65535, 1);
	pg_pcap_rec(&g, 1, 0, f, 60);
	pg_pcap_rec(&g, 2, 0, f, 60);
	pg_pcap_rec_raw(&g, 3, 0, 60, 60, f, 20);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.n, 2);
	ck_assert_int_eq(x.end_rc, PB_ETRUNC);
	st = pb_capture_stats(x.c);
	ck_assert_uint_eq(st->truncated, 1);
	ck_assert_uint_eq(st->records, 3);
	ck_assert_uint_eq(st->packets, 2);
	ck_assert_uint_eq(pb_capture_errors(x.c), 1);
	run_done(&x);
	pg_free(&g);

	/* the last record header is cut short */
	pg_init(&g, 1);
	pg_pcap_header(&g, PG_PCAP_NSEC, 65535, 1);
	pg_pcap_rec(&g, 1, 0, f, 60);
	pg_u32(&g, 2);
	pg_u32(&g, 0);
	pg_u16(&g, 0);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.n, 1);
	ck_assert_int_eq(x.end_rc, PB_ETRUNC);
	st = pb_capture_stats(x.c);
	ck_assert_uint_eq(st->truncated, 1);
	ck_assert_uint_eq(st->records, 1);
	ck_assert_uint_eq(pb_capture_errors(x.c), 1);
	run_done(&x);
	pg_free(&g);

	/* a header and no records is a valid, empty capture */
	pg_init(&g, 0);
	pg_pcap_header(&g, PG_PCAP_USEC, 65535, 1);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.n, 0);
	ck_assert_int_eq(x.end_rc, PB_EOF);
	ck_assert_uint_eq(pb_capture_errors(x.c), 0);
	run_done(&x);
	pg_free(&g);
}
END_TEST

START_TEST(test_hostile_pcap_oversized)
{
	struct pg g;
	struct run x;
	uint8_t f[60];
	const struct pb_capture_stats *st;

	pattern(f, sizeof(f), 0);
	pg_init(&g, 0);
	pg_pcap_header(&g, PG_PCAP_USEC, 65535, 1);
	pg_pcap_rec(&g, 1, 0, f, 60);
	/* 262145 bytes: one past the largest frame; reading stops */
	pg_pcap_rec_raw(&g, 2, 0, PB_MAX_FRAME + 1, PB_MAX_FRAME + 1, f, 60);
	pg_pcap_rec(&g, 3, 0, f, 60);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.n, 1);
	ck_assert_int_eq(x.end_rc, PB_ETOOBIG);
	st = pb_capture_stats(x.c);
	ck_assert_uint_eq(st->oversized, 1);
	ck_assert_uint_eq(st->bad, 1);
	ck_assert_uint_eq(st->records, 2);
	ck_assert_uint_eq(pb_capture_errors(x.c), 1);
	run_done(&x);
	pg_free(&g);

	/* exactly the largest frame is fine */
	{
		uint8_t *big = calloc(1, PB_MAX_FRAME);

		ck_assert_ptr_nonnull(big);
		big[PB_MAX_FRAME - 1] = 0x77;
		pg_init(&g, 0);
		pg_pcap_header(&g, PG_PCAP_USEC, 0, 1);
		pg_pcap_rec(&g, 1, 0, big, PB_MAX_FRAME);
		pg_pcap_rec(&g, 2, 0, f, 60);
		free(big);
		run_img(&x, &g, NULL);
		ck_assert_int_eq(x.n, 2);
		ck_assert_uint_eq(x.r[0].p.caplen, PB_MAX_FRAME);
		ck_assert_uint_eq(pb_capture_errors(x.c), 0);
		run_done(&x);
		pg_free(&g);
	}
}
END_TEST

START_TEST(test_hostile_pcapng_oversized)
{
	struct pg g;
	struct run x;
	uint8_t f[60], *big;
	const struct pb_capture_stats *st;

	pattern(f, sizeof(f), 0);
	big = calloc(1, PB_MAX_FRAME + 100);
	ck_assert_ptr_nonnull(big);
	pg_init(&g, 0);
	pg_shb(&g);
	pg_idb(&g, 1, 0, -1, 0, 0);
	pg_epb(&g, 0, T_US, f, 60);
	/* a real 262244-byte frame in a block: skipped, reading goes on */
	pg_epb(&g, 0, T_US, big, PB_MAX_FRAME + 100);
	pg_epb(&g, 0, T_US + 1, f, 50);
	/* a caplen past the end of its block: skipped */
	pg_epb_raw(&g, 0, T_US, 1000, 1000, f, 60);
	/* a caplen of 4 GiB - 1 in a small block */
	pg_epb_raw(&g, 0, T_US, 0xffffffffu, 60, f, 60);
	pg_epb(&g, 0, T_US + 2, f, 40);
	free(big);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.end_rc, PB_EOF);
	ck_assert_int_eq(x.n, 3);
	ck_assert_uint_eq(x.r[0].p.index, 1);
	ck_assert_uint_eq(x.r[1].p.index, 3);
	ck_assert_uint_eq(x.r[1].p.caplen, 50);
	ck_assert_uint_eq(x.r[2].p.index, 6);
	ck_assert_uint_eq(x.r[2].p.caplen, 40);
	st = pb_capture_stats(x.c);
	ck_assert_uint_eq(st->records, 6);
	ck_assert_uint_eq(st->bad, 3);
	ck_assert_uint_eq(st->oversized, 2);
	ck_assert_uint_eq(pb_capture_errors(x.c), 3);
	ck_assert_uint_eq(st->bytes, g.len);
	run_done(&x);
	pg_free(&g);
}
END_TEST

/* _i: 0 length < 12, 1 not a multiple of 4, 2 huge, 3 zero */
START_TEST(test_hostile_pcapng_block_length)
{
	static const uint32_t lens[] = { 8, 30, 0x7ffffff0u, 0 };
	struct pg g;
	struct run x;
	uint8_t f[60];
	const struct pb_capture_stats *st;

	pattern(f, sizeof(f), 0);
	pg_init(&g, _i & 1);
	pg_shb(&g);
	pg_idb(&g, 1, 0, -1, 0, 0);
	pg_epb(&g, 0, T_US, f, 60);
	pg_u32(&g, PG_NG_EPB);
	pg_u32(&g, lens[_i]);
	pg_bytes(&g, f, 40);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.n, 1);
	ck_assert_int_eq(x.end_rc, PB_EINVAL);
	st = pb_capture_stats(x.c);
	ck_assert_uint_eq(st->bad, 1);
	ck_assert_uint_eq(pb_capture_errors(x.c), 1);
	run_done(&x);
	pg_free(&g);
}
END_TEST

START_TEST(test_hostile_pcapng_misc)
{
	struct pg g;
	struct run x;
	uint8_t f[60];
	const struct pb_capture_stats *st;

	pattern(f, sizeof(f), 0);
	/* interface ids out of range: skipped, reading goes on */
	pg_init(&g, 0);
	pg_shb(&g);
	pg_idb(&g, 1, 0, -1, 0, 0);
	pg_epb(&g, 1, T_US, f, 60);
	pg_epb(&g, 0xffffffffu, T_US, f, 60);
	pg_pb(&g, 7, T_US, f, 60);
	pg_epb(&g, 0, T_US, f, 60);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.end_rc, PB_EOF);
	ck_assert_int_eq(x.n, 1);
	ck_assert_uint_eq(x.r[0].p.index, 4);
	st = pb_capture_stats(x.c);
	ck_assert_uint_eq(st->bad, 3);
	ck_assert_uint_eq(st->records, 4);
	ck_assert_uint_eq(pb_capture_errors(x.c), 3);
	run_done(&x);
	pg_free(&g);

	/* a packet before any interface, and an EPB too short for its header */
	pg_init(&g, 1);
	pg_shb(&g);
	pg_epb(&g, 0, T_US, f, 60);
	pg_idb(&g, 1, 0, -1, 0, 0);
	pg_block(&g, PG_NG_EPB, f, 8);
	pg_epb(&g, 0, T_US, f, 10);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.n, 1);
	ck_assert_uint_eq(x.r[0].p.caplen, 10);
	ck_assert_uint_eq(pb_capture_stats(x.c)->bad, 2);
	run_done(&x);
	pg_free(&g);

	/* interfaces of an earlier section are gone in the next one */
	pg_init(&g, 0);
	pg_shb(&g);
	pg_idb(&g, 1, 0, -1, 0, 0);
	pg_idb(&g, 1, 0, -1, 0, 0);
	pg_shb(&g);
	pg_idb(&g, 101, 0, -1, 0, 0);
	pg_epb(&g, 1, T_US, f, 60);
	pg_epb(&g, 0, T_US, f, 60);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.n, 1);
	ck_assert_uint_eq(x.r[0].p.linktype, 101);
	ck_assert_uint_eq(x.r[0].p.iface, 2);
	ck_assert_uint_eq(pb_capture_stats(x.c)->bad, 1);
	run_done(&x);
	pg_free(&g);

	/* the last block cut short */
	pg_init(&g, 0);
	pg_shb(&g);
	pg_idb(&g, 1, 0, -1, 0, 0);
	pg_epb(&g, 0, T_US, f, 60);
	pg_epb(&g, 0, T_US, f, 60);
	g.len -= 30;
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.n, 1);
	ck_assert_int_eq(x.end_rc, PB_ETRUNC);
	ck_assert_uint_eq(pb_capture_stats(x.c)->truncated, 1);
	ck_assert_uint_eq(pb_capture_errors(x.c), 1);
	run_done(&x);
	pg_free(&g);

	/* a section header with a bad byte-order magic */
	pg_init(&g, 0);
	pg_shb(&g);
	pg_idb(&g, 1, 0, -1, 0, 0);
	pg_epb(&g, 0, T_US, f, 60);
	pg_u32(&g, PG_NG_SHB);
	pg_u32(&g, 28);
	pg_u32(&g, 0x11223344);
	pg_zeros(&g, 16);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.n, 1);
	ck_assert_int_eq(x.end_rc, PB_EINVAL);
	ck_assert_uint_eq(pb_capture_errors(x.c), 1);
	run_done(&x);
	pg_free(&g);

	/* an IDB whose options run past its body */
	pg_init(&g, 0);
	pg_shb(&g);
	{
		size_t off = pg_block_begin(&g, PG_NG_IDB);

		pg_u16(&g, 1);
		pg_u16(&g, 0);
		pg_u32(&g, 0);
		pg_u16(&g, 9);   /* if_tsresol */
		pg_u16(&g, 200); /* longer than the block */
		pg_u32(&g, 0);
		pg_block_end(&g, off);
	}
	pg_epb(&g, 0, T_US, f, 60);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.end_rc, PB_EOF);
	ck_assert_int_eq(x.n, 1);
	ck_assert_uint_eq(x.r[0].p.ts.prec, 6); /* the default resolution */
	ck_assert_int_eq(x.r[0].p.ts.sec, 1700000000);
	run_done(&x);
	pg_free(&g);

	/* absurd if_tsoffset values saturate instead of wrapping around */
	pg_init(&g, 0);
	pg_shb(&g);
	pg_idb(&g, 1, 0, -1, 1, INT64_MAX);
	pg_idb(&g, 1, 0, -1, 1, INT64_MIN);
	pg_idb(&g, 1, 0, 0x80 | 70, 0, 0); /* 2^-70: taken as 2^-63 */
	pg_epb(&g, 0, T_US, f, 60);
	pg_epb(&g, 1, T_US, f, 60);
	pg_epb(&g, 2, UINT64_MAX, f, 60);
	run_img(&x, &g, NULL);
	ck_assert_int_eq(x.n, 3);
	ck_assert_int_eq(x.r[0].p.ts.sec, INT64_MAX);
	ck_assert_int_eq(x.r[1].p.ts.sec, INT64_MIN + 1700000000);
	ck_assert_int_eq(x.r[2].p.ts.sec, 1);
	ck_assert_uint_lt(x.r[2].p.ts.nsec, 1000000000u);
	ck_assert_uint_eq(x.r[2].p.ts.prec, 9);
	run_done(&x);
	pg_free(&g);
}
END_TEST

/* ---- filter and limits ---- */

START_TEST(test_bpf_filter)
{
	struct pg g;
	struct run x;
	struct pb_capture_opts o;
	uint8_t f[128];
	const struct pb_capture_stats *st;
	size_t n;
	int i;

	pg_init(&g, 0);
	pg_pcap_header(&g, PG_PCAP_USEC, 65535, 1);
	for (i = 0; i < 6; i++) {
		n = mkframe(f, 0, i % 2 ? 17 : 6, (uint16_t)(1000 + i), 53, (size_t)i);
		pg_pcap_rec(&g, (uint32_t)i, 0, f, n);
	}
	pb_capture_opts_init(&o);
	o.bpf = "tcp";
	run_img(&x, &g, &o);
	ck_assert_int_eq(x.end_rc, PB_EOF);
	ck_assert_int_eq(x.n, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(x.r[i].p.index, (uint64_t)i * 2 + 1);
		ck_assert_uint_eq(x.r[i].data[23], 6);
	}
	st = pb_capture_stats(x.c);
	ck_assert_uint_eq(st->records, 6);
	ck_assert_uint_eq(st->packets, 3);
	ck_assert_uint_eq(st->filtered, 3);
	ck_assert_uint_eq(pb_capture_errors(x.c), 0);
	run_done(&x);

	o.bpf = "udp and src port 1003";
	run_img(&x, &g, &o);
	ck_assert_int_eq(x.n, 1);
	ck_assert_uint_eq(x.r[0].p.index, 4);
	ck_assert_uint_eq(pb_capture_stats(x.c)->filtered, 5);
	run_done(&x);
	pg_free(&g);
}
END_TEST

START_TEST(test_bpf_filter_linktypes)
{
	struct pg g;
	struct run x;
	struct pb_capture_opts o;
	uint8_t f[128];
	size_t n;

	/* Ethernet and raw IP interfaces: one program per link type */
	pg_init(&g, 0);
	pg_shb(&g);
	pg_idb(&g, 1, 0, -1, 0, 0);
	pg_idb(&g, 101, 0, -1, 0, 0);
	n = mkframe(f, 0, 6, 1, 2, 0);
	pg_epb(&g, 0, T_US, f, n);
	n = mkframe(f, 1, 17, 1, 2, 0);
	pg_epb(&g, 1, T_US, f, n);
	n = mkframe(f, 1, 6, 1, 2, 0);
	pg_epb(&g, 1, T_US, f, n);
	n = mkframe(f, 0, 17, 1, 2, 4);
	pg_epb(&g, 0, T_US, f, n);
	pb_capture_opts_init(&o);
	o.bpf = "udp";
	run_img(&x, &g, &o);
	ck_assert_int_eq(x.n, 2);
	ck_assert_uint_eq(x.r[0].p.index, 2);
	ck_assert_uint_eq(x.r[0].p.linktype, 101);
	ck_assert_uint_eq(x.r[1].p.index, 4);
	ck_assert_uint_eq(x.r[1].p.linktype, 1);
	ck_assert_uint_eq(pb_capture_stats(x.c)->filtered, 2);
	ck_assert_uint_eq(pb_capture_errors(x.c), 0);
	run_done(&x);

	/* a filter that cannot apply to raw IP drops those packets, once reported */
	o.bpf = "ether src 02:00:00:00:00:01";
	run_img(&x, &g, &o);
	ck_assert_int_eq(x.n, 2);
	ck_assert_uint_eq(x.r[0].p.index, 1);
	ck_assert_uint_eq(x.r[1].p.index, 4);
	ck_assert_uint_eq(pb_capture_stats(x.c)->filtered, 2);
	ck_assert_uint_eq(pb_capture_errors(x.c), 1);
	run_done(&x);
	pg_free(&g);
}
END_TEST

START_TEST(test_check_filter)
{
	char err[256] = "";

	ck_assert_int_eq(pb_capture_check_filter("tcp port 80", err, sizeof(err)), 0);
	ck_assert_int_eq(pb_capture_check_filter("tcp and (", err, sizeof(err)), PB_EUSAGE);
	ck_assert_uint_gt(strlen(err), 0);
}
END_TEST

static Suite *capture_suite(void)
{
	Suite *s = suite_create("capture");
	TCase *tc;

	tc = tcase_create("pcap");
	tcase_add_loop_test(tc, test_pcap_orders_and_units, 0, 4);
	tcase_add_loop_test(tc, test_pcap_kuznetzov, 0, 2);
	tcase_add_test(tc, test_pcap_odd_records);
	tcase_add_test(tc, test_pcap_gzip);
	suite_add_tcase(s, tc);

	tc = tcase_create("pcapng");
	tcase_add_test(tc, test_pcapng_sections);
	tcase_add_test(tc, test_pcapng_spb_snaplen);
	suite_add_tcase(s, tc);

	tc = tcase_create("ndjson");
	tcase_add_test(tc, test_ndjson);
	tcase_add_test(tc, test_ndjson_strict);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_hostile_open);
	tcase_add_test(tc, test_hostile_pcap_truncated);
	tcase_add_test(tc, test_hostile_pcap_oversized);
	tcase_add_test(tc, test_hostile_pcapng_oversized);
	tcase_add_loop_test(tc, test_hostile_pcapng_block_length, 0, 4);
	tcase_add_test(tc, test_hostile_pcapng_misc);
	suite_add_tcase(s, tc);

	tc = tcase_create("filter");
	tcase_add_test(tc, test_bpf_filter);
	tcase_add_test(tc, test_bpf_filter_linktypes);
	tcase_add_test(tc, test_check_filter);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(capture_suite());
	int failed;

	/* the reported input problems are expected: keep the output to
	 * Check's own lines */
	pb_log_set_level(PB_LOG_QUIET);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
