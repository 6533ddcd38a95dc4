/* capture_int.h - what the capture sources share inside the engine. */
#ifndef PB_CAPTURE_INT_H
#define PB_CAPTURE_INT_H

#include <pcap/pcap.h>

#include "capture/capture.h"
#include "capture/stream.h"
#include "util/buf.h"

/* pcapng interface description, as far as decoding needs it */
struct pb_ng_iface {
	uint32_t linktype;
	uint32_t snaplen;
	uint8_t tsresol;     /* if_tsresol: bit 7 set = power of 2 */
	int64_t tsoffset;    /* if_tsoffset, seconds */
};

/* Most interfaces one pcapng file may describe: a bound on memory. */
#define PB_NG_MAX_IFACES 4096
/* Largest pcapng block: bigger ones are corrupt, not packets. */
#define PB_NG_MAX_BLOCK (16u << 20)
/* Longest NDJSON line read (a 256 KiB frame in base64 plus fields). */
#define PB_NDJSON_MAX_LINE (4u << 20)

struct pb_filter_cache {
	uint32_t linktype;
	int ok;              /* compiled */
	struct bpf_program prog;
};
#define PB_FILTER_CACHE 8

/* Live capture: the kernel's block timeout (pcap_set_timeout). */
#define PB_LIVE_TIMEOUT_MS 100

struct pb_capture {
	enum pb_input_kind kind;
	char *name;                 /* file name for messages */
	struct pb_capture_opts opts;
	struct pb_capture_stats st;
	uint64_t errors;
	int done;                   /* fatal error or limit reached */

	struct pb_stream s;

	/* pcap */
	int be;                     /* file byte order is big-endian */
	int nsec;                   /* nanosecond timestamps */
	int rec_extra;              /* extra record header bytes */
	uint32_t linktype, snaplen;

	/* pcapng */
	struct pb_ng_iface *ifaces; /* of the current section */
	uint32_t n_ifaces, cap_ifaces;
	uint32_t iface_base;        /* interfaces of earlier sections */

	/* ndjson */
	uint64_t line;
	uint8_t *frame;             /* decoded packet.data */
	char file[1024];            /* packet.file of the current record */

	/* live */
	pcap_t *live;

	/* filter, compiled per link type for files */
	struct pb_filter_cache fc[PB_FILTER_CACHE];
	int n_fc;

	/* realtime pacing and --duration */
	int dur_started;            /* live --duration: first wait begun */
	int64_t dur_wall_ns;
	int64_t drain_until_ns;     /* live, stopping: read what is buffered
				     * until then (0: not stopping yet) */
	int64_t stop_ns;            /* live: when the stop came (real time,
				     * as packet times; the rest monotonic) */
	uint64_t index;             /* records seen so far */
};

int pb_cap_pcap_open(struct pb_capture *c);
int pb_cap_pcap_next(struct pb_capture *c, struct pb_packet *p);
int pb_cap_pcapng_open(struct pb_capture *c);
int pb_cap_pcapng_next(struct pb_capture *c, struct pb_packet *p);
int pb_cap_ndjson_next(struct pb_capture *c, struct pb_packet *p);

/* Report a problem with the input (counted as an error). */
void pb_cap_report(struct pb_capture *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
