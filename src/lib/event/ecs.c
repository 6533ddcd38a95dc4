/* ecs.c - small ECS value writers shared by the record kinds (ecs.h). */
#include "event/ecs.h"

#include <arpa/inet.h>
#include <string.h>

#include "util/time.h"
#include "util/banned.h"

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
	/* inet_ntop follows RFC 5952: lower case, longest zero run as :: */
	if (!inet_ntop(AF_INET6, a, out, 46))
		out[0] = '\0';
	return strlen(out);
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
