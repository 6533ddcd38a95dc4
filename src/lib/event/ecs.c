/* ecs.c - small ECS value writers shared by the record kinds (ecs.h). */
#include "event/ecs.h"

#include <arpa/inet.h>
#include <string.h>

#include "util/time.h"
#include "util/banned.h"

/*
 * An IPv6 address as glibc's inet_ntop() writes it (RFC 5952: lower-case
 * hex without leading zeros, the first longest run of two or more zero
 * groups as "::"), and like it the last 32 bits dotted after ::/96 and
 * ::ffff:0:0/96.  inet_ntop formats each group with sprintf, which costs
 * more than the rest of an event's addresses; the result is the same
 * byte for byte.  out has room for 46 bytes.
 */
static size_t format_ip6(char *out, const uint8_t *a)
{
	static const char hex[] = "0123456789abcdef";
	unsigned w[8];
	int i, best = -1, blen = 0, cur = -1, clen = 0;
	char *p = out;

	for (i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	/* the longest zero run, the first of equal ones */
	for (i = 0; i < 8; i++) {
		if (w[i] == 0) {
			if (cur < 0)
				cur = i, clen = 1;
			else
				clen++;
		} else if (cur >= 0) {
			if (best < 0 || clen > blen)
				best = cur, blen = clen;
			cur = -1;
		}
	}
	if (cur >= 0 && (best < 0 || clen > blen))
		best = cur, blen = clen;
	if (best >= 0 && blen < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		unsigned v = w[i];

		if (best >= 0 && i >= best && i < best + blen) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i != 0)
			*p++ = ':';
		/* IPv4-compatible and IPv4-mapped: the last 32 bits dotted */
		if (i == 6 && best == 0 && (blen == 6 || (blen == 5 && w[5] == 0xffff))) {
			size_t n = pb_format_ip(p, a + 12, 4);

			p += n;
			*p = '\0';
			return (size_t)(p - out);
		}
		if (v >= 0x1000)
			*p++ = hex[v >> 12];
		if (v >= 0x100)
			*p++ = hex[v >> 8 & 15];
		if (v >= 0x10)
			*p++ = hex[v >> 4 & 15];
		*p++ = hex[v & 15];
	}
	if (best >= 0 && best + blen == 8)
		*p++ = ':';
	*p = '\0';
	return (size_t)(p - out);
}

size_t pb_format_ip(char *out, const uint8_t *a, int len)
{
	if (len == 4) {
		char *p = out;
		int i;

		for (i = 0; i < 4; i++) {
			unsigned v = a[i];

			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			if (i < 3)
				*p++ = '.';
		}
		*p = '\0';
		return (size_t)(p - out);
	}
	return format_ip6(out, a);
}

void pb_format_mac(char *out, const uint8_t *m)
{
	static const char hex[] = "0123456789ABCDEF";
	int i;

	for (i = 0; i < 6; i++) {
		out[i * 3] = hex[m[i] >> 4];
		out[i * 3 + 1] = hex[m[i] & 15];
		out[i * 3 + 2] = i < 5 ? '-' : '\0';
	}
}

void pb_ecs_str(struct pb_json *j, const char *s)
{
	pb_json_ascii(j, s, strlen(s));
}

void pb_ecs_ip(struct pb_json *j, const char *key, const uint8_t *a, int len)
{
	char s[48];
	size_t n = pb_format_ip(s, a, len);

	pb_json_keyn(j, key, strlen(key));
	pb_json_ascii(j, s, n);
}

void pb_ecs_mac(struct pb_json *j, const uint8_t *m)
{
	char s[18];

	pb_format_mac(s, m);
	pb_json_key(j, "mac");
	pb_json_ascii(j, s, 17);
}

void pb_ecs_tcp_flags(struct pb_json *j, uint16_t flags)
{
	static const char *const names[] = {
		"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"
	};
	int i;

	pb_json_arr(j);
	for (i = 0; i < 9; i++)
		if (flags & (1u << i))
			pb_ecs_str(j, names[i]);
	pb_json_arr_end(j);
}

void pb_ecs_iana_number(struct pb_json *j, uint8_t proto)
{
	char num[4];
	size_t n = 0;

	if (proto >= 100)
		num[n++] = (char)('0' + proto / 100);
	if (proto >= 10)
		num[n++] = (char)('0' + proto / 10 % 10);
	num[n++] = (char)('0' + proto % 10);
	pb_json_key(j, "iana_number");
	pb_json_ascii(j, num, n);
}

void pb_ecs_time_ns(struct pb_json *j, int64_t ns, int prec)
{
	struct pb_time t;
	char s[PB_TIME_MAXLEN];
	int64_t sec = ns / 1000000000, rem = ns % 1000000000;

	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	t.sec = sec;
	t.nsec = (uint32_t)rem;
	t.prec = (uint8_t)prec;
	pb_json_ascii(j, s, pb_time_format(s, &t));
}
