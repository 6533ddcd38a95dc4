/*
 * cond.c - Beats conditions: equals, contains, regexp, range, network,
 * has_fields, and, or, not (pb-config(5), CONDITIONS).
 *
 * A condition map with several fields is met when all of them are (as in
 * Beats); a map with several condition names is met when all of them are
 * (Beats would take one and ignore the rest: pbtools does not ignore what
 * a user wrote).  Dotted and nested field names are the same thing: the
 * configuration reader splits dotted keys, and the compiler joins the
 * nested keys back into a path, stopping at the value (or, for range, at
 * the map of gt/gte/lt/lte).
 *
 * How values compare, as Beats does:
 *  - equals: a string value equals a string field; a number a number
 *    field; true/false a boolean field.  Nothing else matches (a number
 *    in a string, an array).
 *  - contains, regexp: on a string field, or on any string of an array.
 *  - range: on numbers (and numeric strings); when a bound is a date
 *    (RFC 3339), on dates.
 *  - network: on an address string, or any address of an array.
 * A missing field never matches.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "proc/proc_int.h"
#include "util/time.h"
#include "util/banned.h"

/* Guards against patterns that backtrack without end (RE2, which Beats
 * uses, is linear; PCRE2 is not): a match that needs more steps than
 * this fails instead of hanging on hostile input. */
#define COND_MATCH_LIMIT 1000000u
#define COND_DEPTH_LIMIT 10000u
/* Nesting of and/or/not: deeper than any real configuration. */
#define COND_MAX_DEPTH 64

enum cond_op {
	COND_ALL, COND_ANY, COND_NOT,  /* and, or, not */
	COND_EQUALS, COND_CONTAINS, COND_REGEXP, COND_RANGE, COND_NETWORK,
	COND_HAS,
};

struct pb_cond {
	enum cond_op op;
	struct pb_cond **sub;
	int nsub;
	char *field;
	cJSON *value;                  /* equals */
	char *str;                     /* contains */
	pcre2_code *re;                /* regexp */
	pcre2_match_data *md;
	struct pb_proc_netset *nets;   /* network */
	/* range: bounds as numbers, or as times when dates */
	int is_date;
	int has[4];                    /* gt gte lt lte */
	double bound[4];
};

static pcre2_match_context *match_ctx;

/* ---- networks ---- */

enum net_named {
	NET_CIDR, NET_LOOPBACK, NET_UNICAST, NET_LL_UNICAST, NET_IL_MULTICAST,
	NET_LL_MULTICAST, NET_MULTICAST, NET_UNSPECIFIED, NET_PRIVATE,
	NET_PUBLIC, NET_LINK_LOCAL,
};

static const struct {
	const char *name;
	enum net_named kind;
} net_names[] = {
	{ "loopback", NET_LOOPBACK },
	{ "unicast", NET_UNICAST },
	{ "global_unicast", NET_UNICAST },
	{ "link_local_unicast", NET_LL_UNICAST },
	{ "interface_local_multicast", NET_IL_MULTICAST },
	{ "link_local_multicast", NET_LL_MULTICAST },
	{ "link_local", NET_LINK_LOCAL },
	{ "multicast", NET_MULTICAST },
	{ "unspecified", NET_UNSPECIFIED },
	{ "private", NET_PRIVATE },
	{ "public", NET_PUBLIC },
};

struct pb_proc_netset {
	int n, cap;
	struct net_ent {
		enum net_named kind;
		int len;               /* 4 or 16 */
		unsigned char addr[16];
		int prefix;
	} *e;
};

int pb_proc_parse_ip(const char *s, unsigned char out[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, out) != 1)
			return 0;
		if (memcmp(out, mapped, 12) == 0) {
			memmove(out, out + 12, 4);
			return 4;
		}
		return 16;
	}
	return inet_pton(AF_INET, s, out) == 1 ? 4 : 0;
}

static int in_prefix(const unsigned char *a, const unsigned char *net, int prefix)
{
	int full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, (size_t)full) != 0)
		return 0;
	if (rest) {
		unsigned char m = (unsigned char)(0xff << (8 - rest));

		return (a[full] & m) == (net[full] & m);
	}
	return 1;
}

static int ip_in(const unsigned char *a, int len, const char *cidr4, int p4,
		 const char *cidr6, int p6)
{
	unsigned char net[16];

	if (len == 4 && cidr4) {
		inet_pton(AF_INET, cidr4, net);
		return in_prefix(a, net, p4);
	}
	if (len == 16 && cidr6) {
		inet_pton(AF_INET6, cidr6, net);
		return in_prefix(a, net, p6);
	}
	return 0;
}

/* Go's net.IP predicates, which Beats' named networks are made of. */
static int is_loopback(const unsigned char *a, int len)
{
	return ip_in(a, len, "127.0.0.0", 8, "::1", 128);
}

static int is_unspecified(const unsigned char *a, int len)
{
	return ip_in(a, len, "0.0.0.0", 32, "::", 128);
}

static int is_multicast(const unsigned char *a, int len)
{
	return ip_in(a, len, "224.0.0.0", 4, "ff00::", 8);
}

static int is_ll_unicast(const unsigned char *a, int len)
{
	return ip_in(a, len, "169.254.0.0", 16, "fe80::", 10);
}

static int is_ll_multicast(const unsigned char *a, int len)
{
	return ip_in(a, len, "224.0.0.0", 24, "ff02::", 16);
}

static int is_il_multicast(const unsigned char *a, int len)
{
	return len == 16 && ip_in(a, len, NULL, 0, "ff01::", 16);
}

static int is_broadcast(const unsigned char *a, int len)
{
	return ip_in(a, len, "255.255.255.255", 32, NULL, 0);
}

static int is_private(const unsigned char *a, int len)
{
	return ip_in(a, len, "10.0.0.0", 8, "fc00::", 7) ||
	       ip_in(a, len, "172.16.0.0", 12, NULL, 0) ||
	       ip_in(a, len, "192.168.0.0", 16, NULL, 0);
}

static int net_match(const struct net_ent *e, const unsigned char *a, int len)
{
	switch (e->kind) {
	case NET_CIDR:
		return e->len == len && in_prefix(a, e->addr, e->prefix);
	case NET_LOOPBACK: return is_loopback(a, len);
	case NET_UNICAST:
		return !is_unspecified(a, len) && !is_loopback(a, len) &&
		       !is_multicast(a, len) && !is_ll_unicast(a, len) &&
		       !is_broadcast(a, len);
	case NET_LL_UNICAST: return is_ll_unicast(a, len);
	case NET_IL_MULTICAST: return is_il_multicast(a, len);
	case NET_LL_MULTICAST: return is_ll_multicast(a, len);
	case NET_LINK_LOCAL: return is_ll_unicast(a, len) || is_ll_multicast(a, len);
	case NET_MULTICAST: return is_multicast(a, len);
	case NET_UNSPECIFIED: return is_unspecified(a, len);
	case NET_PRIVATE: return is_private(a, len);
	case NET_PUBLIC:
		return !(is_private(a, len) || is_loopback(a, len) ||
			 is_unspecified(a, len) || is_broadcast(a, len) ||
			 is_ll_unicast(a, len) || is_ll_multicast(a, len) ||
			 is_il_multicast(a, len));
	}
	return 0;
}

int pb_proc_netset_add(struct pb_proc_netset **setp, const char *spec)
{
	struct pb_proc_netset *s = *setp;
	struct net_ent e;
	const char *slash;
	char addr[64];
	size_t i;

	memset(&e, 0, sizeof(e));
	e.kind = NET_CIDR;
	for (i = 0; i < sizeof(net_names) / sizeof(net_names[0]); i++)
		if (strcmp(spec, net_names[i].name) == 0)
			e.kind = net_names[i].kind;
	if (e.kind == NET_CIDR) {
		char *end;
		long p;

		slash = strchr(spec, '/');
		if (!slash || (size_t)(slash - spec) >= sizeof(addr))
			return -1;
		memcpy(addr, spec, (size_t)(slash - spec));
		addr[slash - spec] = '\0';
		e.len = pb_proc_parse_ip(addr, e.addr);
		/* "::ffff:10.0.0.0/104" is an IPv4 network to Go as well */
		if (!e.len || !slash[1])
			return -1;
		p = strtol(slash + 1, &end, 10);
		if (*end || p < 0)
			return -1;
		if (e.len == 4 && strchr(addr, ':'))
			p -= 96;
		if (p < 0 || p > e.len * 8)
			return -1;
		e.prefix = (int)p;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		*setp = s;
	}
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 4;
		struct net_ent *ne = realloc(s->e, (size_t)cap * sizeof(*ne));

		if (!ne)
			return -1;
		s->e = ne;
		s->cap = cap;
	}
	s->e[s->n++] = e;
	return 0;
}

int pb_proc_netset_match(const struct pb_proc_netset *s, const char *ip)
{
	unsigned char a[16];
	int len = pb_proc_parse_ip(ip, a), i;

	if (!len)
		return -1;
	for (i = 0; s && i < s->n; i++)
		if (net_match(&s->e[i], a, len))
			return 1;
	return 0;
}

void pb_proc_netset_free(struct pb_proc_netset *s)
{
	if (!s)
		return;
	free(s->e);
	free(s);
}

/* ---- compiling ---- */

void pb_cond_free(struct pb_cond *cd)
{
	int i;

	if (!cd)
		return;
	for (i = 0; i < cd->nsub; i++)
		pb_cond_free(cd->sub[i]);
	free(cd->sub);
	free(cd->field);
	cJSON_Delete(cd->value);
	free(cd->str);
	pcre2_match_data_free(cd->md);
	pcre2_code_free(cd->re);
	pb_proc_netset_free(cd->nets);
	free(cd);
}

static struct pb_cond *cond_new(enum cond_op op)
{
	struct pb_cond *cd = calloc(1, sizeof(*cd));

	if (cd)
		cd->op = op;
	return cd;
}

static int cond_push(struct pb_cond *parent, struct pb_cond *child)
{
	struct pb_cond **s = realloc(parent->sub, (size_t)(parent->nsub + 1) * sizeof(*s));

	if (!s) {
		pb_cond_free(child);
		return PB_ENOMEM;
	}
	parent->sub = s;
	s[parent->nsub++] = child;
	return 0;
}

static const char *const range_ops[4] = { "gt", "gte", "lt", "lte" };

static int is_range_op(const char *k)
{
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(k, range_ops[i]) == 0)
			return i;
	return -1;
}

/* A map whose keys are all range operators. */
static int is_range_map(const struct pb_conf_node *n)
{
	const struct pb_conf_node *k;

	if (n->kind != PB_CONF_MAP || !n->child)
		return 0;
	for (k = n->child; k; k = k->next)
		if (is_range_op(k->key) < 0)
			return 0;
	return 1;
}

static int date_bound(const char *s, double *out)
{
	struct pb_time t;

	/* a date has a '-' after its year: plain numbers stay numbers */
	if (strlen(s) < 10 || s[4] != '-' || pb_time_parse(s, strlen(s), &t) < 0)
		return -1;
	*out = (double)t.sec + t.nsec / 1e9;
	return 0;
}

static int compile_leaf(struct pb_conf *c, enum cond_op op, const char *field,
			const struct pb_conf_node *v, const char *path,
			struct pb_cond **out)
{
	struct pb_cond *cd = cond_new(op);
	int i;

	*out = NULL;
	if (!cd || !(cd->field = strdup(field))) {
		pb_cond_free(cd);
		return PB_ENOMEM;
	}
	switch (op) {
	case COND_EQUALS:
		cd->value = pb_proc_conf_json(v);
		if (!cd->value || !(cJSON_IsString(cd->value) || cJSON_IsNumber(cd->value) ||
				    cJSON_IsBool(cd->value))) {
			pb_cond_free(cd);
			return pb_proc_conf_err(c, v, path, "%s: equals takes a string, a number "
						"or a boolean", field);
		}
		break;
	case COND_CONTAINS:
		if (v->kind != PB_CONF_SCALAR) {
			pb_cond_free(cd);
			return pb_proc_conf_err(c, v, path, "%s: contains takes a string", field);
		}
		cd->str = strdup(v->value ? v->value : "");
		break;
	case COND_REGEXP: {
		int err;
		PCRE2_SIZE off;
		char msg[256];

		if (v->kind != PB_CONF_SCALAR) {
			pb_cond_free(cd);
			return pb_proc_conf_err(c, v, path, "%s: regexp takes a pattern", field);
		}
		cd->re = pcre2_compile((PCRE2_SPTR)(v->value ? v->value : ""), PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
		if (!cd->re) {
			pcre2_get_error_message(err, (PCRE2_UCHAR *)msg, sizeof(msg));
			pb_cond_free(cd);
			return pb_proc_conf_err(c, v, path, "%s: bad regular expression at "
						"offset %zu: %s", field, (size_t)off, msg);
		}
		pcre2_jit_compile(cd->re, PCRE2_JIT_COMPLETE);
		cd->md = pcre2_match_data_create_from_pattern(cd->re, NULL);
		if (!cd->md) {
			pb_cond_free(cd);
			return PB_ENOMEM;
		}
		break;
	}
	case COND_RANGE: {
		const struct pb_conf_node *k;
		int dates = 0, nums = 0;

		if (!is_range_map(v)) {
			pb_cond_free(cd);
			return pb_proc_conf_err(c, v, path, "%s: range takes gt, gte, lt "
						"or lte", field);
		}
		for (k = v->child; k; k = k->next) {
			char *end;
			double d;

			i = is_range_op(k->key);
			if (k->kind != PB_CONF_SCALAR || !k->value) {
				pb_cond_free(cd);
				return pb_proc_conf_err(c, k, path, "%s.%s: not a number or "
							"a date", field, k->key);
			}
			d = strtod(k->value, &end);
			if (*k->value && !*end && isfinite(d)) {
				nums++;
			} else if (date_bound(k->value, &d) == 0) {
				dates++;
			} else {
				pb_cond_free(cd);
				return pb_proc_conf_err(c, k, path, "%s.%s: '%s' is not a "
							"number or a date", field, k->key,
							k->value);
			}
			cd->has[i] = 1;
			cd->bound[i] = d;
		}
		if (dates && nums) {
			pb_cond_free(cd);
			return pb_proc_conf_err(c, v, path, "%s: range mixes dates and "
						"numbers", field);
		}
		cd->is_date = dates > 0;
		break;
	}
	case COND_NETWORK: {
		const struct pb_conf_node *k, one = { .kind = PB_CONF_SCALAR,
						      .value = v->value };
		const struct pb_conf_node *list = v->kind == PB_CONF_SEQ ? v->child :
			v->kind == PB_CONF_SCALAR ? &one : NULL;

		if (!list) {
			pb_cond_free(cd);
			return pb_proc_conf_err(c, v, path, "%s: network takes a network "
						"or a list of them", field);
		}
		for (k = list; k; k = k == &one ? NULL : k->next) {
			if (k->kind != PB_CONF_SCALAR || !k->value ||
			    pb_proc_netset_add(&cd->nets, k->value) < 0) {
				pb_cond_free(cd);
				return pb_proc_conf_err(c, v, path, "%s: '%s' is not a CIDR "
							"or a named network", field,
							k->value ? k->value : "");
			}
		}
		break;
	}
	default:
		break;
	}
	*out = cd;
	return 0;
}

/* Join nested keys back into field paths and compile each leaf. */
static int compile_fields(struct pb_conf *c, struct pb_cond *all, enum cond_op op,
			  const struct pb_conf_node *map, const char *prefix,
			  const char *path, int depth)
{
	const struct pb_conf_node *k;
	int rc;

	if (depth > COND_MAX_DEPTH)
		return pb_proc_conf_err(c, map, path, "field names nested too deep");
	for (k = map->child; k; k = k->next) {
		char field[512];
		struct pb_cond *leaf;

		if ((size_t)snprintf(field, sizeof(field), "%s%s%s", prefix, *prefix ? "." : "",
				     k->key) >= sizeof(field))
			return pb_proc_conf_err(c, k, path, "field name too long");
		if (k->kind == PB_CONF_MAP && !(op == COND_RANGE && is_range_map(k))) {
			if ((rc = compile_fields(c, all, op, k, field, path, depth + 1)) < 0)
				return rc;
			continue;
		}
		if (op == COND_RANGE && k->kind != PB_CONF_MAP)
			return pb_proc_conf_err(c, k, path, "%s: range takes gt, gte, lt "
						"or lte", field);
		if (op != COND_NETWORK && k->kind == PB_CONF_SEQ)
			return pb_proc_conf_err(c, k, path, "%s: a list is not a value to "
						"compare with", field);
		if ((rc = compile_leaf(c, op, field, k, path, &leaf)) < 0)
			return rc;
		if ((rc = cond_push(all, leaf)) < 0)
			return rc;
	}
	return 0;
}

static int compile_node(struct pb_conf *c, const struct pb_conf_node *n,
			const char *path, int depth, struct pb_cond **out);

static int compile_list(struct pb_conf *c, struct pb_cond *parent,
			const struct pb_conf_node *n, const char *path, int depth)
{
	const struct pb_conf_node *k;
	int rc;

	if (n->kind != PB_CONF_SEQ || !n->child)
		return pb_proc_conf_err(c, n, path, "and/or take a list of conditions");
	for (k = n->child; k; k = k->next) {
		struct pb_cond *sub;

		if ((rc = compile_node(c, k, path, depth + 1, &sub)) < 0)
			return rc;
		if ((rc = cond_push(parent, sub)) < 0)
			return rc;
	}
	return 0;
}

static int compile_node(struct pb_conf *c, const struct pb_conf_node *n,
			const char *path, int depth, struct pb_cond **out)
{
	static const struct {
		const char *name;
		enum cond_op op;
	} leaf_ops[] = {
		{ "equals", COND_EQUALS }, { "contains", COND_CONTAINS },
		{ "regexp", COND_REGEXP }, { "range", COND_RANGE },
		{ "network", COND_NETWORK },
	};
	struct pb_cond *all;
	const struct pb_conf_node *k;
	struct pb_conf tmp;
	int rc = 0, shorthand = 0;
	size_t i;

	*out = NULL;
	if (depth > COND_MAX_DEPTH)
		return pb_proc_conf_err(c, n, path, "conditions nested too deep");
	if (n->kind == PB_CONF_SCALAR && n->value && *n->value) {
		n = pb_proc_conf_shorthand(c, &tmp, n, path);
		if (!n)
			return PB_EUSAGE;
		shorthand = 1;
	}
	if (n->kind != PB_CONF_MAP || !n->child) {
		rc = pb_proc_conf_err(c, n, path, "a condition is a map such as "
				      "{equals: {field: value}}");
		goto out;
	}
	all = cond_new(COND_ALL);
	if (!all) {
		rc = PB_ENOMEM;
		goto out;
	}
	for (k = n->child; k && rc == 0; k = k->next) {
		for (i = 0; i < sizeof(leaf_ops) / sizeof(leaf_ops[0]); i++)
			if (strcmp(k->key, leaf_ops[i].name) == 0)
				break;
		if (i < sizeof(leaf_ops) / sizeof(leaf_ops[0])) {
			if (k->kind != PB_CONF_MAP || !k->child)
				rc = pb_proc_conf_err(c, k, path, "%s takes a map of fields",
						      k->key);
			else
				rc = compile_fields(c, all, leaf_ops[i].op, k, "", path, 0);
		} else if (strcmp(k->key, "has_fields") == 0) {
			const struct pb_conf_node *f;

			if (k->kind != PB_CONF_SEQ || !k->child) {
				rc = pb_proc_conf_err(c, k, path, "has_fields takes a list of "
						      "field names");
				continue;
			}
			for (f = k->child; f && rc == 0; f = f->next) {
				struct pb_cond *h;

				if (f->kind != PB_CONF_SCALAR || !f->value || !*f->value) {
					rc = pb_proc_conf_err(c, f, path, "has_fields: not a "
							      "field name");
					break;
				}
				rc = compile_leaf(c, COND_HAS, f->value, f, path, &h);
				if (rc == 0)
					rc = cond_push(all, h);
			}
		} else if (strcmp(k->key, "and") == 0 || strcmp(k->key, "or") == 0) {
			struct pb_cond *sub = cond_new(k->key[0] == 'a' ? COND_ALL : COND_ANY);

			if (!sub) {
				rc = PB_ENOMEM;
				break;
			}
			rc = compile_list(c, sub, k, path, depth);
			if (rc < 0)
				pb_cond_free(sub);
			else
				rc = cond_push(all, sub);
		} else if (strcmp(k->key, "not") == 0) {
			struct pb_cond *sub = cond_new(COND_NOT), *inner;

			if (!sub) {
				rc = PB_ENOMEM;
				break;
			}
			rc = compile_node(c, k, path, depth + 1, &inner);
			if (rc == 0)
				rc = cond_push(sub, inner);
			if (rc < 0)
				pb_cond_free(sub);
			else
				rc = cond_push(all, sub);
		} else {
			rc = pb_proc_conf_err(c, k, path, "unknown condition '%s' (equals, "
					      "contains, regexp, range, network, has_fields, "
					      "and, or, not)", k->key);
		}
	}
	if (rc < 0) {
		pb_cond_free(all);
		goto out;
	}
	/* one condition: no need for the "all" around it */
	if (all->nsub == 1) {
		*out = all->sub[0];
		all->nsub = 0;
		pb_cond_free(all);
	} else {
		*out = all;
	}
out:
	if (shorthand)
		pb_conf_release(&tmp);
	return rc;
}

int pb_cond_compile(struct pb_cond **out, struct pb_conf *c,
		    const struct pb_conf_node *n, const char *path)
{
	if (!match_ctx) {
		match_ctx = pcre2_match_context_create(NULL);
		if (!match_ctx)
			return PB_ENOMEM;
		pcre2_set_match_limit(match_ctx, COND_MATCH_LIMIT);
		pcre2_set_depth_limit(match_ctx, COND_DEPTH_LIMIT);
	}
	return compile_node(c, n, path, 0, out);
}

/* ---- evaluating ---- */

static int str_match(const struct pb_cond *cd, const char *s)
{
	if (cd->op == COND_CONTAINS)
		return strstr(s, cd->str) != NULL;
	return pcre2_match(cd->re, (PCRE2_SPTR)s, strlen(s), 0, 0, cd->md, match_ctx) >= 0;
}

static int range_ok(const struct pb_cond *cd, double v)
{
	if (cd->has[0] && !(v > cd->bound[0]))
		return 0;
	if (cd->has[1] && !(v >= cd->bound[1]))
		return 0;
	if (cd->has[2] && !(v < cd->bound[2]))
		return 0;
	if (cd->has[3] && !(v <= cd->bound[3]))
		return 0;
	return 1;
}

static int leaf_eval(const struct pb_cond *cd, const cJSON *v)
{
	const cJSON *e;

	switch (cd->op) {
	case COND_HAS:
		return 1;
	case COND_EQUALS:
		if (cJSON_IsString(cd->value))
			return cJSON_IsString(v) && strcmp(v->valuestring, cd->value->valuestring) == 0;
		if (cJSON_IsNumber(cd->value))
			return cJSON_IsNumber(v) && v->valuedouble == cd->value->valuedouble;
		return cJSON_IsBool(v) && cJSON_IsTrue(v) == cJSON_IsTrue(cd->value);
	case COND_CONTAINS:
	case COND_REGEXP:
		if (cJSON_IsString(v))
			return str_match(cd, v->valuestring);
		if (cJSON_IsArray(v))
			for (e = v->child; e; e = e->next)
				if (cJSON_IsString(e) && str_match(cd, e->valuestring))
					return 1;
		return 0;
	case COND_RANGE: {
		double d;

		if (cd->is_date) {
			struct pb_time t;

			if (!cJSON_IsString(v) ||
			    pb_time_parse(v->valuestring, strlen(v->valuestring), &t) < 0)
				return 0;
			d = (double)t.sec + t.nsec / 1e9;
		} else if (cJSON_IsNumber(v)) {
			d = v->valuedouble;
		} else if (cJSON_IsString(v)) {
			char *end;

			d = strtod(v->valuestring, &end);
			if (!*v->valuestring || *end || !isfinite(d))
				return 0;
		} else {
			return 0;
		}
		return range_ok(cd, d);
	}
	case COND_NETWORK:
		if (cJSON_IsString(v))
			return pb_proc_netset_match(cd->nets, v->valuestring) == 1;
		if (cJSON_IsArray(v))
			for (e = v->child; e; e = e->next)
				if (cJSON_IsString(e) &&
				    pb_proc_netset_match(cd->nets, e->valuestring) == 1)
					return 1;
		return 0;
	default:
		return 0;
	}
}

int pb_cond_eval(const struct pb_cond *cd, const cJSON *ev)
{
	const cJSON *v;
	int i;

	switch (cd->op) {
	case COND_ALL:
		for (i = 0; i < cd->nsub; i++)
			if (!pb_cond_eval(cd->sub[i], ev))
				return 0;
		return 1;
	case COND_ANY:
		for (i = 0; i < cd->nsub; i++)
			if (pb_cond_eval(cd->sub[i], ev))
				return 1;
		return 0;
	case COND_NOT:
		return !pb_cond_eval(cd->sub[0], ev);
	default:
		v = pb_proc_field_get(ev, cd->field);
		return v && leaf_eval(cd, v);
	}
}
