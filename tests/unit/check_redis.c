/*
 * check_redis.c - the Redis parser (proto/redis.c) driven as the engine
 * drives it (txnharness.h): RESP2 and every RESP3 type, inline commands,
 * pipelining and its caps, pub/sub and pushes, MULTI/EXEC, CLIENT REPLY,
 * MONITOR, replication, secrets hidden, byte-at-a-time delivery, gaps,
 * FIN, timeouts, hostile lengths and nesting, and the options.
 *
 * Endpoint 0 (10.0.0.1:40000) is the client, endpoint 1 (10.0.0.2:6379)
 * the server, unless a test says otherwise.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "conf/conf.h"
#include "proto/proto.h"
#include "txnharness.h"

#define SEC INT64_C(1000000000)

/* ---- helpers ---- */

static const struct pb_proto *redis(void)
{
	const struct pb_proto *p = pb_proto_find("redis");

	ck_assert_ptr_nonnull(p);
	return p;
}

/* a connection; yaml (or NULL) is a packetbeat.yml whose first protocol
 * entry is given to conf_load */
static struct th *mk(const char *yaml)
{
	struct th *h = th_new(redis(), 6, 40000, 6379);

	if (yaml)
		th_load_conf(h, yaml);
	return h;
}


/* event i's redis.return_value is want */
static void ck_rv(struct th *h, unsigned i, const char *want)
{
	cJSON *e = th_ev(h, i);

	th_ck_str(e, "redis.return_value", want);
	cJSON_Delete(e);
}

/* one request and its reply: the event's query and return_value */
static void ck_pair(const char *rq, const char *rs, const char *query, const char *rv)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, rq);
	th_srv_s(h, rs);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "query", query);
	th_ck_str(e, "redis.return_value", rv);
	th_ck_str(e, "status", "OK");
	th_ck_num(e, "server.bytes", strlen(rs));
	cJSON_Delete(e);
	th_free(h);
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

static const char SET1[] = "*3\r\n$3\r\nset\r\n$4\r\nkey3\r\n$2\r\nme\r\n";

/* ---- RESP2 basics ---- */

START_TEST(test_set_get)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, SET1);
	ck_assert_uint_eq(h->n_ev, 0);
	th_srv_s(h, "+OK\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "type", "redis");
	th_ck_str(e, "status", "OK");
	th_ck_str(e, "method", "SET");
	th_ck_str(e, "resource", "key3");
	th_ck_str(e, "query", "set key3 me");
	th_ck_str(e, "redis.return_value", "OK");
	th_ck_absent(e, "redis.error");
	th_ck_absent(e, "request");
	th_ck_absent(e, "response");
	th_ck_absent(e, "error");
	th_ck_str(e, "client.ip", "10.0.0.1");
	th_ck_num(e, "server.port", 6379);
	th_ck_num(e, "client.bytes", 31);
	th_ck_num(e, "server.bytes", 5);
	th_ck_str(e, "network.protocol", "redis");
	th_ck_str(e, "event.dataset", "redis");
	cJSON_Delete(e);
	th_cli_s(h, "*2\r\n$3\r\nget\r\n$4\r\nkey3\r\n");
	th_srv_s(h, "$2\r\nme\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_str(e, "method", "GET");
	th_ck_str(e, "query", "get key3");
	th_ck_str(e, "redis.return_value", "me");
	th_ck_num(e, "client.bytes", 23);
	th_ck_num(e, "server.bytes", 8);
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.transactions, 2);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	th_free(h);
}
END_TEST

START_TEST(test_error_reply)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "*2\r\n$4\r\nllen\r\n$4\r\nkey3\r\n");
	th_srv_s(h, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
	e = th_ev(h, 0);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "method", "LLEN");
	th_ck_str(e, "redis.error",
		     "WRONGTYPE Operation against a key holding the wrong kind of value");
	th_ck_absent(e, "redis.return_value");
	th_ck_absent(e, "error");
	cJSON_Delete(e);
	/* RESP3 bulk error */
	th_cli_s(h, "*1\r\n$4\r\nping\r\n");
	th_srv_s(h, "!21\r\nSYNTAX invalid syntax\r\n");
	e = th_ev(h, 1);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "redis.error", "SYNTAX invalid syntax");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_reply_types)
{
	ck_pair(SET1, ":42\r\n", "set key3 me", "42");
	ck_pair(SET1, "$-1\r\n", "set key3 me", "nil");
	ck_pair(SET1, "*-1\r\n", "set key3 me", "nil");
	ck_pair(SET1, "*0\r\n", "set key3 me", "[]");
	ck_pair(SET1, "$0\r\n\r\n", "set key3 me", "");
	ck_pair(SET1, "*3\r\n$1\r\na\r\n:2\r\n*2\r\n$1\r\nb\r\n$-1\r\n", "set key3 me",
		"[a, 2, [b, nil]]");
	ck_pair(SET1, "*2\r\n*0\r\n*-1\r\n", "set key3 me", "[[], nil]");
	/* binary bytes and CRLF inside a bulk string */
	ck_pair(SET1, "$5\r\na\r\nb\x01\r\n", "set key3 me", "a\r\nb\x01");
}
END_TEST

START_TEST(test_resp3_types)
{
	ck_pair(SET1, "_\r\n", "set key3 me", "nil");
	ck_pair(SET1, "#t\r\n", "set key3 me", "true");
	ck_pair(SET1, "#f\r\n", "set key3 me", "false");
	ck_pair(SET1, ",3.14\r\n", "set key3 me", "3.14");
	ck_pair(SET1, ",-inf\r\n", "set key3 me", "-inf");
	ck_pair(SET1, "(3492890328409238509324850943850943825024385\r\n", "set key3 me",
		"3492890328409238509324850943850943825024385");
	ck_pair(SET1, "=15\r\ntxt:Some string\r\n", "set key3 me", "Some string");
	ck_pair(SET1, "%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n:2\r\n", "set key3 me",
		"{first: 1, second: 2}");
	ck_pair(SET1, "%0\r\n", "set key3 me", "{}");
	ck_pair(SET1, "~2\r\n+orange\r\n+apple\r\n", "set key3 me", "[orange, apple]");
	/* an attribute describes the value after it and is not shown */
	ck_pair(SET1, "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2039\r\n:9543\r\n",
		"set key3 me", "[2039, 9543]");
	ck_pair(SET1, "*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n", "set key3 me", "[1, 2]");
	ck_pair(SET1, "|0\r\n+OK\r\n", "set key3 me", "OK");
	/* streamed string and aggregates */
	ck_pair(SET1, "$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;1\r\nd\r\n;0\r\n", "set key3 me",
		"Hello word");
	ck_pair(SET1, "*?\r\n:1\r\n:2\r\n.\r\n", "set key3 me", "[1, 2]");
	ck_pair(SET1, "%?\r\n+a\r\n:1\r\n.\r\n", "set key3 me", "{a: 1}");
	/* nested map in an array */
	ck_pair(SET1, "*2\r\n%1\r\n+k\r\n~1\r\n:5\r\n#t\r\n", "set key3 me", "[{k: [5]}, true]");
}
END_TEST

/* ---- delivery ---- */

static const char CONV_RQ[] =
	"*3\r\n$3\r\nSET\r\n$4\r\nkey1\r\n$5\r\nhello\r\n"
	"*2\r\n$3\r\nGET\r\n$4\r\nkey1\r\n"
	"GET \"in line\"\r\n"
	"*2\r\n$7\r\nHGETALL\r\n$2\r\nh1\r\n"
	"*1\r\n$4\r\nPING\r\n";
static const char CONV_RS[] =
	"+OK\r\n"
	"$5\r\nhello\r\n"
	"$-1\r\n"
	"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n|1\r\n+x\r\n+y\r\n$1\r\n2\r\n"
	"+PONG\r\n";

static void run_conv(struct th *h, size_t step)
{
	th_tcp_split(h, 0, CONV_RQ, strlen(CONV_RQ), step);
	th_tcp_split(h, 1, CONV_RS, strlen(CONV_RS), step);
	th_close(h);
}

START_TEST(test_split_every_byte)
{
	struct th *ref = mk(NULL);
	size_t step;
	unsigned i;
	cJSON *e;

	run_conv(ref, strlen(CONV_RQ) + strlen(CONV_RS));
	ck_assert_uint_eq(ref->n_ev, 5);
	e = th_ev(ref, 2);
	th_ck_str(e, "query", "GET \"in line\"");
	th_ck_str(e, "resource", "in line");
	th_ck_str(e, "redis.return_value", "nil");
	cJSON_Delete(e);
	ck_rv(ref, 3, "{a: 1, b: 2}");
	ck_rv(ref, 4, "PONG");
	for (step = 1; step < strlen(CONV_RS); step++) {
		struct th *h = mk(NULL);

		run_conv(h, step);
		ck_assert_msg(h->n_ev == ref->n_ev, "step %zu: %u events", step, h->n_ev);
		for (i = 0; i < h->n_ev; i++) {
			char *a = timeless(ref->ev[i]), *b = timeless(h->ev[i]);

			ck_assert_msg(strcmp(a, b) == 0, "step %zu event %u:\n%s\n%s", step, i, a, b);
			free(a);
			free(b);
		}
		th_free(h);
	}
	th_free(ref);
}
END_TEST

START_TEST(test_pipelining)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n"
	       "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
	ck_assert_uint_eq(h->n_ev, 0);
	th_srv_s(h, ":1\r\n:2\r\n$1\r\n2\r\n");
	ck_assert_uint_eq(h->n_ev, 3);
	ck_rv(h, 0, "1");
	ck_rv(h, 1, "2");
	e = th_ev(h, 2);
	th_ck_str(e, "method", "GET");
	th_ck_str(e, "redis.return_value", "2");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_large_value)
{
	static const char hdr[] = "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$100000\r\n";
	struct th *h = mk(NULL);
	char *big = malloc(100000 + 64);
	size_t n;
	cJSON *e;
	const char *rv;

	th_cli_s(h, "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
	n = (size_t)sprintf(big, "$%d\r\n", 100000);
	memset(big + n, 'v', 100000);
	memcpy(big + n + 100000, "\r\n", 2);
	n += 100002;
	/* streamed in small pieces: nothing waits for the whole value */
	th_tcp_split(h, 1, big, n, 1000);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_num(e, "server.bytes", n);
	rv = th_str(e, "redis.return_value");
	ck_assert_ptr_nonnull(rv);
	ck_assert_uint_eq(strlen(rv), 4096 + 3);
	ck_assert_str_eq(rv + 4096, "...");
	cJSON_Delete(e);
	/* a large request: the query is cut too */
	th_tcp(h, 0, hdr, strlen(hdr));
	memset(big, 'w', 100000);
	memcpy(big + 100000, "\r\n", 2);
	th_tcp_split(h, 0, big, 100002, 1460);
	th_srv_s(h, "+OK\r\n");
	e = th_ev(h, 1);
	th_ck_num(e, "client.bytes", strlen(hdr) + 100002);
	rv = th_str(e, "query");
	ck_assert_uint_eq(strlen(rv), 4096 + 3);
	ck_assert(strncmp(rv, "SET big www", 11) == 0);
	th_ck_str(e, "resource", "big");
	cJSON_Delete(e);
	free(big);
	th_free(h);
}
END_TEST

START_TEST(test_large_array)
{
	struct th *h = mk(NULL);
	struct pb_buf b;
	int i;
	cJSON *e;
	const char *rv;

	pb_buf_init(&b, 1u << 20);
	pb_buf_addf(&b, "*500\r\n");
	for (i = 1; i <= 500; i++)
		pb_buf_addf(&b, "$11\r\nelement-%03d\r\n", i);
	th_cli_s(h, "*4\r\n$6\r\nLRANGE\r\n$7\r\nbiglist\r\n$1\r\n0\r\n$2\r\n-1\r\n");
	th_tcp(h, 1, b.data, b.len);
	e = th_ev(h, 0);
	rv = th_str(e, "redis.return_value");
	ck_assert(strncmp(rv, "[element-001, element-002, ", 27) == 0);
	ck_assert_uint_eq(strlen(rv), 4096 + 3);
	th_ck_num(e, "server.bytes", b.len);
	cJSON_Delete(e);
	pb_buf_release(&b);
	th_free(h);
}
END_TEST

/* ---- inline commands ---- */

START_TEST(test_inline)
{
	struct th *h = mk(NULL);
	cJSON *e;

	/* a telnet session: lines, quotes, an empty line (nothing runs) */
	th_cli_s(h, "set k 'it''s'\r\n\r\nSET \"a b\" \"x\\x41\\n\"\r\nping\n");
	th_srv_s(h, "+OK\r\n+OK\r\n+PONG\r\n");
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "SET");
	th_ck_str(e, "resource", "k");
	th_ck_str(e, "query", "set k 'it''s'");
	th_ck_num(e, "client.bytes", 15);
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "resource", "a b");
	th_ck_str(e, "query", "SET \"a b\" \"x\\x41\\n\"");
	th_ck_num(e, "client.bytes", 21);
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "method", "PING");
	th_ck_str(e, "query", "ping");
	th_ck_absent(e, "resource");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_inline_too_long)
{
	struct th *h = mk(NULL);
	char *line = malloc(70000);

	memset(line, 'a', 70000);
	th_tcp(h, 0, line, 70000);
	ck_assert_uint_eq(h->st.parse_errors, 1);
	/* the next command is read again once a line starts with '*' */
	th_cli_s(h, "\r\n*1\r\n$4\r\nPING\r\n");
	th_srv_s(h, "+PONG\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	free(line);
	th_free(h);
}
END_TEST

/* ---- secrets ---- */

static void ck_query(const char *rq, const char *query, const char *resource)
{
	struct th *h = mk(NULL);
	cJSON *e;

	h->common.send_request = 1;
	th_cli_s(h, rq);
	th_srv_s(h, "+OK\r\n");
	e = th_ev(h, 0);
	th_ck_str(e, "query", query);
	th_ck_str(e, "request", query);
	if (resource)
		th_ck_str(e, "resource", resource);
	else
		th_ck_absent(e, "resource");
	ck_assert_msg(strstr(h->ev[0], "s3cr3t") == NULL, "secret written: %s", h->ev[0]);
	cJSON_Delete(e);
	th_free(h);
}

START_TEST(test_secrets)
{
	ck_query("*2\r\n$4\r\nAUTH\r\n$6\r\ns3cr3t\r\n", "AUTH xxxxx", NULL);
	ck_query("*3\r\n$4\r\nauth\r\n$5\r\nalice\r\n$6\r\ns3cr3t\r\n", "auth alice xxxxx", "alice");
	ck_query("AUTH s3cr3t\r\n", "AUTH xxxxx", NULL);
	ck_query("AUTH alice \"s3cr3t\"  \r\n", "AUTH alice xxxxx  ", "alice");
	ck_query("*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$6\r\ns3cr3t\r\n",
		 "HELLO 3 AUTH alice xxxxx", "3");
	ck_query("*9\r\n$7\r\nMIGRATE\r\n$4\r\nhost\r\n$4\r\n6379\r\n$1\r\nk\r\n$1\r\n0\r\n"
		 "$4\r\n5000\r\n$4\r\nAUTH\r\n$6\r\ns3cr3t\r\n$4\r\nCOPY\r\n",
		 "MIGRATE host 6379 k 0 5000 AUTH xxxxx COPY", "host");
	ck_query("MIGRATE host 6379 k 0 5000 AUTH2 bob s3cr3t\r\n",
		 "MIGRATE host 6379 k 0 5000 AUTH2 bob xxxxx", "host");
	ck_query("CONFIG SET maxmemory 1mb requirepass s3cr3t\r\n",
		 "CONFIG SET maxmemory 1mb requirepass xxxxx", "maxmemory");
	ck_query("*4\r\n$3\r\nACL\r\n$7\r\nSETUSER\r\n$3\r\nbob\r\n$7\r\n>s3cr3t\r\n",
		 "ACL SETUSER bob >xxxxx", "bob");
}
END_TEST

/* ---- methods ---- */

START_TEST(test_two_word_methods)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "*3\r\n$6\r\nconfig\r\n$3\r\nget\r\n$9\r\nmaxmemory\r\n"
	       "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$3\r\napp\r\n"
	       "*3\r\n$6\r\nOBJECT\r\n$8\r\nENCODING\r\n$1\r\nk\r\n"
	       "*2\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n"
	       "*2\r\n$6\r\nCLIENT\r\n$3\r\n123\r\n"
	       "*1\r\n$6\r\nFOOBAR\r\n");
	th_srv_s(h, "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n+OK\r\n$8\r\nlistpack\r\n*0\r\n"
	       "-ERR unknown subcommand\r\n-ERR unknown command 'FOOBAR'\r\n");
	ck_assert_uint_eq(h->n_ev, 6);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "CONFIG GET");
	th_ck_str(e, "resource", "maxmemory");
	th_ck_str(e, "redis.return_value", "[maxmemory, 0]");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "method", "CLIENT SETNAME");
	th_ck_str(e, "resource", "app");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "method", "OBJECT ENCODING");
	th_ck_str(e, "resource", "k");
	cJSON_Delete(e);
	e = th_ev(h, 3);
	th_ck_str(e, "method", "COMMAND DOCS");
	th_ck_absent(e, "resource");
	cJSON_Delete(e);
	e = th_ev(h, 4);
	th_ck_str(e, "method", "CLIENT");
	th_ck_str(e, "resource", "123");
	cJSON_Delete(e);
	e = th_ev(h, 5);
	th_ck_str(e, "method", "FOOBAR");
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "redis.error", "ERR unknown command 'FOOBAR'");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_nul_bytes)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_tcp(h, 0, "*2\r\n$3\r\nGET\r\n$3\r\na\0b\r\n", 22);
	th_tcp(h, 1, "$3\r\nx\0y\r\n", 9);
	e = th_ev(h, 0);
	th_ck_str(e, "resource", "a\\x00b");
	th_ck_str(e, "query", "GET a\\x00b");
	cJSON_Delete(e);
	ck_assert(strstr(h->ev[0], "\"return_value\":\"x\\u0000y\"") != NULL);
	th_free(h);
}
END_TEST

/* ---- transactions and reply modes ---- */

START_TEST(test_multi_exec)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
	       "*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*1\r\n$4\r\nEXEC\r\n");
	th_srv_s(h, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:2\r\n");
	ck_assert_uint_eq(h->n_ev, 4);
	ck_rv(h, 0, "OK");
	ck_rv(h, 1, "QUEUED");
	ck_rv(h, 2, "QUEUED");
	e = th_ev(h, 3);
	th_ck_str(e, "method", "EXEC");
	th_ck_str(e, "redis.return_value", "[OK, 2]");
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	/* a queued command refused, EXEC aborted */
	th_cli_s(h, "*1\r\n$5\r\nMULTI\r\n*1\r\n$6\r\nFOOBAR\r\n*1\r\n$4\r\nEXEC\r\n");
	th_srv_s(h, "+OK\r\n-ERR unknown command\r\n-EXECABORT Transaction discarded\r\n");
	ck_assert_uint_eq(h->n_ev, 7);
	e = th_ev(h, 6);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "redis.error", "EXECABORT Transaction discarded");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_client_reply)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "CLIENT REPLY OFF\r\nSET a 1\r\nCLIENT REPLY ON\r\nGET a\r\n"
	       "CLIENT REPLY SKIP\r\nSET b 2\r\nGET b\r\n");
	/* the commands that get no reply are written at once */
	ck_assert_uint_eq(h->n_ev, 4);
	e = th_ev(h, 1);
	th_ck_str(e, "query", "SET a 1");
	th_ck_str(e, "status", "OK");
	th_ck_absent(e, "error");
	th_ck_absent(e, "event.end");
	cJSON_Delete(e);
	th_srv_s(h, "+OK\r\n$1\r\n1\r\n$1\r\n2\r\n");
	ck_assert_uint_eq(h->n_ev, 7);
	e = th_ev(h, 4);
	th_ck_str(e, "query", "CLIENT REPLY ON");
	th_ck_str(e, "redis.return_value", "OK");
	cJSON_Delete(e);
	e = th_ev(h, 6);
	th_ck_str(e, "query", "GET b");
	th_ck_str(e, "redis.return_value", "2");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.messages, 4);
	ck_assert_uint_eq(h->st.transactions, 3);
	th_free(h);
}
END_TEST

/* ---- pub/sub and pushes ---- */

START_TEST(test_pubsub_resp2)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "*3\r\n$9\r\nSUBSCRIBE\r\n$4\r\nnews\r\n$6\r\nalerts\r\n");
	th_srv_s(h, "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
	ck_assert_uint_eq(h->n_ev, 0);
	th_srv_s(h, "*3\r\n$9\r\nsubscribe\r\n$6\r\nalerts\r\n:2\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "SUBSCRIBE");
	th_ck_str(e, "resource", "news");
	th_ck_str(e, "redis.return_value", "[[subscribe, news, 1], [subscribe, alerts, 2]]");
	th_ck_num(e, "server.bytes", 33 + 35);
	cJSON_Delete(e);
	/* messages answer nothing */
	th_srv_s(h, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n"
	       "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$1\r\nx\r\n");
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_ev(h, 1);
	th_ck_str(e, "status", "OK");
	th_ck_absent(e, "method");
	th_ck_absent(e, "query");
	th_ck_str(e, "redis.return_value", "[message, news, hello]");
	th_ck_str(e, "redis.push.type", "message");
	th_ck_str(e, "redis.push.channel", "news");
	th_ck_str(e, "client.ip", "10.0.0.1");
	th_ck_absent(e, "error");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "redis.push.pattern", "n*");
	th_ck_str(e, "redis.push.channel", "news");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.messages, 2);
	/* PING in subscribed mode, then a message, then its pong */
	th_cli_s(h, "*1\r\n$4\r\nPING\r\n");
	th_srv_s(h, "*3\r\n$7\r\nmessage\r\n$6\r\nalerts\r\n$4\r\nfire\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 5);
	ck_rv(h, 3, "[message, alerts, fire]");
	e = th_ev(h, 4);
	th_ck_str(e, "method", "PING");
	th_ck_str(e, "redis.return_value", "[pong, ]");
	cJSON_Delete(e);
	/* UNSUBSCRIBE from all: one confirmation per channel */
	th_cli_s(h, "*1\r\n$11\r\nUNSUBSCRIBE\r\n*1\r\n$4\r\nPING\r\n");
	th_srv_s(h, "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:1\r\n"
	       "*3\r\n$11\r\nunsubscribe\r\n$6\r\nalerts\r\n:0\r\n+PONG\r\n");
	ck_assert_uint_eq(h->n_ev, 7);
	e = th_ev(h, 5);
	th_ck_str(e, "method", "UNSUBSCRIBE");
	th_ck_str(e, "redis.return_value",
		     "[[unsubscribe, news, 1], [unsubscribe, alerts, 0]]");
	cJSON_Delete(e);
	ck_rv(h, 6, "PONG");
	/* out of subscribed mode, an array that looks like a message is a
	 * reply like any other */
	th_cli_s(h, "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n");
	th_srv_s(h, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n");
	e = th_ev(h, 7);
	th_ck_str(e, "method", "LRANGE");
	th_ck_absent(e, "redis.push");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_pubsub_resp3)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n");
	th_srv_s(h, ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "SUBSCRIBE");
	th_ck_str(e, "redis.return_value", "[subscribe, ch, 1]");
	cJSON_Delete(e);
	/* in RESP3 ordinary commands go on while subscribed; pushes come
	 * between their replies */
	th_cli_s(h, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	th_srv_s(h, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_str(e, "redis.push.type", "message");
	th_ck_str(e, "redis.return_value", "[message, ch, hi]");
	cJSON_Delete(e);
	th_srv_s(h, "_\r\n");
	e = th_ev(h, 2);
	th_ck_str(e, "method", "GET");
	th_ck_str(e, "redis.return_value", "nil");
	cJSON_Delete(e);
	/* client-side caching: an invalidation push while SET waits */
	th_cli_s(h, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n");
	th_srv_s(h, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n+OK\r\n");
	ck_assert_uint_eq(h->n_ev, 5);
	e = th_ev(h, 3);
	th_ck_str(e, "redis.push.type", "invalidate");
	th_ck_str(e, "redis.return_value", "[invalidate, [k]]");
	th_ck_absent(e, "redis.push.channel");
	cJSON_Delete(e);
	e = th_ev(h, 4);
	th_ck_str(e, "method", "SET");
	th_ck_str(e, "redis.return_value", "OK");
	cJSON_Delete(e);
	th_free(h);
	h = mk(NULL);
	th_cli_s(h, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n");
	th_srv_s(h, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n+OK\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_str(e, "method", "SET");
	th_ck_str(e, "redis.return_value", "OK");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_monitor)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "*1\r\n$7\r\nMONITOR\r\n");
	th_srv_s(h, "+OK\r\n+1700000000.123456 [0 10.0.0.9:5000] \"get\" \"k\"\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_str(e, "redis.push.type", "monitor");
	th_ck_str(e, "redis.return_value", "1700000000.123456 [0 10.0.0.9:5000] \"get\" \"k\"");
	cJSON_Delete(e);
	th_cli_s(h, "*1\r\n$5\r\nRESET\r\n");
	th_srv_s(h, "+RESET\r\n");
	ck_assert_uint_eq(h->n_ev, 3);
	ck_rv(h, 2, "RESET");
	th_free(h);
}
END_TEST

START_TEST(test_psync)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n");
	th_srv_s(h, "+FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 0\r\n$5\r\nREDIS*1\r\n$4\r\nPING\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "PSYNC");
	cJSON_Delete(e);
	/* the replication stream is not read */
	th_srv_s(h, "garbage \x01\x02 *1\r\n");
	th_cli_s(h, "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$1\r\n0\r\n");
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	ck_assert_uint_eq(h->st.parse_errors, 0);
	th_free(h);
}
END_TEST

/* ---- pairing, caps and timeouts ---- */

START_TEST(test_queue_max_messages)
{
	struct th *h = mk("packetbeat.protocols:\n- type: redis\n  queue_max_messages: 2\n");
	cJSON *e;

	th_cli_s(h, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n"
	       "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
	/* the oldest goes out unanswered when the third comes */
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "resource", "a");
	th_ck_str(e, "status", "Error");
	th_ck_note(e, "Too many pipelined requests");
	th_ck_note(e, "Unmatched request");
	cJSON_Delete(e);
	th_srv_s(h, "$1\r\nA\r\n$1\r\nB\r\n$1\r\nC\r\n");
	ck_assert_uint_eq(h->n_ev, 4);
	/* a's reply is written alone; b and c keep their own */
	e = th_ev(h, 1);
	th_ck_absent(e, "method");
	th_ck_str(e, "redis.return_value", "A");
	th_ck_note(e, "Response to a request written before without it");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "resource", "b");
	th_ck_str(e, "redis.return_value", "B");
	cJSON_Delete(e);
	e = th_ev(h, 3);
	th_ck_str(e, "resource", "c");
	th_ck_str(e, "redis.return_value", "C");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_queue_max_bytes)
{
	struct th *h = mk("packetbeat.protocols:\n- type: redis\n  queue_max_bytes: 40\n");

	/* 20 bytes each: the third would make 60 */
	th_cli_s(h, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
	ck_assert_uint_eq(h->n_ev, 0);
	th_cli_s(h, "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	th_srv_s(h, "$1\r\nA\r\n$1\r\nB\r\n$1\r\nC\r\n");
	ck_assert_uint_eq(h->n_ev, 4);
	ck_rv(h, 3, "C");
	th_free(h);
}
END_TEST

START_TEST(test_unmatched)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_srv_s(h, "+OK\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "Error");
	th_ck_note(e, "Unmatched response");
	th_ck_str(e, "redis.return_value", "OK");
	th_ck_str(e, "client.ip", "10.0.0.1");
	cJSON_Delete(e);
	th_cli_s(h, SET1);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "query", "set key3 me");
	th_ck_note(e, "Unmatched request");
	th_ck_absent(e, "redis");
	th_ck_absent(e, "event.end");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.unmatched_requests, 1);
	ck_assert_uint_eq(h->st.unmatched_responses, 1);
	th_free(h);
}
END_TEST

START_TEST(test_timeout)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n");
	th_expire(h, 5 * SEC);
	ck_assert_uint_eq(h->n_ev, 0);
	th_expire(h, 6 * SEC);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "BLPOP");
	th_ck_note(e, "Unmatched request");
	cJSON_Delete(e);
	/* its reply comes at last: alone; the next pair is right */
	th_cli_s(h, "*1\r\n$4\r\nPING\r\n");
	th_srv_s(h, "*2\r\n$1\r\nq\r\n$1\r\nx\r\n+PONG\r\n");
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_ev(h, 1);
	th_ck_str(e, "redis.return_value", "[q, x]");
	th_ck_note(e, "Response to a request written before without it");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "method", "PING");
	th_ck_str(e, "redis.return_value", "PONG");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- gaps, FIN, mid-stream ---- */

START_TEST(test_gap_in_replies)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
	th_srv_s(h, "$10\r\nabc");
	th_gap(h, 1, 100);
	/* both requests go out: which replies were lost is not known */
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_note(e, "Packet loss while capturing the response");
	cJSON_Delete(e);
	/* the rest of a lost reply, then a reply: alone */
	th_srv_s(h, "xyz\r\n$1\r\nB\r\n");
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_ev(h, 2);
	th_ck_str(e, "redis.return_value", "B");
	th_ck_note(e, "Response not paired: requests were lost before it");
	cJSON_Delete(e);
	/* a request sent after that, answered after it: paired again */
	th_cli_s(h, "*1\r\n$4\r\nPING\r\n");
	th_srv_s(h, "+PONG\r\n");
	ck_assert_uint_eq(h->n_ev, 4);
	e = th_ev(h, 3);
	th_ck_str(e, "method", "PING");
	th_ck_str(e, "redis.return_value", "PONG");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.parse_errors, 0);
	th_free(h);
}
END_TEST

START_TEST(test_gap_in_requests)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1");
	th_gap(h, 0, 50);
	/* the request cut by the gap is written with what was read */
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "query", "GET");
	th_ck_note(e, "Packet loss while capturing the request");
	cJSON_Delete(e);
	th_cli_s(h, "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
	/* a's reply pairs (a was read before the gap) */
	th_srv_s(h, "$1\r\nA\r\n");
	e = th_ev(h, 1);
	th_ck_str(e, "resource", "a");
	th_ck_str(e, "redis.return_value", "A");
	cJSON_Delete(e);
	/* the next one may answer the lost request; c is the only one
	 * waiting and the reply came after it: taken as c's */
	th_srv_s(h, "$1\r\nC\r\n");
	e = th_ev(h, 2);
	th_ck_str(e, "resource", "c");
	th_ck_str(e, "redis.return_value", "C");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_fin_mid_reply)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
	th_srv_s(h, "$10\r\nabc");
	th_fin(h, 1);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "redis.return_value", "abc");
	th_ck_note(e, "Response incomplete at end of stream");
	cJSON_Delete(e);
	/* a request cut by the client's FIN is written alone */
	th_cli_s(h, "SET a");
	th_fin(h, 0);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_str(e, "query", "SET a");
	th_ck_note(e, "Request incomplete at end of stream");
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	th_free(h);
}
END_TEST

START_TEST(test_mid_stream)
{
	struct th *h = mk(NULL);
	cJSON *e;

	h->c.mid_stream[0] = h->c.mid_stream[1] = 1;
	/* the tail of a request and of a reply, then whole ones */
	th_cli_s(h, "ue\r\nGET x\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	th_srv_s(h, "abc\r\n$1\r\nv\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "query", "GET k");
	th_ck_str(e, "redis.return_value", "v");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.parse_errors, 0);
	th_free(h);
}
END_TEST

START_TEST(test_server_is_endpoint0)
{
	struct th *h = th_new(redis(), 6, 6379, 40000);
	cJSON *e;

	th_tcp(h, 1, SET1, strlen(SET1));
	th_tcp(h, 0, "+OK\r\n", 5);
	e = th_ev(h, 0);
	th_ck_str(e, "client.ip", "10.0.0.2");
	th_ck_num(e, "client.port", 40000);
	th_ck_str(e, "server.ip", "10.0.0.1");
	th_ck_str(e, "method", "SET");
	cJSON_Delete(e);
	th_free(h);
	/* neither port is Redis's: the first bytes tell */
	h = th_new(redis(), 6, 5000, 6000);
	th_tcp(h, 0, "+OK\r\n", 5);
	e = th_ev(h, 0);
	th_ck_str(e, "client.ip", "10.0.0.2");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- hostile input ---- */

START_TEST(test_hostile)
{
	static const char *const bad[] = {
		"$99999999999999999999\r\n",     /* past 2^60 */
		"$-5\r\n",
		"$3\r\nabcXY",                   /* no CRLF after the bytes */
		"*1x\r\n",
		"$\r\n",
		"*?\r\n.x",                      /* a '.' line with content is fine, */
		"@hello\r\n",                    /* an unknown type is not */
		"|-1\r\n",
		";3\r\n",
		"$123456789012345678901234567890",   /* a length line too long */
	};
	unsigned i;
	cJSON *e;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct th *h = mk(NULL);

		th_cli_s(h, SET1);
		th_srv_s(h, bad[i]);
		th_srv_s(h, "\r\n");
		th_close(h);
		if (i == 5) {            /* "*?\r\n.x\r\n" is an empty array */
			ck_assert_uint_eq(h->st.parse_errors, 0);
			th_free(h);
			continue;
		}
		ck_assert_msg(h->st.parse_errors == 1, "case %u: %llu errors", i,
			      (unsigned long long)h->st.parse_errors);
		/* the request is written, noted */
		ck_assert_msg(h->n_ev == 1, "case %u: %u events", i, h->n_ev);
		e = th_ev(h, 0);
		ck_assert_msg(th_has_note(e, "Response could not be parsed", 1), "case %u", i);
		cJSON_Delete(e);
		th_free(h);
	}
}
END_TEST

START_TEST(test_deep_nesting)
{
	struct th *h = mk(NULL);
	char buf[200];
	int i;

	for (i = 0; i < 40; i++)
		memcpy(buf + 4 * i, "*1\r\n", 4);
	th_cli_s(h, SET1);
	th_tcp(h, 1, buf, 160);
	ck_assert_uint_eq(h->st.parse_errors, 1);
	th_free(h);
	/* 32 levels are read */
	h = mk(NULL);
	th_cli_s(h, SET1);
	th_tcp(h, 1, buf, 4 * 31);
	th_srv_s(h, ":1\r\n");
	ck_assert_uint_eq(h->st.parse_errors, 0);
	ck_assert_uint_eq(h->n_ev, 1);
	th_free(h);
}
END_TEST

START_TEST(test_huge_counts)
{
	struct th *h = mk(NULL);

	/* counts are counted down, never allocated */
	th_cli_s(h, SET1);
	th_srv_s(h, "*1152921504606846976\r\n:1\r\n:2\r\n");
	ck_assert_uint_eq(h->n_ev, 0);
	ck_assert_uint_eq(h->st.parse_errors, 0);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	th_free(h);
	/* a client may not send more than 1024*1024 arguments, nor a
	 * string over 512 MB */
	h = mk(NULL);
	th_cli_s(h, "*1048577\r\n");
	th_cli_s(h, "*1\r\n$4\r\nPING\r\n");
	th_cli_s(h, "*2\r\n$536870913\r\n");
	ck_assert_uint_eq(h->st.parse_errors, 2);
	th_free(h);
}
END_TEST

START_TEST(test_not_redis)
{
	struct th *h = mk(NULL);
	int i;

	/* an HTTP server on the port: after a few failures it is left */
	for (i = 0; i < 20; i++) {
		th_cli_s(h, "*1\r\n$4\r\nPING\r\n");
		th_srv_s(h, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
	}
	ck_assert_uint_le(h->st.parse_errors, 8);
	ck_assert_uint_le(h->n_ev, 20);
	th_free(h);
}
END_TEST

/* random bytes, fragments of RESP, random splits and gaps: nothing may
 * crash or be read out of bounds (the unit tests run under ASan in the
 * sanitizer build) */
START_TEST(test_hostile_mix)
{
	static const char *const frag[] = {
		"*3\r\n", "$3\r\nSET\r\n", "+OK\r\n", "-ERR x\r\n", ":12\r\n", "$-1\r\n",
		"%1\r\n", "~2\r\n", "|1\r\n", ">3\r\n", "$?\r\n", ";2\r\nab\r\n", ";0\r\n",
		"*?\r\n", ".\r\n", "_\r\n", "#t\r\n", ",1.5\r\n", "(123\r\n", "=7\r\ntxt:abc\r\n",
		"!3\r\nERR\r\n", "SUBSCRIBE a\r\n", "*3\r\n$7\r\nmessage\r\n", "\r\n", "AUTH x\r\n",
	};
	uint32_t seed = 12345;
	int round, k;

	for (round = 0; round < 300; round++) {
		struct th *h = mk(round % 3 ? NULL :
				  "packetbeat.protocols:\n- type: redis\n  queue_max_messages: 3\n");

		h->c.mid_stream[0] = (uint8_t)(round & 1);
		for (k = 0; k < 40; k++) {
			int dir;

			seed = seed * 1103515245 + 12345;
			dir = (seed >> 16) & 1;
			if ((seed >> 8) % 17 == 0) {
				th_gap(h, dir, (seed >> 4) % 50);
			} else if ((seed >> 8) % 5 == 0) {
				uint8_t buf[64];
				size_t n = (seed >> 20) % sizeof(buf), i;

				for (i = 0; i < n; i++) {
					seed = seed * 1103515245 + 12345;
					buf[i] = (uint8_t)(seed >> 16);
				}
				th_tcp_split(h, dir, buf, n, 1 + (seed >> 20) % 5);
			} else {
				const char *f = frag[(seed >> 12) % (sizeof(frag) / sizeof(frag[0]))];

				th_tcp_split(h, dir, f, strlen(f), 1 + (seed >> 24) % 9);
			}
			if ((seed >> 10) % 23 == 0)
				th_expire(h, 11 * SEC);
		}
		th_fin(h, 0);
		th_close(h);
		th_free(h);
	}
}
END_TEST

/* ---- options ---- */

START_TEST(test_send_request_response)
{
	struct th *h = mk(NULL);
	cJSON *e;

	h->common.send_request = 1;
	h->common.send_response = 1;
	th_cli_s(h, "*2\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n");
	th_srv_s(h, "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
	e = th_ev(h, 0);
	th_ck_str(e, "request", "LRANGE l");
	th_ck_str(e, "response", "[a, b]");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_conf)
{
	ck_assert_int_eq(th_conf_rc(redis(), "packetbeat.protocols:\n- type: redis\n  queue_max_bytes: 1mb\n"), 0);
	ck_assert_int_eq(th_conf_rc(redis(), "packetbeat.protocols:\n- type: redis\n  queue_max_bytes: -1\n"
				 "  queue_max_messages: 0\n"), 0);
	ck_assert_int_ne(th_conf_rc(redis(), "packetbeat.protocols:\n- type: redis\n  queue_max_bytes: lots\n"), 0);
	ck_assert_int_ne(th_conf_rc(redis(), "packetbeat.protocols:\n- type: redis\n  queue_max_messages: [1]\n"), 0);
}
END_TEST

START_TEST(test_no_limit)
{
	/* 0 is Packetbeat's "no limit": 30000 requests wait */
	struct th *h = mk("packetbeat.protocols:\n- type: redis\n  queue_max_messages: 0\n"
			  "  queue_max_bytes: 0\n");
	struct pb_buf b;
	int i;

	pb_buf_init(&b, 4u << 20);
	for (i = 0; i < 30000; i++)
		pb_buf_adds(&b, "*1\r\n$4\r\nPING\r\n");
	th_tcp(h, 0, b.data, b.len);
	ck_assert_uint_eq(h->n_ev, 0);
	pb_buf_clear(&b);
	for (i = 0; i < 30000; i++)
		pb_buf_adds(&b, "+PONG\r\n");
	th_tcp(h, 1, b.data, b.len);
	ck_assert_uint_eq(h->st.transactions, 30000);
	pb_buf_release(&b);
	th_free(h);
}
END_TEST

START_TEST(test_queue_growth)
{
	/* 200 pipelined commands: the queue grows past its first 64 slots
	 * and keeps their order */
	struct th *h = mk(NULL);
	struct pb_buf b;
	int i;

	pb_buf_init(&b, 1u << 20);
	for (i = 0; i < 200; i++)
		pb_buf_addf(&b, "GET k%d\r\n", i);
	th_tcp(h, 0, b.data, b.len);
	pb_buf_clear(&b);
	for (i = 0; i < 200; i++)
		pb_buf_addf(&b, "+v%d\r\n", i);
	th_tcp_split(h, 1, b.data, b.len, 7);
	ck_assert_uint_eq(h->n_ev, 200);
	for (i = 0; i < 200; i++) {
		cJSON *e = th_ev(h, (unsigned)i);
		char want[16];

		snprintf(want, sizeof(want), "k%d", i);
		th_ck_str(e, "resource", want);
		snprintf(want, sizeof(want), "v%d", i);
		th_ck_str(e, "redis.return_value", want);
		cJSON_Delete(e);
	}
	pb_buf_release(&b);
	th_free(h);
}
END_TEST

START_TEST(test_cut_utf8)
{
	struct th *h = mk(NULL);
	struct pb_buf b;
	cJSON *e;
	const char *rv;

	/* 4095 bytes, then a two-byte character across the cap: left out */
	pb_buf_init(&b, 1u << 16);
	pb_buf_addf(&b, "$4099\r\n");
	while (b.len < 7 + 4095)
		pb_buf_addc(&b, 'a');
	pb_buf_adds(&b, "\xc3\xa9zz\r\n");
	th_cli_s(h, "GET k\r\n");
	th_tcp(h, 1, b.data, b.len);
	e = th_ev(h, 0);
	rv = th_str(e, "redis.return_value");
	ck_assert_uint_eq(strlen(rv), 4095 + 3);
	ck_assert_str_eq(rv + 4095, "...");
	cJSON_Delete(e);
	/* a whole character at the cap stays */
	pb_buf_clear(&b);
	pb_buf_addf(&b, "$4098\r\n");
	while (b.len < 7 + 4094)
		pb_buf_addc(&b, 'a');
	pb_buf_adds(&b, "\xc3\xa9zz\r\n");
	th_cli_s(h, "GET k\r\n");
	th_tcp(h, 1, b.data, b.len);
	e = th_ev(h, 1);
	rv = th_str(e, "redis.return_value");
	ck_assert_uint_eq(strlen(rv), 4096 + 3);
	ck_assert(strcmp(rv + 4094, "\xc3\xa9...") == 0);
	cJSON_Delete(e);
	pb_buf_release(&b);
	th_free(h);
}
END_TEST

START_TEST(test_secret_past_kept_args)
{
	/* an inline line with more words than are kept: nothing after the
	 * last kept word is shown, so a password there cannot leak */
	struct th *h = mk(NULL);
	struct pb_buf b;
	int i;
	cJSON *e;
	const char *q;

	pb_buf_init(&b, 1u << 16);
	pb_buf_adds(&b, "HELLO 3");
	for (i = 0; i < 1100; i++)
		pb_buf_adds(&b, " a");
	pb_buf_adds(&b, " AUTH u s3cr3t\r\n");
	th_tcp(h, 0, b.data, b.len);
	th_srv_s(h, "-ERR x\r\n");
	e = th_ev(h, 0);
	q = th_str(e, "query");
	ck_assert_ptr_nonnull(q);
	ck_assert(strstr(q, "s3cr3t") == NULL);
	ck_assert(strcmp(q + strlen(q) - 5, "a ...") != 0);
	ck_assert(strcmp(q + strlen(q) - 3, "...") == 0);
	cJSON_Delete(e);
	ck_assert(strstr(h->ev[0], "s3cr3t") == NULL);
	pb_buf_release(&b);
	th_free(h);
}
END_TEST

static Suite *redis_suite(void)
{
	Suite *s = suite_create("redis");
	TCase *t;

	t = tcase_create("resp");
	tcase_add_test(t, test_set_get);
	tcase_add_test(t, test_error_reply);
	tcase_add_test(t, test_reply_types);
	tcase_add_test(t, test_resp3_types);
	tcase_add_test(t, test_large_value);
	tcase_add_test(t, test_large_array);
	tcase_add_test(t, test_inline);
	tcase_add_test(t, test_inline_too_long);
	tcase_add_test(t, test_secrets);
	tcase_add_test(t, test_secret_past_kept_args);
	tcase_add_test(t, test_cut_utf8);
	tcase_add_test(t, test_two_word_methods);
	tcase_add_test(t, test_nul_bytes);
	suite_add_tcase(s, t);

	t = tcase_create("delivery");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_split_every_byte);
	tcase_add_test(t, test_pipelining);
	tcase_add_test(t, test_gap_in_replies);
	tcase_add_test(t, test_gap_in_requests);
	tcase_add_test(t, test_fin_mid_reply);
	tcase_add_test(t, test_mid_stream);
	tcase_add_test(t, test_server_is_endpoint0);
	suite_add_tcase(s, t);

	t = tcase_create("modes");
	tcase_add_test(t, test_multi_exec);
	tcase_add_test(t, test_client_reply);
	tcase_add_test(t, test_pubsub_resp2);
	tcase_add_test(t, test_pubsub_resp3);
	tcase_add_test(t, test_monitor);
	tcase_add_test(t, test_psync);
	suite_add_tcase(s, t);

	t = tcase_create("pairing");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_queue_max_messages);
	tcase_add_test(t, test_queue_max_bytes);
	tcase_add_test(t, test_unmatched);
	tcase_add_test(t, test_timeout);
	tcase_add_test(t, test_no_limit);
	tcase_add_test(t, test_queue_growth);
	suite_add_tcase(s, t);

	t = tcase_create("hostile");
	tcase_set_timeout(t, 300);
	tcase_add_test(t, test_hostile);
	tcase_add_test(t, test_deep_nesting);
	tcase_add_test(t, test_huge_counts);
	tcase_add_test(t, test_not_redis);
	tcase_add_test(t, test_hostile_mix);
	suite_add_tcase(s, t);

	t = tcase_create("options");
	tcase_add_test(t, test_send_request_response);
	tcase_add_test(t, test_conf);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(redis_suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
