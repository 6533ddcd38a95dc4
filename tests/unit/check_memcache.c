/*
 * check_memcache.c - the memcache parser (proto/memcache.c) driven as the
 * engine drives it (tests/unit/txnharness.h): the text protocol (storage,
 * multi-key retrieval, counters, stats, errors, noreply, quit), the meta
 * commands, the binary protocol (opaque pairing, quiet requests, Stat
 * sequences, hostile lengths), UDP frames and their reassembly, framing
 * at every split point, gaps, FIN, timeouts, the options, and random
 * input.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txnharness.h"
#include "conf/conf.h"
#include "proto/proto.h"

#define SEC INT64_C(1000000000)

/* ---- helpers ---- */

static const struct pb_proto *mc(void)
{
	const struct pb_proto *p = pb_proto_find("memcache");

	ck_assert_ptr_nonnull(p);
	return p;
}

/* a TCP (6) or UDP (17) conversation from 10.0.0.1:40000 to port 11211;
 * yaml (or NULL) is a packetbeat.yml whose first entry is loaded */
static struct th *mk_tp(const char *yaml, uint8_t tp)
{
	struct th *h = th_new(mc(), tp, 40000, 11211);

	if (yaml)
		th_load_conf(h, yaml);
	return h;
}

static struct th *mk(const char *yaml)
{
	return mk_tp(yaml, 6);
}

#define ck_field_bool(e, path, want) do { \
	const cJSON *b_ = th_get((e), (path)); \
	ck_assert_msg(cJSON_IsBool(b_) && (cJSON_IsTrue(b_) ? 1 : 0) == (want), \
		      "%s: want %s", (path), (want) ? "true" : "false"); \
} while (0)


/* element i of the array at path, as a string */
static const char *arr_str(const cJSON *e, const char *path, int i)
{
	const cJSON *a = th_get(e, path), *x;

	if (!cJSON_IsArray(a))
		return NULL;
	x = cJSON_GetArrayItem(a, i);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

static int arr_len(const cJSON *e, const char *path)
{
	const cJSON *a = th_get(e, path);

	return cJSON_IsArray(a) ? cJSON_GetArraySize(a) : -1;
}

/* ---- binary messages ---- */

struct bin {
	uint8_t b[70000];
	size_t n;
};

/* a header, extras, key and value: magic 0x80 (request) or 0x81 */
static void bin_msg(struct bin *m, uint8_t magic, uint8_t op, uint32_t opaque, uint16_t status,
		    const void *ext, size_t en, const char *key, const void *val, size_t vn,
		    uint64_t cas)
{
	size_t kn = key ? strlen(key) : 0, total = en + kn + vn, i;
	uint8_t *p = m->b + m->n;

	ck_assert_uint_le(m->n + 24 + total, sizeof(m->b));
	p[0] = magic;
	p[1] = op;
	p[2] = (uint8_t)(kn >> 8);
	p[3] = (uint8_t)kn;
	p[4] = (uint8_t)en;
	p[5] = 0;
	p[6] = (uint8_t)(status >> 8);
	p[7] = (uint8_t)status;
	p[8] = (uint8_t)(total >> 24);
	p[9] = (uint8_t)(total >> 16);
	p[10] = (uint8_t)(total >> 8);
	p[11] = (uint8_t)total;
	p[12] = (uint8_t)(opaque >> 24);
	p[13] = (uint8_t)(opaque >> 16);
	p[14] = (uint8_t)(opaque >> 8);
	p[15] = (uint8_t)opaque;
	for (i = 0; i < 8; i++)
		p[16 + i] = (uint8_t)(cas >> (56 - 8 * i));
	m->n += 24;
	if (en)
		memcpy(m->b + m->n, ext, en);
	m->n += en;
	if (kn)
		memcpy(m->b + m->n, key, kn);
	m->n += kn;
	if (vn)
		memcpy(m->b + m->n, val, vn);
	m->n += vn;
}

static const uint8_t set_extras[8] = { 0, 0, 0, 7, 0, 0, 0, 60 };   /* flags 7, exp 60 */

/* ---- the text protocol ---- */

START_TEST(test_registered)
{
	const struct pb_proto *p = mc();

	ck_assert_uint_eq(p->n_ports, 1);
	ck_assert_uint_eq(p->ports[0], 11211);
	ck_assert(p->transports & PB_TP_TCP);
	ck_assert(p->transports & PB_TP_UDP);
}
END_TEST

START_TEST(test_text_set_get)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "set k 5 0 5\r\nhello\r\n");
	th_srv_s(h, "STORED\r\n");
	th_cli_s(h, "get k\r\n");
	th_srv_s(h, "VALUE k 5 5\r\nhello\r\nEND\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_str(e, "type", "memcache");
	th_ck_str(e, "status", "OK");
	th_ck_str(e, "memcache.protocol_type", "text");
	th_ck_str(e, "memcache.request.command", "set");
	th_ck_str(e, "memcache.request.type", "Store");
	ck_assert_str_eq(arr_str(e, "memcache.request.keys", 0), "k");
	th_ck_num(e, "memcache.request.flags", 5);
	th_ck_num(e, "memcache.request.exptime", 0);
	th_ck_num(e, "memcache.request.bytes", 5);
	th_ck_num(e, "memcache.request.count_values", 1);
	ck_field_bool(e, "memcache.request.noreply", 0);
	th_ck_absent(e, "memcache.request.values");
	th_ck_str(e, "memcache.response.command", "STORED");
	th_ck_str(e, "memcache.response.type", "Success");
	/* the whole message on the wire: line and data */
	th_ck_num(e, "client.bytes", 20);
	th_ck_num(e, "server.bytes", 8);
	th_ck_str(e, "client.ip", "10.0.0.1");
	th_ck_num(e, "server.port", 11211);
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "memcache.request.command", "get");
	th_ck_str(e, "memcache.request.type", "Load");
	th_ck_str(e, "memcache.response.command", "VALUE");
	th_ck_str(e, "memcache.response.type", "Load");
	ck_assert_str_eq(arr_str(e, "memcache.response.keys", 0), "k");
	th_ck_num(e, "memcache.response.count_values", 1);
	th_ck_num(e, "memcache.response.bytes", 5);
	th_ck_num(e, "memcache.response.flags", 5);
	th_ck_num(e, "memcache.response.cas_unique", 0);
	th_ck_num(e, "server.bytes", 25);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_text_multiget_values)
{
	struct th *h = mk("packetbeat.protocols:\n- type: memcache\n  maxvalues: -1\n");
	cJSON *e;

	th_cli_s(h, "gets a miss b\r\n");
	th_srv_s(h, "VALUE a 0 3 11\r\nabc\r\nVALUE b 1 2 12\r\nxy\r\nEND\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "memcache.request.command", "gets");
	ck_assert_int_eq(arr_len(e, "memcache.request.keys"), 3);
	ck_assert_str_eq(arr_str(e, "memcache.request.keys", 1), "miss");
	ck_assert_int_eq(arr_len(e, "memcache.response.keys"), 2);
	ck_assert_str_eq(arr_str(e, "memcache.response.keys", 1), "b");
	th_ck_num(e, "memcache.response.count_values", 2);
	th_ck_num(e, "memcache.response.bytes", 5);
	/* the first VALUE line's flags and cas, as Packetbeat merges them */
	th_ck_num(e, "memcache.response.cas_unique", 11);
	ck_assert_str_eq(arr_str(e, "memcache.response.values", 0), "YWJj");
	ck_assert_str_eq(arr_str(e, "memcache.response.values", 1), "eHk=");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_text_maxvalues)
{
	struct th *h;
	cJSON *e;

	/* up to one value */
	h = mk("packetbeat.protocols:\n- type: memcache\n  maxvalues: 1\n");
	th_cli_s(h, "get a b\r\n");
	th_srv_s(h, "VALUE a 0 3\r\nabc\r\nVALUE b 0 2\r\nxy\r\nEND\r\n");
	e = th_ev(h, 0);
	ck_assert_int_eq(arr_len(e, "memcache.response.values"), 1);
	th_ck_num(e, "memcache.response.count_values", 2);
	cJSON_Delete(e);
	th_free(h);
	/* every value, each cut at 2 bytes */
	h = mk("packetbeat.protocols:\n- type: memcache\n  maxvalues: -1\n"
	       "  maxbytespervalue: 2\n");
	th_cli_s(h, "set k 0 0 5\r\nhello\r\n");
	th_srv_s(h, "STORED\r\n");
	e = th_ev(h, 0);
	ck_assert_str_eq(arr_str(e, "memcache.request.values", 0), "aGU=");
	th_ck_num(e, "memcache.request.bytes", 5);
	cJSON_Delete(e);
	th_free(h);
	/* the default: none */
	h = mk(NULL);
	th_cli_s(h, "get a\r\n");
	th_srv_s(h, "VALUE a 0 3\r\nabc\r\nEND\r\n");
	e = th_ev(h, 0);
	th_ck_absent(e, "memcache.response.values");
	th_ck_num(e, "memcache.response.count_values", 1);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_text_noreply_quit)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "set k 0 0 1 noreply\r\nx\r\n");
	/* written at once: no answer comes */
	ck_assert_uint_eq(h->n_ev, 1);
	th_cli_s(h, "delete k noreply\r\nincr c 2 noreply\r\n");
	ck_assert_uint_eq(h->n_ev, 3);
	th_cli_s(h, "get k\r\n");
	th_srv_s(h, "END\r\n");
	th_cli_s(h, "quit\r\n");
	ck_assert_uint_eq(h->n_ev, 5);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "OK");
	ck_field_bool(e, "memcache.request.noreply", 1);
	th_ck_absent(e, "memcache.response");
	th_ck_absent(e, "event.end");
	th_ck_absent(e, "error");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "memcache.request.command", "incr");
	th_ck_num(e, "memcache.request.delta", 2);
	cJSON_Delete(e);
	/* the get is answered by END, not by anything of the noreply ones */
	e = th_ev(h, 3);
	th_ck_str(e, "memcache.response.command", "END");
	cJSON_Delete(e);
	e = th_ev(h, 4);
	th_ck_str(e, "memcache.request.command", "quit");
	th_ck_str(e, "status", "OK");
	ck_field_bool(e, "memcache.request.noreply", 0);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_text_errors)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "incr k 1\r\nset k 0 0 1\r\nx\r\nget\r\ndelete nope\r\nset big 0 0 1\r\nx\r\n");
	th_srv_s(h, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
	       "SERVER_ERROR out of memory storing object\r\nERROR\r\nNOT_FOUND\r\n"
	       "BUSY try later\r\n");
	ck_assert_uint_eq(h->n_ev, 5);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "Client Error");
	th_ck_str(e, "memcache.response.command", "CLIENT_ERROR");
	th_ck_str(e, "memcache.response.type", "Fail");
	th_ck_str(e, "memcache.response.error_msg",
		     "cannot increment or decrement non-numeric value");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "status", "Server Error");
	th_ck_str(e, "memcache.response.error_msg", "out of memory storing object");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "memcache.request.command", "get");
	th_ck_note(e, "Invalid memcache message");
	th_ck_str(e, "memcache.response.command", "ERROR");
	th_ck_absent(e, "memcache.response.error_msg");
	cJSON_Delete(e);
	e = th_ev(h, 3);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "memcache.response.command", "NOT_FOUND");
	cJSON_Delete(e);
	e = th_ev(h, 4);
	th_ck_str(e, "status", "Server Error");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_text_counters_touch_cas)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "incr n 5\r\ndecr n 18446744073709551615\r\ntouch k -1\r\n"
	       "cas k 0 0 1 99\r\nz\r\ncas q 0 0 1 7 noreply\r\nz\r\ngat 100 a b\r\n");
	th_srv_s(h, "5\r\n0\r\nTOUCHED\r\nEXISTS\r\nEND\r\n");
	ck_assert_uint_eq(h->n_ev, 6);
	e = th_ev(h, 1);
	th_ck_str(e, "memcache.request.type", "Counter");
	th_ck_str(e, "memcache.response.command", "<counter_op_res>");
	th_ck_str(e, "memcache.response.type", "Counter");
	th_ck_num(e, "memcache.response.value", 5);
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_num(e, "memcache.request.delta", 18446744073709551615.0);
	cJSON_Delete(e);
	e = th_ev(h, 3);
	th_ck_num(e, "memcache.request.exptime", -1);
	th_ck_str(e, "memcache.response.command", "TOUCHED");
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	e = th_ev(h, 4);
	th_ck_num(e, "memcache.request.cas_unique", 99);
	/* EXISTS is a "Success" for Packetbeat */
	th_ck_str(e, "memcache.response.type", "Success");
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	/* the noreply cas was written first, when it was read */
	e = th_ev(h, 0);
	ck_field_bool(e, "memcache.request.noreply", 1);
	th_ck_num(e, "memcache.request.cas_unique", 7);
	cJSON_Delete(e);
	e = th_ev(h, 5);
	th_ck_str(e, "memcache.request.command", "gat");
	th_ck_num(e, "memcache.request.exptime", 100);
	ck_assert_int_eq(arr_len(e, "memcache.request.keys"), 2);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_text_stats_version)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "stats \r\nstats slabs\r\nversion\r\nverbosity 1\r\nflush_all 10\r\n");
	th_srv_s(h, "STAT pid 12\r\nSTAT version 1.6.18\r\nSTAT empty \r\nEND\r\n"
	       "END\r\nVERSION 1.6.18\r\nOK\r\nOK\r\n");
	ck_assert_uint_eq(h->n_ev, 5);
	e = th_ev(h, 0);
	th_ck_str(e, "memcache.request.command", "stats");
	th_ck_str(e, "memcache.request.type", "Stats");
	th_ck_str(e, "memcache.request.raw_args", "");
	th_ck_str(e, "memcache.response.command", "STAT");
	th_ck_str(e, "memcache.response.type", "Stats");
	ck_assert_int_eq(arr_len(e, "memcache.response.stats"), 3);
	ck_assert_str_eq(th_str(cJSON_GetArrayItem(th_get(e, "memcache.response.stats"), 0),
				"name"), "pid");
	{
		const cJSON *s = cJSON_GetArrayItem(th_get(e, "memcache.response.stats"), 1);

		ck_assert_str_eq(th_str(s, "name"), "version");
		ck_assert_str_eq(th_str(s, "value"), "1.6.18");
	}
	th_ck_num(e, "server.bytes", 52);
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "memcache.request.raw_args", "slabs");
	th_ck_str(e, "memcache.response.command", "END");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "memcache.response.command", "VERSION");
	th_ck_str(e, "memcache.response.type", "Info");
	th_ck_str(e, "memcache.response.version", "1.6.18");
	cJSON_Delete(e);
	e = th_ev(h, 3);
	th_ck_num(e, "memcache.request.verbosity", 1);
	th_ck_str(e, "memcache.response.command", "OK");
	cJSON_Delete(e);
	e = th_ev(h, 4);
	th_ck_str(e, "memcache.request.command", "flush_all");
	th_ck_str(e, "memcache.request.type", "Delete");
	th_ck_num(e, "memcache.request.exptime", 10);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_text_slabs_lru)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "slabs reassign 1 2\r\nslabs automove 2\r\nlru_crawler sleep 100\r\n"
	       "lru_crawler crawl 1,2\r\n");
	th_srv_s(h, "OK\r\nOK\r\nOK\r\nOK\r\n");
	ck_assert_uint_eq(h->n_ev, 4);
	e = th_ev(h, 0);
	th_ck_str(e, "memcache.request.command", "slabs reassign");
	th_ck_str(e, "memcache.request.type", "SlabCtrl");
	th_ck_num(e, "memcache.request.source_class", 1);
	th_ck_num(e, "memcache.request.dest_class", 2);
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "memcache.request.automove", "aggressive");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "memcache.request.type", "LRUCrawler");
	th_ck_num(e, "memcache.request.sleep_us", 100);
	cJSON_Delete(e);
	e = th_ev(h, 3);
	th_ck_str(e, "memcache.request.raw_args", "1,2");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_text_unknown)
{
	struct th *h;
	cJSON *e;

	/* not published by default, and its ERROR answers it, not the
	 * next request */
	h = mk(NULL);
	th_cli_s(h, "frobnicate x\r\nget k\r\n");
	th_srv_s(h, "ERROR\r\nEND\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "memcache.request.command", "get");
	th_ck_str(e, "memcache.response.command", "END");
	cJSON_Delete(e);
	ck_assert_uint_ge(h->st.parse_errors, 1);
	th_free(h);
	/* parseunknown: written, with the line */
	h = mk("packetbeat.protocols:\n- type: memcache\n  parseunknown: true\n");
	th_cli_s(h, "frobnicate x\r\n");
	th_srv_s(h, "ERROR\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "memcache.request.command", "UNKNOWN");
	th_ck_str(e, "memcache.request.type", "UNKNOWN");
	th_ck_str(e, "memcache.request.line", "frobnicate x");
	th_ck_str(e, "status", "Error");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_meta)
{
	struct th *h = mk("packetbeat.protocols:\n- type: memcache\n  maxvalues: -1\n");
	cJSON *e;

	th_cli_s(h, "ms foo 2 T90 F5\r\nhi\r\nmg foo v q\r\nmg miss v q\r\nmd gone q\r\nmn\r\n"
	       "ma cnt O12 N0\r\n");
	th_srv_s(h, "HD\r\nVA 2 \r\nhi\r\nMN\r\nHD O12\r\n");
	ck_assert_uint_eq(h->n_ev, 6);
	e = th_ev(h, 0);
	th_ck_str(e, "memcache.request.command", "ms");
	th_ck_str(e, "memcache.request.type", "Store");
	th_ck_num(e, "memcache.request.bytes", 2);
	th_ck_str(e, "memcache.request.raw_args", "T90 F5");
	ck_assert_str_eq(arr_str(e, "memcache.request.values", 0), "aGk=");
	th_ck_str(e, "memcache.response.command", "HD");
	th_ck_str(e, "memcache.response.type", "Success");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "memcache.request.command", "mg");
	ck_field_bool(e, "memcache.request.quiet", 1);
	th_ck_str(e, "memcache.response.command", "VA");
	ck_assert_str_eq(arr_str(e, "memcache.response.values", 0), "aGk=");
	cJSON_Delete(e);
	/* the miss and the delete were quiet: no answer, and OK */
	e = th_ev(h, 2);
	ck_assert_str_eq(arr_str(e, "memcache.request.keys", 0), "miss");
	th_ck_absent(e, "memcache.response");
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	e = th_ev(h, 3);
	th_ck_str(e, "memcache.request.command", "md");
	th_ck_absent(e, "memcache.response");
	cJSON_Delete(e);
	e = th_ev(h, 4);
	th_ck_str(e, "memcache.request.command", "mn");
	th_ck_str(e, "memcache.response.command", "MN");
	cJSON_Delete(e);
	e = th_ev(h, 5);
	th_ck_str(e, "memcache.request.command", "ma");
	th_ck_str(e, "memcache.request.type", "Counter");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_meta_quiet_keys)
{
	struct th *h = mk(NULL);
	cJSON *e;

	/* a quiet miss before a quiet hit: the k flag says whose the VA is */
	th_cli_s(h, "mg missing v q k\r\nmg mk v q k\r\nmn\r\n");
	th_srv_s(h, "VA 2 kmk\r\nhi\r\nMN\r\n");
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_ev(h, 0);
	ck_assert_str_eq(arr_str(e, "memcache.request.keys", 0), "missing");
	th_ck_absent(e, "memcache.response");
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	ck_assert_str_eq(arr_str(e, "memcache.request.keys", 0), "mk");
	th_ck_str(e, "memcache.response.command", "VA");
	th_ck_str(e, "memcache.response.raw_args", "kmk");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "memcache.response.command", "MN");
	th_ck_absent(e, "memcache.response.raw_args");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- pairing, loss and ends ---- */

START_TEST(test_unmatched)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_srv_s(h, "STORED\r\n");
	th_cli_s(h, "get k\r\n");
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_str(e, "status", "Client Error");
	th_ck_note(e, "Invalid transaction. Request missing");
	th_ck_absent(e, "memcache.request");
	th_ck_str(e, "client.ip", "10.0.0.1");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "status", "Server Error");
	th_ck_note(e, "Unfinished transaction");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_timeout)
{
	struct th *h = mk(NULL);
	cJSON *e;

	h->common.timeout_ns = 2 * SEC;
	th_cli_s(h, "get a\r\n");
	th_expire(h, 1 * SEC);
	ck_assert_uint_eq(h->n_ev, 0);
	th_expire(h, 2 * SEC);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_note(e, "Unfinished transaction");
	cJSON_Delete(e);
	/* a late answer is alone */
	th_srv_s(h, "END\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	th_free(h);
}
END_TEST

START_TEST(test_pipeline_overflow)
{
	struct th *h = mk(NULL);
	char line[32];
	unsigned i;
	cJSON *e;

	for (i = 0; i < 70; i++) {
		snprintf(line, sizeof(line), "get k%u\r\n", i);
		th_cli_s(h, line);
	}
	/* 64 wait; the six oldest went out unanswered */
	ck_assert_uint_eq(h->n_ev, 6);
	e = th_ev(h, 0);
	th_ck_note(e, "Too many pending requests");
	ck_assert_str_eq(arr_str(e, "memcache.request.keys", 0), "k0");
	cJSON_Delete(e);
	th_srv_s(h, "END\r\n");
	e = th_ev(h, 6);
	ck_assert_str_eq(arr_str(e, "memcache.request.keys", 0), "k6");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_gap_in_value)
{
	struct th *h = mk("packetbeat.protocols:\n- type: memcache\n  maxvalues: -1\n");
	cJSON *e;

	th_cli_s(h, "get k\r\n");
	th_srv_s(h, "VALUE k 0 10\r\nabc");
	th_gap(h, 1, 4);
	th_srv_s(h, "xyz\r\nEND\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_note(e, "Packet loss while capturing the response");
	th_ck_num(e, "memcache.response.count_values", 1);
	th_ck_num(e, "memcache.response.bytes", 10);
	th_ck_absent(e, "memcache.response.values");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_gap_between)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "get a\r\nget b\r\n");
	th_gap(h, 1, 30);
	/* the lost bytes held the first answer */
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	ck_assert_str_eq(arr_str(e, "memcache.request.keys", 0), "a");
	th_ck_note(e, "Packet loss while capturing the response");
	cJSON_Delete(e);
	/* resynchronised on the next line that reads as a response */
	th_srv_s(h, "E\r\nEND\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	ck_assert_str_eq(arr_str(e, "memcache.request.keys", 0), "b");
	th_ck_str(e, "memcache.response.command", "END");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_fin_in_data)
{
	struct th *h = mk(NULL);
	cJSON *e;

	th_cli_s(h, "set k 0 0 100\r\nshort");
	th_fin(h, 0);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_note(e, "Request incomplete at end of stream");
	th_ck_num(e, "memcache.request.bytes", 100);
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_bad_crlf_and_long_line)
{
	struct th *h = mk(NULL);
	static char big[70000];
	cJSON *e;

	/* a data block longer than declared */
	th_cli_s(h, "set k 0 0 2\r\nhello\r\nget k\r\n");
	th_srv_s(h, "STORED\r\nEND\r\n");
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_note(e, "Data block not followed by CRLF");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "memcache.request.command", "get");
	cJSON_Delete(e);
	/* a line past 64 KiB without LF: skipped, then the next works */
	memset(big, 'a', sizeof(big) - 1);
	th_cli_s(h, big);
	th_cli_s(h, "\r\nversion\r\n");
	th_srv_s(h, "VERSION 1\r\n");
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_ev(h, 2);
	th_ck_str(e, "memcache.response.version", "1");
	cJSON_Delete(e);
	ck_assert_uint_ge(h->st.parse_errors, 1);
	th_free(h);
}
END_TEST

START_TEST(test_mid_stream)
{
	struct th *h = mk(NULL);
	cJSON *e;

	/* the capture starts inside a data block each way */
	h->c.mid_stream[0] = h->c.mid_stream[1] = 1;
	th_cli_s(h, "lo wor\r\nld\r\nget k\r\n");
	th_srv_s(h, "xyz\r\nEND\r\n");
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "memcache.request.command", "get");
	th_ck_str(e, "memcache.response.command", "END");
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_send_request_response)
{
	struct th *h = mk(NULL);
	cJSON *e;

	h->common.send_request = h->common.send_response = 1;
	th_cli_s(h, "set k 0 0 2\r\nhi\r\n");
	th_srv_s(h, "STORED\r\n");
	e = th_ev(h, 0);
	th_ck_str(e, "request", "set k 0 0 2\r\nhi\r\n");
	th_ck_str(e, "response", "STORED\r\n");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

/* ---- every split point ---- */

static const char conv_rq[] =
	"set k1 1 0 3\r\nabc\r\nget k1 k2\r\nincr n 1\r\nstats\r\nmg k1 v\r\n"
	"set k2 0 0 0\r\n\r\ndelete k1 noreply\r\nquit\r\n";
static const char conv_rs[] =
	"STORED\r\nVALUE k1 1 3\r\nabc\r\nEND\r\n7\r\nSTAT a b\r\nSTAT c d\r\nEND\r\n"
	"VA 3\r\nabc\r\nSTORED\r\n";

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

static unsigned conv(const void *rq, size_t rqn, const void *rs, size_t rsn, size_t step,
		     char **out, unsigned max)
{
	struct th *h = mk("packetbeat.protocols:\n- type: memcache\n  maxvalues: -1\n");
	unsigned i, n;

	/* requests first, then answers: pairing does not depend on the
	 * interleaving, only framing on the split */
	th_tcp_split(h, 0, rq, rqn, step);
	th_tcp_split(h, 1, rs, rsn, step);
	th_close(h);
	n = h->n_ev;
	for (i = 0; i < n && i < max; i++)
		out[i] = timeless(h->ev[i]);
	th_free(h);
	return n;
}

static void conv_check_splits(const void *rq, size_t rqn, const void *rs, size_t rsn,
			      unsigned want_n)
{
	char *want[16] = { 0 }, *got[16] = { 0 };
	unsigned nw, ng, i;
	size_t step;

	nw = conv(rq, rqn, rs, rsn, 1u << 20, want, 16);
	ck_assert_uint_eq(nw, want_n);
	for (step = 1; step <= 40; step++) {
		ng = conv(rq, rqn, rs, rsn, step, got, 16);
		ck_assert_msg(ng == nw, "step %zu: %u events, want %u", step, ng, nw);
		for (i = 0; i < ng && i < 16; i++) {
			ck_assert_msg(strcmp(got[i], want[i]) == 0, "step %zu event %u:\n%s\n%s",
				      step, i, got[i], want[i]);
			free(got[i]);
		}
	}
	for (i = 0; i < nw && i < 16; i++)
		free(want[i]);
}

START_TEST(test_split_text)
{
	char *ev0[16] = { 0 };
	unsigned n, i;
	cJSON *e;

	conv_check_splits(conv_rq, strlen(conv_rq), conv_rs, strlen(conv_rs), 8);
	n = conv(conv_rq, strlen(conv_rq), conv_rs, strlen(conv_rs), 1, ev0, 16);
	/* the noreply delete and the quit are written when read, before
	 * the others are answered (all answers come after all requests) */
	e = cJSON_Parse(ev0[0]);
	th_ck_str(e, "memcache.request.command", "delete");
	cJSON_Delete(e);
	e = cJSON_Parse(ev0[1]);
	th_ck_str(e, "memcache.request.command", "quit");
	cJSON_Delete(e);
	e = cJSON_Parse(ev0[4]);
	th_ck_num(e, "memcache.response.value", 7);
	cJSON_Delete(e);
	e = cJSON_Parse(ev0[7]);
	th_ck_num(e, "memcache.request.bytes", 0);
	th_ck_num(e, "memcache.request.count_values", 1);
	cJSON_Delete(e);
	for (i = 0; i < n && i < 16; i++)
		free(ev0[i]);
}
END_TEST

START_TEST(test_split_binary)
{
	struct bin *rq = calloc(1, sizeof(*rq)), *rs = calloc(1, sizeof(*rs));
	static const uint8_t ctr[20] = { 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1,
					 0, 0, 0, 0 };
	static const uint8_t v8[8] = { 0, 0, 0, 0, 0, 0, 0, 4 };
	static const uint8_t fl[4] = { 0, 0, 0, 7 };

	bin_msg(rq, 0x80, 0x01, 1, 0, set_extras, 8, "key", "value", 5, 0);
	bin_msg(rq, 0x80, 0x0d, 2, 0, NULL, 0, "miss", NULL, 0, 0);
	bin_msg(rq, 0x80, 0x0d, 3, 0, NULL, 0, "key", NULL, 0, 0);
	bin_msg(rq, 0x80, 0x0a, 4, 0, NULL, 0, NULL, NULL, 0, 0);
	bin_msg(rq, 0x80, 0x05, 5, 0, ctr, 20, "n", NULL, 0, 0);
	bin_msg(rq, 0x80, 0x10, 6, 0, NULL, 0, NULL, NULL, 0, 0);
	bin_msg(rq, 0x80, 0x0b, 7, 0, NULL, 0, NULL, NULL, 0, 0);
	bin_msg(rs, 0x81, 0x01, 1, 0, NULL, 0, NULL, NULL, 0, 0x1234);
	bin_msg(rs, 0x81, 0x0d, 3, 0, fl, 4, "key", "value", 5, 0x1234);
	bin_msg(rs, 0x81, 0x0a, 4, 0, NULL, 0, NULL, NULL, 0, 0);
	bin_msg(rs, 0x81, 0x05, 5, 0, NULL, 0, NULL, v8, 8, 0);
	bin_msg(rs, 0x81, 0x10, 6, 0, NULL, 0, "pid", "42", 2, 0);
	bin_msg(rs, 0x81, 0x10, 6, 0, NULL, 0, "uptime", "", 0, 0);
	bin_msg(rs, 0x81, 0x10, 6, 0, NULL, 0, NULL, NULL, 0, 0);
	bin_msg(rs, 0x81, 0x0b, 7, 0, NULL, 0, NULL, "1.6.18", 6, 0);
	conv_check_splits(rq->b, rq->n, rs->b, rs->n, 7);
	free(rq);
	free(rs);
}
END_TEST

/* ---- the binary protocol ---- */

START_TEST(test_binary_fields)
{
	struct th *h = mk("packetbeat.protocols:\n- type: memcache\n  maxvalues: -1\n");
	struct bin *m = calloc(1, sizeof(*m));
	static const uint8_t ctr[20] = { 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1,
					 0, 0, 0, 0x0e };
	static const uint8_t v8[8] = { 0, 0, 0, 0, 0, 0, 0, 4 };
	static const uint8_t fl[4] = { 0, 0, 0, 7 };
	cJSON *e;

	bin_msg(m, 0x80, 0x01, 0x11, 0, set_extras, 8, "key", "value", 5, 0);
	th_tcp(h, 0, m->b, m->n);
	m->n = 0;
	bin_msg(m, 0x81, 0x01, 0x11, 0, NULL, 0, NULL, NULL, 0, 99);
	th_tcp(h, 1, m->b, m->n);
	m->n = 0;
	bin_msg(m, 0x80, 0x0c, 0x12, 0, NULL, 0, "key", NULL, 0, 0);
	bin_msg(m, 0x80, 0x06, 0x13, 0, ctr, 20, "n", NULL, 0, 0);
	bin_msg(m, 0x80, 0x00, 0x14, 0, NULL, 0, "gone", NULL, 0, 0);
	bin_msg(m, 0x80, 0x1b, 0x15, 0, fl, 4, NULL, NULL, 0, 0);
	th_tcp(h, 0, m->b, m->n);
	m->n = 0;
	bin_msg(m, 0x81, 0x0c, 0x12, 0, fl, 4, "key", "value", 5, 99);
	bin_msg(m, 0x81, 0x06, 0x13, 0, NULL, 0, NULL, v8, 8, 0);
	bin_msg(m, 0x81, 0x00, 0x14, 1, NULL, 0, NULL, "Not found", 9, 0);
	bin_msg(m, 0x81, 0x1b, 0x15, 0x81, NULL, 0, NULL, NULL, 0, 0);
	th_tcp(h, 1, m->b, m->n);
	ck_assert_uint_eq(h->n_ev, 5);
	e = th_ev(h, 0);
	th_ck_str(e, "memcache.protocol_type", "binary");
	th_ck_str(e, "memcache.request.opcode", "Set");
	th_ck_num(e, "memcache.request.opcode_value", 1);
	th_ck_str(e, "memcache.request.command", "set");
	th_ck_str(e, "memcache.request.type", "Store");
	th_ck_num(e, "memcache.request.opaque", 0x11);
	th_ck_num(e, "memcache.request.flags", 7);
	th_ck_num(e, "memcache.request.exptime", 60);
	th_ck_num(e, "memcache.request.bytes", 5);
	th_ck_num(e, "memcache.request.count_values", 1);
	ck_assert_str_eq(arr_str(e, "memcache.request.values", 0), "dmFsdWU=");
	ck_field_bool(e, "memcache.request.quiet", 0);
	th_ck_num(e, "memcache.request.vbucket", 0);
	th_ck_str(e, "memcache.response.status", "Success");
	th_ck_num(e, "memcache.response.status_code", 0);
	th_ck_num(e, "memcache.response.cas_unique", 99);
	th_ck_num(e, "client.bytes", 24 + 8 + 3 + 5);
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "memcache.request.opcode", "GetK");
	ck_assert_str_eq(arr_str(e, "memcache.response.keys", 0), "key");
	th_ck_num(e, "memcache.response.flags", 7);
	th_ck_num(e, "memcache.response.bytes", 5);
	cJSON_Delete(e);
	e = th_ev(h, 2);
	th_ck_str(e, "memcache.request.opcode", "Decrement");
	th_ck_num(e, "memcache.request.delta", 3);
	th_ck_num(e, "memcache.request.initial", 1);
	th_ck_num(e, "memcache.request.exptime", 14);
	th_ck_num(e, "memcache.response.value", 4);
	th_ck_absent(e, "memcache.response.count_values");
	cJSON_Delete(e);
	e = th_ev(h, 3);
	th_ck_str(e, "status", "Error");
	th_ck_str(e, "memcache.response.status", "Key not found");
	th_ck_num(e, "memcache.response.count_values", 1);
	cJSON_Delete(e);
	e = th_ev(h, 4);
	th_ck_str(e, "memcache.request.opcode", "Verbosity");
	th_ck_num(e, "memcache.request.verbosity", 7);
	th_ck_str(e, "status", "Server Error");
	th_ck_str(e, "memcache.response.status", "Unknown command");
	cJSON_Delete(e);
	free(m);
	th_free(h);
}
END_TEST

START_TEST(test_binary_quiet)
{
	struct th *h = mk(NULL);
	struct bin *m = calloc(1, sizeof(*m));
	cJSON *e;

	bin_msg(m, 0x80, 0x0d, 1, 0, NULL, 0, "x", NULL, 0, 0);
	bin_msg(m, 0x80, 0x0d, 2, 0, NULL, 0, "k1", NULL, 0, 0);
	bin_msg(m, 0x80, 0x0c, 3, 0, NULL, 0, "lost", NULL, 0, 0);
	bin_msg(m, 0x80, 0x0d, 4, 0, NULL, 0, "y", NULL, 0, 0);
	bin_msg(m, 0x80, 0x0a, 5, 0, NULL, 0, NULL, NULL, 0, 0);
	bin_msg(m, 0x80, 0x11, 6, 0, set_extras, 8, "q", "v", 1, 0);
	bin_msg(m, 0x80, 0x17, 7, 0, NULL, 0, NULL, NULL, 0, 0);
	th_tcp(h, 0, m->b, m->n);
	/* QuitQ gets no answer: written at once */
	ck_assert_uint_eq(h->n_ev, 1);
	m->n = 0;
	bin_msg(m, 0x81, 0x0d, 2, 0, NULL, 0, "k1", "v", 1, 5);
	bin_msg(m, 0x81, 0x0a, 5, 0, NULL, 0, NULL, NULL, 0, 0);
	/* an answer nothing asked for */
	bin_msg(m, 0x81, 0x01, 99, 0, NULL, 0, NULL, NULL, 0, 0);
	th_tcp(h, 1, m->b, m->n);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 8);
	e = th_ev(h, 0);
	th_ck_str(e, "memcache.request.opcode", "QuitQ");
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	ck_assert_str_eq(arr_str(e, "memcache.request.keys", 0), "x");
	ck_field_bool(e, "memcache.request.quiet", 1);
	th_ck_absent(e, "memcache.response");
	th_ck_str(e, "status", "OK");
	th_ck_absent(e, "error");
	cJSON_Delete(e);
	e = th_ev(h, 2);
	ck_assert_str_eq(arr_str(e, "memcache.request.keys", 0), "k1");
	th_ck_num(e, "memcache.response.opaque", 2);
	cJSON_Delete(e);
	e = th_ev(h, 3);
	th_ck_str(e, "memcache.request.opcode", "GetK");
	th_ck_note(e, "Missing response for non-quiet request");
	th_ck_str(e, "status", "Server Error");
	cJSON_Delete(e);
	e = th_ev(h, 4);
	ck_assert_str_eq(arr_str(e, "memcache.request.keys", 0), "y");
	cJSON_Delete(e);
	e = th_ev(h, 5);
	th_ck_str(e, "memcache.request.command", "noop");
	th_ck_str(e, "memcache.request.type", "Info");
	th_ck_str(e, "memcache.request.opcode", "No-op");
	cJSON_Delete(e);
	e = th_ev(h, 6);
	th_ck_str(e, "status", "Client Error");
	th_ck_note(e, "Invalid transaction. Request missing");
	cJSON_Delete(e);
	/* the quiet set never answered, at the end: OK, no note */
	e = th_ev(h, 7);
	th_ck_str(e, "memcache.request.opcode", "SetQ");
	th_ck_str(e, "status", "OK");
	th_ck_absent(e, "error");
	cJSON_Delete(e);
	free(m);
	th_free(h);
}
END_TEST

START_TEST(test_binary_stats)
{
	struct th *h = mk(NULL);
	struct bin *m = calloc(1, sizeof(*m));
	cJSON *e;
	const cJSON *s;

	bin_msg(m, 0x80, 0x10, 9, 0, NULL, 0, NULL, NULL, 0, 0);
	th_tcp(h, 0, m->b, m->n);
	m->n = 0;
	bin_msg(m, 0x81, 0x10, 9, 0, NULL, 0, "pid", "42", 2, 0);
	bin_msg(m, 0x81, 0x10, 9, 0, NULL, 0, "version", "1.6.18", 6, 0);
	th_tcp(h, 1, m->b, m->n);
	ck_assert_uint_eq(h->n_ev, 0);
	m->n = 0;
	bin_msg(m, 0x81, 0x10, 9, 0, NULL, 0, NULL, NULL, 0, 0);
	th_tcp(h, 1, m->b, m->n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "memcache.response.type", "Stats");
	s = th_get(e, "memcache.response.stats");
	ck_assert_int_eq(cJSON_GetArraySize(s), 2);
	ck_assert_str_eq(th_str(cJSON_GetArrayItem(s, 1), "name"), "version");
	ck_assert_str_eq(th_str(cJSON_GetArrayItem(s, 1), "value"), "1.6.18");
	th_ck_absent(e, "memcache.response.keys");
	th_ck_num(e, "server.bytes", 24 * 3 + 5 + 13);
	cJSON_Delete(e);
	free(m);
	th_free(h);
}
END_TEST

START_TEST(test_binary_hostile)
{
	struct th *h = mk(NULL);
	struct bin *m = calloc(1, sizeof(*m));
	uint8_t bad[24];
	cJSON *e;

	/* a key longer than the body: invalid, skipped */
	memset(bad, 0, sizeof(bad));
	bad[0] = 0x80;
	bad[2] = 0xff;
	bad[3] = 0xff;
	bad[11] = 4;
	th_tcp(h, 0, bad, sizeof(bad));
	/* a body of 4 GiB: not believed */
	bad[2] = bad[3] = 0;
	bad[8] = bad[9] = bad[10] = bad[11] = 0xff;
	th_tcp(h, 0, bad, sizeof(bad));
	ck_assert_uint_ge(h->st.parse_errors, 1);
	/* then a real request is found again */
	bin_msg(m, 0x80, 0x0b, 1, 0, NULL, 0, NULL, NULL, 0, 0);
	th_tcp(h, 0, m->b, m->n);
	m->n = 0;
	bin_msg(m, 0x81, 0x0b, 1, 0, NULL, 0, NULL, "1.2.3", 5, 0);
	th_tcp(h, 1, m->b, m->n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_str(e, "memcache.response.version", "1.2.3");
	th_ck_absent(e, "memcache.response.count_values");
	cJSON_Delete(e);
	/* extras shorter than the opcode wants: noted, read as far as
	 * they go */
	m->n = 0;
	bin_msg(m, 0x80, 0x01, 2, 0, "\0\0", 2, "k", NULL, 0, 0);
	th_tcp(h, 0, m->b, m->n);
	th_close(h);
	e = th_ev(h, 1);
	th_ck_note(e, "Invalid memcache message");
	cJSON_Delete(e);
	free(m);
	th_free(h);
}
END_TEST

START_TEST(test_binary_gap_in_value)
{
	struct th *h = mk(NULL);
	struct bin *m = calloc(1, sizeof(*m));
	static uint8_t val[1000];
	cJSON *e;

	bin_msg(m, 0x80, 0x01, 1, 0, set_extras, 8, "k", val, sizeof(val), 0);
	th_tcp(h, 0, m->b, 100);
	th_gap(h, 0, 500);
	th_tcp(h, 0, m->b + 600, m->n - 600);
	m->n = 0;
	bin_msg(m, 0x81, 0x01, 1, 0, NULL, 0, NULL, NULL, 0, 1);
	th_tcp(h, 1, m->b, m->n);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_note(e, "Packet loss while capturing the request");
	th_ck_num(e, "memcache.request.bytes", 1000);
	th_ck_num(e, "memcache.request.count_values", 1);
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	free(m);
	th_free(h);
}
END_TEST

/* ---- UDP ---- */

/* a datagram: the frame header, then data */
static void udp(struct th *h, int dir, uint16_t rid, uint16_t seq, uint16_t cnt, const void *d,
		size_t n)
{
	uint8_t b[2048];

	ck_assert_uint_le(n + 8, sizeof(b));
	b[0] = (uint8_t)(rid >> 8);
	b[1] = (uint8_t)rid;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	b[4] = (uint8_t)(cnt >> 8);
	b[5] = (uint8_t)cnt;
	b[6] = b[7] = 0;
	memcpy(b + 8, d, n);
	th_datagram(h, dir, b, n + 8);
}

START_TEST(test_udp_text)
{
	struct th *h = mk_tp("packetbeat.protocols:\n- type: memcache\n  maxvalues: -1\n", 17);
	cJSON *e;

	udp(h, 0, 7, 0, 1, "get a b\r\n", 9);
	udp(h, 0, 8, 0, 1, "set n 0 0 1 noreply\r\n1\r\n", 24);
	/* noreply: written at once */
	ck_assert_uint_eq(h->n_ev, 1);
	/* a response in three datagrams, out of order */
	udp(h, 1, 7, 2, 3, "END\r\n", 5);
	udp(h, 1, 7, 0, 3, "VALUE a 0 3\r\nab", 15);
	ck_assert_uint_eq(h->n_ev, 1);
	udp(h, 1, 7, 1, 3, "c\r\nVALUE b 0 1\r\nz\r\n", 19);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_str(e, "network.transport", "udp");
	ck_field_bool(e, "memcache.request.noreply", 1);
	th_ck_num(e, "client.bytes", 24);
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_num(e, "memcache.response.count_values", 2);
	ck_assert_str_eq(arr_str(e, "memcache.response.values", 0), "YWJj");
	ck_assert_str_eq(arr_str(e, "memcache.response.keys", 1), "b");
	th_ck_num(e, "server.bytes", 39);
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_udp_item_datagrams)
{
	struct th *h = mk_tp(NULL, 17);
	cJSON *e;

	/* memcached 1.6 sends each item of a get in a datagram of its own,
	 * each "0 of 1", all with the request's id */
	udp(h, 0, 5, 0, 1, "get a b\r\n", 9);
	udp(h, 1, 5, 0, 1, "VALUE a 0 1\r\nx\r\n", 16);
	udp(h, 1, 5, 0, 1, "VALUE b 0 2\r\nyz\r\n", 17);
	ck_assert_uint_eq(h->n_ev, 0);
	udp(h, 1, 5, 0, 1, "END\r\n", 5);
	ck_assert_uint_eq(h->n_ev, 1);
	e = th_ev(h, 0);
	th_ck_num(e, "memcache.response.count_values", 2);
	th_ck_num(e, "memcache.response.bytes", 3);
	th_ck_num(e, "server.bytes", 38);
	th_ck_num(e, "pb.packet.last", th_num(e, "pb.packet.first") + 3);
	cJSON_Delete(e);
	/* the same id again, after the answer: a new transaction */
	udp(h, 0, 5, 0, 1, "version\r\n", 9);
	udp(h, 1, 5, 0, 1, "VERSION 1.6.18\r\n", 16);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 1);
	th_ck_str(e, "memcache.response.version", "1.6.18");
	cJSON_Delete(e);
	th_free(h);
}
END_TEST

START_TEST(test_udp_timeout_and_bad)
{
	struct th *h = mk_tp("packetbeat.protocols:\n- type: memcache\n"
			     "  udptransactiontimeout: 2s\n", 17);
	struct bin *m = calloc(1, sizeof(*m));
	cJSON *e;

	/* no frame header, a sequence past the count, a count of zero */
	th_datagram(h, 0, "\0\1\0", 3);
	udp(h, 0, 1, 5, 2, "x", 1);
	udp(h, 0, 1, 0, 0, "x", 1);
	ck_assert_uint_eq(h->st.parse_errors, 3);
	/* a quiet binary set: waits for the UDP timeout */
	bin_msg(m, 0x80, 0x11, 0, 0, set_extras, 8, "k", "v", 1, 0);
	udp(h, 0, 2, 0, 1, m->b, m->n);
	udp(h, 0, 3, 0, 1, "get z\r\n", 7);
	th_expire(h, 1 * SEC);
	ck_assert_uint_eq(h->n_ev, 0);
	th_expire(h, 2 * SEC);
	ck_assert_uint_eq(h->n_ev, 2);
	e = th_ev(h, 0);
	th_ck_str(e, "memcache.request.opcode", "SetQ");
	th_ck_str(e, "status", "OK");
	cJSON_Delete(e);
	e = th_ev(h, 1);
	th_ck_str(e, "status", "Server Error");
	cJSON_Delete(e);
	/* a response whose request was not seen, at the end */
	udp(h, 1, 9, 0, 1, "STORED\r\n", 8);
	th_close(h);
	ck_assert_uint_eq(h->n_ev, 3);
	e = th_ev(h, 2);
	th_ck_str(e, "status", "Client Error");
	th_ck_str(e, "client.ip", "10.0.0.1");
	cJSON_Delete(e);
	free(m);
	th_free(h);
}
END_TEST

/* ---- options ---- */

START_TEST(test_conf)
{
	ck_assert_int_eq(th_conf_rc(mc(), "packetbeat.protocols:\n- type: memcache\n  maxvalues: -1\n"
				 "  maxbytespervalue: 100\n  parseunknown: true\n"
				 "  udptransactiontimeout: 200ms\n"), 0);
	ck_assert_int_ne(th_conf_rc(mc(), "packetbeat.protocols:\n- type: memcache\n  maxvalues: -2\n"), 0);
	ck_assert_int_ne(th_conf_rc(mc(), "packetbeat.protocols:\n- type: memcache\n  parseunknown: maybe\n"),
			 0);
	ck_assert_int_ne(th_conf_rc(mc(), "packetbeat.protocols:\n- type: memcache\n"
				 "  udptransactiontimeout: soon\n"), 0);
}
END_TEST

/* ---- random input ---- */

START_TEST(test_random)
{
	static const char *const pieces[] = {
		"get ", "set k 0 0 ", "5", "\r\n", "VALUE k 0 ", "END\r\n", "STAT a b\r\n",
		"\x80", "\x81", "\x00\x00\x00", "\xff\xff", "noreply", "mg k q\r\n", "VA 9 \r\n",
		"abcdef", "\n", " ", "CLIENT_ERROR x\r\n", "1234\r\n",
	};
	unsigned seed = 12345, round;

	for (round = 0; round < 300; round++) {
		struct th *h = mk_tp(round & 1 ? "packetbeat.protocols:\n- type: memcache\n"
					     "  maxvalues: -1\n  parseunknown: true\n" : NULL,
				     round % 3 == 2 ? 17 : 6);
		uint8_t buf[512];
		size_t n = 0;
		unsigned k;

		for (k = 0; k < 40; k++) {
			const char *p;
			size_t pn;

			seed = seed * 1103515245u + 12345u;
			p = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
			pn = strlen(p);
			if (p[0] == '\x00')
				pn = 3;
			if (n + pn > sizeof(buf))
				break;
			memcpy(buf + n, p, pn);
			n += pn;
			if ((seed >> 8) % 5 == 0) {
				int dir = (seed >> 4) & 1;

				if (h->c.transport == 17)
					th_datagram(h, dir, buf, n);
				else if ((seed >> 12) % 7 == 0)
					th_gap(h, dir, n);
				else
					th_tcp(h, dir, buf, n);
				n = 0;
			}
		}
		th_close(h);
		th_free(h);
	}
}
END_TEST

static Suite *mc_suite(void)
{
	Suite *s = suite_create("memcache");
	TCase *tc = tcase_create("memcache");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_registered);
	tcase_add_test(tc, test_text_set_get);
	tcase_add_test(tc, test_text_multiget_values);
	tcase_add_test(tc, test_text_maxvalues);
	tcase_add_test(tc, test_text_noreply_quit);
	tcase_add_test(tc, test_text_errors);
	tcase_add_test(tc, test_text_counters_touch_cas);
	tcase_add_test(tc, test_text_stats_version);
	tcase_add_test(tc, test_text_slabs_lru);
	tcase_add_test(tc, test_text_unknown);
	tcase_add_test(tc, test_meta);
	tcase_add_test(tc, test_meta_quiet_keys);
	tcase_add_test(tc, test_unmatched);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_pipeline_overflow);
	tcase_add_test(tc, test_gap_in_value);
	tcase_add_test(tc, test_gap_between);
	tcase_add_test(tc, test_fin_in_data);
	tcase_add_test(tc, test_bad_crlf_and_long_line);
	tcase_add_test(tc, test_mid_stream);
	tcase_add_test(tc, test_send_request_response);
	tcase_add_test(tc, test_split_text);
	tcase_add_test(tc, test_split_binary);
	tcase_add_test(tc, test_binary_fields);
	tcase_add_test(tc, test_binary_quiet);
	tcase_add_test(tc, test_binary_stats);
	tcase_add_test(tc, test_binary_hostile);
	tcase_add_test(tc, test_binary_gap_in_value);
	tcase_add_test(tc, test_udp_text);
	tcase_add_test(tc, test_udp_item_datagrams);
	tcase_add_test(tc, test_udp_timeout_and_bad);
	tcase_add_test(tc, test_conf);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
