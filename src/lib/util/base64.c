/* base64.c - RFC 4648 section 4 base64 encoding and strict decoding. */
#include "util/base64.h"

#include "util/banned.h"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void pb_base64_encode(char *out, const void *inv, size_t n)
{
	const uint8_t *in = inv;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = b64[v >> 18];
		*out++ = b64[v >> 12 & 63];
		*out++ = b64[v >> 6 & 63];
		*out++ = b64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		*out++ = b64[v >> 18];
		*out++ = b64[v >> 12 & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = b64[v >> 18];
		*out++ = b64[v >> 12 & 63];
		*out++ = b64[v >> 6 & 63];
		*out++ = '=';
	}
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

long pb_base64_decode(uint8_t *out, const char *s, size_t n)
{
	size_t i, o = 0;

	if (n % 4)
		return -1;
	for (i = 0; i < n; i += 4) {
		int a = b64val((unsigned char)s[i]), b = b64val((unsigned char)s[i + 1]);
		int c = b64val((unsigned char)s[i + 2]), d = b64val((unsigned char)s[i + 3]);
		int last = i + 4 == n;

		if (a < 0 || b < 0)
			return -1;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		if (c < 0) {
			if (!last || s[i + 2] != '=' || s[i + 3] != '=')
				return -1;
			break;
		}
		out[o++] = (uint8_t)((b & 15) << 4 | c >> 2);
		if (d < 0) {
			if (!last || s[i + 3] != '=')
				return -1;
			break;
		}
		out[o++] = (uint8_t)((c & 3) << 6 | d);
	}
	return (long)o;
}
