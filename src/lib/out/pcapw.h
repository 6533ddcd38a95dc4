/*
 * pcapw.h - packets back into a capture file: pcap (microsecond or
 * nanosecond), or pcapng when the packets need it.
 *
 * The file starts as a pcap of the first packet's link type and
 * timestamp precision.  A later packet with a finer precision turns it
 * into a nanosecond pcap, one with another link type into pcapng (one
 * interface per link type, input interface and timestamp precision):
 * what was written is rewritten once in the new form, which needs an
 * output that can be read back and rewound (a regular file).  On a pipe,
 * such a packet is an error that says to write to a file or to ask for
 * pcapng from the start.
 *
 * libpcap writes pcap but not pcapng, and cannot rewrite its own output
 * in another form: the two formats are written here, in the writing
 * host's byte order, as libpcap and Wireshark do.
 */
#ifndef PB_OUT_PCAPW_H
#define PB_OUT_PCAPW_H

#include <stdint.h>

#include "capture/capture.h"

#define PB_PCAPW_SNAPLEN 262144u
#define PB_PCAPW_MAX_IFACES 4096  /* pcapng interfaces one file describes */

struct pb_pcapw;

struct pb_pcapw_stats {
	uint64_t packets;
	uint64_t rewrites;   /* times the file was rewritten in a new form */
	int format;          /* 0 none yet, 1 pcap us, 2 pcap ns, 3 pcapng */
};

/* Open path ("-": standard output) for writing; pcapng: write pcapng
 * from the start.  0 or PB_EIO (reported). */
int pb_pcapw_open(struct pb_pcapw **out, const char *path, int pcapng);
/* Write one packet: 0, PB_EIO (reported), or PB_EFORMAT (reported): the
 * packet needs a form the output cannot be rewritten to. */
int pb_pcapw_write(struct pb_pcapw *w, const struct pb_packet *p);
const struct pb_pcapw_stats *pb_pcapw_stats(const struct pb_pcapw *w);
/* Flush and close: 0 or PB_EIO (reported). */
int pb_pcapw_close(struct pb_pcapw *w);

#endif
