/* time.c - RFC 3339 timestamps without libc time zone machinery. */
#include "util/time.h"

#include <string.h>

#include "pb.h"
#include "util/banned.h"

/* Days since 1970-01-01 to civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static char *put(char *p, unsigned v, int digits)
{
	int i;

	for (i = digits - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + digits;
}

/* RFC 3339 has four-digit years: 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z */
#define TIME_FIRST (-62167219200LL)
#define TIME_LAST 253402300799LL

size_t pb_time_format(char *out, const struct pb_time *t)
{
	/* The date part changes once a day: keep the last one.  The whole
	 * "YYYY-MM-DDTHH:MM:SS" changes once a second, and a capture's
	 * events come many to a second: keep that too. */
	static __thread int64_t last_day = INT64_MIN;
	static __thread char last_date[16];
	static __thread int64_t last_sec = INT64_MIN;
	static __thread char last_text[20];
	/* A time outside the four-digit years is shown as the nearest one
	 * that has them, so the result still sorts in time order. */
	int64_t sec = t->sec < TIME_FIRST ? TIME_FIRST :
		      t->sec > TIME_LAST ? TIME_LAST : t->sec;
	uint32_t nsec = t->sec < TIME_FIRST ? 0 :
			t->sec > TIME_LAST ? 999999999u : t->nsec;
	int64_t day, sod;
	char *p = out;

	if (sec == last_sec) {
		memcpy(p, last_text, 19);
		p += 19;
		goto frac;
	}
	day = sec >= 0 ? sec / 86400 : (sec - 86399) / 86400;
	sod = sec - day * 86400;
	if (day != last_day) {
		int64_t y;
		unsigned m, d;
		char *q = last_date;

		civil_from_days(day, &y, &m, &d);
		q = put(q, (unsigned)y, 4);
		*q++ = '-';
		q = put(q, m, 2);
		*q++ = '-';
		q = put(q, d, 2);
		*q++ = 'T';
		last_day = day;
	}
	memcpy(p, last_date, 11);
	p += 11;
	p = put(p, (unsigned)(sod / 3600), 2);
	*p++ = ':';
	p = put(p, (unsigned)(sod / 60 % 60), 2);
	*p++ = ':';
	p = put(p, (unsigned)(sod % 60), 2);
	memcpy(last_text, out, 19);
	last_sec = sec;
frac:
	if (t->prec == 6) {
		/* microseconds, the common pcap precision: two digits at a time */
		static const char pairs[] =
			"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
			"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
			"8081828384858687888990919293949596979899";
		unsigned v = nsec / 1000;

		*p++ = '.';
		memcpy(p + 4, pairs + v % 100 * 2, 2);
		v /= 100;
		memcpy(p + 2, pairs + v % 100 * 2, 2);
		v /= 100;
		/* nsec is below 10^9 but a capture's may not be: put() keeps
		 * the low digits, and so does this */
		memcpy(p, pairs + v % 100 * 2, 2);
		p += 6;
	} else if (t->prec >= 9) {
		*p++ = '.';
		p = put(p, nsec, 9);
	} else if (t->prec > 0) {
		unsigned v = nsec;
		int k;

		for (k = 9; k > t->prec; k--)
			v /= 10;
		*p++ = '.';
		p = put(p, v, t->prec);
	}
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - out);
}

static int digits(const char *s, size_t n, size_t *i, int count, unsigned *v)
{
	int k;

	*v = 0;
	for (k = 0; k < count; k++, (*i)++) {
		if (*i >= n || s[*i] < '0' || s[*i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[*i] - '0');
	}
	return 0;
}

static int parse_frac(const char *s, size_t n, size_t *i, struct pb_time *t)
{
	int nd = 0;
	uint32_t ns = 0;

	while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
		if (nd < 9) {
			ns = ns * 10 + (uint32_t)(s[*i] - '0');
			nd++;
		}
		(*i)++;
	}
	if (nd == 0)
		return -1;
	t->prec = (uint8_t)(nd > 6 ? 9 : 6);
	for (; nd < 9; nd++)
		ns *= 10;
	t->nsec = ns;
	return 0;
}

int pb_time_parse(const char *s, size_t n, struct pb_time *t)
{
	size_t i = 0;
	unsigned y, mo, d, h, mi, se;
	int64_t sec;

	t->sec = 0;
	t->nsec = 0;
	t->prec = 6;
	/* epoch seconds with optional fraction (RFC 3339 has '-' at 4) */
	if (n > 0 && (n < 5 || s[4] != '-')) {
		int64_t v = 0;
		int neg = 0;

		if (s[i] == '-')
			neg = 1, i++;
		if (i >= n)
			return PB_EINVAL;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			int dig = s[i] - '0';

			if (v > (INT64_MAX - dig) / 10)
				return PB_EINVAL; /* would overflow */
			v = v * 10 + dig;
			i++;
		}
		if (i < n && s[i] == '.') {
			i++;
			if (parse_frac(s, n, &i, t) < 0)
				return PB_EINVAL;
		}
		if (i != n)
			return PB_EINVAL;
		t->sec = neg ? -v : v;
		if (neg && t->nsec) {
			t->sec--;
			t->nsec = 1000000000u - t->nsec;
		}
		return 0;
	}
	if (digits(s, n, &i, 4, &y) || i >= n || s[i++] != '-' ||
	    digits(s, n, &i, 2, &mo) || i >= n || s[i++] != '-' ||
	    digits(s, n, &i, 2, &d) || i >= n || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
		return PB_EINVAL;
	i++;
	if (digits(s, n, &i, 2, &h) || i >= n || s[i++] != ':' ||
	    digits(s, n, &i, 2, &mi) || i >= n || s[i++] != ':' ||
	    digits(s, n, &i, 2, &se))
		return PB_EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return PB_EINVAL;
	if (i < n && s[i] == '.') {
		i++;
		if (parse_frac(s, n, &i, t) < 0)
			return PB_EINVAL;
	}
	sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		unsigned oh, om;
		int sign = s[i] == '+' ? 1 : -1;

		i++;
		if (digits(s, n, &i, 2, &oh) || i >= n || s[i++] != ':' ||
		    digits(s, n, &i, 2, &om))
			return PB_EINVAL;
		sec -= sign * (int64_t)(oh * 3600 + om * 60);
	} else {
		return PB_EINVAL;
	}
	if (i != n)
		return PB_EINVAL;
	t->sec = sec;
	return 0;
}
