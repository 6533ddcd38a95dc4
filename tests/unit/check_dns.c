/*
 * check_dns.c - the DNS parser (proto/dns.c) driven as the engine drives
 * it (tests/unit/txnharness.h): pairing over UDP and TCP, TCP framing at
 * every split, the data of each record type, name compression attacks,
 * cut and lying messages, duplicate ids, lone responses, timeouts, EDNS,
 * the options, zone transfers, the Public Suffix List, and random input.
 *
 * Messages are built byte by byte below (struct msg); the fields of the
 * events are read back with cJSON.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "txnharness.h"
#include "conf/conf.h"
#include "proto/proto.h"

#define SEC INT64_C(1000000000)
#define PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dat"

enum {
	QR = 0x8000, AA = 0x0400, TC = 0x0200, RD = 0x0100, RA = 0x0080,
	AD = 0x0020, CD = 0x0010,
};

enum {
	T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_PTR = 12, T_MX = 15,
	T_TXT = 16, T_AAAA = 28, T_SRV = 33, T_NAPTR = 35, T_OPT = 41, T_DS = 43,
	T_RRSIG = 46, T_NSEC = 47, T_DNSKEY = 48, T_NSEC3 = 50,
	T_NSEC3PARAM = 51, T_SVCB = 64, T_HTTPS = 65, T_IXFR = 251,
	T_AXFR = 252, T_ANY = 255, T_CAA = 257,
};

/* ---- building messages ---- */

struct msg {
	uint8_t b[16384];
	size_t n;
};

static void m_u8(struct msg *m, unsigned v)
{
	ck_assert_uint_lt(m->n, sizeof(m->b));
	m->b[m->n++] = (uint8_t)v;
}

static void m_u16(struct msg *m, unsigned v)
{
	m_u8(m, v >> 8 & 0xff);
	m_u8(m, v & 0xff);
}

static void m_u32(struct msg *m, uint32_t v)
{
	m_u16(m, v >> 16);
	m_u16(m, v & 0xffff);
}

static void m_raw(struct msg *m, const void *p, size_t n)
{
	if (n == 0)
		return;
	ck_assert_uint_le(m->n + n, sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* labels of a dotted name, without the final zero ("" for none) */
static void m_labels(struct msg *m, const char *s)
{
	while (*s && strcmp(s, ".") != 0) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		m_u8(m, (unsigned)l);
		m_raw(m, s, l);
		s += l + (dot != NULL);
	}
}

/* a whole name ("." or "" is the root) */
static void m_name(struct msg *m, const char *s)
{
	m_labels(m, s);
	m_u8(m, 0);
}

/* labels then a pointer to off */
static void m_name_ptr(struct msg *m, const char *s, unsigned off)
{
	m_labels(m, s);
	m_u16(m, 0xc000 | off);
}

static void m_hdr(struct msg *m, unsigned id, unsigned flags, unsigned qd, unsigned an,
		  unsigned ns, unsigned ar)
{
	m->n = 0;
	m_u16(m, id);
	m_u16(m, flags);
	m_u16(m, qd);
	m_u16(m, an);
	m_u16(m, ns);
	m_u16(m, ar);
}

static void m_q(struct msg *m, const char *name, unsigned type)
{
	m_name(m, name);
	m_u16(m, type);
	m_u16(m, 1);
}

/* a record's fixed part after its owner; returns where RDLENGTH goes */
static size_t m_rr_fixed(struct msg *m, unsigned type, unsigned klass, uint32_t ttl)
{
	size_t at;

	m_u16(m, type);
	m_u16(m, klass);
	m_u32(m, ttl);
	at = m->n;
	m_u16(m, 0);
	return at;
}

/* a record owned by the name at offset 12 (the question's) */
static size_t m_rr(struct msg *m, unsigned type, uint32_t ttl)
{
	m_u16(m, 0xc00c);
	return m_rr_fixed(m, type, 1, ttl);
}

static void m_rr_end(struct msg *m, size_t at)
{
	size_t len = m->n - at - 2;

	m->b[at] = (uint8_t)(len >> 8);
	m->b[at + 1] = (uint8_t)len;
}

static void m_a(struct msg *m, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	size_t at = m_rr(m, T_A, 300);

	m_u8(m, a);
	m_u8(m, b);
	m_u8(m, c);
	m_u8(m, d);
	m_rr_end(m, at);
}

/* an OPT record (RFC 6891 6.1.2): root owner, size, ttl, options */
static void m_opt(struct msg *m, unsigned size, uint32_t ttl, const void *opts, size_t n)
{
	size_t at;

	m_u8(m, 0);
	at = m_rr_fixed(m, T_OPT, size, ttl);
	m_raw(m, opts, n);
	m_rr_end(m, at);
}

/* the usual pair: a query for name and its answer with one address */
static void query(struct msg *m, unsigned id, const char *name, unsigned type)
{
	m_hdr(m, id, RD, 1, 0, 0, 0);
	m_q(m, name, type);
}

static void answer_a(struct msg *m, unsigned id, const char *name)
{
	m_hdr(m, id, QR | RD | RA, 1, 1, 0, 0);
	m_q(m, name, T_A);
	m_a(m, 192, 0, 2, 1);
}

/* a TCP frame: the length, then the message */
static void m_frame(struct msg *out, const struct msg *m)
{
	m_u16(out, (unsigned)m->n);
	m_raw(out, m->b, m->n);
}

/* ---- the harness ---- */

static const struct pb_proto *dns(void)
{
	const struct pb_proto *p = pb_proto_find("dns");

	ck_assert_ptr_nonnull(p);
	return p;
}

static struct th *udp(void)
{
	return th_new(dns(), 17, 40000, 53);
}

static struct th *tcp(void)
{
	return th_new(dns(), 6, 40000, 53);
}

static cJSON *event(struct th *h, unsigned i)
{
	cJSON *e;

	ck_assert_uint_gt(h->n_ev, i);
	e = th_event(h, i);
	ck_assert_ptr_nonnull(e);
	return e;
}

#define EQS(o, path, want)                                                   \
	do {                                                                 \
		const char *got_ = th_str((o), (path));                      \
		ck_assert_msg(got_ != NULL, "%s: absent", (path));           \
		ck_assert_str_eq(got_, (want));                              \
	} while (0)
#define EQN(o, path, want) ck_assert_msg(th_num((o), (path)) == (double)(want), \
					 "%s: %g, want %g", (path), th_num((o), (path)), \
					 (double)(want))
#define ABSENT(o, path) ck_assert_msg(th_get((o), (path)) == NULL, "%s: present", (path))
#define TRUE_(o, path) ck_assert_msg(cJSON_IsTrue(th_get((o), (path))), "%s: not true", (path))
#define FALSE_(o, path) ck_assert_msg(cJSON_IsFalse(th_get((o), (path))), "%s: not false", (path))

/* error.message holds note */
#define has_note(e, n) th_has_note((e), (n), 1)

static const char n_orphan[] = "Response: received without an associated Query";
static const char n_noresp[] = "No response to this query was received";
static const char n_dup[] = "Another query with the same DNS ID from this client was "
			    "received so this query was closed without receiving a response";
static const char n_nondns[] = "Response: Message's data could not be decoded as DNS";
static const char n_incomplete[] = "Message's data is incomplete";
static const char n_rsp_incomplete[] = "Response: Message's data is incomplete";
static const char n_zero[] = "Response: Message's length was set to zero";

/* the i-th element of the array at path */
static const cJSON *item(const cJSON *e, const char *path, int i)
{
	const cJSON *a = th_get(e, path);

	ck_assert_msg(cJSON_IsArray(a), "%s: not an array", path);
	ck_assert_int_lt(i, cJSON_GetArraySize(a));
	return cJSON_GetArrayItem(a, i);
}

static int count(const cJSON *e, const char *path)
{
	const cJSON *a = th_get(e, path);

	return cJSON_IsArray(a) ? cJSON_GetArraySize(a) : -1;
}

/* an event without what depends on when its bytes came */
static char *timeless(const char *line)
{
	cJSON *o = cJSON_Parse(line);
	char *s;

	ck_assert_ptr_nonnull(o);
	cJSON_DeleteItemFromObject(o, "@timestamp");
	cJSON_DeleteItemFromObject(o, "event");
	cJSON_DeleteItemFromObject(o, "pb");
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* ---- pairing ---- */

START_TEST(test_udp_pair)
{
	struct th *h = udp();
	struct msg q, r;
	cJSON *e;

	query(&q, 0x1234, "www.example.com", T_A);
	answer_a(&r, 0x1234, "www.example.com");
	th_datagram(h, 0, q.b, q.n);
	ck_assert_uint_eq(h->n_ev, 0);
	th_datagram(h, 1, r.b, r.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = event(h, 0);
	EQS(e, "type", "dns");
	EQS(e, "status", "OK");
	EQS(e, "method", "QUERY");
	EQS(e, "query", "class IN, type A, www.example.com");
	EQS(e, "resource", "www.example.com");
	EQS(e, "client.ip", "10.0.0.1");
	EQN(e, "client.port", 40000);
	EQN(e, "client.bytes", q.n);
	EQS(e, "server.ip", "10.0.0.2");
	EQN(e, "server.bytes", r.n);
	EQN(e, "network.bytes", q.n + r.n);
	EQS(e, "network.transport", "udp");
	EQN(e, "event.duration", 1000);
	EQN(e, "dns.id", 0x1234);
	EQS(e, "dns.op_code", "QUERY");
	EQS(e, "dns.response_code", "NOERROR");
	EQS(e, "dns.type", "answer");
	TRUE_(e, "dns.flags.recursion_desired");
	TRUE_(e, "dns.flags.recursion_available");
	FALSE_(e, "dns.flags.authoritative");
	FALSE_(e, "dns.flags.truncated_response");
	FALSE_(e, "dns.flags.authentic_data");
	FALSE_(e, "dns.flags.checking_disabled");
	ck_assert_int_eq(count(e, "dns.header_flags"), 2);
	ck_assert_str_eq(item(e, "dns.header_flags", 0)->valuestring, "RD");
	ck_assert_str_eq(item(e, "dns.header_flags", 1)->valuestring, "RA");
	EQS(e, "dns.question.name", "www.example.com");
	EQS(e, "dns.question.type", "A");
	EQS(e, "dns.question.class", "IN");
	EQN(e, "dns.answers_count", 1);
	EQN(e, "dns.authorities_count", 0);
	EQN(e, "dns.additionals_count", 0);
	EQS(item(e, "dns.answers", 0), "name", "www.example.com");
	EQS(item(e, "dns.answers", 0), "type", "A");
	EQS(item(e, "dns.answers", 0), "class", "IN");
	EQS(item(e, "dns.answers", 0), "ttl", "300");
	EQS(item(e, "dns.answers", 0), "data", "192.0.2.1");
	ck_assert_str_eq(item(e, "dns.resolved_ip", 0)->valuestring, "192.0.2.1");
	ABSENT(e, "dns.authorities");
	ABSENT(e, "dns.additionals");
	ABSENT(e, "dns.opt");
	ABSENT(e, "error");
	ABSENT(e, "request");
	ABSENT(e, "server.domain");
	ABSENT(e, "related.hosts");
	EQN(e, "pb.packet.first", 2);
	EQN(e, "pb.packet.last", 3);
	ck_assert_uint_eq(h->st.transactions, 1);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* the server is endpoint 0 here: the client is whoever asked */
START_TEST(test_udp_client_is_endpoint1)
{
	struct th *h = th_new(dns(), 17, 53, 40000);
	struct msg q, r;
	cJSON *e;

	query(&q, 7, "example.org", T_A);
	answer_a(&r, 7, "example.org");
	th_datagram(h, 1, q.b, q.n);
	th_datagram(h, 0, r.b, r.n);
	e = event(h, 0);
	EQS(e, "client.ip", "10.0.0.2");
	EQN(e, "client.port", 40000);
	EQS(e, "server.ip", "10.0.0.1");
	EQN(e, "server.port", 53);
	EQS(e, "status", "OK");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a response from the side that asked is not the answer */
START_TEST(test_same_side_is_not_answer)
{
	struct th *h = udp();
	struct msg q, r;
	cJSON *e;

	query(&q, 7, "example.org", T_A);
	answer_a(&r, 7, "example.org");
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 0, r.b, r.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = event(h, 0);
	th_ck_note(e, n_orphan);
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	th_free(h);
}
END_TEST

/* several queries in flight, answered out of order */
START_TEST(test_out_of_order)
{
	struct th *h = udp();
	struct msg q1, q2, r1, r2;
	cJSON *e;

	query(&q1, 1, "one.example", T_A);
	query(&q2, 2, "two.example", T_A);
	answer_a(&r1, 1, "one.example");
	answer_a(&r2, 2, "two.example");
	th_datagram(h, 0, q1.b, q1.n);
	th_datagram(h, 0, q2.b, q2.n);
	th_datagram(h, 1, r2.b, r2.n);
	th_datagram(h, 1, r1.b, r1.n);
	ck_assert_uint_eq(h->n_ev, 2);
	e = event(h, 0);
	EQS(e, "resource", "two.example");
	EQS(e, "status", "OK");
	cJSON_Delete(e);
	e = event(h, 1);
	EQS(e, "resource", "one.example");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_duplicate_id)
{
	struct th *h = udp();
	struct msg q, q2, r;
	cJSON *e;

	query(&q, 5, "a.example.com", T_A);
	query(&q2, 5, "b.example.com", T_A);
	answer_a(&r, 5, "b.example.com");
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 0, q2.b, q2.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = event(h, 0);
	EQS(e, "status", "Error");
	EQS(e, "resource", "a.example.com");
	EQS(e, "dns.type", "query");
	EQN(e, "client.bytes", q.n);
	EQN(e, "server.bytes", 0);
	/* no response: no end, no duration (as Packetbeat) */
	ck_assert_ptr_null(th_get(e, "event.duration"));
	ck_assert_ptr_null(th_get(e, "event.end"));
	EQS(e, "error.message", n_dup);
	cJSON_Delete(e);
	th_datagram(h, 1, r.b, r.n);
	ck_assert_uint_eq(h->n_ev, 2);
	e = event(h, 1);
	EQS(e, "status", "OK");
	EQS(e, "resource", "b.example.com");
	ABSENT(e, "error");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.unmatched_requests, 1);
	ck_assert_uint_eq(h->st.transactions, 1);
	th_free(h);
}
END_TEST

START_TEST(test_orphan_response)
{
	struct th *h = udp();
	struct msg r;
	cJSON *e;

	answer_a(&r, 77, "lonely.example.com");
	th_datagram(h, 1, r.b, r.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = event(h, 0);
	EQS(e, "status", "Error");
	EQS(e, "error.message", n_orphan);
	EQS(e, "dns.type", "answer");
	EQS(e, "client.ip", "10.0.0.1");
	EQS(e, "server.ip", "10.0.0.2");
	EQN(e, "client.bytes", 0);
	EQN(e, "server.bytes", r.n);
	EQS(e, "method", "QUERY");
	EQS(e, "query", "class IN, type A, lonely.example.com");
	EQS(item(e, "dns.answers", 0), "data", "192.0.2.1");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.unmatched_responses, 1);
	th_free(h);
}
END_TEST

START_TEST(test_timeout)
{
	struct th *h = udp();
	struct msg q;
	cJSON *e;

	query(&q, 9, "slow.example.com", T_A);
	th_datagram(h, 0, q.b, q.n);
	th_expire(h, 10 * SEC - 1);
	ck_assert_uint_eq(h->n_ev, 0);
	th_expire(h, 1);
	ck_assert_uint_eq(h->n_ev, 1);
	e = event(h, 0);
	EQS(e, "status", "Error");
	EQS(e, "error.message", n_noresp);
	EQS(e, "dns.type", "query");
	EQS(e, "query", "class IN, type A, slow.example.com");
	EQN(e, "dns.id", 9);
	TRUE_(e, "dns.flags.recursion_desired");
	EQN(e, "client.bytes", q.n);
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	th_free(h);
}
END_TEST

/* a timeout of 2 s from the configuration */
START_TEST(test_timeout_configured)
{
	struct th *h = udp();
	struct msg q;

	h->common.timeout_ns = 2 * SEC;
	query(&q, 9, "slow.example.com", T_A);
	th_datagram(h, 0, q.b, q.n);
	th_expire(h, 2 * SEC - 1);
	ck_assert_uint_eq(h->n_ev, 0);
	th_expire(h, 1);
	ck_assert_uint_eq(h->n_ev, 1);
	th_free(h);
}
END_TEST

/* a response after the timeout is alone, however late expire() runs */
START_TEST(test_late_response)
{
	struct th *h = udp();
	struct msg q, r;
	cJSON *e;

	query(&q, 3, "late.example.com", T_A);
	answer_a(&r, 3, "late.example.com");
	th_datagram(h, 0, q.b, q.n);
	h->c.now_ns += 11 * SEC;   /* no expire() call in between */
	th_datagram(h, 1, r.b, r.n);
	ck_assert_uint_eq(h->n_ev, 2);
	e = event(h, 0);
	EQS(e, "error.message", n_noresp);
	cJSON_Delete(e);
	e = event(h, 1);
	EQS(e, "error.message", n_orphan);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_close_flushes)
{
	struct th *h = udp();
	struct msg q1, q2;
	cJSON *e;

	query(&q1, 1, "one.example", T_A);
	query(&q2, 2, "two.example", T_AAAA);
	th_datagram(h, 0, q1.b, q1.n);
	th_datagram(h, 0, q2.b, q2.n);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	e = event(h, 0);
	EQS(e, "resource", "one.example");
	EQS(e, "error.message", n_noresp);
	cJSON_Delete(e);
	e = event(h, 1);
	EQS(e, "query", "class IN, type AAAA, two.example");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a response of a header alone (some REFUSED answers) still pairs */
START_TEST(test_header_only_response)
{
	struct th *h = udp();
	struct msg q, r;
	cJSON *e;

	query(&q, 8, "refused.example", T_A);
	m_hdr(&r, 8, QR | RD | 5, 0, 0, 0, 0);
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 1, r.b, r.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = event(h, 0);
	EQS(e, "status", "Error");
	EQS(e, "dns.response_code", "REFUSED");
	EQS(e, "query", "class IN, type A, refused.example");
	ABSENT(e, "dns.question");
	EQN(e, "dns.answers_count", 0);
	ABSENT(e, "error");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* the cap on waiting queries closes the oldest */
START_TEST(test_pending_cap)
{
	struct th *h = udp();
	struct msg q;
	cJSON *e;
	unsigned i;

	for (i = 0; i < 256; i++) {
		query(&q, i, "flood.example", T_A);
		th_datagram(h, 0, q.b, q.n);
	}
	ck_assert_uint_eq(h->n_ev, 0);
	query(&q, 999, "flood.example", T_A);
	th_datagram(h, 0, q.b, q.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = event(h, 0);
	EQN(e, "dns.id", 0);
	ck_assert_ptr_nonnull(strstr(th_str(e, "error.message"), "Too many queries"));
	cJSON_Delete(e);
	/* every other one is still there (the harness keeps 256 events) */
	th_close(h);
	ck_assert_uint_eq(h->st.unmatched_requests, 257);
	th_free(h);
}
END_TEST

/* ---- TCP ---- */

START_TEST(test_tcp_two_in_one_segment)
{
	struct th *h = tcp();
	struct msg q1, q2, r1, r2, s;
	cJSON *e;

	query(&q1, 1, "one.example", T_A);
	query(&q2, 2, "two.example", T_A);
	answer_a(&r1, 1, "one.example");
	answer_a(&r2, 2, "two.example");
	s.n = 0;
	m_frame(&s, &q1);
	m_frame(&s, &q2);
	th_tcp(h, 0, s.b, s.n);
	ck_assert_uint_eq(h->len[0], 0);
	s.n = 0;
	m_frame(&s, &r1);
	m_frame(&s, &r2);
	th_tcp(h, 1, s.b, s.n);
	ck_assert_uint_eq(h->n_ev, 2);
	e = event(h, 0);
	EQS(e, "resource", "one.example");
	EQS(e, "network.transport", "tcp");
	/* Packetbeat counts the 2-byte length */
	EQN(e, "client.bytes", q1.n + 2);
	EQN(e, "server.bytes", r1.n + 2);
	EQS(e, "status", "OK");
	cJSON_Delete(e);
	e = event(h, 1);
	EQS(e, "resource", "two.example");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* the events of a conversation fed `step` bytes at a time */
static char *tcp_run(const struct msg *c2s, const struct msg *s2c, size_t step, unsigned *n)
{
	struct th *h = tcp();
	size_t len = 0;
	char *all = calloc(1, 1), *t;
	unsigned i;

	th_tcp_split(h, 0, c2s->b, c2s->n, step);
	th_tcp_split(h, 1, s2c->b, s2c->n, step);
	th_close(h);
	*n = h->n_ev;
	for (i = 0; i < h->n_ev; i++) {
		t = timeless(h->ev[i]);
		all = realloc(all, len + strlen(t) + 2);
		memcpy(all + len, t, strlen(t));
		len += strlen(t);
		all[len++] = '\n';
		all[len] = '\0';
		free(t);
	}
	th_free(h);
	return all;
}

START_TEST(test_tcp_split_everywhere)
{
	struct msg q1, q2, r1, r2, c2s, s2c;
	size_t step;
	unsigned n, n1;
	char *whole, *split;

	query(&q1, 1, "one.example.com", T_A);
	query(&q2, 2, "two.example.com", T_MX);
	answer_a(&r1, 1, "one.example.com");
	m_hdr(&r2, 2, QR | RD | RA, 1, 1, 0, 0);
	m_q(&r2, "two.example.com", T_MX);
	{
		size_t at = m_rr(&r2, T_MX, 60);

		m_u16(&r2, 10);
		m_name_ptr(&r2, "mail", 12);
		m_rr_end(&r2, at);
	}
	c2s.n = s2c.n = 0;
	m_frame(&c2s, &q1);
	m_frame(&c2s, &q2);
	m_frame(&s2c, &r1);
	m_frame(&s2c, &r2);
	whole = tcp_run(&c2s, &s2c, s2c.n + c2s.n, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_nonnull(strstr(whole, "\"data\":\"mail.two.example.com\""));
	ck_assert_ptr_nonnull(strstr(whole, "\"status\":\"OK\""));
	for (step = 1; step <= s2c.n; step++) {
		split = tcp_run(&c2s, &s2c, step, &n1);
		ck_assert_uint_eq(n1, n);
		ck_assert_msg(strcmp(whole, split) == 0, "step %zu:\n%s\n%s", step, whole, split);
		free(split);
	}
	free(whole);
}
END_TEST

START_TEST(test_tcp_zero_length)
{
	struct th *h = tcp();
	struct msg q, s;
	static const uint8_t zero[] = { 0, 0, 1, 2 };
	cJSON *e;

	query(&q, 4, "zero.example", T_A);
	s.n = 0;
	m_frame(&s, &q);
	th_tcp(h, 0, s.b, s.n);
	th_tcp(h, 1, zero, sizeof(zero));
	ck_assert_uint_eq(h->n_ev, 1);
	ck_assert_uint_eq(h->len[1], 0);
	e = event(h, 0);
	EQS(e, "error.message", n_zero);
	EQS(e, "status", "Error");
	EQS(e, "dns.type", "query");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.parse_errors, 1);
	th_free(h);
}
END_TEST

/* a zero length from the client closes nothing */
START_TEST(test_tcp_zero_length_query)
{
	struct th *h = tcp();
	static const uint8_t zero[] = { 0, 0, 1, 2 };

	th_tcp(h, 0, zero, sizeof(zero));
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 0);
	th_free(h);
}
END_TEST

/* a response cut by lost bytes or by the end of the stream */
static void tcp_unfinished(int use_gap)
{
	struct th *h = tcp();
	struct msg q, r, s;
	cJSON *e;

	query(&q, 0x4242, "cut.example.com", T_A);
	answer_a(&r, 0x4242, "cut.example.com");
	s.n = 0;
	m_frame(&s, &q);
	th_tcp(h, 0, s.b, s.n);
	s.n = 0;
	m_frame(&s, &r);
	th_tcp(h, 1, s.b, 10);
	ck_assert_uint_eq(h->n_ev, 0);
	ck_assert_uint_eq(h->len[1], 10);
	if (use_gap)
		th_gap(h, 1, s.n - 10);
	else
		th_fin(h, 1);
	ck_assert_uint_eq(h->n_ev, 1);
	e = event(h, 0);
	EQS(e, "error.message", n_rsp_incomplete);
	EQS(e, "resource", "cut.example.com");
	cJSON_Delete(e);
	th_free(h);
}

START_TEST(test_tcp_gap)
{
	tcp_unfinished(1);
}
END_TEST

START_TEST(test_tcp_fin)
{
	tcp_unfinished(0);
}
END_TEST

/* a length far past the data waits, and is never trusted */
START_TEST(test_tcp_huge_length)
{
	struct th *h = tcp();
	static const uint8_t big[] = { 0xff, 0xff, 0x12, 0x34, 0x81, 0x80, 0, 1 };

	th_tcp(h, 1, big, sizeof(big));
	ck_assert_uint_eq(h->n_ev, 0);
	ck_assert_uint_eq(h->len[1], sizeof(big));
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 0);
	th_free(h);
}
END_TEST

/* ---- record data ---- */

/* one response holding a record of every type pbtools decodes */
static void every_type(struct msg *m)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	size_t at;
	unsigned i;

	m_hdr(m, 7, QR | AA | RD | RA, 1, 22, 0, 0);
	m_q(m, "example.com", T_ANY);
	m_a(m, 192, 0, 2, 1);
	at = m_rr(m, T_AAAA, 300);
	m_raw(m, v6, 16);
	m_rr_end(m, at);
	at = m_rr(m, T_CNAME, 300);
	m_name_ptr(m, "alias", 12);
	m_rr_end(m, at);
	at = m_rr(m, T_NS, 300);
	m_name_ptr(m, "ns1", 12);
	m_rr_end(m, at);
	at = m_rr(m, T_PTR, 300);
	m_name(m, "host.example.net");
	m_rr_end(m, at);
	at = m_rr(m, T_MX, 300);
	m_u16(m, 10);
	m_name_ptr(m, "mail", 12);
	m_rr_end(m, at);
	at = m_rr(m, T_SOA, 300);
	m_name_ptr(m, "ns1", 12);
	m_name_ptr(m, "hostmaster", 12);
	m_u32(m, 2024010101);
	m_u32(m, 7200);
	m_u32(m, 3600);
	m_u32(m, 1209600);
	m_u32(m, 300);
	m_rr_end(m, at);
	at = m_rr(m, T_SRV, 300);
	m_u16(m, 10);
	m_u16(m, 60);
	m_u16(m, 5060);
	m_name_ptr(m, "sip", 12);
	m_rr_end(m, at);
	at = m_rr(m, T_TXT, 300);
	m_u8(m, 11);
	m_raw(m, "hello world", 11);
	m_u8(m, 9);
	m_raw(m, "say \"hi\"\x01", 9);
	m_rr_end(m, at);
	at = m_rr(m, T_CAA, 300);
	m_u8(m, 128);
	m_u8(m, 5);
	m_raw(m, "issue", 5);
	m_raw(m, "letsencrypt.org", 15);
	m_rr_end(m, at);
	at = m_rr(m, T_NAPTR, 300);
	m_u16(m, 100);
	m_u16(m, 10);
	m_u8(m, 1);
	m_raw(m, "S", 1);
	m_u8(m, 7);
	m_raw(m, "SIP+D2U", 7);
	m_u8(m, 0);
	m_name_ptr(m, "_sip._udp", 12);
	m_rr_end(m, at);
	at = m_rr(m, T_DS, 300);
	m_u16(m, 12345);
	m_u8(m, 8);
	m_u8(m, 2);
	for (i = 1; i <= 32; i++)
		m_u8(m, i);
	m_rr_end(m, at);
	at = m_rr(m, T_DNSKEY, 300);
	m_u16(m, 257);
	m_u8(m, 3);
	m_u8(m, 13);
	m_raw(m, "\x00\x01\x02", 3);
	m_rr_end(m, at);
	at = m_rr(m, T_RRSIG, 300);
	m_u16(m, T_A);
	m_u8(m, 13);
	m_u8(m, 2);
	m_u32(m, 300);
	m_u32(m, 1704067200);
	m_u32(m, 1700000000);
	m_u16(m, 12345);
	m_u16(m, 0xc00c);
	m_raw(m, "sig", 3);
	m_rr_end(m, at);
	at = m_rr(m, T_NSEC, 300);
	m_name_ptr(m, "b", 12);
	m_raw(m, "\x00\x06\x62\x00\x00\x00\x00\x03", 8);
	m_rr_end(m, at);
	at = m_rr(m, T_NSEC3, 300);
	m_u8(m, 1);
	m_u8(m, 1);
	m_u16(m, 10);
	m_u8(m, 4);
	m_raw(m, "\xaa\xbb\xcc\xdd", 4);
	m_u8(m, 20);
	for (i = 0; i < 20; i++)
		m_u8(m, i);
	m_raw(m, "\x00\x01\x40", 3);
	m_rr_end(m, at);
	at = m_rr(m, T_NSEC3PARAM, 300);
	m_u8(m, 1);
	m_u8(m, 0);
	m_u16(m, 0);
	m_u8(m, 0);
	m_rr_end(m, at);
	at = m_rr(m, T_HTTPS, 300);
	m_u16(m, 1);
	m_u8(m, 0);
	m_u16(m, 1);                 /* alpn */
	m_u16(m, 6);
	m_raw(m, "\x02h2\x02h3", 6);
	m_u16(m, 3);                 /* port */
	m_u16(m, 2);
	m_u16(m, 8443);
	m_u16(m, 4);                 /* ipv4hint */
	m_u16(m, 4);
	m_raw(m, "\xc0\x00\x02\x01", 4);
	m_u16(m, 6);                 /* ipv6hint */
	m_u16(m, 16);
	m_raw(m, v6, 16);
	m_rr_end(m, at);
	at = m_rr(m, T_SVCB, 300);
	m_u16(m, 0);
	m_name(m, "svc.example.net");
	m_rr_end(m, at);
	at = m_rr(m, 65280, 300);    /* a private type */
	m_raw(m, "ab\x01\"", 4);
	m_rr_end(m, at);
	at = m_rr(m, T_A, 300);      /* an address of 3 bytes */
	m_raw(m, "\x01\x02\x03", 3);
	m_rr_end(m, at);
	at = m_rr(m, T_A, 300);      /* an address of none */
	m_rr_end(m, at);
}

START_TEST(test_rr_types)
{
	struct th *h = udp();
	struct msg q, r;
	const cJSON *a;
	cJSON *e;
	int i = 0;

	query(&q, 7, "example.com", T_ANY);
	every_type(&r);
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 1, r.b, r.n);
	e = event(h, 0);
	EQS(e, "status", "OK");
	TRUE_(e, "dns.flags.authoritative");
	EQN(e, "dns.answers_count", 22);
	/* the A record without data is counted, not listed */
	ck_assert_int_eq(count(e, "dns.answers"), 21);

	a = item(e, "dns.answers", i++);
	EQS(a, "data", "192.0.2.1");
	EQS(a, "name", "example.com");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "AAAA");
	EQS(a, "data", "2001:db8::1");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "CNAME");
	EQS(a, "data", "alias.example.com");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "NS");
	EQS(a, "data", "ns1.example.com");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "PTR");
	EQS(a, "data", "host.example.net");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "MX");
	EQS(a, "data", "mail.example.com");
	EQN(a, "preference", 10);
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "SOA");
	EQS(a, "data", "ns1.example.com");
	EQS(a, "rname", "hostmaster.example.com");
	EQN(a, "serial", 2024010101);
	EQN(a, "refresh", 7200);
	EQN(a, "retry", 3600);
	EQN(a, "expire", 1209600);
	EQN(a, "minimum", 300);
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "SRV");
	EQS(a, "data", "sip.example.com");
	EQN(a, "priority", 10);
	EQN(a, "weight", 60);
	EQN(a, "port", 5060);
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "TXT");
	EQS(a, "data", "hello world say \\\"hi\\\"\\001");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "CAA");
	EQN(a, "flags", 128);
	EQS(a, "tag", "issue");
	EQS(a, "data", "letsencrypt.org");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "NAPTR");
	EQN(a, "order", 100);
	EQN(a, "preference", 10);
	EQS(a, "flags", "S");
	EQS(a, "service", "SIP+D2U");
	EQS(a, "regexp", "");
	EQS(a, "data", "_sip._udp.example.com");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "DS");
	EQS(a, "key_tag", "12345");
	EQS(a, "algorithm", "RSASHA256");
	EQS(a, "digest_type", "SHA256");
	EQS(a, "data", "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "DNSKEY");
	EQS(a, "flags", "257");
	EQS(a, "protocol", "3");
	EQS(a, "algorithm", "ECDSAP256SHA256");
	EQS(a, "data", "AAEC");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "RRSIG");
	EQS(a, "type_covered", "A");
	EQS(a, "algorithm", "ECDSAP256SHA256");
	EQS(a, "labels", "2");
	EQS(a, "original_ttl", "300");
	EQS(a, "expiration", "20240101000000");
	EQS(a, "inception", "20231114221320");
	EQS(a, "key_tag", "12345");
	EQS(a, "signer_name", "example.com");
	EQS(a, "data", "c2ln");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "NSEC");
	EQS(a, "data", "b.example.com.");
	EQS(a, "type_bits", "A NS SOA RRSIG NSEC");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "NSEC3");
	EQS(a, "hash", "SHA1");
	EQS(a, "flags", "1");
	EQS(a, "iterations", "10");
	EQS(a, "salt", "AABBCCDD");
	EQS(a, "data", "000G40O40K30E209185GO38E1S8124GJ");
	EQS(a, "type_bits", "A");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "NSEC3PARAM");
	EQS(a, "hash", "SHA1");
	EQS(a, "iterations", "0");
	EQS(a, "data", "-");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "HTTPS");
	EQN(a, "priority", 1);
	EQS(a, "data", ".");
	EQS(a, "params", "alpn=h2,h3 port=8443 ipv4hint=192.0.2.1 ipv6hint=2001:db8::1");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "SVCB");
	EQN(a, "priority", 0);
	EQS(a, "data", "svc.example.net");
	ABSENT(a, "params");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "65280");
	EQS(a, "data", "ab\\001\\\"");
	a = item(e, "dns.answers", i++);
	EQS(a, "type", "A");
	EQS(a, "data", "\\001\\002\\003");

	/* only well-formed addresses are resolved */
	ck_assert_int_eq(count(e, "dns.resolved_ip"), 2);
	ck_assert_str_eq(item(e, "dns.resolved_ip", 1)->valuestring, "2001:db8::1");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* odd bytes in names are escaped as dig writes them */
START_TEST(test_name_escapes)
{
	struct th *h = udp();
	struct msg q;
	cJSON *e;

	m_hdr(&q, 1, RD, 1, 0, 0, 0);
	m_u8(&q, 3);
	m_raw(&q, "a b", 3);
	m_u8(&q, 3);
	m_raw(&q, "c.d", 3);
	m_u8(&q, 1);
	m_u8(&q, 1);
	m_u8(&q, 2);
	m_raw(&q, "\xc3\xa9", 2);
	m_u8(&q, 0);
	m_u16(&q, T_A);
	m_u16(&q, 1);
	th_datagram(h, 0, q.b, q.n);
	th_close(h);
	e = event(h, 0);
	EQS(e, "dns.question.name", "a\\ b.c\\.d.\\001.\\195\\169");
	ABSENT(e, "dns.question.registered_domain");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* the root and a class and type without names */
START_TEST(test_root_and_numbers)
{
	struct th *h = udp();
	struct msg q;
	cJSON *e;

	m_hdr(&q, 1, 3u << 11, 1, 0, 0, 0);   /* opcode 3: unassigned */
	m_name(&q, ".");
	m_u16(&q, 4000);
	m_u16(&q, 42);
	th_datagram(h, 0, q.b, q.n);
	th_close(h);
	e = event(h, 0);
	EQS(e, "dns.question.name", ".");
	EQS(e, "dns.question.type", "4000");
	EQS(e, "dns.question.class", "42");
	EQS(e, "method", "3");
	EQS(e, "dns.op_code", "3");
	EQS(e, "query", "class 42, type 4000, .");
	ABSENT(e, "dns.question.registered_domain");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- names attacked ---- */

/* a query for x.example, then a response whose answer's owner is `bad` */
static cJSON *bad_owner(const uint8_t *bad, size_t n, unsigned *parse_errors)
{
	struct th *h = udp();
	struct msg q, r;
	size_t at;
	cJSON *e;

	query(&q, 11, "x.example", T_A);
	m_hdr(&r, 11, QR | RD | RA, 1, 1, 0, 0);
	m_q(&r, "x.example", T_A);
	if (bad[0] == 0xff) {
		/* the owner points at itself */
		m_u16(&r, 0xc000 | (unsigned)r.n);
	} else {
		m_raw(&r, bad, n);
	}
	at = m_rr_fixed(&r, T_A, 1, 60);
	m_raw(&r, "\x01\x02\x03\x04", 4);
	m_rr_end(&r, at);
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 1, r.b, r.n);
	*parse_errors = (unsigned)h->st.parse_errors;
	e = h->n_ev == 1 ? event(h, 0) : NULL;
	th_free(h);
	return e;
}

static void expect_rejected(const uint8_t *bad, size_t n)
{
	unsigned errs;
	cJSON *e = bad_owner(bad, n, &errs);

	ck_assert_ptr_nonnull(e);
	EQS(e, "error.message", n_nondns);
	EQS(e, "dns.type", "query");
	EQS(e, "status", "Error");
	ck_assert_uint_eq(errs, 1);
	cJSON_Delete(e);
}

START_TEST(test_pointer_to_itself)
{
	static const uint8_t self[] = { 0xff };

	expect_rejected(self, 1);
}
END_TEST

START_TEST(test_pointer_forward)
{
	/* to offset 100, past where it stands (a forward pointer) */
	static const uint8_t fwd[] = { 0xc0, 100 };

	expect_rejected(fwd, sizeof(fwd));
}
END_TEST

START_TEST(test_pointer_loop_through_label)
{
	/* "a" then a pointer back to the question at 12 is fine; a pointer
	 * to the label just before it loops: 27 is where the answer starts */
	static const uint8_t ok[] = { 1, 'a', 0xc0, 12 };
	static const uint8_t loop[] = { 1, 'a', 0xc0, 27 };
	unsigned errs;
	cJSON *e = bad_owner(ok, sizeof(ok), &errs);

	ck_assert_ptr_nonnull(e);
	EQS(e, "status", "OK");
	EQS(item(e, "dns.answers", 0), "name", "a.x.example");
	cJSON_Delete(e);
	expect_rejected(loop, sizeof(loop));
}
END_TEST

START_TEST(test_bad_label_types)
{
	static const uint8_t ext[] = { 0x41, 0 };
	static const uint8_t rsv[] = { 0x81, 0 };

	expect_rejected(ext, sizeof(ext));
	expect_rejected(rsv, sizeof(rsv));
}
END_TEST

START_TEST(test_name_too_long)
{
	uint8_t longname[5 * 64 + 1];
	unsigned i;

	/* five labels of 63: 321 bytes, past 255 */
	for (i = 0; i < 5; i++) {
		longname[i * 64] = 63;
		memset(longname + i * 64 + 1, 'a' + i, 63);
	}
	longname[5 * 64] = 0;
	expect_rejected(longname, sizeof(longname));
}
END_TEST

/* names of exactly 255 bytes pass; one more does not */
START_TEST(test_name_longest)
{
	uint8_t name[256];
	unsigned errs;
	size_t i;
	cJSON *e;

	/* 3 labels of 63, one of 61: 64*3 + 62 + 1 = 255 */
	for (i = 0; i < 3; i++) {
		name[i * 64] = 63;
		memset(name + i * 64 + 1, 'a', 63);
	}
	name[192] = 61;
	memset(name + 193, 'b', 61);
	name[254] = 0;
	e = bad_owner(name, 255, &errs);
	ck_assert_ptr_nonnull(e);
	EQS(e, "status", "OK");
	ck_assert_uint_eq(strlen(th_str(item(e, "dns.answers", 0), "name")), 253);
	cJSON_Delete(e);
	name[192] = 62;
	memset(name + 193, 'b', 62);
	name[255] = 0;
	expect_rejected(name, 256);
}
END_TEST

/* a chain of pointers, each back to the one before: the jump limit */
static cJSON *chain(unsigned links, unsigned *errs)
{
	struct th *h = udp();
	struct msg q, r;
	size_t at, base;
	unsigned i;
	cJSON *e;

	query(&q, 12, "x", T_A);
	m_hdr(&r, 12, QR | RD | RA, 1, 2, 0, 0);
	m_q(&r, "x", T_A);
	/* an opaque record holding the chain: link 0 points at the question */
	at = m_rr(&r, 65280, 60);
	base = r.n;
	for (i = 0; i < links; i++)
		m_u16(&r, 0xc000 | (unsigned)(i ? base + 2 * (i - 1) : 12));
	m_rr_end(&r, at);
	/* an address whose owner enters the chain at its end */
	m_u16(&r, 0xc000 | (unsigned)(base + 2 * (links - 1)));
	at = m_rr_fixed(&r, T_A, 1, 60);
	m_raw(&r, "\x01\x02\x03\x04", 4);
	m_rr_end(&r, at);
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 1, r.b, r.n);
	*errs = (unsigned)h->st.parse_errors;
	e = event(h, 0);
	th_free(h);
	return e;
}

START_TEST(test_pointer_chain)
{
	unsigned errs;
	cJSON *e = chain(100, &errs);

	EQS(e, "status", "OK");
	EQS(item(e, "dns.answers", 1), "name", "x");
	ck_assert_uint_eq(errs, 0);
	cJSON_Delete(e);
	e = chain(200, &errs);
	EQS(e, "error.message", n_nondns);
	ck_assert_uint_eq(errs, 1);
	cJSON_Delete(e);
}
END_TEST

/* a name inside RDATA that points at garbage: that record only is raw */
START_TEST(test_bad_name_in_rdata)
{
	struct th *h = udp();
	struct msg q, r;
	size_t at;
	cJSON *e;

	query(&q, 13, "x.example", T_CNAME);
	m_hdr(&r, 13, QR | RD | RA, 1, 1, 0, 0);
	m_q(&r, "x.example", T_CNAME);
	at = m_rr(&r, T_CNAME, 60);
	m_u16(&r, 0xc000 | 200);     /* forward */
	m_rr_end(&r, at);
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 1, r.b, r.n);
	e = event(h, 0);
	EQS(e, "status", "OK");
	EQS(item(e, "dns.answers", 0), "data", "\\192\\200");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- cut and lying messages ---- */

/* the response cut after `keep` bytes */
static cJSON *cut_response(size_t keep, unsigned *events)
{
	struct th *h = udp();
	struct msg q, r;
	cJSON *e = NULL;

	query(&q, 21, "cut.example.com", T_A);
	m_hdr(&r, 21, QR | RD | RA, 1, 2, 0, 0);
	m_q(&r, "cut.example.com", T_A);
	m_a(&r, 192, 0, 2, 1);
	m_a(&r, 192, 0, 2, 2);
	ck_assert_uint_le(keep, r.n);
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 1, r.b, keep);
	th_close(h);
	*events = h->n_ev;
	if (h->n_ev)
		e = event(h, 0);
	th_free(h);
	return e;
}

START_TEST(test_truncated_between_records)
{
	unsigned n;
	/* header 12 + question 21 + first record 16 */
	cJSON *e = cut_response(12 + 21 + 16, &n);

	ck_assert_uint_eq(n, 1);
	EQN(e, "dns.answers_count", 1);
	EQS(item(e, "dns.answers", 0), "data", "192.0.2.1");
	th_ck_note(e, n_rsp_incomplete);
	EQN(e, "server.bytes", 12 + 21 + 16);
	cJSON_Delete(e);
}
END_TEST

START_TEST(test_truncated_inside_record)
{
	unsigned n;
	cJSON *e = cut_response(12 + 21 + 16 + 13, &n);

	ck_assert_uint_eq(n, 1);
	EQN(e, "dns.answers_count", 1);
	th_ck_note(e, n_rsp_incomplete);
	cJSON_Delete(e);
}
END_TEST

/* cut at every byte: never a crash, always one event or two */
START_TEST(test_truncated_everywhere)
{
	size_t keep;
	unsigned n;

	for (keep = 0; keep <= 12 + 21 + 32; keep++) {
		cJSON *e = cut_response(keep, &n);

		if (keep < 2) {
			/* not even an id: the query is left waiting */
			ck_assert_uint_eq(n, 1);
			EQS(e, "error.message", n_noresp);
		} else if (keep < 12) {
			/* an id but no header: the query is closed broken */
			ck_assert_uint_eq(n, 1);
			EQS(e, "error.message", n_nondns);
		} else {
			ck_assert_uint_eq(n, 1);
			EQS(e, "dns.type", "answer");
		}
		cJSON_Delete(e);
	}
}
END_TEST

START_TEST(test_short_garbage)
{
	struct th *h = udp();
	static const uint8_t junk[] = { 1, 2, 3, 4, 5 };

	th_datagram(h, 1, junk, sizeof(junk));
	th_datagram(h, 0, junk, 0);
	ck_assert_uint_eq(h->n_ev, 0);
	ck_assert_uint_eq(h->st.parse_errors, 2);
	th_free(h);
}
END_TEST

/* counts that promise more than the bytes hold */
START_TEST(test_counts_lie)
{
	struct th *h = udp();
	struct msg q, r;
	cJSON *e;

	query(&q, 31, "lie.example", T_A);
	m_hdr(&r, 31, QR | RD | RA, 1, 0xffff, 0xffff, 0xffff);
	m_q(&r, "lie.example", T_A);
	m_a(&r, 192, 0, 2, 9);
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 1, r.b, r.n);
	e = event(h, 0);
	EQN(e, "dns.answers_count", 1);
	EQN(e, "dns.authorities_count", 0);
	EQN(e, "dns.additionals_count", 0);
	th_ck_note(e, n_rsp_incomplete);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a query whose header promises a question it lacks */
START_TEST(test_query_incomplete)
{
	struct th *h = udp();
	struct msg q;
	cJSON *e;

	m_hdr(&q, 32, RD, 1, 0, 0, 0);
	th_datagram(h, 0, q.b, q.n);
	th_close(h);
	e = event(h, 0);
	th_ck_note(e, n_incomplete);
	th_ck_note(e, n_noresp);
	ABSENT(e, "query");
	ABSENT(e, "dns.question");
	EQS(e, "method", "QUERY");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* RDLENGTH past the end of the message */
START_TEST(test_rdlength_too_long)
{
	struct th *h = udp();
	struct msg q, r;
	cJSON *e;

	query(&q, 33, "rd.example", T_A);
	m_hdr(&r, 33, QR | RD | RA, 1, 1, 0, 0);
	m_q(&r, "rd.example", T_A);
	m_u16(&r, 0xc00c);
	m_rr_fixed(&r, T_A, 1, 60);
	r.b[r.n - 2] = 0xff;
	r.b[r.n - 1] = 0xff;
	m_raw(&r, "\x01\x02\x03\x04", 4);
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 1, r.b, r.n);
	e = event(h, 0);
	EQN(e, "dns.answers_count", 0);
	th_ck_note(e, n_rsp_incomplete);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- EDNS ---- */

START_TEST(test_edns)
{
	struct th *h = udp();
	struct msg q, r;
	static const uint8_t qopt[] = { 0, 3, 0, 0 };    /* NSID, asked */
	static const uint8_t ropt[] = {
		0, 3, 0, 3, 'n', 's', '1',               /* NSID */
		0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2,     /* client subnet */
		0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,    /* cookie */
	};
	cJSON *e;

	m_hdr(&q, 41, RD | AD, 1, 0, 0, 1);
	m_q(&q, "edns.example.com", T_A);
	m_opt(&q, 4096, 0x8000, qopt, sizeof(qopt));
	/* extended RCODE 1 above a header RCODE of 0: 16 */
	m_hdr(&r, 41, QR | RD | RA, 1, 0, 0, 1);
	m_q(&r, "edns.example.com", T_A);
	m_opt(&r, 1232, 0x01008000, ropt, sizeof(ropt));
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 1, r.b, r.n);
	e = event(h, 0);
	EQS(e, "dns.response_code", "BADSIG");
	EQS(e, "status", "Error");
	EQS(e, "dns.opt.version", "0");
	TRUE_(e, "dns.opt.do");
	EQS(e, "dns.opt.ext_rcode", "BADSIG");
	EQN(e, "dns.opt.udp_size", 1232);
	EQS(e, "dns.opt.nsid", "6e7331");
	EQS(e, "dns.opt.subnet", "192.0.2.0/24/0");
	EQS(e, "dns.opt.cookie", "0102030405060708");
	EQN(e, "dns.additionals_count", 0);
	ck_assert_int_eq(count(e, "dns.header_flags"), 3);
	ck_assert_str_eq(item(e, "dns.header_flags", 2)->valuestring, "DO");
	ABSENT(e, "error");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* EDNS on one side only, and plain messages over 512 bytes */
static cJSON *edns_pair(int qedns, int redns, size_t rpad)
{
	struct th *h = udp();
	struct msg q, r;
	size_t at;
	cJSON *e;

	m_hdr(&q, 42, RD, 1, 0, 0, qedns ? 1 : 0);
	m_q(&q, "e.example", T_TXT);
	if (qedns)
		m_opt(&q, 1232, 0, NULL, 0);
	m_hdr(&r, 42, QR | RD | RA, 1, rpad ? 1 : 0, 0, redns ? 1 : 0);
	m_q(&r, "e.example", T_TXT);
	if (rpad) {
		at = m_rr(&r, T_TXT, 60);
		while (rpad >= 200) {
			m_u8(&r, 199);
			memset(r.b + r.n, 'x', 199);
			r.n += 199;
			rpad -= 200;
		}
		m_rr_end(&r, at);
	}
	if (redns)
		m_opt(&r, 1232, 0, NULL, 0);
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 1, r.b, r.n);
	e = event(h, 0);
	th_free(h);
	return e;
}

START_TEST(test_edns_notes)
{
	cJSON *e;

	e = edns_pair(1, 0, 0);
	EQS(e, "error.message", "Responder does not support EDNS");
	EQS(e, "status", "OK");
	ABSENT(e, "dns.opt");
	cJSON_Delete(e);
	e = edns_pair(0, 1, 0);
	EQS(e, "error.message", "Unexpected EDNS answer");
	EQS(e, "dns.opt.version", "0");
	FALSE_(e, "dns.opt.do");
	cJSON_Delete(e);
	e = edns_pair(0, 0, 600);
	EQS(e, "error.message", "Response: Non-EDNS packet has size greater than 512");
	cJSON_Delete(e);
	e = edns_pair(1, 1, 600);
	ABSENT(e, "error");
	cJSON_Delete(e);
}
END_TEST

/* EDNS's checks are UDP's: over TCP big plain messages are fine */
START_TEST(test_edns_notes_not_tcp)
{
	struct th *h = tcp();
	struct msg q, r, s;
	size_t at;
	cJSON *e;
	int i;

	m_hdr(&q, 43, RD, 1, 0, 0, 1);
	m_q(&q, "t.example", T_TXT);
	m_opt(&q, 1232, 0, NULL, 0);
	m_hdr(&r, 43, QR | RD | RA, 1, 1, 0, 0);
	m_q(&r, "t.example", T_TXT);
	at = m_rr(&r, T_TXT, 60);
	for (i = 0; i < 4; i++) {
		m_u8(&r, 200);
		memset(r.b + r.n, 'y', 200);
		r.n += 200;
	}
	m_rr_end(&r, at);
	s.n = 0;
	m_frame(&s, &q);
	th_tcp(h, 0, s.b, s.n);
	s.n = 0;
	m_frame(&s, &r);
	th_tcp(h, 1, s.b, s.n);
	e = event(h, 0);
	ABSENT(e, "error");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- options ---- */

static int load_opts(struct th *h, const char *yaml, char *err, size_t errlen)
{
	struct pb_conf cf;
	int rc;

	ck_assert_int_eq(pb_conf_init(&cf), 0);
	ck_assert_int_eq(pb_conf_load_string(&cf, "test.yml", yaml), 0);
	rc = h->c.proto->conf_load(h->conf, &cf, "packetbeat.protocols.0");
	if (err)
		snprintf(err, errlen, "%s", cf.err);
	pb_conf_release(&cf);
	return rc;
}

/* an answer with two authorities and an address plus OPT as additionals */
static cJSON *sections(const char *yaml)
{
	struct th *h = udp();
	struct msg q, r;
	size_t at;
	cJSON *e;

	if (yaml)
		ck_assert_int_eq(load_opts(h, yaml, NULL, 0), 0);
	query(&q, 51, "example.net", T_A);
	m_hdr(&r, 51, QR | AA | RD, 1, 1, 2, 2);
	m_q(&r, "example.net", T_A);
	m_a(&r, 198, 51, 100, 7);
	at = m_rr(&r, T_NS, 3600);
	m_name_ptr(&r, "ns1", 12);
	m_rr_end(&r, at);
	at = m_rr(&r, T_NS, 3600);
	m_name_ptr(&r, "ns2", 12);
	m_rr_end(&r, at);
	m_u16(&r, 0xc000 | 57);          /* ns1.example.net, in the first NS */
	at = m_rr_fixed(&r, T_A, 1, 3600);
	m_raw(&r, "\xc6\x33\x64\x01", 4);
	m_rr_end(&r, at);
	m_opt(&r, 1232, 0, NULL, 0);
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 1, r.b, r.n);
	e = event(h, 0);
	th_free(h);
	return e;
}

START_TEST(test_include_defaults)
{
	cJSON *e = sections(NULL);

	EQN(e, "dns.answers_count", 1);
	EQN(e, "dns.authorities_count", 2);
	EQN(e, "dns.additionals_count", 1);
	ABSENT(e, "dns.authorities");
	ABSENT(e, "dns.additionals");
	ck_assert_int_eq(count(e, "dns.resolved_ip"), 1);
	cJSON_Delete(e);
}
END_TEST

START_TEST(test_include_options)
{
	cJSON *e = sections("packetbeat.protocols:\n"
			    "  - type: dns\n"
			    "    include_authorities: true\n"
			    "    include_additionals: true\n");

	ck_assert_int_eq(count(e, "dns.authorities"), 2);
	EQS(item(e, "dns.authorities", 1), "data", "ns2.example.net");
	EQS(item(e, "dns.authorities", 0), "ttl", "3600");
	/* the OPT record is not an additional */
	ck_assert_int_eq(count(e, "dns.additionals"), 1);
	EQS(item(e, "dns.additionals", 0), "name", "ns1.example.net");
	EQS(item(e, "dns.additionals", 0), "data", "198.51.100.1");
	/* only answers resolve */
	ck_assert_int_eq(count(e, "dns.resolved_ip"), 1);
	cJSON_Delete(e);
	e = sections("packetbeat.protocols:\n"
		     "  - type: dns\n"
		     "    include_additionals: true\n");
	ABSENT(e, "dns.authorities");
	ck_assert_int_eq(count(e, "dns.additionals"), 1);
	cJSON_Delete(e);
}
END_TEST

START_TEST(test_option_bad_value)
{
	struct th *h = udp();
	char err[512];

	ck_assert_int_lt(load_opts(h, "packetbeat.protocols:\n"
				   "  - type: dns\n"
				   "    include_authorities: maybe\n", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "include_authorities"));
	th_free(h);
}
END_TEST

START_TEST(test_send_request_response)
{
	struct th *h = udp();
	struct msg q, r;
	cJSON *e;

	h->common.send_request = 1;
	h->common.send_response = 1;
	query(&q, 0x1234, "www.example.com", T_A);
	m_hdr(&r, 0x1234, QR | RD | RA, 1, 1, 1, 0);
	m_q(&r, "www.example.com", T_A);
	m_a(&r, 192, 0, 2, 1);
	{
		size_t at = m_rr(&r, T_MX, 60);

		m_u16(&r, 5);
		m_name(&r, "mx.example.com");
		m_rr_end(&r, at);
	}
	th_datagram(h, 0, q.b, q.n);
	th_datagram(h, 1, r.b, r.n);
	e = event(h, 0);
	EQS(e, "request", "ID 4660; QR query; OPCODE QUERY; FLAGS rd; RCODE NOERROR; "
			  "QUESTION class IN, type A, www.example.com");
	EQS(e, "response", "ID 4660; QR response; OPCODE QUERY; FLAGS rd ra; RCODE NOERROR; "
			   "QUESTION class IN, type A, www.example.com; ANSWER 192.0.2.1; "
			   "AUTHORITY preference 5, mx.example.com");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- zone transfers ---- */

static void soa(struct msg *m, uint32_t serial)
{
	size_t at = m_rr(m, T_SOA, 3600);

	m_name(m, "ns.example.com");
	m_name(m, "admin.example.com");
	m_u32(m, serial);
	m_u32(m, 1);
	m_u32(m, 2);
	m_u32(m, 3);
	m_u32(m, 4);
	m_rr_end(m, at);
}

/* AXFR over TCP in three messages: one event, every answer */
START_TEST(test_axfr_multi)
{
	struct msg q, r1, r2, r3, c2s, s2c;
	size_t at, step;
	unsigned n;
	char *whole, *split;
	cJSON *e;
	struct th *h = tcp();

	query(&q, 9, "example.com", T_AXFR);
	m_hdr(&r1, 9, QR | AA, 1, 2, 0, 0);
	m_q(&r1, "example.com", T_AXFR);
	soa(&r1, 5);
	m_a(&r1, 192, 0, 2, 10);
	/* later messages may leave the question out (RFC 5936 2.2) */
	m_hdr(&r2, 9, QR | AA, 0, 2, 0, 0);
	m_name(&r2, "example.com");
	at = m_rr_fixed(&r2, T_NS, 1, 3600);
	m_name_ptr(&r2, "ns", 12);
	m_rr_end(&r2, at);
	m_name_ptr(&r2, "www", 12);
	at = m_rr_fixed(&r2, T_A, 1, 3600);
	m_raw(&r2, "\xc0\x00\x02\x0b", 4);
	m_rr_end(&r2, at);
	m_hdr(&r3, 9, QR | AA, 0, 1, 0, 0);
	m_name(&r3, "example.com");
	at = m_rr_fixed(&r3, T_SOA, 1, 3600);
	m_name(&r3, "ns.example.com");
	m_name(&r3, "admin.example.com");
	m_u32(&r3, 5);
	m_u32(&r3, 1);
	m_u32(&r3, 2);
	m_u32(&r3, 3);
	m_u32(&r3, 4);
	m_rr_end(&r3, at);
	c2s.n = s2c.n = 0;
	m_frame(&c2s, &q);
	th_tcp(h, 0, c2s.b, c2s.n);
	m_frame(&s2c, &r1);
	th_tcp(h, 1, s2c.b, s2c.n);
	ck_assert_uint_eq(h->n_ev, 0);
	s2c.n = 0;
	m_frame(&s2c, &r2);
	th_tcp(h, 1, s2c.b, s2c.n);
	ck_assert_uint_eq(h->n_ev, 0);
	s2c.n = 0;
	m_frame(&s2c, &r3);
	th_tcp(h, 1, s2c.b, s2c.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = event(h, 0);
	EQS(e, "status", "OK");
	EQS(e, "query", "class IN, type AXFR, example.com");
	EQN(e, "dns.answers_count", 5);
	ck_assert_int_eq(count(e, "dns.answers"), 5);
	EQS(item(e, "dns.answers", 0), "type", "SOA");
	EQS(item(e, "dns.answers", 2), "data", "ns.example.com");
	EQS(item(e, "dns.answers", 3), "name", "www.example.com");
	EQS(item(e, "dns.answers", 4), "type", "SOA");
	EQN(e, "server.bytes", r1.n + r2.n + r3.n + 6);
	ck_assert_int_eq(count(e, "dns.resolved_ip"), 2);
	cJSON_Delete(e);
	th_free(h);

	/* the same at every split */
	s2c.n = 0;
	m_frame(&s2c, &r1);
	m_frame(&s2c, &r2);
	m_frame(&s2c, &r3);
	whole = tcp_run(&c2s, &s2c, s2c.n, &n);
	ck_assert_uint_eq(n, 1);
	for (step = 1; step < s2c.n; step++) {
		unsigned n1;

		split = tcp_run(&c2s, &s2c, step, &n1);
		ck_assert_uint_eq(n1, 1);
		ck_assert_msg(strcmp(whole, split) == 0, "step %zu", step);
		free(split);
	}
	free(whole);
}
END_TEST

/* a transfer larger than what an event keeps: counted, not all listed */
START_TEST(test_axfr_cap)
{
	struct th *h = tcp();
	struct msg q, r, s;
	unsigned i, k, total = 0;
	size_t bytes = 0;
	cJSON *e;

	query(&q, 12, "example.com", T_AXFR);
	s.n = 0;
	m_frame(&s, &q);
	th_tcp(h, 0, s.b, s.n);
	/* 80 messages of 60 records of about 250 bytes: 1.2 MB */
	for (i = 0; i < 80; i++) {
		m_hdr(&r, 12, QR | AA, i == 0, i == 0 ? 61 : 60, 0, 0);
		if (i == 0) {
			m_q(&r, "example.com", T_AXFR);
			soa(&r, 7);
		} else {
			/* the first record's owner, where pointers go */
			m_name(&r, "example.com");
		}
		for (k = 0; k < 60; k++) {
			size_t at;

			if (i == 0 || k > 0) {
				m_u16(&r, 0xc00c);
				at = m_rr_fixed(&r, T_TXT, 1, 60);
			} else {
				at = m_rr_fixed(&r, T_TXT, 1, 60);
			}
			m_u8(&r, 240);
			memset(r.b + r.n, 'a' + k % 26, 240);
			r.n += 240;
			m_rr_end(&r, at);
		}
		total += i == 0 ? 61 : 60;
		bytes += r.n + 2;
		s.n = 0;
		m_frame(&s, &r);
		th_tcp(h, 1, s.b, s.n);
	}
	ck_assert_uint_eq(h->n_ev, 0);
	/* the closing SOA */
	m_hdr(&r, 12, QR | AA, 0, 1, 0, 0);
	m_name(&r, "example.com");
	{
		size_t at = m_rr_fixed(&r, T_SOA, 1, 3600);

		m_name(&r, "ns.example.com");
		m_name(&r, "admin.example.com");
		m_u32(&r, 7);
		m_u32(&r, 1);
		m_u32(&r, 2);
		m_u32(&r, 3);
		m_u32(&r, 4);
		m_rr_end(&r, at);
	}
	total++;
	bytes += r.n + 2;
	s.n = 0;
	m_frame(&s, &r);
	th_tcp(h, 1, s.b, s.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = event(h, 0);
	EQN(e, "dns.answers_count", total);
	ck_assert_int_lt(count(e, "dns.answers"), (int)total);
	ck_assert_int_gt(count(e, "dns.answers"), 3000);
	EQN(e, "server.bytes", bytes);
	EQS(e, "error.message", "Zone transfer too large: some answers are counted but not listed");
	EQS(e, "status", "OK");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a transfer the server stops sending: emitted when its side ends */
START_TEST(test_axfr_unfinished)
{
	struct th *h = tcp();
	struct msg q, r1, s;
	cJSON *e;

	query(&q, 10, "example.com", T_AXFR);
	m_hdr(&r1, 10, QR | AA, 1, 2, 0, 0);
	m_q(&r1, "example.com", T_AXFR);
	soa(&r1, 5);
	m_a(&r1, 192, 0, 2, 10);
	s.n = 0;
	m_frame(&s, &q);
	th_tcp(h, 0, s.b, s.n);
	s.n = 0;
	m_frame(&s, &r1);
	th_tcp(h, 1, s.b, s.n);
	ck_assert_uint_eq(h->n_ev, 0);
	th_fin(h, 1);
	ck_assert_uint_eq(h->n_ev, 1);
	e = event(h, 0);
	EQN(e, "dns.answers_count", 2);
	th_ck_note(e, n_rsp_incomplete);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* an IXFR query carries the client's SOA; the serials end the transfer */
static void ixfr_query(struct msg *q, unsigned id, uint32_t have)
{
	m_hdr(q, id, 0, 1, 0, 1, 0);
	m_q(q, "example.com", T_IXFR);
	soa(q, have);
}

START_TEST(test_ixfr)
{
	struct th *h = tcp();
	struct msg q, r, r2, s;
	cJSON *e;

	/* up to date: one SOA */
	ixfr_query(&q, 20, 5);
	m_hdr(&r, 20, QR | AA, 1, 1, 0, 0);
	m_q(&r, "example.com", T_IXFR);
	soa(&r, 5);
	s.n = 0;
	m_frame(&s, &q);
	th_tcp(h, 0, s.b, s.n);
	s.n = 0;
	m_frame(&s, &r);
	th_tcp(h, 1, s.b, s.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = event(h, 0);
	EQN(e, "dns.answers_count", 1);
	EQS(e, "query", "class IN, type IXFR, example.com");
	cJSON_Delete(e);

	/* incremental, 3 -> 5, over two messages */
	ixfr_query(&q, 21, 3);
	m_hdr(&r, 21, QR | AA, 1, 4, 0, 0);
	m_q(&r, "example.com", T_IXFR);
	soa(&r, 5);
	soa(&r, 3);
	m_a(&r, 192, 0, 2, 1);
	soa(&r, 5);
	m_hdr(&r2, 21, QR | AA, 1, 2, 0, 0);
	m_q(&r2, "example.com", T_IXFR);
	m_a(&r2, 192, 0, 2, 2);
	soa(&r2, 5);
	s.n = 0;
	m_frame(&s, &q);
	th_tcp(h, 0, s.b, s.n);
	s.n = 0;
	m_frame(&s, &r);
	th_tcp(h, 1, s.b, s.n);
	ck_assert_uint_eq(h->n_ev, 1);
	s.n = 0;
	m_frame(&s, &r2);
	th_tcp(h, 1, s.b, s.n);
	ck_assert_uint_eq(h->n_ev, 2);
	e = event(h, 1);
	EQN(e, "dns.answers_count", 6);
	EQS(e, "status", "OK");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a refused transfer is one ordinary answer */
START_TEST(test_axfr_refused)
{
	struct th *h = tcp();
	struct msg q, r, s;
	cJSON *e;

	query(&q, 11, "example.com", T_AXFR);
	m_hdr(&r, 11, QR | 5, 1, 0, 0, 0);
	m_q(&r, "example.com", T_AXFR);
	s.n = 0;
	m_frame(&s, &q);
	th_tcp(h, 0, s.b, s.n);
	s.n = 0;
	m_frame(&s, &r);
	th_tcp(h, 1, s.b, s.n);
	e = event(h, 0);
	EQS(e, "dns.response_code", "REFUSED");
	EQS(e, "status", "Error");
	ABSENT(e, "error");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- the Public Suffix List ---- */

static cJSON *asked(const char *name)
{
	struct th *h = udp();
	struct msg q;
	cJSON *e;

	query(&q, 1, name, T_A);
	th_datagram(h, 0, q.b, q.n);
	th_close(h);
	e = event(h, 0);
	th_free(h);
	return e;
}

static void domain(const char *name, const char *reg, const char *sub, const char *tld,
		   int etld)
{
	cJSON *e = asked(name);

	if (reg)
		EQS(e, "dns.question.registered_domain", reg);
	else
		ABSENT(e, "dns.question.registered_domain");
	if (sub)
		EQS(e, "dns.question.subdomain", sub);
	else
		ABSENT(e, "dns.question.subdomain");
	if (tld)
		EQS(e, "dns.question.top_level_domain", tld);
	else
		ABSENT(e, "dns.question.top_level_domain");
	if (etld)
		EQS(e, "dns.question.etld_plus_one", reg);
	else
		ABSENT(e, "dns.question.etld_plus_one");
	cJSON_Delete(e);
}

START_TEST(test_public_suffix)
{
	if (access(PSL_FILE, R_OK) != 0) {
		/* without the list the fields are left out */
		domain("www.example.co.uk", NULL, NULL, NULL, 0);
		return;
	}
	domain("www.example.co.uk", "example.co.uk", "www", "co.uk", 1);
	domain("a.b.example.com", "example.com", "a.b", "com", 1);
	domain("example.com", "example.com", NULL, "com", 1);
	/* a name that is a suffix: Packetbeat's one-dot rule */
	domain("co.uk", "co.uk", NULL, "uk", 0);
	domain("com", NULL, NULL, NULL, 0);
	/* no rule: "*" */
	domain("www.pbs.test", "pbs.test", "www", "test", 1);
	/* wildcard and exception rules (*.ck, !www.ck) */
	domain("a.b.c.ck", "b.c.ck", "a", "c.ck", 1);
	domain("www.ck", "www.ck", NULL, "ck", 1);
	/* an internationalized rule, matched in its Punycode form */
	domain("foo.xn--55qx5d.cn", "foo.xn--55qx5d.cn", NULL, "xn--55qx5d.cn", 1);
	/* case is kept in the output, ignored in matching */
	domain("WWW.Example.CO.UK", "Example.CO.UK", "WWW", "CO.UK", 1);
	domain("131.252.30.192.in-addr.arpa", "192.in-addr.arpa", "131.252.30",
	       "in-addr.arpa", 1);
	/* the private section counts too */
	domain("me.github.io", "me.github.io", NULL, "github.io", 1);
}
END_TEST

/* ---- random input ---- */

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	/* xorshift32: the same sequence on every run */
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

START_TEST(test_random_input)
{
	struct msg base, m;
	unsigned iter, k;

	every_type(&base);
	for (iter = 0; iter < 3000; iter++) {
		struct th *h = iter & 1 ? tcp() : udp();
		unsigned flips = 1 + rnd() % 8;

		h->common.send_request = h->common.send_response = 1;
		m = base;
		/* flip, cut, or replace bytes of a message full of records */
		for (k = 0; k < flips; k++)
			m.b[rnd() % m.n] = (uint8_t)rnd();
		if (rnd() % 4 == 0)
			m.n = rnd() % m.n;
		if (rnd() % 8 == 0)
			for (k = 0; k < m.n; k++)
				m.b[k] = (uint8_t)rnd();
		if (iter & 1) {
			struct msg s;
			size_t step = 1 + rnd() % 64;

			s.n = 0;
			m_u16(&s, (unsigned)m.n);
			m_raw(&s, m.b, m.n);
			if (rnd() % 4 == 0)
				s.b[rnd() % 2] = (uint8_t)rnd();
			th_tcp_split(h, 0, s.b, s.n, step);
			th_tcp_split(h, 1, s.b, s.n, step);
			if (rnd() % 2)
				th_gap(h, 1, 10);
		} else {
			th_datagram(h, 0, m.b, m.n);
			m.b[2] |= 0x80;
			th_datagram(h, 1, m.b, m.n);
		}
		th_expire(h, 20 * SEC);
		th_close(h);
		for (k = 0; k < h->n_ev; k++) {
			cJSON *e = th_event(h, k);

			/* every event is valid JSON */
			ck_assert_ptr_nonnull(e);
			cJSON_Delete(e);
		}
		th_free(h);
	}
}
END_TEST

static Suite *dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc;

	tc = tcase_create("pairing");
	tcase_add_test(tc, test_udp_pair);
	tcase_add_test(tc, test_udp_client_is_endpoint1);
	tcase_add_test(tc, test_same_side_is_not_answer);
	tcase_add_test(tc, test_out_of_order);
	tcase_add_test(tc, test_duplicate_id);
	tcase_add_test(tc, test_orphan_response);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_timeout_configured);
	tcase_add_test(tc, test_late_response);
	tcase_add_test(tc, test_close_flushes);
	tcase_add_test(tc, test_header_only_response);
	tcase_add_test(tc, test_pending_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("tcp");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tcp_two_in_one_segment);
	tcase_add_test(tc, test_tcp_split_everywhere);
	tcase_add_test(tc, test_tcp_zero_length);
	tcase_add_test(tc, test_tcp_zero_length_query);
	tcase_add_test(tc, test_tcp_gap);
	tcase_add_test(tc, test_tcp_fin);
	tcase_add_test(tc, test_tcp_huge_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("records");
	tcase_add_test(tc, test_rr_types);
	tcase_add_test(tc, test_name_escapes);
	tcase_add_test(tc, test_root_and_numbers);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_pointer_to_itself);
	tcase_add_test(tc, test_pointer_forward);
	tcase_add_test(tc, test_pointer_loop_through_label);
	tcase_add_test(tc, test_bad_label_types);
	tcase_add_test(tc, test_name_too_long);
	tcase_add_test(tc, test_name_longest);
	tcase_add_test(tc, test_pointer_chain);
	tcase_add_test(tc, test_bad_name_in_rdata);
	suite_add_tcase(s, tc);

	tc = tcase_create("cut");
	tcase_add_test(tc, test_truncated_between_records);
	tcase_add_test(tc, test_truncated_inside_record);
	tcase_add_test(tc, test_truncated_everywhere);
	tcase_add_test(tc, test_short_garbage);
	tcase_add_test(tc, test_counts_lie);
	tcase_add_test(tc, test_query_incomplete);
	tcase_add_test(tc, test_rdlength_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("edns");
	tcase_add_test(tc, test_edns);
	tcase_add_test(tc, test_edns_notes);
	tcase_add_test(tc, test_edns_notes_not_tcp);
	suite_add_tcase(s, tc);

	tc = tcase_create("options");
	tcase_add_test(tc, test_include_defaults);
	tcase_add_test(tc, test_include_options);
	tcase_add_test(tc, test_option_bad_value);
	tcase_add_test(tc, test_send_request_response);
	suite_add_tcase(s, tc);

	tc = tcase_create("xfr");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_axfr_multi);
	tcase_add_test(tc, test_axfr_cap);
	tcase_add_test(tc, test_axfr_unfinished);
	tcase_add_test(tc, test_ixfr);
	tcase_add_test(tc, test_axfr_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("psl");
	tcase_add_test(tc, test_public_suffix);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_random_input);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dns_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
