/*
 * log.h - diagnostics on standard error, in one style:
 *   pb-decode: x.pcap: packet 1234: truncated IPv4 header
 * The tool sets its name once; library code reports through these calls
 * and never decides to exit.
 */
#ifndef PB_LOG_H
#define PB_LOG_H

enum pb_log_level { PB_LOG_QUIET = -1, PB_LOG_ERROR = 0, PB_LOG_WARN = 1,
		    PB_LOG_INFO = 2, PB_LOG_DEBUG = 3 };

void pb_log_set_prog(const char *name);
const char *pb_log_prog(void);
void pb_log_set_level(int level);
int pb_log_level(void);

void pb_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pb_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pb_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Called before each message, so a progress line can be erased first. */
void pb_log_set_hook(void (*hook)(void));

#endif
