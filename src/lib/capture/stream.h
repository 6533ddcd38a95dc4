/*
 * stream.h - a buffered byte stream over a file descriptor, transparently
 * gunzipping gzip input.  Records are read in place from the buffer: a
 * pointer from pb_stream_ptr() is valid until the next fill or consume.
 * The buffer grows only up to the maximum given at open.
 */
#ifndef PB_STREAM_H
#define PB_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

struct pb_stream {
	int fd;
	z_stream *z;        /* non-NULL when the input is gzip */
	uint8_t *raw;       /* compressed bytes waiting for inflate */
	uint64_t raw_read;  /* bytes read from the file */
	uint8_t *buf;
	size_t cap, max;    /* current and largest buffer size */
	size_t pos, end;    /* unread bytes are buf[pos..end) */
	int eof;            /* the source has no more bytes */
	int err;            /* errno of a failed read, or 0 */
	uint64_t consumed;  /* bytes consumed (of the decompressed stream) */
	uint64_t raw_size;  /* size of the file on disk when regular, else 0 */
	size_t line_next;   /* pb_stream_line: bytes of the last line given
			     * out (and its newline), consumed on the next call */
};

/* Open path ("-" or NULL: standard input). Returns 0 or PB_EIO (errno). */
int pb_stream_open(struct pb_stream *s, const char *path, size_t max);
void pb_stream_close(struct pb_stream *s);

/* Try to have at least n unread bytes; returns how many are available
 * (less than n only at end of input or on error). */
size_t pb_stream_fill(struct pb_stream *s, size_t n);

static inline const uint8_t *pb_stream_ptr(const struct pb_stream *s)
{
	return s->buf + s->pos;
}

static inline size_t pb_stream_avail(const struct pb_stream *s)
{
	return s->end - s->pos;
}

static inline void pb_stream_consume(struct pb_stream *s, size_t n)
{
	s->pos += n;
	s->consumed += n;
}

/* The next line, in place and without its newline (nor a '\r' before
 * it): 1 with *line and *len set (valid until the next call, which
 * consumes it), 0 at the end of input, PB_EIO on a read error (errno in
 * s->err), or PB_ETOOBIG for a line longer than max bytes, which has then
 * been skipped to its newline (the call after goes on with the next). */
int pb_stream_line(struct pb_stream *s, size_t max, const uint8_t **line, size_t *len);

/* Bytes of the underlying file read so far (for progress). */
uint64_t pb_stream_raw_offset(const struct pb_stream *s);

#endif
