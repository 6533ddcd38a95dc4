/*
 * pb.h - the pbtools engine: common types, error codes and ownership rules.
 *
 * Ownership, stated once for the whole library:
 *  - Packet bytes handed to a stage are borrowed for the duration of the
 *    call; a stage that needs them later copies them into a capped buffer
 *    that it owns (struct pb_buf).
 *  - A struct pb_packet returned by pb_capture_next() is valid until the
 *    next call on the same capture.
 *  - Library functions return 0 (or a non-negative count) on success and a
 *    negative PB_E* code on failure; they never exit and never print except
 *    through the diagnostic hook in util/log.h, which the tool owns.
 *  - Lifetimes follow S_init (no allocation of the struct), S_release
 *    (free contents), S_clear (reset for reuse), S_new / S_free.
 */
#ifndef PB_H
#define PB_H

#include <stddef.h>
#include <stdint.h>

enum pb_err {
	PB_OK = 0,
	PB_ENOMEM = -1,    /* allocation failed or a configured cap was hit */
	PB_EIO = -2,       /* read or write error; errno holds the cause */
	PB_EFORMAT = -3,   /* input is not in a format we read */
	PB_ETRUNC = -4,    /* input ended inside a record */
	PB_EINVAL = -5,    /* input contradicts its format */
	PB_ETOOBIG = -6,   /* a record exceeds a configured or fixed maximum */
	PB_EUSAGE = -7,    /* bad option or configuration value */
	PB_EOF = -8,       /* end of input (not an error) */
	PB_EAGAIN = -9,    /* nothing yet (live capture timeout) */
};

const char *pb_strerror(int err);

/* Largest frame any reader accepts: what Wireshark and libpcap use. */
#define PB_MAX_FRAME 262144u

#endif
