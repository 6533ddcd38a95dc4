/*
 * pcapw.c - pcap and pcapng writing (see pcapw.h).
 *
 *  pcap:   file header (24 bytes: magic a1b2c3d4 or, for nanoseconds,
 *          a1b23c4d; version 2.4; snaplen; link type), then per packet
 *          ts_sec, ts_usec|ts_nsec, caplen, len (4 bytes each) and the frame.
 *  pcapng: Section Header Block, one Interface Description Block per
 *          (link type, interface, precision) with if_tsresol 6 or 9, and
 *          an Enhanced Packet Block per packet with a 64-bit timestamp.
 */
#include "out/pcapw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pb.h"
#include "util/log.h"
#include "util/banned.h"

enum { F_NONE, F_PCAP_US, F_PCAP_NS, F_PCAPNG };

struct iface {
	uint32_t linktype, iface;
	int ns;                     /* if_tsresol 9 (else 6) */
};

struct pb_pcapw {
	FILE *f;
	char *path;
	int is_stdout;
	int want_ng;
	int fmt;
	uint32_t linktype;          /* pcap: the file's link type */
	struct iface *ifs;          /* pcapng: interfaces described so far */
	uint32_t n_ifs;
	int failed;
	struct pb_pcapw_stats st;
	uint8_t *frame;             /* rewriting: one frame read back */
};

static int werr(struct pb_pcapw *w)
{
	pb_error("cannot write '%s': %s", w->path, strerror(errno ? errno : EIO));
	w->failed = 1;
	return PB_EIO;
}

int pb_pcapw_open(struct pb_pcapw **out, const char *path, int pcapng)
{
	struct pb_pcapw *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w || !(w->path = strdup(strcmp(path, "-") ? path : "standard output"))) {
		free(w);
		pb_error("out of memory");
		return PB_ENOMEM;
	}
	w->want_ng = pcapng;
	if (!strcmp(path, "-")) {
		if (isatty(STDOUT_FILENO)) {
			pb_error("refusing to write a capture to a terminal: "
				 "redirect standard output or name a file");
			free(w->path);
			free(w);
			return PB_EUSAGE;
		}
		w->f = fdopen(dup(STDOUT_FILENO), "wb");
		w->is_stdout = 1;
	} else {
		/* read back too: a rewrite reads what was written */
		w->f = fopen(path, "w+b");
	}
	if (!w->f) {
		pb_error("cannot open '%s': %s", path, strerror(errno));
		free(w->path);
		free(w);
		return PB_EIO;
	}
	setvbuf(w->f, NULL, _IOFBF, 1 << 20);
	*out = w;
	return 0;
}

static int put(struct pb_pcapw *w, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, w->f) != n)
		return werr(w);
	return 0;
}

static int pcap_header(struct pb_pcapw *w, int fmt, uint32_t linktype)
{
	uint32_t h[6];
	uint16_t ver[2] = { 2, 4 };   /* version 2.4 */

	h[0] = fmt == F_PCAP_NS ? 0xa1b23c4du : 0xa1b2c3d4u;
	memcpy(&h[1], ver, 4);
	h[2] = 0;                     /* thiszone */
	h[3] = 0;                     /* sigfigs */
	h[4] = PB_PCAPW_SNAPLEN;
	h[5] = linktype;
	w->fmt = fmt;
	w->linktype = linktype;
	return put(w, h, sizeof(h));
}

static int ng_shb(struct pb_pcapw *w)
{
	uint32_t b[7];
	int64_t section_len = -1;     /* not known: written as a stream */

	b[0] = 0x0a0d0d0a;
	b[1] = 28;
	b[2] = 0x1a2b3c4d;
	b[3] = 1;                     /* major 1, minor 0 */
	memcpy(&b[4], &section_len, 8);
	b[6] = 28;
	w->fmt = F_PCAPNG;
	return put(w, b, sizeof(b));
}

/* The pcapng interface of (linktype, iface), described on first use. */
static int ng_iface(struct pb_pcapw *w, uint32_t linktype, uint32_t ifc, int ns,
		    uint32_t *id)
{
	uint32_t i, b[8];
	uint16_t lt[2];

	for (i = 0; i < w->n_ifs; i++)
		if (w->ifs[i].linktype == linktype && w->ifs[i].iface == ifc &&
		    w->ifs[i].ns == ns) {
			*id = i;
			return 0;
		}
	if (w->n_ifs == PB_PCAPW_MAX_IFACES) {
		pb_error("'%s': more than %u interfaces", w->path, PB_PCAPW_MAX_IFACES);
		w->failed = 1;
		return PB_ETOOBIG;
	}
	if (!(w->n_ifs & 15)) {
		struct iface *n = realloc(w->ifs, (w->n_ifs + 16) * sizeof(*n));

		if (!n) {
			pb_error("out of memory");
			w->failed = 1;
			return PB_ENOMEM;
		}
		w->ifs = n;
	}
	w->ifs[w->n_ifs].linktype = linktype;
	w->ifs[w->n_ifs].iface = ifc;
	w->ifs[w->n_ifs].ns = ns;
	*id = w->n_ifs++;
	b[0] = 1;                     /* Interface Description Block */
	b[1] = 32;
	lt[0] = (uint16_t)linktype;   /* link type, then 16 reserved bits */
	lt[1] = 0;
	memcpy(&b[2], lt, 4);
	b[3] = PB_PCAPW_SNAPLEN;
	lt[0] = 9;                    /* if_tsresol, length 1 */
	lt[1] = 1;
	memcpy(&b[4], lt, 4);
	b[5] = ns ? 9 : 6;            /* 10^-9 or 10^-6 s; 3 bytes of padding */
	b[6] = 0;                     /* opt_endofopt */
	b[7] = 32;
	return put(w, b, sizeof(b));
}

static int write_one(struct pb_pcapw *w, const struct pb_time *ts, uint32_t caplen,
		     uint32_t len, uint32_t linktype, uint32_t ifc, const uint8_t *data)
{
	static const uint8_t zero[4];

	if (w->fmt == F_PCAPNG) {
		uint32_t b[7], id, pad = (4 - (caplen & 3)) & 3;
		int ns = ts->prec > 6, rc;
		uint64_t t = ts->sec < 0 ? 0 : (uint64_t)ts->sec * (ns ? 1000000000u : 1000000u) +
						 (ns ? ts->nsec : ts->nsec / 1000);

		if ((rc = ng_iface(w, linktype, ifc, ns, &id)) < 0)
			return rc;
		b[0] = 6;             /* Enhanced Packet Block */
		b[1] = 32 + caplen + pad;
		b[2] = id;
		b[3] = (uint32_t)(t >> 32);
		b[4] = (uint32_t)t;
		b[5] = caplen;
		b[6] = len;
		if (put(w, b, sizeof(b)) < 0 || put(w, data, caplen) < 0 ||
		    put(w, zero, pad) < 0 || put(w, &b[1], 4) < 0)
			return PB_EIO;
		return 0;
	} else {
		uint32_t h[4];

		h[0] = (uint32_t)ts->sec;
		h[1] = w->fmt == F_PCAP_NS ? ts->nsec : ts->nsec / 1000;
		h[2] = caplen;
		h[3] = len;
		if (put(w, h, sizeof(h)) < 0 || put(w, data, caplen) < 0)
			return PB_EIO;
		return 0;
	}
}

/*
 * Rewrite the pcap written so far in the form fmt: copy it aside into a
 * temporary file, empty the output, and write each packet again.  Memory
 * stays one frame, whatever the size of the file.
 */
static int rewrite(struct pb_pcapw *w, int fmt)
{
	struct stat sb;
	FILE *tmp;
	uint8_t buf[65536];
	uint32_t h[6], r[4], old_link = w->linktype;
	int old_fmt = w->fmt, rc = 0;
	size_t n;

	if (fflush(w->f) != 0)
		return werr(w);
	if (w->is_stdout || fstat(fileno(w->f), &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    fseeko(w->f, 0, SEEK_SET) < 0) {
		pb_error("'%s': packets of another link type or a finer timestamp "
			 "precision need a rewrite of what was written, which %s cannot "
			 "have: write to a file, or use --pcapng", w->path,
			 w->is_stdout ? "standard output" : "this output");
		w->failed = 1;
		return PB_EFORMAT;
	}
	if (!(tmp = tmpfile()))
		return werr(w);
	while ((n = fread(buf, 1, sizeof(buf), w->f)) > 0)
		if (fwrite(buf, 1, n, tmp) != n) {
			fclose(tmp);
			return werr(w);
		}
	if (ferror(w->f) || fflush(tmp) != 0 || fseeko(tmp, 0, SEEK_SET) < 0 ||
	    fseeko(w->f, 0, SEEK_SET) < 0 || ftruncate(fileno(w->f), 0) < 0) {
		fclose(tmp);
		return werr(w);
	}
	if (!w->frame && !(w->frame = malloc(PB_MAX_FRAME))) {
		fclose(tmp);
		pb_error("out of memory");
		return PB_ENOMEM;
	}
	if (fread(h, sizeof(h), 1, tmp) != 1) {
		fclose(tmp);
		return werr(w);
	}
	rc = fmt == F_PCAPNG ? ng_shb(w) : pcap_header(w, fmt, old_link);
	while (rc == 0 && fread(r, sizeof(r), 1, tmp) == 1) {
		struct pb_time ts;

		if (r[2] > PB_MAX_FRAME || fread(w->frame, 1, r[2], tmp) != r[2]) {
			errno = EIO;
			rc = werr(w);
			break;
		}
		ts.sec = r[0];
		ts.nsec = old_fmt == F_PCAP_NS ? r[1] : r[1] * 1000;
		ts.prec = old_fmt == F_PCAP_NS ? 9 : 6;
		rc = write_one(w, &ts, r[2], r[3], old_link, 0, w->frame);
	}
	fclose(tmp);
	w->st.rewrites++;
	return rc;
}

int pb_pcapw_write(struct pb_pcapw *w, const struct pb_packet *p)
{
	int rc;

	if (w->failed)
		return PB_EIO;
	if (w->fmt == F_NONE) {
		if (w->want_ng)
			rc = ng_shb(w);
		else
			rc = pcap_header(w, p->ts.prec > 6 ? F_PCAP_NS : F_PCAP_US, p->linktype);
		if (rc < 0)
			return rc;
	} else if (w->fmt != F_PCAPNG && p->linktype != w->linktype) {
		pb_info("'%s': link types %u and %u: writing pcapng", w->path,
			w->linktype, p->linktype);
		if ((rc = rewrite(w, F_PCAPNG)) < 0)
			return rc;
	} else if (w->fmt == F_PCAP_US && p->ts.prec > 6) {
		pb_info("'%s': nanosecond timestamps: writing a nanosecond pcap", w->path);
		if ((rc = rewrite(w, F_PCAP_NS)) < 0)
			return rc;
	}
	if ((rc = write_one(w, &p->ts, p->caplen, p->len, p->linktype, p->iface,
			    p->data)) < 0)
		return rc;
	w->st.packets++;
	return 0;
}

const struct pb_pcapw_stats *pb_pcapw_stats(const struct pb_pcapw *w)
{
	((struct pb_pcapw *)w)->st.format = w->fmt;
	return &w->st;
}

int pb_pcapw_close(struct pb_pcapw *w)
{
	int rc;

	if (!w)
		return 0;
	rc = w->failed ? PB_EIO : 0;
	if (!w->failed && w->fmt == F_NONE) {
		/* no packets: still a valid, empty capture */
		rc = w->want_ng ? ng_shb(w) : pcap_header(w, F_PCAP_US, 1);
	}
	if (fflush(w->f) != 0 && rc == 0)
		rc = werr(w);
	if (fclose(w->f) != 0 && rc == 0)
		rc = werr(w);
	free(w->ifs);
	free(w->frame);
	free(w->path);
	free(w);
	return rc;
}
