/*
 * reader.h - event NDJSON in: the input of pb-enrich and pb-export.
 *
 * Reads one JSON object per line from a list of files ("-" or none:
 * standard input; gzip is read transparently), in order.  Blank lines
 * are skipped.  A line that is not a JSON object, or longer than
 * PB_EVENT_MAX_LINE, is reported on standard error as
 *     pb-enrich: x.ndjson: line 12: not a JSON object; skipped
 * counted, and skipped; with strict, the reader stops there instead.
 */
#ifndef PB_EVENT_READER_H
#define PB_EVENT_READER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define PB_EVENT_MAX_LINE (64u << 20)   /* one event at most 64 MiB */

struct pb_event_reader;

struct pb_event_reader_stats {
	uint64_t lines;      /* lines read, blank ones included */
	uint64_t events;     /* JSON objects handed out */
	uint64_t bad;        /* lines skipped: not JSON, not an object */
	uint64_t oversized;  /* of those, longer than PB_EVENT_MAX_LINE */
};

/* Open the inputs (paths[0..n), or standard input when n is 0).  0, or
 * PB_EIO after reporting which file could not be opened. */
int pb_event_reader_open(struct pb_event_reader **out, const char *const *paths,
			 int n, int strict);
/* The next event: 0 with *obj set (the caller owns it: cJSON_Delete),
 * PB_EOF at the end of the last input, PB_EIO on a read error, or with
 * strict PB_EINVAL / PB_ETOOBIG at a bad line (all reported). */
int pb_event_reader_next(struct pb_event_reader *r, cJSON **obj);
/* The text of the line the last event came from (valid until the next
 * call), e.g. to store it as it was. */
const char *pb_event_reader_text(const struct pb_event_reader *r, size_t *len);
/* Where the last event came from: the input's name ("-" for standard
 * input) and its line number. */
const char *pb_event_reader_name(const struct pb_event_reader *r);
uint64_t pb_event_reader_line(const struct pb_event_reader *r);
const struct pb_event_reader_stats *pb_event_reader_stats(const struct pb_event_reader *r);
/* Bytes read and total size of the inputs (0 when unknown): progress. */
void pb_event_reader_progress(const struct pb_event_reader *r, uint64_t *done,
			      uint64_t *total);
void pb_event_reader_free(struct pb_event_reader *r);

#endif
