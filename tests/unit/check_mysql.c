/*
 * check_mysql.c - the MySQL parser (proto/mysql.c) driven as the engine
 * drives it (tests/unit/txnharness.h): the login, queries with OK, ERR
 * and result sets (classic EOF and CLIENT_DEPRECATE_EOF), prepared
 * statements with binary parameters and rows, multi-packet messages over
 * 16 MiB, the compressed protocol, TLS, gaps, FIN and close, hostile
 * lengths and random input, and the options.
 *
 * Conversations are built packet by packet below (struct msg); endpoint 0
 * (port 50000) is the client, endpoint 1 (port 3306) the server.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "txnharness.h"
#include "conf/conf.h"
#include "proto/proto.h"

extern const struct pb_proto pb_proto_mysql;

#define CLI 0
#define SRV 1
#define SEC INT64_C(1000000000)

/* capability flags used below */
enum {
	C_LONG_PASSWORD = 0x1, C_CONNECT_WITH_DB = 0x8, C_COMPRESS = 0x20,
	C_PROTOCOL_41 = 0x200, C_SSL = 0x800, C_SECURE = 0x8000,
	C_PLUGIN_AUTH = 0x80000, C_DEPRECATE_EOF = 0x1000000,
};

/* ---- building messages ---- */

struct msg {
	uint8_t *b;
	size_t n, cap;
};

static void m_raw(struct msg *m, const void *p, size_t n)
{
	if (m->n + n > m->cap) {
		m->cap = (m->n + n) * 2 + 64;
		m->b = realloc(m->b, m->cap);
		ck_assert_ptr_nonnull(m->b);
	}
	if (n)
		memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void m_u8(struct msg *m, unsigned v)
{
	uint8_t b = (uint8_t)v;

	m_raw(m, &b, 1);
}

static void m_u16(struct msg *m, unsigned v)
{
	m_u8(m, v & 0xff);
	m_u8(m, v >> 8 & 0xff);
}

static void m_u24(struct msg *m, uint32_t v)
{
	m_u16(m, v & 0xffff);
	m_u8(m, v >> 16 & 0xff);
}

static void m_u32(struct msg *m, uint32_t v)
{
	m_u16(m, v & 0xffff);
	m_u16(m, v >> 16);
}

static void m_str(struct msg *m, const char *s)
{
	m_raw(m, s, strlen(s));
}

static void m_nul(struct msg *m, const char *s)
{
	m_raw(m, s, strlen(s) + 1);
}

static void m_lenenc(struct msg *m, uint64_t v)
{
	if (v < 251) {
		m_u8(m, (unsigned)v);
	} else if (v < 65536) {
		m_u8(m, 0xfc);
		m_u16(m, (unsigned)v);
	} else if (v < (1u << 24)) {
		m_u8(m, 0xfd);
		m_u24(m, (uint32_t)v);
	} else {
		m_u8(m, 0xfe);
		m_u32(m, (uint32_t)v);
		m_u32(m, (uint32_t)(v >> 32));
	}
}

static void m_lstr(struct msg *m, const char *s)
{
	m_lenenc(m, strlen(s));
	m_str(m, s);
}

static void m_free(struct msg *m)
{
	free(m->b);
	memset(m, 0, sizeof(*m));
}

/* A packet: header (length, seq) and the payload in p. */
static void pkt(struct msg *out, unsigned seq, const struct msg *p)
{
	m_u24(out, (uint32_t)p->n);
	m_u8(out, seq);
	m_raw(out, p->b, p->n);
}

/* A packet from a literal payload. */
static void pkts(struct msg *out, unsigned seq, const void *p, size_t n)
{
	m_u24(out, (uint32_t)n);
	m_u8(out, seq);
	m_raw(out, p, n);
}

/* ---- protocol pieces ---- */

static void greeting(struct msg *out, uint32_t caps)
{
	struct msg p = { 0 };

	m_u8(&p, 10);
	m_nul(&p, "10.11.19-MariaDB");
	m_u32(&p, 42);                     /* thread id */
	m_str(&p, "abcdefgh");
	m_u8(&p, 0);
	m_u16(&p, caps & 0xffff);
	m_u8(&p, 33);
	m_u16(&p, 2);
	m_u16(&p, caps >> 16);
	m_u8(&p, 21);
	m_raw(&p, "\0\0\0\0\0\0\0\0\0\0", 10);
	m_raw(&p, "ijklmnopqrst\0", 13);
	m_nul(&p, "mysql_native_password");
	pkt(out, 0, &p);
	m_free(&p);
}

static void handshake_response(struct msg *out, uint32_t caps, const char *user,
			       const char *db)
{
	struct msg p = { 0 };
	static const uint8_t zero[23];

	m_u32(&p, caps);
	m_u32(&p, 1 << 24);
	m_u8(&p, 33);
	m_raw(&p, zero, 23);
	m_nul(&p, user);
	m_u8(&p, 20);
	m_raw(&p, "0123456789abcdefghij", 20);
	if (caps & C_CONNECT_WITH_DB)
		m_nul(&p, db);
	if (caps & C_PLUGIN_AUTH)
		m_nul(&p, "mysql_native_password");
	pkt(out, 1, &p);
	m_free(&p);
}

static void ok_packet(struct msg *out, unsigned seq, uint64_t affected, uint64_t id,
		      unsigned status, unsigned char head)
{
	struct msg p = { 0 };

	m_u8(&p, head);
	m_lenenc(&p, affected);
	m_lenenc(&p, id);
	m_u16(&p, status);
	m_u16(&p, 0);
	pkt(out, seq, &p);
	m_free(&p);
}

static void err_packet(struct msg *out, unsigned seq, unsigned code, const char *state,
		       const char *msg)
{
	struct msg p = { 0 };

	m_u8(&p, 0xff);
	m_u16(&p, code);
	if (state) {
		m_u8(&p, '#');
		m_str(&p, state);
	}
	m_str(&p, msg);
	pkt(out, seq, &p);
	m_free(&p);
}

static void eof_packet(struct msg *out, unsigned seq, unsigned status)
{
	static uint8_t e[5] = { 0xfe, 0, 0, 0, 0 };

	e[3] = status & 0xff;
	e[4] = status >> 8;
	pkts(out, seq, e, 5);
}

static void coldef(struct msg *out, unsigned seq, const char *db, const char *table,
		   const char *name, unsigned type, unsigned flags)
{
	struct msg p = { 0 };

	m_lstr(&p, "def");
	m_lstr(&p, db);
	m_lstr(&p, table);
	m_lstr(&p, table);
	m_lstr(&p, name);
	m_lstr(&p, name);
	m_u8(&p, 0x0c);
	m_u16(&p, 33);
	m_u32(&p, 255);
	m_u8(&p, type);
	m_u16(&p, flags);
	m_u8(&p, 0);
	m_u16(&p, 0);
	pkt(out, seq, &p);
	m_free(&p);
}

/* a text row of NULL-terminated column strings (NULL: SQL NULL) */
static void text_row(struct msg *out, unsigned seq, const char *const *cols, unsigned n)
{
	struct msg p = { 0 };
	unsigned i;

	for (i = 0; i < n; i++) {
		if (cols[i])
			m_lstr(&p, cols[i]);
		else
			m_u8(&p, 0xfb);
	}
	pkt(out, seq, &p);
	m_free(&p);
}

static void command(struct msg *out, unsigned cmd, const char *arg)
{
	struct msg p = { 0 };

	m_u8(&p, cmd);
	if (arg)
		m_str(&p, arg);
	pkt(out, 0, &p);
	m_free(&p);
}

/* a result set of two columns (id INT, name VARCHAR) from shop.items:
 * rows "1","apple" and "2",NULL; classic EOFs unless deprecate */
static void result_set(struct msg *out, int deprecate)
{
	static const char *const r1[] = { "1", "apple" };
	static const char *const r2[] = { "2", NULL };
	unsigned seq = 1;

	pkts(out, seq++, "\x02", 1);
	coldef(out, seq++, "shop", "items", "id", 0x03, 0);
	coldef(out, seq++, "shop", "items", "name", 0xfd, 0);
	if (!deprecate)
		eof_packet(out, seq++, 2);
	text_row(out, seq++, r1, 2);
	text_row(out, seq++, r2, 2);
	if (deprecate)
		ok_packet(out, seq++, 0, 0, 2, 0xfe);
	else
		eof_packet(out, seq++, 2);
}

static struct th *new_conn(void)
{
	return th_new(&pb_proto_mysql, 6, 50000, 3306);
}

/* the login of user pbs to shop, ending with OK */
static void login(struct th *h, uint32_t caps)
{
	struct msg m = { 0 };

	greeting(&m, 0xffffffffu & ~(uint32_t)C_SSL);
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	handshake_response(&m, caps, "pbs", "shop");
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	ok_packet(&m, 2, 0, 0, 2, 0);
	th_tcp(h, SRV, m.b, m.n);
	m_free(&m);
}

#define BASE_CAPS (C_LONG_PASSWORD | C_PROTOCOL_41 | C_SECURE | C_PLUGIN_AUTH | C_CONNECT_WITH_DB)

/* ---- tests ---- */

START_TEST(test_login_and_query)
{
	struct th *h = new_conn();
	struct msg q = { 0 }, r = { 0 };
	cJSON *e;

	login(h, BASE_CAPS);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_str_eq(th_str(e, "type"), "mysql");
	ck_assert_str_eq(th_str(e, "method"), "LOGIN");
	ck_assert_str_eq(th_str(e, "status"), "OK");
	ck_assert_str_eq(th_str(e, "user.name"), "pbs");
	ck_assert_str_eq(th_str(e, "mysql.database"), "shop");
	ck_assert_str_eq(th_str(e, "mysql.server_version"), "10.11.19-MariaDB");
	ck_assert_int_eq((int)th_num(e, "mysql.thread_id"), 42);
	ck_assert_str_eq(th_str(e, "mysql.auth_plugin"), "mysql_native_password");
	ck_assert(cJSON_IsFalse(th_get(e, "mysql.compressed")));
	cJSON_Delete(e);

	command(&q, 0x03, "  select id, name\r\n from items ;\n");
	th_tcp(h, CLI, q.b, q.n);
	result_set(&r, 0);
	th_tcp(h, SRV, r.b, r.n);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_event(h, 1);
	ck_assert_str_eq(th_str(e, "method"), "SELECT");
	ck_assert_str_eq(th_str(e, "query"), "select id, name\r\n from items ;");
	ck_assert_str_eq(th_str(e, "path"), "shop.items");
	ck_assert_str_eq(th_str(e, "status"), "OK");
	ck_assert_int_eq((int)th_num(e, "mysql.num_fields"), 2);
	ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 2);
	ck_assert_int_eq((int)th_num(e, "mysql.affected_rows"), 0);
	ck_assert_str_eq(th_str(e, "mysql.command"), "COM_QUERY");
	ck_assert_str_eq(th_str(e, "user.name"), "pbs");
	ck_assert_int_eq((int)th_num(e, "client.bytes"), (int)q.n);
	ck_assert_int_eq((int)th_num(e, "server.bytes"), (int)r.n);
	ck_assert_ptr_null(th_get(e, "request"));
	ck_assert_ptr_null(th_get(e, "response"));
	ck_assert_ptr_null(th_get(e, "error"));
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.parse_errors, 0);
	m_free(&q);
	m_free(&r);
	th_free(h);
}
END_TEST

/* Every split point of a request and its response gives the same event. */
START_TEST(test_split_every_byte)
{
	struct msg q = { 0 }, r = { 0 };
	char *ref = NULL;
	size_t k;

	command(&q, 0x03, "select id, name from items");
	result_set(&r, 0);
	for (k = 0; k <= q.n + r.n; k++) {
		struct th *h = new_conn();

		if (k <= q.n) {
			th_tcp(h, CLI, q.b, k);
			th_tcp(h, CLI, q.b + k, q.n - k);
			th_tcp(h, SRV, r.b, r.n);
		} else {
			th_tcp(h, CLI, q.b, q.n);
			th_tcp(h, SRV, r.b, k - q.n);
			th_tcp(h, SRV, r.b + (k - q.n), r.n - (k - q.n));
		}
		ck_assert_uint_eq(h->n_ev, 1);
		{
			cJSON *e = th_event(h, 0);
			char *s;

			/* times differ with the split: compare the rest */
			cJSON_DeleteItemFromObject(e, "@timestamp");
			cJSON_DeleteItemFromObject(e, "event");
			cJSON_DeleteItemFromObject(e, "pb");
			s = cJSON_PrintUnformatted(e);
			if (!ref)
				ref = strdup(s);
			ck_assert_str_eq(s, ref);
			free(s);
			cJSON_Delete(e);
		}
		th_free(h);
	}
	/* and one byte at a time */
	{
		struct th *h = new_conn();
		cJSON *e;

		th_tcp_split(h, CLI, q.b, q.n, 1);
		th_tcp_split(h, SRV, r.b, r.n, 1);
		ck_assert_uint_eq(h->n_ev, 1);
		e = th_event(h, 0);
		ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 2);
		ck_assert_str_eq(th_str(e, "path"), "shop.items");
		cJSON_Delete(e);
		th_free(h);
	}
	free(ref);
	m_free(&q);
	m_free(&r);
}
END_TEST

START_TEST(test_ok_err)
{
	struct th *h = new_conn();
	struct msg m = { 0 };
	cJSON *e;

	command(&m, 0x03, "INSERT INTO items VALUES (NULL, 'kiwi')");
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	ok_packet(&m, 1, 1, 1234567, 2, 0);
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	command(&m, 0x03, "SELECT * FROM missing");
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	err_packet(&m, 1, 1146, "42S02", "Table 'shop.missing' doesn't exist");
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	/* an ERR without the SQL state (pre-4.1 style) */
	command(&m, 0x03, "SELECT 1");
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	err_packet(&m, 1, 1040, NULL, "Too many connections");
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 3);

	e = th_event(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "INSERT");
	ck_assert_int_eq((int)th_num(e, "mysql.affected_rows"), 1);
	ck_assert_int_eq((int)th_num(e, "mysql.insert_id"), 1234567);
	ck_assert_str_eq(th_str(e, "status"), "OK");
	ck_assert_ptr_null(th_get(e, "mysql.error_code"));
	cJSON_Delete(e);

	e = th_event(h, 1);
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert_int_eq((int)th_num(e, "mysql.error_code"), 1146);
	ck_assert_str_eq(th_str(e, "mysql.error_message"),
			 "42S02: Table 'shop.missing' doesn't exist");
	ck_assert_str_eq(th_str(e, "mysql.sql_state"), "42S02");
	cJSON_Delete(e);

	e = th_event(h, 2);
	ck_assert_int_eq((int)th_num(e, "mysql.error_code"), 1040);
	ck_assert_str_eq(th_str(e, "mysql.error_message"), "Too many connections");
	ck_assert_ptr_null(th_get(e, "mysql.sql_state"));
	cJSON_Delete(e);
	m_free(&m);
	th_free(h);
}
END_TEST

/* CLIENT_DEPRECATE_EOF: no EOF after the definitions, an OK (0xfe) at
 * the end; known from the login, or told apart without it. */
START_TEST(test_deprecate_eof)
{
	int known;

	for (known = 0; known < 2; known++) {
		struct th *h = new_conn();
		struct msg m = { 0 };
		cJSON *e;
		unsigned base;

		if (known)
			login(h, BASE_CAPS | C_DEPRECATE_EOF);
		base = h->n_ev;
		command(&m, 0x03, "SELECT id, name FROM items");
		th_tcp(h, CLI, m.b, m.n);
		m.n = 0;
		result_set(&m, 1);
		th_tcp(h, SRV, m.b, m.n);
		/* an empty result: the definitions, then the OK at once */
		m.n = 0;
		command(&m, 0x03, "SELECT id FROM items WHERE 0");
		th_tcp(h, CLI, m.b, m.n);
		m.n = 0;
		pkts(&m, 1, "\x01", 1);
		coldef(&m, 2, "shop", "items", "id", 0x03, 0);
		ok_packet(&m, 3, 0, 0, 2, 0xfe);
		th_tcp(h, SRV, m.b, m.n);
		ck_assert_uint_eq(h->n_ev, base + 2);
		e = th_event(h, base);
		ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 2);
		ck_assert_int_eq((int)th_num(e, "mysql.num_fields"), 2);
		cJSON_Delete(e);
		e = th_event(h, base + 1);
		ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 0);
		ck_assert_int_eq((int)th_num(e, "mysql.num_fields"), 1);
		ck_assert_str_eq(th_str(e, "status"), "OK");
		cJSON_Delete(e);
		m_free(&m);
		th_free(h);
	}
}
END_TEST

/* A prepared statement: PREPARE (parameters and columns), EXECUTE with
 * an integer, a string, a NULL and a date, a binary result, CLOSE. */
START_TEST(test_prepared)
{
	struct th *h = new_conn();
	struct msg m = { 0 }, p = { 0 };
	cJSON *e;
	const cJSON *par;

	h->common.send_response = 1;
	h->common.send_request = 1;
	command(&m, 0x16, "SELECT id, name FROM items WHERE qty > ? AND name <> ? AND x = ? AND d = ?");
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	/* PREPARE_OK: id 7, 2 columns, 4 params */
	m_u8(&p, 0);
	m_u32(&p, 7);
	m_u16(&p, 2);
	m_u16(&p, 4);
	m_u8(&p, 0);
	m_u16(&p, 0);
	pkt(&m, 1, &p);
	coldef(&m, 2, "", "", "?", 0xfd, 0);
	coldef(&m, 3, "", "", "?", 0xfd, 0);
	coldef(&m, 4, "", "", "?", 0xfd, 0);
	coldef(&m, 5, "", "", "?", 0xfd, 0);
	eof_packet(&m, 6, 2);
	coldef(&m, 7, "shop", "items", "id", 0x03, 0);
	coldef(&m, 8, "shop", "items", "name", 0xfd, 0);
	eof_packet(&m, 9, 2);
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "SELECT");
	ck_assert_str_eq(th_str(e, "mysql.command"), "COM_STMT_PREPARE");
	ck_assert_int_eq((int)th_num(e, "mysql.stmt_id"), 7);
	ck_assert_int_eq((int)th_num(e, "mysql.num_params"), 4);
	ck_assert_int_eq((int)th_num(e, "mysql.num_fields"), 2);
	ck_assert_str_eq(th_str(e, "path"), "shop.items");
	cJSON_Delete(e);

	/* EXECUTE: LONGLONG -5, VAR_STRING "kiwi", NULL, DATE 2017-07-28 */
	m.n = 0;
	p.n = 0;
	m_u8(&p, 0x17);
	m_u32(&p, 7);
	m_u8(&p, 0);
	m_u32(&p, 1);
	m_u8(&p, 0x04);                 /* NULL bitmap: the third */
	m_u8(&p, 1);                    /* types follow */
	m_u16(&p, 0x08);
	m_u16(&p, 0xfd);
	m_u16(&p, 0x06);
	m_u16(&p, 0x0a);
	m_u32(&p, (uint32_t)-5);
	m_u32(&p, 0xffffffffu);
	m_lstr(&p, "kiwi");
	m_u8(&p, 4);
	m_u16(&p, 2017);
	m_u8(&p, 7);
	m_u8(&p, 28);
	pkt(&m, 0, &p);
	th_tcp(h, CLI, m.b, m.n);
	/* binary result: 2 columns, rows (1,"apple") and (2,NULL) */
	m.n = 0;
	pkts(&m, 1, "\x02", 1);
	coldef(&m, 2, "shop", "items", "id", 0x03, 0);
	coldef(&m, 3, "shop", "items", "name", 0xfd, 0);
	eof_packet(&m, 4, 2);
	pkts(&m, 5, "\x00\x00\x01\x00\x00\x00\x05" "apple", 12);
	pkts(&m, 6, "\x00\x08\x02\x00\x00\x00", 6);
	eof_packet(&m, 7, 2);
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_event(h, 1);
	ck_assert_str_eq(th_str(e, "mysql.command"), "COM_STMT_EXECUTE");
	ck_assert_str_eq(th_str(e, "query"),
			 "SELECT id, name FROM items WHERE qty > ? AND name <> ? AND x = ? AND d = ?");
	ck_assert_str_eq(th_str(e, "method"), "SELECT");
	par = th_get(e, "params");
	ck_assert_int_eq(cJSON_GetArraySize(par), 4);
	ck_assert_str_eq(cJSON_GetArrayItem(par, 0)->valuestring, "-5");
	ck_assert_str_eq(cJSON_GetArrayItem(par, 1)->valuestring, "kiwi");
	ck_assert_str_eq(cJSON_GetArrayItem(par, 2)->valuestring, "NULL");
	ck_assert_str_eq(cJSON_GetArrayItem(par, 3)->valuestring, "2017-07-28");
	ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 2);
	ck_assert_str_eq(th_str(e, "response"), "id,name\n1,apple\n2,NULL\n");
	ck_assert_str_eq(th_str(e, "request"),
			 "SELECT id, name FROM items WHERE qty > ? AND name <> ? AND x = ? AND d = ?");
	cJSON_Delete(e);

	/* a second EXECUTE without types: the ones bound before */
	m.n = 0;
	p.n = 0;
	m_u8(&p, 0x17);
	m_u32(&p, 7);
	m_u8(&p, 0);
	m_u32(&p, 1);
	m_u8(&p, 0x0e);                 /* 2nd, 3rd, 4th NULL */
	m_u8(&p, 0);
	m_u32(&p, 99);
	m_u32(&p, 0);
	pkt(&m, 0, &p);
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	ok_packet(&m, 1, 0, 0, 2, 0);
	th_tcp(h, SRV, m.b, m.n);
	e = th_event(h, 2);
	par = th_get(e, "params");
	ck_assert_int_eq(cJSON_GetArraySize(par), 4);
	ck_assert_str_eq(cJSON_GetArrayItem(par, 0)->valuestring, "99");
	ck_assert_str_eq(cJSON_GetArrayItem(par, 3)->valuestring, "NULL");
	cJSON_Delete(e);

	/* CLOSE: no response, an event at once; then EXECUTE is unknown */
	m.n = 0;
	p.n = 0;
	m_u8(&p, 0x19);
	m_u32(&p, 7);
	pkt(&m, 0, &p);
	th_tcp(h, CLI, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 4);
	e = th_event(h, 3);
	ck_assert_str_eq(th_str(e, "method"), "STMT_CLOSE");
	ck_assert_str_eq(th_str(e, "status"), "OK");
	ck_assert_ptr_null(th_get(e, "error"));
	cJSON_Delete(e);
	m.n = 0;
	p.n = 0;
	m_u8(&p, 0x17);
	m_u32(&p, 7);
	m_u8(&p, 0);
	m_u32(&p, 1);
	pkt(&m, 0, &p);
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	err_packet(&m, 1, 1243, "HY000", "Unknown prepared statement handler");
	th_tcp(h, SRV, m.b, m.n);
	e = th_event(h, 4);
	ck_assert_str_eq(th_str(e, "method"), "STMT_EXECUTE");
	ck_assert_ptr_null(th_get(e, "query"));
	ck_assert(th_has_note(e, "The actual query being used is unknown", 1));
	ck_assert_str_eq(th_str(e, "status"), "Error");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->n_ev, 5);
	m_free(&m);
	m_free(&p);
	th_free(h);
}
END_TEST

/* statement_timeout forgets statements unused that long */
START_TEST(test_statement_timeout)
{
	struct th *h = new_conn();
	struct msg m = { 0 }, p = { 0 };
	cJSON *e;

	((int64_t *)h->conf)[2] = 5 * SEC;   /* statement_timeout */
	command(&m, 0x16, "SELECT 1");
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	m_u8(&p, 0);
	m_u32(&p, 1);
	m_u16(&p, 0);
	m_u16(&p, 0);
	m_u8(&p, 0);
	m_u16(&p, 0);
	pkt(&m, 1, &p);
	th_tcp(h, SRV, m.b, m.n);
	th_expire(h, 6 * SEC);
	m.n = 0;
	p.n = 0;
	m_u8(&p, 0x17);
	m_u32(&p, 1);
	m_u8(&p, 0);
	m_u32(&p, 1);
	pkt(&m, 0, &p);
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	ok_packet(&m, 1, 0, 0, 2, 0);
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_event(h, 1);
	ck_assert(th_has_note(e, "The actual query being used is unknown", 1));
	cJSON_Delete(e);
	m_free(&m);
	m_free(&p);
	th_free(h);
}
END_TEST

/* feed big data in slices the harness can buffer */
static void feed(struct th *h, int dir, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += 512u << 10)
		th_tcp(h, dir, p + i, n - i < (512u << 10) ? n - i : (512u << 10));
}

/* A query over 16 MiB (a 0xffffff packet and more) and a row over
 * 16 MiB: framed, counted, and bounded in memory. */
START_TEST(test_over_16mib)
{
	struct th *h = new_conn();
	struct msg m = { 0 };
	size_t total = 0xffffff + 100, i;
	uint8_t *q = malloc(total);
	cJSON *e;
	const char *qs;

	h->common.send_response = 1;
	/* the payload: COM_QUERY "SELECT '" xxxx... "'" */
	q[0] = 0x03;
	memcpy(q + 1, "SELECT '", 8);
	memset(q + 9, 'x', total - 10);
	q[total - 1] = '\'';
	m_u24(&m, 0xffffff);
	m_u8(&m, 0);
	m_raw(&m, q, 0xffffff);
	m_u24(&m, 100);
	m_u8(&m, 1);
	m_raw(&m, q + 0xffffff, 100);
	feed(h, CLI, m.b, m.n);
	/* the response: 1 column, one row of a 16 MiB + 5 string */
	m.n = 0;
	pkts(&m, 1, "\x01", 1);
	coldef(&m, 2, "", "", "big", 0xfd, 0);
	eof_packet(&m, 3, 2);
	{
		size_t rl = 0xffffff + 9, sl = rl - 9;
		uint8_t *row = malloc(rl);

		row[0] = 0xfe;
		for (i = 0; i < 8; i++)
			row[1 + i] = (uint8_t)((uint64_t)sl >> (8 * i));
		memset(row + 9, 'y', sl);
		m_u24(&m, 0xffffff);
		m_u8(&m, 4);
		m_raw(&m, row, 0xffffff);
		m_u24(&m, (uint32_t)(rl - 0xffffff));
		m_u8(&m, 5);
		m_raw(&m, row + 0xffffff, rl - 0xffffff);
		free(row);
	}
	eof_packet(&m, 6, 2);
	feed(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "SELECT");
	ck_assert_int_eq((int)th_num(e, "client.bytes"), (int)(total + 8));
	ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 1);
	ck_assert_int_eq((int)th_num(e, "server.bytes"), (int)m.n);
	/* the query is kept up to max_message_size (10 MiB), noted */
	qs = th_str(e, "query");
	ck_assert_ptr_nonnull(qs);
	ck_assert_uint_eq(strlen(qs), (10u << 20) - 1);   /* less the command byte */
	ck_assert(th_has_note(e, "Query truncated to max_message_size", 1));
	/* the row is cut at max_row_length (1024) in the response text */
	ck_assert_uint_eq(strlen(th_str(e, "response")), 4 + 1024 + 1);
	cJSON_Delete(e);
	free(q);
	m_free(&m);
	th_free(h);
}
END_TEST

/* the compressed protocol: zlib-compressed and raw compressed packets,
 * a message spread over two of them */
static void zpkt(struct msg *out, unsigned cseq, const struct msg *inner, int deflate)
{
	if (!deflate) {
		m_u24(out, (uint32_t)inner->n);
		m_u8(out, cseq);
		m_u24(out, 0);
		m_raw(out, inner->b, inner->n);
	} else {
		uLongf zl = compressBound(inner->n);
		uint8_t *z = malloc(zl);

		ck_assert_int_eq(compress(z, &zl, inner->b, inner->n), Z_OK);
		m_u24(out, (uint32_t)zl);
		m_u8(out, cseq);
		m_u24(out, (uint32_t)inner->n);
		m_raw(out, z, zl);
		free(z);
	}
}

START_TEST(test_compressed)
{
	struct msg q = { 0 }, r = { 0 }, zq = { 0 }, zr = { 0 }, half = { 0 };
	unsigned step;

	command(&q, 0x03, "SELECT id, name FROM items");
	result_set(&r, 0);
	zpkt(&zq, 0, &q, 0);
	/* the response in two compressed packets, the cut inside a row */
	m_raw(&half, r.b, r.n / 2);
	zpkt(&zr, 1, &half, 1);
	half.n = 0;
	m_raw(&half, r.b + r.n / 2, r.n - r.n / 2);
	zpkt(&zr, 2, &half, 1);
	for (step = 1; step <= 64; step = step < 8 ? step + 1 : step * 2) {
		struct th *h = new_conn();
		cJSON *e;

		login(h, BASE_CAPS | C_COMPRESS);
		e = th_event(h, 0);
		ck_assert(cJSON_IsTrue(th_get(e, "mysql.compressed")));
		cJSON_Delete(e);
		th_tcp_split(h, CLI, zq.b, zq.n, step);
		th_tcp_split(h, SRV, zr.b, zr.n, step);
		ck_assert_uint_eq(h->n_ev, 2);
		e = th_event(h, 1);
		ck_assert_str_eq(th_str(e, "method"), "SELECT");
		ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 2);
		ck_assert_str_eq(th_str(e, "path"), "shop.items");
		ck_assert_int_eq((int)th_num(e, "server.bytes"), (int)r.n);
		cJSON_Delete(e);
		ck_assert_uint_eq(h->st.parse_errors, 0);
		th_free(h);
	}
	/* a compressed packet that is not zlib: noted, decoding stops */
	{
		struct th *h = new_conn();
		struct msg bad = { 0 };
		cJSON *e;

		login(h, BASE_CAPS | C_COMPRESS);
		th_tcp(h, CLI, zq.b, zq.n);
		m_u24(&bad, 10);
		m_u8(&bad, 1);
		m_u24(&bad, 1000);
		m_raw(&bad, "\x78\x9c garbage", 10);
		th_tcp(h, SRV, bad.b, bad.n);
		th_tcp(h, SRV, zr.b, zr.n);
		ck_assert_uint_eq(h->n_ev, 2);
		e = th_event(h, 1);
		ck_assert(th_has_note(e, "Invalid compressed packet: decoding stopped", 1));
		cJSON_Delete(e);
		m_free(&bad);
		th_free(h);
	}
	m_free(&q);
	m_free(&r);
	m_free(&zq);
	m_free(&zr);
	m_free(&half);
}
END_TEST

/* SSLRequest: a login event with a note, then nothing from the TLS */
START_TEST(test_tls)
{
	struct th *h = new_conn();
	struct msg m = { 0 }, p = { 0 };
	static const uint8_t zero[23];
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5,
				       0x17, 0x03, 0x03, 0x00, 0x03, 0x01, 0x02, 0x03 };
	cJSON *e;

	greeting(&m, 0xffffffffu);
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	m_u32(&p, BASE_CAPS | C_SSL);
	m_u32(&p, 1 << 24);
	m_u8(&p, 33);
	m_raw(&p, zero, 23);
	pkt(&m, 1, &p);
	th_tcp(h, CLI, m.b, m.n);
	th_tcp(h, CLI, tls, sizeof(tls));
	th_tcp(h, SRV, tls, sizeof(tls));
	th_tcp(h, CLI, "\x21\0\0\0\x03select", 11);
	th_fin(h, CLI);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "LOGIN");
	ck_assert(cJSON_IsTrue(th_get(e, "mysql.tls")));
	ck_assert(th_has_note(e, "Session continues in TLS (SSLRequest): not decoded", 1));
	ck_assert_int_eq((int)th_num(e, "client.bytes"), 36);
	cJSON_Delete(e);
	m_free(&m);
	m_free(&p);
	th_free(h);
}
END_TEST

START_TEST(test_login_failed)
{
	struct th *h = new_conn();
	struct msg m = { 0 };
	cJSON *e;

	greeting(&m, 0xffffffffu & ~(uint32_t)C_SSL);
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	handshake_response(&m, BASE_CAPS, "mallory", "shop");
	th_tcp(h, CLI, m.b, m.n);
	/* an auth switch, the client's answer, then ERR 1045 */
	m.n = 0;
	pkts(&m, 2, "\xfe" "mysql_native_password\0abcdefghijklmnopqrst\0", 43);
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	pkts(&m, 3, "01234567890123456789", 20);
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	err_packet(&m, 4, 1045, "28000", "Access denied for user 'mallory'@'10.0.0.1' (using password: YES)");
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "LOGIN");
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert_int_eq((int)th_num(e, "mysql.error_code"), 1045);
	ck_assert_str_eq(th_str(e, "user.name"), "mallory");
	/* the handshake response (4 + 88) and the auth answer (4 + 20) */
	ck_assert_int_eq((int)th_num(e, "client.bytes"), 116);
	cJSON_Delete(e);
	/* refused before any greeting */
	th_free(h);
	h = new_conn();
	m.n = 0;
	err_packet(&m, 0, 1130, NULL, "Host '10.0.0.1' is not allowed to connect to this MariaDB server");
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "LOGIN");
	ck_assert_str_eq(th_str(e, "status"), "Error");
	ck_assert_int_eq((int)th_num(e, "mysql.error_code"), 1130);
	cJSON_Delete(e);
	m_free(&m);
	th_free(h);
}
END_TEST

/* Commands without SQL are named; QUIT has no answer. */
START_TEST(test_commands)
{
	struct th *h = new_conn();
	struct msg m = { 0 };
	cJSON *e;

	command(&m, 0x02, "shop");
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	ok_packet(&m, 1, 0, 0, 2, 0);
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	command(&m, 0x0e, NULL);
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	ok_packet(&m, 1, 0, 0, 2, 0);
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	command(&m, 0x09, NULL);
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	pkts(&m, 1, "Uptime: 5  Threads: 1", 21);
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	command(&m, 0x01, NULL);
	th_tcp(h, CLI, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 4);
	e = th_event(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "INIT_DB");
	ck_assert_str_eq(th_str(e, "mysql.database"), "shop");
	ck_assert_str_eq(th_str(e, "mysql.command"), "COM_INIT_DB");
	cJSON_Delete(e);
	e = th_event(h, 1);
	ck_assert_str_eq(th_str(e, "method"), "PING");
	cJSON_Delete(e);
	e = th_event(h, 2);
	ck_assert_str_eq(th_str(e, "method"), "STATISTICS");
	ck_assert_str_eq(th_str(e, "mysql.info"), "Uptime: 5  Threads: 1");
	cJSON_Delete(e);
	e = th_event(h, 3);
	ck_assert_str_eq(th_str(e, "method"), "QUIT");
	ck_assert_str_eq(th_str(e, "status"), "OK");
	ck_assert_ptr_null(th_get(e, "error"));
	cJSON_Delete(e);
	m_free(&m);
	th_free(h);
}
END_TEST

/* LOCAL INFILE, a progress report, several result sets */
START_TEST(test_infile_progress_multi)
{
	struct th *h = new_conn();
	struct msg m = { 0 };
	cJSON *e;
	static const char *const one[] = { "1" };

	command(&m, 0x03, "LOAD DATA LOCAL INFILE '/tmp/x' INTO TABLE t");
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	pkts(&m, 1, "\xfb/tmp/x", 7);
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	pkts(&m, 2, "1,a\n2,b\n", 8);
	pkts(&m, 3, "", 0);
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	pkts(&m, 4, "\xff\xff\xff\x01\x01\x00\x00\x00\x00\x00", 10);   /* progress */
	ok_packet(&m, 5, 2, 0, 2, 0);
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_str_eq(th_str(e, "method"), "LOAD");
	ck_assert_int_eq((int)th_num(e, "mysql.affected_rows"), 2);
	ck_assert_str_eq(th_str(e, "status"), "OK");
	ck_assert_int_eq((int)th_num(e, "client.bytes"), 4 + 45 + 4 + 8 + 4);
	cJSON_Delete(e);

	/* CALL: two result sets, then the final OK */
	m.n = 0;
	command(&m, 0x03, "CALL p()");
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	pkts(&m, 1, "\x01", 1);
	coldef(&m, 2, "", "", "one", 0x08, 0);
	eof_packet(&m, 3, 2);
	text_row(&m, 4, one, 1);
	eof_packet(&m, 5, 0x0a);        /* more results */
	pkts(&m, 6, "\x01", 1);
	coldef(&m, 7, "", "", "two", 0x08, 0);
	eof_packet(&m, 8, 2);
	text_row(&m, 9, one, 1);
	text_row(&m, 10, one, 1);
	eof_packet(&m, 11, 0x0a);
	ok_packet(&m, 12, 0, 0, 2, 0);
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_event(h, 1);
	ck_assert_str_eq(th_str(e, "method"), "CALL");
	ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 3);
	ck_assert_int_eq((int)th_num(e, "mysql.num_fields"), 1);
	ck_assert_int_eq((int)th_num(e, "server.bytes"), (int)m.n);
	ck_assert_ptr_null(th_get(e, "path"));
	cJSON_Delete(e);
	m_free(&m);
	th_free(h);
}
END_TEST

/* Gaps: inside a row (the framing holds), across packets (what was read
 * goes out, the next exchange is found again), in a request. */
START_TEST(test_gaps)
{
	struct th *h = new_conn();
	struct msg q = { 0 }, r = { 0 };
	cJSON *e;
	size_t cut;

	command(&q, 0x03, "SELECT id, name FROM items");
	result_set(&r, 0);
	/* within the "apple" row's payload: 2 bytes lost */
	cut = r.n - 9 - 6 - 4;
	th_tcp(h, CLI, q.b, q.n);
	th_tcp(h, SRV, r.b, cut);
	th_gap(h, SRV, 2);
	th_tcp(h, SRV, r.b + cut + 2, r.n - cut - 2);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 2);
	ck_assert_str_eq(th_str(e, "status"), "OK");
	ck_assert(th_has_note(e, "Packet loss while capturing the response", 1));
	cJSON_Delete(e);

	/* across packets: written at once with the rows read */
	th_tcp(h, CLI, q.b, q.n);
	th_tcp(h, SRV, r.b, r.n - 16);      /* the second row and the EOF lost */
	th_gap(h, SRV, 30);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_event(h, 1);
	ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 1);
	ck_assert(th_has_note(e, "Packet loss while capturing the response", 1));
	cJSON_Delete(e);
	/* the rest of that response is skipped; the next exchange pairs */
	th_tcp(h, SRV, r.b + r.n - 10, 10);
	th_tcp(h, CLI, q.b, q.n);
	th_tcp(h, SRV, r.b, r.n);
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_event(h, 2);
	ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 2);
	ck_assert_ptr_null(th_get(e, "error"));
	cJSON_Delete(e);

	/* a gap in the middle of a request's text: the request is kept */
	th_tcp(h, CLI, q.b, 12);
	th_gap(h, CLI, 4);
	th_tcp(h, CLI, q.b + 16, q.n - 16);
	th_tcp(h, SRV, r.b, r.n);
	ck_assert_uint_eq(h->n_ev, 4);
	e = th_event(h, 3);
	ck_assert(th_has_note(e, "Packet loss while capturing the request", 1));
	ck_assert_str_eq(th_str(e, "method"), "SELECT");
	ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 2);
	cJSON_Delete(e);

	/* the response's start lost: the request goes out with a note */
	th_tcp(h, CLI, q.b, q.n);
	th_gap(h, SRV, 100);
	ck_assert_uint_eq(h->n_ev, 5);
	e = th_event(h, 4);
	ck_assert(th_has_note(e, "Packet loss while capturing the response", 1));
	ck_assert_str_eq(th_str(e, "status"), "Error");
	cJSON_Delete(e);
	m_free(&q);
	m_free(&r);
	th_free(h);
}
END_TEST

/* FIN and close: a cut response, requests never answered, timeouts */
START_TEST(test_fin_close_timeout)
{
	struct th *h = new_conn();
	struct msg q = { 0 }, r = { 0 };
	cJSON *e;

	command(&q, 0x03, "SELECT id, name FROM items");
	result_set(&r, 0);
	th_tcp(h, CLI, q.b, q.n);
	th_tcp(h, SRV, r.b, r.n - 12);
	th_fin(h, SRV);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert(th_has_note(e, "Response incomplete at end of stream", 1));
	ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 1);
	cJSON_Delete(e);
	th_free(h);

	h = new_conn();
	th_tcp(h, CLI, q.b, q.n);
	th_expire(h, 5 * SEC);
	ck_assert_uint_eq(h->n_ev, 0);
	th_expire(h, 6 * SEC);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert(th_has_note(e, "Unmatched request", 1));
	ck_assert_str_eq(th_str(e, "status"), "Error");
	cJSON_Delete(e);
	th_tcp(h, CLI, q.b, q.n);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	th_close(h);                    /* a second close writes nothing */
	ck_assert_uint_eq(h->n_ev, 2);
	m_free(&q);
	m_free(&r);
	th_free(h);
}
END_TEST

/* More requests than the queue holds: the oldest go out, noted. */
START_TEST(test_pending_cap)
{
	struct th *h = new_conn();
	struct msg q = { 0 };
	unsigned i;
	cJSON *e;

	command(&q, 0x03, "SELECT 1");
	for (i = 0; i < 40; i++)
		th_tcp(h, CLI, q.b, q.n);
	ck_assert_uint_eq(h->n_ev, 8);
	e = th_event(h, 0);
	ck_assert(th_has_note(e, "Too many pending requests", 1));
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 40);
	m_free(&q);
	th_free(h);
}
END_TEST

/* A capture that starts mid-stream: the first command is found again,
 * what came before it is skipped. */
START_TEST(test_mid_stream)
{
	struct th *h = new_conn();
	struct msg m = { 0 }, r = { 0 };
	cJSON *e;

	h->c.mid_stream[0] = h->c.mid_stream[1] = 1;
	/* the end of some earlier result, then a full exchange */
	th_tcp(h, SRV, "\x05\x00\x00\x09\xfe\x00\x00\x02\x00garbage", 16);
	th_tcp(h, CLI, "ery text\x01\x00\x00", 11);
	command(&m, 0x03, "SELECT id, name FROM items");
	th_tcp(h, CLI, m.b, m.n);
	result_set(&r, 0);
	th_tcp(h, SRV, r.b, r.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_str_eq(th_str(e, "query"), "SELECT id, name FROM items");
	ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 2);
	cJSON_Delete(e);
	m_free(&m);
	m_free(&r);
	th_free(h);
}
END_TEST

/* Hostile lengths and values: nothing read past what was given, and no
 * garbage events for what cannot be placed. */
START_TEST(test_hostile)
{
	struct th *h;
	struct msg m = { 0 };
	cJSON *e;

	/* a column count of 2^64-1, then junk */
	h = new_conn();
	command(&m, 0x03, "SELECT 1");
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	pkts(&m, 1, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff", 9);
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	pkts(&m, 2, "\xfc\xff", 2);             /* lenenc cut short */
	pkts(&m, 3, "\xff", 1);                 /* ERR cut short */
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_str_eq(th_str(e, "status"), "Error");
	cJSON_Delete(e);
	th_free(h);

	/* a greeting cut everywhere, a handshake response of lies */
	h = new_conn();
	m.n = 0;
	pkts(&m, 0, "\x0a" "5.7", 4);
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	pkts(&m, 1, "\xff\xff\xff\xff\x00\x00\x00\x01", 8);
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	ok_packet(&m, 2, 0, 0, 2, 0);
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 1);
	th_free(h);

	/* an EXECUTE whose parameters are cut and lie about their sizes */
	h = new_conn();
	m.n = 0;
	command(&m, 0x16, "SELECT ?, ?");
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	pkts(&m, 1, "\x00\x01\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00", 12);
	coldef(&m, 2, "", "", "?", 0xfd, 0);
	coldef(&m, 3, "", "", "?", 0xfd, 0);
	eof_packet(&m, 4, 2);
	th_tcp(h, SRV, m.b, m.n);
	m.n = 0;
	pkts(&m, 0, "\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\xfd\x00\x0c\x00"
		    "\xfd\xff\xff\xff\x41", 21);
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	ok_packet(&m, 1, 0, 0, 2, 0);
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_event(h, 1);
	ck_assert(th_has_note(e, "Parameters not decoded", 1));
	cJSON_Delete(e);
	th_free(h);

	/* a chain of 0xffffff headers with no payload after them */
	h = new_conn();
	m.n = 0;
	m_raw(&m, "\xff\xff\xff\x00\x03", 5);
	th_tcp(h, CLI, m.b, m.n);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 0);
	th_free(h);
	m_free(&m);
}
END_TEST

/* Random bytes in both directions, from the start and mid-stream. */
START_TEST(test_random)
{
	unsigned seed = 12345, round;

	for (round = 0; round < 300; round++) {
		struct th *h = new_conn();
		uint8_t buf[700];
		unsigned i, k;

		h->c.mid_stream[0] = h->c.mid_stream[1] = (uint8_t)(round & 1);
		for (k = 0; k < 8; k++) {
			size_t n = (seed = seed * 1103515245u + 12345u) % sizeof(buf);

			for (i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				buf[i] = (uint8_t)(seed >> 16);
				/* small lengths and plausible bytes, often */
				if ((seed >> 8) % 5 == 0)
					buf[i] = (uint8_t)((seed >> 20) % 4);
			}
			th_tcp(h, (int)(k & 1), buf, n);
			if (k == 5)
				th_gap(h, 1, 17);
		}
		th_close(h);
		th_free(h);
	}
}
END_TEST

/* send_response: CSV with Go's quoting, max_rows, max_row_length */
START_TEST(test_response_text)
{
	struct th *h = new_conn();
	struct msg m = { 0 };
	cJSON *e;
	static const char *const r1[] = { "a,b", "say \"hi\"", " lead" };
	static const char *const r2[] = { "line\nbreak", "cr\rx", NULL };
	static const char *const r3[] = { "1234567890", "abcdefghij", "zzz" };
	unsigned i;

	h->common.send_response = 1;
	((int64_t *)h->conf)[0] = 3;        /* max_rows */
	((int64_t *)h->conf)[1] = 15;       /* max_row_length */
	command(&m, 0x03, "SELECT a, b, c FROM t");
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	pkts(&m, 1, "\x03", 1);
	coldef(&m, 2, "db", "t", "a", 0xfd, 0);
	coldef(&m, 3, "db", "t", "b", 0xfd, 0);
	coldef(&m, 4, "db", "t", "c", 0xfd, 0);
	eof_packet(&m, 5, 2);
	text_row(&m, 6, r1, 3);
	text_row(&m, 7, r2, 3);
	for (i = 0; i < 5; i++)
		text_row(&m, 8 + i, r3, 3);
	eof_packet(&m, 13, 2);
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_int_eq((int)th_num(e, "mysql.num_rows"), 7);
	ck_assert_str_eq(th_str(e, "response"),
			 "a,b,c\n"
			 "\"a,b\",\"say \"\"hi\"\"\",\" lea\"\n"
			 "line\\nbreak,cr\\rx,N\n"
			 "1234567890,abcde\n");
	cJSON_Delete(e);
	m_free(&m);
	th_free(h);
}
END_TEST

/* the options from a configuration, and their errors */
START_TEST(test_conf)
{
	struct pb_conf c;
	char conf[64];
	const int64_t *v = (const int64_t *)conf;

	ck_assert_int_eq(pb_conf_init(&c), 0);
	ck_assert_int_eq(pb_conf_load_string(&c, "t",
		"p:\n  max_rows: 5\n  max_row_length: 79\n  statement_timeout: 10m\n"), 0);
	ck_assert_uint_le(pb_proto_mysql.conf_size, sizeof(conf));
	pb_proto_mysql.conf_init(conf);
	ck_assert_int_eq((int)v[0], 10);
	ck_assert_int_eq((int)v[1], 1024);
	ck_assert(v[2] == 3600 * SEC);
	ck_assert_int_eq(pb_proto_mysql.conf_load(conf, &c, "p"), 0);
	ck_assert_int_eq((int)v[0], 5);
	ck_assert_int_eq((int)v[1], 79);
	ck_assert(v[2] == 600 * SEC);
	pb_conf_release(&c);

	ck_assert_int_eq(pb_conf_init(&c), 0);
	ck_assert_int_eq(pb_conf_load_string(&c, "t", "p:\n  max_rows: -1\n"), 0);
	ck_assert_int_lt(pb_proto_mysql.conf_load(conf, &c, "p"), 0);
	ck_assert_ptr_nonnull(strstr(c.err, "max_rows"));
	pb_conf_release(&c);
	ck_assert_int_eq(pb_conf_init(&c), 0);
	ck_assert_int_eq(pb_conf_load_string(&c, "t", "p:\n  statement_timeout: 0\n"), 0);
	ck_assert_int_lt(pb_proto_mysql.conf_load(conf, &c, "p"), 0);
	pb_conf_release(&c);
}
END_TEST

/* query attributes (CLIENT_QUERY_ATTRIBUTES) before the SQL */
START_TEST(test_query_attributes)
{
	struct th *h = new_conn();
	struct msg m = { 0 }, p = { 0 };
	cJSON *e;

	/* none: count 0, set count 1 */
	m_u8(&p, 0x03);
	m_u8(&p, 0);
	m_u8(&p, 1);
	m_str(&p, "SELECT 1");
	pkt(&m, 0, &p);
	th_tcp(h, CLI, m.b, m.n);
	m.n = 0;
	ok_packet(&m, 1, 0, 0, 2, 0);
	th_tcp(h, SRV, m.b, m.n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_str_eq(th_str(e, "query"), "SELECT 1");
	cJSON_Delete(e);
	m_free(&m);
	m_free(&p);
	th_free(h);
}
END_TEST

static Suite *mysql_suite(void)
{
	Suite *s = suite_create("mysql");
	TCase *t;

	t = tcase_create("protocol");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_login_and_query);
	tcase_add_test(t, test_split_every_byte);
	tcase_add_test(t, test_ok_err);
	tcase_add_test(t, test_deprecate_eof);
	tcase_add_test(t, test_prepared);
	tcase_add_test(t, test_statement_timeout);
	tcase_add_test(t, test_over_16mib);
	tcase_add_test(t, test_compressed);
	tcase_add_test(t, test_tls);
	tcase_add_test(t, test_login_failed);
	tcase_add_test(t, test_commands);
	tcase_add_test(t, test_infile_progress_multi);
	tcase_add_test(t, test_query_attributes);
	suite_add_tcase(s, t);

	t = tcase_create("loss");
	tcase_add_test(t, test_gaps);
	tcase_add_test(t, test_fin_close_timeout);
	tcase_add_test(t, test_pending_cap);
	tcase_add_test(t, test_mid_stream);
	suite_add_tcase(s, t);

	t = tcase_create("hostile");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_hostile);
	tcase_add_test(t, test_random);
	suite_add_tcase(s, t);

	t = tcase_create("options");
	tcase_add_test(t, test_response_text);
	tcase_add_test(t, test_conf);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(mysql_suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
