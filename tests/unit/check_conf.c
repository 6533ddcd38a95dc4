/*
 * check_conf.c - packetbeat.yml loading (conf/conf.h): nested and dotted
 * keys, lists, duplicates, anchors, -E overrides, ${VAR} expansion, typed
 * getters, the schema check, and a whole representative file.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pb.h"
#include "conf/conf.h"
#include "util/log.h"

static struct pb_conf c;

static void setup(void)
{
	ck_assert_int_eq(pb_conf_init(&c), 0);
}

static void teardown(void)
{
	pb_conf_release(&c);
}

static void load(const char *yaml)
{
	int rc = pb_conf_load_string(&c, "test.yml", yaml);

	ck_assert_msg(rc == 0, "load failed: %s", c.err);
}

/* The scalar at path, or a failure. */
static const char *val(const char *path)
{
	const struct pb_conf_node *n = pb_conf_get(&c, path);

	ck_assert_msg(n != NULL, "%s: missing", path);
	ck_assert_msg(n->kind == PB_CONF_SCALAR, "%s: not a scalar", path);
	return n->value;
}

static int line_of(const char *path)
{
	const struct pb_conf_node *n = pb_conf_get(&c, path);

	ck_assert_msg(n != NULL, "%s: missing", path);
	return n->line;
}

static int count(const char *path)
{
	const struct pb_conf_node *n = pb_conf_get(&c, path), *k;
	int i = 0;

	ck_assert_ptr_nonnull(n);
	for (k = n->child; k; k = k->next)
		i++;
	return i;
}

#define ck_assert_err_has(s)                                                  \
	ck_assert_msg(strstr(c.err, (s)) != NULL, "'%s' not in error '%s'", (s), c.err)

/* ---- loading ---- */

START_TEST(test_nested_and_dotted)
{
	load("packetbeat.interfaces.file: x.pcap\n"
	     "packetbeat:\n"
	     "  interfaces:\n"
	     "    snaplen: 1514\n"
	     "  flows:\n"
	     "    timeout: 30s\n"
	     "packetbeat.flows.period: 10s\n"
	     "packetbeat.interfaces:\n"
	     "  bpf_filter: \"tcp port 80\"\n"
	     "  type.name: nested.dotted\n");
	ck_assert_str_eq(val("packetbeat.interfaces.file"), "x.pcap");
	ck_assert_str_eq(val("packetbeat.interfaces.snaplen"), "1514");
	ck_assert_str_eq(val("packetbeat.interfaces.bpf_filter"), "tcp port 80");
	ck_assert_str_eq(val("packetbeat.interfaces.type.name"), "nested.dotted");
	ck_assert_str_eq(val("packetbeat.flows.timeout"), "30s");
	ck_assert_str_eq(val("packetbeat.flows.period"), "10s");
	/* one map each, merged from every spelling */
	ck_assert_int_eq(count("packetbeat"), 2);
	ck_assert_int_eq(count("packetbeat.interfaces"), 4);
	ck_assert_int_eq(pb_conf_get(&c, "packetbeat.interfaces")->kind, PB_CONF_MAP);
	/* the lines of the values */
	ck_assert_int_eq(line_of("packetbeat.interfaces.file"), 1);
	ck_assert_int_eq(line_of("packetbeat.interfaces.snaplen"), 4);
	ck_assert_int_eq(line_of("packetbeat.flows.period"), 7);
	ck_assert_str_eq(pb_conf_get(&c, "packetbeat.flows.period")->file, "test.yml");
	/* quoting is remembered */
	ck_assert(pb_conf_get(&c, "packetbeat.interfaces.bpf_filter")->quoted);
	ck_assert(!pb_conf_get(&c, "packetbeat.interfaces.file")->quoted);
	/* paths that are not there */
	ck_assert_ptr_null(pb_conf_get(&c, "packetbeat.interfaces.device"));
	ck_assert_ptr_null(pb_conf_get(&c, "packetbeat.interfaces."));
	ck_assert_ptr_null(pb_conf_get(&c, "packetbeat.interfaces.file.x"));
	ck_assert_ptr_null(pb_conf_get(&c, "packetbeat.0"));
	ck_assert_ptr_nonnull(pb_conf_child(pb_conf_get(&c, "packetbeat"), "flows"));
	ck_assert_ptr_null(pb_conf_child(pb_conf_get(&c, "packetbeat"), "flow"));
}
END_TEST

START_TEST(test_list_interfaces)
{
	load("packetbeat.interfaces:\n"
	     "  - device: eth0\n"
	     "    snaplen: 100\n"
	     "  - file: b.pcap\n"
	     "    bpf_filter: udp\n"
	     "tags: [a, \"b c\", 3]\n"
	     "empty: []\n"
	     "nulls: ~\n");
	ck_assert_int_eq(pb_conf_get(&c, "packetbeat.interfaces")->kind, PB_CONF_SEQ);
	ck_assert_int_eq(count("packetbeat.interfaces"), 2);
	ck_assert_str_eq(val("packetbeat.interfaces.0.device"), "eth0");
	ck_assert_str_eq(val("packetbeat.interfaces.0.snaplen"), "100");
	ck_assert_str_eq(val("packetbeat.interfaces.1.file"), "b.pcap");
	ck_assert_str_eq(val("packetbeat.interfaces.1.bpf_filter"), "udp");
	ck_assert_int_eq(line_of("packetbeat.interfaces.1.file"), 4);
	ck_assert_ptr_null(pb_conf_get(&c, "packetbeat.interfaces.2"));
	ck_assert_ptr_null(pb_conf_get(&c, "packetbeat.interfaces.x"));
	ck_assert_str_eq(val("tags.1"), "b c");
	ck_assert_str_eq(val("tags.2"), "3");
	ck_assert_int_eq(count("empty"), 0);
	ck_assert_str_eq(val("nulls"), "");
	ck_assert_int_eq(pb_conf_check(&c), 0);
}
END_TEST

START_TEST(test_duplicate_keys)
{
	load("name: first\n"
	     "name: second\n"
	     "packetbeat.flows.timeout: 10s\n"
	     "packetbeat:\n"
	     "  flows:\n"
	     "    timeout: 20s\n"
	     "    timeout: 25s\n"
	     "a:\n"
	     "  x: 1\n"
	     "a: 5\n"
	     "b: 5\n"
	     "b:\n"
	     "  y: 2\n");
	ck_assert_str_eq(val("name"), "second");
	ck_assert_int_eq(line_of("name"), 2);
	ck_assert_str_eq(val("packetbeat.flows.timeout"), "25s");
	ck_assert_int_eq(count("packetbeat.flows"), 1);
	ck_assert_str_eq(val("a"), "5");
	ck_assert_str_eq(val("b.y"), "2");
	/* a second document merges over the first, map by map */
	ck_assert_int_eq(pb_conf_load_string(&c, "second.yml",
					     "packetbeat.flows.period: 1s\nname: third\n"), 0);
	ck_assert_str_eq(val("name"), "third");
	ck_assert_str_eq(val("packetbeat.flows.timeout"), "25s");
	ck_assert_str_eq(val("packetbeat.flows.period"), "1s");
	ck_assert_str_eq(pb_conf_get(&c, "name")->file, "second.yml");
}
END_TEST

START_TEST(test_anchors)
{
	load("defaults: &def\n"
	     "  snaplen: 1514\n"
	     "  type: pcap\n"
	     "packetbeat.interfaces:\n"
	     "  <<: *def\n"
	     "  device: eth0\n"
	     "  type: af_packet\n"
	     "other:\n"
	     "  type: mine\n"
	     "  <<: *def\n"
	     "tags: &t [a, b]\n"
	     "packetbeat.flows.tags: *t\n"
	     "port: &p 53\n"
	     "ports: [*p, 5353]\n");
	ck_assert_str_eq(val("packetbeat.interfaces.snaplen"), "1514");
	ck_assert_str_eq(val("packetbeat.interfaces.device"), "eth0");
	/* a key after the merge overrides it, one before it is kept */
	ck_assert_str_eq(val("packetbeat.interfaces.type"), "af_packet");
	ck_assert_int_eq(count("packetbeat.interfaces"), 3);
	ck_assert_str_eq(val("other.type"), "mine");
	ck_assert_str_eq(val("other.snaplen"), "1514");
	ck_assert_int_eq(count("other"), 2);
	ck_assert_str_eq(val("packetbeat.flows.tags.1"), "b");
	ck_assert_str_eq(val("ports.0"), "53");
	/* the anchored map itself is unchanged */
	ck_assert_str_eq(val("defaults.type"), "pcap");
	ck_assert_int_eq(count("defaults"), 2);
	ck_assert_ptr_null(pb_conf_get(&c, "<<"));
	ck_assert_ptr_null(pb_conf_get(&c, "other.<<"));
}
END_TEST

START_TEST(test_anchor_replaced)
{
	/* An anchored node that a later duplicate key replaces, or that is
	 * merged into a map of the same name, can still be aliased. */
	load("a: &x\n"
	     "  k: 1\n"
	     "a: 2\n"
	     "b: *x\n"
	     "packetbeat.flows.enabled: true\n"
	     "packetbeat: &pb\n"
	     "  flows:\n"
	     "    timeout: 5s\n"
	     "copy: *pb\n"
	     "s: &sc one\n"
	     "s: two\n"
	     "t: *sc\n");
	ck_assert_str_eq(val("a"), "2");
	ck_assert_str_eq(val("b.k"), "1");
	ck_assert_str_eq(val("packetbeat.flows.enabled"), "true");
	ck_assert_str_eq(val("packetbeat.flows.timeout"), "5s");
	ck_assert_str_eq(val("copy.flows.timeout"), "5s");
	ck_assert_str_eq(val("s"), "two");
	ck_assert_str_eq(val("t"), "one");
}
END_TEST

START_TEST(test_alias_errors)
{
	ck_assert_int_eq(pb_conf_load_string(&c, "a.yml", "x: 1\ny: *nope\n"), PB_EUSAGE);
	ck_assert_err_has("a.yml:2:");
	ck_assert_err_has("nope");
	/* an alias expanding to more values than a configuration may hold */
	ck_assert_int_eq(pb_conf_load_string(&c, "bomb.yml",
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"), PB_EUSAGE);
	ck_assert_err_has("bomb.yml:");
	ck_assert_err_has("too many values");
	/* nothing of a failed load is kept */
	ck_assert_ptr_null(pb_conf_get(&c, "a"));
	ck_assert_ptr_null(pb_conf_get(&c, "x"));
}
END_TEST

START_TEST(test_syntax_errors)
{
	ck_assert_int_eq(pb_conf_load_string(&c, "bad.yml",
					     "name: ok\ntags: [a, b\nother: x\n"), PB_EUSAGE);
	ck_assert_msg(!strncmp(c.err, "bad.yml:", 8), "error: %s", c.err);
	ck_assert_err_has("bad.yml:3:");

	ck_assert_int_eq(pb_conf_load_string(&c, "bad2.yml",
					     "name: ok\nflows: a: b\n"), PB_EUSAGE);
	ck_assert_err_has("bad2.yml:2:");

	ck_assert_int_eq(pb_conf_load_string(&c, "tab.yml",
					     "packetbeat:\n\tflows: 1\n"), PB_EUSAGE);
	ck_assert_err_has("tab.yml:2:");

	/* a document that is not a map */
	ck_assert_int_eq(pb_conf_load_string(&c, "list.yml", "- a\n- b\n"), PB_EUSAGE);
	ck_assert_err_has("list.yml:1:");
	ck_assert_err_has("must be a map");
	ck_assert_int_eq(pb_conf_load_string(&c, "scalar.yml", "hello\n"), PB_EUSAGE);
	ck_assert_err_has("must be a map");
	/* two documents */
	ck_assert_int_eq(pb_conf_load_string(&c, "two.yml", "a: 1\n---\nb: 2\n"), PB_EUSAGE);
	ck_assert_err_has("two.yml:2:");
	ck_assert_err_has("one YAML document");
	/* a key that is not a plain value */
	ck_assert_int_eq(pb_conf_load_string(&c, "key.yml", "? [a, b]\n: 1\n"), PB_EUSAGE);
	ck_assert_err_has("key.yml:1:");
	/* an empty key segment */
	ck_assert_int_eq(pb_conf_load_string(&c, "dot.yml", "a.: 1\n"), PB_EUSAGE);
	ck_assert_err_has("dot.yml:1:");

	/* empty documents are empty configurations */
	ck_assert_int_eq(pb_conf_load_string(&c, "empty.yml", ""), 0);
	ck_assert_int_eq(pb_conf_load_string(&c, "null.yml", "~\n"), 0);
	ck_assert_int_eq(pb_conf_load_string(&c, "comment.yml", "# nothing\n"), 0);
	ck_assert_ptr_null(c.root->child);
	ck_assert_int_eq(pb_conf_check(&c), 0);
}
END_TEST

/* ---- -E ---- */

START_TEST(test_set)
{
	load("packetbeat.interfaces.snaplen: 1514\n"
	     "packetbeat.protocols:\n"
	     "  - type: http\n"
	     "    ports: [80]\n"
	     "  - type: dns\n"
	     "    ports: [53]\n"
	     "name: host\n");

	/* scalars replace */
	ck_assert_int_eq(pb_conf_set(&c, "packetbeat.interfaces.snaplen=65535"), 0);
	ck_assert_str_eq(val("packetbeat.interfaces.snaplen"), "65535");
	ck_assert_str_eq(pb_conf_get(&c, "packetbeat.interfaces.snaplen")->file, "-E");
	ck_assert_int_eq(count("packetbeat.interfaces"), 1);

	/* lists */
	ck_assert_int_eq(pb_conf_set(&c, "packetbeat.protocols.0.ports=[80,8080]"), 0);
	ck_assert_int_eq(pb_conf_get(&c, "packetbeat.protocols.0.ports")->kind, PB_CONF_SEQ);
	ck_assert_int_eq(count("packetbeat.protocols.0.ports"), 2);
	ck_assert_str_eq(val("packetbeat.protocols.0.ports.1"), "8080");
	ck_assert_str_eq(val("packetbeat.protocols.0.type"), "http");
	ck_assert_int_eq(pb_conf_set(&c, "tags=[a, b, c]"), 0);
	ck_assert_int_eq(count("tags"), 3);

	/* sequence elements, in place and one past the end */
	ck_assert_int_eq(pb_conf_set(&c, "packetbeat.protocols.1.type=tls"), 0);
	ck_assert_str_eq(val("packetbeat.protocols.1.type"), "tls");
	ck_assert_str_eq(val("packetbeat.protocols.1.ports.0"), "53");
	ck_assert_int_eq(pb_conf_set(&c, "packetbeat.protocols.2.type=mysql"), 0);
	ck_assert_int_eq(count("packetbeat.protocols"), 3);
	ck_assert_str_eq(val("packetbeat.protocols.2.type"), "mysql");
	ck_assert_int_eq(pb_conf_set(&c, "packetbeat.protocols.0.ports.0=81"), 0);
	ck_assert_str_eq(val("packetbeat.protocols.0.ports.0"), "81");
	ck_assert_int_eq(pb_conf_set(&c, "packetbeat.protocols.3={type: redis}"), 0);
	ck_assert_str_eq(val("packetbeat.protocols.3.type"), "redis");
	ck_assert_int_eq(pb_conf_set(&c, "packetbeat.protocols.9.type=x"), PB_EUSAGE);
	ck_assert_err_has("past the end");
	ck_assert_int_eq(pb_conf_set(&c, "packetbeat.protocols.http=x"), PB_EUSAGE);
	ck_assert_err_has("not a map");

	/* new paths */
	ck_assert_int_eq(pb_conf_set(&c, "output.file.path=/tmp/out"), 0);
	ck_assert_str_eq(val("output.file.path"), "/tmp/out");
	ck_assert_int_eq(pb_conf_set(&c, "output.file.enabled=true"), 0);
	ck_assert_int_eq(count("output.file"), 2);
	/* a value: a map, a quoted string, nothing */
	ck_assert_int_eq(pb_conf_set(&c, "packetbeat.flows={timeout: 5s, period: 1s}"), 0);
	ck_assert_str_eq(val("packetbeat.flows.period"), "1s");
	ck_assert_int_eq(pb_conf_set(&c, "name=\"a: b\""), 0);
	ck_assert_str_eq(val("name"), "a: b");
	ck_assert(pb_conf_get(&c, "name")->quoted);
	ck_assert_int_eq(pb_conf_set(&c, "name="), 0);
	ck_assert_str_eq(val("name"), "");
	/* a scalar in the way becomes a map */
	ck_assert_int_eq(pb_conf_set(&c, "name.first=x"), 0);
	ck_assert_str_eq(val("name.first"), "x");

	/* malformed assignments */
	ck_assert_int_eq(pb_conf_set(&c, "noequals"), PB_EUSAGE);
	ck_assert_err_has("key=value");
	ck_assert_int_eq(pb_conf_set(&c, "=1"), PB_EUSAGE);
	ck_assert_int_eq(pb_conf_set(&c, "a..b=1"), PB_EUSAGE);
	ck_assert_err_has("empty key");
	ck_assert_int_eq(pb_conf_set(&c, "tags=[a, b"), PB_EUSAGE);
	ck_assert_err_has("-E:");
	/* the failures changed nothing */
	ck_assert_int_eq(count("tags"), 3);
	/* name became a map above, which the schema rejects */
	ck_assert_int_eq(pb_conf_check(&c), PB_EUSAGE);
	ck_assert_err_has("-E:");
	ck_assert_err_has(": name: expected a single value");
	ck_assert_int_eq(pb_conf_set(&c, "name=back"), 0);
	ck_assert_int_eq(pb_conf_check(&c), 0);
}
END_TEST

/* ---- ${VAR} ---- */

START_TEST(test_expand)
{
	setenv("PBTEST_DEV", "eth7", 1);
	unsetenv("PBTEST_UNSET");
	unsetenv("PBTEST_NOPE");
	load("packetbeat.interfaces.device: ${PBTEST_DEV}\n"
	     "packetbeat.interfaces.file: ${PBTEST_UNSET:/tmp/default.pcap}\n"
	     "name: pre-${PBTEST_DEV}-mid-${PBTEST_DEV:x}-post\n"
	     "tags: [\"${PBTEST_UNSET:}\", \"$notavar\", \"${open\"]\n"
	     "fields:\n"
	     "  n: ${PBTEST_UNSET:5}\n");
	ck_assert_int_eq(pb_conf_expand(&c), 0);
	ck_assert_str_eq(val("packetbeat.interfaces.device"), "eth7");
	ck_assert_str_eq(val("packetbeat.interfaces.file"), "/tmp/default.pcap");
	ck_assert_str_eq(val("name"), "pre-eth7-mid-eth7-post");
	ck_assert_str_eq(val("tags.0"), "");
	ck_assert_str_eq(val("tags.1"), "$notavar");
	ck_assert_str_eq(val("tags.2"), "${open");
	ck_assert_str_eq(val("fields.n"), "5");
	ck_assert(pb_conf_get(&c, "fields.n")->quoted);
	{
		int64_t n = 0;

		ck_assert_int_eq(pb_conf_int(&c, "fields.n", &n), 0);
		ck_assert_int_eq(n, 5);
	}
}
END_TEST

START_TEST(test_expand_unset)
{
	unsetenv("PBTEST_NOPE");
	load("# a comment\n"
	     "name: x\n"
	     "packetbeat.interfaces.device: ${PBTEST_NOPE}\n");
	ck_assert_int_eq(pb_conf_expand(&c), PB_EUSAGE);
	ck_assert_str_eq(c.err, "test.yml:3: packetbeat.interfaces.device: environment "
				"variable 'PBTEST_NOPE' is not set and has no default");
	pb_conf_release(&c);

	/* in a list, the element is named by its index */
	ck_assert_int_eq(pb_conf_init(&c), 0);
	load("tags:\n  - a\n  - ${PBTEST_NOPE}\n");
	ck_assert_int_eq(pb_conf_expand(&c), PB_EUSAGE);
	ck_assert_err_has("test.yml:3: tags.1:");

	/* and an -E value */
	pb_conf_release(&c);
	ck_assert_int_eq(pb_conf_init(&c), 0);
	ck_assert_int_eq(pb_conf_set(&c, "name=${PBTEST_NOPE}"), 0);
	ck_assert_int_eq(pb_conf_expand(&c), PB_EUSAGE);
	ck_assert_err_has("-E:");
	ck_assert_err_has("name:");
}
END_TEST

/* ---- typed values ---- */

START_TEST(test_parse_bool)
{
	static const char *const yes[] = { "true", "TRUE", "True", "yes", "Yes", "on",
					   "ON", "y", "Y", "1" };
	static const char *const no[] = { "false", "FALSE", "no", "No", "off", "OFF",
					  "n", "N", "0" };
	static const char *const bad[] = { "", "2", "tru", "yess", "enabled", " true" };
	size_t i;
	int b;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = -1;
		ck_assert_msg(pb_parse_bool(yes[i], &b) == 0 && b == 1, "%s", yes[i]);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = -1;
		ck_assert_msg(pb_parse_bool(no[i], &b) == 0 && b == 0, "%s", no[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pb_parse_bool(bad[i], &b) < 0, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(test_parse_int)
{
	int64_t v;

	ck_assert_int_eq(pb_parse_int("42", &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(pb_parse_int("-7", &v), 0);
	ck_assert_int_eq(v, -7);
	ck_assert_int_eq(pb_parse_int("0x10", &v), 0);
	ck_assert_int_eq(v, 16);
	ck_assert_int_eq(pb_parse_int("9223372036854775807", &v), 0);
	ck_assert_int_eq(v, INT64_MAX);
	ck_assert_int_lt(pb_parse_int("9223372036854775808", &v), 0);
	ck_assert_int_lt(pb_parse_int("", &v), 0);
	ck_assert_int_lt(pb_parse_int("12abc", &v), 0);
	ck_assert_int_lt(pb_parse_int("1.5", &v), 0);
	ck_assert_int_lt(pb_parse_int("abc", &v), 0);
}
END_TEST

START_TEST(test_parse_duration)
{
	static const struct {
		const char *s;
		int64_t ns;
	} ok[] = {
		{ "10s", 10000000000LL }, { "500ms", 500000000LL },
		{ "1m30s", 90000000000LL }, { "-1", -1 }, { "2h", 7200000000000LL },
		{ "5", 5000000000LL }, { "1.5s", 1500000000LL }, { "0", 0 },
		{ "100us", 100000LL }, { "250ns", 250 }, { "1h2m3s", 3723000000000LL },
		{ "0.5", 500000000LL }, { "2562047h", 2562047LL * 3600000000000LL },
	};
	static const char *const bad[] = {
		"", " ", "abc", "10x", "-5s", "-2", "s", "10 s", "1m-1s", "nan", "nans",
		"inf", "infs", "1e10", "9300000000", "2600000h", "1e300s",
	};
	size_t i;
	int64_t v;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(pb_parse_duration(ok[i].s, &v) == 0, "'%s' rejected", ok[i].s);
		ck_assert_msg(v == ok[i].ns, "'%s': %lld", ok[i].s, (long long)v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pb_parse_duration(bad[i], &v) < 0, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(test_parse_size)
{
	static const struct {
		const char *s;
		uint64_t b;
	} ok[] = {
		{ "10mb", 10000000 }, { "5KiB", 5120 }, { "4096", 4096 }, { "5 KiB", 5120 },
		{ "10MB", 10000000 }, { "2mib", 2097152 }, { "1gb", 1000000000 },
		{ "1GiB", 1073741824 }, { "1.5kb", 1500 }, { "100b", 100 }, { "3k", 3000 },
		{ "0", 0 },
	};
	static const char *const bad[] = {
		"", "mb", "10 bananas", "-1", "-1kb", "10tb", "nan", "nankb", "inf", "1e30",
		"5 KiB extra",
	};
	size_t i;
	uint64_t v;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(pb_parse_size(ok[i].s, &v) == 0, "'%s' rejected", ok[i].s);
		ck_assert_msg(v == ok[i].b, "'%s': %llu", ok[i].s, (unsigned long long)v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pb_parse_size(bad[i], &v) < 0, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(test_getters)
{
	int b = -1;
	int64_t i = -1;
	uint64_t u = 1;
	const char *s = NULL;

	load("packetbeat:\n"
	     "  interfaces:\n"
	     "    snaplen: 1514\n"
	     "    device: eth0\n"
	     "    topspeed: yes\n"
	     "  flows:\n"
	     "    timeout: 1m30s\n"
	     "    period: -1\n"
	     "    enabled: maybe\n"
	     "queue.mem.size: 10mb\n"
	     "bad.size: lots\n"
	     "bad.int: 12abc\n"
	     "bad.dur: forever\n");
	ck_assert_int_eq(pb_conf_int(&c, "packetbeat.interfaces.snaplen", &i), 0);
	ck_assert_int_eq(i, 1514);
	ck_assert_int_eq(pb_conf_str(&c, "packetbeat.interfaces.device", &s), 0);
	ck_assert_str_eq(s, "eth0");
	ck_assert_int_eq(pb_conf_bool(&c, "packetbeat.interfaces.topspeed", &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(pb_conf_duration(&c, "packetbeat.flows.timeout", &i), 0);
	ck_assert_int_eq(i, 90000000000LL);
	ck_assert_int_eq(pb_conf_duration(&c, "packetbeat.flows.period", &i), 0);
	ck_assert_int_eq(i, -1);
	ck_assert_int_eq(pb_conf_size(&c, "queue.mem.size", &u), 0);
	ck_assert_uint_eq(u, 10000000);

	/* absent: 1, and the output untouched */
	i = 77;
	ck_assert_int_eq(pb_conf_int(&c, "packetbeat.interfaces.loop", &i), 1);
	ck_assert_int_eq(i, 77);
	ck_assert_int_eq(pb_conf_str(&c, "nothing.here", &s), 1);
	ck_assert_str_eq(s, "eth0");

	/* wrong types name the file, the line and the key */
	ck_assert_int_eq(pb_conf_bool(&c, "packetbeat.flows.enabled", &b), PB_EUSAGE);
	ck_assert_str_eq(c.err, "test.yml:9: packetbeat.flows.enabled: 'maybe' is not "
				"true or false");
	ck_assert_int_eq(pb_conf_size(&c, "bad.size", &u), PB_EUSAGE);
	ck_assert_err_has("test.yml:11: bad.size: 'lots'");
	ck_assert_int_eq(pb_conf_int(&c, "bad.int", &i), PB_EUSAGE);
	ck_assert_err_has("test.yml:12: bad.int: '12abc' is not an integer");
	ck_assert_int_eq(pb_conf_duration(&c, "bad.dur", &i), PB_EUSAGE);
	ck_assert_err_has("test.yml:13: bad.dur: 'forever'");
	ck_assert_int_eq(pb_conf_int(&c, "packetbeat.interfaces", &i), PB_EUSAGE);
	ck_assert_err_has("test.yml:2: packetbeat.interfaces: expected a single value, not a map");
	ck_assert_int_eq(i, 77); /* untouched by the failures */
	ck_assert_int_eq(pb_conf_str(&c, "packetbeat", &s), PB_EUSAGE);
	ck_assert_err_has("packetbeat: expected a single value");
}
END_TEST

/* ---- the schema ---- */

static int check_yaml(const char *name, const char *yaml)
{
	pb_conf_release(&c);
	ck_assert_int_eq(pb_conf_init(&c), 0);
	ck_assert_int_eq(pb_conf_load_string(&c, name, yaml), 0);
	return pb_conf_check(&c);
}

START_TEST(test_check)
{
	/* unknown keys are warnings */
	ck_assert_int_eq(check_yaml("u.yml", "packetbeat.interfaces.devcie: eth0\n"
					     "nonsense: 1\n"
					     "packetbeat.flows.keep_expired: true\n"), 0);
	/* ignored Packetbeat keys are fine */
	ck_assert_int_eq(check_yaml("i.yml", "packetbeat.interfaces.buffer_size_mb: 100\n"
					     "logging.level: debug\nsetup.kibana.host: x\n"), 0);

	ck_assert_int_eq(check_yaml("t.yml", "name: x\npacketbeat.interfaces:\n"
					     "  device: any\n  snaplen: abc\n"), PB_EUSAGE);
	ck_assert_err_has("t.yml:4: packetbeat.interfaces.snaplen");
	ck_assert_int_eq(check_yaml("f.yml", "packetbeat.flows:\n  timeout: forever\n"),
			 PB_EUSAGE);
	ck_assert_err_has("f.yml:2: packetbeat.flows.timeout");
	ck_assert_int_eq(check_yaml("b.yml", "packetbeat.flows.enabled: maybe\n"), PB_EUSAGE);
	ck_assert_err_has("b.yml:1: packetbeat.flows.enabled");
	ck_assert_int_eq(check_yaml("l.yml", "packetbeat.interfaces:\n  - device: a\n"
					     "  - snaplen: big\n"), PB_EUSAGE);
	ck_assert_err_has("l.yml:3: packetbeat.interfaces.snaplen");
	ck_assert_int_eq(check_yaml("m.yml", "packetbeat: 5\n"), PB_EUSAGE);
	ck_assert_err_has("m.yml:1: packetbeat");
	ck_assert_int_eq(check_yaml("s.yml", "packetbeat.interfaces.device: [a, b]\n"),
			 PB_EUSAGE);
	ck_assert_err_has("s.yml:1: packetbeat.interfaces.device");
	ck_assert_int_eq(check_yaml("n.yml", "packetbeat.interfaces: [a]\n"), PB_EUSAGE);
	ck_assert_int_eq(check_yaml("g.yml", "tags: {a: 1}\n"), PB_EUSAGE);
	ck_assert_err_has("g.yml:1: tags");
	/* an override of the wrong type is named as -E */
	ck_assert_int_eq(check_yaml("e.yml", "name: x\n"), 0);
	ck_assert_int_eq(pb_conf_set(&c, "packetbeat.flows.period=often"), 0);
	ck_assert_int_eq(pb_conf_check(&c), PB_EUSAGE);
	ck_assert_err_has("-E:");
	ck_assert_err_has(": packetbeat.flows.period: expected a duration");
}
END_TEST

/* A packetbeat.yml drawn from the Packetbeat documentation's examples. */
static const char seed_yml[] =
	"# packetbeat.yml\n"
	"name: \"my-packetbeat\"\n"
	"tags: [\"production\", \"web\"]\n"
	"fields:\n"
	"  env: production\n"
	"  dc: us-east-1\n"
	"fields_under_root: true\n"
	"\n"
	"packetbeat.interfaces:\n"
	"  device: any\n"
	"  snaplen: 1514\n"
	"  type: pcap\n"
	"  buffer_size_mb: 100\n"
	"  with_loopback: true\n"
	"packetbeat.interfaces.bpf_filter: \"port 80 or port 3306 or port 6379\"\n"
	"\n"
	"packetbeat.flows:\n"
	"  enabled: true\n"
	"  period: 10s\n"
	"  timeout: 30s\n"
	"  keep_null: false\n"
	"\n"
	"packetbeat.protocols:\n"
	"  http:\n"
	"    ports: [80, 8080, 8000, 5000, 8002]\n"
	"    include_body_for:\n"
	"      - text/plain\n"
	"      - application/json\n"
	"    max_body_size: 2kb\n"
	"    redact_authorization: true\n"
	"    redact_headers: [\"Cookie\", \"Set-Cookie\"]\n"
	"    transaction_timeout: 10s\n"
	"  mysql:\n"
	"    ports: [3306]\n"
	"    max_query_length: 1024\n"
	"    max_message_size: 10mb\n"
	"  redis:\n"
	"    ports: [6379]\n"
	"  dns:\n"
	"    ports: [53]\n"
	"    include_authorities: true\n"
	"    include_additionals: true\n"
	"    send_request: false\n"
	"  tls:\n"
	"    ports: [443, 8443, 9443]\n"
	"    fingerprints: [\"sha1\", \"sha256\"]\n"
	"  tcp:\n"
	"    ports: [9000-9999]\n"
	"packetbeat.protocols.http.send_all_headers: true\n"
	"\n"
	"processors:\n"
	"  - add_fields:\n"
	"      target: ''\n"
	"      fields:\n"
	"        environment: production\n"
	"        datacenter: us-east-1\n"
	"  - drop_fields:\n"
	"      fields: [\"agent.ephemeral_id\", \"ecs.version\"]\n"
	"      ignore_missing: true\n"
	"  - add_host_metadata:\n"
	"      netinfo.enabled: true\n"
	"      geo:\n"
	"        name: nyc-dc-1\n"
	"        location: 40.7128, -74.0060\n"
	"  - community_id: {}\n"
	"  - if:\n"
	"      or:\n"
	"        - equals:\n"
	"            http.response.status_code: 500\n"
	"        - range:\n"
	"            http.response.status_code:\n"
	"              gt: 399\n"
	"              lt: 499\n"
	"    then:\n"
	"      - add_tag:\n"
	"          tags: [\"http_error\"]\n"
	"    else:\n"
	"      - add_tag:\n"
	"          tags: [\"success\"]\n"
	"  - dns:\n"
	"      type: reverse\n"
	"      field: source.ip\n"
	"      target_field: source.domain\n"
	"      timeout: 500ms\n"
	"\n"
	"output.elasticsearch:\n"
	"  hosts: [\"https://elasticsearch:9200\"]\n"
	"  index: \"packetbeat-%{[agent.version]}-%{+yyyy.MM.dd}\"\n"
	"  username: \"elastic\"\n"
	"  password: \"changeme\"\n"
	"  ssl:\n"
	"    certificate_authorities: [\"/etc/pki/root/ca.pem\"]\n"
	"    certificate: \"/etc/pki/client/cert.pem\"\n"
	"    key: \"/etc/pki/client/cert.key\"\n"
	"    verification_mode: full\n"
	"  worker: 3\n"
	"  bulk_max_size: 50\n"
	"  compression_level: 3\n"
	"  loadbalance: true\n"
	"  max_retries: 5\n"
	"  backoff.init: 1s\n"
	"  backoff.max: 60s\n"
	"\n"
	"setup.template.enabled: true\n"
	"setup.kibana:\n"
	"  host: \"localhost:5601\"\n"
	"\n"
	"logging.level: info\n"
	"logging.to_files: true\n"
	"logging.files:\n"
	"  path: /var/log/packetbeat\n"
	"  name: packetbeat\n"
	"  keepfiles: 7\n"
	"  permissions: 0644\n";

START_TEST(test_seed_file)
{
	char path[512];
	const char *dir = getenv("TMPDIR");
	int fd, b = 0, rc;
	ssize_t n;
	int64_t i = 0;
	const char *s = NULL;

	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/pbtest-conf-XXXXXX", dir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	n = write(fd, seed_yml, sizeof(seed_yml) - 1);
	close(fd);
	rc = pb_conf_load_file(&c, path);
	unlink(path);
	ck_assert_int_eq(n, (ssize_t)sizeof(seed_yml) - 1);
	ck_assert_msg(rc == 0, "%s", c.err);
	ck_assert_int_eq(pb_conf_expand(&c), 0);
	ck_assert_int_eq(pb_conf_check(&c), 0);

	ck_assert_str_eq(val("name"), "my-packetbeat");
	ck_assert_str_eq(pb_conf_get(&c, "name")->file, path);
	ck_assert_int_eq(line_of("name"), 2);
	ck_assert_int_eq(pb_conf_int(&c, "packetbeat.interfaces.snaplen", &i), 0);
	ck_assert_int_eq(i, 1514);
	ck_assert_str_eq(val("packetbeat.interfaces.bpf_filter"),
			 "port 80 or port 3306 or port 6379");
	ck_assert_int_eq(count("packetbeat.interfaces"), 6);
	ck_assert_int_eq(pb_conf_bool(&c, "packetbeat.flows.enabled", &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(pb_conf_duration(&c, "packetbeat.flows.timeout", &i), 0);
	ck_assert_int_eq(i, 30000000000LL);
	ck_assert_int_eq(pb_conf_duration(&c, "packetbeat.flows.period", &i), 0);
	ck_assert_int_eq(i, 10000000000LL);
	ck_assert_int_eq(count("packetbeat.protocols"), 6);
	ck_assert_str_eq(val("packetbeat.protocols.http.ports.1"), "8080");
	ck_assert_str_eq(val("packetbeat.protocols.http.send_all_headers"), "true");
	ck_assert_str_eq(val("packetbeat.protocols.tcp.ports.0"), "9000-9999");
	ck_assert_int_eq(count("processors"), 6);
	ck_assert_int_eq(pb_conf_get(&c, "processors.3.community_id")->kind, PB_CONF_MAP);
	ck_assert_str_eq(val("processors.2.add_host_metadata.netinfo.enabled"), "true");
	ck_assert_str_eq(val("processors.4.then.0.add_tag.tags.0"), "http_error");
	ck_assert_str_eq(val("output.elasticsearch.backoff.max"), "60s");
	ck_assert_str_eq(val("output.elasticsearch.index"),
			 "packetbeat-%{[agent.version]}-%{+yyyy.MM.dd}");
	ck_assert_int_eq(pb_conf_str(&c, "output.elasticsearch.ssl.verification_mode", &s), 0);
	ck_assert_str_eq(s, "full");
	ck_assert_str_eq(val("logging.files.permissions"), "0644");
	ck_assert_str_eq(val("setup.template.enabled"), "true");
}
END_TEST

START_TEST(test_load_file_errors)
{
	char path[512];
	const char *dir = getenv("TMPDIR");
	int fd, rc;
	ssize_t n;

	ck_assert_int_eq(pb_conf_load_file(&c, "/nonexistent/pb.yml"), PB_EUSAGE);
	ck_assert_err_has("cannot open '/nonexistent/pb.yml'");

	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/pbtest-conf-XXXXXX", dir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	n = write(fd, "a: 1\n\0b: 2\n", 11);
	close(fd);
	rc = pb_conf_load_file(&c, path);
	unlink(path);
	ck_assert_int_eq(n, 11);
	ck_assert_int_eq(rc, PB_EUSAGE);
	ck_assert_err_has("not a text file");
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc;

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_nested_and_dotted);
	tcase_add_test(tc, test_list_interfaces);
	tcase_add_test(tc, test_duplicate_keys);
	tcase_add_test(tc, test_anchors);
	tcase_add_test(tc, test_anchor_replaced);
	tcase_add_test(tc, test_alias_errors);
	tcase_add_test(tc, test_syntax_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("override");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_set);
	tcase_add_test(tc, test_expand);
	tcase_add_test(tc, test_expand_unset);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_bool);
	tcase_add_test(tc, test_parse_int);
	tcase_add_test(tc, test_parse_duration);
	tcase_add_test(tc, test_parse_size);
	tcase_add_test(tc, test_getters);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_seed_file);
	tcase_add_test(tc, test_load_file_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	/* unknown keys draw warnings on purpose: keep them off the output */
	pb_log_set_level(PB_LOG_QUIET);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
