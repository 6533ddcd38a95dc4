/*
 * check_proc.c - proc/proc.h: field paths, the event writer, every
 * condition and processor (missing fields, type mismatches, arrays,
 * UTF-8, IPv6), configuration errors, chains and sets, and add_geoip /
 * add_asn on the databases tests/mmdb/make-mmdb builds (and MaxMind's test
 * databases in ../shared/corpus/mmdb when they are there).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proc/proc.h"

/* ---- helpers ---- */

static char out_text[1 << 16];
static char err_text[600];

/* Run the processors of yaml ("processors:" and a list) on the event in;
 * out_text gets the event written, or "DROP".  Returns 0, or -1 with the
 * configuration error in err_text. */
static int run(const char *yaml, const char *in)
{
	struct pb_proc_chain *ch;
	struct pb_conf c;
	struct pb_buf b;
	cJSON *ev;
	int rc;

	ck_assert_int_eq(pb_conf_init(&c), 0);
	err_text[0] = out_text[0] = '\0';
	if (pb_conf_load_string(&c, "t.yml", yaml) < 0) {
		snprintf(err_text, sizeof(err_text), "%s", c.err);
		pb_conf_release(&c);
		return -1;
	}
	rc = pb_proc_chain_compile(&ch, &c, pb_conf_get(&c, "processors"), "processors");
	if (rc < 0) {
		snprintf(err_text, sizeof(err_text), "%s", c.err);
		pb_conf_release(&c);
		return -1;
	}
	pb_conf_release(&c);          /* the chain keeps nothing of it */
	ev = cJSON_Parse(in);
	ck_assert_ptr_nonnull(ev);
	if (!pb_proc_chain_run(ch, ev)) {
		snprintf(out_text, sizeof(out_text), "DROP");
	} else {
		pb_buf_init(&b, 1 << 20);
		ck_assert_int_eq(pb_proc_write_json(&b, ev), 0);
		b.len--;                  /* the newline */
		snprintf(out_text, sizeof(out_text), "%.*s", (int)b.len, b.data);
		pb_buf_release(&b);
	}
	cJSON_Delete(ev);
	pb_proc_chain_free(ch);
	return 0;
}

#define EXPECT(yaml, in, want)                                              \
	do {                                                                \
		ck_assert_msg(run(yaml, in) == 0, "config error: %s", err_text); \
		ck_assert_str_eq(out_text, want);                           \
	} while (0)

#define EXPECT_ERR(yaml, part)                                              \
	do {                                                                \
		ck_assert_int_eq(run(yaml, "{}"), -1);                      \
		ck_assert_msg(strstr(err_text, part) != NULL, "'%s' not in '%s'", \
			      part, err_text);                              \
	} while (0)

/* A condition (YAML of the "when" value) on an event: 1, 0, or -1 when it
 * does not compile. */
static int cond(const char *yaml_when, const char *in)
{
	struct pb_cond *cd;
	struct pb_conf c;
	cJSON *ev;
	char y[2048];
	int r;

	snprintf(y, sizeof(y), "when: %s\n", yaml_when);
	pb_conf_init(&c);
	if (pb_conf_load_string(&c, "w.yml", y) < 0 ||
	    pb_cond_compile(&cd, &c, pb_conf_get(&c, "when"), "when") < 0) {
		snprintf(err_text, sizeof(err_text), "%s", c.err);
		pb_conf_release(&c);
		return -1;
	}
	pb_conf_release(&c);
	ev = cJSON_Parse(in);
	ck_assert_ptr_nonnull(ev);
	r = pb_cond_eval(cd, ev);
	cJSON_Delete(ev);
	pb_cond_free(cd);
	return r;
}

/* ---- fields ---- */

START_TEST(test_field_paths)
{
	cJSON *ev = cJSON_Parse("{\"a\":{\"b\":{\"c\":1}},\"x.y\":{\"z\":2},\"p.q.r\":3,"
				"\"s\":\"str\",\"ab\":4}");
	cJSON *v;

	ck_assert_double_eq(pb_proc_field_get(ev, "a.b.c")->valuedouble, 1);
	ck_assert_double_eq(pb_proc_field_get(ev, "x.y.z")->valuedouble, 2);
	ck_assert_double_eq(pb_proc_field_get(ev, "p.q.r")->valuedouble, 3);
	ck_assert_double_eq(pb_proc_field_get(ev, "ab")->valuedouble, 4);
	ck_assert_ptr_null(pb_proc_field_get(ev, "a.b.c.d"));
	ck_assert_ptr_null(pb_proc_field_get(ev, "a.b.x"));
	ck_assert_ptr_null(pb_proc_field_get(ev, "s.t"));
	ck_assert_ptr_null(pb_proc_field_get(ev, "a."));
	ck_assert_ptr_null(pb_proc_field_get(ev, ""));
	ck_assert_ptr_null(pb_proc_field_get(ev, "A.b.c"));   /* case matters */
	/* put: made on the way, replaced in place, refused through a value */
	ck_assert_int_eq(pb_proc_field_put(ev, "a.b.d", cJSON_CreateNumber(5)), 0);
	ck_assert_int_eq(pb_proc_field_put(ev, "n.m", cJSON_CreateTrue()), 0);
	ck_assert_int_eq(pb_proc_field_put(ev, "x.y.z", cJSON_CreateString("r")), 0);
	ck_assert_int_eq(pb_proc_field_put(ev, "s.t", cJSON_CreateNull()), -1);
	ck_assert_int_eq(pb_proc_field_put(ev, "", cJSON_CreateNull()), -1);
	ck_assert_int_eq(pb_proc_field_put(ev, "n.m", NULL), -1);
	v = pb_proc_field_take(ev, "p.q.r");
	ck_assert_ptr_nonnull(v);
	cJSON_Delete(v);
	ck_assert_ptr_null(pb_proc_field_take(ev, "p.q.r"));
	{
		struct pb_buf b;

		pb_buf_init(&b, 4096);
		pb_proc_write_json(&b, ev);
		ck_assert_str_eq(pb_buf_cstr(&b), "{\"a\":{\"b\":{\"c\":1,\"d\":5}},"
				 "\"x.y\":{\"z\":\"r\"},\"s\":\"str\",\"ab\":4,\"n\":{\"m\":true}}\n");
		pb_buf_release(&b);
	}
	cJSON_Delete(ev);
}
END_TEST

START_TEST(test_write_json)
{
	struct pb_buf b;
	cJSON *ev = cJSON_Parse("{\"i\":1234567890123,\"f\":1.5,\"n\":-0.1,\"big\":1e300,"
				"\"s\":\"a\\u0001\\\"\\\\\\u00e9\\ud83d\\ude00\",\"k\\\"ey\":null,"
				"\"arr\":[true,false,[],{}],\"neg\":-42}");

	ck_assert_ptr_nonnull(ev);
	pb_buf_init(&b, 4096);
	pb_proc_write_json(&b, ev);
	ck_assert_str_eq(pb_buf_cstr(&b), "{\"i\":1234567890123,\"f\":1.5,\"n\":-0.1,"
			 "\"big\":1e+300,\"s\":\"a\\u0001\\\"\\\\\xc3\xa9\xf0\x9f\x98\x80\","
			 "\"k\\\"ey\":null,\"arr\":[true,false,[],{}],\"neg\":-42}\n");
	cJSON_Delete(ev);
	/* bytes that are not UTF-8 come out escaped */
	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "s", "a\xff\xc3(b");
	pb_buf_clear(&b);
	pb_proc_write_json(&b, ev);
	ck_assert_str_eq(pb_buf_cstr(&b), "{\"s\":\"a\\u00ff\\u00c3(b\"}\n");
	cJSON_Delete(ev);
	pb_buf_release(&b);
	/* too big for the buffer's cap: refused whole, nothing half written */
	pb_buf_init(&b, 64);
	pb_buf_add(&b, "x\n", 2);
	ev = cJSON_Parse("{\"a\":\"0123456789012345678901234567890123456789\",\"b\":[1,2,3]}");
	ck_assert_int_eq(pb_proc_write_json(&b, ev), -1);
	ck_assert_uint_eq(b.len, 2);
	cJSON_Delete(ev);
	ev = cJSON_Parse("{\"a\":1}");
	ck_assert_int_eq(pb_proc_write_json(&b, ev), 0);
	ck_assert_str_eq(pb_buf_cstr(&b), "x\n{\"a\":1}\n");
	cJSON_Delete(ev);
	pb_buf_release(&b);
}
END_TEST

/* ---- conditions ---- */

START_TEST(test_cond_equals)
{
	const char *ev = "{\"type\":\"http\",\"http\":{\"response\":{\"status_code\":500}},"
			 "\"ok\":true,\"code\":\"200\",\"tags\":[\"a\",\"b\"],\"f\":1.5}";

	ck_assert_int_eq(cond("{equals: {type: http}}", ev), 1);
	ck_assert_int_eq(cond("{equals: {type: dns}}", ev), 0);
	ck_assert_int_eq(cond("{equals: {http.response.status_code: 500}}", ev), 1);
	ck_assert_int_eq(cond("{equals: {http: {response: {status_code: 500}}}}", ev), 1);
	ck_assert_int_eq(cond("{equals: {http.response.status_code: 501}}", ev), 0);
	/* a quoted number is a string: it does not equal a number */
	ck_assert_int_eq(cond("{equals: {http.response.status_code: \"500\"}}", ev), 0);
	ck_assert_int_eq(cond("{equals: {code: 200}}", ev), 0);
	ck_assert_int_eq(cond("{equals: {code: \"200\"}}", ev), 1);
	ck_assert_int_eq(cond("{equals: {ok: true}}", ev), 1);
	ck_assert_int_eq(cond("{equals: {ok: false}}", ev), 0);
	ck_assert_int_eq(cond("{equals: {f: 1.5}}", ev), 1);
	/* arrays: equals does not look inside (Beats) */
	ck_assert_int_eq(cond("{equals: {tags: a}}", ev), 0);
	ck_assert_int_eq(cond("{equals: {missing: x}}", ev), 0);
	/* several fields: all of them */
	ck_assert_int_eq(cond("{equals: {type: http, ok: true}}", ev), 1);
	ck_assert_int_eq(cond("{equals: {type: http, ok: false}}", ev), 0);
	ck_assert_int_eq(cond("{equals: {tags: [a]}}", ev), -1);
	ck_assert_ptr_nonnull(strstr(err_text, "w.yml:1: when: tags: a list"));
}
END_TEST

START_TEST(test_cond_contains_regexp)
{
	const char *ev = "{\"uri\":\"/api/v1/users\",\"ua\":\"Mozilla curl/8\","
			 "\"tags\":[\"x\",\"api_v2\"],\"n\":12,\"bad\":\"a\xff" "b\","
			 "\"u\":\"caf\xc3\xa9\"}";

	ck_assert_int_eq(cond("{contains: {uri: /api/v1/}}", ev), 1);
	ck_assert_int_eq(cond("{contains: {uri: /api/v2/}}", ev), 0);
	ck_assert_int_eq(cond("{contains: {tags: api}}", ev), 1);
	ck_assert_int_eq(cond("{contains: {n: 1}}", ev), 0);
	ck_assert_int_eq(cond("{contains: {missing: a}}", ev), 0);
	ck_assert_int_eq(cond("{regexp: {uri: \"^/api/.*\"}}", ev), 1);
	ck_assert_int_eq(cond("{regexp: {uri: \"^/API/\"}}", ev), 0);
	ck_assert_int_eq(cond("{regexp: {uri: \"(?i)^/API/\"}}", ev), 1);
	ck_assert_int_eq(cond("{regexp: {ua: \"(curl|wget|nikto|gobuster|sqlmap)\"}}", ev), 1);
	ck_assert_int_eq(cond("{regexp: {uri: \"v\\\\d+\"}}", ev), 1);
	ck_assert_int_eq(cond("{regexp: {uri: \"(?P<ver>v[0-9])\"}}", ev), 1);
	ck_assert_int_eq(cond("{regexp: {tags: \"^api_v[0-9]$\"}}", ev), 1);
	ck_assert_int_eq(cond("{regexp: {n: \"1\"}}", ev), 0);
	/* UTF-8: a character is one '.'; text that is not UTF-8 still matches */
	ck_assert_int_eq(cond("{regexp: {u: \"^caf.$\"}}", ev), 1);
	ck_assert_int_eq(cond("{regexp: {bad: \"b$\"}}", ev), 1);
	ck_assert_int_eq(cond("{regexp: {uri: \"(\"}}", ev), -1);
	ck_assert_ptr_nonnull(strstr(err_text, "bad regular expression"));
}
END_TEST

START_TEST(test_cond_regexp_backtracking)
{
	char ev[200];
	time_t t0 = time(NULL);

	/* a pattern that backtracks exponentially gives up, it does not hang */
	snprintf(ev, sizeof(ev), "{\"s\":\"%s!\"}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	ck_assert_int_eq(cond("{regexp: {s: \"^(a+)+$\"}}", ev), 0);
	ck_assert_int_le(time(NULL) - t0, 5);
}
END_TEST

START_TEST(test_cond_range)
{
	const char *ev = "{\"http\":{\"response\":{\"time_us\":600000,\"status_code\":404}},"
			 "\"s\":\"42\",\"b\":true,\"t\":\"2026-11-29T10:00:00.5Z\",\"x\":\"abc\"}";

	ck_assert_int_eq(cond("{range: {http.response.time_us: {gt: 500000}}}", ev), 1);
	ck_assert_int_eq(cond("{range: {http.response.time_us.gt: 500000}}", ev), 1);
	ck_assert_int_eq(cond("{range: {http.response.time_us.gt: 1000000}}", ev), 0);
	ck_assert_int_eq(cond("{range: {http.response.status_code: {gt: 399, lt: 499}}}", ev), 1);
	ck_assert_int_eq(cond("{range: {http.response.status_code: {gte: 404, lte: 404}}}", ev), 1);
	ck_assert_int_eq(cond("{range: {http.response.status_code: {gt: 404}}}", ev), 0);
	ck_assert_int_eq(cond("{range: {http.response.status_code: {lt: 404}}}", ev), 0);
	ck_assert_int_eq(cond("{range: {s: {gte: 42.0}}}", ev), 1);    /* numeric text */
	ck_assert_int_eq(cond("{range: {b: {gte: 0}}}", ev), 0);
	ck_assert_int_eq(cond("{range: {x: {gte: 0}}}", ev), 0);
	ck_assert_int_eq(cond("{range: {missing: {gte: 0}}}", ev), 0);
	ck_assert_int_eq(cond("{range: {t: {gte: \"2026-11-29T10:00:00Z\", "
			      "lt: \"2026-11-29T11:00:00+01:00\"}}}", ev), 0);
	ck_assert_int_eq(cond("{range: {t: {gte: \"2026-11-29T10:00:00Z\", "
			      "lt: \"2026-11-29T12:00:00+01:00\"}}}", ev), 1);
	ck_assert_int_eq(cond("{range: {s: {gte: \"2026-11-29T10:00:00Z\"}}}", ev), 0);
	ck_assert_int_eq(cond("{range: {x: {about: 3}}}", ev), -1);
	ck_assert_int_eq(cond("{range: {x: {gt: abc}}}", ev), -1);
	ck_assert_int_eq(cond("{range: {x: 3}}", ev), -1);
	ck_assert_int_eq(cond("{range: {x: {gt: 1, lt: \"2026-01-01T00:00:00Z\"}}}", ev), -1);
}
END_TEST

START_TEST(test_cond_network)
{
	static const struct {
		const char *ip, *net;
		int want;
	} t[] = {
		{ "10.1.2.3", "private", 1 }, { "172.16.0.1", "private", 1 },
		{ "172.32.0.1", "private", 0 }, { "192.168.9.9", "private", 1 },
		{ "fd12::1", "private", 1 }, { "2001:db8::1", "private", 0 },
		{ "8.8.8.8", "public", 1 }, { "10.0.0.1", "public", 0 },
		{ "2606:4700::1", "public", 1 }, { "fe80::1", "public", 0 },
		{ "127.0.0.1", "loopback", 1 }, { "::1", "loopback", 1 },
		{ "::2", "loopback", 0 }, { "8.8.8.8", "unicast", 1 },
		{ "224.0.0.1", "unicast", 0 }, { "255.255.255.255", "unicast", 0 },
		{ "224.0.0.251", "multicast", 1 }, { "ff02::fb", "multicast", 1 },
		{ "169.254.1.1", "link_local", 1 }, { "fe80::1", "link_local", 1 },
		{ "224.0.0.5", "link_local_multicast", 1 },
		{ "ff01::1", "interface_local_multicast", 1 },
		{ "0.0.0.0", "unspecified", 1 }, { "::", "unspecified", 1 },
		{ "10.9.8.7", "10.0.0.0/8", 1 }, { "11.0.0.1", "10.0.0.0/8", 0 },
		{ "192.168.1.200", "192.168.1.128/25", 1 },
		{ "192.168.1.100", "192.168.1.128/25", 0 },
		{ "2001:db8:1::5", "2001:db8::/32", 1 }, { "2001:db9::5", "2001:db8::/32", 0 },
		{ "::ffff:10.1.1.1", "10.0.0.0/8", 1 },     /* IPv4-mapped */
		{ "10.1.1.1", "::ffff:10.0.0.0/104", 1 },
		{ "10.1.1.1", "2001:db8::/32", 0 },         /* families apart */
		{ "1.2.3.4", "0.0.0.0/0", 1 },
		{ "not-an-ip", "0.0.0.0/0", 0 },
	};
	char when[200], ev[200];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(when, sizeof(when), "{network: {ip: \"%s\"}}", t[i].net);
		snprintf(ev, sizeof(ev), "{\"ip\":\"%s\"}", t[i].ip);
		ck_assert_msg(cond(when, ev) == t[i].want, "%s in %s", t[i].ip, t[i].net);
	}
	ck_assert_int_eq(cond("{network: {ip: [loopback, \"10.0.0.0/8\"]}}",
			      "{\"ip\":\"10.2.2.2\"}"), 1);
	ck_assert_int_eq(cond("{network: {ip: private}}", "{\"ip\":[\"8.8.8.8\",\"10.0.0.1\"]}"), 1);
	ck_assert_int_eq(cond("{network: {ip: private}}", "{\"ip\":17}"), 0);
	ck_assert_int_eq(cond("{network: {ip: privat}}", "{}"), -1);
	ck_assert_int_eq(cond("{network: {ip: \"10.0.0.0/33\"}}", "{}"), -1);
	ck_assert_int_eq(cond("{network: {ip: \"2001:db8::/129\"}}", "{}"), -1);
	ck_assert_int_eq(cond("{network: {ip: \"10.0.0.0/\"}}", "{}"), -1);
}
END_TEST

START_TEST(test_cond_logic)
{
	const char *ev = "{\"type\":\"flow\",\"a\":1,\"b\":{\"c\":\"x\"}}";

	ck_assert_int_eq(cond("{has_fields: [type, b.c]}", ev), 1);
	ck_assert_int_eq(cond("{has_fields: [type, b.d]}", ev), 0);
	ck_assert_int_eq(cond("{not: {equals: {type: flow}}}", ev), 0);
	ck_assert_int_eq(cond("\"not.equals.type: flow\"", ev), 0);
	ck_assert_int_eq(cond("\"equals.type: flow\"", ev), 1);
	ck_assert_int_eq(cond("\"not.has_fields: [zz]\"", ev), 1);
	ck_assert_int_eq(cond("{or: [{equals: {a: 2}}, {equals: {b.c: x}}]}", ev), 1);
	ck_assert_int_eq(cond("{or: [{equals: {a: 2}}, {equals: {b.c: y}}]}", ev), 0);
	ck_assert_int_eq(cond("{and: [{equals: {a: 1}}, {equals: {b.c: x}}]}", ev), 1);
	ck_assert_int_eq(cond("{and: [{equals: {a: 1}}, {not: {has_fields: [a]}}]}", ev), 0);
	/* several condition names in one map: all of them */
	ck_assert_int_eq(cond("{equals: {a: 1}, contains: {b.c: x}}", ev), 1);
	ck_assert_int_eq(cond("{equals: {a: 1}, contains: {b.c: z}}", ev), 0);
	ck_assert_int_eq(cond("{equal: {a: 1}}", ev), -1);
	ck_assert_ptr_nonnull(strstr(err_text, "unknown condition 'equal'"));
	ck_assert_int_eq(cond("{or: {equals: {a: 1}}}", ev), -1);
	ck_assert_int_eq(cond("{and: []}", ev), -1);
	ck_assert_int_eq(cond("\"just words\"", ev), -1);
	ck_assert_int_eq(cond("{has_fields: a}", ev), -1);
	ck_assert_int_eq(cond("[]", ev), -1);
}
END_TEST

/* ---- processors that move fields ---- */

START_TEST(test_add_fields_tags_labels)
{
	EXPECT("processors:\n- add_fields: {target: '', fields: {env: prod, n: 3, "
	       "t: true, q: \"3\", a.b: c}}\n",
	       "{\"a\":{\"x\":1}}",
	       "{\"a\":{\"x\":1,\"b\":\"c\"},\"env\":\"prod\",\"n\":3,\"t\":true,\"q\":\"3\"}");
	EXPECT("processors:\n- add_fields: {fields: {env: prod}}\n", "{}",
	       "{\"fields\":{\"env\":\"prod\"}}");
	EXPECT("processors:\n- add_fields: {target: project, fields: {id: 5}}\n",
	       "{\"project\":{\"name\":\"x\"}}", "{\"project\":{\"name\":\"x\",\"id\":5}}");
	/* a target that is a value cannot take fields */
	EXPECT("processors:\n- add_fields: {target: project, fields: {id: 5}}\n",
	       "{\"project\":1}",
	       "{\"project\":1,\"error\":{\"message\":\"target 'project' is not an object\"}}");
	EXPECT("processors:\n- add_tags: {tags: [web, prod]}\n- add_tag: {tags: web}\n",
	       "{\"tags\":[\"old\"]}", "{\"tags\":[\"old\",\"web\",\"prod\"]}");
	EXPECT("processors:\n- add_tags: {tags: x, target: labels.t}\n", "{}",
	       "{\"labels\":{\"t\":[\"x\"]}}");
	EXPECT("processors:\n- add_tags: {tags: x}\n", "{\"tags\":\"one\"}",
	       "{\"tags\":[\"one\",\"x\"]}");
	EXPECT("processors:\n- add_tags: {tags: x}\n", "{\"tags\":{}}",
	       "{\"tags\":{},\"error\":{\"message\":\"add_tags: 'tags' is not a list of tags\"}}");
	EXPECT("processors:\n- add_labels:\n    labels: {number: 1, with.dots: test, "
	       "nested: {with.dots: nested}}\n", "{}",
	       "{\"labels\":{\"number\":1,\"with.dots\":\"test\",\"nested.with.dots\":\"nested\"}}");
	EXPECT_ERR("processors:\n- add_tags: {target: x}\n", "needs tags");
	EXPECT_ERR("processors:\n- add_fields: {target: x}\n", "needs fields");
}
END_TEST

START_TEST(test_drop_include)
{
	EXPECT("processors:\n- drop_event: {when: {equals: {type: flow}}}\n",
	       "{\"type\":\"flow\"}", "DROP");
	EXPECT("processors:\n- drop_event: {when: {equals: {type: flow}}}\n",
	       "{\"type\":\"http\"}", "{\"type\":\"http\"}");
	EXPECT("processors:\n- drop_event:\n", "{\"a\":1}", "DROP");
	EXPECT("processors:\n- drop_fields: {fields: [a.b, \"@timestamp\", type, c]}\n",
	       "{\"@timestamp\":\"t\",\"type\":\"x\",\"a\":{\"b\":1,\"z\":2}}",
	       "{\"@timestamp\":\"t\",\"type\":\"x\",\"a\":{\"z\":2},"
	       "\"error\":{\"message\":\"drop_fields: not found: c\"}}");
	EXPECT("processors:\n- drop_fields: {fields: [c], ignore_missing: true}\n",
	       "{\"a\":1}", "{\"a\":1}");
	EXPECT("processors:\n- drop_fields: {fields: [\"/^http\\\\.request\\\\.h/\"], "
	       "ignore_missing: true}\n",
	       "{\"http\":{\"request\":{\"headers\":{\"a\":1},\"method\":\"GET\"}}}",
	       "{\"http\":{\"request\":{\"method\":\"GET\"}}}");
	EXPECT("processors:\n- include_fields: {fields: [source.ip, http.request]}\n",
	       "{\"@timestamp\":\"t\",\"type\":\"x\",\"source\":{\"ip\":\"1\",\"port\":2},"
	       "\"http\":{\"request\":{\"m\":1},\"response\":{}},\"dest\":1,"
	       "\"source.ip\":\"dotted\"}",
	       "{\"@timestamp\":\"t\",\"type\":\"x\",\"source\":{\"ip\":\"1\"},"
	       "\"http\":{\"request\":{\"m\":1}},\"source.ip\":\"dotted\"}");
	EXPECT("processors:\n- include_fields: {fields: [nothing]}\n", "{\"a\":{\"b\":1}}", "{}");
}
END_TEST

START_TEST(test_rename_copy_move)
{
	EXPECT("processors:\n- rename: {fields: [{from: source.ip, to: client.ip}]}\n",
	       "{\"source\":{\"ip\":\"1.1.1.1\",\"port\":1}}",
	       "{\"source\":{\"port\":1},\"client\":{\"ip\":\"1.1.1.1\"}}");
	EXPECT("processors:\n- rename: {fields: [{from: a, to: b}]}\n", "{\"x\":1}",
	       "{\"x\":1,\"error\":{\"message\":\"rename: could not fetch value for key: a\"}}");
	EXPECT("processors:\n- rename: {fields: [{from: a, to: b}], ignore_missing: true}\n",
	       "{\"x\":1}", "{\"x\":1}");
	EXPECT("processors:\n- rename: {fields: [{from: a, to: b}], fail_on_error: false}\n",
	       "{\"x\":1}", "{\"x\":1}");
	EXPECT("processors:\n- rename: {fields: [{from: a, to: b}]}\n", "{\"a\":1,\"b\":2}",
	       "{\"a\":1,\"b\":2,\"error\":{\"message\":\"rename: target field b already "
	       "exists, drop or rename this field first\"}}");
	/* the second pair fails: the first is undone */
	EXPECT("processors:\n- rename: {fields: [{from: a, to: c}, {from: zz, to: d}]}\n",
	       "{\"a\":1}",
	       "{\"a\":1,\"error\":{\"message\":\"rename: could not fetch value for key: zz\"}}");
	/* ... unless fail_on_error is false */
	EXPECT("processors:\n- rename: {fields: [{from: a, to: c}, {from: zz, to: d}], "
	       "fail_on_error: false}\n", "{\"a\":1}", "{\"c\":1}");
	/* into a value: put back */
	EXPECT("processors:\n- rename: {fields: [{from: a, to: s.t}]}\n",
	       "{\"a\":1,\"s\":\"x\"}",
	       "{\"s\":\"x\",\"a\":1,\"error\":{\"message\":\"rename: cannot put s.t: a part "
	       "of it is not an object\"}}");
	EXPECT("processors:\n- copy_fields: {fields: [{from: a.b, to: c}]}\n",
	       "{\"a\":{\"b\":[1,2]}}", "{\"a\":{\"b\":[1,2]},\"c\":[1,2]}");
	EXPECT("processors:\n- copy_fields: {fields: [{from: a, to: c}]}\n",
	       "{\"a\":1,\"c\":0}",
	       "{\"a\":1,\"c\":0,\"error\":{\"message\":\"copy_fields: target field c already "
	       "exists, drop or rename this field first\"}}");
	EXPECT("processors:\n- move_fields: {from: app, fields: [method, time], to: rpc.}\n",
	       "{\"app\":{\"method\":\"m\",\"time\":3,\"other\":1}}",
	       "{\"app\":{\"other\":1},\"rpc\":{\"method\":\"m\",\"time\":3}}");
	EXPECT("processors:\n- move_fields: {from: app, exclude: [other], to: x_}\n",
	       "{\"app\":{\"method\":\"m\",\"other\":1}}",
	       "{\"app\":{\"other\":1},\"x_method\":\"m\"}");
	EXPECT_ERR("processors:\n- rename: {fields: [{from: a}]}\n", "needs from and to");
	EXPECT_ERR("processors:\n- rename: {fields: a}\n", "needs fields");
}
END_TEST

/* ---- processors that rewrite values ---- */

START_TEST(test_truncate)
{
	/* 1020 bytes, then € (3 bytes) across the 1024 cut */
	char in[2200], want[2200], body[1100];

	memset(body, 'a', 1020);
	body[1020] = '\0';
	snprintf(in, sizeof(in), "{\"b\":\"%s\xe2\x82\xac\xe2\x82\xac\"}", body);
	snprintf(want, sizeof(want), "{\"b\":\"%s\xe2\x82\xac\",\"log\":{\"flags\":"
		 "[\"truncated\"]}}", body);
	EXPECT("processors:\n- truncate_fields: {fields: [b], max_bytes: 1024}\n", in, want);
	EXPECT("processors:\n- truncate_fields: {fields: [b], max_bytes: 3}\n",
	       "{\"b\":\"a\xc3\xa9\xc3\xa9\"}",
	       "{\"b\":\"a\xc3\xa9\",\"log\":{\"flags\":[\"truncated\"]}}");
	EXPECT("processors:\n- truncate_fields: {fields: [b], max_bytes: 2}\n",
	       "{\"b\":\"a\xc3\xa9\"}", "{\"b\":\"a\",\"log\":{\"flags\":[\"truncated\"]}}");
	EXPECT("processors:\n- truncate_fields: {fields: [b], max_characters: 2}\n",
	       "{\"b\":\"\xf0\x9f\x98\x80\xc3\xa9x\"}",
	       "{\"b\":\"\xf0\x9f\x98\x80\xc3\xa9\",\"log\":{\"flags\":[\"truncated\"]}}");
	EXPECT("processors:\n- truncate_fields: {fields: [b], max_characters: 5}\n",
	       "{\"b\":\"short\"}", "{\"b\":\"short\"}");
	EXPECT("processors:\n- truncate_fields: {fields: [b], max_bytes: 2}\n",
	       "{\"b\":42}",
	       "{\"b\":42,\"error\":{\"message\":\"truncate_fields: value of b cannot be "
	       "truncated: not a string\"}}");
	EXPECT("processors:\n- truncate_fields: {fields: [b, c], max_bytes: 1, "
	       "ignore_missing: true}\n", "{\"c\":\"xyz\"}",
	       "{\"c\":\"x\",\"log\":{\"flags\":[\"truncated\"]}}");
	EXPECT("processors:\n- truncate_fields: {fields: [b], max_bytes: 1}\n", "{}",
	       "{\"error\":{\"message\":\"truncate_fields: could not fetch value for key: b\"}}");
	EXPECT_ERR("processors:\n- truncate_fields: {fields: [b]}\n", "one of max_bytes");
	EXPECT_ERR("processors:\n- truncate_fields: {fields: [b], max_bytes: 1, "
		   "max_characters: 1}\n", "one of max_bytes");
	EXPECT_ERR("processors:\n- truncate_fields: {fields: [b], max_bytes: 0}\n", "1 or more");
}
END_TEST

START_TEST(test_convert)
{
	EXPECT("processors:\n- convert:\n    fields:\n"
	       "    - {from: a, to: a_int, type: integer}\n"
	       "    - {from: b, type: float}\n"
	       "    - {from: c, type: string}\n"
	       "    - {from: d, type: boolean}\n"
	       "    - {from: e, type: ip}\n"
	       "    - {from: f, type: long}\n"
	       "    - {from: g, type: string}\n"
	       "    - {from: h, type: integer}\n",
	       "{\"a\":\"42\",\"b\":\"2.5\",\"c\":7,\"d\":\"TRUE\",\"e\":\"fe80::1\","
	       "\"f\":\"-9000000000\",\"g\":2.25,\"h\":3.9}",
	       "{\"a\":\"42\",\"b\":2.5,\"c\":\"7\",\"d\":true,\"e\":\"fe80::1\","
	       "\"f\":-9000000000,\"g\":\"2.25\",\"h\":3,\"a_int\":42}");
	EXPECT("processors:\n- convert: {fields: [{from: a, to: b, type: integer}], "
	       "mode: rename}\n", "{\"a\":\"7\"}", "{\"b\":7}");
	EXPECT("processors:\n- convert: {fields: [{from: a, type: integer}]}\n",
	       "{\"a\":\"x7\"}",
	       "{\"a\":\"x7\",\"error\":{\"message\":\"convert: unable to convert value of "
	       "[a]: 'x7' is not an integer\"}}");
	EXPECT("processors:\n- convert: {fields: [{from: a, type: integer}]}\n",
	       "{\"a\":\"9000000000\"}",
	       "{\"a\":\"9000000000\",\"error\":{\"message\":\"convert: unable to convert "
	       "value of [a]: out of the range of an integer\"}}");
	EXPECT("processors:\n- convert: {fields: [{from: a, type: ip}]}\n", "{\"a\":\"1.2.3\"}",
	       "{\"a\":\"1.2.3\",\"error\":{\"message\":\"convert: unable to convert value of "
	       "[a]: not an IP address\"}}");
	EXPECT("processors:\n- convert: {fields: [{from: a, type: boolean}]}\n",
	       "{\"a\":\"yes\"}",
	       "{\"a\":\"yes\",\"error\":{\"message\":\"convert: unable to convert value of "
	       "[a]: not a boolean\"}}");
	/* the first field is converted, the second fails: both undone */
	EXPECT("processors:\n- convert: {fields: [{from: a, type: integer}, "
	       "{from: b, type: integer}]}\n", "{\"a\":\"1\",\"b\":[]}",
	       "{\"a\":\"1\",\"b\":[],\"error\":{\"message\":\"convert: unable to convert value "
	       "of [b]: not a number, a string or a boolean\"}}");
	EXPECT("processors:\n- convert: {fields: [{from: a, type: integer}], "
	       "ignore_missing: true}\n", "{}", "{}");
	EXPECT("processors:\n- convert: {fields: [{from: a, type: integer}]}\n", "{}",
	       "{\"error\":{\"message\":\"convert: field [a] is missing\"}}");
	EXPECT_ERR("processors:\n- convert: {fields: [{from: a, type: int64}]}\n",
		   "type 'int64'");
	EXPECT_ERR("processors:\n- convert: {fields: [{from: a}], mode: move}\n", "mode");
}
END_TEST

START_TEST(test_replace_urldecode_base64)
{
	EXPECT("processors:\n- replace:\n    fields:\n"
	       "    - {field: p, pattern: \"([a-z]+)=\\\\d+\", replacement: \"$1=N\"}\n",
	       "{\"p\":\"a=1&bb=22\"}", "{\"p\":\"a=N&bb=N\"}");
	EXPECT("processors:\n- replace: {fields: [{field: p, pattern: x, replacement: y}]}\n",
	       "{\"p\":3}", "{\"p\":3,\"error\":{\"message\":\"replace: p is not a string\"}}");
	EXPECT_ERR("processors:\n- replace: {fields: [{field: p, pattern: \"[\"}]}\n",
		   "not a regular expression");
	EXPECT("processors:\n- urldecode: {fields: [{from: u, to: d}]}\n",
	       "{\"u\":\"a%20b+c%C3%A9\"}", "{\"u\":\"a%20b+c%C3%A9\",\"d\":\"a b c\xc3\xa9\"}");
	EXPECT("processors:\n- urldecode: {fields: [{from: u}]}\n", "{\"u\":\"%zz\"}",
	       "{\"u\":\"%zz\",\"error\":{\"message\":\"urldecode: u: not a URL-encoded "
	       "string\"}}");
	EXPECT("processors:\n- decode_base64_field: {field: {from: b, to: d}}\n",
	       "{\"b\":\"aGVsbG8=\"}", "{\"b\":\"aGVsbG8=\",\"d\":\"hello\"}");
	EXPECT("processors:\n- decode_base64_field: {field: {from: b}}\n",
	       "{\"b\":\"//79\"}", "{\"b\":\"\\u00ff\\u00fe\\u00fd\"}");
	EXPECT("processors:\n- decode_base64_field: {field: {from: b}}\n",
	       "{\"b\":\"!!\"}",
	       "{\"b\":\"!!\",\"error\":{\"message\":\"decode_base64_field: b is not base64\"}}");
}
END_TEST

START_TEST(test_decode_json_dissect)
{
	EXPECT("processors:\n- decode_json_fields: {fields: [m]}\n",
	       "{\"m\":\"{\\\"a\\\":1,\\\"b\\\":\\\"{\\\\\\\"c\\\\\\\":2}\\\"}\"}",
	       "{\"m\":{\"a\":1,\"b\":\"{\\\"c\\\":2}\"}}");
	EXPECT("processors:\n- decode_json_fields: {fields: [m], max_depth: 2, target: ''}\n",
	       "{\"a\":0,\"m\":\"{\\\"a\\\":1,\\\"b\\\":\\\"{\\\\\\\"c\\\\\\\":2}\\\"}\"}",
	       "{\"a\":0,\"m\":\"{\\\"a\\\":1,\\\"b\\\":\\\"{\\\\\\\"c\\\\\\\":2}\\\"}\","
	       "\"b\":{\"c\":2}}");
	EXPECT("processors:\n- decode_json_fields: {fields: [m], target: x}\n",
	       "{\"m\":\"[1]\"}", "{\"m\":\"[1]\"}");
	EXPECT("processors:\n- decode_json_fields: {fields: [m], target: x, process_array: true}\n",
	       "{\"m\":\"[1]\"}", "{\"m\":\"[1]\",\"x\":[1]}");
	EXPECT("processors:\n- decode_json_fields: {fields: [m], add_error_key: true}\n",
	       "{\"m\":\"{bad\"}",
	       "{\"m\":\"{bad\",\"error\":{\"message\":\"decode_json_fields: m: not valid JSON\"}}");
	EXPECT("processors:\n- dissect: {tokenizer: \"%{method} %{uri} HTTP/%{ver|float}\", "
	       "field: q}\n", "{\"q\":\"GET /a b HTTP/1.1\"}",
	       "{\"q\":\"GET /a b HTTP/1.1\",\"dissect\":{\"method\":\"GET\",\"uri\":\"/a b\","
	       "\"ver\":1.1}}");
	EXPECT("processors:\n- dissect: {tokenizer: \"[%{ts}] %{lvl->} %{?skip} %{msg}\", "
	       "field: m, target_prefix: ''}\n", "{\"m\":\"[t1] INFO    x the rest\"}",
	       "{\"m\":\"[t1] INFO    x the rest\",\"ts\":\"t1\",\"lvl\":\"INFO\","
	       "\"msg\":\"the rest\"}");
	EXPECT("processors:\n- dissect: {tokenizer: \"%{a}:%{b}\", field: m}\n",
	       "{\"m\":\"nocolon\"}",
	       "{\"m\":\"nocolon\",\"log\":{\"flags\":[\"dissect_parsing_error\"]},"
	       "\"error\":{\"message\":\"dissect: could not find delimiter ':'\"}}");
	EXPECT_ERR("processors:\n- dissect: {tokenizer: \"%{a}%{b}\"}\n", "nothing between");
}
END_TEST

/* The key modifiers, with the examples of Beats' dissect tests. */
#define DIS(tok, opts) "processors:\n- dissect: {tokenizer: \"" tok "\", field: m" opts "}\n"

START_TEST(test_dissect_append)
{
	/* joined by the text before the +key */
	EXPECT(DIS("%{key}-%{+key}-%{+key}", ""), "{\"m\":\"1-2-3\"}",
	       "{\"m\":\"1-2-3\",\"dissect\":{\"key\":\"1-2-3\"}}");
	/* /N orders the appends; a +key with nothing before it joins by a space */
	EXPECT(DIS("%{+key/3} %{+key/1} %{+key/2}", ""), "{\"m\":\"1 2 3\"}",
	       "{\"m\":\"1 2 3\",\"dissect\":{\"key\":\"2 3 1\"}}");
	EXPECT(DIS("%{+key/2} %{+key/1}", ", target_prefix: ''"), "{\"m\":\"hello world\"}",
	       "{\"m\":\"hello world\",\"key\":\"world hello\"}");
	EXPECT(DIS("%{+name} %{+name}, %{age}", ""), "{\"m\":\"john doe, 42\"}",
	       "{\"m\":\"john doe, 42\",\"dissect\":{\"name\":\"john doe\",\"age\":\"42\"}}");
	EXPECT_ERR(DIS("%{+} %{a}", ""), "without a name");
}
END_TEST

START_TEST(test_dissect_reference)
{
	EXPECT(DIS("%{?key} %{&key}", ""), "{\"m\":\"hello world\"}",
	       "{\"m\":\"hello world\",\"dissect\":{\"hello\":\"world\"}}");
	EXPECT(DIS("%{*key} %{&key}", ", target_prefix: ''"), "{\"m\":\"hello world\"}",
	       "{\"m\":\"hello world\",\"hello\":\"world\"}");
	EXPECT(DIS("%{*k1}=%{&k1} %{*k2}=%{&k2|integer}", ""), "{\"m\":\"user=bob pid=42\"}",
	       "{\"m\":\"user=bob pid=42\",\"dissect\":{\"user\":\"bob\",\"pid\":42}}");
	/* a reference naming a dotted key makes it nested */
	EXPECT(DIS("%{*k} %{&k}", ""), "{\"m\":\"a.b c\"}",
	       "{\"m\":\"a.b c\",\"dissect\":{\"a\":{\"b\":\"c\"}}}");
	EXPECT_ERR(DIS("%{a} %{&key}", ""), "missing reference for key 'key'");
	EXPECT_ERR(DIS("%{*a} %{+&a}", ""), "mixed prefix");
	EXPECT_ERR(DIS("%{*a} %{&+a}", ""), "mixed prefix");
}
END_TEST

START_TEST(test_dissect_skip_pad)
{
	EXPECT(DIS("%{} %{key}", ""), "{\"m\":\"hello world\"}",
	       "{\"m\":\"hello world\",\"dissect\":{\"key\":\"world\"}}");
	EXPECT(DIS("%{?first} %{key}", ""), "{\"m\":\"hello world\"}",
	       "{\"m\":\"hello world\",\"dissect\":{\"key\":\"world\"}}");
	EXPECT(DIS("%{id} %{function->} %{server}", ""),
	       "{\"m\":\"00000043 ViewReceive     machine-321\"}",
	       "{\"m\":\"00000043 ViewReceive     machine-321\",\"dissect\":{\"id\":\"00000043\","
	       "\"function\":\"ViewReceive\",\"server\":\"machine-321\"}}");
	EXPECT(DIS("%{id} %{function} %{server->} ", ""),
	       "{\"m\":\"00000043 ViewReceive machine-321    \"}",
	       "{\"m\":\"00000043 ViewReceive machine-321    \",\"dissect\":{\"id\":\"00000043\","
	       "\"function\":\"ViewReceive\",\"server\":\"machine-321\"}}");
	EXPECT(DIS("%{a},%{b},%{c},%{d}", ""), "{\"m\":\"Jane,,,NY\"}",
	       "{\"m\":\"Jane,,,NY\",\"dissect\":{\"a\":\"Jane\",\"b\":\"\",\"c\":\"\","
	       "\"d\":\"NY\"}}");
	/* trailing text after the last delimiter is not looked at */
	EXPECT(DIS("level=%{level} msg=\\\"%{msg}\\\"", ""),
	       "{\"m\":\"level=info msg=\\\"Starting OK\\\" v=2\"}",
	       "{\"m\":\"level=info msg=\\\"Starting OK\\\" v=2\",\"dissect\":{\"level\":\"info\","
	       "\"msg\":\"Starting OK\"}}");
}
END_TEST

START_TEST(test_dissect_options)
{
	EXPECT(DIS("%{a}|%{b}", ", trim_values: all, trim_chars: \" \\t\""),
	       "{\"m\":\" x |\\t y \"}",
	       "{\"m\":\" x |\\t y \",\"dissect\":{\"a\":\"x\",\"b\":\"y\"}}");
	EXPECT(DIS("%{a}|%{b}", ", trim_values: left"), "{\"m\":\" x | y \"}",
	       "{\"m\":\" x | y \",\"dissect\":{\"a\":\"x \",\"b\":\"y \"}}");
	EXPECT(DIS("%{a}|%{b}", ", trim_values: right"), "{\"m\":\" x | y \"}",
	       "{\"m\":\" x | y \",\"dissect\":{\"a\":\" x\",\"b\":\" y\"}}");
	EXPECT_ERR(DIS("%{a}", ", trim_values: both"), "not none, left, right or all");
	/* a value that does not convert stays text, as in Beats */
	EXPECT(DIS("%{n|integer} %{ok|boolean}", ""), "{\"m\":\"abc true\"}",
	       "{\"m\":\"abc true\",\"dissect\":{\"n\":\"abc\",\"ok\":true}}");
	/* an existing key: an error, nothing written, no parsing flag */
	EXPECT(DIS("%{a} %{b}", ", target_prefix: ''"), "{\"m\":\"1 2\",\"b\":0}",
	       "{\"m\":\"1 2\",\"b\":0,\"error\":{\"message\":"
	       "\"dissect: cannot override existing key with `b`\"}}");
	EXPECT(DIS("%{a} %{b}", ", target_prefix: '', overwrite_keys: true"),
	       "{\"m\":\"1 2\",\"b\":0}", "{\"m\":\"1 2\",\"b\":\"2\",\"a\":\"1\"}");
}
END_TEST

START_TEST(test_dissect_failure)
{
	EXPECT(DIS("/var/log/%{key}.log", ""), "{\"m\":\"foobar\"}",
	       "{\"m\":\"foobar\",\"log\":{\"flags\":[\"dissect_parsing_error\"]},"
	       "\"error\":{\"message\":\"dissect: could not find beginning delimiter "
	       "'/var/log/'\"}}");
	EXPECT(DIS("/var/log/%{key}.log", ""), "{\"m\":\"/var/log/foobar\"}",
	       "{\"m\":\"/var/log/foobar\",\"log\":{\"flags\":[\"dissect_parsing_error\"]},"
	       "\"error\":{\"message\":\"dissect: could not find delimiter '.log'\"}}");
	EXPECT(DIS("%{a}", ""), "{\"m\":\"\"}",
	       "{\"m\":\"\",\"log\":{\"flags\":[\"dissect_parsing_error\"]},"
	       "\"error\":{\"message\":\"dissect: empty string provided\"}}");
	/* ignore_failure: flagged, no error, the next processor runs */
	EXPECT("processors:\n- dissect: {tokenizer: \"%{a}:%{b}\", field: m, "
	       "ignore_failure: true}\n- add_tags: {tags: [next]}\n",
	       "{\"m\":\"x\",\"log\":{\"flags\":[\"truncated\"]}}",
	       "{\"m\":\"x\",\"log\":{\"flags\":[\"truncated\",\"dissect_parsing_error\"]},"
	       "\"tags\":[\"next\"]}");
	/* a partial match writes nothing */
	EXPECT(DIS("%{+a} %{+a}:%{b}", ""), "{\"m\":\"x y\"}",
	       "{\"m\":\"x y\",\"log\":{\"flags\":[\"dissect_parsing_error\"]},"
	       "\"error\":{\"message\":\"dissect: could not find delimiter ':'\"}}");
}
END_TEST

START_TEST(test_fingerprint_add_id)
{
	EXPECT("processors:\n- fingerprint: {fields: [b, a]}\n", "{\"a\":1,\"b\":\"x\"}",
	       "{\"a\":1,\"b\":\"x\",\"fingerprint\":"
	       "\"5a21083f56374ae618c500dbeebd075a79e3ff6024ff847b0899deaf151c8b91\"}");
	EXPECT("processors:\n- fingerprint: {fields: [a, b], method: md5, target_field: h}\n",
	       "{\"a\":1,\"b\":\"x\"}",
	       "{\"a\":1,\"b\":\"x\",\"h\":\"2445fa1f79d3e892167cf80961e837bb\"}");
	EXPECT("processors:\n- fingerprint: {fields: [a, z]}\n", "{\"a\":1}",
	       "{\"a\":1,\"error\":{\"message\":\"fingerprint: failed to find field [z] in "
	       "event\"}}");
	EXPECT_ERR("processors:\n- fingerprint: {fields: [a], method: xxhash}\n", "xxhash");
	EXPECT_ERR("processors:\n- fingerprint: {fields: [a], encoding: hex2}\n", "encoding");
	/* the same event gets the same id, another event another */
	ck_assert_int_eq(run("processors:\n- add_id: {}\n", "{\"a\":1}"), 0);
	ck_assert_int_eq(strlen(out_text), strlen("{\"a\":1,\"@metadata\":{\"_id\":\"\"}}") + 20);
	{
		char first[200];

		snprintf(first, sizeof(first), "%s", out_text);
		run("processors:\n- add_id: {}\n", "{\"a\":1}");
		ck_assert_str_eq(out_text, first);
		run("processors:\n- add_id: {}\n", "{\"a\":2}");
		ck_assert_str_ne(out_text, first);
	}
	ck_assert_int_eq(run("processors:\n- add_id: {type: random, target_field: id}\n", "{}"), 0);
	ck_assert_int_eq(strlen(out_text), strlen("{\"id\":\"\"}") + 20);
}
END_TEST

/* ---- addresses ---- */

START_TEST(test_community_id)
{
	/* the test vectors of the Community ID specification */
	EXPECT("processors:\n- community_id:\n",
	       "{\"source\":{\"ip\":\"128.232.110.120\",\"port\":34855},\"destination\":"
	       "{\"ip\":\"66.35.250.204\",\"port\":80},\"network\":{\"transport\":\"tcp\"}}",
	       "{\"source\":{\"ip\":\"128.232.110.120\",\"port\":34855},\"destination\":"
	       "{\"ip\":\"66.35.250.204\",\"port\":80},\"network\":{\"transport\":\"tcp\","
	       "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\"}}");
	/* the other way round, iana_number as text, ports as text */
	EXPECT("processors:\n- community_id: {target: cid}\n",
	       "{\"source\":{\"ip\":\"66.35.250.204\",\"port\":\"80\"},\"destination\":"
	       "{\"ip\":\"128.232.110.120\",\"port\":34855},\"network\":{\"iana_number\":\"6\"}}",
	       "{\"source\":{\"ip\":\"66.35.250.204\",\"port\":\"80\"},\"destination\":"
	       "{\"ip\":\"128.232.110.120\",\"port\":34855},\"network\":{\"iana_number\":\"6\"},"
	       "\"cid\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\"}");
	EXPECT("processors:\n- community_id: {target: cid}\n",
	       "{\"source\":{\"ip\":\"192.168.0.89\"},\"destination\":{\"ip\":\"192.168.0.1\"},"
	       "\"network\":{\"transport\":\"icmp\"},\"icmp\":{\"type\":8,\"code\":0}}",
	       "{\"source\":{\"ip\":\"192.168.0.89\"},\"destination\":{\"ip\":\"192.168.0.1\"},"
	       "\"network\":{\"transport\":\"icmp\"},\"icmp\":{\"type\":8,\"code\":0},"
	       "\"cid\":\"1:X0snYXpgwiv9TZtqg64sgzUn6Dk=\"}");
	EXPECT("processors:\n- community_id: {target: cid}\n",
	       "{\"source\":{\"ip\":\"2001:470:e5bf:dead:4957:2174:e82c:4887\",\"port\":63943},"
	       "\"destination\":{\"ip\":\"2607:f8b0:400c:c03::1a\",\"port\":25},"
	       "\"network\":{\"transport\":\"tcp\"}}",
	       "{\"source\":{\"ip\":\"2001:470:e5bf:dead:4957:2174:e82c:4887\",\"port\":63943},"
	       "\"destination\":{\"ip\":\"2607:f8b0:400c:c03::1a\",\"port\":25},"
	       "\"network\":{\"transport\":\"tcp\"},\"cid\":\"1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=\"}");
	/* there already, missing parts, mixed families: left alone */
	EXPECT("processors:\n- community_id:\n", "{\"network\":{\"community_id\":\"x\"}}",
	       "{\"network\":{\"community_id\":\"x\"}}");
	EXPECT("processors:\n- community_id:\n",
	       "{\"source\":{\"ip\":\"1.2.3.4\"},\"destination\":{\"ip\":\"::1\"},"
	       "\"network\":{\"transport\":\"tcp\"}}",
	       "{\"source\":{\"ip\":\"1.2.3.4\"},\"destination\":{\"ip\":\"::1\"},"
	       "\"network\":{\"transport\":\"tcp\"}}");
	EXPECT("processors:\n- community_id:\n",
	       "{\"source\":{\"ip\":\"1.2.3.4\"},\"destination\":{\"ip\":\"1.2.3.5\"},"
	       "\"network\":{\"transport\":\"tcp\"}}",
	       "{\"source\":{\"ip\":\"1.2.3.4\"},\"destination\":{\"ip\":\"1.2.3.5\"},"
	       "\"network\":{\"transport\":\"tcp\"}}");
	EXPECT_ERR("processors:\n- community_id: {seed: 70000}\n", "seed");
}
END_TEST

START_TEST(test_network_direction)
{
	static const struct { const char *s, *d, *want; } t[] = {
		{ "10.0.0.1", "10.0.0.2", "internal" }, { "10.0.0.1", "8.8.8.8", "outbound" },
		{ "8.8.8.8", "192.168.1.1", "inbound" }, { "8.8.8.8", "1.1.1.1", "external" },
		{ "fd00::1", "2001:4860::1", "outbound" }, { "::1", "127.0.0.1", "internal" },
	};
	char in[300], want[400];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(in, sizeof(in), "{\"source\":{\"ip\":\"%s\"},\"destination\":"
			 "{\"ip\":\"%s\"}}", t[i].s, t[i].d);
		snprintf(want, sizeof(want), "{\"source\":{\"ip\":\"%s\"},\"destination\":"
			 "{\"ip\":\"%s\"},\"network\":{\"direction\":\"%s\"}}", t[i].s, t[i].d,
			 t[i].want);
		EXPECT("processors:\n- add_network_direction:\n    internal_networks:\n"
		       "    - private\n    - loopback\n    - \"192.168.0.0/16\"\n", in, want);
	}
	EXPECT("processors:\n- add_network_direction: {internal_networks: private}\n",
	       "{\"source\":{\"ip\":\"10.0.0.1\"}}", "{\"source\":{\"ip\":\"10.0.0.1\"}}");
	EXPECT("processors:\n- add_network_direction: {internal_networks: private, "
	       "source: a, destination: b, target: dir}\n",
	       "{\"a\":\"10.0.0.1\",\"b\":\"x\"}",
	       "{\"a\":\"10.0.0.1\",\"b\":\"x\",\"error\":{\"message\":"
	       "\"add_network_direction: 'x' is not an IP address\"}}");
	EXPECT_ERR("processors:\n- add_network_direction: {}\n", "needs internal_networks");
	EXPECT_ERR("processors:\n- add_network_direction: {internal_networks: [intranet]}\n",
		   "'intranet' is not a CIDR");
}
END_TEST

/* ---- GeoIP and ASN ---- */

static char mmdb_dir[1024];

/* Build the test databases once, with tests/mmdb/make-mmdb; 0 when
 * there (or 77-style skip: -1 when perl's writer is missing). */
static int mmdb_ready(void)
{
	static int state;   /* 0 not tried, 1 built, -1 cannot */
	const char *src = getenv("top_srcdir"), *build = getenv("top_builddir");
	char cmd[3000];

	if (state)
		return state > 0 ? 0 : -1;
	snprintf(mmdb_dir, sizeof(mmdb_dir), "%s/tests/mmdb", build ? build : ".");
	mkdir(mmdb_dir, 0777);
	snprintf(cmd, sizeof(cmd), "perl '%s/tests/mmdb/make-mmdb' '%s' 2>&1",
		 src ? src : ".", mmdb_dir);
	state = system(cmd) == 0 ? 1 : -1;
	if (state < 0)
		fprintf(stderr, "check_proc: tests/mmdb/make-mmdb failed; GeoIP tests skipped\n");
	return state > 0 ? 0 : -1;
}

START_TEST(test_geoip_asn)
{
	char y[8192];

	if (mmdb_ready() < 0)
		return;
	snprintf(y, sizeof(y), "processors:\n"
		 "- add_geoip: {field: source.ip, target_field: source.geo, "
		 "database_file: '%s/pb-test-city.mmdb', ignore_missing: true}\n"
		 "- add_geoip: {field: destination.ip, "
		 "database_file: '%s/pb-test-city.mmdb', ignore_missing: true}\n"
		 "- add_asn: {field: source.ip, target_field: source.as, "
		 "database_file: '%s/pb-test-asn.mmdb', ignore_missing: true}\n"
		 "- add_asn: {field: destination.ip, "
		 "database_file: '%s/pb-test-asn.mmdb', ignore_missing: true}\n",
		 mmdb_dir, mmdb_dir, mmdb_dir, mmdb_dir);
	EXPECT(y, "{\"source\":{\"ip\":\"81.2.69.7\"},\"destination\":{\"ip\":\"2001:db8:101::1\"}}",
	       "{\"source\":{\"ip\":\"81.2.69.7\",\"geo\":{\"city_name\":\"London\","
	       "\"continent_code\":\"EU\",\"continent_name\":\"Europe\",\"country_iso_code\":\"GB\","
	       "\"country_name\":\"United Kingdom\",\"location\":{\"lat\":51.5142,\"lon\":-0.0931},"
	       "\"region_iso_code\":\"GB-ENG\",\"region_name\":\"England\","
	       "\"timezone\":\"Europe/London\"},\"as\":{\"number\":20712,\"organization\":"
	       "{\"name\":\"Andrews & Arnold Ltd\"}}},\"destination\":{\"ip\":\"2001:db8:101::1\","
	       "\"geo\":{\"city_name\":\"Tokyo\",\"continent_code\":\"AS\",\"continent_name\":\"Asia\","
	       "\"country_iso_code\":\"JP\",\"country_name\":\"Japan\",\"location\":{\"lat\":35.685,"
	       "\"lon\":139.7514},\"region_iso_code\":\"JP-13\",\"region_name\":\"Tokyo\","
	       "\"timezone\":\"Asia/Tokyo\"},\"as\":{\"number\":64496,\"organization\":{\"name\":"
	       "\"Documentation \xc3\x89xample\"}}}}");
	/* a country without a city; an address in no network; IPv4-mapped */
	EXPECT(y, "{\"source\":{\"ip\":\"203.0.113.9\"},\"destination\":{\"ip\":\"10.0.0.1\"}}",
	       "{\"source\":{\"ip\":\"203.0.113.9\",\"geo\":{\"continent_code\":\"OC\","
	       "\"continent_name\":\"Oceania\",\"country_iso_code\":\"AU\",\"country_name\":"
	       "\"Australia\",\"location\":{\"lat\":-33.494,\"lon\":143.2104},\"timezone\":"
	       "\"Australia/Sydney\"}},\"destination\":{\"ip\":\"10.0.0.1\"}}");
	EXPECT(y, "{\"source\":{\"ip\":\"::ffff:216.160.83.57\"}}",
	       "{\"source\":{\"ip\":\"::ffff:216.160.83.57\",\"geo\":{\"city_name\":\"Milton\","
	       "\"continent_code\":\"NA\",\"continent_name\":\"North America\","
	       "\"country_iso_code\":\"US\",\"country_name\":\"United States\",\"location\":"
	       "{\"lat\":47.2513,\"lon\":-122.3149},\"postal_code\":\"98354\",\"region_iso_code\":"
	       "\"US-WA\",\"region_name\":\"Washington\",\"timezone\":\"America/Los_Angeles\"},"
	       "\"as\":{\"number\":209,\"organization\":{\"name\":\"CenturyLink\"}}}}");
	/* missing (ignored), not an address, not a string */
	EXPECT(y, "{}", "{}");
	EXPECT(y, "{\"source\":{\"ip\":\"nope\"}}",
	       "{\"source\":{\"ip\":\"nope\"},\"error\":{\"message\":[\"add_geoip: 'nope' is not "
	       "an IP address\",\"add_asn: 'nope' is not an IP address\"]}}");
	EXPECT(y, "{\"source\":{\"ip\":5}}",
	       "{\"source\":{\"ip\":5},\"error\":{\"message\":[\"add_geoip: field source.ip is "
	       "not an IP address string\",\"add_asn: field source.ip is not an IP address "
	       "string\"]}}");
	/* without ignore_missing a missing field is a failure */
	snprintf(y, sizeof(y), "processors:\n- add_geoip: {field: client.ip, "
		 "database_file: '%s/pb-test-city.mmdb'}\n", mmdb_dir);
	EXPECT(y, "{}", "{\"error\":{\"message\":\"add_geoip: field client.ip not found\"}}");
	/* the target exists: the place goes beside what is there */
	EXPECT(y, "{\"client\":{\"ip\":\"203.0.113.1\",\"geo\":{\"name\":\"dc1\"}}}",
	       "{\"client\":{\"ip\":\"203.0.113.1\",\"geo\":{\"name\":\"dc1\",\"continent_code\":"
	       "\"OC\",\"continent_name\":\"Oceania\",\"country_iso_code\":\"AU\",\"country_name\":"
	       "\"Australia\",\"location\":{\"lat\":-33.494,\"lon\":143.2104},\"timezone\":"
	       "\"Australia/Sydney\"}}}");
	EXPECT_ERR("processors:\n- add_geoip: {field: a, database_file: /nonexistent.mmdb}\n",
		   "cannot open '/nonexistent.mmdb'");
	EXPECT_ERR("processors:\n- add_geoip: {field: a, database_file: /etc/passwd}\n",
		   "cannot open '/etc/passwd'");
	EXPECT_ERR("processors:\n- add_asn: {database_file: x}\n", "needs field");
	EXPECT_ERR("processors:\n- add_asn: {field: x}\n", "needs database_file");
}
END_TEST

/* MaxMind's own test databases, when ../shared/corpus is there. */
START_TEST(test_geoip_maxmind_corpus)
{
	const char *src = getenv("top_srcdir");
	char dir[1024], path[1200], y[8192];

	snprintf(dir, sizeof(dir), "%s/../shared/corpus/mmdb", src ? src : ".");
	snprintf(path, sizeof(path), "%s/GeoIP2-City-Test.mmdb", dir);
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "check_proc: %s absent; MaxMind corpus checks skipped\n", dir);
		return;
	}
	snprintf(y, sizeof(y), "processors:\n"
		 "- add_geoip: {field: a, target_field: g, database_file: '%s/GeoIP2-City-Test.mmdb'}\n"
		 "- add_asn: {field: b, target_field: as, database_file: '%s/GeoLite2-ASN-Test.mmdb'}\n",
		 dir, dir);
	ck_assert_int_eq(run(y, "{\"a\":\"81.2.69.142\",\"b\":\"1.128.0.1\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out_text, "\"city_name\":\"London\""));
	ck_assert_ptr_nonnull(strstr(out_text, "\"country_iso_code\":\"GB\""));
	ck_assert_ptr_nonnull(strstr(out_text, "\"region_iso_code\":\"GB-ENG\""));
	ck_assert_ptr_nonnull(strstr(out_text, "\"as\":{\"number\":1221,\"organization\":"
				     "{\"name\":\"Telstra Pty Ltd\"}}"));
	ck_assert_int_eq(run(y, "{\"a\":\"2001:218::1\",\"b\":\"12.81.92.1\"}"), 0);
	ck_assert_ptr_nonnull(strstr(out_text, "\"country_iso_code\":\"JP\""));
	ck_assert_ptr_nonnull(strstr(out_text, "\"number\":7018"));
	/* broken databases: an error at load or on the event, never a crash */
	snprintf(y, sizeof(y), "processors:\n- add_geoip: {field: a, database_file: "
		 "'%s/GeoIP2-City-Test-Invalid-Node-Count.mmdb'}\n", dir);
	if (run(y, "{\"a\":\"81.2.69.142\"}") == 0)
		ck_assert_ptr_nonnull(strstr(out_text, "error"));
	snprintf(y, sizeof(y), "processors:\n- add_geoip: {field: a, database_file: "
		 "'%s/MaxMind-DB-test-broken-pointers-24.mmdb'}\n", dir);
	if (run(y, "{\"a\":\"1.1.1.16\"}") == 0)
		ck_assert_ptr_nonnull(out_text);
	snprintf(y, sizeof(y), "processors:\n- add_geoip: {field: a, database_file: "
		 "'%s/MaxMind-DB-test-broken-search-tree-24.mmdb'}\n", dir);
	if (run(y, "{\"a\":\"1.1.1.1\"}") == 0)
		ck_assert_ptr_nonnull(out_text);
}
END_TEST

/* ---- chains, errors, sets ---- */

START_TEST(test_if_then_else)
{
	const char *y = "processors:\n- if:\n    or:\n    - equals:\n        "
			"http.response.status_code: 500\n    - range:\n        "
			"http.response.status_code:\n          gt: 399\n          lt: 499\n"
			"  then:\n  - add_tag: {tags: [http_error]}\n  - add_fields:\n"
			"      target: ''\n      fields: {alert_level: warning}\n"
			"  else:\n  - add_tag: {tags: [success]}\n";

	EXPECT(y, "{\"http\":{\"response\":{\"status_code\":404}}}",
	       "{\"http\":{\"response\":{\"status_code\":404}},\"tags\":[\"http_error\"],"
	       "\"alert_level\":\"warning\"}");
	EXPECT(y, "{\"http\":{\"response\":{\"status_code\":500}}}",
	       "{\"http\":{\"response\":{\"status_code\":500}},\"tags\":[\"http_error\"],"
	       "\"alert_level\":\"warning\"}");
	EXPECT(y, "{\"http\":{\"response\":{\"status_code\":200}}}",
	       "{\"http\":{\"response\":{\"status_code\":200}},\"tags\":[\"success\"]}");
	EXPECT(y, "{}", "{\"tags\":[\"success\"]}");
	/* a drop inside then ends the whole chain */
	EXPECT("processors:\n- if: {has_fields: [a]}\n  then: {drop_event: {}}\n"
	       "- add_tag: {tags: x}\n", "{\"a\":1}", "DROP");
	EXPECT("processors:\n- if: {has_fields: [a]}\n  then: [{drop_event: {}}]\n"
	       "- add_tag: {tags: x}\n", "{\"b\":1}", "{\"b\":1,\"tags\":[\"x\"]}");
	EXPECT_ERR("processors:\n- if: {has_fields: [a]}\n", "if without then");
	EXPECT_ERR("processors:\n- if: {has_fields: [a]}\n  then: []\n  also: 1\n",
		   "'also' beside if");
}
END_TEST

START_TEST(test_chain_goes_on)
{
	/* a failure is recorded and the next processor runs */
	EXPECT("processors:\n- rename: {fields: [{from: a, to: b}]}\n"
	       "- convert: {fields: [{from: c, type: integer}]}\n"
	       "- add_tag: {tags: after}\n", "{\"c\":\"x\"}",
	       "{\"c\":\"x\",\"error\":{\"message\":[\"rename: could not fetch value for key: a\","
	       "\"convert: unable to convert value of [c]: 'x' is not an integer\"]},"
	       "\"tags\":[\"after\"]}");
	/* when on every processor */
	EXPECT("processors:\n- add_tag:\n    tags: [slow]\n    when:\n      range:\n"
	       "        http.response.time_us.gt: 500000\n", "{\"http\":{\"response\":"
	       "{\"time_us\":500001}}}", "{\"http\":{\"response\":{\"time_us\":500001}},"
	       "\"tags\":[\"slow\"]}");
	EXPECT("processors:\n- add_tag: {tags: [t], when: \"not.equals.type: flow\"}\n",
	       "{\"type\":\"flow\"}", "{\"type\":\"flow\"}");
}
END_TEST

START_TEST(test_config_errors)
{
	EXPECT_ERR("processors:\n- add_fieldz: {fields: {a: 1}}\n",
		   "t.yml:2: processors.0.add_fieldz: unknown processor 'add_fieldz'");
	EXPECT_ERR("processors:\n- add_tag: {tags: [a]}\n- add_docker_metadata: {}\n",
		   "t.yml:3: processors.1.add_docker_metadata: processor 'add_docker_metadata' "
		   "is not supported by pbtools");
	EXPECT_ERR("processors:\n- registered_domain: {field: a, target_field: b, "
		   "public_suffix_file: /nonexistent}\n", "cannot read the public suffix list");
	EXPECT_ERR("processors:\n- registered_domain: {field: a}\n", "needs field and target_field");
	EXPECT_ERR("processors:\n- add_tag:\n    tags: [a]\n    tagz: [b]\n",
		   "t.yml:4: processors.0.add_tag: unknown option 'tagz' of add_tag");
	EXPECT_ERR("processors:\n- add_tag: {tags: [a]}\n  drop_event: {}\n",
		   "one processor per list item");
	EXPECT_ERR("processors: add_tag\n", "not a list of processors");
	EXPECT_ERR("processors:\n- add_tag: [a]\n", "the options of add_tag are a map");
	EXPECT_ERR("processors:\n- add_tag: {tags: a, ignore_missing: maybe}\n",
		   "ignore_missing: not true or false");
	EXPECT_ERR("processors:\n- add_tag:\n    tags: a\n    when:\n      equal: {a: 1}\n",
		   "t.yml:5: processors.0.add_tag.when: unknown condition 'equal'");
	EXPECT_ERR("processors:\n- drop_event:\n    when:\n      regexp: {a: \"[\"}\n",
		   "t.yml:4: processors.0.drop_event.when: a: bad regular expression");
	/* an empty list is no processors */
	EXPECT("processors: []\n", "{\"a\":1}", "{\"a\":1}");
}
END_TEST

START_TEST(test_set)
{
	struct pb_proc_set *s;
	struct pb_conf c;
	struct pb_buf b;
	const char *yaml =
		"fields: {site: lab}\n"
		"fields_under_root: true\n"
		"tags: [g]\n"
		"packetbeat.flows:\n  tags: [f]\n  processors:\n  - add_fields: {target: '', "
		"fields: {is_flow: true}}\n"
		"packetbeat.protocols:\n- type: http\n  fields: {svc: web}\n  processors:\n"
		"  - drop_event: {when: {equals: {path: /health}}}\n"
		"- type: dns\n  ports: [53]\n"
		"processors:\n- add_tag: {tags: last}\n";
	const char *in = "{\"type\":\"flow\"}\n{\"type\":\"http\",\"path\":\"/\"}\n"
			 "{\"type\":\"http\",\"path\":\"/health\"}\nnot json\n{\"type\":\"dns\"}\n";

	pb_conf_init(&c);
	ck_assert_int_eq(pb_conf_load_string(&c, "s.yml", yaml), 0);
	ck_assert_int_eq(pb_proc_set_load(&s, &c), 0);
	ck_assert(pb_proc_set_active(s));
	ck_assert_int_eq(pb_proc_set_add_yaml(s, &c, "--x",
					      "processors:\n- add_fields: {target: '', "
					      "fields: {cli: 1}}\n"), 0);
	ck_assert_int_eq(pb_proc_set_add_yaml(s, &c, "--y", "processors:\n- nope: {}\n"),
			 -7);
	ck_assert_ptr_nonnull(strstr(c.err, "--y:2: --y.0.nope: unknown processor"));
	pb_buf_init(&b, 1 << 16);
	pb_buf_add(&b, "kept\n", 5);
	pb_buf_add(&b, in, strlen(in));
	/* in place, after what was there: the line that is not JSON, and
	 * what follows it, are left as they are */
	ck_assert_int_eq(pb_proc_set_run_tail(s, &b, 5), 3);
	ck_assert_str_eq(pb_buf_cstr(&b), "kept\n"
		"{\"type\":\"flow\",\"tags\":[\"f\",\"g\",\"last\"],\"site\":\"lab\",\"is_flow\":true,"
		"\"cli\":1}\n"
		"{\"type\":\"http\",\"path\":\"/\",\"fields\":{\"svc\":\"web\"},\"site\":\"lab\","
		"\"tags\":[\"g\",\"last\"],\"cli\":1}\n"
		"not json\n{\"type\":\"dns\"}\n");
	ck_assert_uint_eq(pb_proc_set_stats(s)->events, 3);
	ck_assert_uint_eq(pb_proc_set_stats(s)->dropped, 1);
	pb_buf_clear(&b);
	ck_assert_int_eq(pb_proc_set_run_line(s, &b, "{\"type\":\"dns\"}\n", 15), 1);
	ck_assert_str_eq(pb_buf_cstr(&b), "{\"type\":\"dns\",\"site\":\"lab\",\"tags\":[\"g\","
			 "\"last\"],\"cli\":1}\n");
	pb_buf_release(&b);
	pb_proc_set_free(s);
	pb_conf_release(&c);

	/* no processors at all: not active */
	pb_conf_init(&c);
	ck_assert_int_eq(pb_conf_load_string(&c, "e.yml", "name: x\n"), 0);
	ck_assert_int_eq(pb_proc_set_load(&s, &c), 0);
	ck_assert(!pb_proc_set_active(s));
	pb_proc_set_free(s);
	pb_conf_release(&c);
}
END_TEST

START_TEST(test_host_metadata)
{
	char name[256], want[600];

	ck_assert_int_eq(gethostname(name, sizeof(name)), 0);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(run("processors:\n- add_host_metadata:\n    netinfo.enabled: false\n"
			     "    geo: {name: dc1, location: \"40.7128, -74.0060\"}\n", "{}"), 0);
	snprintf(want, sizeof(want), "{\"host\":{\"name\":\"%s\",\"hostname\":\"%s\",", name, name);
	ck_assert_msg(strncmp(out_text, want, strlen(want)) == 0, "%s", out_text);
	ck_assert_ptr_nonnull(strstr(out_text, "\"os\":{\"type\":\"linux\""));
	ck_assert_ptr_nonnull(strstr(out_text, "\"geo\":{\"name\":\"dc1\",\"location\":"
				     "{\"lat\":40.7128,\"lon\":-74.006}}"));
	ck_assert_ptr_null(strstr(out_text, "\"ip\":"));      /* netinfo off */
	/* replace_fields: false keeps a host that says more than its name */
	EXPECT("processors:\n- add_host_metadata: {replace_fields: false}\n",
	       "{\"host\":{\"name\":\"a\",\"ip\":[\"1.2.3.4\"]}}",
	       "{\"host\":{\"name\":\"a\",\"ip\":[\"1.2.3.4\"]}}");
	EXPECT_ERR("processors:\n- add_host_metadata: {geo: {location: \"north\"}}\n",
		   "geo.location: 'north' is not");
	EXPECT_ERR("processors:\n- add_host_metadata: {geo: {planet: earth}}\n",
		   "geo.planet: unknown key");
}
END_TEST

START_TEST(test_dns_config_and_failure)
{
	time_t t0 = time(NULL);

	EXPECT_ERR("processors:\n- dns: {fields: {a: b}, nameservers: [\"127.0.0.1\"]}\n",
		   "needs type");
	EXPECT_ERR("processors:\n- dns: {type: MX, fields: {a: b}, nameservers: [\"127.0.0.1\"]}\n",
		   "'MX' is not reverse");
	EXPECT_ERR("processors:\n- dns: {type: reverse, nameservers: [\"127.0.0.1\"]}\n",
		   "needs fields");
	EXPECT_ERR("processors:\n- dns: {type: reverse, fields: {a: b}, nameservers: [\"nowhere\"]}\n",
		   "'nowhere' is not an address[:port]");
	EXPECT_ERR("processors:\n- dns: {type: reverse, fields: {a: b}, transport: tls, "
		   "nameservers: [\"127.0.0.1\"]}\n", "'tls' is not supported");
	EXPECT_ERR("processors:\n- dns: {type: reverse, field: a, nameservers: [\"127.0.0.1\"]}\n",
		   "needs target_field");
	EXPECT_ERR("processors:\n- dns: {type: reverse, fields: {a: b}, timeout: soon, "
		   "nameservers: [\"127.0.0.1\"]}\n", "'soon' is not a duration");
	/* nobody answers on the discard port: a timeout, tagged; an address
	 * that is not one: tagged without a query; missing, ignored */
	EXPECT("processors:\n- dns:\n    type: reverse\n    fields: {source.ip: source.domain}\n"
	       "    nameservers: [\"127.0.0.1:9\", \"[::1]:9\"]\n    timeout: 50ms\n"
	       "    tag_on_failure: [_dns_failed]\n",
	       "{\"source\":{\"ip\":\"192.0.2.1\"}}",
	       "{\"source\":{\"ip\":\"192.0.2.1\"},\"tags\":[\"_dns_failed\"]}");
	EXPECT("processors:\n- dns: {type: reverse, field: a, target_field: b, timeout: 50ms, "
	       "nameservers: [\"127.0.0.1:9\"], tag_on_failure: x}\n",
	       "{\"a\":\"not an address\"}", "{\"a\":\"not an address\",\"tags\":[\"x\"]}");
	EXPECT("processors:\n- dns: {type: reverse, field: a, target_field: b, timeout: 50ms, "
	       "nameservers: [\"127.0.0.1:9\"], tag_on_failure: x, ignore_missing: true}\n",
	       "{}", "{}");
	ck_assert_int_le(time(NULL) - t0, 10);
}
END_TEST

START_TEST(test_registered_domain)
{
	const char *src = getenv("top_srcdir");
	char y[2048];

	snprintf(y, sizeof(y), "processors:\n- registered_domain: {field: d, target_field: r, "
		 "target_etld_field: e, target_subdomain_field: s, "
		 "public_suffix_file: '%s/tests/psl/test_psl.dat'}\n", src ? src : ".");
	EXPECT(y, "{\"d\":\"www.Example.COM\"}",
	       "{\"d\":\"www.Example.COM\",\"r\":\"example.com\",\"e\":\"com\",\"s\":\"www\"}");
	EXPECT(y, "{\"d\":\"a.b.example.co.uk.\"}",
	       "{\"d\":\"a.b.example.co.uk.\",\"r\":\"example.co.uk\",\"e\":\"co.uk\","
	       "\"s\":\"a.b\"}");
	/* wildcard and exception rules */
	EXPECT(y, "{\"d\":\"x.y.kawasaki.jp\"}",
	       "{\"d\":\"x.y.kawasaki.jp\",\"r\":\"x.y.kawasaki.jp\",\"e\":\"y.kawasaki.jp\"}");
	EXPECT(y, "{\"d\":\"www.city.kawasaki.jp\"}",
	       "{\"d\":\"www.city.kawasaki.jp\",\"r\":\"city.kawasaki.jp\",\"e\":\"kawasaki.jp\","
	       "\"s\":\"www\"}");
	EXPECT(y, "{\"d\":\"a.unlisted\"}",
	       "{\"d\":\"a.unlisted\",\"r\":\"a.unlisted\",\"e\":\"unlisted\"}");
	EXPECT(y, "{\"d\":\"co.uk\"}",
	       "{\"d\":\"co.uk\",\"error\":{\"message\":\"registered_domain: d: no registered "
	       "domain in it\"}}");
	EXPECT(y, "{\"d\":\"a..b.com\"}",
	       "{\"d\":\"a..b.com\",\"error\":{\"message\":\"registered_domain: d: no registered "
	       "domain in it\"}}");
	EXPECT(y, "{\"d\":7}",
	       "{\"d\":7,\"error\":{\"message\":\"registered_domain: d: no registered domain in it\"}}");
	EXPECT(y, "{}", "{\"error\":{\"message\":\"registered_domain: could not fetch value for "
	       "key: d\"}}");
}
END_TEST

START_TEST(test_yaml_quote)
{
	char q[16];

	ck_assert_int_eq(pb_proc_yaml_quote(q, sizeof(q), "a\"b\\c"), 0);
	ck_assert_str_eq(q, "\"a\\\"b\\\\c\"");
	ck_assert_int_eq(pb_proc_yaml_quote(q, sizeof(q), "0123456789abcdef"), -1);
}
END_TEST

static Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_field_paths);
	tcase_add_test(tc, test_write_json);
	tcase_add_test(tc, test_cond_equals);
	tcase_add_test(tc, test_cond_contains_regexp);
	tcase_add_test(tc, test_cond_regexp_backtracking);
	tcase_add_test(tc, test_cond_range);
	tcase_add_test(tc, test_cond_network);
	tcase_add_test(tc, test_cond_logic);
	tcase_add_test(tc, test_add_fields_tags_labels);
	tcase_add_test(tc, test_drop_include);
	tcase_add_test(tc, test_rename_copy_move);
	tcase_add_test(tc, test_truncate);
	tcase_add_test(tc, test_convert);
	tcase_add_test(tc, test_replace_urldecode_base64);
	tcase_add_test(tc, test_decode_json_dissect);
	tcase_add_test(tc, test_dissect_append);
	tcase_add_test(tc, test_dissect_reference);
	tcase_add_test(tc, test_dissect_skip_pad);
	tcase_add_test(tc, test_dissect_options);
	tcase_add_test(tc, test_dissect_failure);
	tcase_add_test(tc, test_fingerprint_add_id);
	tcase_add_test(tc, test_community_id);
	tcase_add_test(tc, test_network_direction);
	tcase_add_test(tc, test_geoip_asn);
	tcase_add_test(tc, test_geoip_maxmind_corpus);
	tcase_add_test(tc, test_if_then_else);
	tcase_add_test(tc, test_chain_goes_on);
	tcase_add_test(tc, test_config_errors);
	tcase_add_test(tc, test_set);
	tcase_add_test(tc, test_host_metadata);
	tcase_add_test(tc, test_dns_config_and_failure);
	tcase_add_test(tc, test_registered_domain);
	tcase_add_test(tc, test_yaml_quote);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
