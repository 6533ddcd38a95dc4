/*
 * check_icmp.c - the ICMP/ICMPv6 transaction parser (proto/icmp.c) driven
 * as the engine drives it: echo pairs over IPv4 and IPv6, interleaved
 * sequences, replies without requests, requests that time out or are
 * left at close, duplicate requests, errors emitted alone, truncated
 * messages, timestamp / information / mask pairs, every message string,
 * the Community ID of a hand-computed case, the pending cap and hostile
 * input.
 *
 * Endpoint 0 is 10.0.0.1 (or ::1), endpoint 1 is 10.0.0.2 (or ::2); every
 * datagram is one packet, one microsecond after the one before.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txnharness.h"

extern const struct pb_proto pb_proto_icmp;

#define SEC INT64_C(1000000000)
#define T0 (INT64_C(1700000000) * SEC)

/* Packetbeat's notes */
#define NOTE_DUP "Another request with the same Id and Seq was received so this " \
		 "request was closed without receiving a response."
#define NOTE_NOREPLY "Request was received without an associated response."
#define NOTE_NOREQ "Response was received without an associated request."

/* An ICMP message: type, code, checksum 0, id, seq, then n data bytes. */
static size_t mk(uint8_t *b, uint8_t type, uint8_t code, uint16_t id, uint16_t seq,
		 size_t n)
{
	size_t i;

	b[0] = type;
	b[1] = code;
	b[2] = 0xbe;
	b[3] = 0xef;
	b[4] = (uint8_t)(id >> 8);
	b[5] = (uint8_t)id;
	b[6] = (uint8_t)(seq >> 8);
	b[7] = (uint8_t)seq;
	for (i = 0; i < n; i++)
		b[8 + i] = (uint8_t)(0x61 + i % 26);
	return 8 + n;
}

/* a message from endpoint dir */
static void send_msg(struct th *h, int dir, uint8_t type, uint8_t code, uint16_t id,
		     uint16_t seq, size_t n)
{
	uint8_t b[8 + 256];

	th_datagram(h, dir, b, mk(b, type, code, id, seq, n));
}

static struct th *new4(void)
{
	return th_new(&pb_proto_icmp, 1, 0, 0);
}

/* ::1 and ::2, as Packetbeat's icmp6 ping test */
static struct th *new6(void)
{
	struct th *h = th_new(&pb_proto_icmp, 58, 0, 0);

	h->c.family = 6;
	memset(h->c.addr, 0, sizeof(h->c.addr));
	h->c.addr[0][15] = 1;
	h->c.addr[1][15] = 2;
	return h;
}

static void ck_str(const cJSON *e, const char *path, const char *want)
{
	const char *got = th_str(e, path);

	ck_assert_msg(got != NULL, "%s missing", path);
	ck_assert_str_eq(got, want);
}

static void ck_num(const cJSON *e, const char *path, double want)
{
	ck_assert_msg(th_num(e, path) == want, "%s: %g, want %g", path,
		      th_num(e, path), want);
}

static void ck_absent(const cJSON *e, const char *path)
{
	ck_assert_msg(th_get(e, path) == NULL, "%s present", path);
}

/* event.type is ["connection"] only */
static void ck_connection_only(const cJSON *e)
{
	const cJSON *t = th_get(e, "event.type");

	ck_assert(cJSON_IsArray(t));
	ck_assert_int_eq(cJSON_GetArraySize(t), 1);
	ck_assert_str_eq(cJSON_GetArrayItem(t, 0)->valuestring, "connection");
}

START_TEST(test_echo_v4)
{
	struct th *h = new4();
	cJSON *e;

	send_msg(h, 0, 8, 0, 0x1234, 1, 4);      /* packet 2 */
	ck_assert_uint_eq(h->n_ev, 0);
	send_msg(h, 1, 0, 0, 0x1234, 1, 4);      /* packet 3 */
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_assert_ptr_nonnull(e);
	ck_str(e, "@timestamp", "2023-11-14T22:13:20.000001Z");
	ck_str(e, "type", "icmp");
	ck_str(e, "event.kind", "event");
	ck_str(e, "event.dataset", "icmp");
	ck_connection_only(e);
	ck_str(e, "event.start", "2023-11-14T22:13:20.000001Z");
	ck_str(e, "event.end", "2023-11-14T22:13:20.000002Z");
	ck_num(e, "event.duration", 1000);
	ck_str(e, "status", "OK");
	ck_str(e, "path", "10.0.0.2");
	ck_str(e, "client.ip", "10.0.0.1");
	ck_str(e, "server.ip", "10.0.0.2");
	ck_str(e, "source.ip", "10.0.0.1");
	ck_str(e, "destination.ip", "10.0.0.2");
	ck_absent(e, "client.port");
	ck_absent(e, "server.port");
	/* the data after the 8-byte header: Packetbeat's 4 in its ping tests */
	ck_num(e, "client.bytes", 4);
	ck_num(e, "server.bytes", 4);
	ck_num(e, "network.bytes", 8);
	ck_str(e, "network.type", "ipv4");
	ck_str(e, "network.transport", "icmp");
	ck_str(e, "network.iana_number", "1");
	ck_str(e, "network.protocol", "icmp");
	ck_num(e, "icmp.version", 4);
	ck_str(e, "icmp.request.message", "EchoRequest");
	ck_num(e, "icmp.request.type", 8);
	ck_num(e, "icmp.request.code", 0);
	ck_str(e, "icmp.response.message", "EchoReply");
	ck_num(e, "icmp.response.type", 0);
	ck_num(e, "icmp.response.code", 0);
	ck_absent(e, "error");
	ck_num(e, "pb.packet.first", 2);
	ck_num(e, "pb.packet.last", 3);
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.transactions, 1);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	th_free(h);
}
END_TEST

START_TEST(test_echo_v6)
{
	struct th *h = new6();
	cJSON *e;

	send_msg(h, 0, 128, 0, 7, 1, 4);
	send_msg(h, 1, 129, 0, 7, 1, 4);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_str(e, "status", "OK");
	ck_str(e, "path", "::2");
	ck_str(e, "client.ip", "::1");
	ck_str(e, "server.ip", "::2");
	ck_str(e, "network.type", "ipv6");
	ck_str(e, "network.transport", "ipv6-icmp");
	ck_str(e, "network.iana_number", "58");
	ck_connection_only(e);
	ck_num(e, "icmp.version", 6);
	ck_str(e, "icmp.request.message", "EchoRequest");
	ck_num(e, "icmp.request.type", 128);
	ck_num(e, "icmp.request.code", 0);
	ck_str(e, "icmp.response.message", "EchoReply");
	ck_num(e, "icmp.response.type", 129);
	ck_num(e, "icmp.response.code", 0);
	ck_num(e, "client.bytes", 4);
	ck_num(e, "server.bytes", 4);
	ck_absent(e, "error");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* three pings in flight, answered out of order: each pairs by sequence */
START_TEST(test_interleaved)
{
	struct th *h = new4();
	cJSON *e;

	send_msg(h, 0, 8, 0, 9, 1, 10);          /* packet 2 */
	send_msg(h, 0, 8, 0, 9, 2, 20);          /* packet 3 */
	send_msg(h, 0, 8, 0, 9, 3, 30);          /* packet 4 */
	send_msg(h, 1, 0, 0, 9, 2, 21);          /* packet 5 */
	send_msg(h, 1, 0, 0, 9, 3, 31);          /* packet 6 */
	send_msg(h, 1, 0, 0, 9, 1, 11);          /* packet 7 */
	ck_assert_uint_eq(h->n_ev, 3);

	e = th_event(h, 0);
	ck_num(e, "pb.packet.first", 3);
	ck_num(e, "pb.packet.last", 5);
	ck_num(e, "client.bytes", 20);
	ck_num(e, "server.bytes", 21);
	ck_num(e, "event.duration", 2000);
	ck_str(e, "status", "OK");
	cJSON_Delete(e);
	e = th_event(h, 1);
	ck_num(e, "pb.packet.first", 4);
	ck_num(e, "pb.packet.last", 6);
	ck_num(e, "client.bytes", 30);
	cJSON_Delete(e);
	e = th_event(h, 2);
	ck_num(e, "pb.packet.first", 2);
	ck_num(e, "pb.packet.last", 7);
	ck_num(e, "server.bytes", 11);
	ck_num(e, "event.duration", 5000);
	cJSON_Delete(e);

	/* a reply with the right sequence but another id pairs with nothing */
	send_msg(h, 0, 8, 0, 9, 4, 0);
	send_msg(h, 1, 0, 0, 10, 4, 0);
	ck_assert_uint_eq(h->n_ev, 4);
	e = th_event(h, 3);
	ck_str(e, "error.message", NOTE_NOREQ);
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 5);
	ck_assert_uint_eq(h->st.transactions, 3);
	ck_assert_uint_eq(h->st.unmatched_requests, 1);
	ck_assert_uint_eq(h->st.unmatched_responses, 1);
	th_free(h);
}
END_TEST

/* Packetbeat reverses the tuple: the client is the end the reply went to */
START_TEST(test_reply_without_request)
{
	struct th *h = new4();
	cJSON *e;

	send_msg(h, 1, 0, 0, 5, 5, 4);           /* from 10.0.0.2 */
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_str(e, "status", "Error");
	ck_str(e, "error.message", NOTE_NOREQ);
	ck_str(e, "client.ip", "10.0.0.1");
	ck_str(e, "server.ip", "10.0.0.2");
	ck_str(e, "path", "10.0.0.2");
	ck_absent(e, "icmp.request");
	ck_str(e, "icmp.response.message", "EchoReply");
	ck_num(e, "client.bytes", 0);
	ck_num(e, "server.bytes", 4);
	ck_str(e, "@timestamp", "2023-11-14T22:13:20.000001Z");
	ck_str(e, "event.end", "2023-11-14T22:13:20.000001Z");
	ck_num(e, "event.duration", 0);
	cJSON_Delete(e);

	/* the same from the other end */
	send_msg(h, 0, 0, 0, 5, 6, 4);
	e = th_event(h, 1);
	ck_str(e, "client.ip", "10.0.0.2");
	ck_str(e, "path", "10.0.0.1");
	cJSON_Delete(e);

	/* a reply in the request's own direction answers nothing */
	send_msg(h, 0, 8, 0, 5, 7, 0);
	send_msg(h, 0, 0, 0, 5, 7, 0);
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_event(h, 2);
	ck_str(e, "error.message", NOTE_NOREQ);
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.unmatched_responses, 3);
	th_free(h);
}
END_TEST

START_TEST(test_timeout)
{
	struct th *h = new4();
	cJSON *e;

	send_msg(h, 0, 8, 0, 1, 1, 56);          /* packet 2, T0 + 1 us */
	th_expire(h, 5 * SEC);
	ck_assert_uint_eq(h->n_ev, 0);
	th_expire(h, 5 * SEC);                    /* exactly 10 s old: kept */
	ck_assert_uint_eq(h->n_ev, 0);
	th_expire(h, 1);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_str(e, "status", "Error");
	ck_str(e, "error.message", NOTE_NOREPLY);
	ck_str(e, "icmp.request.message", "EchoRequest");
	ck_absent(e, "icmp.response");
	ck_num(e, "client.bytes", 56);
	ck_num(e, "server.bytes", 0);
	ck_str(e, "event.start", "2023-11-14T22:13:20.000001Z");
	ck_absent(e, "event.end");  /* unanswered: no end */
	ck_num(e, "pb.packet.first", 2);
	ck_num(e, "pb.packet.last", 2);
	cJSON_Delete(e);
	/* its late reply is then an orphan */
	send_msg(h, 1, 0, 0, 1, 1, 56);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_event(h, 1);
	ck_str(e, "error.message", NOTE_NOREQ);
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	ck_assert_uint_eq(h->st.unmatched_requests, 1);
	th_free(h);
}
END_TEST

/* the configured transaction_timeout, and only the old ones go */
START_TEST(test_timeout_configured)
{
	struct th *h = new4();

	h->common.timeout_ns = SEC;
	send_msg(h, 0, 8, 0, 1, 1, 0);
	th_expire(h, SEC / 2);
	send_msg(h, 0, 8, 0, 1, 2, 0);
	th_expire(h, SEC / 2 + 1);
	ck_assert_uint_eq(h->n_ev, 1);
	th_expire(h, SEC / 2);
	ck_assert_uint_eq(h->n_ev, 2);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	th_free(h);
}
END_TEST

START_TEST(test_close_flushes)
{
	struct th *h = new4();
	cJSON *e;

	send_msg(h, 0, 8, 0, 3, 1, 0);
	send_msg(h, 1, 13, 0, 3, 2, 12);         /* the other end asks too */
	ck_assert_uint_eq(h->n_ev, 0);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_event(h, 0);
	ck_str(e, "status", "Error");
	ck_str(e, "error.message", NOTE_NOREPLY);
	ck_str(e, "client.ip", "10.0.0.1");
	cJSON_Delete(e);
	e = th_event(h, 1);
	ck_str(e, "icmp.request.message", "TimestampRequest");
	ck_str(e, "client.ip", "10.0.0.2");
	ck_str(e, "path", "10.0.0.1");
	cJSON_Delete(e);
	ck_assert_uint_eq(h->st.unmatched_requests, 2);
	/* a second close has nothing left */
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	th_free(h);
}
END_TEST

START_TEST(test_duplicate_request)
{
	struct th *h = new4();
	cJSON *e;

	send_msg(h, 0, 8, 0, 4, 1, 4);           /* packet 2 */
	send_msg(h, 0, 8, 0, 4, 1, 4);           /* packet 3: same id and seq */
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_str(e, "status", "Error");
	ck_str(e, "error.message", NOTE_DUP);
	ck_num(e, "pb.packet.first", 2);
	ck_absent(e, "icmp.response");
	cJSON_Delete(e);
	send_msg(h, 1, 0, 0, 4, 1, 4);           /* packet 4 */
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_event(h, 1);
	ck_str(e, "status", "OK");
	ck_num(e, "pb.packet.first", 3);
	ck_num(e, "pb.packet.last", 4);
	ck_absent(e, "error");
	cJSON_Delete(e);
	/* the same id and seq from the other end is no duplicate */
	send_msg(h, 0, 8, 0, 4, 2, 0);
	send_msg(h, 1, 8, 0, 4, 2, 0);
	ck_assert_uint_eq(h->n_ev, 2);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 4);
	th_free(h);
}
END_TEST

/* messages without a reply type: one event each, at once */
START_TEST(test_errors_alone)
{
	struct th *h = new4();
	uint8_t b[8 + 28 + 41];
	cJSON *e;

	/* 10.0.0.2 says port 53 is unreachable, quoting the IP/UDP/DNS query
	 * (20 + 8 + 41 bytes, as in samples/icmp.pcap) */
	memset(b, 0, sizeof(b));
	b[0] = 3;
	b[1] = 3;
	b[8] = 0x45;
	b[17] = 17;
	th_datagram(h, 1, b, sizeof(b));
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_str(e, "status", "Error");
	ck_str(e, "icmp.request.message", "DestinationUnreachable(Port)");
	ck_num(e, "icmp.request.type", 3);
	ck_num(e, "icmp.request.code", 3);
	ck_absent(e, "icmp.response");
	ck_absent(e, "error");
	ck_str(e, "client.ip", "10.0.0.2");
	ck_str(e, "path", "10.0.0.1");
	ck_num(e, "client.bytes", 69);
	ck_num(e, "server.bytes", 0);
	/* alone, no response: no end, no duration (as Packetbeat) */
	ck_absent(e, "event.duration");
	ck_absent(e, "event.end");
	cJSON_Delete(e);

	/* a redirect is no error: status OK */
	send_msg(h, 0, 5, 1, 0, 0, 28);
	e = th_event(h, 1);
	ck_str(e, "status", "OK");
	ck_str(e, "icmp.request.message", "Redirect(Host)");
	cJSON_Delete(e);
	/* time exceeded and source quench are */
	send_msg(h, 1, 11, 0, 0, 0, 28);
	e = th_event(h, 2);
	ck_str(e, "status", "Error");
	ck_str(e, "icmp.request.message", "TimeExceeded(TTLExceeded)");
	cJSON_Delete(e);
	send_msg(h, 1, 4, 0, 0, 0, 28);
	e = th_event(h, 3);
	ck_str(e, "status", "Error");
	cJSON_Delete(e);
	/* router discovery: both alone, OK */
	send_msg(h, 0, 10, 0, 0, 0, 0);
	send_msg(h, 1, 9, 0, 0, 0, 8);
	ck_assert_uint_eq(h->n_ev, 6);
	e = th_event(h, 5);
	ck_str(e, "status", "OK");
	ck_str(e, "icmp.request.message", "RouterAdvertisement");
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 6);
	th_free(h);
}
END_TEST

/* ICMPv6: errors alone; neighbour and router discovery are not paired */
START_TEST(test_v6_alone)
{
	struct th *h = new6();
	cJSON *e;

	send_msg(h, 1, 1, 4, 0, 0, 48);
	e = th_event(h, 0);
	ck_str(e, "status", "Error");
	ck_str(e, "icmp.request.message", "DestinationUnreachable(PortUnreachable)");
	ck_str(e, "client.ip", "::2");
	cJSON_Delete(e);
	send_msg(h, 0, 2, 0, 0, 1280, 48);
	e = th_event(h, 1);
	ck_str(e, "status", "Error");
	ck_str(e, "icmp.request.message", "PacketTooBig");
	cJSON_Delete(e);
	send_msg(h, 0, 135, 0, 0, 0, 16);
	send_msg(h, 1, 136, 0, 0x6000, 0, 16);
	send_msg(h, 0, 133, 0, 0, 0, 0);
	send_msg(h, 1, 134, 0, 0x4000, 0x0708, 8);
	ck_assert_uint_eq(h->n_ev, 6);
	e = th_event(h, 3);
	ck_str(e, "status", "OK");
	ck_str(e, "icmp.request.message", "NeighborAdvertisement");
	ck_str(e, "client.ip", "::2");
	ck_absent(e, "icmp.response");
	ck_absent(e, "error");
	cJSON_Delete(e);
	e = th_event(h, 5);
	ck_str(e, "icmp.request.message", "RouterAdvertisement");
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 6);
	th_free(h);
}
END_TEST

/* fewer than 8 bytes: no id and sequence; dropped and counted */
START_TEST(test_truncated)
{
	struct th *h = new4();
	uint8_t b[16];
	size_t n;

	mk(b, 8, 0, 1, 1, 0);
	for (n = 0; n <= 7; n++)
		th_datagram(h, 0, b, n);
	ck_assert_uint_eq(h->n_ev, 0);
	ck_assert_uint_eq(h->st.parse_errors, 8);
	mk(b, 3, 1, 0, 0, 0);
	th_datagram(h, 1, b, 1);
	th_datagram(h, 1, b, 2);
	th_datagram(h, 1, b, 3);
	ck_assert_uint_eq(h->n_ev, 0);
	th_datagram(h, 1, NULL, 0);
	ck_assert_uint_eq(h->st.parse_errors, 12);
	/* exactly the header: a request with no data, answered */
	th_datagram(h, 0, b, mk(b, 8, 0, 1, 1, 0));
	th_datagram(h, 1, b, mk(b, 0, 0, 1, 1, 0));
	ck_assert_uint_eq(h->n_ev, 1);
	{
		cJSON *e = th_event(h, 0);

		ck_num(e, "client.bytes", 0);
		ck_num(e, "server.bytes", 0);
		ck_str(e, "status", "OK");
		cJSON_Delete(e);
	}
	th_close(h);
	ck_assert_uint_eq(h->st.parse_errors, 12);
	th_free(h);
}
END_TEST

START_TEST(test_timestamp_pair)
{
	struct th *h = new4();
	cJSON *e;

	send_msg(h, 0, 13, 0, 0x22, 3, 12);      /* originate, receive, transmit */
	send_msg(h, 1, 14, 0, 0x22, 3, 12);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_str(e, "status", "OK");
	ck_str(e, "icmp.request.message", "TimestampRequest");
	ck_num(e, "icmp.request.type", 13);
	ck_str(e, "icmp.response.message", "TimestampReply");
	ck_num(e, "icmp.response.type", 14);
	ck_num(e, "client.bytes", 12);
	ck_num(e, "server.bytes", 12);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_info_and_mask_pairs)
{
	struct th *h = new4();
	cJSON *e;

	send_msg(h, 0, 15, 0, 1, 1, 0);
	send_msg(h, 1, 16, 0, 1, 1, 0);
	send_msg(h, 0, 17, 0, 2, 1, 4);
	send_msg(h, 1, 18, 0, 2, 1, 4);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_event(h, 0);
	ck_str(e, "icmp.request.message", "InfoRequest");
	ck_str(e, "icmp.response.message", "InfoReply");
	cJSON_Delete(e);
	e = th_event(h, 1);
	ck_str(e, "icmp.request.message", "AddressMaskRequest");
	ck_str(e, "icmp.response.message", "AddressMaskReply");
	ck_str(e, "status", "OK");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* a host pinging itself: both ends have one address */
START_TEST(test_ping_self)
{
	struct th *h = new4();
	cJSON *e;

	memcpy(h->c.addr[1], h->c.addr[0], 4);
	send_msg(h, 0, 8, 0, 1, 1, 4);
	send_msg(h, 0, 0, 0, 1, 1, 4);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_str(e, "status", "OK");
	ck_str(e, "path", "10.0.0.1");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* Every message string, as Packetbeat 8 writes it (gopacket's names). */
struct msgcase {
	int v6;
	uint8_t type, code;
	const char *want;
	const char *status;      /* of the event the message is alone in */
};

static const struct msgcase msgcases[] = {
	{ 0, 0, 0, "EchoReply", "Error" },
	{ 0, 0, 3, "EchoReply(Code: 3)", "Error" },
	{ 0, 3, 0, "DestinationUnreachable(Net)", "Error" },
	{ 0, 3, 1, "DestinationUnreachable(Host)", "Error" },
	{ 0, 3, 2, "DestinationUnreachable(Protocol)", "Error" },
	{ 0, 3, 3, "DestinationUnreachable(Port)", "Error" },
	{ 0, 3, 4, "DestinationUnreachable(FragmentationNeeded)", "Error" },
	{ 0, 3, 5, "DestinationUnreachable(SourceRoutingFailed)", "Error" },
	{ 0, 3, 6, "DestinationUnreachable(NetUnknown)", "Error" },
	{ 0, 3, 7, "DestinationUnreachable(HostUnknown)", "Error" },
	{ 0, 3, 8, "DestinationUnreachable(SourceIsolated)", "Error" },
	{ 0, 3, 9, "DestinationUnreachable(NetAdminProhibited)", "Error" },
	{ 0, 3, 10, "DestinationUnreachable(HostAdminProhibited)", "Error" },
	{ 0, 3, 11, "DestinationUnreachable(NetTOS)", "Error" },
	{ 0, 3, 12, "DestinationUnreachable(HostTOS)", "Error" },
	{ 0, 3, 13, "DestinationUnreachable(CommAdminProhibited)", "Error" },
	{ 0, 3, 14, "DestinationUnreachable(HostPrecedence)", "Error" },
	{ 0, 3, 15, "DestinationUnreachable(PrecedenceCutoff)", "Error" },
	{ 0, 3, 16, "DestinationUnreachable(Code: 16)", "Error" },
	{ 0, 4, 0, "SourceQuench", "Error" },
	{ 0, 4, 1, "SourceQuench(Code: 1)", "Error" },
	{ 0, 5, 0, "Redirect(Net)", "OK" },
	{ 0, 5, 1, "Redirect(Host)", "OK" },
	{ 0, 5, 2, "Redirect(TOS+Net)", "OK" },
	{ 0, 5, 3, "Redirect(TOS+Host)", "OK" },
	{ 0, 5, 4, "Redirect(Code: 4)", "OK" },
	{ 0, 8, 0, "EchoRequest", "Error" },
	{ 0, 8, 1, "EchoRequest(Code: 1)", "Error" },
	{ 0, 9, 0, "RouterAdvertisement", "OK" },
	{ 0, 9, 16, "RouterAdvertisement(Code: 16)", "OK" },
	{ 0, 10, 0, "RouterSolicitation", "OK" },
	{ 0, 11, 0, "TimeExceeded(TTLExceeded)", "Error" },
	{ 0, 11, 1, "TimeExceeded(FragmentReassemblyTimeExceeded)", "Error" },
	{ 0, 11, 2, "TimeExceeded(Code: 2)", "Error" },
	{ 0, 12, 0, "ParameterProblem(PointerIndicatesError)", "Error" },
	{ 0, 12, 1, "ParameterProblem(MissingOption)", "Error" },
	{ 0, 12, 2, "ParameterProblem(BadLength)", "Error" },
	{ 0, 13, 0, "TimestampRequest", "Error" },
	{ 0, 14, 0, "TimestampReply", "Error" },
	{ 0, 15, 0, "InfoRequest", "Error" },
	{ 0, 16, 0, "InfoReply", "Error" },
	{ 0, 17, 0, "AddressMaskRequest", "Error" },
	{ 0, 18, 0, "AddressMaskReply", "Error" },
	{ 0, 1, 0, "1(0)", "OK" },
	{ 0, 42, 3, "42(3)", "OK" },
	{ 0, 128, 0, "128(0)", "OK" },
	{ 0, 255, 255, "255(255)", "OK" },
	{ 1, 1, 0, "DestinationUnreachable(NoRouteToDst)", "Error" },
	{ 1, 1, 1, "DestinationUnreachable(AdminProhibited)", "Error" },
	{ 1, 1, 2, "DestinationUnreachable(BeyondScopeOfSrc)", "Error" },
	{ 1, 1, 3, "DestinationUnreachable(AddressUnreachable)", "Error" },
	{ 1, 1, 4, "DestinationUnreachable(PortUnreachable)", "Error" },
	{ 1, 1, 5, "DestinationUnreachable(SrcAddressFailedPolicy)", "Error" },
	{ 1, 1, 6, "DestinationUnreachable(RejectRouteToDst)", "Error" },
	{ 1, 1, 7, "DestinationUnreachable(Code: 7)", "Error" },
	{ 1, 2, 0, "PacketTooBig", "Error" },
	{ 1, 2, 1, "PacketTooBig(Code: 1)", "Error" },
	{ 1, 3, 0, "TimeExceeded(HopLimitExceeded)", "Error" },
	{ 1, 3, 1, "TimeExceeded(FragmentReassemblyTimeExceeded)", "Error" },
	{ 1, 4, 0, "ParameterProblem(ErroneousHeaderField)", "Error" },
	{ 1, 4, 1, "ParameterProblem(UnrecognizedNextHeader)", "Error" },
	{ 1, 4, 2, "ParameterProblem(UnrecognizedIPv6Option)", "Error" },
	{ 1, 4, 3, "ParameterProblem(Code: 3)", "Error" },
	{ 1, 128, 0, "EchoRequest", "Error" },
	{ 1, 129, 0, "EchoReply", "Error" },
	{ 1, 130, 0, "130(0)", "OK" },
	{ 1, 131, 0, "131(0)", "OK" },
	{ 1, 133, 0, "RouterSolicitation", "OK" },
	{ 1, 134, 0, "RouterAdvertisement", "OK" },
	{ 1, 135, 0, "NeighborSolicitation", "OK" },
	{ 1, 136, 0, "NeighborAdvertisement", "OK" },
	{ 1, 137, 0, "Redirect", "OK" },
	{ 1, 137, 1, "Redirect(Code: 1)", "OK" },
	{ 1, 143, 0, "143(0)", "OK" },
	{ 1, 0, 0, "0(0)", "OK" },
	{ 1, 8, 0, "8(0)", "OK" },
};

/* each message alone (requests left at close, replies orphaned) */
START_TEST(test_message_strings)
{
	const struct msgcase *m = &msgcases[_i];
	struct th *h = m->v6 ? new6() : new4();
	const char *rq, *rs;
	cJSON *e;

	send_msg(h, 0, m->type, m->code, 1, 1, 8);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	rq = th_str(e, "icmp.request.message");
	rs = th_str(e, "icmp.response.message");
	ck_assert_msg((rq != NULL) != (rs != NULL), "type %u: one side only", m->type);
	ck_assert_str_eq(rq ? rq : rs, m->want);
	ck_num(e, rq ? "icmp.request.type" : "icmp.response.type", m->type);
	ck_num(e, rq ? "icmp.request.code" : "icmp.response.code", m->code);
	ck_str(e, "status", m->status);
	ck_num(e, "icmp.version", m->v6 ? 6 : 4);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/*
 * The Community ID spec's ICMP example, by hand: 192.168.0.89 pings
 * 192.168.0.1 (type 8, code 0).  The smaller address goes first and the
 * ports become type/counterpart swapped with it:
 *   sha1(00 00 | c0 a8 00 01 | c0 a8 00 59 | 01 | 00 | 00 00 | 00 08)
 *   = 5f4b2761 7a60c22b fd4d9b6a 83ae2c83 3527e839
 * base64: X0snYXpgwiv9TZtqg64sgzUn6Dk=
 */
START_TEST(test_community_id)
{
	static const uint8_t a[4] = { 192, 168, 0, 89 }, b[4] = { 192, 168, 0, 1 };
	struct th *h = new4();
	cJSON *e;

	memcpy(h->c.addr[0], a, 4);
	memcpy(h->c.addr[1], b, 4);
	send_msg(h, 0, 8, 0, 1, 1, 4);
	send_msg(h, 1, 0, 0, 1, 1, 4);
	e = th_event(h, 0);
	ck_str(e, "network.community_id", "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
	cJSON_Delete(e);
	/* a request left alone hashes the same way */
	send_msg(h, 0, 8, 0, 1, 2, 4);
	th_close(h);
	e = th_event(h, 1);
	ck_str(e, "network.community_id", "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* past 1024 waiting requests the oldest goes out, with two notes */
START_TEST(test_pending_cap)
{
	struct th *h = new4();
	const cJSON *msg;
	cJSON *e;
	unsigned i;

	for (i = 0; i < 1024; i++)
		send_msg(h, 0, 8, 0, 1, (uint16_t)i, 0);
	ck_assert_uint_eq(h->n_ev, 0);
	send_msg(h, 0, 8, 0, 1, 1024, 0);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_event(h, 0);
	ck_num(e, "pb.packet.first", 2);         /* sequence 0, the oldest */
	msg = th_get(e, "error.message");
	ck_assert(cJSON_IsArray(msg));
	ck_assert_int_eq(cJSON_GetArraySize(msg), 2);
	ck_assert_str_eq(cJSON_GetArrayItem(msg, 0)->valuestring, NOTE_NOREPLY);
	cJSON_Delete(e);
	/* the rest still pair: sequence 1 is answered */
	send_msg(h, 1, 0, 0, 1, 1, 0);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_event(h, 1);
	ck_str(e, "status", "OK");
	ck_num(e, "pb.packet.first", 3);
	cJSON_Delete(e);
	/* and sequence 0 no longer */
	send_msg(h, 1, 0, 0, 1, 0, 0);
	e = th_event(h, 2);
	ck_str(e, "error.message", NOTE_NOREQ);
	cJSON_Delete(e);
	th_close(h);
	ck_assert_uint_eq(h->st.transactions, 1);
	ck_assert_uint_eq(h->st.unmatched_requests, 1024);
	ck_assert_uint_eq(h->st.unmatched_responses, 1);
	th_free(h);
}
END_TEST

/* hostile input: random lengths, types and directions; nothing breaks,
 * every event is valid JSON, close leaves nothing behind */
START_TEST(test_hostile)
{
	struct th *h = _i ? new6() : new4();
	uint32_t x = 12345u + (uint32_t)_i;
	uint8_t b[64];
	unsigned i, k;

	for (i = 0; i < 20000; i++) {
		size_t n;

		x = x * 1103515245u + 12345u;
		n = (x >> 16) % sizeof(b);
		for (k = 0; k < n; k++) {
			x = x * 1103515245u + 12345u;
			b[k] = (uint8_t)(x >> 16);
		}
		/* mostly pair types with few ids, so pairing paths are hit */
		if (n > 0 && (x & 3) != 0) {
			static const uint8_t t4[] = { 8, 0, 13, 14, 15, 16, 17, 18, 3 };
			static const uint8_t t6[] = { 128, 129, 1, 135, 136 };

			b[0] = _i ? t6[(x >> 8) % sizeof(t6)] : t4[(x >> 8) % sizeof(t4)];
			if (n > 5) {
				b[4] = 0;
				b[5] = (uint8_t)(x & 1);
			}
			if (n > 7) {
				b[6] = 0;
				b[7] = (uint8_t)((x >> 4) % 8);
			}
		}
		th_datagram(h, (int)((x >> 20) & 1), b, n);
		if (i % 1000 == 0)
			th_expire(h, SEC);
	}
	th_close(h);
	for (i = 0; i < h->n_ev; i++) {
		cJSON *e = th_event(h, i);

		ck_assert_ptr_nonnull(e);
		ck_assert_ptr_nonnull(th_str(e, "status"));
		cJSON_Delete(e);
	}
	ck_assert(h->st.parse_errors > 0);
	ck_assert(h->st.transactions > 0);
	th_free(h);
}
END_TEST

static Suite *icmp_suite(void)
{
	Suite *su = suite_create("icmp");
	TCase *tc = tcase_create("icmp");

	tcase_add_test(tc, test_echo_v4);
	tcase_add_test(tc, test_echo_v6);
	tcase_add_test(tc, test_interleaved);
	tcase_add_test(tc, test_reply_without_request);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_timeout_configured);
	tcase_add_test(tc, test_close_flushes);
	tcase_add_test(tc, test_duplicate_request);
	tcase_add_test(tc, test_errors_alone);
	tcase_add_test(tc, test_v6_alone);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_timestamp_pair);
	tcase_add_test(tc, test_info_and_mask_pairs);
	tcase_add_test(tc, test_ping_self);
	tcase_add_loop_test(tc, test_message_strings, 0,
			    (int)(sizeof(msgcases) / sizeof(msgcases[0])));
	tcase_add_test(tc, test_community_id);
	tcase_add_test(tc, test_pending_cap);
	tcase_add_loop_test(tc, test_hostile, 0, 2);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(icmp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
