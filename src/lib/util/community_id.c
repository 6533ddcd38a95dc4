/* community_id.c - Community ID v1 with OpenSSL's SHA-1. */
#include "util/community_id.h"

#include <openssl/evp.h>
#include <string.h>

#include "util/base64.h"
#include "util/banned.h"

int pb_icmp_counterpart(uint8_t type, int v6, uint8_t *other, int *is_request)
{
	/* { request, reply } */
	static const uint8_t v4[][2] = {
		{ 8, 0 }, { 13, 14 }, { 15, 16 }, { 10, 9 }, { 17, 18 },
	};
	static const uint8_t v6t[][2] = {
		{ 128, 129 }, { 133, 134 }, { 135, 136 }, { 130, 131 },
		{ 139, 140 }, { 144, 145 },
	};
	size_t i, n = v6 ? sizeof(v6t) / 2 : sizeof(v4) / 2;
	const uint8_t (*tab)[2] = v6 ? v6t : v4;

	for (i = 0; i < n; i++) {
		if (tab[i][0] == type || tab[i][1] == type) {
			int req = tab[i][0] == type;

			*other = tab[i][req];
			if (is_request)
				*is_request = req;
			return 1;
		}
	}
	return 0;
}

int pb_community_id(char *out, const struct pb_flow_tuple *t, uint16_t seed)
{
	static __thread EVP_MD_CTX *ctx;
	static __thread EVP_MD *sha1;
	uint8_t in[2 + 16 + 16 + 2 + 4], dig[EVP_MAX_MD_SIZE];
	const uint8_t *a = t->saddr, *b = t->daddr;
	uint16_t pa = t->sport, pb = t->dport;
	int ports = t->has_ports, one_way = 0, swap;
	unsigned dlen;
	size_t n = 0;
	int cmp;

	if (!ctx) {
		ctx = EVP_MD_CTX_new();
		sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
		if (!ctx || !sha1)
			return -1;
	}
	if (t->proto == 1 || t->proto == 58) {
		uint8_t other;

		if (!t->has_ports)
			ports = 0;
		else if (pb_icmp_counterpart((uint8_t)pa, t->proto == 58, &other, NULL))
			pb = other;
		else
			one_way = 1;
	}
	cmp = memcmp(a, b, t->alen);
	swap = !one_way && (cmp > 0 || (cmp == 0 && ports && pa > pb));
	if (swap) {
		const uint8_t *x = a;
		uint16_t y = pa;

		a = b, b = x;
		pa = pb, pb = y;
	}
	in[n++] = (uint8_t)(seed >> 8);
	in[n++] = (uint8_t)seed;
	memcpy(in + n, a, t->alen);
	n += t->alen;
	memcpy(in + n, b, t->alen);
	n += t->alen;
	in[n++] = t->proto;
	in[n++] = 0;
	if (ports) {
		in[n++] = (uint8_t)(pa >> 8);
		in[n++] = (uint8_t)pa;
		in[n++] = (uint8_t)(pb >> 8);
		in[n++] = (uint8_t)pb;
	}
	if (!EVP_DigestInit_ex2(ctx, sha1, NULL) || !EVP_DigestUpdate(ctx, in, n) ||
	    !EVP_DigestFinal_ex(ctx, dig, &dlen) || dlen != 20)
		return -1;
	out[0] = '1';
	out[1] = ':';
	pb_base64_encode(out + 2, dig, 20);
	out[PB_COMMUNITY_ID_LEN] = '\0';
	return 0;
}
