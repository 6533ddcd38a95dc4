/*
 * check_http.c - the HTTP/1.x parser (proto/http.c) driven as the engine
 * drives it (txnharness.h): framing by Content-Length, chunks and close,
 * bodiless responses, 100-continue, pipelining and its cap, protocol
 * switches, mid-stream starts, gaps, hostile lengths and oversized heads,
 * byte-at-a-time delivery, timeouts, lone messages, and every option.
 *
 * Endpoint 0 (10.0.0.1:40000) is the client, endpoint 1 (10.0.0.2:80)
 * the server, unless a test says otherwise.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pb.h"
#include "conf/conf.h"
#include "proto/proto.h"
#include "txnharness.h"

#define SEC INT64_C(1000000000)

/* ---- helpers ---- */

static const struct pb_proto *http(void)
{
	const struct pb_proto *p = pb_proto_find("http");

	ck_assert_ptr_nonnull(p);
	return p;
}

/* a connection; yaml (or NULL) is a packetbeat.yml whose first protocol
 * entry is given to conf_load */
static struct th *mk_port(const char *yaml, uint16_t sport)
{
	struct th *h = th_new(http(), 6, 40000, sport);

	if (yaml)
		th_load_conf(h, yaml);
	return h;
}

static struct th *mk(const char *yaml)
{
	return mk_port(yaml, 80);
}

/* error.message holds note (a string for one, a list for several) */
#define has_note(e, n) th_has_note((e), (n), 1)

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

static size_t gzip_buf(uint8_t *out, size_t cap, const char *in, int wbits)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)strlen(in);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

static const char GET1[] =
	"GET /index.html?b=2&a=1 HTTP/1.1\r\n"
	"Host: www.example.com\r\n"
	"User-Agent: curl/8.0\r\n"
	"Referer: http://ref.example.org/start\r\n"
	"Accept: */*\r\n"
	"\r\n";
static const char OK1[] =
	"HTTP/1.1 200 OK\r\n"
	"Content-Type: text/html\r\n"
	"Content-Length: 13\r\n"
	"\r\n"
	"<html></html>";

/* ---- framing ---- */

START_TEST(test_get_content_length)
{
	struct th *h = mk(NULL);
	cJSON *e;
	const cJSON *hosts;

	th_cli_s(h, GET1);
	ck_assert_uint_eq(h->n_ev, 0);
	th_srv_s(h, OK1);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "type", "http");
	th_ck_str(e, "status", "OK");
	th_ck_str(e, "method", "GET");
	th_ck_str(e, "query", "GET /index.html");
	th_ck_str(e, "path", "/index.html");
	th_ck_str(e, "client.ip", "10.0.0.1");
	th_ck_num(e, "client.port", 40000);
	th_ck_num(e, "server.port", 80);
	th_ck_num(e, "client.bytes", strlen(GET1));
	th_ck_num(e, "server.bytes", strlen(OK1));
	th_ck_num(e, "network.bytes", strlen(GET1) + strlen(OK1));
	th_ck_str(e, "server.domain", "www.example.com");
	th_ck_str(e, "destination.domain", "www.example.com");
	th_ck_str(e, "http.request.method", "GET");
	th_ck_num(e, "http.request.bytes", strlen(GET1));
	th_ck_absent(e, "http.request.body");
	th_ck_str(e, "http.request.referrer", "http://ref.example.org/start");
	th_ck_num(e, "http.request.headers.content-length", 0);
	th_ck_absent(e, "http.request.headers.accept");
	th_ck_num(e, "http.response.status_code", 200);
	th_ck_str(e, "http.response.status_phrase", "ok");
	th_ck_num(e, "http.response.bytes", strlen(OK1));
	th_ck_num(e, "http.response.body.bytes", 13);
	th_ck_absent(e, "http.response.body.content");
	th_ck_str(e, "http.response.mime_type", "text/html");
	th_ck_num(e, "http.response.headers.content-length", 13);
	th_ck_str(e, "http.response.headers.content-type", "text/html");
	th_ck_str(e, "http.version", "1.1");
	th_ck_str(e, "url.scheme", "http");
	th_ck_str(e, "url.domain", "www.example.com");
	th_ck_str(e, "url.path", "/index.html");
	th_ck_str(e, "url.query", "a=1&b=2");
	th_ck_str(e, "url.extension", "html");
	th_ck_str(e, "url.full", "http://www.example.com/index.html?a=1&b=2");
	th_ck_absent(e, "url.port");
	th_ck_str(e, "user_agent.original", "curl/8.0");
	th_ck_absent(e, "user");
	th_ck_absent(e, "error");
	hosts = th_get(e, "related.hosts");
	ck_assert_int_eq(cJSON_GetArraySize(hosts), 2);
	ck_assert_str_eq(cJSON_GetArrayItem(hosts, 0)->valuestring, "www.example.com");
	ck_assert_str_eq(cJSON_GetArrayItem(hosts, 1)->valuestring, "ref.example.org");
	ck_assert_uint_eq(h->st.transactions, 1);
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	th_free(h);
}
END_TEST

/* times and packets are those of the first and the last byte */
START_TEST(test_times)
{
	struct th *h = mk(NULL);
	cJSON *e;
	size_t half = strlen(GET1) / 2;

	th_tcp(h, 0, GET1, half);                       /* packet 2 */
	th_tcp(h, 0, GET1 + half, strlen(GET1) - half); /* packet 3 */
	th_tcp(h, 1, OK1, 10);                          /* packet 4 */
	th_tcp(h, 1, OK1 + 10, strlen(OK1) - 10);       /* packet 5 */
	e = th_ev(h, 0);
	th_ck_num(e, "pb.packet.first", 2);
	th_ck_num(e, "pb.packet.last", 5);
	th_ck_num(e, "event.duration", 3000);
	th_ck_str(e, "@timestamp", "2023-11-14T22:13:20.000001Z");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_chunked_trailers)
{
	static const char rq[] = "GET /c HTTP/1.1\r\nHost: h\r\n\r\nGET /d HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char rs[] =
		"HTTP/1.1 200 OK\r\n"
		"Content-Type: text/plain\r\n"
		"Transfer-Encoding: chunked\r\n"
		"Trailer: X-Sum\r\n"
		"\r\n"
		"5;ext=1\r\nhello\r\n"
		"6\r\n world\r\n"
		"0\r\n"
		"X-Sum: abc\r\n"
		"\r\n";
	static const char rs2[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!";
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  include_body_for: [\"text/\"]\n");
	cJSON *e;

	th_cli_s(h, rq);
	th_srv_s(h, rs);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "OK");
	th_ck_num(e, "http.response.bytes", strlen(rs));
	th_ck_num(e, "http.response.body.bytes", 11);
	th_ck_str(e, "http.response.body.content", "hello world");
	th_ck_num(e, "http.response.headers.content-length", 11);
	th_ck_str(e, "http.response.mime_type", "text/plain");
	cJSON_Delete(e);
	th_srv_s(h, rs2);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_str(e, "url.path", "/d");
	th_ck_str(e, "status", "Error");
	th_ck_num(e, "http.response.status_code", 404);
	th_ck_str(e, "http.response.status_phrase", "not found");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_chunked_request)
{
	static const char rq[] =
		"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		"3\r\nabc\r\n0\r\n\r\n";
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, rq);
	th_srv_s(h, "HTTP/1.1 204 No Content\r\n\r\n");
	e = th_ev(h, 0);
	th_ck_num(e, "http.request.bytes", strlen(rq));
	th_ck_num(e, "http.request.body.bytes", 3);
	th_ck_num(e, "http.response.status_code", 204);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a response without length ends with the stream (RFC 9112 6.3 rule 8) */
START_TEST(test_close_delimited)
{
	static const char rs[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n";
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "GET /old HTTP/1.0\r\n\r\n");
	th_srv_s(h, rs);
	th_srv_s(h, "first part, ");
	th_srv_s(h, "second part");
	ck_assert_uint_eq(h->n_ev, 0);
	th_fin(h, 1);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_num(e, "http.response.body.bytes", 23);
	th_ck_num(e, "http.response.bytes", strlen(rs) + 23);
	th_ck_num(e, "http.response.headers.content-length", 23);
	th_ck_str(e, "http.version", "1.0");
	th_ck_absent(e, "error");
	th_ck_absent(e, "url.domain");
	th_ck_absent(e, "url.full");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a response to HEAD has no body whatever its Content-Length */
START_TEST(test_head)
{
	static const char rs[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 1270\r\nContent-Type: text/html\r\n\r\n";
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "HEAD /big HTTP/1.1\r\nHost: h\r\n\r\nGET /small HTTP/1.1\r\nHost: h\r\n\r\n");
	th_srv_s(h, rs);
	ck_assert_uint_eq(h->n_ev, 1);
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "HEAD");
	th_ck_num(e, "http.response.bytes", strlen(rs));
	th_ck_absent(e, "http.response.body");
	th_ck_num(e, "http.response.headers.content-length", 1270);
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "url.path", "/small");
	th_ck_num(e, "http.response.body.bytes", 2);
	th_ck_str(e, "http.response.mime_type", "text/plain");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_204_304)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 204 No Content\r\n\r\n"
	       "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
	       "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_ev(h, 0);
	th_ck_num(e, "http.response.status_code", 204);
	th_ck_absent(e, "http.response.body");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_num(e, "http.response.status_code", 304);
	th_ck_str(e, "url.path", "/b");
	th_ck_absent(e, "http.response.body");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "url.path", "/c");
	th_ck_num(e, "http.response.body.bytes", 1);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_100_continue)
{
	static const char head[] =
		"PUT /file HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
	static const char fin[] = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, head);
	th_srv_s(h, "HTTP/1.1 100 Continue\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 0);
	th_cli_s(h, "hello");
	ck_assert_uint_eq(h->n_ev, 0);
	th_srv_s(h, fin);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "OK");
	th_ck_num(e, "http.response.status_code", 201);
	th_ck_num(e, "http.request.bytes", strlen(head) + 5);
	th_ck_num(e, "http.response.bytes", strlen(fin));
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	th_free(h);
}
END_TEST

/* a 100 with no request is dropped, not written as unmatched */
START_TEST(test_stray_100)
{
	struct th *h = mk(NULL);

	th_srv_s(h, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n");
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 0);
	th_free(h);
}
END_TEST

/* a final response before the request's body: written when it ends */
START_TEST(test_early_response)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 0);
	th_fin(h, 0);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "Error");
	th_ck_num(e, "http.response.status_code", 417);
	th_ck_str(e, "url.path", "/x");
	th_ck_note(e, "Request incomplete at end of stream");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_pipelined)
{
	struct th *h = mk(NULL);
	cJSON *e;
	int i;

	th_cli_s(h, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
	       "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
	       "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
	       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nbb"
	       "HTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nccc");
	ck_assert_uint_eq(h->n_ev, 3);
	for (i = 0; i < 3; i++) {
		char path[16];

		snprintf(path, sizeof(path), "/%d", i + 1);
		e = th_ev(h, (unsigned)i);
		th_ck_str(e, "url.path", path);
		th_ck_num(e, "http.response.body.bytes", i + 1);
		th_ck_str(e, "status", i == 2 ? "Error" : "OK");
		cJSON_Delete(e);
	}
	th_free(h);
}
END_TEST

/* the 33rd unanswered request pushes the first out, with a note */
START_TEST(test_pipeline_cap)
{
	struct th *h = mk(NULL);
	cJSON *e;
	int i;

	for (i = 0; i < 33; i++) {
		char rq[64];

		snprintf(rq, sizeof(rq), "GET /%d HTTP/1.1\r\n\r\n", i);
		th_cli_s(h, rq);
	}
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "url.path", "/0");
	th_ck_str(e, "status", "Error");
	th_ck_note(e, "Unmatched request");
	th_ck_note(e, "Too many pipelined requests");
	cJSON_Delete(e);
	/* the next response answers the oldest still waiting */
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 1);
	th_ck_str(e, "url.path", "/1");
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 33);
	ck_assert_uint_eq(h->st.unmatched_requests, 32);
	th_free(h);
}
END_TEST

START_TEST(test_upgrade)
{
	static const uint8_t frame[] = { 0x81, 0x05, 'h', 'e', 'l', 'l', 'o', 0x0d, 0x0a, 0x0d, 0x0a };
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	th_tcp(h, 1, frame, sizeof(frame));
	th_tcp(h, 0, frame, sizeof(frame));
	/* looks like HTTP, but the connection is no longer HTTP */
	th_cli_s(h, "GET /again HTTP/1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "OK");
	th_ck_num(e, "http.response.status_code", 101);
	th_ck_str(e, "http.response.status_phrase", "switching protocols");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_connect)
{
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 'H', 'T', 'T', 'P', '/' };
	struct th *h = mk_port(NULL, 8080);
	cJSON *e;

	th_cli_s(h, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 Connection established\r\n\r\n");
	th_tcp(h, 0, tls, sizeof(tls));
	th_tcp(h, 1, tls, sizeof(tls));
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "CONNECT");
	th_ck_str(e, "query", "CONNECT ");
	th_ck_absent(e, "url.path");
	th_ck_str(e, "url.domain", "example.com");
	th_ck_num(e, "url.port", 443);
	th_ck_note(e, "Host header port number mismatch");
	th_ck_num(e, "http.response.status_code", 200);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_h2_preface)
{
	struct th *h = mk(NULL);

	th_cli_s(h, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
	th_cli_s(h, "GET / HTTP/1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 0);
	th_free(h);
}
END_TEST

/* the capture starts inside a body in each direction */
START_TEST(test_mid_stream)
{
	struct th *h = mk(NULL);
	cJSON *e;

	h->c.mid_stream[0] = h->c.mid_stream[1] = 1;
	th_cli_s(h, "ody of an earlier POST\r\nGET looks like / HTTP but is not\r\n"
	       "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
	th_srv_s(h, "ail of an earlier page</html>\r\n"
	       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "url.path", "/next");
	th_ck_num(e, "http.response.body.bytes", 2);
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	th_free(h);
}
END_TEST

/* resync starts at a status line even when the body before it has no
 * line end of its own yet */
START_TEST(test_mid_stream_response_only)
{
	struct th *h = mk(NULL);
	cJSON *e;

	h->c.mid_stream[1] = 1;
	th_srv_s(h, "x\nHTTP/1.1 302 Found\r\nLocation: /y\r\nContent-Length: 0\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "Error");
	th_ck_note(e, "Unmatched response");
	th_ck_str(e, "client.ip", "10.0.0.1");
	th_ck_str(e, "server.ip", "10.0.0.2");
	th_ck_num(e, "http.response.status_code", 302);
	th_ck_absent(e, "url");
	th_ck_absent(e, "method");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- gaps ---- */

START_TEST(test_gap_in_body)
{
	static const char rs[] = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n";
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "GET /g HTTP/1.1\r\n\r\n");
	th_srv_s(h, rs);
	th_srv_s(h, "0123456789");
	th_gap(h, 1, 5);
	ck_assert_uint_eq(h->n_ev, 0);
	th_srv_s(h, "abcde");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "OK");
	th_ck_str(e, "error.message", "Packet loss while capturing the response");
	th_ck_num(e, "http.response.bytes", strlen(rs) + 20);
	th_ck_num(e, "http.response.body.bytes", 20);
	cJSON_Delete(e);
	/* the stream goes on in step */
	th_cli_s(h, "GET /h HTTP/1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 1);
	th_ck_str(e, "url.path", "/h");
	th_ck_absent(e, "error");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_gap_in_request_body)
{
	static const char rq[] = "POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, rq);
	th_cli_s(h, "abc");
	th_gap(h, 0, 7);
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 0);
	th_ck_str(e, "error.message", "Packet loss while capturing the request");
	th_ck_num(e, "http.request.bytes", strlen(rq) + 10);
	th_ck_num(e, "http.request.body.bytes", 10);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a gap that runs past the body's end: the message ends, the next one
 * is found again by its status line */
START_TEST(test_gap_past_body)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123");
	th_gap(h, 1, 30);
	ck_assert_uint_eq(h->n_ev, 1);
	th_srv_s(h, "0\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_note(e, "Packet loss while capturing the response");
	th_ck_num(e, "http.response.body.bytes", 10);
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "url.path", "/2");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_gap_close_delimited)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "GET / HTTP/1.0\r\n\r\n");
	th_srv_s(h, "HTTP/1.0 200 OK\r\n\r\nabc");
	th_gap(h, 1, 100);
	th_srv_s(h, "def");
	th_fin(h, 1);
	e = th_ev(h, 0);
	th_ck_num(e, "http.response.body.bytes", 106);
	th_ck_note(e, "Packet loss while capturing the response");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_gap_in_chunks)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
	/* inside chunk data the gap is counted */
	th_srv_s(h, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nab");
	th_gap(h, 1, 4);
	th_srv_s(h, "gh\r\n0\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_num(e, "http.response.body.bytes", 8);
	th_ck_note(e, "Packet loss while capturing the response");
	cJSON_Delete(e);
	/* in a chunk-size line it ends the message */
	th_srv_s(h, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n");
	th_gap(h, 1, 3);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_str(e, "url.path", "/2");
	th_ck_note(e, "Packet loss while capturing the response");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a gap in a head drops that head; the parser finds the next one.  In
 * the responses, the lost bytes held (the start of) the answer to the
 * oldest request waiting: it goes out without one, noted */
START_TEST(test_gap_in_headers)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Le");
	th_gap(h, 1, 12);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "url.path", "/1");
	th_ck_str(e, "status", "Error");
	th_ck_note(e, "Packet loss while capturing the response");
	ck_assert_ptr_null(th_get(e, "http.response"));
	cJSON_Delete(e);
	th_srv_s(h, "\r\n\r\nok");
	ck_assert_uint_eq(h->n_ev, 1);
	/* the next response is recognised; nothing waits for it */
	th_srv_s(h, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_num(e, "http.response.status_code", 404);
	ck_assert_ptr_null(th_get(e, "url.path"));
	th_ck_note(e, "Unmatched response");
	cJSON_Delete(e);
	/* a gap in a request head */
	th_cli_s(h, "GET /lost HTTP/1.1\r\nHo");
	th_gap(h, 0, 40);
	th_cli_s(h, "st: x\r\n\r\nGET /found HTTP/1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 2);
	th_ck_str(e, "url.path", "/found");
	th_ck_num(e, "http.response.status_code", 200);
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 3);
	th_free(h);
}
END_TEST

/* ---- hostile input ---- */

START_TEST(test_bad_content_length)
{
	static const char *const bad[] = {
		"99999999999999999999999", "-1", "5, 6", "0x10", "", "1 2", "+5",
	};
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct th *h = mk(NULL);
		char rq[256];
		cJSON *e;

		snprintf(rq, sizeof(rq), "POST /bad HTTP/1.1\r\nContent-Length: %s\r\n\r\n"
			 "garbage body\r\nGET /good HTTP/1.1\r\n\r\n", bad[i]);
		th_cli_s(h, rq);
		th_srv_s(h, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
		ck_assert_msg(h->n_ev == 2, "'%s': %u events", bad[i], h->n_ev);
		e = th_ev(h, 0);
		th_ck_note(e, "Invalid Content-Length");
		th_ck_num(e, "http.response.status_code", 400);
		cJSON_Delete(e);
		e = th_ev(h, 1);
		th_ck_str(e, "url.path", "/good");
		cJSON_Delete(e);
		ck_assert_uint_ge(h->st.parse_errors, 1);
		th_free(h);
	}
}
END_TEST

START_TEST(test_content_length_forms)
{
	struct th *h = mk(NULL);
	cJSON *e;

	/* equal values in a list, and in two fields, are one length */
	th_cli_s(h, "POST /a HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc"
	       "POST /b HTTP/1.1\r\nContent-Length: 2\r\ncontent-length:  2 \r\n\r\nde");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_num(e, "http.request.body.bytes", 3);
	th_ck_absent(e, "error");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_num(e, "http.request.body.bytes", 2);
	cJSON_Delete(e);
	/* two different values */
	th_cli_s(h, "POST /c HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 2);
	th_ck_note(e, "Invalid Content-Length");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a Content-Length far larger than what comes: counted, never trusted
 * for memory, and the message ends with the stream */
START_TEST(test_huge_content_length)
{
	static const char rs[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n";
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  include_body_for: [\"\"]\n");
	char body[1000];
	cJSON *e;
	int i;

	memset(body, 'z', sizeof(body));
	th_cli_s(h, "GET /huge HTTP/1.1\r\n\r\n");
	th_srv_s(h, rs);
	for (i = 0; i < 3000; i++)
		th_tcp(h, 1, body, sizeof(body));
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_note(e, "Response incomplete at end of stream");
	th_ck_note(e, "Response body content truncated");
	th_ck_num(e, "http.response.body.bytes", 3000000);
	th_ck_num(e, "http.response.headers.content-length", 1000000000000.0);
	ck_assert_int_eq((int)strlen(th_str(e, "http.response.body.content")), 1 << 20);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_bad_chunks)
{
	static const char *const bad[] = {
		"fffffffffffffffffffff\r\n", "-5\r\n", "zz\r\n", "\r\n", "5 x\r\n",
		"5\r\nhelloXX", "4000000000000000\r\n",
	};
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct th *h = mk(NULL);
		char rs[256];
		cJSON *e;

		th_cli_s(h, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
		snprintf(rs, sizeof(rs), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s"
			 "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", bad[i]);
		th_srv_s(h, rs);
		ck_assert_msg(h->n_ev == 2, "'%s': %u events", bad[i], h->n_ev);
		e = th_ev(h, 0);
		th_ck_note(e, "Invalid chunked encoding");
		cJSON_Delete(e);
		e = th_ev(h, 1);
		th_ck_str(e, "url.path", "/2");
		cJSON_Delete(e);
		th_free(h);
	}
}
END_TEST

START_TEST(test_transfer_encoding_forms)
{
	struct th *h = mk(NULL);
	cJSON *e;

	/* chunked not last in a request: invalid; both headers: a note */
	th_cli_s(h, "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
	       "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n"
	       "2\r\nab\r\n0\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
	       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_note(e, "Invalid Transfer-Encoding");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_note(e, "Both Transfer-Encoding and Content-Length");
	th_ck_num(e, "http.request.body.bytes", 2);
	cJSON_Delete(e);
	/* a response whose coding is not chunked runs to the close */
	th_cli_s(h, "GET /c HTTP/1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabcdef");
	th_fin(h, 1);
	e = th_ev(h, 2);
	th_ck_num(e, "http.response.body.bytes", 6);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a head longer than the cap is dropped and its lines skipped */
START_TEST(test_head_too_large)
{
	struct th *h = mk(NULL);
	char *big = malloc(80000);
	size_t n = 0;
	cJSON *e;

	n += (size_t)snprintf(big + n, 80000 - n, "GET /big HTTP/1.1\r\n");
	while (n < 70000)
		n += (size_t)snprintf(big + n, 80000 - n, "X-Pad: %060d\r\n", 7);
	n += (size_t)snprintf(big + n, 80000 - n, "\r\nGET /after HTTP/1.1\r\n\r\n");
	th_tcp(h, 0, big, n);
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "url.path", "/after");
	cJSON_Delete(e);
	ck_assert_uint_ge(h->st.parse_errors, 1);
	free(big);
	th_free(h);
}
END_TEST

START_TEST(test_start_line_too_long)
{
	struct th *h = mk(NULL);
	char *big = malloc(20000);
	cJSON *e;

	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 19995);
	th_tcp(h, 0, big, 20000);
	th_cli_s(h, " HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	/* the same in one segment: what follows the long line is read */
	memcpy(big + 19000, " HTTP/1.1\r\n\r\nGET /ok2 HTTP/1.1\r\n\r\n", 34);
	th_tcp(h, 0, big, 19034);
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_str(e, "url.path", "/ok");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "url.path", "/ok2");
	cJSON_Delete(e);
	free(big);
	th_free(h);
}
END_TEST

/* more field lines than are kept: framing still reads them all */
START_TEST(test_many_fields)
{
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  send_all_headers: true\n");
	char *rq = malloc(20000);
	size_t n = 0;
	int i;
	cJSON *e;

	n += (size_t)snprintf(rq + n, 20000 - n, "POST /m HTTP/1.1\r\n");
	for (i = 0; i < 300; i++)
		n += (size_t)snprintf(rq + n, 20000 - n, "X-F%d: %d\r\n", i, i);
	n += (size_t)snprintf(rq + n, 20000 - n, "Content-Length: 4\r\n\r\nbody");
	th_tcp(h, 0, rq, n);
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_num(e, "http.request.body.bytes", 4);
	th_ck_str(e, "http.request.headers.x-f0", "0");
	th_ck_str(e, "http.request.headers.x-f255", "255");
	th_ck_absent(e, "http.request.headers.x-f299");
	cJSON_Delete(e);
	free(rq);
	th_free(h);
}
END_TEST

START_TEST(test_not_http)
{
	static const uint8_t junk[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, '\n' };
	struct th *h = mk(NULL);
	cJSON *e;

	th_tcp(h, 0, junk, sizeof(junk));
	th_cli_s(h, "SSH-2.0-OpenSSH_9.6\r\nHTTP/1.1 204 No Content\r\n\r\nGET /real HTTP/1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	th_close(h);
	/* the stray status line from the client is a lone response */
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_num(e, "http.response.status_code", 204);
	th_ck_note(e, "Unmatched response");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "url.path", "/real");
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	ck_assert_uint_ge(h->st.parse_errors, 1);
	th_free(h);
}
END_TEST

START_TEST(test_truncated_at_end)
{
	static const char rq[] = "POST /up HTTP/1.1\r\nContent-Length: 100\r\n\r\n";
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, rq);
	th_cli_s(h, "0123456789");
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_note(e, "Request incomplete at end of stream");
	th_ck_note(e, "Unmatched request");
	th_ck_num(e, "http.request.bytes", strlen(rq) + 10);
	th_ck_num(e, "http.request.body.bytes", 10);
	th_ck_num(e, "http.request.headers.content-length", 100);
	cJSON_Delete(e);
	th_free(h);

	/* a head cut short is not a message */
	h = mk(NULL);
	th_cli_s(h, "GET /x HTTP/1.1\r\nHost:");
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 0);
	th_free(h);
}
END_TEST

/* bare LF line ends (RFC 9112 2.2) and obs-fold (5.2) */
START_TEST(test_lenient_syntax)
{
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  send_all_headers: true\n");
	cJSON *e;

	th_cli_s(h, "\r\n\r\nGET /lf HTTP/1.1\nHost: lf.example\nX-Fold: one\r\n  two\r\n\tthree\nBad Name: x\n"
	       "NoColon\n\n");
	th_srv_s(h, "HTTP/1.1 200\nContent-Length: 1\n\nz");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "url.domain", "lf.example");
	th_ck_str(e, "http.request.headers.x-fold", "one two three");
	th_ck_absent(e, "http.request.headers.bad name");
	th_ck_absent(e, "http.response.status_phrase");
	th_ck_num(e, "http.response.body.bytes", 1);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- delivery in pieces ---- */

static const char CONV_RQ[] =
	"GET /a/b.txt?x=1&y=two+words HTTP/1.1\r\nHost: split.example:80\r\n"
	"User-Agent: t\r\nCookie: a=1; b=\"2\"\r\n\r\n"
	"POST /form HTTP/1.1\r\nHost: split.example\r\n"
	"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\n"
	"user=bob&password=pw"
	"PUT /chunks HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
	"a\r\n0123456789\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n"
	"HEAD /h HTTP/1.0\r\n\r\n";
static const char CONV_RS[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
	"Set-Cookie: s=1\r\nSet-Cookie: t=2\r\n\r\nhello"
	"HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n"
	"HTTP/1.1 100 Continue\r\n\r\n"
	"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
	"4\r\ndone\r\n0\r\n\r\n"
	"HTTP/1.0 200 OK\r\nContent-Length: 500\r\n\r\n";

static void conv_events(size_t step, char **out, unsigned *n)
{
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  send_all_headers: true\n"
			  "  split_cookie: true\n  include_body_for: [\"text/\"]\n"
			  "  hide_keywords: [password]\n");
	unsigned i;

	h->common.send_request = h->common.send_response = 1;
	th_tcp_split(h, 0, CONV_RQ, strlen(CONV_RQ), step);
	th_tcp_split(h, 1, CONV_RS, strlen(CONV_RS), step);
	th_close(h);
	*n = h->n_ev;
	for (i = 0; i < h->n_ev && i < 8; i++)
		out[i] = timeless(h->ev[i]);
	th_free(h);
}

START_TEST(test_split_every_byte)
{
	static const size_t steps[] = { 1, 2, 3, 5, 7, 11, 13, 64, 100000 };
	char *want[8] = { 0 }, *got[8] = { 0 };
	unsigned nw, ng, i, k;
	cJSON *e;

	conv_events(100000, want, &nw);
	ck_assert_uint_eq(nw, 4);
	e = cJSON_Parse(want[0]);
	th_ck_str(e, "url.query", "x=1&y=two+words");
	th_ck_str(e, "url.full", "http://split.example/a/b.txt?x=1&y=two+words");
	th_ck_str(e, "http.request.headers.cookie.b", "2");
	/* Set-Cookie lines are joined by ", " before the split, as in
	 * Packetbeat */
	th_ck_str(e, "http.response.headers.set-cookie.s", "1, t=2");
	th_ck_str(e, "http.response.body.content", "hello");
	cJSON_Delete(e);
	e = cJSON_Parse(want[1]);
	th_ck_str(e, "url.query", "password=xxxxx&user=bob");
	cJSON_Delete(e);
	e = cJSON_Parse(want[2]);
	th_ck_num(e, "http.request.body.bytes", 13);
	th_ck_num(e, "http.response.status_code", 201);
	th_ck_num(e, "http.response.body.bytes", 4);
	cJSON_Delete(e);
	e = cJSON_Parse(want[3]);
	th_ck_str(e, "method", "HEAD");
	th_ck_num(e, "http.response.headers.content-length", 500);
	cJSON_Delete(e);
	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		conv_events(steps[k], got, &ng);
		ck_assert_msg(ng == nw, "step %zu: %u events", steps[k], ng);
		for (i = 0; i < ng; i++) {
			ck_assert_msg(strcmp(got[i], want[i]) == 0, "step %zu event %u:\n%s\n%s",
				      steps[k], i, got[i], want[i]);
			free(got[i]);
		}
	}
	for (i = 0; i < nw; i++)
		free(want[i]);
}
END_TEST

/* ---- pairing and time ---- */

START_TEST(test_unmatched_request_timeout)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "GET /slow HTTP/1.1\r\n\r\n");
	th_expire(h, 5 * SEC);
	ck_assert_uint_eq(h->n_ev, 0);
	th_expire(h, 6 * SEC);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "error.message", "Unmatched request");
	th_ck_absent(e, "http.response");
	th_ck_str(e, "url.path", "/slow");
	cJSON_Delete(e);
	/* its late response is then alone */
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 1);
	th_ck_str(e, "error.message", "Unmatched response");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.unmatched_requests, 1);
	ck_assert_uint_eq(h->st.unmatched_responses, 1);
	th_free(h);
}
END_TEST

/* not while its response is being read; and also checked on new data */
START_TEST(test_timeout_rules)
{
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  transaction_timeout: 2s\n");
	cJSON *e;

	h->common.timeout_ns = 2 * SEC;
	th_cli_s(h, "GET /long HTTP/1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab");
	th_expire(h, 60 * SEC);
	ck_assert_uint_eq(h->n_ev, 0);
	th_srv_s(h, "cd");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	th_cli_s(h, "GET /first HTTP/1.1\r\n\r\n");
	h->c.now_ns += 3 * SEC;
	th_cli_s(h, "GET /second HTTP/1.1\r\n\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_str(e, "url.path", "/first");
	th_ck_note(e, "Unmatched request");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_unmatched_request_close)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "DELETE /gone HTTP/1.1\r\n\r\nOPTIONS * HTTP/1.1\r\n\r\n");
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_str(e, "method", "DELETE");
	th_ck_note(e, "Unmatched request");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "method", "OPTIONS");
	th_ck_str(e, "url.path", "*");
	cJSON_Delete(e);
	/* close twice, as the engine and the harness may */
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	th_free(h);
}
END_TEST

START_TEST(test_unmatched_response)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_srv_s(h, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "error.message", "Unmatched response");
	th_ck_num(e, "http.response.status_code", 503);
	th_ck_num(e, "server.bytes", strlen("HTTP/1.1 503 Service Unavailable\r\n"
					       "Content-Length: 4\r\n\r\nbusy"));
	th_ck_num(e, "client.bytes", 0);
	th_ck_str(e, "client.ip", "10.0.0.1");
	th_ck_absent(e, "http.request");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- options ---- */

START_TEST(test_send_headers)
{
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  send_headers: [X-Custom, Accept]\n");
	cJSON *e;

	th_cli_s(h, "GET / HTTP/1.1\r\nHost: h\r\nX-Custom: a\r\nAccept: */*\r\nX-Custom: b\r\n"
	       "X-Other: no\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nX-Custom: r\r\nServer: s\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 0);
	th_ck_str(e, "http.request.headers.x-custom", "a, b");
	th_ck_str(e, "http.request.headers.accept", "*/*");
	th_ck_absent(e, "http.request.headers.x-other");
	th_ck_absent(e, "http.request.headers.host");
	th_ck_str(e, "http.response.headers.x-custom", "r");
	th_ck_absent(e, "http.response.headers.server");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_send_all_headers)
{
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  send_all_headers: true\n");
	cJSON *e;

	th_cli_s(h, "GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; b=2\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nSet-Cookie: x=1\r\nSet-Cookie: y=2\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 0);
	th_ck_str(e, "http.request.headers.host", "h");
	th_ck_str(e, "http.request.headers.cookie", "a=1; b=2");
	th_ck_str(e, "http.response.headers.set-cookie", "x=1, y=2");
	th_ck_num(e, "http.response.headers.content-length", 0);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_split_cookie)
{
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  send_all_headers: true\n"
			  "  split_cookie: true\n");
	cJSON *e;

	th_cli_s(h, "GET / HTTP/1.1\r\nCookie: SessionToken=\"abc\";  Multi=a=b ;invalid; x=1; X=2\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nSet-Cookie: id=7; Path=/\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 0);
	th_ck_str(e, "http.request.headers.cookie.sessiontoken", "abc");
	th_ck_str(e, "http.request.headers.cookie.multi", "a=b");
	th_ck_str(e, "http.request.headers.cookie.x", "2");
	th_ck_absent(e, "http.request.headers.cookie.invalid");
	th_ck_str(e, "http.response.headers.set-cookie.id", "7");
	th_ck_str(e, "http.response.headers.set-cookie.path", "/");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_real_ip_header)
{
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  real_ip_header: X-Forwarded-For\n");
	cJSON *e;

	th_cli_s(h, "GET / HTTP/1.1\r\nx-forwarded-for:  203.0.113.7 , 10.1.1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 0);
	th_ck_str(e, "network.forwarded_ip", "203.0.113.7");
	cJSON_Delete(e);
	th_free(h);

	h = mk(NULL);
	th_cli_s(h, "GET / HTTP/1.1\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 0);
	th_ck_absent(e, "network.forwarded_ip");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

static void body_case(const char *opts, const char *rq_ct, const char *rs_ct, int want_rq,
		      int want_rs)
{
	char yaml[256], rq[256], rs[256];
	struct th *h;
	cJSON *e;

	snprintf(yaml, sizeof(yaml), "packetbeat.protocols:\n- type: http\n%s", opts);
	h = mk(yaml);
	snprintf(rq, sizeof(rq), "PUT /n HTTP/1.1\r\nContent-Type: %s\r\nContent-Length: 12\r\n\r\n"
		 "request_body", rq_ct);
	snprintf(rs, sizeof(rs), "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: 5\r\n\r\n"
		 "done.", rs_ct);
	th_cli_s(h, rq);
	th_srv_s(h, rs);
	e = th_ev(h, 0);
	if (want_rq)
		th_ck_str(e, "http.request.body.content", "request_body");
	else
		th_ck_absent(e, "http.request.body.content");
	if (want_rs)
		th_ck_str(e, "http.response.body.content", "done.");
	else
		th_ck_absent(e, "http.response.body.content");
	th_ck_num(e, "http.request.body.bytes", 12);
	th_ck_num(e, "http.response.body.bytes", 5);
	cJSON_Delete(e);
	th_free(h);
}

START_TEST(test_include_bodies)
{
	static const char both[] =
		"  include_body_for: [both]\n"
		"  include_request_body_for: [req1, req2]\n"
		"  include_response_body_for: [resp1, resp2, resp3]\n";

	/* the cases of Packetbeat's own test */
	body_case(both, "none", "none", 0, 0);
	body_case(both, "both", "other", 1, 0);
	body_case(both, "other", "both", 0, 1);
	body_case(both, "both", "both", 1, 1);
	body_case(both, "req1", "none", 1, 0);
	body_case(both, "none", "req1", 0, 0);
	body_case(both, "req2", "resp1", 1, 1);
	body_case(both, "none", "resp2", 0, 1);
	body_case(both, "resp3", "req2", 0, 0);
	body_case("  include_body_for: \"text/\"\n", "text/plain", "image/png", 1, 0);
}
END_TEST

START_TEST(test_decode_body)
{
	static const char plain[] = "hola, the body was compressed\n";
	static const char *const codings[] = { "gzip", "x-gzip", "deflate", "deflate" };
	static const int wbits[] = { 31, 31, -15, 15 };
	uint8_t z[256];
	unsigned i;

	for (i = 0; i < 4; i++) {
		size_t zn = gzip_buf(z, sizeof(z), plain, wbits[i]);
		int decode;

		for (decode = 1; decode >= 0; decode--) {
			char yaml[256], head[256];
			struct th *h;
			cJSON *e;

			snprintf(yaml, sizeof(yaml),
				 "packetbeat.protocols:\n- type: http\n"
				 "  include_response_body_for: [\"text/plain\"]\n  decode_body: %s\n",
				 decode ? "true" : "false");
			h = mk(yaml);
			th_cli_s(h, "GET /z HTTP/1.1\r\n\r\n");
			snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				 "Content-Encoding: %s\r\nContent-Length: %zu\r\n\r\n", codings[i], zn);
			th_srv_s(h, head);
			th_tcp(h, 1, z, zn);
			e = th_ev(h, 0);
			if (decode) {
				th_ck_str(e, "http.response.body.content", plain);
				th_ck_num(e, "http.response.body.bytes", strlen(plain));
				th_ck_str(e, "http.response.mime_type", "text/plain");
			} else {
				th_ck_num(e, "http.response.body.bytes", zn);
				th_ck_num(e, "http.response.headers.content-length", zn);
			}
			th_ck_absent(e, "error");
			cJSON_Delete(e);
			th_free(h);
		}
	}
}
END_TEST

START_TEST(test_decode_chained_and_bad)
{
	static const char plain[] = "twice\n";
	uint8_t z1[128], z2[256];
	char head[256];
	size_t n1, n2;
	struct th *h;
	cJSON *e;

	/* deflate then gzip (Content-Encoding: deflate, gzip), chunked */
	n1 = gzip_buf(z1, sizeof(z1), plain, -15);
	{
		z_stream zs;

		memset(&zs, 0, sizeof(zs));
		ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
		zs.next_in = z1;
		zs.avail_in = (uInt)n1;
		zs.next_out = z2;
		zs.avail_out = sizeof(z2);
		ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
		n2 = sizeof(z2) - zs.avail_out;
		deflateEnd(&zs);
	}
	h = mk("packetbeat.protocols:\n- type: http\n  include_body_for: [\"\"]\n");
	th_cli_s(h, "GET / HTTP/1.1\r\n\r\n");
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Encoding: deflate, gzip\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", n2);
	th_srv_s(h, head);
	th_tcp(h, 1, z2, n2);
	th_srv_s(h, "\r\n0\r\n\r\n");
	e = th_ev(h, 0);
	th_ck_str(e, "http.response.body.content", plain);
	cJSON_Delete(e);
	/* an unknown coding: a note and no content */
	th_cli_s(h, "GET / HTTP/1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Encoding: sdch\r\nContent-Length: 3\r\n\r\nabc");
	e = th_ev(h, 1);
	th_ck_str(e, "error.message", "unable to decode body using sdch encoding: decoder not found");
	th_ck_absent(e, "http.response.body.content");
	cJSON_Delete(e);
	/* corrupt gzip: a note, the status stays */
	th_cli_s(h, "GET / HTTP/1.1\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 6\r\n\r\n\x1f\x8b\x08xyz");
	e = th_ev(h, 2);
	th_ck_str(e, "status", "OK");
	th_ck_str(e, "error.message",
		     "unable to decode body using gzip encoding: invalid or incomplete data");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a small bomb: the decoded body stops at the cap, with a note */
START_TEST(test_decode_bomb)
{
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  include_body_for: [\"\"]\n");
	char *plain = malloc(3u << 20);
	uint8_t *z = malloc(64u << 10);
	z_stream zs;
	size_t zn;
	char head[128];
	cJSON *e;

	memset(plain, 'A', 3u << 20);
	memset(&zs, 0, sizeof(zs));
	ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)plain;
	zs.avail_in = 3u << 20;
	zs.next_out = z;
	zs.avail_out = 64u << 10;
	ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	zn = (64u << 10) - zs.avail_out;
	deflateEnd(&zs);
	th_cli_s(h, "GET / HTTP/1.1\r\n\r\n");
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
		 "Content-Length: %zu\r\n\r\n", zn);
	th_srv_s(h, head);
	th_tcp(h, 1, z, zn);
	e = th_ev(h, 0);
	th_ck_str(e, "error.message",
		     "unable to decode body using gzip encoding: body truncated due to size limitation");
	ck_assert_int_eq((int)strlen(th_str(e, "http.response.body.content")), 1 << 20);
	cJSON_Delete(e);
	free(plain);
	free(z);
	th_free(h);
}
END_TEST

START_TEST(test_hide_keywords)
{
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  hide_keywords: [Pass, token]\n");
	cJSON *e;

	th_cli_s(h, "GET /login?user=al%20ice&pass=s3cret&Token=t&z=%zz&q=a;b&q=2 HTTP/1.1\r\n"
	       "Host: h\r\n\r\n");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 0);
	th_ck_str(e, "url.query", "Token=xxxxx&pass=xxxxx&q=2&user=al+ice");
	th_ck_str(e, "url.full", "http://h/login?Token=xxxxx&pass=xxxxx&q=2&user=al+ice");
	cJSON_Delete(e);
	/* a form body's parameters join (and override) the query's */
	th_cli_s(h, "POST /f?a=1&b=1 HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
	       "Content-Length: 16\r\n\r\nb=2&pass=x&c=3+4");
	th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 1);
	th_ck_str(e, "url.query", "a=1&b=2&c=3+4&pass=xxxxx");
	th_ck_absent(e, "http.request.body.content");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_basic_auth_and_redaction)
{
	static const char rq[] =
		"GET /private HTTP/1.1\r\nHost: h\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"
		"Proxy-Authorization: Basic eDp5\r\nX-Secret: hush\r\n\r\n";
	struct th *h = mk("packetbeat.protocols:\n- type: http\n  send_all_headers: true\n");
	cJSON *e;

	th_cli_s(h, rq);
	th_srv_s(h, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 0);
	th_ck_str(e, "user.name", "user");
	th_ck_str(e, "url.username", "user");
	th_ck_str(e, "http.request.headers.authorization", "Basic dXNlcjpwYXNz");
	th_ck_str(e, "status", "Error");
	cJSON_Delete(e);
	th_free(h);

	h = mk("packetbeat.protocols:\n- type: http\n  send_all_headers: true\n"
	       "  redact_authorization: true\n  redact_headers: [x-secret]\n");
	h->common.send_request = 1;
	th_cli_s(h, rq);
	th_srv_s(h, "HTTP/1.1 200 OK\r\nX-Secret: out\r\nContent-Length: 0\r\n\r\n");
	e = th_ev(h, 0);
	th_ck_absent(e, "user");
	th_ck_absent(e, "url.username");
	th_ck_str(e, "http.request.headers.authorization", "*");
	th_ck_str(e, "http.request.headers.proxy-authorization", "*");
	th_ck_str(e, "http.request.headers.x-secret", "REDACTED");
	th_ck_str(e, "http.response.headers.x-secret", "REDACTED");
	th_ck_str(e, "request",
		     "GET /private HTTP/1.1\r\nHost: h\r\nAuthorization:*******************\r\n"
		     "Proxy-Authorization:***********\r\nX-Secret: hush\r\n\r\n");
	th_ck_absent(e, "response");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_send_request_response)
{
	static const char rq[] = "POST / HTTP/1.1\r\n\r\n";
	static const char rs[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n";
	struct th *h = mk(NULL);
	cJSON *e;

	h->common.send_request = h->common.send_response = 1;
	th_cli_s(h, rq);
	th_srv_s(h, rs);
	th_srv_s(h, "not found");
	e = th_ev(h, 0);
	th_ck_str(e, "request", rq);
	th_ck_str(e, "response", rs);
	cJSON_Delete(e);
	th_free(h);

	/* with the body included, the raw text carries it */
	h = mk("packetbeat.protocols:\n- type: http\n  include_body_for: [\"\"]\n");
	h->common.send_response = 1;
	th_cli_s(h, rq);
	th_srv_s(h, rs);
	th_srv_s(h, "not found");
	e = th_ev(h, 0);
	th_ck_str(e, "response", "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found");
	th_ck_absent(e, "request");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_host_forms)
{
	static const struct {
		const char *host;
		uint16_t sport;
		const char *domain, *full;
		int port, mismatch;
		const char *server_domain;
	} c[] = {
		{ "elasticsearch", 80, "elasticsearch", "http://elasticsearch/x", 0, 0, "elasticsearch" },
		{ "elasticsearch:9200", 9200, "elasticsearch", "http://elasticsearch:9200/x", 9200, 0,
		  "elasticsearch" },
		{ "127.0.0.1", 80, "127.0.0.1", "http://127.0.0.1/x", 0, 0, NULL },
		{ "127.0.0.1:9200", 9200, "127.0.0.1", "http://127.0.0.1:9200/x", 9200, 0, NULL },
		{ "fd00::42", 80, "fd00::42", "http://[fd00::42]/x", 0, 0, NULL },
		{ "[::1]:8080", 80, "::1", "http://[::1]:8080/x", 8080, 1, NULL },
		{ "myhost:9200", 80, "myhost", "http://myhost:9200/x", 9200, 1, "myhost" },
		{ "h:0", 8000, "h:0", "http://[h:0]:8000/x", 8000, 0, "h:0" },
	};
	unsigned i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct th *h = mk_port(NULL, c[i].sport);
		char rq[128];
		cJSON *e;

		snprintf(rq, sizeof(rq), "HEAD /x HTTP/1.1\r\nHost: %s\r\n\r\n", c[i].host);
		th_cli_s(h, rq);
		th_close(h);
		e = th_ev(h, 0);
		th_ck_str(e, "url.domain", c[i].domain);
		th_ck_str(e, "url.full", c[i].full);
		if (c[i].port)
			th_ck_num(e, "url.port", c[i].port);
		else
			th_ck_absent(e, "url.port");
		if (c[i].server_domain)
			th_ck_str(e, "server.domain", c[i].server_domain);
		else
			th_ck_absent(e, "server.domain");
		ck_assert_int_eq(has_note(e, "Host header port number mismatch"), c[i].mismatch);
		th_ck_note(e, "Unmatched request");
		cJSON_Delete(e);
		th_free(h);
	}
}
END_TEST

START_TEST(test_targets)
{
	static const struct {
		const char *target, *path, *query, *ext;
	} c[] = {
		{ "/a%20b/c.tar.gz?k=v#frag", "/a b/c.tar.gz", "k=v", "gz" },
		{ "http://proxy.example/p/q?x=1", "/p/q", "x=1", NULL },
		{ "/dir.d/file", "/dir.d/file", NULL, NULL },
		{ "/bad%zzescape?a=1", NULL, NULL, NULL },
		{ "/x?flag", "/x", "flag=", NULL },
		{ "/caf%C3%A9", "/caf\xc3\xa9", NULL, NULL },
	};
	unsigned i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct th *h = mk(NULL);
		char rq[256];
		cJSON *e;

		snprintf(rq, sizeof(rq), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", c[i].target);
		th_cli_s(h, rq);
		th_srv_s(h, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
		e = th_ev(h, 0);
		if (c[i].path)
			th_ck_str(e, "url.path", c[i].path);
		else
			th_ck_absent(e, "url.path");
		if (c[i].query)
			th_ck_str(e, "url.query", c[i].query);
		else
			th_ck_absent(e, "url.query");
		if (c[i].ext)
			th_ck_str(e, "url.extension", c[i].ext);
		else
			th_ck_absent(e, "url.extension");
		cJSON_Delete(e);
		th_free(h);
	}
}
END_TEST

START_TEST(test_mime_types)
{
	static const struct {
		const char *body;
		size_t n;
		const char *mime;
	} c[] = {
		{ "\x89PNG\r\n\x1a\n\0\0", 10, "image/png" },
		{ "GIF89a....", 10, "image/gif" },
		{ "%PDF-1.7\n", 9, "application/pdf" },
		{ "  <!DOCTYPE html><p>", 20, "text/html" },
		{ "<?xml version", 13, "text/xml" },
		{ "\x00\x01\x02" "binary", 9, "application/octet-stream" },
		{ "{\"json\":true}", 13, "text/plain" },
	};
	unsigned i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct th *h = mk(NULL);
		char head[128];
		cJSON *e;

		th_cli_s(h, "GET / HTTP/1.1\r\n\r\n");
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			 "Content-Length: %zu\r\n\r\n", c[i].n);
		th_srv_s(h, head);
		th_tcp(h, 1, c[i].body, c[i].n);
		e = th_ev(h, 0);
		th_ck_str(e, "http.response.mime_type", c[i].mime);
		th_ck_absent(e, "http.request.mime_type");
		cJSON_Delete(e);
		th_free(h);
	}
}
END_TEST

START_TEST(test_methods)
{
	static const char *const m[] = { "get", "PROPFIND", "BREW", "M-SEARCH", "PATCH" };
	unsigned i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		struct th *h = mk(NULL);
		char rq[128];
		cJSON *e;

		snprintf(rq, sizeof(rq), "%s /pot HTTP/1.1\r\n\r\n", m[i]);
		th_cli_s(h, rq);
		th_srv_s(h, "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n");
		e = th_ev(h, 0);
		th_ck_str(e, "method", m[i]);
		th_ck_str(e, "http.request.method", m[i]);
		th_ck_str(e, "http.response.status_phrase", "i'm a teapot");
		cJSON_Delete(e);
		th_free(h);
	}
}
END_TEST

/* responses flowing the other way round: endpoint 1 is the client */
START_TEST(test_reverse_direction)
{
	struct th *h = mk_port(NULL, 80);
	cJSON *e;

	th_tcp(h, 1, "GET /rev HTTP/1.1\r\n\r\n", 21);
	th_tcp(h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
	e = th_ev(h, 0);
	th_ck_str(e, "client.ip", "10.0.0.2");
	th_ck_num(e, "client.port", 80);
	th_ck_str(e, "url.path", "/rev");
	th_ck_num(e, "url.port", 40000);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_conf_errors)
{
	ck_assert_int_eq(th_conf_rc(http(), "packetbeat.protocols:\n- type: http\n  send_all_headers: maybe\n"),
			 -1);
	ck_assert_int_eq(th_conf_rc(http(), "packetbeat.protocols:\n- type: http\n  send_headers: {a: 1}\n"),
			 -1);
	ck_assert_int_eq(th_conf_rc(http(), "packetbeat.protocols:\n- type: http\n  hide_keywords: [[x]]\n"),
			 -1);
	ck_assert_int_eq(th_conf_rc(http(), "packetbeat.protocols:\n- type: http\n  decode_body: 3\n"), -1);
	ck_assert_int_eq(th_conf_rc(http(), "packetbeat.protocols:\n- type: http\n  real_ip_header: "
				 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"),
			 -1);
	ck_assert_int_eq(th_conf_rc(http(), "packetbeat.protocols:\n- type: http\n  send_headers:\n"
				 "  redact_headers: single\n  split_cookie: false\n"),
			 0);
}
END_TEST

/* random bytes, fragments of HTTP, random splits and gaps: nothing may
 * crash, over-read (run under ASan) or loop */
START_TEST(test_hostile_mix)
{
	static const char *const frag[] = {
		"GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n",
		"Transfer-Encoding: chunked\r\n", "\r\n", "5\r\nhello\r\n", "0\r\n\r\n",
		"Content-Length: 99999999999999999999\r\n", "HEAD /x HTTP/1.0\r\n",
		"HTTP/1.1 101 Switching\r\n", "Host: [::1]:99999\r\n", "\n", "ffffffff\r\n",
		"Content-Encoding: gzip\r\n", "\x1f\x8b\x08\x00", "Cookie: a=\"\r\n",
		"Authorization: Basic !!!!\r\n", "X: \x80\xff\r\n", "CONNECT a:1 HTTP/1.1\r\n",
		"HTTP/1.1 100 Continue\r\n", "Content-Type: x-www-form-urlencoded\r\n",
		"a=%&b=%2&c=%zz", "GET /?a=1;b=2 HTTP/1.1\r\n",
	};
	uint32_t seed = 12345;
	int round;

	for (round = 0; round < 300; round++) {
		struct th *h = mk("packetbeat.protocols:\n- type: http\n  send_all_headers: true\n"
				  "  split_cookie: true\n  include_body_for: [\"\"]\n"
				  "  hide_keywords: [a]\n  real_ip_header: host\n");
		int k;

		h->common.send_request = h->common.send_response = 1;
		h->c.mid_stream[0] = (uint8_t)(round & 1);
		for (k = 0; k < 60; k++) {
			uint8_t buf[96];
			size_t n;
			int dir;

			seed = seed * 1103515245u + 12345u;
			dir = (int)(seed >> 16) & 1;
			if ((seed >> 8) % 7 == 0) {
				size_t i;

				n = (seed >> 4) % sizeof(buf);
				for (i = 0; i < n; i++) {
					seed = seed * 1103515245u + 12345u;
					buf[i] = (uint8_t)(seed >> 16);
				}
				th_tcp_split(h, dir, buf, n, 1 + (seed >> 20) % 5);
			} else if ((seed >> 8) % 13 == 0) {
				th_gap(h, dir, (seed >> 12) % 50);
			} else if ((seed >> 8) % 29 == 0) {
				th_expire(h, 20 * SEC);
			} else {
				const char *f = frag[(seed >> 16) % (sizeof(frag) / sizeof(frag[0]))];

				th_tcp_split(h, dir, f, strlen(f), 1 + (seed >> 24) % 9);
			}
		}
		th_fin(h, 0);
		th_fin(h, 1);
		th_close(h);
		ck_assert_uint_le(h->n_ev, TH_MAX_EVENTS);
		th_free(h);
	}
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *t = tcase_create("framing");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_get_content_length);
	tcase_add_test(t, test_times);
	tcase_add_test(t, test_chunked_trailers);
	tcase_add_test(t, test_chunked_request);
	tcase_add_test(t, test_close_delimited);
	tcase_add_test(t, test_head);
	tcase_add_test(t, test_204_304);
	tcase_add_test(t, test_100_continue);
	tcase_add_test(t, test_stray_100);
	tcase_add_test(t, test_early_response);
	tcase_add_test(t, test_pipelined);
	tcase_add_test(t, test_pipeline_cap);
	tcase_add_test(t, test_upgrade);
	tcase_add_test(t, test_connect);
	tcase_add_test(t, test_h2_preface);
	tcase_add_test(t, test_mid_stream);
	tcase_add_test(t, test_mid_stream_response_only);
	tcase_add_test(t, test_lenient_syntax);
	tcase_add_test(t, test_split_every_byte);
	tcase_add_test(t, test_methods);
	tcase_add_test(t, test_reverse_direction);
	suite_add_tcase(s, t);

	t = tcase_create("gaps");
	tcase_add_test(t, test_gap_in_body);
	tcase_add_test(t, test_gap_in_request_body);
	tcase_add_test(t, test_gap_past_body);
	tcase_add_test(t, test_gap_close_delimited);
	tcase_add_test(t, test_gap_in_chunks);
	tcase_add_test(t, test_gap_in_headers);
	suite_add_tcase(s, t);

	t = tcase_create("hostile");
	tcase_set_timeout(t, 300);
	tcase_add_test(t, test_bad_content_length);
	tcase_add_test(t, test_content_length_forms);
	tcase_add_test(t, test_huge_content_length);
	tcase_add_test(t, test_bad_chunks);
	tcase_add_test(t, test_transfer_encoding_forms);
	tcase_add_test(t, test_head_too_large);
	tcase_add_test(t, test_start_line_too_long);
	tcase_add_test(t, test_many_fields);
	tcase_add_test(t, test_not_http);
	tcase_add_test(t, test_truncated_at_end);
	tcase_add_test(t, test_hostile_mix);
	suite_add_tcase(s, t);

	t = tcase_create("pairing");
	tcase_add_test(t, test_unmatched_request_timeout);
	tcase_add_test(t, test_timeout_rules);
	tcase_add_test(t, test_unmatched_request_close);
	tcase_add_test(t, test_unmatched_response);
	suite_add_tcase(s, t);

	t = tcase_create("options");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_send_headers);
	tcase_add_test(t, test_send_all_headers);
	tcase_add_test(t, test_split_cookie);
	tcase_add_test(t, test_real_ip_header);
	tcase_add_test(t, test_include_bodies);
	tcase_add_test(t, test_decode_body);
	tcase_add_test(t, test_decode_chained_and_bad);
	tcase_add_test(t, test_decode_bomb);
	tcase_add_test(t, test_hide_keywords);
	tcase_add_test(t, test_basic_auth_and_redaction);
	tcase_add_test(t, test_send_request_response);
	tcase_add_test(t, test_host_forms);
	tcase_add_test(t, test_targets);
	tcase_add_test(t, test_mime_types);
	tcase_add_test(t, test_conf_errors);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(http_suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
