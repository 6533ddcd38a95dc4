/* stream.c - buffered input with gzip detected by its magic bytes. */
#include "capture/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pb.h"
#include "util/banned.h"

#define STREAM_CHUNK (1u << 20) /* read size; the buffer starts at twice it */
#define RAW_CHUNK (256u << 10)  /* compressed read size */

static ssize_t read_fd(struct pb_stream *s, uint8_t *p, size_t n)
{
	ssize_t r;

	do
		r = read(s->fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		s->raw_read += (uint64_t)r;
	return r;
}

int pb_stream_open(struct pb_stream *s, const char *path, size_t max)
{
	struct stat st;
	ssize_t n;
	size_t have = 0;

	memset(s, 0, sizeof(*s));
	s->max = max < STREAM_CHUNK * 2 ? STREAM_CHUNK * 2 : max;
	if (!path || !strcmp(path, "-")) {
		s->fd = STDIN_FILENO;
	} else {
		s->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0)
			return PB_EIO;
	}
	if (fstat(s->fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			pb_stream_close(s);
			errno = EISDIR;
			return PB_EIO;
		}
		if (S_ISREG(st.st_mode))
			s->raw_size = (uint64_t)st.st_size;
	}
	s->cap = STREAM_CHUNK * 2;
	s->buf = malloc(s->cap);
	if (!s->buf) {
		pb_stream_close(s);
		return PB_ENOMEM;
	}
	/* Read the first bytes to sniff gzip (RFC 1952 magic 1f 8b). */
	while (have < 2) {
		n = read_fd(s, s->buf + have, STREAM_CHUNK - have);
		if (n <= 0) {
			if (n < 0)
				s->err = errno;
			s->eof = 1;
			break;
		}
		have += (size_t)n;
	}
	if (have >= 2 && s->buf[0] == 0x1f && s->buf[1] == 0x8b) {
		s->z = calloc(1, sizeof(*s->z));
		s->raw = malloc(RAW_CHUNK > have ? RAW_CHUNK : have);
		if (!s->z || !s->raw || inflateInit2(s->z, 15 + 16) != Z_OK) {
			pb_stream_close(s);
			return PB_ENOMEM;
		}
		memcpy(s->raw, s->buf, have);
		s->z->next_in = s->raw;
		s->z->avail_in = (uInt)have;
		return 0;
	}
	s->end = have;
	return 0;
}

void pb_stream_close(struct pb_stream *s)
{
	if (s->z) {
		inflateEnd(s->z);
		free(s->z);
	}
	free(s->raw);
	if (s->fd >= 0 && s->fd != STDIN_FILENO)
		close(s->fd);
	free(s->buf);
	s->buf = s->raw = NULL;
	s->z = NULL;
	s->fd = -1;
}

/* Inflate into buf[end..end+room); returns bytes produced, 0 at the end. */
static ssize_t inflate_some(struct pb_stream *s, size_t room)
{
	z_stream *z = s->z;

	for (;;) {
		int rc;

		if (z->avail_in == 0) {
			ssize_t r = read_fd(s, s->raw, RAW_CHUNK);

			if (r < 0)
				return -1;
			if (r == 0)
				return 0;
			z->next_in = s->raw;
			z->avail_in = (uInt)r;
		}
		z->next_out = s->buf + s->end;
		z->avail_out = (uInt)room;
		rc = inflate(z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END) {
			/* A gzip file may hold several members back to back. */
			size_t got = room - z->avail_out;

			inflateReset(z);
			if (got)
				return (ssize_t)got;
			continue;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			errno = EINVAL;
			return -1;
		}
		if (room - z->avail_out > 0)
			return (ssize_t)(room - z->avail_out);
	}
}

size_t pb_stream_fill(struct pb_stream *s, size_t n)
{
	while (s->end - s->pos < n && !s->eof) {
		ssize_t r;
		size_t room;

		/* Move the unread bytes to the front, then grow if needed. */
		if (s->pos > 0 && (s->cap - s->end < STREAM_CHUNK || s->cap - s->pos < n)) {
			memmove(s->buf, s->buf + s->pos, s->end - s->pos);
			s->end -= s->pos;
			s->pos = 0;
		}
		if (s->cap - s->pos < n || s->cap == s->end) {
			size_t ncap = s->cap * 2;
			uint8_t *nb;

			while (ncap - s->pos < n && ncap < s->max)
				ncap *= 2;
			if (ncap > s->max)
				ncap = s->max;
			if (ncap <= s->cap)
				break; /* at the cap: the caller sees the short count */
			nb = realloc(s->buf, ncap);
			if (!nb)
				break;
			s->buf = nb;
			s->cap = ncap;
		}
		room = s->cap - s->end;
		if (room > STREAM_CHUNK * 4)
			room = STREAM_CHUNK * 4;
		r = s->z ? inflate_some(s, room) : read_fd(s, s->buf + s->end, room);
		if (r < 0) {
			s->err = errno ? errno : EIO;
			s->eof = 1;
			break;
		}
		if (r == 0) {
			s->eof = 1;
			break;
		}
		s->end += (size_t)r;
	}
	return s->end - s->pos;
}

uint64_t pb_stream_raw_offset(const struct pb_stream *s)
{
	return s->z ? s->raw_read : s->consumed;
}

int pb_stream_line(struct pb_stream *s, size_t max, const uint8_t **line, size_t *len)
{
	const uint8_t *p, *nl;
	size_t avail, scan = 0, n;

	if (s->line_next) {
		pb_stream_consume(s, s->line_next);
		s->line_next = 0;
	}
	/* find the end of the line, reading more as needed */
	for (;;) {
		avail = pb_stream_fill(s, scan + 1);
		p = pb_stream_ptr(s);
		nl = avail > scan ? memchr(p + scan, '\n', avail - scan) : NULL;
		if (nl || s->eof || avail >= max)
			break;
		scan = avail;
		pb_stream_fill(s, avail + 65536);
	}
	if (avail == 0)
		return s->err ? PB_EIO : 0;
	n = nl ? (size_t)(nl - p) : avail;
	if ((!nl && avail >= max) || n > max) {
		/* too long: skip to the next newline without keeping it */
		for (;;) {
			pb_stream_consume(s, avail);
			avail = pb_stream_fill(s, 1);
			p = pb_stream_ptr(s);
			if (!avail)
				break;
			nl = memchr(p, '\n', avail);
			if (nl) {
				pb_stream_consume(s, (size_t)(nl - p) + 1);
				break;
			}
		}
		return PB_ETOOBIG;
	}
	s->line_next = n + (nl != NULL);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	*line = p;
	*len = n;
	return 1;
}
