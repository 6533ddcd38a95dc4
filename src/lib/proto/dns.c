/*
 * dns.c - DNS over UDP and TCP: messages, names, EDNS, zone transfers, and
 * queries paired with their responses by id, written as Packetbeat's dns.*.
 *
 * References: RFC 1034 and RFC 1035 (messages, names, compression, TCP
 * framing), RFC 3596 (AAAA), RFC 2782 (SRV), RFC 3403 (NAPTR), RFC 4034
 * (DS, DNSKEY, RRSIG, NSEC, type bit maps), RFC 5155 (NSEC3), RFC 6844 and
 * RFC 8659 (CAA), RFC 6891 (EDNS(0), the OPT record), RFC 5001 (NSID),
 * RFC 7871 (client subnet), RFC 7873 (cookies), RFC 9460 (SVCB, HTTPS),
 * RFC 5936 (AXFR), RFC 1995 (IXFR), RFC 1982 (serial numbers), RFC 3492
 * (Punycode, to read the Public Suffix List), RFC 4648 (base32hex).
 *
 * A message starts with a 12-byte header (RFC 1035 4.1.1):
 *
 *                                    1  1  1  1  1  1
 *      0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
 *    +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *    |                      ID                       |
 *    +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *    |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
 *    +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *    |           QDCOUNT (questions)                 |
 *    |           ANCOUNT (answers)                   |
 *    |           NSCOUNT (authorities)               |
 *    |           ARCOUNT (additionals)               |
 *    +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *
 * then QDCOUNT questions (a NAME, a 16-bit TYPE and CLASS) and three
 * sections of resource records:
 *
 *    +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *    /          NAME (labels, maybe a pointer)       /
 *    +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *    |                     TYPE                      |
 *    |                     CLASS                     |  OPT: UDP size
 *    |                      TTL                      |  OPT: extended
 *    |                                               |  RCODE, version,
 *    +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+  DO bit
 *    |                   RDLENGTH                    |
 *    +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *    /                 RDATA (RDLENGTH)              /
 *    +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *
 * A name is labels (a length byte 1..63, then that many bytes) ending with
 * a zero byte, or with a pointer (two bytes, 11 and a 14-bit offset of the
 * rest of the name in the message).  Over TCP each message follows its
 * 16-bit length.
 */
#include "proto/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "event/ecs.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/cursor.h"
#include "util/json.h"
#include "util/banned.h"

/* ---- limits ---- */

#define DNS_HDR_LEN 12
/* A name is at most 255 bytes on the wire (RFC 1035 2.3.4). */
#define DNS_NAME_WIRE_MAX 255
/* Its text: a wire byte becomes at most four characters (\DDD). */
#define DNS_NAME_TEXT_MAX 1024
/* Pointers followed in one name.  Each must point below the one before,
 * so a name cannot loop; this only bounds the work on hostile input. */
#define DNS_MAX_JUMPS 128
/* Queries awaiting their response in one conversation: a resolver on one
 * source port keeps a few dozen in flight; more is a flood. */
#define DNS_MAX_PENDING 256
/* Bytes copied into one conversation's state (waiting queries and the
 * zone transfer messages being collected). */
#define DNS_MAX_KEPT (2u << 20)
/* Zone transfer messages kept for one event: answers past it are
 * counted, not listed, so a large zone cannot make a huge event. */
#define DNS_MAX_XFR (1u << 20)
/* Extra fields of one record (RRSIG has the most: eight). */
#define DNS_RD_MAX_FIELDS 10
/* Scratch text for one event's record data. */
#define DNS_SCRATCH_MAX (8u << 20)
/* ... of which a conversation keeps this much between events */
#define DNS_SCRATCH_KEEP (64u << 10)
/* The text dump of a request or response (send_request/send_response). */
#define DNS_TEXT_MAX (4u << 20)
/* A UDP message without EDNS is at most 512 bytes (RFC 1035 4.2.1). */
#define DNS_UDP_PLAIN_MAX 512

/* The Public Suffix List (Debian package publicsuffix), read once. */
#define DNS_PSL_PATH "/usr/share/publicsuffix/public_suffix_list.dat"
#define DNS_PSL_MAX_FILE (4u << 20)     /* the list is about 250 KB */
#define DNS_PSL_MAX_RULES 32768         /* it has about 10 000 rules */
#define DNS_PSL_SLOTS 65536             /* hash slots, twice the rules */
#define DNS_PSL_MAX_TEXT (1u << 20)     /* the rules' text, Punycoded */

/* ---- the wire ---- */

enum {
	DNS_QR = 0x8000, DNS_AA = 0x0400, DNS_TC = 0x0200, DNS_RD = 0x0100,
	DNS_RA = 0x0080, DNS_AD = 0x0020, DNS_CD = 0x0010,
};

enum {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6,
	DNS_T_PTR = 12, DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28,
	DNS_T_SRV = 33, DNS_T_NAPTR = 35, DNS_T_OPT = 41, DNS_T_DS = 43,
	DNS_T_RRSIG = 46, DNS_T_NSEC = 47, DNS_T_DNSKEY = 48, DNS_T_NSEC3 = 50,
	DNS_T_NSEC3PARAM = 51, DNS_T_SVCB = 64, DNS_T_HTTPS = 65,
	DNS_T_IXFR = 251, DNS_T_AXFR = 252, DNS_T_CAA = 257,
};

/* sections, in message order */
enum { DNS_QD, DNS_AN, DNS_NS, DNS_AR, DNS_NSECT };

/* ---- notes: error.message, as Packetbeat words them ---- */

static const char dns_note_rsp_nondns[] =
	"Response: Message's data could not be decoded as DNS";
static const char dns_note_incomplete[] = "Message's data is incomplete";
static const char dns_note_rsp_incomplete[] =
	"Response: Message's data is incomplete";
static const char dns_note_rsp_zero[] =
	"Response: Message's length was set to zero";
static const char dns_note_dup[] =
	"Another query with the same DNS ID from this client was received so "
	"this query was closed without receiving a response";
static const char dns_note_noresp[] = "No response to this query was received";
static const char dns_note_orphan[] =
	"Response: received without an associated Query";
static const char dns_note_big[] = "Non-EDNS packet has size greater than 512";
static const char dns_note_rsp_big[] =
	"Response: Non-EDNS packet has size greater than 512";
static const char dns_note_noedns[] = "Responder does not support EDNS";
static const char dns_note_edns[] = "Unexpected EDNS answer";
/* pbtools' own */
static const char dns_note_flood[] =
	"Too many queries were pending in this conversation so this query was "
	"closed without waiting for its response";
static const char dns_note_xfr_cut[] =
	"Zone transfer too large: some answers are counted but not listed";

/* ---- options ---- */

struct dns_conf {
	int include_authorities;
	int include_additionals;
};

static void dns_conf_init(void *conf)
{
	struct dns_conf *dc = conf;

	/* both false, as in Packetbeat */
	dc->include_authorities = 0;
	dc->include_additionals = 0;
}

static int dns_conf_load(void *conf, struct pb_conf *c, const char *prefix)
{
	struct dns_conf *dc = conf;
	char path[256];

	snprintf(path, sizeof(path), "%s.include_authorities", prefix);
	if (pb_conf_bool(c, path, &dc->include_authorities) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s.include_additionals", prefix);
	if (pb_conf_bool(c, path, &dc->include_additionals) < 0)
		return -1;
	return 0;
}

/* ---- names of numbers (the tables Packetbeat takes from miekg/dns) ---- */

struct dns_code {
	uint16_t code;
	const char *name;
};

static const struct dns_code dns_types[] = {
	{ 0, "None" }, { 1, "A" }, { 2, "NS" }, { 3, "MD" }, { 4, "MF" },
	{ 5, "CNAME" }, { 6, "SOA" }, { 7, "MB" }, { 8, "MG" }, { 9, "MR" },
	{ 10, "NULL" }, { 12, "PTR" }, { 13, "HINFO" }, { 14, "MINFO" },
	{ 15, "MX" }, { 16, "TXT" }, { 17, "RP" }, { 18, "AFSDB" },
	{ 19, "X25" }, { 20, "ISDN" }, { 21, "RT" }, { 23, "NSAP-PTR" },
	{ 24, "SIG" }, { 25, "KEY" }, { 26, "PX" }, { 27, "GPOS" },
	{ 28, "AAAA" }, { 29, "LOC" }, { 30, "NXT" }, { 31, "EID" },
	{ 32, "NIMLOC" }, { 33, "SRV" }, { 34, "ATMA" }, { 35, "NAPTR" },
	{ 36, "KX" }, { 37, "CERT" }, { 39, "DNAME" }, { 41, "OPT" },
	{ 42, "APL" }, { 43, "DS" }, { 44, "SSHFP" }, { 45, "IPSECKEY" },
	{ 46, "RRSIG" }, { 47, "NSEC" }, { 48, "DNSKEY" }, { 49, "DHCID" },
	{ 50, "NSEC3" }, { 51, "NSEC3PARAM" }, { 52, "TLSA" }, { 53, "SMIMEA" },
	{ 55, "HIP" }, { 56, "NINFO" }, { 57, "RKEY" }, { 58, "TALINK" },
	{ 59, "CDS" }, { 60, "CDNSKEY" }, { 61, "OPENPGPKEY" }, { 62, "CSYNC" },
	{ 63, "ZONEMD" }, { 64, "SVCB" }, { 65, "HTTPS" }, { 99, "SPF" },
	{ 100, "UINFO" }, { 101, "UID" }, { 102, "GID" }, { 103, "UNSPEC" },
	{ 104, "NID" }, { 105, "L32" }, { 106, "L64" }, { 107, "LP" },
	{ 108, "EUI48" }, { 109, "EUI64" }, { 128, "NXNAME" }, { 249, "TKEY" },
	{ 250, "TSIG" }, { 251, "IXFR" }, { 252, "AXFR" }, { 253, "MAILB" },
	{ 254, "MAILA" }, { 255, "ANY" }, { 256, "URI" }, { 257, "CAA" },
	{ 258, "AVC" }, { 260, "AMTRELAY" }, { 261, "RESINFO" },
	{ 32768, "TA" }, { 32769, "DLV" }, { 65535, "Reserved" },
};

static const struct dns_code dns_classes[] = {
	{ 1, "IN" }, { 2, "CS" }, { 3, "CH" }, { 4, "HS" }, { 254, "NONE" },
	{ 255, "ANY" },
};

static const struct dns_code dns_opcodes[] = {
	{ 0, "QUERY" }, { 1, "IQUERY" }, { 2, "STATUS" }, { 4, "NOTIFY" },
	{ 5, "UPDATE" },
};

/* 16 is BADSIG in TSIG and BADVERS in EDNS; miekg/dns says BADSIG */
static const struct dns_code dns_rcodes[] = {
	{ 0, "NOERROR" }, { 1, "FORMERR" }, { 2, "SERVFAIL" }, { 3, "NXDOMAIN" },
	{ 4, "NOTIMP" }, { 5, "REFUSED" }, { 6, "YXDOMAIN" }, { 7, "YXRRSET" },
	{ 8, "NXRRSET" }, { 9, "NOTAUTH" }, { 10, "NOTZONE" },
	{ 11, "DSOTYPENI" }, { 16, "BADSIG" }, { 17, "BADKEY" },
	{ 18, "BADTIME" }, { 19, "BADMODE" }, { 20, "BADNAME" },
	{ 21, "BADALG" }, { 22, "BADTRUNC" }, { 23, "BADCOOKIE" },
};

/* DNSSEC algorithms (RFC 8624) and digest types */
static const struct dns_code dns_algs[] = {
	{ 1, "RSAMD5" }, { 2, "DH" }, { 3, "DSA" }, { 5, "RSASHA1" },
	{ 6, "DSA-NSEC3-SHA1" }, { 7, "RSASHA1-NSEC3-SHA1" },
	{ 8, "RSASHA256" }, { 10, "RSASHA512" }, { 12, "ECC-GOST" },
	{ 13, "ECDSAP256SHA256" }, { 14, "ECDSAP384SHA384" }, { 15, "ED25519" },
	{ 16, "ED448" }, { 252, "INDIRECT" }, { 253, "PRIVATEDNS" },
	{ 254, "PRIVATEOID" },
};

static const struct dns_code dns_hashes[] = {
	{ 1, "SHA1" }, { 2, "SHA256" }, { 3, "GOST94" }, { 4, "SHA384" },
	{ 5, "SHA512" },
};

/* SvcParamKeys (RFC 9460 14.3.2, RFC 9461, RFC 9540) */
static const struct dns_code dns_svc_keys[] = {
	{ 0, "mandatory" }, { 1, "alpn" }, { 2, "no-default-alpn" },
	{ 3, "port" }, { 4, "ipv4hint" }, { 5, "ech" }, { 6, "ipv6hint" },
	{ 7, "dohpath" }, { 8, "ohttp" },
};

#define DNS_NCODES(t) (sizeof(t) / sizeof((t)[0]))

/* v in decimal into out, NUL-terminated; returns the length.  out needs
 * room for the digits and the NUL: 21 bytes for any value, 6 for a 16-bit
 * code.  Used where snprintf("%llu") was: it is on every record's path
 * and the format parser costs more than the digits. */
static size_t dns_utoa(char *out, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp), n;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	n = sizeof(tmp) - i;
	memcpy(out, tmp + i, n);
	out[n] = '\0';
	return n;
}

static const char *dns_code_find(const struct dns_code *t, size_t n, unsigned code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

/* Append the string v at k of out (cap bytes), cut to keep room for the
 * NUL as snprintf cuts; returns the new length. */
static size_t dns_catn(char *out, size_t cap, size_t k, const char *v, size_t n)
{
	if (k >= cap)
		return k;
	if (n > cap - 1 - k)
		n = cap - 1 - k;
	memcpy(out + k, v, n);
	out[k + n] = '\0';
	return k + n;
}

/* The length of a short string (a table's name, a number): counted in
 * place, cheaper than a call for a few bytes. */
static inline size_t dns_slen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static size_t dns_cat(char *out, size_t cap, size_t k, const char *v)
{
	return dns_catn(out, cap, k, v, dns_slen(v));
}

/* The name of a code, or its number (buf holds at least 16 bytes). */
static const char *dns_code_name(const struct dns_code *t, size_t n, unsigned code,
				 char *buf)
{
	const char *s = dns_code_find(t, n, code);

	if (s)
		return s;
	/* code is at most 16 bits: 5 digits */
	dns_utoa(buf, code);
	return buf;
}

#define dns_type_name(v, b) dns_code_name(dns_types, DNS_NCODES(dns_types), (v), (b))
#define dns_class_name(v, b) dns_code_name(dns_classes, DNS_NCODES(dns_classes), (v), (b))
#define dns_opcode_name(v, b) dns_code_name(dns_opcodes, DNS_NCODES(dns_opcodes), (v), (b))
#define dns_alg_name(v, b) dns_code_name(dns_algs, DNS_NCODES(dns_algs), (v), (b))
#define dns_hash_name(v, b) dns_code_name(dns_hashes, DNS_NCODES(dns_hashes), (v), (b))

/* An rcode unknown to the table reads "Unknown N", as in Packetbeat. */
static const char *dns_rcode_name(unsigned rcode, char *buf)
{
	const char *s = dns_code_find(dns_rcodes, DNS_NCODES(dns_rcodes), rcode);

	if (s)
		return s;
	{
		/* an RCODE has 12 bits, so this always fits; the cut is
		 * snprintf's, should it not */
		char tmp[32];
		size_t n = 8 + dns_utoa(tmp + 8, rcode);

		memcpy(tmp, "Unknown ", 8);
		if (n > 15)
			n = 15;
		memcpy(buf, tmp, n);
		buf[n] = '\0';
	}
	return buf;
}

/* ---- text helpers (everything lands in a capped pb_buf) ---- */

/* The text at off of b, which may not have been allocated yet. */
static const char *dns_at(const struct pb_buf *b, size_t off)
{
	return b->data ? b->data + off : "";
}

/* A number in decimal. */
static void dns_add_u(struct pb_buf *b, uint64_t v)
{
	char s[24];

	pb_buf_add(b, s, dns_utoa(s, v));
}

/* Bytes in hex: upper case for DS digests and NSEC3 salts, as miekg/dns
 * prints them; lower case for the EDNS options. */
static void dns_add_hex(struct pb_buf *b, const uint8_t *p, size_t n, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		pb_buf_addc(b, digits[p[i] >> 4]);
		pb_buf_addc(b, digits[p[i] & 15]);
	}
}

/* Bytes in padded base64 (RFC 4648 4): DNSKEY keys, RRSIG signatures,
 * an SVCB ech value. */
static void dns_add_b64(struct pb_buf *b, const uint8_t *p, size_t n)
{
	size_t len = pb_base64_enc_len(n);

	/* room first, then encode in place */
	if (pb_buf_grow(b, len + 1) < 0)
		return;
	pb_base64_encode(b->data + b->len, p, n);
	b->len += len;
}

/* base32 with the "extended hex" alphabet and padding (RFC 4648 7), as Go
 * writes NSEC3 hashed owner names */
static void dns_add_b32hex(struct pb_buf *b, const uint8_t *p, size_t n)
{
	static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
	size_t i, out = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (i = 0; i < n; i++) {
/* five bits at a time from the top; leftover bits wait */
		acc = acc << 8 | p[i];
		bits += 8;
		while (bits >= 5) {
			pb_buf_addc(b, al[(acc >> (bits - 5)) & 31]);
			bits -= 5;
			out++;
		}
		acc &= (1u << bits) - 1;
	}
/* the last bits, padded on the right with zeros */
	if (bits > 0) {
		pb_buf_addc(b, al[(acc << (5 - bits)) & 31]);
		out++;
	}
	/* pad to a multiple of eight characters */
	while (out % 8) {
		pb_buf_addc(b, '=');
		out++;
	}
}

/* \DDD, the decimal escape of zone files */
static void dns_add_ddd(struct pb_buf *b, uint8_t v)
{
	char s[4] = { '\\', (char)('0' + v / 100), (char)('0' + v / 10 % 10),
		      (char)('0' + v % 10) };

	pb_buf_add(b, s, 4);
}

/* A character-string as miekg/dns prints it: '"' and '\' escaped with a
 * backslash, bytes outside printable ASCII as \DDD. */
static void dns_add_cstr(struct pb_buf *b, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			pb_buf_addc(b, '\\');
			pb_buf_addc(b, (char)p[i]);
		} else if (p[i] < 0x20 || p[i] > 0x7e) {
			dns_add_ddd(b, p[i]);
		} else {
			pb_buf_addc(b, (char)p[i]);
		}
	}
}

/* The data of a record pbtools does not decode, as Packetbeat writes it:
 * the raw bytes, with \t \r \n, '"' and '\' escaped and other
 * unprintable bytes as \DDD. */
static void dns_add_raw(struct pb_buf *b, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case '"':
		case '\\':
			pb_buf_addc(b, '\\');
			pb_buf_addc(b, (char)p[i]);
			break;
		case '\t':
			pb_buf_add(b, "\\t", 2);
			break;
		case '\r':
			pb_buf_add(b, "\\r", 2);
			break;
		case '\n':
			pb_buf_add(b, "\\n", 2);
			break;
		default:
			if (p[i] < 0x20 || p[i] > 0x7e)
				dns_add_ddd(b, p[i]);
			else
				pb_buf_addc(b, (char)p[i]);
		}
	}
}

/* An address: IPv4, or IPv6 in RFC 5952 form; an IPv4-mapped IPv6
 * address prints as IPv4, as Go's net.IP does. */
static size_t dns_fmt_ip(char *out, const uint8_t *a, int len)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (len == 16 && memcmp(a, mapped, 12) == 0) {
		a += 12;
		len = 4;
	}
	return pb_format_ip(out, a, len);
}

/* The same into b; nothing for a failed read. */
static void dns_add_ip(struct pb_buf *b, const uint8_t *a, int len)
{
	char s[48];

	if (a)
		pb_buf_add(b, s, dns_fmt_ip(s, a, len));
}

/* A time as a DNSSEC signature writes it: YYYYMMDDHHmmSS, UTC, with the
 * 32-bit value read as seconds since 1970 (RFC 4034 3.2). */
static void dns_add_time(struct pb_buf *b, uint32_t t)
{
	/* days to a civil date, after H. Hinnant's days_from_civil inverse */
	uint32_t days = t / 86400, rem = t % 86400;
	uint32_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint32_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	uint32_t m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
	uint32_t v[6] = { y, m, d, rem / 3600, rem / 60 % 60, rem % 60 };
	char s[14];
	int i, k = 0;

	/* y < 2107: four digits, then two for each of the others */
	s[k++] = (char)('0' + y / 1000);
	s[k++] = (char)('0' + y / 100 % 10);
	for (i = 0; i < 6; i++) {
		s[k++] = (char)('0' + v[i] / 10 % 10);
		s[k++] = (char)('0' + v[i] % 10);
	}
/* exactly 14 characters: the year, then month to second */
	pb_buf_add(b, s, 14);
}

/* ---- names ---- */

/* One label's bytes as miekg/dns and dig print them: the characters that
 * mean something in a zone file get a backslash, others outside
 * printable ASCII become \DDD.  out has room for 4 * n bytes. */
static size_t dns_label_text(char *out, const uint8_t *p, size_t n)
{
	size_t i, k = 0;

	/* printable ASCII but the space and the specials below (bits 0-63
	 * and 64-127): most names are all of it */
	static const uint64_t odd_lo = 0xffffffffu | 1ull << ' ' | 1ull << '"' |
		1ull << '\'' | 1ull << '(' | 1ull << ')' | 1ull << '.' | 1ull << ';';
	static const uint64_t odd_hi = 1ull << ('@' - 64) | 1ull << ('\\' - 64) |
		1ull << (0x7f - 64);

	for (i = 0; i < n; i++) {
		uint8_t v = p[i];

		if (v < 64 ? !(odd_lo >> v & 1) : v < 128 && !(odd_hi >> (v - 64) & 1)) {
			out[k++] = (char)v;
			continue;
		}
		switch (v) {
/* zone-file specials: a dot inside a label must not read as a
 * separator, the others delimit fields in dig's output */
		case '.': case ' ': case '\'': case '@': case ';':
		case '(': case ')': case '"': case '\\':
			out[k++] = '\\';
			out[k++] = (char)v;
			break;
		default:
/* control bytes and anything above ASCII, in decimal */
			if (v < 0x20 || v > 0x7e) {
				out[k++] = '\\';
				out[k++] = (char)('0' + v / 100);
				out[k++] = (char)('0' + v / 10 % 10);
				out[k++] = (char)('0' + v % 10);
			} else {
				out[k++] = (char)v;
			}
		}
	}
	return k;
}

/* Mark c as cut short: a read ran past the end of what was given. */
static void dns_cur_cut(struct pb_cur *c)
{
	pb_cur_skip(c, pb_cur_left(c) + 1);
}

/*
 * Read the name at c (inside message m) and write its text to out
 * (DNS_NAME_TEXT_MAX bytes) with a final dot, "." for the root; with out
 * NULL the name is only checked and skipped (the same checks, the same
 * result), which is all a pass that needs no text pays for.  c moves
 * past the name as it sits in place (up to and including a first
 * pointer).  Every pointer must point below the place where the labels it
 * ends began, so following them cannot loop or go forward; at most
 * DNS_MAX_JUMPS are followed and the whole name is at most 255 bytes.
 * Returns PB_CUR_OK, PB_CUR_TRUNCATED (the name runs past the end of c)
 * or PB_CUR_INVALID, and sets c's error the same way.
 */
static int dns_name(const struct pb_cur *m, struct pb_cur *c, char *out, size_t *outlen)
{
	struct pb_cur r = *c;           /* the reader: follows pointers */
	size_t floor, wire = 1, n = 0;  /* the root's zero byte counts */
	unsigned jumps = 0;
	int jumped = 0;
	const uint8_t *p;

/* a cursor that already failed reads nothing more */
	if (!pb_cur_ok(c))
		return c->err;
/* the first pointer must go below where this name starts */
	floor = (size_t)(c->pos - m->start);
	for (;;) {
/* a length byte, or the first byte of a pointer */
		uint8_t len = pb_cur_u8(&r);

		if (!pb_cur_ok(&r))
			goto cut;
		if ((len & 0xc0) == 0xc0) {
			/* a pointer: the rest of the name is elsewhere */
			size_t target = (size_t)(len & 0x3f) << 8;

			target |= pb_cur_u8(&r);
			if (!pb_cur_ok(&r))
				goto cut;
/* in place the name ends after its first pointer */
			if (!jumped) {
				c->pos = r.pos;
				jumped = 1;
			}
/* only strictly backwards: a pointer to itself, to a later
 * place or into the labels that led to it would loop */
			if (target >= floor || ++jumps > DNS_MAX_JUMPS)
				goto bad;
/* the next pointer must go lower still */
			floor = target;
			pb_cur_init(&r, m->start, (size_t)(m->end - m->start));
			pb_cur_skip(&r, target);
			continue;
		}
		/* 01 and 10 prefixes: extended and reserved label types
		 * (RFC 6891 5), which nobody sends */
		if (len & 0xc0)
			goto bad;
/* the root label ends the name */
		if (len == 0)
			break;
/* the length byte and the label count toward 255 */
		wire += (size_t)len + 1;
		if (wire > DNS_NAME_WIRE_MAX)
			goto bad;
		p = pb_cur_bytes(&r, len);
		if (!p)
			goto cut;
/* at most 4 characters a byte: out cannot overflow, since the
 * wire length was checked first */
		if (out) {
			n += dns_label_text(out + n, p, len);
			out[n++] = '.';
		}
	}
	if (!jumped)
		c->pos = r.pos;
	if (!out)
		return PB_CUR_OK;
/* the root alone is written as a dot */
	if (n == 0)
		out[n++] = '.';
	out[n] = '\0';
	*outlen = n;
	return PB_CUR_OK;
cut:
	/* in place the message is cut short; behind a pointer it is wrong */
	if (!jumped) {
		dns_cur_cut(c);
		return PB_CUR_TRUNCATED;
	}
bad:
	pb_cur_invalid(c);
	return PB_CUR_INVALID;
}

/* Packetbeat drops a name's final dot, except from the root's ".". */
static size_t dns_trim(const char *s, size_t n)
{
	return n > 1 && s[n - 1] == '.' ? n - 1 : n;
}

/* Read a name at c and append its text to b, without the final dot when
 * trim; 0 or the cursor error. */
static int dns_add_name(struct pb_buf *b, const struct pb_cur *m, struct pb_cur *c,
			int trim)
{
	char s[DNS_NAME_TEXT_MAX];
	size_t n;
	int rc = dns_name(m, c, s, &n);

	if (rc)
		return rc;
	pb_buf_add(b, s, trim ? dns_trim(s, n) : n);
	return 0;
}

/* ---- the message ---- */

/* A resource record's fixed part, and where its RDATA is. */
struct dns_rr {
	uint16_t type, klass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
};

/* Read one record at c: its owner name into name, the fixed fields, and
 * skip its RDATA; 0 or the cursor error. */
static int dns_rr_read(const struct pb_cur *m, struct pb_cur *c, struct dns_rr *rr,
		       char *name, size_t *nlen)
{
	struct pb_cur rd;

/* owner, then TYPE, CLASS, TTL, RDLENGTH (RFC 1035 4.1.3) */
	if (dns_name(m, c, name, nlen))
		return c->err;
	rr->type = pb_cur_be16(c);
	rr->klass = pb_cur_be16(c);
	rr->ttl = pb_cur_be32(c);
	rr->rdlen = pb_cur_be16(c);
/* the parent skips RDLENGTH bytes whatever the RDATA holds; fewer
 * left than RDLENGTH says is a cut message */
	rd = pb_cur_sub(c, rr->rdlen);
	rr->rdata = rd.start;
	return c->err;
}

/* What one pass over a message found. */
struct dns_msg {
	const uint8_t *p;
	size_t len;
	int err;                     /* PB_CUR_OK, _TRUNCATED or _INVALID */
	uint16_t id, flags;
	uint16_t count[DNS_NSECT];   /* as the header says */
	unsigned n[DNS_NSECT];       /* whole entries read in each section */
	size_t sec[DNS_NSECT];       /* where each section starts */
	/* EDNS: the last OPT record of the additional section, as miekg/dns
	 * picks it */
	int has_opt;
	uint16_t opt_size;
	uint32_t opt_ttl;
	const uint8_t *opt_rdata;
	uint16_t opt_rdlen;
	unsigned rcode;              /* header RCODE with the OPT's upper bits */
	/* the first question */
	int has_q;
	uint16_t qtype, qclass;
	size_t qname_len;            /* without the final dot */
	char qname[DNS_NAME_TEXT_MAX];
};

/*
 * Read a message: the header, then each question and record in turn while
 * the header's counts and the bytes last.  A message that ends before its
 * counts are met is TRUNCATED and keeps what was read; a broken name is
 * INVALID.  Loops are bounded by the bytes: every entry takes at least 5.
 */
static void dns_msg_read_text(struct dns_msg *d, const uint8_t *p, size_t len, int text)
{
	struct pb_cur m, c;
	struct dns_rr rr;
	unsigned s, i;

/* all but the name buffer, which only needs its terminator */
	memset(d, 0, offsetof(struct dns_msg, qname));
	d->qname[0] = '\0';
	d->p = p;
	d->len = len;
	pb_cur_init(&m, p, len);
	c = m;
/* the header: ID, flags and the four counts */
	d->id = pb_cur_be16(&c);
	d->flags = pb_cur_be16(&c);
	for (s = 0; s < DNS_NSECT; s++)
		d->count[s] = pb_cur_be16(&c);
	if (!pb_cur_ok(&c)) {
		/* without a whole header nothing can be paired */
		d->err = PB_CUR_INVALID;
		return;
	}
/* the questions: a name, a type and a class each; the counts are the
 * sender's word, so every read is checked and the first failure stops */
	d->sec[DNS_QD] = pb_cur_offset(&c);
	for (i = 0; i < d->count[DNS_QD]; i++) {
		/* only the first question's text is kept, when wanted: the
		 * other names are checked and skipped without writing it */
		int rc = dns_name(&m, &c, i || !text ? NULL : d->qname, &d->qname_len);
		uint16_t qt = pb_cur_be16(&c), qc = pb_cur_be16(&c);

		if (rc || !pb_cur_ok(&c)) {
			d->err = c.err;
			goto done;
		}
/* only the first question is written, as Packetbeat does */
		if (i == 0) {
			d->has_q = 1;
			d->qtype = qt;
			d->qclass = qc;
			d->qname_len = dns_trim(d->qname, d->qname_len);
			d->qname[d->qname_len] = '\0';
		}
		d->n[DNS_QD]++;
	}
/* answers, authorities, additionals: each section starts where the
 * one before ended */
	for (s = DNS_AN; s < DNS_NSECT; s++) {
		d->sec[s] = pb_cur_offset(&c);
		for (i = 0; i < d->count[s]; i++) {
			if (dns_rr_read(&m, &c, &rr, NULL, NULL)) {
				d->err = c.err;
				goto done;
			}
/* EDNS: only an OPT record of the additional section counts */
			if (s == DNS_AR && rr.type == DNS_T_OPT) {
				d->has_opt = 1;
				d->opt_size = rr.klass;
				d->opt_ttl = rr.ttl;
				d->opt_rdata = rr.rdata;
				d->opt_rdlen = rr.rdlen;
			}
			d->n[s]++;
		}
	}
/* every count was met; bytes after the last record are ignored */
	d->err = PB_CUR_OK;
done:
	/* the extended RCODE: 8 more bits above the header's 4 (RFC 6891
	 * 6.1.3) */
	d->rcode = d->flags & 0xf;
	if (d->has_opt)
		d->rcode |= (d->opt_ttl >> 24) << 4;
}

static void dns_msg_read(struct dns_msg *d, const uint8_t *p, size_t len)
{
	dns_msg_read_text(d, p, len, 1);
}

/* The i-th record of section s (which was read whole by dns_msg_read). */
struct dns_walk {
	struct pb_cur m, c;
	int names;                   /* the owner names' text is wanted */
	size_t nlen;
	struct dns_rr rr;
	char name[DNS_NAME_TEXT_MAX];
};

/* Start walking section s of d; without names, the owner names are only
 * skipped (w->name stays unset), for the passes that need the data. */
static void dns_walk_init2(struct dns_walk *w, const struct dns_msg *d, int s, int names)
{
	pb_cur_init(&w->m, d->p, d->len);
	w->c = w->m;
	w->names = names;
	w->nlen = 0;
	pb_cur_skip(&w->c, d->sec[s]);
}

static void dns_walk_init(struct dns_walk *w, const struct dns_msg *d, int s)
{
	dns_walk_init2(w, d, s, 1);
}

/* The next record, its owner's name without the final dot; 0 at a
 * failure (which dns_msg_read has already ruled out for the records it
 * counted). */
static int dns_walk_next(struct dns_walk *w)
{
	if (!w->names)
		return dns_rr_read(&w->m, &w->c, &w->rr, NULL, NULL) == 0;
	if (dns_rr_read(&w->m, &w->c, &w->rr, w->name, &w->nlen))
		return 0;
	w->nlen = dns_trim(w->name, w->nlen);
	w->name[w->nlen] = '\0';
	return 1;
}

/* Records given to an event may come from several messages (a zone
 * transfer over TCP): then each is kept after its 16-bit length. */
struct dns_msgs {
	const uint8_t *p;
	size_t len;
	int framed;
};

/* The next message of ms at *off; 0 at the end. */
static int dns_msgs_next(const struct dns_msgs *ms, size_t *off, const uint8_t **p,
			 size_t *n)
{
	struct pb_cur c;
	uint16_t len;

/* a single message: once */
	if (!ms->framed) {
		if (*off)
			return 0;
		*off = 1;
		*p = ms->p;
		*n = ms->len;
		return 1;
	}
/* kept messages: a 16-bit length, then the message */
	pb_cur_init(&c, ms->p, ms->len);
	pb_cur_skip(&c, *off);
	len = pb_cur_be16(&c);
	*p = pb_cur_bytes(&c, len);
	if (!*p)
		return 0;
	*n = len;
	*off = pb_cur_offset(&c);
	return 1;
}

/* ---- the Public Suffix List ---- */

enum { DNS_PSL_RULE = 1, DNS_PSL_WILD = 2, DNS_PSL_EXCEPT = 4 };

/* Loaded at the first question that needs it, then kept for the process
 * (a few hundred kilobytes, never grown).  Parsers run on one thread, so
 * the lazy load needs no lock. */
static struct {
	int state;                   /* 0 not read yet, 1 loaded, -1 absent */
	char *text;                  /* rules, each NUL-terminated */
	size_t text_len;
	uint32_t *slot;              /* offset + 1 of a rule, 0 when free */
	uint8_t *kind;               /* DNS_PSL_* of that rule */
	uint8_t *len;                /* that rule's length (below 256) */
	unsigned n;
} dns_psl;

static uint32_t dns_psl_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;    /* FNV-1a */
	size_t i;

/* bytes already lower case: both sides of a lookup are */
	for (i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* The slot of rule s, or of the free slot where it would go. */
static uint32_t dns_psl_slot(const char *s, size_t n)
{
	uint32_t i = dns_psl_hash(s, n) & (DNS_PSL_SLOTS - 1);
	unsigned probes;

	/* the table is at most half full, so a free slot is near */
	for (probes = 0; probes < DNS_PSL_SLOTS; probes++) {
		uint32_t o = dns_psl.slot[i];

		if (!o)
			return i;
		/* the length first: most slots probed hold another rule */
		if (dns_psl.len[i] == n && memcmp(dns_psl.text + o - 1, s, n) == 0)
			return i;
		i = (i + 1) & (DNS_PSL_SLOTS - 1);
	}
	return UINT32_MAX;
}

static int dns_psl_kind(const char *s, size_t n)
{
/* the kinds of the rule s, 0 when the list has no such rule */
	uint32_t i = dns_psl_slot(s, n);

	return i == UINT32_MAX || !dns_psl.slot[i] ? 0 : dns_psl.kind[i];
}

/* RFC 3492 bias adaptation */
static uint32_t dns_puny_adapt(uint32_t delta, uint32_t npoints, int first)
{
	uint32_t k = 0;

/* damp 700 the first time, 2 after; base 36, t_min 1, t_max 26,
 * skew 38 (RFC 3492 5) */
	delta = first ? delta / 700 : delta / 2;
	delta += delta / npoints;
	while (delta > ((36 - 1) * 26) / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (36 * delta) / (delta + 38);
}

static char dns_puny_digit(uint32_t d)
{
	return (char)(d < 26 ? 'a' + d : '0' + d - 26);
}

/*
 * Encode one label of code points as "xn--" and Punycode (RFC 3492 6.3),
 * the form a name has on the wire; 0 when it does not fit in cap.  The
 * list writes internationalized rules in Unicode.
 */
static size_t dns_puny(const uint32_t *cp, size_t ncp, char *out, size_t cap)
{
	uint32_t n = 128, delta = 0, bias = 72, h, b = 0, m, q, k, t;
	size_t o = 4, i;

	if (cap < 5)
		return 0;
/* the ACE prefix, then the basic code points as they are */
	memcpy(out, "xn--", 4);
	for (i = 0; i < ncp; i++)
		if (cp[i] < 0x80) {
			if (o + 1 >= cap)
				return 0;
			out[o++] = (char)cp[i];
			b++;
		}
	if (b > 0)
		out[o++] = '-';
/* then each code point above 127 in order of value, as deltas in a
 * variable-length base-36 code; every step checks for overflow */
	for (h = b; h < ncp; n++, delta++) {
		/* the smallest code point not yet handled */
		for (m = UINT32_MAX, i = 0; i < ncp; i++)
			if (cp[i] >= n && cp[i] < m)
				m = cp[i];
		if ((m - n) > (UINT32_MAX - delta) / (h + 1))
			return 0;
		delta += (m - n) * (h + 1);
		n = m;
		for (i = 0; i < ncp; i++) {
			if (cp[i] < n && ++delta == 0)
				return 0;
			if (cp[i] != n)
				continue;
/* one generalized variable-length integer */
			for (q = delta, k = 36;; k += 36) {
/* the threshold t of this digit, clamped to [1, 26] */
				t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
				if (q < t)
					break;
				if (o + 1 >= cap)
					return 0;
				out[o++] = dns_puny_digit(t + (q - t) % (36 - t));
				q = (q - t) / (36 - t);
			}
			if (o + 1 >= cap)
				return 0;
/* the last digit, below its threshold, ends the integer */
			out[o++] = dns_puny_digit(q);
/* the next integer is scaled by what this one was */
			bias = dns_puny_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
	}
	return o;
}

/* Decode UTF-8 into code points; the count, or 0 when invalid. */
static size_t dns_utf8(const uint8_t *s, size_t n, uint32_t *cp, size_t cap)
{
	size_t i = 0, k = 0;

	while (i < n) {
		uint32_t c = s[i], need, min;

/* the lead byte says how many continuation bytes follow */
		if (c < 0x80)
			need = 0, min = 0;
		else if ((c & 0xe0) == 0xc0)
			need = 1, c &= 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			need = 2, c &= 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			need = 3, c &= 0x07, min = 0x10000;
		else
			return 0;
/* a sequence cut by the end, or too many code points */
		if (n - i <= need || k >= cap)
			return 0;
		for (i++; need; need--, i++) {
/* continuation bytes are 10xxxxxx */
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i] & 0x3f);
		}
/* overlong forms and values past Unicode are refused */
		if (c < min || c > 0x10ffff)
			return 0;
		cp[k++] = c;
	}
	return k;
}

/* Add one rule of the list (ASCII, or UTF-8 made Punycode label by
 * label), with its kind. */
static void dns_psl_add(const char *rule, size_t n, int kind)
{
	char ascii[256];
	uint32_t cp[64];
	size_t a = 0, i = 0, j, ncp, w;
	uint32_t slot;

/* label by label: ASCII is lowered, anything else becomes Punycode */
	while (i <= n) {
		/* one label: rule[i .. j) */
		for (j = i; j < n && rule[j] != '.'; j++)
			;
		if (j == i)
			return;
/* ASCII only? */
		for (w = i; w < j && !((uint8_t)rule[w] & 0x80); w++)
			;
		if (w == j) {
			if (a + (j - i) + 1 >= sizeof(ascii))
				return;
			for (w = i; w < j; w++) {
				char ch = rule[w];

				ascii[a++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
			}
		} else {
/* Unicode: to code points, then to xn--... */
			ncp = dns_utf8((const uint8_t *)rule + i, j - i, cp, 64);
			if (!ncp)
				return;
			w = dns_puny(cp, ncp, ascii + a, sizeof(ascii) - a - 1);
			if (!w)
				return;
			a += w;
		}
		if (j < n)
			ascii[a++] = '.';
		i = j + 1;
	}
/* the caps keep the table at most half full and the text bounded */
	if (dns_psl.n >= DNS_PSL_MAX_RULES || dns_psl.text_len + a + 1 > DNS_PSL_MAX_TEXT)
		return;
	slot = dns_psl_slot(ascii, a);
	if (slot == UINT32_MAX)
		return;
/* a new rule: its text goes after the others */
	if (!dns_psl.slot[slot]) {
		memcpy(dns_psl.text + dns_psl.text_len, ascii, a);
		dns_psl.text[dns_psl.text_len + a] = '\0';
		dns_psl.slot[slot] = (uint32_t)dns_psl.text_len + 1;
		dns_psl.len[slot] = (uint8_t)a;
		dns_psl.text_len += a + 1;
		dns_psl.n++;
	}
/* "ck" may be a rule and have a wildcard too */
	dns_psl.kind[slot] |= (uint8_t)kind;
}

/* Read the list once.  Both its ICANN and private sections count, as in
 * Go's golang.org/x/net/publicsuffix that Packetbeat uses. */
static void dns_psl_load(void)
{
	FILE *f;
	char *file;
	size_t n, i, j;

/* absent until proven present: a failure is not retried */
	dns_psl.state = -1;
	f = fopen(DNS_PSL_PATH, "rb");
	if (!f)
		return;
	file = malloc(DNS_PSL_MAX_FILE);
	dns_psl.text = malloc(DNS_PSL_MAX_TEXT);
	dns_psl.slot = calloc(DNS_PSL_SLOTS, sizeof(*dns_psl.slot));
	dns_psl.kind = calloc(DNS_PSL_SLOTS, 1);
	dns_psl.len = calloc(DNS_PSL_SLOTS, 1);
	if (!file || !dns_psl.text || !dns_psl.slot || !dns_psl.kind || !dns_psl.len) {
		fclose(f);
		goto fail;
	}
/* a longer file is read up to the cap */
	n = fread(file, 1, DNS_PSL_MAX_FILE, f);
	fclose(f);
	for (i = 0; i < n; i = j + 1) {
		size_t k;
		int kind = DNS_PSL_RULE;
		const char *r;

		/* one line: the rule is its first word; "//" starts a comment */
		for (j = i; j < n && file[j] != '\n'; j++)
			;
		while (i < j && (file[i] == ' ' || file[i] == '\t'))
			i++;
		if (i == j || (j - i >= 2 && file[i] == '/' && file[i + 1] == '/'))
			continue;
/* the rule ends at white space */
		for (k = i; k < j && file[k] != ' ' && file[k] != '\t' && file[k] != '\r'; k++)
			;
		r = file + i;
/* "!x" an exception, "*.x" a wildcard below x, else a rule */
		if (r[0] == '!') {
			kind = DNS_PSL_EXCEPT;
			r++;
		} else if (k - i >= 2 && r[0] == '*' && r[1] == '.') {
			kind = DNS_PSL_WILD;
			r += 2;
		}
		if (r < file + k)
			dns_psl_add(r, (size_t)(file + k - r), kind);
	}
/* a list without one rule is no list */
	free(file);
	if (dns_psl.n == 0)
		goto fail_nofile;
	dns_psl.state = 1;
	return;
/* freed and forgotten: the fields are then left out */
fail:
	free(file);
fail_nofile:
	free(dns_psl.text);
	free(dns_psl.slot);
	free(dns_psl.kind);
	free(dns_psl.len);
	memset(&dns_psl, 0, sizeof(dns_psl));
	dns_psl.state = -1;
}

/* What the list says of a question's name (Packetbeat's fields). */
struct dns_domain {
	int etld;                    /* etld_plus_one and registered_domain */
	size_t reg_off, reg_len;     /* registered_domain */
	size_t tld_off, tld_len;     /* top_level_domain; 0 length: absent */
	size_t sub_len;              /* subdomain: name[0 .. sub_len) */
	int reg;                     /* registered_domain without eTLD+1 */
};

/*
 * The registered domain (eTLD+1), its public suffix and the subdomain of a
 * name without its final dot.  The longest matching rule wins, an
 * exception rule over all, and "*" when none matches (publicsuffix.org's
 * algorithm); letters are matched without regard to case.  A name that is
 * itself a public suffix has no eTLD+1; Packetbeat then still fills the
 * registered domain and suffix of a name with exactly one dot.  Names
 * with escaped characters are skipped.  0 when the list is absent.
 */
static int dns_domain(const char *name, size_t n, struct dns_domain *dd)
{
	char low[DNS_NAME_TEXT_MAX];
	size_t lab[128], nl = 0, i, k, best = 1;
	int prev = 0, kind;

	memset(dd, 0, sizeof(*dd));
	if (dns_psl.state == 0)
		dns_psl_load();
	if (dns_psl.state < 0)
		return 0;
/* the root, and names with escapes, have no registered domain */
	if (n == 0 || n >= sizeof(low) || memchr(name, '\\', n))
		return 1;
	for (i = 0; i < n; i++) {
		char ch = name[i];

		low[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	/* label starts, checking for empty labels as Go does (a final dot,
	 * the last label's end, is checked below) */
	for (i = 0; i < n;) {
		const char *dot;

		if (name[i] == '.' || nl >= 128)
			return 1;
		lab[nl++] = i;
		dot = memchr(name + i, '.', n - i);
		if (!dot)
			break;
		i = (size_t)(dot - name) + 1;
	}
/* a final dot is an empty label too */
	if (name[n - 1] == '.')
		return 1;
	/* k labels from the right: rules, wildcards one level up, exceptions */
	for (k = 1; k <= nl; k++) {
		size_t off = lab[nl - k];

		kind = dns_psl_kind(low + off, n - off);
		if (kind & DNS_PSL_EXCEPT) {
			best = k - 1;
			break;
		}
		if ((kind & DNS_PSL_RULE) || (prev & DNS_PSL_WILD))
			best = k;
		prev = kind;
	}
/* the eTLD+1 is the suffix and one more label; the subdomain is what
 * is left of it, without the dot between */
	if (best < nl && best > 0) {
		dd->etld = 1;
		dd->reg_off = lab[nl - best - 1];
		dd->reg_len = n - dd->reg_off;
		dd->tld_off = lab[nl - best];
		dd->tld_len = n - dd->tld_off;
		dd->sub_len = dd->reg_off ? dd->reg_off - 1 : 0;
	} else if (nl == 2) {
		/* a public suffix of two labels: the name and its last label */
		dd->reg = 1;
		dd->reg_off = 0;
		dd->reg_len = n;
		dd->tld_off = lab[1];
		dd->tld_len = n - lab[1];
	}
	return 1;
}

/* ---- record data ---- */

/* A record's data as text fields, in a scratch buffer shared by the whole
 * event (offsets, since the buffer may move as it grows). */
struct dns_rd_field {
	const char *key;
	int num;                     /* a JSON number, else a string */
	uint64_t v;
	size_t off, len;
};

struct dns_rd {
	struct pb_buf *s;
	struct dns_rd_field f[DNS_RD_MAX_FIELDS];
	unsigned nf;
	size_t data_off, data_len;
	int skip;                    /* not listed (A or AAAA without data) */
};

/* A field written as a JSON number; past the cap fields are dropped. */
static void dns_rd_num(struct dns_rd *rd, const char *key, uint64_t v)
{
	if (rd->nf >= DNS_RD_MAX_FIELDS)
		return;
	rd->f[rd->nf].key = key;
	rd->f[rd->nf].num = 1;
	rd->f[rd->nf].v = v;
	rd->nf++;
}

/* A string field holds what was added to s since `from`. */
static void dns_rd_str(struct dns_rd *rd, const char *key, size_t from)
{
	if (rd->nf >= DNS_RD_MAX_FIELDS)
		return;
	rd->f[rd->nf].key = key;
	rd->f[rd->nf].num = 0;
	rd->f[rd->nf].off = from;
	rd->f[rd->nf].len = rd->s->len - from;
	rd->nf++;
}

/* A number kept as a string, as Packetbeat has some (key_tag, labels) */
static void dns_rd_ustr(struct dns_rd *rd, const char *key, uint64_t v)
{
	size_t from = rd->s->len;

	dns_add_u(rd->s, v);
	dns_rd_str(rd, key, from);
}

/* A field from one of pbtools' own names (an algorithm, a type). */
static void dns_rd_cstr(struct dns_rd *rd, const char *key, const char *v)
{
	size_t from = rd->s->len;

	pb_buf_adds(rd->s, v);
	dns_rd_str(rd, key, from);
}

/* A character-string (a length byte, then bytes) from c, escaped. */
static int dns_rd_charstr(struct dns_rd *rd, struct pb_cur *c, const char *key)
{
	size_t from = rd->s->len;
/* the length byte bounds the read; a short RDATA fails it */
	uint8_t n = pb_cur_u8(c);
	const uint8_t *p = pb_cur_bytes(c, n);

	if (!p)
		return -1;
	dns_add_cstr(rd->s, p, n);
	if (key)
		dns_rd_str(rd, key, from);
	return 0;
}

/* A type bit map (RFC 4034 4.1.2): windows of up to 32 bytes, each bit a
 * type; written as type names separated by spaces. */
static int dns_rd_typebits(struct dns_rd *rd, struct pb_cur *c)
{
	size_t from = rd->s->len;
	char tb[16];
	int first = 1;

	while (pb_cur_left(c) > 0) {
/* a window number (the type's upper 8 bits), the bitmap's length */
		uint8_t win = pb_cur_u8(c), blen = pb_cur_u8(c);
		const uint8_t *bits;
		unsigned i;

/* RFC 4034 4.1.2: 1 to 32 bytes, else malformed */
		if (blen == 0 || blen > 32)
			return -1;
		bits = pb_cur_bytes(c, blen);
		if (!bits)
			return -1;
/* bit 0 is the most significant bit of the first byte */
		for (i = 0; i < blen * 8u; i++) {
			if (!(bits[i / 8] & (0x80 >> (i % 8))))
				continue;
			if (!first)
				pb_buf_addc(rd->s, ' ');
			pb_buf_adds(rd->s, dns_type_name(win * 256u + i, tb));
			first = 0;
		}
	}
	dns_rd_str(rd, "type_bits", from);
	return 0;
}

/* SvcParams (RFC 9460 2.2) in presentation form: key=value ... */
static int dns_rd_svcparams(struct dns_rd *rd, struct pb_cur *c)
{
	size_t from = rd->s->len;
	struct pb_buf *s = rd->s;
	char kb[16];
	int first = 1;

	while (pb_cur_left(c) > 0) {
/* SvcParamKey, SvcParamValue length, value (RFC 9460 2.2) */
		uint16_t key = pb_cur_be16(c), vlen = pb_cur_be16(c);
/* the value gets its own cursor: it cannot read past itself */
		struct pb_cur v = pb_cur_sub(c, vlen);
		const char *kname = dns_code_find(dns_svc_keys, DNS_NCODES(dns_svc_keys), key);
		int sep = 0;

/* a value longer than what is left: not SVCB, so raw */
		if (!pb_cur_ok(c))
			return -1;
		if (!first)
			pb_buf_addc(s, ' ');
		first = 0;
/* keys by name, unknown ones as keyN (RFC 9460 2.1) */
		if (kname) {
			pb_buf_adds(s, kname);
		} else {
			snprintf(kb, sizeof(kb), "key%u", key);
			pb_buf_adds(s, kb);
		}
		if (vlen == 0 && (key == 2 || key == 8))
			continue;        /* no-default-alpn, ohttp: no value */
		pb_buf_addc(s, '=');
		switch (key) {
		case 0:              /* mandatory: keys */
			while (pb_cur_left(&v) > 0) {
/* a list of 16-bit keys */
				uint16_t k = pb_cur_be16(&v);
				const char *kn = dns_code_find(dns_svc_keys,
							       DNS_NCODES(dns_svc_keys), k);

				if (!pb_cur_ok(&v))
					return -1;
				if (sep++)
					pb_buf_addc(s, ',');
				if (kn) {
					pb_buf_adds(s, kn);
				} else {
					snprintf(kb, sizeof(kb), "key%u", k);
					pb_buf_adds(s, kb);
				}
			}
			break;
		case 1:              /* alpn: character-strings */
			while (pb_cur_left(&v) > 0) {
				uint8_t n = pb_cur_u8(&v);
				const uint8_t *p = pb_cur_bytes(&v, n);
				size_t i;

				if (!p)
					return -1;
				if (sep++)
					pb_buf_addc(s, ',');
				/* a comma inside an id is escaped (RFC 9460 A.1) */
				for (i = 0; i < n; i++) {
					if (p[i] == ',')
						pb_buf_add(s, "\\,", 2);
					else
						dns_add_cstr(s, p + i, 1);
				}
			}
			break;
		case 3:              /* port */
/* the fixed-size values must have their size exactly */
			if (vlen != 2)
				return -1;
			dns_add_u(s, pb_cur_be16(&v));
			break;
		case 4:              /* ipv4hint */
		case 6:              /* ipv6hint */
			if (vlen == 0 || vlen % (key == 4 ? 4 : 16))
				return -1;
			while (pb_cur_left(&v) > 0) {
				const uint8_t *a = pb_cur_bytes(&v, key == 4 ? 4 : 16);

				if (!a)
					return -1;
				if (sep++)
					pb_buf_addc(s, ',');
				dns_add_ip(s, a, key == 4 ? 4 : 16);
			}
			break;
		case 5:              /* ech: base64 */
			dns_add_b64(s, pb_cur_bytes(&v, vlen), vlen);
			break;
		default:             /* dohpath and unknown keys: quoted text */
			pb_buf_addc(s, '"');
			dns_add_cstr(s, pb_cur_bytes(&v, vlen), vlen);
			pb_buf_addc(s, '"');
		}
	}
/* a record without parameters has no params field */
	if (s->len > from)
		dns_rd_str(rd, "params", from);
	return 0;
}

/* The rest of c: its bytes (and count), or NULL when c already failed. */
static const uint8_t *dns_rest(struct pb_cur *c, size_t *n)
{
	*n = pb_cur_left(c);
	return pb_cur_bytes(c, *n);
}

/* The record's name-valued data from c, as the data field. */
static int dns_rd_data_name(struct dns_rd *rd, const struct pb_cur *m, struct pb_cur *c,
			    int trim)
{
	rd->data_off = rd->s->len;
	if (dns_add_name(rd->s, m, c, trim))
		return -1;
	rd->data_len = rd->s->len - rd->data_off;
	return 0;
}

/* Decode the RDATA of the types pbtools knows; -1 when it does not fit
 * the type (the caller then writes it raw). */
static int dns_rd_typed(struct dns_rd *rd, const struct pb_cur *m, const struct dns_rr *rr,
			struct pb_cur *c)
{
	struct pb_buf *s = rd->s;
	char tb[16];
	size_t from, rest;
	uint8_t n;
	const uint8_t *p;

/* each case reads its type's RDATA in wire order (the RFC named in
 * the file's header); a read past the RDATA fails and is caught by
 * the caller, which checks the cursor */
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		p = pb_cur_bytes(c, rr->rdlen);
/* an address of another size is not an address */
		if (rr->rdlen != (rr->type == DNS_T_A ? 4 : 16))
			return -1;
		rd->data_off = s->len;
		dns_add_ip(s, p, rr->rdlen);
		break;
/* one name, compressed or not (RFC 1035 3.3) */
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		return dns_rd_data_name(rd, m, c, 1);
/* preference, exchange */
	case DNS_T_MX:
		dns_rd_num(rd, "preference", pb_cur_be16(c));
		return dns_rd_data_name(rd, m, c, 1);
/* MNAME (data), RNAME, then five 32-bit numbers */
	case DNS_T_SOA:
		if (dns_rd_data_name(rd, m, c, 1))
			return -1;
		from = s->len;
		if (dns_add_name(s, m, c, 1))
			return -1;
		dns_rd_str(rd, "rname", from);
		dns_rd_num(rd, "serial", pb_cur_be32(c));
		dns_rd_num(rd, "refresh", pb_cur_be32(c));
		dns_rd_num(rd, "retry", pb_cur_be32(c));
		dns_rd_num(rd, "expire", pb_cur_be32(c));
		dns_rd_num(rd, "minimum", pb_cur_be32(c));
		return 0;
/* priority, weight, port, target (RFC 2782) */
	case DNS_T_SRV:
		dns_rd_num(rd, "priority", pb_cur_be16(c));
		dns_rd_num(rd, "weight", pb_cur_be16(c));
		dns_rd_num(rd, "port", pb_cur_be16(c));
		return dns_rd_data_name(rd, m, c, 1);
	case DNS_T_TXT:
		/* the strings, joined with spaces */
		rd->data_off = s->len;
/* as many strings as the RDATA holds, each after its length */
		for (n = 0; pb_cur_left(c) > 0; n = 1) {
			if (n)
				pb_buf_addc(s, ' ');
			if (dns_rd_charstr(rd, c, NULL))
				return -1;
		}
		break;
	case DNS_T_CAA:
		/* flags, tag, value (RFC 8659 4.1) */
		dns_rd_num(rd, "flags", pb_cur_u8(c));
		if (dns_rd_charstr(rd, c, "tag"))
			return -1;
		rd->data_off = s->len;
		p = dns_rest(c, &rest);
		if (!p)
			return -1;
		dns_add_cstr(s, p, rest);
		break;
	case DNS_T_NAPTR:
		/* order, preference, flags, services, regexp, replacement */
		dns_rd_num(rd, "order", pb_cur_be16(c));
		dns_rd_num(rd, "preference", pb_cur_be16(c));
		if (dns_rd_charstr(rd, c, "flags") || dns_rd_charstr(rd, c, "service") ||
		    dns_rd_charstr(rd, c, "regexp"))
			return -1;
		return dns_rd_data_name(rd, m, c, 1);
/* key tag, algorithm, digest type, digest (RFC 4034 5.1) */
	case DNS_T_DS:
		dns_rd_ustr(rd, "key_tag", pb_cur_be16(c));
		dns_rd_cstr(rd, "algorithm", dns_alg_name(pb_cur_u8(c), tb));
		dns_rd_cstr(rd, "digest_type", dns_hash_name(pb_cur_u8(c), tb));
		rd->data_off = s->len;
		p = dns_rest(c, &rest);
		if (!p)
			return -1;
		dns_add_hex(s, p, rest, 1);
		break;
/* flags, protocol (3), algorithm, key (RFC 4034 2.1) */
	case DNS_T_DNSKEY:
		dns_rd_ustr(rd, "flags", pb_cur_be16(c));
		dns_rd_ustr(rd, "protocol", pb_cur_u8(c));
		dns_rd_cstr(rd, "algorithm", dns_alg_name(pb_cur_u8(c), tb));
		rd->data_off = s->len;
		p = dns_rest(c, &rest);
		if (!p)
			return -1;
		dns_add_b64(s, p, rest);
		break;
/* type covered, algorithm, labels, original TTL, expiration,
 * inception, key tag, signer, signature (RFC 4034 3.1) */
	case DNS_T_RRSIG:
/* the fixed 18 bytes, then the signer's name (never compressed, but
 * read like any name), then the signature */
		dns_rd_cstr(rd, "type_covered", dns_type_name(pb_cur_be16(c), tb));
		dns_rd_cstr(rd, "algorithm", dns_alg_name(pb_cur_u8(c), tb));
		dns_rd_ustr(rd, "labels", pb_cur_u8(c));
		dns_rd_ustr(rd, "original_ttl", pb_cur_be32(c));
		from = s->len;
/* times in seconds since 1970 */
		dns_add_time(s, pb_cur_be32(c));
		dns_rd_str(rd, "expiration", from);
		from = s->len;
		dns_add_time(s, pb_cur_be32(c));
		dns_rd_str(rd, "inception", from);
		dns_rd_ustr(rd, "key_tag", pb_cur_be16(c));
		from = s->len;
		if (dns_add_name(s, m, c, 1))
			return -1;
		dns_rd_str(rd, "signer_name", from);
		rd->data_off = s->len;
		p = dns_rest(c, &rest);
		if (!p)
			return -1;
		dns_add_b64(s, p, rest);
		break;
	case DNS_T_NSEC:
		/* the next name keeps its final dot, as in Packetbeat */
		if (dns_rd_data_name(rd, m, c, 0))
			return -1;
		return dns_rd_typebits(rd, c);
/* hash algorithm, flags, iterations, salt; NSEC3 then the next
 * hashed owner and a type bit map (RFC 5155 3.2, 4.2) */
	case DNS_T_NSEC3:
	case DNS_T_NSEC3PARAM:
		dns_rd_cstr(rd, "hash", dns_hash_name(pb_cur_u8(c), tb));
		dns_rd_ustr(rd, "flags", pb_cur_u8(c));
		dns_rd_ustr(rd, "iterations", pb_cur_be16(c));
		/* the salt: upper-case hex, "-" when empty */
		n = pb_cur_u8(c);
		p = pb_cur_bytes(c, n);
		if (!p)
			return -1;
		from = s->len;
		if (n)
			dns_add_hex(s, p, n, 1);
		else
			pb_buf_addc(s, '-');
/* NSEC3PARAM ends with the salt, its data */
		if (rr->type == DNS_T_NSEC3PARAM) {
			rd->data_off = from;
			break;
		}
		dns_rd_str(rd, "salt", from);
		/* the next hashed owner name, in base32hex (RFC 5155 3.3) */
		n = pb_cur_u8(c);
		p = pb_cur_bytes(c, n);
		if (!p)
			return -1;
		rd->data_off = s->len;
		dns_add_b32hex(s, p, n);
		rd->data_len = s->len - rd->data_off;
		return dns_rd_typebits(rd, c);
	case DNS_T_SVCB:
	case DNS_T_HTTPS:
		/* priority, target, then the parameters (RFC 9460 2.2) */
		dns_rd_num(rd, "priority", pb_cur_be16(c));
		if (dns_rd_data_name(rd, m, c, 1))
			return -1;
		return dns_rd_svcparams(rd, c);
	default:
		return -1;
	}
	rd->data_len = s->len - rd->data_off;
	return 0;
}

/* Order fields by key, as Packetbeat's text form lists them. */
static void dns_rd_sort(struct dns_rd *rd)
{
	unsigned i, j;

/* insertion sort of at most DNS_RD_MAX_FIELDS fields */
	for (i = 1; i < rd->nf; i++)
		for (j = i; j > 0 && strcmp(rd->f[j - 1].key, rd->f[j].key) > 0; j--) {
			struct dns_rd_field t = rd->f[j];

			rd->f[j] = rd->f[j - 1];
			rd->f[j - 1] = t;
		}
}

/*
 * A record's data.  Known types are decoded; one whose RDATA does not fit
 * its type, or an unknown type, is written raw as Packetbeat does.  An A
 * or AAAA record without data is not listed (Packetbeat skips it); other
 * types without data have empty data.  Returns 1 when listed.
 */
static int dns_rd_render(struct dns_rd *rd, const struct pb_cur *m, const struct dns_rr *rr)
{
	size_t mark = rd->s->len;
	struct pb_cur c;

	rd->nf = 0;
	rd->skip = 0;
	rd->data_off = mark;
	rd->data_len = 0;
	if (rr->type == DNS_T_OPT ||
	    (rr->rdlen == 0 && (rr->type == DNS_T_A || rr->type == DNS_T_AAAA))) {
		rd->skip = 1;
		return 0;
	}
/* other types without data: listed with empty data */
	if (rr->rdlen == 0)
		return 1;
	pb_cur_init(&c, rr->rdata, rr->rdlen);
	/* a typed reading must use the RDATA exactly */
	if (dns_rd_typed(rd, m, rr, &c) < 0 || !pb_cur_ok(&c) || pb_cur_left(&c)) {
	/* drop what the failed reading wrote */
		rd->s->len = mark;
		rd->nf = 0;
		rd->data_off = mark;
		dns_add_raw(rd->s, rr->rdata, rr->rdlen);
		rd->data_len = rd->s->len - mark;
	}
	dns_rd_sort(rd);
	return 1;
}

/* ---- the event ---- */

/* Everything the write callback needs for one event. */
struct dns_event {
	const struct dns_conf *conf;
	const struct dns_msg *req;   /* the query, or NULL */
	const struct dns_msg *main;  /* the message the dns object describes */
	struct dns_msgs msgs;        /* the messages holding main's records */
	unsigned dropped[DNS_NSECT]; /* zone transfer records not kept */
	struct pb_buf *scratch;
};

/*
 * The next message of the event, read; NULL after the last.  The first
 * is always the one main describes (dns_emit reads it from the first of
 * msgs), so it is not read again: only the later messages of a zone
 * transfer are, into *x.
 */
static const struct dns_msg *dns_ev_next(const struct dns_event *ev, size_t *off,
					 struct dns_msg *x)
{
	const uint8_t *p;
	size_t n;
	int first = *off == 0;

	if (!dns_msgs_next(&ev->msgs, off, &p, &n))
		return NULL;
	if (first)
		return ev->main;
	dns_msg_read(x, p, n);
	return x;
}

/* A name from the tables above, or a number: printable ASCII without
 * '"' or '\\', so it needs no escaping pass. */
static void dns_json_code(struct pb_json *j, const char *s)
{
	pb_json_ascii(j, s, dns_slen(s));
}

/* One record as a JSON object. */
static void dns_json_rr(struct pb_json *j, const struct dns_walk *w, const struct dns_rd *rd)
{
	char b[16], ttl[24];
	unsigned i;

	pb_json_obj(j);
	pb_json_key(j, "name");
	pb_json_str(j, w->name, w->nlen);
	pb_json_key(j, "type");
	dns_json_code(j, dns_type_name(w->rr.type, b));
	pb_json_key(j, "class");
	dns_json_code(j, dns_class_name(w->rr.klass, b));
/* Packetbeat writes the TTL as a string */
	pb_json_key(j, "ttl");
	pb_json_ascii(j, ttl, dns_utoa(ttl, w->rr.ttl));
	pb_json_key(j, "data");
	pb_json_str(j, dns_at(rd->s, rd->data_off), rd->data_len);
/* then the type's own fields, by name */
	for (i = 0; i < rd->nf; i++) {
		pb_json_keyn(j, rd->f[i].key, strlen(rd->f[i].key));
		if (rd->f[i].num)
			pb_json_u64(j, rd->f[i].v);
		else
			pb_json_str(j, dns_at(rd->s, rd->f[i].off), rd->f[i].len);
	}
	pb_json_obj_end(j);
}

/* The records of section s over all of the event's messages as a JSON
 * array under key, when there is one to list. */
static void dns_json_section(struct pb_json *j, const struct dns_event *ev, int s,
			     const char *key)
{
	struct dns_walk w;
	struct dns_rd rd;
	struct dns_msg x;
	const struct dns_msg *d;
	size_t off = 0, mark = ev->scratch->len;
	int open = 0;
	unsigned i;

	rd.s = ev->scratch;
/* every message of the event (several for a zone transfer): only
 * records it counted as whole are walked */
	while ((d = dns_ev_next(ev, &off, &x)) != NULL) {
		dns_walk_init(&w, d, s);
		for (i = 0; i < d->n[s] && dns_walk_next(&w); i++) {
/* the key only once there is something to list */
			if (dns_rd_render(&rd, &w.m, &w.rr)) {
				if (!open) {
					pb_json_keyn(j, key, strlen(key));
					pb_json_arr(j);
					open = 1;
				}
				dns_json_rr(j, &w, &rd);
			}
			ev->scratch->len = mark;
		}
	}
	if (open)
		pb_json_arr_end(j);
}

/* The addresses of the A and AAAA answers, also in related.ip, as
 * Packetbeat adds them. */
static void dns_related_ips(struct pb_txn *t, const struct dns_event *ev)
{
	struct dns_walk w;
	struct dns_msg x;
	const struct dns_msg *d;
	size_t off = 0;
	unsigned i;

/* only the data is needed: the owner names are skipped */
	while ((d = dns_ev_next(ev, &off, &x)) != NULL) {
		dns_walk_init2(&w, d, DNS_AN, 0);
		for (i = 0; i < d->n[DNS_AN] && dns_walk_next(&w); i++) {
			int len = w.rr.type == DNS_T_A ? 4 : 16;

			if ((w.rr.type == DNS_T_A || w.rr.type == DNS_T_AAAA) &&
			    w.rr.rdlen == len)
				pb_txn_related_ip(t, w.rr.rdata, len);
		}
	}
}

/* dns.resolved_ip: the addresses of the A and AAAA answers. */
static void dns_json_ips(struct pb_json *j, const struct dns_event *ev)
{
	struct dns_walk w;
	struct dns_msg x;
	const struct dns_msg *d;
	size_t off = 0;
	int open = 0;
	unsigned i;

	while ((d = dns_ev_next(ev, &off, &x)) != NULL) {
		dns_walk_init2(&w, d, DNS_AN, 0);
		for (i = 0; i < d->n[DNS_AN] && dns_walk_next(&w); i++) {
			char a[48];
			int len = w.rr.type == DNS_T_A ? 4 : 16;

/* an address of the wrong size is not resolved */
			if ((w.rr.type != DNS_T_A && w.rr.type != DNS_T_AAAA) ||
			    w.rr.rdlen != len)
				continue;
			if (!open) {
				pb_json_key(j, "resolved_ip");
				pb_json_arr(j);
				open = 1;
			}
			pb_json_ascii(j, a, dns_fmt_ip(a, w.rr.rdata, len));
		}
	}
	if (open)
		pb_json_arr_end(j);
}

/* dns.opt: the OPT record's fields and the options Packetbeat names
 * (RFC 6891 6.1.3; NSID RFC 5001, client subnet RFC 7871, cookie RFC
 * 7873).  Of an option given twice the last counts. */
static void dns_json_opt(struct pb_json *j, const struct dns_msg *d, struct pb_buf *s)
{
	const uint8_t *nsid = NULL, *cookie = NULL, *subnet = NULL;
	uint16_t nsid_len = 0, cookie_len = 0, subnet_len = 0;
	struct pb_cur c;
	char b[16], vb[24];
	size_t mark = s->len;

	pb_json_key(j, "opt");
	pb_json_obj(j);
/* the OPT record's TTL: extended RCODE, version, DO, Z */
	pb_json_key(j, "version");
	pb_json_ascii(j, vb, dns_utoa(vb, d->opt_ttl >> 16 & 0xff));
	pb_json_key(j, "do");
	pb_json_bool(j, (d->opt_ttl & 0x8000) != 0);
	pb_json_key(j, "ext_rcode");
	dns_json_code(j, dns_rcode_name((d->opt_ttl >> 24) << 4, b));
	pb_json_key(j, "udp_size");
	pb_json_u64(j, d->opt_size);
	/* the options: code, length, data */
	pb_cur_init(&c, d->opt_rdata, d->opt_rdlen);
/* a cut option ends the list */
	while (pb_cur_left(&c) >= 4) {
		uint16_t code = pb_cur_be16(&c), len = pb_cur_be16(&c);
		const uint8_t *p = pb_cur_bytes(&c, len);

		if (!p)
			break;
		if (code == 3)
			nsid = p, nsid_len = len;
		else if (code == 8)
			subnet = p, subnet_len = len;
		else if (code == 10)
			cookie = p, cookie_len = len;
	}
/* NSID: the server's identifier, in hex as miekg/dns writes it */
	if (nsid) {
		dns_add_hex(s, nsid, nsid_len, 0);
		pb_json_key(j, "nsid");
		pb_json_str(j, dns_at(s, mark), s->len - mark);
		s->len = mark;
	}
	if (subnet && subnet_len >= 4) {
		/* family, source prefix, scope prefix, address (padded) */
/* the address is cut to the prefix: pad it back with zeros */
		uint8_t a[16] = { 0 };
		unsigned fam = (unsigned)subnet[0] << 8 | subnet[1];
		size_t alen = subnet_len - 4u;
		int ok = 1;

		if (fam == 1 && alen <= 4) {
			memcpy(a, subnet + 4, alen);
			dns_add_ip(s, a, 4);
		} else if (fam == 2 && alen <= 16) {
			/* an IPv6 address in brackets, as miekg/dns prints it */
			memcpy(a, subnet + 4, alen);
			pb_buf_addc(s, '[');
			dns_add_ip(s, a, 16);
			pb_buf_addc(s, ']');
		} else {
			ok = 0;
		}
/* then the source and scope prefix lengths */
		if (ok) {
			pb_buf_addc(s, '/');
			dns_add_u(s, subnet[2]);
			pb_buf_addc(s, '/');
			dns_add_u(s, subnet[3]);
			pb_json_key(j, "subnet");
			pb_json_str(j, dns_at(s, mark), s->len - mark);
		}
		s->len = mark;
	}
/* the client cookie and any server cookie, in hex */
	if (cookie) {
		dns_add_hex(s, cookie, cookie_len, 0);
		pb_json_key(j, "cookie");
		pb_json_str(j, dns_at(s, mark), s->len - mark);
		s->len = mark;
	}
	pb_json_obj_end(j);
}

/* The dns object of an event (the write callback of struct pb_txn). */
static void dns_write(struct pb_json *j, const struct pb_txn *t, void *arg)
{
	const struct dns_event *ev = arg;
	const struct dns_msg *d = ev->main;
	unsigned cnt[DNS_NSECT] = { 0 }, s;
	struct dns_domain dd;
	struct dns_msg x;
	const struct dns_msg *m;
	size_t off = 0;
	char b[16];
	char *p;

	/* counts over all messages, as Packetbeat counts records read (an OPT
	 * record is not an additional) */
	while ((m = dns_ev_next(ev, &off, &x)) != NULL) {
		for (s = DNS_AN; s < DNS_NSECT; s++)
			cnt[s] += m->n[s];
		if (m->has_opt)
			cnt[DNS_AR]--;
	}
	for (s = DNS_AN; s < DNS_NSECT; s++)
		cnt[s] += ev->dropped[s];

/* the header: ID, opcode, flags, response code, the set flags and the
 * type, written in one run (all literals, table names and numbers: an
 * opcode or rcode name has at most 15 characters) */
	p = pb_json_room(j, 512);
	if (p) {
		static const struct { uint16_t bit; char name[3]; } hf[] = {
			{ DNS_AA, "AA" }, { DNS_TC, "TC" }, { DNS_RD, "RD" },
			{ DNS_RA, "RA" }, { DNS_AD, "AD" }, { DNS_CD, "CD" },
		};
		const char *v;
		unsigned i;
		int any = 0;

		p = pb_json_put_sep(j, p);
		p = pb_json_putlit(p, "\"dns\":{\"id\":");
		p = pb_json_put_u64(p, d->id);
		p = pb_json_putlit(p, ",\"op_code\":\"");
		v = dns_opcode_name(d->flags >> 11 & 0xf, b);
		p = pb_json_put(p, v, dns_slen(v));
		/* the six flags Packetbeat writes, always, true or false */
#define DNS_FL(bit, key) (d->flags & (bit) ? pb_json_putlit(p, key "true") : \
			  pb_json_putlit(p, key "false"))
		p = pb_json_putlit(p, "\",\"flags\":{");
		p = DNS_FL(DNS_AA, "\"authoritative\":");
		p = DNS_FL(DNS_RA, ",\"recursion_available\":");
		p = DNS_FL(DNS_RD, ",\"recursion_desired\":");
		p = DNS_FL(DNS_AD, ",\"authentic_data\":");
		p = DNS_FL(DNS_CD, ",\"checking_disabled\":");
		p = DNS_FL(DNS_TC, ",\"truncated_response\":");
#undef DNS_FL
		/* with EDNS's upper bits: 16 is BADSIG (BADVERS) */
		p = pb_json_putlit(p, "},\"response_code\":\"");
		v = dns_rcode_name(d->rcode, b);
		p = pb_json_put(p, v, dns_slen(v));
		*p++ = '"';
		/* the set flags by their short names, and EDNS's DO */
		if ((d->flags & (DNS_AA | DNS_TC | DNS_RD | DNS_RA | DNS_AD | DNS_CD)) ||
		    (d->has_opt && (d->opt_ttl & 0x8000))) {
			p = pb_json_putlit(p, ",\"header_flags\":[");
			for (i = 0; i < sizeof(hf) / sizeof(hf[0]); i++)
				if (d->flags & hf[i].bit) {
					if (any++)
						*p++ = ',';
					*p++ = '"';
					p = pb_json_put(p, hf[i].name, 2);
					*p++ = '"';
				}
			if (d->has_opt && (d->opt_ttl & 0x8000)) {
				if (any++)
					*p++ = ',';
				p = pb_json_putlit(p, "\"DO\"");
			}
			*p++ = ']';
		}
		/* Packetbeat 8: "answer" when a response was seen, else
		 * "query" */
		if (t->has_response)
			p = pb_json_putlit(p, ",\"type\":\"answer\"");
		else
			p = pb_json_putlit(p, ",\"type\":\"query\"");
		pb_json_done(j, p, 1);
	}
/* the first question, and what the Public Suffix List makes of it */
	if (d->has_q) {
		pb_json_key(j, "question");
		pb_json_obj(j);
/* name without the final dot, type and class by name */
		pb_json_key(j, "name");
		pb_json_str(j, d->qname, d->qname_len);
		pb_json_key(j, "type");
		dns_json_code(j, dns_type_name(d->qtype, b));
		pb_json_key(j, "class");
		dns_json_code(j, dns_class_name(d->qclass, b));
/* from the Public Suffix List, when it could be read */
		if (dns_domain(d->qname, d->qname_len, &dd)) {
			if (dd.etld) {
				pb_json_key(j, "etld_plus_one");
				pb_json_str(j, d->qname + dd.reg_off, dd.reg_len);
			}
/* the one-dot fallback has no etld_plus_one */
			if (dd.etld || dd.reg) {
				pb_json_key(j, "registered_domain");
				pb_json_str(j, d->qname + dd.reg_off, dd.reg_len);
			}
			if (dd.sub_len) {
				pb_json_key(j, "subdomain");
				pb_json_str(j, d->qname, dd.sub_len);
			}
			if (dd.tld_len) {
				pb_json_key(j, "top_level_domain");
				pb_json_str(j, d->qname + dd.tld_off, dd.tld_len);
			}
		}
		pb_json_obj_end(j);
	}
/* dns.opt when the message has EDNS */
	if (d->has_opt)
		dns_json_opt(j, d, ev->scratch);
/* the sections: counts always, answers always, the others when asked */
	pb_json_key(j, "answers_count");
	pb_json_u64(j, cnt[DNS_AN]);
	dns_json_section(j, ev, DNS_AN, "answers");
	pb_json_key(j, "authorities_count");
	pb_json_u64(j, cnt[DNS_NS]);
	if (ev->conf->include_authorities)
		dns_json_section(j, ev, DNS_NS, "authorities");
	pb_json_key(j, "additionals_count");
	pb_json_u64(j, cnt[DNS_AR]);
	if (ev->conf->include_additionals)
		dns_json_section(j, ev, DNS_AR, "additionals");
	dns_json_ips(j, ev);
	pb_json_obj_end(j);
}

/* ---- the text form of a message (request / response) ---- */

/* Packetbeat's one-line form: "ID 1; QR query; OPCODE QUERY; FLAGS rd;
 * RCODE NOERROR; QUESTION class IN, type A, name; ANSWER ...", each record
 * as its extra fields ("key value, ", by key) then its data. */
static void dns_text(struct pb_buf *b, const struct dns_msg *d, struct pb_buf *scratch)
{
	static const struct { uint16_t bit; const char *name; } fl[] = {
		{ DNS_AA, "aa" }, { DNS_TC, "tc" }, { DNS_RD, "rd" },
		{ DNS_RA, "ra" }, { DNS_AD, "ad" }, { DNS_CD, "cd" },
	};
	static const char *const title[DNS_NSECT] = {
		"QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL"
	};
	char t1[16], t2[16];
	struct dns_walk w;
	struct dns_rd rd;
	unsigned i, s, k, listed;
	int first = 1;

/* the header line, with the set flags in lower case as dig has them */
	pb_buf_addf(b, "ID %u; QR %s; OPCODE %s; FLAGS ", d->id,
		    d->flags & DNS_QR ? "response" : "query",
		    dns_opcode_name(d->flags >> 11 & 0xf, t1));
	for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if (d->flags & fl[i].bit) {
			if (!first)
				pb_buf_addc(b, ' ');
			pb_buf_adds(b, fl[i].name);
			first = 0;
		}
	pb_buf_addf(b, "; RCODE %s", dns_rcode_name(d->rcode, t1));
	/* the questions */
/* every question, not only the first */
	if (d->n[DNS_QD]) {
		pb_buf_adds(b, "; QUESTION ");
		dns_walk_init(&w, d, DNS_QD);
		for (i = 0; i < d->n[DNS_QD]; i++) {
			uint16_t qt, qc;

			if (dns_name(&w.m, &w.c, w.name, &w.nlen))
				break;
			qt = pb_cur_be16(&w.c);
			qc = pb_cur_be16(&w.c);
			pb_buf_addf(b, "%sclass %s, type %s, ", i ? "; " : "",
				    dns_class_name(qc, t1), dns_type_name(qt, t2));
			pb_buf_add(b, w.name, dns_trim(w.name, w.nlen));
		}
	}
	/* the records of each section */
	rd.s = scratch;
/* a section's title before its first record, none when empty */
	for (s = DNS_AN; s < DNS_NSECT; s++) {
		dns_walk_init(&w, d, (int)s);
		for (i = 0, listed = 0; i < d->n[s] && dns_walk_next(&w); i++) {
			size_t mark = scratch->len;

/* records not listed (OPT, empty A) are not printed either */
			if (!dns_rd_render(&rd, &w.m, &w.rr))
				continue;
			pb_buf_add(b, "; ", 2);
			if (listed++ == 0) {
				pb_buf_adds(b, title[s]);
				pb_buf_addc(b, ' ');
			}
/* "key value, " for each field, then the data */
			for (k = 0; k < rd.nf; k++) {
				pb_buf_adds(b, rd.f[k].key);
				pb_buf_addc(b, ' ');
				if (rd.f[k].num)
					dns_add_u(b, rd.f[k].v);
				else
					pb_buf_add(b, dns_at(scratch, rd.f[k].off), rd.f[k].len);
				pb_buf_add(b, ", ", 2);
			}
			pb_buf_add(b, dns_at(scratch, rd.data_off), rd.data_len);
			scratch->len = mark;
		}
	}
}

/* The text of every message of ms, one line each. */
static void dns_text_all(struct pb_buf *b, const struct dns_msgs *ms, struct pb_buf *scratch)
{
	struct dns_msg d;
	const uint8_t *p;
	size_t off = 0, n;

	while (dns_msgs_next(ms, &off, &p, &n)) {
		if (b->len)
			pb_buf_addc(b, '\n');
		dns_msg_read(&d, p, n);
		dns_text(b, &d, scratch);
	}
}

/* ---- conversation state ---- */

/* When a message's bytes arrived, and how many there were on the wire. */
struct dns_span {
	int64_t t0, t1;
	uint64_t p0, p1;
	uint64_t bytes;              /* with TCP's 2-byte length */
	int tcp;
};

/* A query waiting for its response (with its own copy of the message). */
struct dns_query {
	uint16_t id;
	uint8_t client;              /* the endpoint that asked */
	uint8_t edns;                /* it had an OPT record */
	uint16_t qtype;
	struct dns_span sp;
	uint8_t *msg;
	size_t len;
	const char *notes[PB_TXN_MAX_NOTES];
	unsigned n_notes;
	/* an IXFR query's own SOA serial (RFC 1995 3) */
	uint8_t has_cserial;
	uint32_t cserial;
	/* a zone transfer over TCP: its response messages so far, each after
	 * its 16-bit length */
	uint8_t xfr;
	uint8_t *rsp;
	size_t rsp_len;
	struct dns_span rsp_sp;      /* first to last response byte */
	unsigned dropped[DNS_NSECT]; /* records of messages not kept */
	unsigned xfr_msgs, xfr_answers, soa_any, soa_match;
	uint8_t first_soa, second_soa;
	uint32_t serial;             /* of the first answer, the zone's SOA */
};

struct dns_state {
	/* waiting queries, oldest first: n of them from q on, inside an
	 * array of cap at base.  A response mostly answers one of the
	 * oldest, so dns_drop moves the fewer side of the array and may
	 * leave free entries before q; dns_on_query takes them back. */
	struct dns_query *q;
	struct dns_query *base;
	unsigned n, cap;
	/* each entry's client and id (dns_key), in the same places as in
	 * base: dns_find scans these few bytes, not the queries */
	uint32_t *keys;
	size_t kept;                 /* bytes copied into q[] */
	/* TCP: a message of that direction is unfinished, and its id */
	uint8_t partial[2];
	uint8_t partial_has_id[2];
	uint8_t partial_qr[2];       /* 1 query, 2 response, 0 unknown */
	uint16_t partial_id[2];
	/* the record data text of one event, kept between events so each
	 * does not allocate its own (dns_emit; freed by dns_close, and when
	 * a large event made it big) */
	struct pb_buf scratch;
	/* at most the earliest time a waiting query counts its timeout
	 * from (dns_expire), so a message that times nothing out does not
	 * scan them all; meaningful only while n > 0 */
	int64_t due_floor;
};

/* q now counts its timeout from t: keep due_floor below it. */
static void dns_due(struct dns_state *s, int64_t t)
{
	if (s->n <= 1 || t < s->due_floor)
		s->due_floor = t;
}

static void dns_note(const char **notes, unsigned *n, const char *note)
{
	unsigned i;

	for (i = 0; i < *n; i++)
		if (notes[i] == note)
			return;
	if (*n < PB_TXN_MAX_NOTES)
		notes[(*n)++] = note;
}

/*
 * Hand one transaction to the engine.  q is the query (or NULL for a
 * response alone); rsp the response messages (or NULL for a query alone),
 * first byte to last in rs.  The dns object describes the response when
 * there is one, else the query; method, query and resource come from the
 * query when there is one, as in Packetbeat.
 */
static void dns_emit(struct pb_txn_conn *c, int client, const struct dns_query *q,
		     const struct dns_msgs *rsp, const struct dns_msg *rsp_read,
		     const struct dns_span *rs,
		     const unsigned *dropped, const char *const *notes, unsigned n_notes)
{
	static const struct dns_conf defaults;
	struct dns_state *st = c->state;
	struct dns_msg req, first;
	struct dns_event ev;
	struct pb_txn t;
	struct pb_buf rqtext, rstext;
	struct pb_buf *scratch = &st->scratch;
	const struct dns_msg *sum;
	char opb[16], cb[16], tb[16];
	char query[DNS_NAME_TEXT_MAX + 64];
	const uint8_t *p;
	size_t off = 0, n;
	unsigned i;

/* scratch and text buffers are capped; the text ones are freed before
 * returning, the scratch is the conversation's and reused */
	memset(&t, 0, sizeof(t));
	memset(&ev, 0, sizeof(ev));
	if (scratch->max == 0)
		pb_buf_init(scratch, DNS_SCRATCH_MAX);
	scratch->len = 0;
	pb_buf_init(&rqtext, DNS_TEXT_MAX);
	pb_buf_init(&rstext, DNS_TEXT_MAX);
	ev.conf = c->conf ? c->conf : &defaults;
	ev.scratch = scratch;
/* the query: its own copy, its bytes and times */
	if (q) {
		dns_msg_read(&req, q->msg, q->len);
		ev.req = &req;
		t.has_request = 1;
		t.request_bytes = q->sp.bytes;
		t.start_ns = q->sp.t0;
		t.end_ns = q->sp.t1;
		t.first_pkt = q->sp.p0;
		t.last_pkt = q->sp.p1;
		ev.main = &req;
		ev.msgs.p = q->msg;
		ev.msgs.len = q->len;
	}
/* the response: its first message heads the event */
	if (rsp && dns_msgs_next(rsp, &off, &p, &n)) {
		/* the caller may have read that message already */
		if (rsp_read && rsp_read->p == p && rsp_read->len == n) {
			ev.main = rsp_read;
		} else {
			dns_msg_read(&first, p, n);
			ev.main = &first;
		}
/* a response alone starts the event; a pair ends with it */
		t.has_response = 1;
		t.response_bytes = rs->bytes;
		if (!q) {
			t.start_ns = rs->t0;
			t.first_pkt = rs->p0;
		}
		t.end_ns = rs->t1;
		t.last_pkt = rs->p1;
		ev.msgs = *rsp;
/* a zone transfer's records past the cap, counted */
		if (dropped)
			for (i = 0; i < DNS_NSECT; i++)
				ev.dropped[i] = dropped[i];
	}
/* nothing to describe (cannot happen: one side is always given) */
	if (!ev.main)
		goto out;
	t.client = (uint8_t)client;
	/* OK only with both sides and NOERROR (the extended code included) */
	t.status = t.has_request && t.has_response && ev.main->rcode == 0 ? "OK" : "Error";
/* method, query and resource: the query's when there is one */
	sum = ev.req ? ev.req : ev.main;
	t.method = dns_opcode_name(sum->flags >> 11 & 0xf, opb);
	if (sum->has_q) {
		/* "class %s, type %s, %s" without snprintf, cut as it would */
		size_t k = 0;

		k = dns_cat(query, sizeof(query), k, "class ");
		k = dns_cat(query, sizeof(query), k, dns_class_name(sum->qclass, cb));
		k = dns_cat(query, sizeof(query), k, ", type ");
		k = dns_cat(query, sizeof(query), k, dns_type_name(sum->qtype, tb));
		k = dns_cat(query, sizeof(query), k, ", ");
		dns_catn(query, sizeof(query), k, sum->qname, sum->qname_len);
		t.query = query;
		t.resource = sum->qname;
	}
/* the notes, in the order they arose */
	for (i = 0; i < n_notes; i++)
		pb_txn_note(&t, notes[i]);
	/* the text forms, only when they will be written */
	if (c->common && c->common->send_request && ev.req) {
		dns_text(&rqtext, ev.req, scratch);
		t.request = (const uint8_t *)rqtext.data;
		t.request_len = rqtext.len;
	}
	if (c->common && c->common->send_response && t.has_response) {
		dns_text_all(&rstext, &ev.msgs, scratch);
		t.response = (const uint8_t *)rstext.data;
		t.response_len = rstext.len;
	}
/* the dns object is written by the engine, through dns_write */
	scratch->len = 0;
	dns_related_ips(&t, &ev);
	t.write = dns_write;
	t.arg = &ev;
	pb_txn_emit(c, &t);
out:
	/* what a large event grew is not kept for the small ones after it */
	if (scratch->cap > DNS_SCRATCH_KEEP)
		pb_buf_release(scratch);
	pb_buf_release(&rqtext);
	pb_buf_release(&rstext);
}

static uint32_t dns_key(int client, uint16_t id)
{
	return (uint32_t)(client & 0xff) << 16 | id;
}

/* Index of the waiting query of client with id, or -1. */
static int dns_find(const struct dns_state *s, int client, uint16_t id)
{
	const uint32_t *k;
	uint32_t key = dns_key(client, id);
	unsigned i;

	if (s->n == 0)
		return -1;
	k = s->keys + (s->q - s->base);
	for (i = 0; i < s->n; i++)
		if (k[i] == key)
			return (int)i;
	return -1;
}

/* Forget waiting query i. */
static void dns_drop(struct dns_state *s, unsigned i)
{
	struct dns_query *q = &s->q[i];
	uint32_t *k;

/* the copies go, and the others close the gap: the earlier ones move
 * down one place when they are fewer, the later ones up otherwise
 * (either way the later queries' indexes drop by one) */
	s->kept -= q->len + q->rsp_len;
	free(q->msg);
	free(q->rsp);
	k = s->keys + (s->q - s->base);
	if (i < s->n - 1 - i) {
		memmove(s->q + 1, s->q, i * sizeof(*q));
		memmove(k + 1, k, i * sizeof(*k));
		s->q++;
	} else {
		memmove(q, q + 1, (s->n - i - 1) * sizeof(*q));
		memmove(k + i, k + i + 1, (s->n - i - 1) * sizeof(*k));
	}
	s->n--;
	if (s->n == 0)
		s->q = s->base;
}

/* Emit waiting query i with a note and forget it.  A zone transfer
 * collected so far goes with it. */
static void dns_flush(struct pb_txn_conn *c, unsigned i, const char *note)
{
	struct dns_state *s = c->state;
	struct dns_query *q = &s->q[i];
	const char *notes[PB_TXN_MAX_NOTES];
	unsigned n = q->n_notes, k;
	struct dns_msgs ms = { q->rsp, q->rsp_len, 1 };

/* the query's notes, then the reason it is closed now */
	for (k = 0; k < n; k++)
		notes[k] = q->notes[k];
	if (note)
		dns_note(notes, &n, note);
	if (q->xfr)
		dns_emit(c, q->client, q, &ms, NULL, &q->rsp_sp, q->dropped, notes, n);
	else
		dns_emit(c, q->client, q, NULL, NULL, NULL, NULL, notes, n);
	dns_drop(s, i);
}

/* Emit the queries that waited longer than the transaction timeout (a
 * zone transfer: since its last message), oldest first. */
static void dns_expire(struct pb_txn_conn *c, int64_t now)
{
	struct dns_state *s = c->state;
	int64_t timeout, floor = INT64_MAX;
	unsigned i = 0;

	/* called for every message: nothing waiting is the common case */
	if (s->n == 0)
		return;
	timeout = c->common ? c->common->timeout_ns : PB_TXN_DEF_TIMEOUT_NS;
/* a timeout of -1 (or 0) waits forever */
	if (timeout <= 0)
		return;
	/* every query counts from due_floor or later: when that has not
	 * timed out, none has (the same test as below) */
	if (!(now >= s->due_floor &&
	      (uint64_t)now - (uint64_t)s->due_floor >= (uint64_t)timeout))
		return;
	while (i < s->n) {
		const struct dns_query *q = &s->q[i];
		int64_t last = q->xfr ? q->rsp_sp.t1 : q->sp.t0;

/* unsigned difference: no overflow whatever the clock holds */
		if (now >= last && (uint64_t)now - (uint64_t)last >= (uint64_t)timeout) {
			dns_flush(c, i, q->xfr ? dns_note_rsp_incomplete : dns_note_noresp);
		} else {
			if (last < floor)
				floor = last;
			i++;
		}
	}
	/* the scan saw every query left: the floor is now exact */
	s->due_floor = floor;
}

/* The serial of an SOA record (after its two names), 0 when unreadable. */
static int dns_soa_serial(const struct pb_cur *m, const struct dns_rr *rr, uint32_t *serial)
{
	struct pb_cur c;

	pb_cur_init(&c, rr->rdata, rr->rdlen);
/* MNAME and RNAME come first (skipped); the serial follows them */
	if (dns_name(m, &c, NULL, NULL) || dns_name(m, &c, NULL, NULL))
		return 0;
	*serial = pb_cur_be32(&c);
	return pb_cur_ok(&c);
}

/* ---- queries and responses ---- */

/* A query arrived: close an older one with its id, make room, keep a
 * copy until its response comes. */
static void dns_on_query(struct pb_txn_conn *c, int dir, const struct dns_msg *d,
			 const struct dns_span *sp)
{
	struct dns_state *s = c->state;
	struct dns_query *q;
	struct dns_walk w;
	uint8_t *copy;
	size_t off;
	int i = dns_find(s, dir, d->id);
	unsigned k;

/* the same client and ID: Packetbeat closes the older one */
	if (i >= 0)
		dns_flush(c, (unsigned)i, s->q[i].xfr ? dns_note_rsp_incomplete : dns_note_dup);
	/* the caps: the oldest waiting queries go first */
	while (s->n && (s->n >= DNS_MAX_PENDING || s->kept + d->len > DNS_MAX_KEPT))
		dns_flush(c, 0, dns_note_flood);
/* no room after the last: the queries slide back to the array's
 * start when they fill at most half of it (or it is at its cap), else
 * the array grows by doubling up to its cap */
	off = s->base ? (size_t)(s->q - s->base) : 0;
	if (off + s->n == s->cap) {
		if (off && (s->n <= s->cap / 2 || s->cap >= DNS_MAX_PENDING)) {
			memmove(s->base, s->q, s->n * sizeof(*s->q));
			memmove(s->keys, s->keys + off, s->n * sizeof(*s->keys));
			s->q = s->base;
		} else {
			unsigned cap = s->cap ? s->cap * 2 : 4;
			struct dns_query *nq;
			uint32_t *nk;

			if (cap > DNS_MAX_PENDING)
				cap = DNS_MAX_PENDING;
			/* the keys first: when the queries cannot grow, a larger
			 * key array is only unused room */
			nk = realloc(s->keys, cap * sizeof(*nk));
			if (!nk)
				return;
			s->keys = nk;
			nq = realloc(s->base, cap * sizeof(*nq));
			if (!nq)
				return;
			s->base = nq;
			s->q = nq + off;
			s->cap = cap;
		}
	}
/* the query outlives this call: keep a copy of it */
	copy = malloc(d->len ? d->len : 1);
	if (!copy)
		return;
	memcpy(copy, d->p, d->len);
/* what pairing and the event need of the query */
	s->keys[(size_t)(s->q - s->base) + s->n] = dns_key(dir, d->id);
	q = &s->q[s->n++];
	memset(q, 0, sizeof(*q));
	q->id = d->id;
	q->client = (uint8_t)dir;
	q->edns = (uint8_t)d->has_opt;
	q->qtype = d->has_q ? d->qtype : 0;
	q->sp = *sp;
	q->msg = copy;
	q->len = d->len;
	s->kept += d->len;
	dns_due(s, sp->t0);
/* a query cut short is kept with what it has, and a note */
	if (d->err == PB_CUR_TRUNCATED)
		dns_note(q->notes, &q->n_notes, dns_note_incomplete);
	/* over UDP, more than 512 bytes needs EDNS (RFC 6891 6.2.3) */
	if (!sp->tcp && !d->has_opt && d->len > DNS_UDP_PLAIN_MAX)
		dns_note(q->notes, &q->n_notes, dns_note_big);
	/* IXFR: the client's serial, in its authority section */
	if (q->qtype == DNS_T_IXFR) {
		dns_walk_init2(&w, d, DNS_NS, 0);
		for (k = 0; k < d->n[DNS_NS] && dns_walk_next(&w); k++)
			if (w.rr.type == DNS_T_SOA &&
			    dns_soa_serial(&w.m, &w.rr, &q->cserial)) {
				q->has_cserial = 1;
				break;
			}
	}
}

/* Follow a zone transfer's answers: the zone's SOA first, and the SOA
 * records that end it. */
static void dns_xfr_track(struct dns_query *q, const struct dns_msg *d)
{
	struct dns_walk w;
	uint32_t serial;
	unsigned i;

	dns_walk_init2(&w, d, DNS_AN, 0);
	for (i = 0; i < d->n[DNS_AN] && dns_walk_next(&w); i++) {
		int soa = w.rr.type == DNS_T_SOA && dns_soa_serial(&w.m, &w.rr, &serial);

/* the first answer is the zone's SOA, whose serial ends it */
		if (q->xfr_answers == 0 && soa) {
			q->first_soa = 1;
			q->serial = serial;
/* an SOA second means IXFR's incremental form */
		} else if (q->xfr_answers == 1) {
			q->second_soa = (uint8_t)soa;
		}
		if (soa) {
			q->soa_any++;
			if (q->first_soa && serial == q->serial)
				q->soa_match++;
		}
		q->xfr_answers++;
	}
	q->xfr_msgs++;
}

/*
 * Whether a zone transfer has ended with message d.  AXFR (RFC 5936 2.2):
 * the zone's SOA comes first and last.  IXFR (RFC 1995 4): a lone SOA
 * when the client is up to date; in the incremental form (SOA, then an
 * older SOA) the zone's serial appears three times, the last at the end;
 * otherwise the whole zone as in AXFR.  An error, an empty message or a
 * first answer that is not an SOA also ends it.
 */
static int dns_xfr_done(const struct dns_query *q, const struct dns_msg *d)
{
	if ((d->flags & 0xf) || d->n[DNS_AN] == 0 || !q->first_soa)
		return 1;
/* AXFR: the closing SOA */
	if (q->qtype == DNS_T_AXFR)
		return q->soa_any >= 2;
	if (q->xfr_msgs == 1 && q->xfr_answers == 1)
		/* RFC 1982: the client's serial is not older than the zone's */
		return !q->has_cserial || q->cserial == q->serial ||
		       (int32_t)(q->cserial - q->serial) > 0;
	return q->soa_match >= (q->second_soa ? 3u : 2u);
}

/* Keep one more message of a zone transfer (or count its records when
 * the caps are reached). */
static void dns_xfr_keep(struct dns_state *s, struct dns_query *q, const struct dns_msg *d,
			 const struct dns_span *sp)
{
	size_t need = d->len + 2;
	uint8_t *nb;

/* the first message starts the response's time and bytes */
	if (!q->xfr) {
		q->xfr = 1;
		q->rsp_sp = *sp;
		q->rsp_sp.bytes = 0;
	}
	q->rsp_sp.t1 = sp->t1;
	dns_due(s, sp->t1);
	q->rsp_sp.p1 = sp->p1;
	q->rsp_sp.bytes += sp->bytes;
	/* the first message is always kept: it is the event's header */
/* past a cap the message is counted, not kept */
	if (q->rsp_len && (q->rsp_len + need > DNS_MAX_XFR || s->kept + need > DNS_MAX_KEPT))
		goto drop;
/* the message after its 16-bit length */
	nb = realloc(q->rsp, q->rsp_len + need);
	if (!nb)
		goto drop;
/* framed as on TCP, so dns_msgs_next can walk them */
	q->rsp = nb;
	q->rsp[q->rsp_len] = (uint8_t)(d->len >> 8);
	q->rsp[q->rsp_len + 1] = (uint8_t)d->len;
	memcpy(q->rsp + q->rsp_len + 2, d->p, d->len);
	q->rsp_len += need;
	s->kept += need;
	return;
/* not kept: its records still count, and the event says so */
drop:
	q->dropped[DNS_AN] += d->n[DNS_AN];
	q->dropped[DNS_NS] += d->n[DNS_NS];
	q->dropped[DNS_AR] += d->n[DNS_AR] - (d->has_opt ? 1u : 0u);
	dns_note(q->notes, &q->n_notes, dns_note_xfr_cut);
}

/* A response arrived: pair it with the query of the other endpoint that
 * has its id, or emit it alone. */
static void dns_on_response(struct pb_txn_conn *c, int dir, const struct dns_msg *d,
			    const struct dns_span *sp)
{
	struct dns_state *s = c->state;
	const char *notes[PB_TXN_MAX_NOTES];
	struct dns_msgs ms = { d->p, d->len, 0 };
	struct dns_query *q;
	unsigned n = 0, k;
	int i = dns_find(s, !dir, d->id);

/* no query: the response alone, its client the other end */
	if (i < 0) {
		dns_note(notes, &n, dns_note_orphan);
		if (d->err == PB_CUR_TRUNCATED)
			dns_note(notes, &n, dns_note_rsp_incomplete);
		if (!sp->tcp && !d->has_opt && d->len > DNS_UDP_PLAIN_MAX)
			dns_note(notes, &n, dns_note_rsp_big);
		dns_emit(c, !dir, NULL, &ms, d, sp, NULL, notes, n);
		return;
	}
	q = &s->q[i];
	/* a zone transfer over TCP may take many messages: collect them */
	if (sp->tcp && (q->qtype == DNS_T_AXFR || q->qtype == DNS_T_IXFR) &&
	    (q->xfr || !(d->flags & 0xf))) {
		dns_xfr_track(q, d);
		if (d->err == PB_CUR_TRUNCATED)
			dns_note(q->notes, &q->n_notes, dns_note_rsp_incomplete);
		if (!q->xfr && dns_xfr_done(q, d))
			goto pair;
		dns_xfr_keep(s, q, d, sp);
		if (dns_xfr_done(q, d))
			dns_flush(c, (unsigned)i, NULL);
		return;
	}
pair:
/* the query's notes first, then the response's */
	for (k = 0; k < q->n_notes; k++)
		notes[n++] = q->notes[k];
	if (d->err == PB_CUR_TRUNCATED)
		dns_note(notes, &n, dns_note_rsp_incomplete);
	/* EDNS over UDP (RFC 6891 7): what Packetbeat checks */
	if (!sp->tcp) {
		if (!d->has_opt && d->len > DNS_UDP_PLAIN_MAX)
			dns_note(notes, &n, dns_note_rsp_big);
		if (q->edns && !d->has_opt)
			dns_note(notes, &n, dns_note_noedns);
		else if (!q->edns && d->has_opt)
			dns_note(notes, &n, dns_note_edns);
	}
	dns_emit(c, q->client, q, &ms, d, sp, NULL, notes, n);
	dns_drop(s, (unsigned)i);
}

/*
 * A message that could not be read.  Packetbeat closes the query it
 * answered with the reason when it is a response (qr 2; 1 is a query, 0
 * unknown).  Over TCP a message without even an id closes the latest
 * query of the other endpoint, as Packetbeat's stream does; over UDP only
 * an id can tie a datagram to a query.
 */
static void dns_broken(struct pb_txn_conn *c, int dir, int qr, int has_id, uint16_t id,
		       int tcp, const char *note)
{
	struct dns_state *s = c->state;
	int i = -1, k;

/* counted in --stats whatever follows */
	if (c->st)
		c->st->parse_errors++;
	if (qr == 1 || (!has_id && !tcp))
		return;
	if (has_id) {
		i = dns_find(s, !dir, id);
	} else {
/* the newest query of the other end */
		for (k = (int)s->n - 1; k >= 0 && i < 0; k--)
			if (s->q[k].client == !dir)
				i = k;
	}
	if (i >= 0)
		dns_flush(c, (unsigned)i, note);
}

/* One whole message from dir. */
static void dns_message(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t len,
			const struct dns_span *sp)
{
	struct dns_msg d;

	/* what timed out before this message is closed first, so pairing
	 * does not depend on when the engine last called expire() */
	dns_expire(c, sp->t0);
	/* a query is kept as bytes and read again for its event: the text
	 * of its question is not needed now (the header's QR bit, which
	 * dns_msg_read reads from the same byte, says which it is) */
	dns_msg_read_text(&d, p, len, len < 3 || (p[2] & 0x80));
/* a message that is not DNS is never paired as one */
	if (d.err == PB_CUR_INVALID) {
		/* the header tells whether it was a response, when it is there */
		int qr = len >= 3 ? (p[2] & 0x80 ? 2 : 1) : 0;

		dns_broken(c, dir, qr, len >= 2, len >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : 0,
			   sp->tcp, dns_note_rsp_nondns);
		return;
	}
/* QR decides which side of a pair it is */
	if (d.flags & DNS_QR)
		dns_on_response(c, dir, &d, sp);
	else
		dns_on_query(c, dir, &d, sp);
}

/* ---- the parser interface ---- */

/* UDP: one message per datagram. */
static void dns_datagram(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
/* a datagram arrives at once; its bytes are the UDP payload */
	struct dns_span sp = { c->now_ns, c->now_ns, c->now_pkt, c->now_pkt, len, 0 };

	dns_message(c, dir, data, len, &sp);
}

/*
 * TCP (RFC 1035 4.2.2, RFC 7766 8): each message after its 16-bit length;
 * several may come in one segment and one may span several.  Whole
 * messages are consumed; an unfinished one is left for the next call.  A
 * zero length cannot be framed past: the buffered bytes are dropped, as
 * Packetbeat drops the stream, and the next bytes start a message.
 */
static size_t dns_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct dns_state *s = c->state;
	struct pb_cur cur;
	size_t used = 0;

/* what was left unfinished is given again, with more after it */
	dir &= 1;
	s->partial[dir] = 0;
	pb_cur_init(&cur, data, len);
/* one message per turn: every turn consumes at least 3 bytes or
 * ends the loop, so it is bounded by len */
	while (pb_cur_left(&cur) >= 2) {
		size_t at = pb_cur_offset(&cur);
		uint16_t mlen = pb_cur_be16(&cur);
		struct dns_span sp;
		const uint8_t *m;

/* a zero length: the stream cannot be framed past it */
		if (mlen == 0) {
			dns_broken(c, dir, 0, 0, 0, 1, dns_note_rsp_zero);
			return len;
		}
/* the rest of the message is still to come */
		if (pb_cur_left(&cur) < mlen)
			break;
		m = pb_cur_bytes(&cur, mlen);
/* a message's times are those of its first and last bytes, whatever
 * segments carried them */
		pb_txn_byte_time(c, dir, at, &sp.t0, &sp.p0);
		pb_txn_byte_time(c, dir, at + 2u + mlen - 1, &sp.t1, &sp.p1);
/* Packetbeat counts the length prefix */
		sp.bytes = (uint64_t)mlen + 2;
		sp.tcp = 1;
		dns_message(c, dir, m, mlen, &sp);
		used = pb_cur_offset(&cur);
	}
	/* an unfinished message: remember what its header says so far */
	if (used < len) {
		const uint8_t *p = data + used;
		size_t have = len - used;

		s->partial[dir] = 1;
/* the ID follows the two length bytes; QR is the top bit after it */
		s->partial_has_id[dir] = have >= 4;
		s->partial_id[dir] = have >= 4 ? (uint16_t)(p[2] << 8 | p[3]) : 0;
		s->partial_qr[dir] = have >= 5 ? (p[4] & 0x80 ? 2 : 1) : 0;
	}
	return used;
}

/* What was left unfinished in dir will never be completed. */
static void dns_unfinished(struct pb_txn_conn *c, int dir)
{
	struct dns_state *s = c->state;

	if (!s->partial[dir])
		return;
	s->partial[dir] = 0;
	dns_broken(c, dir, s->partial_qr[dir], s->partial_has_id[dir], s->partial_id[dir],
		   1, dns_note_rsp_incomplete);
}

/* TCP bytes lost: an unfinished message is incomplete, a zone transfer
 * from dir misses records; the next bytes are taken as a message start. */
static void dns_gap(struct pb_txn_conn *c, int dir, uint64_t n)
{
	struct dns_state *s = c->state;
	unsigned i;

	(void)n;
	dir &= 1;
	dns_unfinished(c, dir);
/* a transfer from dir has lost records: it will say so */
	for (i = 0; i < s->n; i++)
		if (s->q[i].xfr && s->q[i].client == !dir)
			dns_note(s->q[i].notes, &s->q[i].n_notes, dns_note_rsp_incomplete);
}

/* The direction ended: nothing more will finish its message, nor the
 * zone transfers it was sending. */
static void dns_fin(struct pb_txn_conn *c, int dir)
{
	struct dns_state *s = c->state;
	unsigned i = 0;

	dir &= 1;
	dns_unfinished(c, dir);
/* a transfer whose server stopped sending will not end */
	while (i < s->n) {
		if (s->q[i].xfr && s->q[i].client == !dir)
			dns_flush(c, i, dns_note_rsp_incomplete);
		else
			i++;
	}
}

/* The conversation ended: emit every query still waiting, free it all. */
static void dns_close(struct pb_txn_conn *c)
{
	struct dns_state *s = c->state;

/* oldest first, as they came */
	while (s->n)
		dns_flush(c, 0, s->q[0].xfr ? dns_note_rsp_incomplete : dns_note_noresp);
	free(s->base);
	free(s->keys);
	pb_buf_release(&s->scratch);
	memset(s, 0, sizeof(*s));
}

/* UDP and TCP port 53 (RFC 1035 4.2) */
static const uint16_t dns_ports[] = { 53 };

/* The parser, as the registry (proto/proto.c) lists it. */
/* the options of its own (pb_proto.keys) */
static const char *const dns_keys[] = {
	"include_authorities",
	"include_additionals",
	NULL
};

const struct pb_proto pb_proto_dns = {
	.name = "dns",
	.transports = PB_TP_TCP | PB_TP_UDP,
	.ports = dns_ports,
	.n_ports = sizeof(dns_ports) / sizeof(dns_ports[0]),
	.conf_size = sizeof(struct dns_conf),
	.conf_init = dns_conf_init,
	.conf_load = dns_conf_load,
	.state_size = sizeof(struct dns_state),
	.parse = dns_parse,
	.gap = dns_gap,
	.fin = dns_fin,
	.datagram = dns_datagram,
	.expire = dns_expire,
	.close = dns_close,
	.keys = dns_keys,
};
