/*
 * check_pgsql.c - the PostgreSQL parser (proto/pgsql.c) driven as the
 * engine drives it (txnharness.h): start-up and failed logins, SSL and
 * GSSAPI encryption requests, CancelRequest, simple queries of several
 * statements, the extended protocol (named and unnamed statements and
 * portals, pipelining, errors that skip the rest of a batch), COPY in
 * and out, notices, notifications, every split point of a conversation,
 * gaps, hostile lengths, long messages, resynchronisation, timeouts,
 * the pending cap, and the options.
 *
 * Endpoint 0 (10.0.0.1:40000) is the client, endpoint 1 (10.0.0.2:5432)
 * the server.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "proto/proto.h"
#include "txnharness.h"

#define SEC INT64_C(1000000000)

/* ---- message builder ---- */

struct mb {
	uint8_t *p;
	size_t n, cap;
	size_t at;                   /* where the open message's length is */
};

static void mb_put(struct mb *m, const void *d, size_t n)
{
	if (m->n + n > m->cap) {
		m->cap = (m->n + n) * 2 + 64;
		m->p = realloc(m->p, m->cap);
		ck_assert_ptr_nonnull(m->p);
	}
	memcpy(m->p + m->n, d, n);
	m->n += n;
}

static void mb_u8(struct mb *m, uint8_t v)
{
	mb_put(m, &v, 1);
}

static void mb_u16(struct mb *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	mb_put(m, b, 2);
}

static void mb_u32(struct mb *m, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	mb_put(m, b, 4);
}

static void mb_str(struct mb *m, const char *s)
{
	mb_put(m, s, strlen(s) + 1);
}

/* a typed message: type, then its length patched by mb_end */
static void mb_begin(struct mb *m, char type)
{
	mb_u8(m, (uint8_t)type);
	m->at = m->n;
	mb_u32(m, 0);
}

static void mb_end(struct mb *m)
{
	uint32_t len = (uint32_t)(m->n - m->at);

	m->p[m->at] = (uint8_t)(len >> 24);
	m->p[m->at + 1] = (uint8_t)(len >> 16);
	m->p[m->at + 2] = (uint8_t)(len >> 8);
	m->p[m->at + 3] = (uint8_t)len;
}

static void mb_free(struct mb *m)
{
	free(m->p);
	memset(m, 0, sizeof(*m));
}

/* ---- frontend messages ---- */

static void fe_startup(struct mb *m, const char *user, const char *db, const char *app)
{
	size_t at = m->n;
	uint32_t len;

	mb_u32(m, 0);
	mb_u32(m, 196608);
	mb_str(m, "user");
	mb_str(m, user);
	if (db) {
		mb_str(m, "database");
		mb_str(m, db);
	}
	if (app) {
		mb_str(m, "application_name");
		mb_str(m, app);
	}
	mb_u8(m, 0);
	len = (uint32_t)(m->n - at);
	m->p[at] = (uint8_t)(len >> 24);
	m->p[at + 1] = (uint8_t)(len >> 16);
	m->p[at + 2] = (uint8_t)(len >> 8);
	m->p[at + 3] = (uint8_t)len;
}

static void fe_code(struct mb *m, uint32_t len, uint32_t code)
{
	mb_u32(m, len);
	mb_u32(m, code);
}

static void fe_query(struct mb *m, const char *q)
{
	mb_begin(m, 'Q');
	mb_str(m, q);
	mb_end(m);
}

static void fe_parse(struct mb *m, const char *name, const char *q)
{
	mb_begin(m, 'P');
	mb_str(m, name);
	mb_str(m, q);
	mb_u16(m, 0);
	mb_end(m);
}

static void fe_bind(struct mb *m, const char *portal, const char *stmt)
{
	mb_begin(m, 'B');
	mb_str(m, portal);
	mb_str(m, stmt);
	mb_u16(m, 0);
	mb_u16(m, 1);
	mb_u32(m, 1);
	mb_u8(m, '7');
	mb_u16(m, 0);
	mb_end(m);
}

static void fe_describe(struct mb *m, char what, const char *name)
{
	mb_begin(m, 'D');
	mb_u8(m, (uint8_t)what);
	mb_str(m, name);
	mb_end(m);
}

static void fe_execute(struct mb *m, const char *portal)
{
	mb_begin(m, 'E');
	mb_str(m, portal);
	mb_u32(m, 0);
	mb_end(m);
}

static void fe_close(struct mb *m, char what, const char *name)
{
	mb_begin(m, 'C');
	mb_u8(m, (uint8_t)what);
	mb_str(m, name);
	mb_end(m);
}

static void fe_empty(struct mb *m, char type)   /* Sync, Flush, Terminate, CopyDone */
{
	mb_begin(m, type);
	mb_end(m);
}

static void fe_copydata(struct mb *m, const char *line)
{
	mb_begin(m, 'd');
	mb_put(m, line, strlen(line));
	mb_end(m);
}

static void fe_password(struct mb *m, const char *pw)
{
	mb_begin(m, 'p');
	mb_str(m, pw);
	mb_end(m);
}

/* ---- backend messages ---- */

static void be_auth(struct mb *m, uint32_t code)
{
	mb_begin(m, 'R');
	mb_u32(m, code);
	if (code == 5)
		mb_u32(m, 0x01020304);   /* salt */
	mb_end(m);
}

static void be_ready(struct mb *m, char st)
{
	mb_begin(m, 'Z');
	mb_u8(m, (uint8_t)st);
	mb_end(m);
}

static void be_login_ok(struct mb *m)
{
	be_auth(m, 0);
	mb_begin(m, 'S');
	mb_str(m, "server_version");
	mb_str(m, "15.18");
	mb_end(m);
	mb_begin(m, 'K');
	mb_u32(m, 4242);
	mb_u32(m, 0xdeadbeef);
	mb_end(m);
	be_ready(m, 'I');
}

/* RowDescription of n text columns (names[i]); fmt: a bit set per
 * binary column */
static void be_rowdesc(struct mb *m, unsigned n, const char *const *names, unsigned binary)
{
	unsigned i;

	mb_begin(m, 'T');
	mb_u16(m, (uint16_t)n);
	for (i = 0; i < n; i++) {
		mb_str(m, names[i]);
		mb_u32(m, 16384);
		mb_u16(m, (uint16_t)(i + 1));
		mb_u32(m, 25);
		mb_u16(m, 0xffff);
		mb_u32(m, 0xffffffff);
		mb_u16(m, (uint16_t)((binary >> i) & 1));
	}
	mb_end(m);
}

/* DataRow; a NULL value is sent as length -1 */
static void be_row(struct mb *m, unsigned n, const char *const *vals)
{
	unsigned i;

	mb_begin(m, 'D');
	mb_u16(m, (uint16_t)n);
	for (i = 0; i < n; i++) {
		if (!vals[i]) {
			mb_u32(m, 0xffffffff);
			continue;
		}
		mb_u32(m, (uint32_t)strlen(vals[i]));
		mb_put(m, vals[i], strlen(vals[i]));
	}
	mb_end(m);
}

static void be_complete(struct mb *m, const char *tag)
{
	mb_begin(m, 'C');
	mb_str(m, tag);
	mb_end(m);
}

static void be_error(struct mb *m, char type, const char *sev, const char *code, const char *msg)
{
	mb_begin(m, type);
	if (sev) {
		mb_u8(m, 'S');
		mb_str(m, sev);
		mb_u8(m, 'V');
		mb_str(m, sev);
	}
	mb_u8(m, 'C');
	mb_str(m, code);
	mb_u8(m, 'M');
	mb_str(m, msg);
	mb_u8(m, 'F');
	mb_str(m, "postgres.c");
	mb_u8(m, 0);
	mb_end(m);
}

static void be_empty(struct mb *m, char type)   /* ParseComplete, BindComplete, ... */
{
	mb_begin(m, type);
	mb_end(m);
}

static void be_copy_resp(struct mb *m, char type, unsigned ncols)
{
	unsigned i;

	mb_begin(m, type);
	mb_u8(m, 0);
	mb_u16(m, (uint16_t)ncols);
	for (i = 0; i < ncols; i++)
		mb_u16(m, 0);
	mb_end(m);
}

/* ---- helpers ---- */

static const struct pb_proto *pg(void)
{
	const struct pb_proto *p = pb_proto_find("pgsql");

	ck_assert_ptr_nonnull(p);
	return p;
}

/* a connection; yaml (or NULL) is a packetbeat.yml whose first protocol
 * entry is given to conf_load, and whose send_* go to the common options */
static struct th *mk(const char *yaml)
{
	struct th *h = th_new(pg(), 6, 40000, 5432);

	if (yaml) {
		struct pb_conf c;
		int b;

		ck_assert_int_eq(pb_conf_init(&c), 0);
		ck_assert_int_eq(pb_conf_load_string(&c, "t.yml", yaml), 0);
		ck_assert_msg(h->c.proto->conf_load(h->conf, &c, "packetbeat.protocols.0") == 0,
			      "conf_load: %s", c.err);
		if (pb_conf_bool(&c, "packetbeat.protocols.0.send_request", &b) == 0)
			h->common.send_request = b;
		if (pb_conf_bool(&c, "packetbeat.protocols.0.send_response", &b) == 0)
			h->common.send_response = b;
		pb_conf_release(&c);
	}
	return h;
}

/* send what m holds from the client (0) or the server (1), then empty it */
static void send_mb(struct th *h, int dir, struct mb *m)
{
	th_tcp(h, dir, m->p, m->n);
	m->n = 0;
}

static void cli(struct th *h, struct mb *m)
{
	send_mb(h, 0, m);
}

static void srv(struct th *h, struct mb *m)
{
	send_mb(h, 1, m);
}

/* a logged-in connection (user alice, database shop, application app) */
static struct th *mk_login(const char *yaml)
{
	struct th *h = mk(yaml);
	struct mb m = { 0 };

	fe_startup(&m, "alice", "shop", "app");
	cli(h, &m);
	be_login_ok(&m);
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 0);
	mb_free(&m);
	return h;
}


/* an event without what depends on when bytes arrived */
static char *timeless(const char *line)
{
	cJSON *e = cJSON_Parse(line), *evt;
	char *s;

	ck_assert_ptr_nonnull(e);
	cJSON_DeleteItemFromObject(e, "@timestamp");
	cJSON_DeleteItemFromObject(e, "pb");
	evt = cJSON_GetObjectItem(e, "event");
	cJSON_DeleteItemFromObject(evt, "start");
	cJSON_DeleteItemFromObject(evt, "end");
	cJSON_DeleteItemFromObject(evt, "duration");
	s = cJSON_PrintUnformatted(e);
	cJSON_Delete(e);
	return s;
}

/* ---- start-up ---- */

START_TEST(test_registered_defaults)
{
	const struct pb_proto *p = pg();
	struct th *h = mk(NULL);

	ck_assert_str_eq(p->name, "pgsql");
	ck_assert_uint_eq(p->n_ports, 1);
	ck_assert_uint_eq(p->ports[0], 5432);
	ck_assert(p->transports == PB_TP_TCP);
	ck_assert_ptr_nonnull(p->keys);
	ck_assert_str_eq(p->keys[0], "max_rows");
	ck_assert_str_eq(p->keys[1], "max_row_length");
	ck_assert_ptr_null(p->keys[2]);
	ck_assert_int_eq(h->common.send_request, 0);
	ck_assert_int_eq(h->common.send_response, 0);
	th_free(h);
}
END_TEST

START_TEST(test_simple_select)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	const char *names[] = { "id", "name" };
	const char *r1[] = { "1", "apple" }, *r2[] = { "2", NULL };
	size_t qlen, rlen;
	cJSON *e;

	fe_query(&m, "SELECT id, name FROM items;");
	qlen = m.n;
	cli(h, &m);
	ck_assert_uint_eq(h->n_ev, 0);
	be_rowdesc(&m, 2, names, 0);
	be_row(&m, 2, r1);
	be_row(&m, 2, r2);
	be_complete(&m, "SELECT 2");
	rlen = m.n;
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "type", "pgsql");
	th_ck_str(e, "status", "OK");
	th_ck_str(e, "method", "SELECT");
	th_ck_str(e, "query", "SELECT id, name FROM items");
	th_ck_num(e, "client.bytes", qlen);
	th_ck_num(e, "server.bytes", rlen);      /* ReadyForQuery not counted */
	th_ck_num(e, "server.port", 5432);
	th_ck_num(e, "pgsql.num_fields", 2);
	th_ck_num(e, "pgsql.num_rows", 2);
	th_ck_str(e, "pgsql.command_tag", "SELECT 2");
	th_ck_str(e, "pgsql.user", "alice");
	th_ck_str(e, "pgsql.database", "shop");
	th_ck_str(e, "pgsql.application_name", "app");
	th_ck_absent(e, "pgsql.error_code");
	th_ck_absent(e, "request");
	th_ck_absent(e, "response");
	th_ck_absent(e, "error");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.transactions, 1);
	mb_free(&m);
	th_free(h);
}
END_TEST

/* the same conversation, whole and split at every byte: the same events */
static void conversation(struct th *h, size_t step)
{
	struct mb c = { 0 }, s = { 0 };
	const char *names[] = { "n" }, *r1[] = { "1" };

	/* start-up, then the authentication exchange */
	fe_startup(&c, "bob", NULL, NULL);
	th_tcp_split(h, 0, c.p, c.n, step);
	c.n = 0;
	be_auth(&s, 5);
	th_tcp_split(h, 1, s.p, s.n, step);
	s.n = 0;
	fe_password(&c, "md5abcdef");
	th_tcp_split(h, 0, c.p, c.n, step);
	c.n = 0;
	be_login_ok(&s);
	th_tcp_split(h, 1, s.p, s.n, step);
	s.n = 0;
	/* several statements, then an extended batch */
	fe_query(&c, "SELECT 1; INSERT INTO t VALUES ('a;b')");
	th_tcp_split(h, 0, c.p, c.n, step);
	c.n = 0;
	be_rowdesc(&s, 1, names, 0);
	be_row(&s, 1, r1);
	be_complete(&s, "SELECT 1");
	be_complete(&s, "INSERT 0 1");
	be_ready(&s, 'I');
	th_tcp_split(h, 1, s.p, s.n, step);
	s.n = 0;
	fe_parse(&c, "", "SELECT $1");
	fe_bind(&c, "", "");
	fe_describe(&c, 'P', "");
	fe_execute(&c, "");
	fe_empty(&c, 'S');
	th_tcp_split(h, 0, c.p, c.n, step);
	c.n = 0;
	be_empty(&s, '1');
	be_empty(&s, '2');
	be_rowdesc(&s, 1, names, 0);
	be_row(&s, 1, r1);
	be_complete(&s, "SELECT 1");
	be_ready(&s, 'I');
	th_tcp_split(h, 1, s.p, s.n, step);
	mb_free(&c);
	mb_free(&s);
}

START_TEST(test_every_split_point)
{
	struct th *whole = mk(NULL), *bytes = mk(NULL);
	unsigned i;

	conversation(whole, 1u << 20);
	conversation(bytes, 1);
	ck_assert_uint_eq(whole->n_ev, 3);
	ck_assert_uint_eq(bytes->n_ev, whole->n_ev);
	for (i = 0; i < whole->n_ev; i++) {
		char *a = timeless(whole->ev[i]), *b = timeless(bytes->ev[i]);

		ck_assert_str_eq(a, b);
		free(a);
		free(b);
	}
	{
		cJSON *e = th_ev(whole, 1);

		th_ck_str(e, "query", "INSERT INTO t VALUES ('a;b')");
		th_ck_str(e, "pgsql.user", "bob");
		th_ck_str(e, "pgsql.database", "bob");   /* defaults to the user */
		cJSON_Delete(e);
	}
	th_free(whole);
	th_free(bytes);
}
END_TEST

START_TEST(test_several_statements)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	size_t qlen;
	cJSON *e;

	fe_query(&m, "  BEGIN;\n-- a comment; with a semicolon\n"
		     "UPDATE t SET a = 'x;y' WHERE b = $$z;$$ ;; /* c; */ DELETE FROM t ;\n  ");
	qlen = m.n;
	cli(h, &m);
	be_complete(&m, "BEGIN");
	be_complete(&m, "UPDATE 2");
	be_complete(&m, "DELETE 5");
	be_ready(&m, 'T');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_ev(h, 0);
	th_ck_str(e, "query", "BEGIN");
	th_ck_str(e, "method", "BEGIN");
	th_ck_num(e, "client.bytes", qlen);
	th_ck_num(e, "server.bytes", 11);
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "query", "-- a comment; with a semicolon\nUPDATE t SET a = 'x;y' WHERE b = $$z;$$");
	th_ck_str(e, "method", "UPDATE");
	th_ck_str(e, "pgsql.command_tag", "UPDATE 2");
	th_ck_num(e, "client.bytes", qlen);
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "query", "/* c; */ DELETE FROM t");
	th_ck_str(e, "method", "DELETE");
	th_ck_str(e, "pgsql.command_tag", "DELETE 5");
	cJSON_Delete(e);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_error_skips_the_rest)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	cJSON *e;

	fe_query(&m, "SELECT 1/0; SELECT 2; SELECT 3");
	cli(h, &m);
	be_error(&m, 'E', "ERROR", "22012", "division by zero");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "query", "SELECT 1/0");
	th_ck_str(e, "pgsql.error_code", "22012");
	th_ck_str(e, "pgsql.error_message", "division by zero");
	th_ck_str(e, "pgsql.error_severity", "ERROR");
	th_ck_num(e, "pgsql.num_rows", 0);
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "query", "SELECT 2");
	th_ck_str(e, "status", "Error");
	th_ck_note_in(e, "Not executed");
	th_ck_absent(e, "pgsql.num_rows");
	th_ck_absent(e, "event.end");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "query", "SELECT 3");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.unmatched_requests, 2);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_function_body_not_split)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	cJSON *e;

	fe_query(&m, "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; "
		     "SELECT CASE WHEN true THEN 2 END; END; SELECT E'it\\'s;'");
	cli(h, &m);
	be_complete(&m, "CREATE FUNCTION");
	be_complete(&m, "SELECT 1");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "CREATE");
	th_ck_str(e, "query", "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC "
				 "SELECT 1; SELECT CASE WHEN true THEN 2 END; END");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "query", "SELECT E'it\\'s;'");
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_empty_query_and_method)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	cJSON *e;

	fe_query(&m, "");
	cli(h, &m);
	be_empty(&m, 'I');
	be_ready(&m, 'I');
	srv(h, &m);
	fe_query(&m, "/* x */ (select 1) union select 2");
	cli(h, &m);
	be_complete(&m, "SELECT 2");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_str(e, "query", "");
	th_ck_absent(e, "method");
	th_ck_str(e, "status", "OK");
	th_ck_num(e, "server.bytes", 5);
	th_ck_absent(e, "pgsql.command_tag");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "method", "SELECT");
	cJSON_Delete(e);
	mb_free(&m);
	th_free(h);
}
END_TEST

/* ---- extended query ---- */

START_TEST(test_extended_named)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	const char *names[] = { "name" }, *r1[] = { "apple" };
	size_t rq1, rs1;
	cJSON *e;

	/* prepare "s1" alone, then execute it twice through a named portal
	 * and the unnamed one */
	fe_parse(&m, "s1", "SELECT name FROM items WHERE id = $1 ;");
	fe_describe(&m, 'S', "s1");
	fe_empty(&m, 'S');
	cli(h, &m);
	be_empty(&m, '1');
	mb_begin(&m, 't');
	mb_u16(&m, 1);
	mb_u32(&m, 23);
	mb_end(&m);
	be_rowdesc(&m, 1, names, 0);
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 0);
	fe_bind(&m, "p1", "s1");
	fe_execute(&m, "p1");
	fe_empty(&m, 'S');
	rq1 = m.n;
	cli(h, &m);
	be_empty(&m, '2');
	be_row(&m, 1, r1);
	be_complete(&m, "SELECT 1");
	rs1 = m.n - 5;
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "query", "SELECT name FROM items WHERE id = $1");
	th_ck_str(e, "method", "SELECT");
	th_ck_num(e, "client.bytes", rq1);
	th_ck_num(e, "server.bytes", rs1);       /* BindComplete not counted */
	th_ck_num(e, "pgsql.num_rows", 1);
	cJSON_Delete(e);
	/* closed: its next execution is of a statement not known */
	fe_close(&m, 'S', "s1");
	fe_bind(&m, "", "s1");
	fe_execute(&m, "");
	fe_empty(&m, 'S');
	cli(h, &m);
	be_empty(&m, '3');
	be_empty(&m, '2');
	be_complete(&m, "SELECT 0");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_absent(e, "query");
	th_ck_str(e, "status", "OK");
	th_ck_note_in(e, "prepared before the capture began");
	cJSON_Delete(e);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_extended_pipeline_error)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	cJSON *e;

	/* two executions and a Flush in one batch; the first fails, so the
	 * second is skipped up to the Sync */
	fe_parse(&m, "ins", "INSERT INTO t VALUES ($1)");
	fe_bind(&m, "", "ins");
	fe_execute(&m, "");
	fe_bind(&m, "", "ins");
	fe_execute(&m, "");
	fe_empty(&m, 'H');
	fe_empty(&m, 'S');
	cli(h, &m);
	be_empty(&m, '1');
	be_empty(&m, '2');
	be_error(&m, 'E', "ERROR", "23505", "duplicate key value");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "query", "INSERT INTO t VALUES ($1)");
	th_ck_str(e, "pgsql.error_code", "23505");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "query", "INSERT INTO t VALUES ($1)");
	th_ck_note_in(e, "Not executed");
	cJSON_Delete(e);
	/* a batch without Execute whose Parse fails */
	fe_parse(&m, "", "SELEC 1");
	fe_empty(&m, 'S');
	cli(h, &m);
	be_error(&m, 'E', "ERROR", "42601", "syntax error at or near \"SELEC\"");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_ev(h, 2);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "query", "SELEC 1");
	th_ck_str(e, "pgsql.error_code", "42601");
	cJSON_Delete(e);
	/* a batch without Execute that succeeds: no event */
	fe_parse(&m, "", "SELECT 1");
	fe_empty(&m, 'S');
	cli(h, &m);
	be_empty(&m, '1');
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 3);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_statement_table_cap)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	char name[16];
	unsigned i;
	cJSON *e;

	/* 70 named statements: the first ones are forgotten (64 kept) */
	for (i = 0; i < 70; i++) {
		snprintf(name, sizeof(name), "st%u", i);
		fe_parse(&m, name, i == 0 ? "SELECT 'first'" : "SELECT 'other'");
		fe_empty(&m, 'S');
		cli(h, &m);
		be_empty(&m, '1');
		be_ready(&m, 'I');
		srv(h, &m);
	}
	fe_bind(&m, "", "st0");
	fe_execute(&m, "");
	fe_bind(&m, "", "st69");
	fe_execute(&m, "");
	fe_empty(&m, 'S');
	cli(h, &m);
	be_empty(&m, '2');
	be_complete(&m, "SELECT 1");
	be_empty(&m, '2');
	be_complete(&m, "SELECT 1");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_absent(e, "query");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "query", "SELECT 'other'");
	cJSON_Delete(e);
	mb_free(&m);
	th_free(h);
}
END_TEST

/* ---- COPY ---- */

START_TEST(test_copy_in_out)
{
	struct th *h = mk_login("packetbeat.protocols:\n- type: pgsql\n  send_response: true\n");
	struct mb m = { 0 };
	size_t q;
	cJSON *e;

	fe_query(&m, "COPY t FROM STDIN");
	q = m.n;
	cli(h, &m);
	be_copy_resp(&m, 'G', 2);
	srv(h, &m);
	fe_copydata(&m, "1\ta\n");
	fe_copydata(&m, "2\tb\n");
	fe_empty(&m, 'c');
	q += m.n;
	cli(h, &m);
	be_complete(&m, "COPY 2");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "COPY");
	th_ck_num(e, "pgsql.num_rows", 2);
	th_ck_str(e, "pgsql.command_tag", "COPY 2");
	th_ck_num(e, "client.bytes", q);
	th_ck_str(e, "response", "");
	cJSON_Delete(e);
	fe_query(&m, "COPY t TO STDOUT");
	cli(h, &m);
	be_copy_resp(&m, 'H', 2);
	fe_copydata(&m, "1\ta\n");
	fe_copydata(&m, "2\tb\n");
	fe_copydata(&m, "3\tc\n");
	fe_empty(&m, 'c');
	be_complete(&m, "COPY 3");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_num(e, "pgsql.num_rows", 3);
	th_ck_str(e, "response", "1\ta\n2\tb\n3\tc\n");
	cJSON_Delete(e);
	/* a COPY the client gives up: CopyFail, then the server's error */
	fe_query(&m, "COPY t FROM STDIN");
	cli(h, &m);
	be_copy_resp(&m, 'G', 2);
	srv(h, &m);
	mb_begin(&m, 'f');
	mb_str(&m, "aborted by user");
	mb_end(&m);
	cli(h, &m);
	be_error(&m, 'E', "ERROR", "57014", "COPY from stdin failed: aborted by user");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_ev(h, 2);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "pgsql.error_code", "57014");
	cJSON_Delete(e);
	mb_free(&m);
	th_free(h);
}
END_TEST

/* ---- notices, notifications ---- */

START_TEST(test_notice_and_notification)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	cJSON *e;
	const cJSON *n;

	fe_query(&m, "DROP TABLE IF EXISTS x");
	cli(h, &m);
	be_error(&m, 'N', "NOTICE", "00000", "table \"x\" does not exist, skipping");
	be_complete(&m, "DROP TABLE");
	mb_begin(&m, 'A');
	mb_u32(&m, 777);
	mb_str(&m, "chan");
	mb_str(&m, "payload text");
	mb_end(&m);
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "OK");
	n = th_get(e, "pgsql.notices");
	ck_assert(cJSON_IsArray(n));
	ck_assert_int_eq(cJSON_GetArraySize(n), 1);
	th_ck_str(cJSON_GetArrayItem(n, 0), "severity", "NOTICE");
	th_ck_str(cJSON_GetArrayItem(n, 0), "code", "00000");
	th_ck_str(cJSON_GetArrayItem(n, 0), "message", "table \"x\" does not exist, skipping");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "method", "NOTIFICATION");
	th_ck_str(e, "status", "OK");
	th_ck_str(e, "pgsql.notification.channel", "chan");
	th_ck_str(e, "pgsql.notification.payload", "payload text");
	th_ck_num(e, "pgsql.notification.process_id", 777);
	th_ck_num(e, "client.bytes", 0);
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.messages, 1);
	mb_free(&m);
	th_free(h);
}
END_TEST

/* ---- logins and encryption ---- */

START_TEST(test_failed_login)
{
	struct th *h = mk(NULL);
	struct mb m = { 0 };
	size_t rq, rs;
	cJSON *e;

	fe_startup(&m, "mallory", "shop", NULL);
	rq = m.n;
	cli(h, &m);
	be_auth(&m, 5);
	rs = m.n;
	srv(h, &m);
	fe_password(&m, "md5wrong");
	rq += m.n;
	cli(h, &m);
	be_error(&m, 'E', "FATAL", "28P01", "password authentication failed for user \"mallory\"");
	rs += m.n;
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "LOGIN");
	th_ck_str(e, "status", "Error");
	th_ck_absent(e, "query");
	th_ck_str(e, "pgsql.error_code", "28P01");
	th_ck_str(e, "pgsql.error_severity", "FATAL");
	th_ck_str(e, "pgsql.auth_method", "md5");
	th_ck_str(e, "pgsql.user", "mallory");
	th_ck_num(e, "client.bytes", rq);
	th_ck_num(e, "server.bytes", rs);
	th_ck_absent(e, "pgsql.num_rows");
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_sasl_mechanism_and_abandoned_login)
{
	struct th *h = mk(NULL);
	struct mb m = { 0 };
	cJSON *e;

	fe_startup(&m, "eve", NULL, NULL);
	cli(h, &m);
	mb_begin(&m, 'R');
	mb_u32(&m, 10);
	mb_str(&m, "SCRAM-SHA-256");
	mb_u8(&m, 0);
	mb_end(&m);
	srv(h, &m);
	mb_begin(&m, 'p');
	mb_str(&m, "SCRAM-SHA-256");
	mb_u32(&m, 4);
	mb_put(&m, "n,,x", 4);
	mb_end(&m);
	cli(h, &m);
	be_error(&m, 'E', "FATAL", "28P01", "password authentication failed");
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "pgsql.auth_method", "SCRAM-SHA-256");
	cJSON_Delete(e);
	th_free(h);
	/* a client that leaves at the password prompt: no event */
	h = mk(NULL);
	fe_startup(&m, "eve", NULL, NULL);
	cli(h, &m);
	be_auth(&m, 3);
	srv(h, &m);
	th_fin(h, 0);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 0);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_ssl_declined_then_accepted)
{
	struct th *h = mk(NULL);
	struct mb m = { 0 };
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o' };
	cJSON *e;

	/* declined: the start-up follows in clear */
	fe_code(&m, 8, 80877103);
	cli(h, &m);
	th_tcp(h, 1, "N", 1);
	fe_startup(&m, "carol", "db", NULL);
	cli(h, &m);
	be_login_ok(&m);
	srv(h, &m);
	fe_query(&m, "SELECT 1");
	cli(h, &m);
	be_complete(&m, "SELECT 1");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "pgsql.user", "carol");
	cJSON_Delete(e);
	th_free(h);
	/* accepted: one event, then nothing is read */
	h = mk(NULL);
	fe_code(&m, 8, 80877103);
	cli(h, &m);
	th_tcp(h, 1, "S", 1);
	ck_assert_uint_eq(h->n_ev, 1);
	th_tcp(h, 0, tls, sizeof(tls));
	th_tcp(h, 1, tls, sizeof(tls));
	th_gap(h, 1, 100);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "SSL");
	th_ck_str(e, "status", "OK");
	th_ck_num(e, "client.bytes", 8);
	th_ck_num(e, "server.bytes", 1);
	th_ck_note_in(e, "SSLRequest accepted");
	th_ck_absent(e, "pgsql");
	cJSON_Delete(e);
	th_free(h);
	/* GSSENCRequest accepted */
	h = mk(NULL);
	fe_code(&m, 8, 80877104);
	cli(h, &m);
	th_tcp(h, 1, "G", 1);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "GSSENC");
	th_ck_note_in(e, "GSSENCRequest accepted");
	cJSON_Delete(e);
	th_free(h);
	/* TLS from the first byte */
	h = mk(NULL);
	th_tcp(h, 0, tls, sizeof(tls));
	th_tcp(h, 1, tls, sizeof(tls));
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "SSL");
	th_ck_note_in(e, "direct SSL negotiation");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.messages, 1);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_cancel_request)
{
	struct th *h = mk(NULL);
	struct mb m = { 0 };
	cJSON *e;

	fe_code(&m, 16, 80877102);
	mb_u32(&m, 31337);
	mb_u32(&m, 0x12345678);
	cli(h, &m);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "CANCEL");
	th_ck_str(e, "status", "OK");
	th_ck_num(e, "pgsql.cancel.process_id", 31337);
	th_ck_num(e, "client.bytes", 16);
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.messages, 1);
	mb_free(&m);
	th_free(h);
}
END_TEST

/* ---- options ---- */

START_TEST(test_send_response_csv)
{
	struct th *h = mk_login("packetbeat.protocols:\n- type: pgsql\n  send_request: true\n"
				"  send_response: true\n  max_rows: 3\n  max_row_length: 12\n");
	struct mb m = { 0 };
	const char *names[] = { "a", "b,c", "bin" };
	const char *r1[] = { "x", "y\nz", "\x01\x02" }, *r2[] = { " lead", "q\"q", "b" };
	const char *r3[] = { "\\.", NULL, "c" }, *r4[] = { "0123456789abcdef", "cut", "d" };
	const char *r5[] = { "5", "5", "5" };
	cJSON *e;

	fe_query(&m, "SELECT * FROM t");
	cli(h, &m);
	be_rowdesc(&m, 3, names, 4);   /* the third column binary */
	be_row(&m, 3, r1);
	be_row(&m, 3, r2);
	be_row(&m, 3, r3);
	be_row(&m, 3, r4);
	be_row(&m, 3, r5);
	be_complete(&m, "SELECT 5");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_num(e, "pgsql.num_rows", 5);
	th_ck_str(e, "request", "SELECT * FROM t");
	/* Go's encoding/csv after Packetbeat's \n and \r rewriting; binary
	 * values empty; 3 rows; at most 12 bytes of values a row */
	th_ck_str(e, "response", "a,\"b,c\",bin\nx,y\\nz,\n\" lead\",\"q\"\"q\",\n\"\\.\",,\n");
	cJSON_Delete(e);
	mb_free(&m);
	th_free(h);
	/* the row length cut: the first value fills it, the others go */
	h = mk_login("packetbeat.protocols:\n- type: pgsql\n  send_response: true\n"
		     "  max_row_length: 12\n");
	fe_query(&m, "SELECT * FROM t");
	cli(h, &m);
	be_rowdesc(&m, 3, names, 0);
	be_row(&m, 3, r4);
	be_complete(&m, "SELECT 1");
	be_ready(&m, 'I');
	srv(h, &m);
	e = th_ev(h, 0);
	th_ck_str(e, "response", "a,\"b,c\",bin\n0123456789ab\n");
	cJSON_Delete(e);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_conf_errors)
{
	ck_assert_int_eq(th_conf_rc(pg(), "packetbeat.protocols:\n- type: pgsql\n  max_rows: 5\n"), 0);
	ck_assert_int_lt(th_conf_rc(pg(), "packetbeat.protocols:\n- type: pgsql\n  max_rows: -1\n"), 0);
	ck_assert_int_lt(th_conf_rc(pg(), "packetbeat.protocols:\n- type: pgsql\n  max_rows: lots\n"), 0);
	ck_assert_int_lt(th_conf_rc(pg(), "packetbeat.protocols:\n- type: pgsql\n  max_row_length: 99999999\n"), 0);
}
END_TEST

/* ---- pairing, timeouts, ends ---- */

START_TEST(test_unanswered_close_and_timeout)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	cJSON *e;

	fe_query(&m, "SELECT pg_sleep(60)");
	cli(h, &m);
	th_expire(h, 5 * SEC);
	ck_assert_uint_eq(h->n_ev, 0);
	th_expire(h, 6 * SEC);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "Error");
	th_ck_note_in(e, "Unmatched request");
	th_ck_absent(e, "event.end");
	cJSON_Delete(e);
	/* the answer that comes late has no request any more */
	be_complete(&m, "SELECT 1");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_note_in(e, "Unmatched response");
	th_ck_str(e, "pgsql.command_tag", "SELECT 1");
	th_ck_num(e, "client.bytes", 0);
	cJSON_Delete(e);
	/* a query pending at the end, and an answer cut by it */
	fe_query(&m, "SELECT 1; SELECT 2");
	cli(h, &m);
	{
		const char *names[] = { "x" }, *r[] = { "1" };

		be_rowdesc(&m, 1, names, 0);
		be_row(&m, 1, r);
		srv(h, &m);
	}
	th_fin(h, 0);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 4);
	e = th_ev(h, 2);
	th_ck_str(e, "query", "SELECT 1");
	th_ck_note_in(e, "Response incomplete at end of stream");
	th_ck_num(e, "pgsql.num_rows", 1);
	cJSON_Delete(e);
	e = th_ev(h, 3);
	th_ck_str(e, "query", "SELECT 2");
	th_ck_note_in(e, "Unmatched request");
	cJSON_Delete(e);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_pending_cap)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	unsigned i;
	cJSON *e;

	for (i = 0; i < 70; i++) {
		fe_query(&m, "SELECT 1");
		cli(h, &m);
	}
	ck_assert_uint_eq(h->n_ev, 6);
	e = th_ev(h, 0);
	th_ck_note_in(e, "Too many requests were pending");
	cJSON_Delete(e);
	mb_free(&m);
	th_free(h);
}
END_TEST

/* ---- hostile input ---- */

START_TEST(test_bad_length_resync)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	static const uint8_t junk[] = { 'Q', 0, 0, 0, 2, 'x', 'y', 'z', 0xff, 0xfe };
	cJSON *e;

	/* a length under 4, then garbage, then a good query */
	th_tcp(h, 0, junk, sizeof(junk));
	fe_query(&m, "SELECT 42");
	cli(h, &m);
	be_complete(&m, "SELECT 1");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "query", "SELECT 42");
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	ck_assert_uint_ge(h->st.parse_errors, 1);
	/* a server message of a type only a client sends */
	th_tcp(h, 1, "Q\0\0\0\5x", 6);
	fe_query(&m, "SELECT 43");
	cli(h, &m);
	be_complete(&m, "SELECT 1");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_str(e, "query", "SELECT 43");
	cJSON_Delete(e);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_long_messages)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	size_t big = 300u << 10, i;
	char *q = malloc(big + 16);
	cJSON *e;

	/* a query longer than what is kept of it */
	memcpy(q, "SELECT '", 8);
	for (i = 8; i < big; i++)
		q[i] = 'a';
	memcpy(q + big, "'", 2);
	fe_query(&m, q);
	th_tcp_split(h, 0, m.p, m.n, 1400);
	m.n = 0;
	/* a row longer than that, in pieces */
	mb_begin(&m, 'D');
	mb_u16(&m, 1);
	mb_u32(&m, (uint32_t)big);
	mb_put(&m, q, big);
	mb_end(&m);
	be_complete(&m, "SELECT 1");
	be_ready(&m, 'I');
	th_tcp_split(h, 1, m.p, m.n, 1400);
	m.n = 0;
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "SELECT");
	th_ck_note_in(e, "Query text truncated");
	th_ck_num(e, "pgsql.num_rows", 1);
	th_ck_num(e, "server.bytes", big + 11 + 14);
	/* what the first 262144 bytes of the message hold */
	ck_assert_uint_eq(strlen(th_str(e, "query")), (256u << 10) - 5);
	cJSON_Delete(e);
	/* a declared length of 2 GB: read from its first 262144 bytes, the
	 * rest skipped as it comes, never waited for whole */
	th_tcp(h, 1, "D\x7f\xff\xff\xff\0\1\x7f\xff\xff\xf0", 11);
	th_tcp_split(h, 1, q, big, 65536);
	ck_assert_uint_eq(h->n_ev, 1);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_note_in(e, "Response incomplete");
	cJSON_Delete(e);
	free(q);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_gaps)
{
	struct th *h = mk_login(NULL);
	struct mb m = { 0 };
	const char *names[] = { "n" }, *r1[] = { "1" };
	cJSON *e;

	/* a gap among the rows: the result still ends, with a note */
	fe_query(&m, "SELECT n FROM t");
	cli(h, &m);
	be_rowdesc(&m, 1, names, 0);
	be_row(&m, 1, r1);
	srv(h, &m);
	th_gap(h, 1, 11);
	be_row(&m, 1, r1);
	be_complete(&m, "SELECT 3");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_note_in(e, "Packet loss while capturing the response");
	th_ck_str(e, "pgsql.command_tag", "SELECT 3");
	cJSON_Delete(e);
	/* a query lost whole: its answer comes unmatched */
	th_gap(h, 0, 30);
	be_complete(&m, "UPDATE 1");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_note_in(e, "Unmatched response");
	th_ck_note_in(e, "Packet loss while capturing the request");
	th_ck_str(e, "status", "Error");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.unmatched_responses, 1);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_mid_stream)
{
	struct th *h = mk(NULL);
	struct mb m = { 0 };
	const char *r1[] = { "1" };
	cJSON *e;

	/* the capture starts inside a result: the tail of a row first */
	h->c.mid_stream[0] = h->c.mid_stream[1] = 1;
	th_tcp(h, 1, "\0\0\1x", 4);
	be_row(&m, 1, r1);
	be_complete(&m, "SELECT 9");
	be_ready(&m, 'I');
	srv(h, &m);
	fe_query(&m, "SELECT 2");
	cli(h, &m);
	be_complete(&m, "SELECT 1");
	be_ready(&m, 'I');
	srv(h, &m);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_note_in(e, "Unmatched response");
	th_ck_str(e, "pgsql.command_tag", "SELECT 9");
	th_ck_num(e, "pgsql.num_rows", 1);
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "query", "SELECT 2");
	th_ck_str(e, "client.ip", "10.0.0.1");
	cJSON_Delete(e);
	mb_free(&m);
	th_free(h);
}
END_TEST

START_TEST(test_truncated_startup_and_junk)
{
	struct th *h = mk(NULL);
	static const uint8_t bad[] = { 0, 0, 0x27, 0x11, 0, 3, 0, 0, 'u' };   /* 10001 bytes */
	static const uint8_t cut[] = { 0, 0, 0, 40, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0, 'x' };

	th_tcp(h, 0, bad, sizeof(bad));
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 0);
	th_free(h);
	h = mk(NULL);
	th_tcp(h, 0, cut, sizeof(cut));
	th_fin(h, 0);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 0);
	th_free(h);
}
END_TEST

static Suite *pgsql_suite(void)
{
	Suite *s = suite_create("pgsql");
	TCase *t = tcase_create("pgsql");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_registered_defaults);
	tcase_add_test(t, test_simple_select);
	tcase_add_test(t, test_every_split_point);
	tcase_add_test(t, test_several_statements);
	tcase_add_test(t, test_error_skips_the_rest);
	tcase_add_test(t, test_function_body_not_split);
	tcase_add_test(t, test_empty_query_and_method);
	tcase_add_test(t, test_extended_named);
	tcase_add_test(t, test_extended_pipeline_error);
	tcase_add_test(t, test_statement_table_cap);
	tcase_add_test(t, test_copy_in_out);
	tcase_add_test(t, test_notice_and_notification);
	tcase_add_test(t, test_failed_login);
	tcase_add_test(t, test_sasl_mechanism_and_abandoned_login);
	tcase_add_test(t, test_ssl_declined_then_accepted);
	tcase_add_test(t, test_cancel_request);
	tcase_add_test(t, test_send_response_csv);
	tcase_add_test(t, test_conf_errors);
	tcase_add_test(t, test_unanswered_close_and_timeout);
	tcase_add_test(t, test_pending_cap);
	tcase_add_test(t, test_bad_length_resync);
	tcase_add_test(t, test_long_messages);
	tcase_add_test(t, test_gaps);
	tcase_add_test(t, test_mid_stream);
	tcase_add_test(t, test_truncated_startup_and_junk);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(pgsql_suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
