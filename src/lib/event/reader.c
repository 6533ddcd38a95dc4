/*
 * reader.c - event NDJSON in (see reader.h).
 */
#include "event/reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture/stream.h"
#include "pb.h"
#include "util/banned.h"
#include "util/log.h"

struct pb_event_reader {
	const char *const *paths;
	int n, next;                 /* inputs, and the next to open */
	int open;                    /* s holds an open input */
	int strict;
	const char *name;
	uint64_t line;
	struct pb_stream s;
	const uint8_t *text;
	size_t text_len;
	uint64_t done_before;        /* bytes of the inputs already closed */
	struct pb_event_reader_stats st;
};

static const char *stdin_only[] = { "-" };

static int reader_open_next(struct pb_event_reader *r)
{
	const char *path = r->paths[r->next];

	if (pb_stream_open(&r->s, path, PB_EVENT_MAX_LINE + 65536) < 0) {
		pb_error("cannot open '%s': %s", path, strerror(errno));
		return PB_EIO;
	}
	r->next++;
	r->open = 1;
	r->name = path;
	r->line = 0;
	return 0;
}

int pb_event_reader_open(struct pb_event_reader **out, const char *const *paths,
			 int n, int strict)
{
	struct pb_event_reader *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r)
		return PB_ENOMEM;
	r->paths = n > 0 ? paths : stdin_only;
	r->n = n > 0 ? n : 1;
	r->strict = strict;
	/* open the first now, so a missing file is an error before any
	 * output; the others are opened in turn */
	rc = reader_open_next(r);
	if (rc < 0) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static void reader_close(struct pb_event_reader *r)
{
	if (r->open) {
		r->done_before += pb_stream_raw_offset(&r->s);
		pb_stream_close(&r->s);
		r->open = 0;
	}
}

int pb_event_reader_next(struct pb_event_reader *r, cJSON **obj)
{
	*obj = NULL;
	for (;;) {
		const uint8_t *s;
		size_t len, i;
		cJSON *o;
		int rc;

		if (!r->open) {
			if (r->next >= r->n)
				return PB_EOF;
			rc = reader_open_next(r);
			if (rc < 0)
				return rc;
		}
		rc = pb_stream_line(&r->s, PB_EVENT_MAX_LINE, &s, &len);
		if (rc == 0) {
			reader_close(r);
			continue;
		}
		if (rc == PB_EIO) {
			pb_error("%s: read error after line %llu: %s", r->name,
				 (unsigned long long)r->line, strerror(r->s.err));
			reader_close(r);
			return PB_EIO;
		}
		r->line++;
		r->st.lines++;
		if (rc == PB_ETOOBIG) {
			r->st.bad++;
			r->st.oversized++;
			pb_error("%s: line %llu: longer than %u bytes; %s", r->name,
				 (unsigned long long)r->line, PB_EVENT_MAX_LINE,
				 r->strict ? "stopping (--strict)" : "skipped");
			if (r->strict)
				return PB_ETOOBIG;
			continue;
		}
		for (i = 0; i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'); i++)
			;
		if (i == len)
			continue;
		o = cJSON_ParseWithLength((const char *)s, len);
		if (!cJSON_IsObject(o)) {
			r->st.bad++;
			pb_error("%s: line %llu: %s; %s", r->name,
				 (unsigned long long)r->line,
				 o ? "not a JSON object" : "not valid JSON",
				 r->strict ? "stopping (--strict)" : "skipped");
			cJSON_Delete(o);
			if (r->strict)
				return PB_EINVAL;
			continue;
		}
		r->text = s;
		r->text_len = len;
		r->st.events++;
		*obj = o;
		return 0;
	}
}

const char *pb_event_reader_text(const struct pb_event_reader *r, size_t *len)
{
	*len = r->text_len;
	return (const char *)r->text;
}

const char *pb_event_reader_name(const struct pb_event_reader *r)
{
	return r->name;
}

uint64_t pb_event_reader_line(const struct pb_event_reader *r)
{
	return r->line;
}

const struct pb_event_reader_stats *pb_event_reader_stats(const struct pb_event_reader *r)
{
	return &r->st;
}

void pb_event_reader_progress(const struct pb_event_reader *r, uint64_t *done,
			      uint64_t *total)
{
	*done = r->done_before + (r->open ? pb_stream_raw_offset(&r->s) : 0);
	*total = r->open && r->n == 1 ? r->s.raw_size : 0;
}

void pb_event_reader_free(struct pb_event_reader *r)
{
	if (!r)
		return;
	reader_close(r);
	free(r);
}
