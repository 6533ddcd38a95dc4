/*
 * capture.h - packet sources: pcap and pcapng files (plain or gzip), standard
 * input, NDJSON packet records, and live interfaces.
 *
 * A capture yields struct pb_packet in input order.  The input kind is
 * sniffed from the first bytes, never taken from the file name.  Problems
 * with the input are reported on standard error (file, packet or line) and
 * counted in struct pb_capture_stats; a problem after which reading cannot
 * go on (a pcap record longer than any frame, a truncated last record)
 * ends the capture: pb_capture_next() returns its PB_E* code once, and
 * PB_EOF after that.
 */
#ifndef PB_CAPTURE_H
#define PB_CAPTURE_H

#include <stdint.h>

#include "pb.h"
#include "util/time.h"

struct pb_packet {
	uint64_t index;        /* 1-based position in the input */
	struct pb_time ts;     /* capture time and its precision */
	uint32_t caplen;       /* bytes in data */
	uint32_t len;          /* original length on the wire */
	uint32_t linktype;     /* LINKTYPE_* of the frame */
	uint32_t iface;        /* pcapng interface index, 0 otherwise */
	const uint8_t *data;   /* borrowed until the next pb_capture_next() */
	uint64_t file_index;   /* 1-based position in its own file */
	const char *file;      /* the input it came from when there are
				* several (borrowed), else NULL */
};

enum pb_input_kind {
	PB_INPUT_PCAP,
	PB_INPUT_PCAPNG,
	PB_INPUT_NDJSON,
	PB_INPUT_LIVE,
};

/* What one source needs; limits across sources are in input.h. */
struct pb_capture_opts {
	const char *bpf;        /* filter expression, or NULL */
	int snaplen;            /* live: bytes captured per packet */
	int promisc;            /* live: promiscuous mode */
	double duration;        /* live: stop after this many seconds */
	int strict;             /* stop at the first bad NDJSON line */
	int idle_wakeup;        /* live: PB_EAGAIN after 100 ms with no packet */
};

void pb_capture_opts_init(struct pb_capture_opts *o);

struct pb_capture_stats {
	uint64_t records;       /* records read from the input */
	uint64_t packets;       /* packets handed out (after the filter) */
	uint64_t filtered;      /* records the BPF filter rejected */
	uint64_t bad;           /* records or lines skipped as unreadable */
	uint64_t oversized;     /* records over 256 KiB */
	uint64_t snaplen_exceeded; /* caplen above the file's snaplen (kept) */
	uint64_t caplen_gt_len; /* caplen above the original length (kept) */
	uint64_t truncated;     /* inputs that ended inside a record */
	uint64_t bytes;         /* input bytes consumed */
	uint64_t size;          /* input size when known, else 0 */
	uint64_t live_recv;     /* live: packets the kernel saw */
	uint64_t live_drop;     /* live: dropped for lack of buffer space */
	uint64_t live_ifdrop;   /* live: dropped by the interface */
};

struct pb_capture;

/* Open a file, or standard input for "-" or NULL. */
int pb_capture_open_file(struct pb_capture **out, const char *path,
			 const struct pb_capture_opts *opts);
/* Open a live interface ("any" for all on Linux). */
int pb_capture_open_live(struct pb_capture **out, const char *device,
			 const struct pb_capture_opts *opts);

/* 0 and a packet, PB_EOF at the end, PB_EAGAIN when live and idle (with
 * idle_wakeup), another PB_E* for a fatal error. */
int pb_capture_next(struct pb_capture *c, struct pb_packet *p);

enum pb_input_kind pb_capture_kind(const struct pb_capture *c);
const char *pb_capture_name(const struct pb_capture *c);
const struct pb_capture_stats *pb_capture_stats(const struct pb_capture *c);
/* Number of problems reported (a tool exits 1 when non-zero). */
uint64_t pb_capture_errors(const struct pb_capture *c);
void pb_capture_free(struct pb_capture *c);

/* Ask every capture to stop at the next packet (async-signal-safe). */
void pb_capture_interrupt(void);
int pb_capture_interrupted(void);

/* Check a BPF expression; 0 or PB_EUSAGE with the reason in err. */
int pb_capture_check_filter(const char *expr, char *err, size_t errlen);

#endif
