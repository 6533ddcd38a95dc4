/*
 * bench-floor: the speed floor for reading a capture file.
 *
 * Reads a pcap/pcapng file with libpcap's offline reader, the same way the
 * pbtools commands do (pcap_open_offline + pcap_next_ex), and touches every
 * packet: it adds the captured length to a total, folds one byte of the
 * packet into a checksum and keeps the largest captured length.  No decoding
 * is done, so its run time is the lowest any tool reading the file through
 * libpcap can reach.  tools/bench divides every other tool's time by it.
 *
 * Usage: bench-floor FILE
 * Prints one line:
 *   packets=N bytes=B maxlen=M linktype=NAME check=X
 * and exits 0, or prints an error to stderr and exits 1.
 *
 * Build: cc -O2 -Wall -Wextra -std=c11 -o bench-floor bench-floor.c -lpcap
 */
#define _DEFAULT_SOURCE /* u_char and friends used by <pcap/pcap.h> */

#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t packets = 0, bytes = 0;
	uint32_t maxlen = 0;
	uint8_t check = 0;
	const char *lt_name;
	pcap_t *p;
	int rc;

	if (argc != 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: bench-floor FILE\n");
		return argc == 2 ? 0 : 1;
	}

	errbuf[0] = '\0';
	p = pcap_open_offline(argv[1], errbuf);
	if (p == NULL) {
		fprintf(stderr, "bench-floor: %s: %s\n", argv[1], errbuf);
		return 1;
	}

	/*
	 * The loop every tool has to pay for.  The byte read from the middle
	 * of the packet makes sure the packet data is really brought into
	 * the cache, as a decoder would, and stops the compiler from
	 * dropping the loop body.
	 */
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		packets++;
		bytes += hdr->caplen;
		if (hdr->caplen > maxlen)
			maxlen = hdr->caplen;
		if (hdr->caplen > 0)
			check ^= data[hdr->caplen / 2];
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "bench-floor: %s: %s\n", argv[1],
		    pcap_geterr(p));
		pcap_close(p);
		return 1;
	}

	lt_name = pcap_datalink_val_to_name(pcap_datalink(p));
	printf("packets=%" PRIu64 " bytes=%" PRIu64 " maxlen=%" PRIu32
	    " linktype=%s check=%02x\n",
	    packets, bytes, maxlen, lt_name != NULL ? lt_name : "unknown",
	    (unsigned)check);
	pcap_close(p);
	return 0;
}
