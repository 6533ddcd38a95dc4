/* time.h - capture timestamps: RFC 3339 formatting and parsing. */
#ifndef PB_TIME_H
#define PB_TIME_H

#include <stddef.h>
#include <stdint.h>

/* A capture time: seconds since the epoch, nanoseconds, and how many
 * fractional digits the source carried (6 for microsecond captures, 9 for
 * nanosecond ones), so a record shows the capture's own precision. */
struct pb_time {
	int64_t sec;
	uint32_t nsec;
	uint8_t prec;
};

#define PB_TIME_MAXLEN 40

/* Format as 2026-11-29T10:04:05.123456Z; returns the length written. */
size_t pb_time_format(char *out, const struct pb_time *t);

/*
 * Parse RFC 3339 (Z or +hh:mm offset; 0 to 9 fractional digits, prec set
 * from their count, at least 6), or a decimal epoch with an optional
 * fraction.  Returns 0 or PB_EINVAL.
 */
int pb_time_parse(const char *s, size_t n, struct pb_time *t);

/* Nanoseconds since the epoch, saturating past the years 1677 and 2262
 * (a pcapng timestamp can be anything). */
static inline int64_t pb_time_ns(const struct pb_time *t)
{
	if (t->sec > INT64_MAX / 1000000000LL - 1)
		return INT64_MAX;
	if (t->sec < INT64_MIN / 1000000000LL + 1)
		return INT64_MIN;
	return t->sec * 1000000000LL + t->nsec;
}

#endif
