/* log.c - diagnostics to standard error. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "pb.h"
#include "util/banned.h"

static const char *prog = "pb";
static int level = PB_LOG_WARN;
static void (*before)(void);

void pb_log_set_prog(const char *name) { prog = name; }
const char *pb_log_prog(void) { return prog; }
void pb_log_set_level(int l) { level = l; }
int pb_log_level(void) { return level; }
void pb_log_set_hook(void (*hook)(void)) { before = hook; }

static void emit(int l, const char *tag, const char *fmt, va_list ap)
{
	if (l > level)
		return;
	if (before)
		before();
	fprintf(stderr, "%s: %s", prog, tag);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define PB_LOG_FN(name, l, tag)                 \
	void name(const char *fmt, ...)         \
	{                                       \
		va_list ap;                     \
		va_start(ap, fmt);              \
		emit(l, tag, fmt, ap);          \
		va_end(ap);                     \
	}

PB_LOG_FN(pb_error, PB_LOG_ERROR, "")
PB_LOG_FN(pb_warn, PB_LOG_WARN, "warning: ")
PB_LOG_FN(pb_info, PB_LOG_INFO, "")
PB_LOG_FN(pb_debug, PB_LOG_DEBUG, "debug: ")

const char *pb_strerror(int err)
{
	switch (err) {
	case PB_OK: return "success";
	case PB_ENOMEM: return "out of memory or over a configured limit";
	case PB_EIO: return "input/output error";
	case PB_EFORMAT: return "not a pcap, pcapng or NDJSON input";
	case PB_ETRUNC: return "truncated";
	case PB_EINVAL: return "invalid data";
	case PB_ETOOBIG: return "record too large";
	case PB_EUSAGE: return "usage error";
	case PB_EOF: return "end of input";
	case PB_EAGAIN: return "no data yet";
	}
	return "unknown error";
}
