/*
 * input.c - several captures as one, merged by timestamp; the limits and
 * pacing that apply to the merged stream.
 *
 *   paths --expand dirs--> files --peek first ts--> pending (by time)
 *   pending --activate when the stream reaches it--> active --EOF--> closed
 *   active heads --smallest ts--> since/until --> count/duration --> pace
 */
#include "capture/input.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util/log.h"
#include "util/banned.h"

struct src {
	char *path;
	struct pb_capture *cap;    /* open while active */
	struct pb_packet head;     /* the next packet, when has_head */
	int has_head;
	int done;                  /* read to the end (or failed) */
	int64_t first_ns;          /* first packet's time, from the peek */
	int order;                 /* position on the command line */
	struct pb_capture_stats st;/* kept after the capture is closed */
	uint64_t errors;
};

struct pb_input {
	struct pb_input_opts o;
	struct src *srcs;
	int n;
	int next_pending;          /* srcs[next_pending..] not yet active */
	struct pb_capture *live;
	struct pb_input_stats st;
	uint64_t errors;           /* problems outside the sources */
	uint64_t index;            /* merged position */
	int last;                  /* source of the packet handed out last */
	int stopped;
	char name[64];
	/* pacing and --duration */
	int started;
	int64_t first_ts_ns, first_wall_ns;
};

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add path, or the regular files of a directory in name order. */
static int add_path(struct pb_input *in, const char *path, int *cap)
{
	struct stat st;
	char **names = NULL;
	size_t nn = 0, cn = 0, i;
	DIR *d;
	struct dirent *e;

	if (strcmp(path, "-") && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		d = opendir(path);
		if (!d) {
			pb_error("cannot open '%s': %s", path, strerror(errno));
			return PB_EIO;
		}
		while ((e = readdir(d))) {
			char full[4096];
			struct stat fs;

			if (e->d_name[0] == '.')
				continue;
			snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
			if (stat(full, &fs) < 0 || !S_ISREG(fs.st_mode))
				continue;
			if (nn == cn) {
				char **nb;

				cn = cn ? cn * 2 : 64;
				nb = realloc(names, cn * sizeof(*names));
				if (!nb)
					break;
				names = nb;
			}
			names[nn] = strdup(full);
			if (names[nn])
				nn++;
		}
		closedir(d);
		if (nn == 0)
			pb_warn("'%s': no files in the directory", path);
		if (nn > 1) /* names is NULL when the directory is empty */
			qsort(names, nn, sizeof(*names), cmp_name);
	} else {
		names = malloc(sizeof(*names));
		if (!names || !(names[0] = strdup(path))) {
			free(names);
			return PB_ENOMEM;
		}
		nn = 1;
	}
	for (i = 0; i < nn; i++) {
		if (in->n == PB_INPUT_MAX_FILES) {
			pb_error("more than %d input files", PB_INPUT_MAX_FILES);
			for (; i < nn; i++)
				free(names[i]);
			free(names);
			return PB_EUSAGE;
		}
		if (in->n == *cap) {
			int ncap = *cap ? *cap * 2 : 8;
			struct src *ns = realloc(in->srcs, (size_t)ncap * sizeof(*ns));

			if (!ns) {
				for (; i < nn; i++)
					free(names[i]);
				free(names);
				return PB_ENOMEM;
			}
			in->srcs = ns;
			*cap = ncap;
		}
		memset(&in->srcs[in->n], 0, sizeof(in->srcs[0]));
		in->srcs[in->n].path = names[i];
		in->srcs[in->n].order = in->n;
		in->n++;
	}
	free(names);
	return 0;
}

static void add_stats(struct pb_capture_stats *a, const struct pb_capture_stats *b)
{
	a->records += b->records;
	a->packets += b->packets;
	a->filtered += b->filtered;
	a->bad += b->bad;
	a->oversized += b->oversized;
	a->snaplen_exceeded += b->snaplen_exceeded;
	a->caplen_gt_len += b->caplen_gt_len;
	a->truncated += b->truncated;
	a->bytes += b->bytes;
	a->size += b->size;
	a->live_recv += b->live_recv;
	a->live_drop += b->live_drop;
	a->live_ifdrop += b->live_ifdrop;
}

/* Close a source, keeping what its statistics said. */
static void src_close(struct src *s)
{
	if (s->cap) {
		s->st = *pb_capture_stats(s->cap);
		s->errors = pb_capture_errors(s->cap);
		pb_capture_free(s->cap);
		s->cap = NULL;
	}
	s->done = 1;
	s->has_head = 0;
}

/* Read the source's next packet into its head. */
static void src_advance(struct pb_input *in, struct src *s)
{
	if (s->done)
		return;
	if (pb_capture_next(s->cap, &s->head) == 0) {
		s->has_head = 1;
		if (in->n > 1)
			s->head.file = s->path;
		return;
	}
	src_close(s);
}

static int src_open(struct pb_input *in, struct src *s)
{
	int rc = pb_capture_open_file(&s->cap, s->path, &in->o.cap);

	if (rc < 0) {
		in->errors++;
		s->done = 1;
		return rc;
	}
	in->st.files++;
	return 0;
}

static int cmp_first(const void *a, const void *b)
{
	const struct src *x = a, *y = b;

	if (x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns ? -1 : 1;
	return x->order - y->order;
}

int pb_input_open(struct pb_input **out, const char *const *paths, int n,
		  const char *device, const struct pb_input_opts *o)
{
	struct pb_input *in = calloc(1, sizeof(*in));
	int cap = 0, i, rc, stdin_seen = 0;

	*out = NULL;
	if (!in)
		return PB_ENOMEM;
	in->o = *o;
	in->last = -1;
	if (device) {
		rc = pb_capture_open_live(&in->live, device, &o->cap);
		if (rc < 0) {
			free(in);
			return rc;
		}
		snprintf(in->name, sizeof(in->name), "%s", device);
		in->st.files = 1;
		*out = in;
		return 0;
	}
	if (n == 0) {
		static const char *const dash[] = { "-" };

		paths = dash;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		if (!strcmp(paths[i], "-") && stdin_seen++) {
			pb_error("standard input ('-') named twice");
			pb_input_free(in);
			return PB_EUSAGE;
		}
		if ((rc = add_path(in, paths[i], &cap)) < 0) {
			pb_input_free(in);
			return rc;
		}
	}
	if (in->n == 1) {
		/* one input: opened once, no peeking */
		snprintf(in->name, sizeof(in->name), "%s",
			 strcmp(in->srcs[0].path, "-") ? in->srcs[0].path : "(standard input)");
		rc = src_open(in, &in->srcs[0]);
		if (rc < 0) {
			pb_input_free(in);
			return rc;
		}
		in->next_pending = 1;
		src_advance(in, &in->srcs[0]);
		*out = in;
		return 0;
	}
	/* Several: peek each one's first timestamp, then order them by it.
	 * Standard input cannot be opened twice, so it stays open. */
	snprintf(in->name, sizeof(in->name), "%d files", in->n);
	for (i = 0; i < in->n; i++) {
		struct src *s = &in->srcs[i];

		if (src_open(in, s) < 0) {
			s->first_ns = INT64_MAX;
			continue;
		}
		src_advance(in, s);
		s->first_ns = s->has_head ? pb_time_ns(&s->head.ts) : INT64_MAX;
		if (!s->cap)
			continue; /* ended at the peek (no packet, or failed): done */
		if (strcmp(s->path, "-")) {
			/* reopened when the stream gets there */
			s->st = *pb_capture_stats(s->cap);
			s->errors = pb_capture_errors(s->cap);
			if (s->errors)
				/* it reported problems before its first packet
				 * (records skipped): kept open with that packet,
				 * as reading it again would report them twice */
				continue;
			pb_capture_free(s->cap);
			s->cap = NULL;
			s->has_head = 0;
			s->done = 0;
			in->st.files--;
			memset(&s->st, 0, sizeof(s->st));
		}
	}
	if (in->n > 1) /* srcs is NULL when only empty directories were named */
		qsort(in->srcs, (size_t)in->n, sizeof(in->srcs[0]), cmp_first);
	*out = in;
	return 0;
}

/* Open the pending sources whose first packet is due. */
static void activate(struct pb_input *in, int64_t horizon)
{
	while (in->next_pending < in->n) {
		struct src *s = &in->srcs[in->next_pending];

		if (s->first_ns > horizon)
			break;
		in->next_pending++;
		if (s->cap || s->done) /* standard input, or failed at peek */
			continue;
		if (src_open(in, s) == 0)
			src_advance(in, s);
	}
}

/* The active source with the earliest head, or -1. */
static int earliest(struct pb_input *in)
{
	int i, best = -1;
	int64_t bt = 0;

	for (;;) {
		for (i = 0; i < in->next_pending; i++) {
			struct src *s = &in->srcs[i];
			int64_t t;

			if (!s->has_head)
				continue;
			t = pb_time_ns(&s->head.ts);
			/* ties go to the file named first */
			if (best < 0 || t < bt ||
			    (t == bt && s->order < in->srcs[best].order))
				best = i, bt = t;
		}
		/* a pending file that starts no later than that joins first */
		if (in->next_pending < in->n &&
		    (best < 0 || in->srcs[in->next_pending].first_ns <= bt)) {
			activate(in, best < 0 ? in->srcs[in->next_pending].first_ns : bt);
			best = -1;
			continue;
		}
		return best;
	}
}

static void pace(struct pb_input *in, int64_t ts)
{
	int64_t due = in->first_wall_ns + (ts - in->first_ts_ns);

	for (;;) {
		int64_t now = wall_ns();
		struct timespec req;

		if (due <= now || pb_capture_interrupted())
			return;
		req.tv_sec = (due - now) / 1000000000LL;
		req.tv_nsec = (due - now) % 1000000000LL;
		if (nanosleep(&req, NULL) == 0)
			return;
	}
}

static int before(const struct pb_time *a, const struct pb_time *b)
{
	return a->sec < b->sec || (a->sec == b->sec && a->nsec < b->nsec);
}

int pb_input_next(struct pb_input *in, struct pb_packet *p)
{
	for (;;) {
		int64_t ts;
		int i;

		if (in->stopped || pb_capture_interrupted())
			return PB_EOF;
		if (in->o.count && in->st.packets >= in->o.count) {
			in->stopped = 1;
			return PB_EOF;
		}
		if (in->live) {
			int rc = pb_capture_next(in->live, p);

			if (rc < 0)
				return rc == PB_EOF ? PB_EOF : rc;
		} else {
			/* the packet handed out last is consumed now */
			if (in->last >= 0)
				src_advance(in, &in->srcs[in->last]);
			in->last = -1;
			i = earliest(in);
			if (i < 0)
				return PB_EOF;
			*p = in->srcs[i].head;
			in->srcs[i].has_head = 0;
			in->last = i;
			if (in->n > 1)
				p->index = ++in->index;
		}
		if (in->o.has_since && before(&p->ts, &in->o.since)) {
			in->st.before_since++;
			continue;
		}
		if (in->o.has_until && before(&in->o.until, &p->ts)) {
			/* time-ordered input: the rest of this file is later */
			in->st.after_until++;
			if (in->live) {
				in->stopped = 1;
				return PB_EOF;
			}
			src_close(&in->srcs[in->last]);
			in->last = -1;
			continue;
		}
		ts = pb_time_ns(&p->ts);
		if (!in->started) {
			in->started = 1;
			in->first_ts_ns = ts;
			in->first_wall_ns = wall_ns();
		} else if (!in->live && in->o.duration > 0 &&
			   ts - in->first_ts_ns > (int64_t)(in->o.duration * 1e9)) {
			in->stopped = 1;
			return PB_EOF;
		}
		if (in->o.realtime && !in->live)
			pace(in, ts);
		in->st.packets++;
		return 0;
	}
}

const struct pb_input_stats *pb_input_stats(const struct pb_input *in)
{
	return &in->st;
}

void pb_input_capture_stats(const struct pb_input *in, struct pb_capture_stats *sum)
{
	int i;

	memset(sum, 0, sizeof(*sum));
	if (in->live) {
		*sum = *pb_capture_stats(in->live);
		return;
	}
	for (i = 0; i < in->n; i++)
		add_stats(sum, in->srcs[i].cap ? pb_capture_stats(in->srcs[i].cap)
					       : &in->srcs[i].st);
}

uint64_t pb_input_errors(const struct pb_input *in)
{
	uint64_t e = in->errors;
	int i;

	if (in->live)
		return e + pb_capture_errors(in->live);
	for (i = 0; i < in->n; i++)
		e += in->srcs[i].cap ? pb_capture_errors(in->srcs[i].cap) : in->srcs[i].errors;
	return e;
}

const char *pb_input_name(const struct pb_input *in)
{
	return in->name;
}

int pb_input_is_live(const struct pb_input *in)
{
	return in->live != NULL;
}

void pb_input_free(struct pb_input *in)
{
	int i;

	if (!in)
		return;
	pb_capture_free(in->live);
	for (i = 0; i < in->n; i++) {
		pb_capture_free(in->srcs[i].cap);
		free(in->srcs[i].path);
	}
	free(in->srcs);
	free(in);
}
