/*
 * pcapgen.h - build pcap and pcapng byte images in memory for the unit
 * tests, and write them (plain or gzip) to temporary files.
 *
 * Every helper is static inline so a test that uses only some of them
 * compiles without unused-function warnings.  Allocation failures abort:
 * these are tests.
 *
 *   struct pg g;
 *   pg_init(&g, 0);                       little-endian image
 *   pg_pcap_header(&g, PG_PCAP_USEC, 65535, 1);
 *   pg_pcap_rec(&g, sec, usec, len, frame, n);
 *   pg_write_tmp(&g, path);               path: char[PG_PATH_MAX]
 *   ... pb_capture_open_file(&c, path, &opts) ...
 *   pg_unlink(path); pg_free(&g);
 */
#ifndef PCAPGEN_H
#define PCAPGEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define PG_PATH_MAX 512

struct pg {
	uint8_t *p;
	size_t len, cap;
	int be;          /* write multi-byte fields big-endian */
};

static inline void pg_init(struct pg *g, int be)
{
	g->p = NULL;
	g->len = g->cap = 0;
	g->be = be;
}

static inline void pg_free(struct pg *g)
{
	free(g->p);
	pg_init(g, g->be);
}

static inline void pg_bytes(struct pg *g, const void *p, size_t n)
{
	if (g->len + n > g->cap) {
		size_t cap = g->cap ? g->cap : 256;

		while (cap < g->len + n)
			cap *= 2;
		g->p = realloc(g->p, cap);
		if (!g->p)
			abort();
		g->cap = cap;
	}
	if (n)
		memcpy(g->p + g->len, p, n);
	g->len += n;
}

static inline void pg_zeros(struct pg *g, size_t n)
{
	static const uint8_t z[64];

	while (n > 0) {
		size_t k = n < sizeof(z) ? n : sizeof(z);

		pg_bytes(g, z, k);
		n -= k;
	}
}

static inline void pg_u8(struct pg *g, uint8_t v)
{
	pg_bytes(g, &v, 1);
}

static inline void pg_u16(struct pg *g, uint16_t v)
{
	uint8_t b[2];

	if (g->be) {
		b[0] = (uint8_t)(v >> 8);
		b[1] = (uint8_t)v;
	} else {
		b[0] = (uint8_t)v;
		b[1] = (uint8_t)(v >> 8);
	}
	pg_bytes(g, b, 2);
}

static inline void pg_u32(struct pg *g, uint32_t v)
{
	uint8_t b[4];
	int i;

	for (i = 0; i < 4; i++)
		b[g->be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
	pg_bytes(g, b, 4);
}

static inline void pg_u64(struct pg *g, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[g->be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
	pg_bytes(g, b, 8);
}

/* Overwrite a 32-bit field at off in the image's byte order. */
static inline void pg_put32(struct pg *g, size_t off, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		g->p[off + (size_t)(g->be ? 3 - i : i)] = (uint8_t)(v >> (8 * i));
}

static inline void pg_pad4(struct pg *g)
{
	while (g->len % 4)
		pg_u8(g, 0);
}

/* ---- pcap ---- */

enum {
	PG_PCAP_USEC = 0,    /* a1b2c3d4 */
	PG_PCAP_NSEC = 1,    /* a1b23c4d */
	PG_PCAP_KUZNETZOV = 2, /* a1b2cd34: 8 more bytes per record header */
};

static inline void pg_pcap_header(struct pg *g, int kind, uint32_t snaplen,
				  uint32_t linktype)
{
	static const uint32_t magic[] = { 0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34 };

	pg_u32(g, magic[kind]);
	pg_u16(g, 2);
	pg_u16(g, 4);
	pg_u32(g, 0); /* thiszone */
	pg_u32(g, 0); /* sigfigs */
	pg_u32(g, snaplen);
	pg_u32(g, linktype);
}

/* A record header with explicit caplen and len, then n bytes of data
 * (n may differ from caplen to build broken files). */
static inline void pg_pcap_rec_raw(struct pg *g, uint32_t sec, uint32_t frac,
				   uint32_t caplen, uint32_t len,
				   const void *data, size_t n)
{
	pg_u32(g, sec);
	pg_u32(g, frac);
	pg_u32(g, caplen);
	pg_u32(g, len);
	pg_bytes(g, data, n);
}

static inline void pg_pcap_rec(struct pg *g, uint32_t sec, uint32_t frac,
			       const void *data, size_t n)
{
	pg_pcap_rec_raw(g, sec, frac, (uint32_t)n, (uint32_t)n, data, n);
}

/* Kuznetzov's patched libpcap: ifindex 32, protocol 16, pkt_type 8, pad 8. */
static inline void pg_pcap_rec_kuz(struct pg *g, uint32_t sec, uint32_t frac,
				   const void *data, size_t n)
{
	pg_u32(g, sec);
	pg_u32(g, frac);
	pg_u32(g, (uint32_t)n);
	pg_u32(g, (uint32_t)n);
	pg_u32(g, 2);      /* ifindex */
	pg_u16(g, 0x0800); /* protocol */
	pg_u8(g, 0);       /* packet type */
	pg_u8(g, 0);
	pg_bytes(g, data, n);
}

/* ---- pcapng ---- */

enum {
	PG_NG_SHB = 0x0a0d0d0a,
	PG_NG_IDB = 1,
	PG_NG_PB = 2,
	PG_NG_SPB = 3,
	PG_NG_NRB = 4,
	PG_NG_ISB = 5,
	PG_NG_EPB = 6,
};

/* Start a block: returns where it starts; finish with pg_block_end. */
static inline size_t pg_block_begin(struct pg *g, uint32_t type)
{
	size_t off = g->len;

	pg_u32(g, type);
	pg_u32(g, 0); /* total length, patched */
	return off;
}

static inline void pg_block_end(struct pg *g, size_t off)
{
	uint32_t total;

	pg_pad4(g);
	total = (uint32_t)(g->len - off + 4);
	pg_u32(g, total);
	pg_put32(g, off + 4, total);
}

/* A whole block with an arbitrary body (padded to 32 bits). */
static inline void pg_block(struct pg *g, uint32_t type, const void *body, size_t n)
{
	size_t off = pg_block_begin(g, type);

	pg_bytes(g, body, n);
	pg_block_end(g, off);
}

/* Section header, version 1.0, unknown section length.  Its byte order
 * is g->be; change g->be before calling it to start a section in the
 * other order. */
static inline void pg_shb(struct pg *g)
{
	size_t off = pg_block_begin(g, PG_NG_SHB);

	pg_u32(g, 0x1a2b3c4d);
	pg_u16(g, 1);
	pg_u16(g, 0);
	pg_u64(g, UINT64_MAX);
	pg_block_end(g, off);
}

/* An option: code, length, value padded to 32 bits. */
static inline void pg_opt(struct pg *g, uint16_t code, const void *v, uint16_t n)
{
	pg_u16(g, code);
	pg_u16(g, n);
	pg_bytes(g, v, n);
	pg_pad4(g);
}

/* Interface description; tsresol < 0: no if_tsresol option; with_offset:
 * an if_tsoffset option of tsoffset seconds. */
static inline void pg_idb(struct pg *g, uint16_t linktype, uint32_t snaplen,
			  int tsresol, int with_offset, int64_t tsoffset)
{
	size_t off = pg_block_begin(g, PG_NG_IDB);

	pg_u16(g, linktype);
	pg_u16(g, 0);
	pg_u32(g, snaplen);
	if (tsresol >= 0 || with_offset) {
		static const char name[] = "eth0";
		uint8_t r = (uint8_t)tsresol;

		pg_opt(g, 2, name, 4); /* if_name, which readers skip */
		if (tsresol >= 0)
			pg_opt(g, 9, &r, 1);
		if (with_offset) {
			pg_u16(g, 14);
			pg_u16(g, 8);
			pg_u64(g, (uint64_t)tsoffset);
		}
		pg_u16(g, 0); /* opt_endofopt */
		pg_u16(g, 0);
	}
	pg_block_end(g, off);
}

/* Enhanced packet block with explicit caplen and n bytes of data. */
static inline void pg_epb_raw(struct pg *g, uint32_t ifid, uint64_t ts,
			      uint32_t caplen, uint32_t len, const void *data, size_t n)
{
	size_t off = pg_block_begin(g, PG_NG_EPB);

	pg_u32(g, ifid);
	pg_u32(g, (uint32_t)(ts >> 32));
	pg_u32(g, (uint32_t)ts);
	pg_u32(g, caplen);
	pg_u32(g, len);
	pg_bytes(g, data, n);
	pg_block_end(g, off);
}

static inline void pg_epb(struct pg *g, uint32_t ifid, uint64_t ts,
			  const void *data, size_t n)
{
	pg_epb_raw(g, ifid, ts, (uint32_t)n, (uint32_t)n, data, n);
}

static inline void pg_spb(struct pg *g, uint32_t len, const void *data, size_t n)
{
	size_t off = pg_block_begin(g, PG_NG_SPB);

	pg_u32(g, len);
	pg_bytes(g, data, n);
	pg_block_end(g, off);
}

/* The obsolete Packet Block: interface 16, drops 16, then as an EPB. */
static inline void pg_pb(struct pg *g, uint16_t ifid, uint64_t ts,
			 const void *data, size_t n)
{
	size_t off = pg_block_begin(g, PG_NG_PB);

	pg_u16(g, ifid);
	pg_u16(g, 0);
	pg_u32(g, (uint32_t)(ts >> 32));
	pg_u32(g, (uint32_t)ts);
	pg_u32(g, (uint32_t)n);
	pg_u32(g, (uint32_t)n);
	pg_bytes(g, data, n);
	pg_block_end(g, off);
}

/* ---- files ---- */

static inline void pg_tmpname(char *path)
{
	const char *dir = getenv("TMPDIR");

	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(path, PG_PATH_MAX, "%s/pbtest-XXXXXX", dir);
}

/* Write n bytes to a new temporary file; its name goes to path. */
static inline int pg_write_bytes(const void *p, size_t n, char *path)
{
	int fd;
	const uint8_t *b = p;

	pg_tmpname(path);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w <= 0) {
			close(fd);
			unlink(path);
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return close(fd);
}

static inline int pg_write_tmp(const struct pg *g, char *path)
{
	return pg_write_bytes(g->p, g->len, path);
}

static inline int pg_write_str(const char *s, char *path)
{
	return pg_write_bytes(s, strlen(s), path);
}

/* The same, gzip-compressed with zlib's gzip writer. */
static inline int pg_write_gz(const struct pg *g, char *path)
{
	gzFile z;
	int fd;

	/* mkstemp makes the file safely; gzopen then writes it by name */
	pg_tmpname(path);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	z = gzopen(path, "wb9");
	if (!z) {
		unlink(path);
		return -1;
	}
	if (g->len && gzwrite(z, g->p, (unsigned)g->len) != (int)g->len) {
		gzclose(z);
		unlink(path);
		return -1;
	}
	return gzclose(z) == Z_OK ? 0 : -1;
}

static inline void pg_unlink(const char *path)
{
	unlink(path);
}

#endif
