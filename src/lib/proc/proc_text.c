/*
 * proc_text.c - processors that rewrite values: truncate_fields, convert,
 * replace, urldecode, decode_base64_field, decode_json_fields, dissect,
 * fingerprint, add_id, registered_domain (with the public suffix list).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pb.h"
#include "proc/proc_int.h"
#include "util/base64.h"
#include "util/banned.h"

/* A value as text, as Beats prints it (%v): strings as they are, whole
 * numbers without a fraction, others with the digits that read back. */
static int value_text(const cJSON *v, char *out, size_t n)
{
	if (cJSON_IsString(v))
		return snprintf(out, n, "%s", v->valuestring) < (int)n ? 0 : -1;
	if (cJSON_IsBool(v))
		return snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false"), 0;
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		int prec;

		if (d == floor(d) && fabs(d) < 9.2e18)
			return snprintf(out, n, "%lld", (long long)d), 0;
		for (prec = 15; prec <= 17; prec++) {
			snprintf(out, n, "%.*g", prec, d);
			if (strtod(out, NULL) == d)
				break;
		}
		return 0;
	}
	return -1;
}

/* ---- truncate_fields ---- */

struct trunc {
	char **fields;
	int n;
	int64_t max;
	int chars;            /* max counts characters, not bytes */
};

static const char *const trunc_keys[] = { "fields", "max_bytes", "max_characters", NULL };

static int trunc_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct trunc *t = calloc(1, sizeof(*t));
	int64_t mb = -1, mc = -1;
	int rc;

	if (!t)
		return PB_ENOMEM;
	p->priv = t;
	if ((rc = pb_proc_opt_strs(cc, "fields", &t->fields, &t->n)) < 0)
		return rc;
	if (rc == 1 || t->n == 0)
		return pb_proc_fail(cc, NULL, "needs fields: the fields to truncate");
	if ((rc = pb_proc_opt_int(cc, "max_bytes", &mb)) < 0 ||
	    (rc = pb_proc_opt_int(cc, "max_characters", &mc)) < 0)
		return rc;
	if ((mb >= 0) == (mc >= 0))
		return pb_proc_fail(cc, NULL, "needs one of max_bytes and max_characters");
	if (mb == 0 || mc == 0)
		return pb_proc_fail(cc, mb == 0 ? "max_bytes" : "max_characters",
				    "must be 1 or more");
	t->chars = mc > 0;
	t->max = t->chars ? mc : mb;
	p->backup = t->n > 1;
	return 0;
}

/* Where to cut s (len bytes) to keep at most max bytes or characters,
 * never inside a UTF-8 sequence; len when it fits. */
static size_t utf8_cut(const unsigned char *s, size_t len, size_t max, int chars)
{
	size_t i, count = 0;

	if (!chars) {
		size_t cut = max, back = 0;

		if (len <= max)
			return len;
		/* back to the start of the character the cut falls in (at
		 * most 3 bytes: more is not UTF-8, cut where asked) */
		while (cut > 0 && back < 3 && (s[cut] & 0xc0) == 0x80) {
			cut--;
			back++;
		}
		if ((s[cut] & 0xc0) == 0x80)
			cut = max;
		return cut;
	}
	for (i = 0; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80 && count++ == max)
			return i;
	}
	return len;
}

static int trunc_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct trunc *t = p->priv;
	int i, any = 0;

	for (i = 0; i < t->n; i++) {
		cJSON *v = pb_proc_field_get(ev, t->fields[i]);
		size_t len, cut;
		char *s;

		if (!v) {
			if (p->ignore_missing)
				continue;
			snprintf(err, errlen, "truncate_fields: could not fetch value for key: %s",
				 t->fields[i]);
			return PB_PROC_FAIL;
		}
		if (!cJSON_IsString(v)) {
			snprintf(err, errlen, "truncate_fields: value of %s cannot be truncated: "
				 "not a string", t->fields[i]);
			return PB_PROC_FAIL;
		}
		len = strlen(v->valuestring);
		cut = utf8_cut((const unsigned char *)v->valuestring, len, (size_t)t->max,
			       t->chars);
		if (cut >= len)
			continue;
		s = strndup(v->valuestring, cut);
		if (!s)
			return PB_PROC_FAIL;
		pb_proc_field_put(ev, t->fields[i], cJSON_CreateString(s));
		free(s);
		any = 1;
	}
	if (any) {
		/* Beats flags a truncated event in log.flags */
		char *flag[] = { "truncated" };

		pb_proc_add_tags(ev, "log.flags", flag, 1);
	}
	return PB_PROC_OK;
}

static void trunc_free(struct pb_proc *p)
{
	struct trunc *t = p->priv;

	if (t) {
		pb_proc_strv_free(t->fields);
		free(t);
	}
}

const struct pb_proc_type pb_proc_truncate_fields = {
	"truncate_fields", trunc_keys, 1, trunc_compile, trunc_run, trunc_free,
};

/* ---- convert ---- */

enum conv_type { CT_NONE, CT_INT, CT_LONG, CT_FLOAT, CT_DOUBLE, CT_STRING, CT_BOOL, CT_IP };

struct conv {
	struct pb_proc_pair *v;
	enum conv_type *types;
	int n, rename;
};

static const char *const conv_keys[] = { "fields", "mode", NULL };

static int conv_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	static const struct { const char *name; enum conv_type t; } names[] = {
		{ "integer", CT_INT }, { "long", CT_LONG }, { "float", CT_FLOAT },
		{ "double", CT_DOUBLE }, { "string", CT_STRING }, { "boolean", CT_BOOL },
		{ "ip", CT_IP },
	};
	struct conv *c = calloc(1, sizeof(*c));
	const char *mode = "copy";
	int i, rc;
	size_t k;

	if (!c)
		return PB_ENOMEM;
	p->priv = c;
	if ((rc = pb_proc_opt_pairs(cc, "fields", 0, &c->v, &c->n)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "mode", &mode)) < 0)
		return rc;
	if (strcmp(mode, "copy") && strcmp(mode, "rename"))
		return pb_proc_fail(cc, "mode", "'%s' is not copy or rename", mode);
	c->rename = mode[0] == 'r';
	c->types = calloc((size_t)c->n, sizeof(*c->types));
	if (!c->types)
		return PB_ENOMEM;
	for (i = 0; i < c->n; i++) {
		if (!c->v[i].type || !*c->v[i].type)
			continue;
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcasecmp(c->v[i].type, names[k].name) == 0)
				c->types[i] = names[k].t;
		if (c->types[i] == CT_NONE)
			return pb_proc_fail(cc, "fields", "type '%s' is not integer, long, "
					    "float, double, string, boolean or ip", c->v[i].type);
	}
	p->backup = c->n > 1;
	return 0;
}

/* Go's strconv.ParseBool. */
static int parse_go_bool(const char *s, int *b)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };
	size_t i;

	for (i = 0; i < 6; i++) {
		if (strcmp(s, t[i]) == 0)
			return *b = 1, 0;
		if (strcmp(s, f[i]) == 0)
			return *b = 0, 0;
	}
	return -1;
}

static cJSON *convert_value(const cJSON *v, enum conv_type t, char *why, size_t n)
{
	char buf[64];
	double d;
	char *end;
	int b;

	switch (t) {
	case CT_NONE:
		return cJSON_Duplicate(v, 1);
	case CT_INT:
	case CT_LONG:
		if (cJSON_IsNumber(v)) {
			d = trunc(v->valuedouble);
		} else if (cJSON_IsBool(v)) {
			d = cJSON_IsTrue(v);
		} else if (cJSON_IsString(v)) {
			long long ll;
			const char *s = v->valuestring;

			while (isspace((unsigned char)*s))
				s++;
			errno = 0;
			ll = strtoll(s, &end, 0);
			if (!*s || *end || errno) {
				snprintf(why, n, "'%s' is not an integer", v->valuestring);
				return NULL;
			}
			d = (double)ll;
		} else {
			snprintf(why, n, "not a number, a string or a boolean");
			return NULL;
		}
		if (t == CT_INT && (d < -2147483648.0 || d > 2147483647.0)) {
			snprintf(why, n, "out of the range of an integer");
			return NULL;
		}
		return cJSON_CreateNumber(d);
	case CT_FLOAT:
	case CT_DOUBLE:
		if (cJSON_IsNumber(v))
			return cJSON_CreateNumber(v->valuedouble);
		if (cJSON_IsBool(v))
			return cJSON_CreateNumber(cJSON_IsTrue(v));
		if (cJSON_IsString(v)) {
			d = strtod(v->valuestring, &end);
			if (*v->valuestring && !*end && isfinite(d))
				return cJSON_CreateNumber(d);
			snprintf(why, n, "'%s' is not a number", v->valuestring);
			return NULL;
		}
		snprintf(why, n, "not a number, a string or a boolean");
		return NULL;
	case CT_STRING:
		if (value_text(v, buf, sizeof(buf)) == 0 || cJSON_IsString(v))
			return cJSON_CreateString(cJSON_IsString(v) ? v->valuestring : buf);
		snprintf(why, n, "an object or a list is not converted to a string");
		return NULL;
	case CT_BOOL:
		if (cJSON_IsBool(v))
			return cJSON_CreateBool(cJSON_IsTrue(v));
		if (cJSON_IsNumber(v))
			return cJSON_CreateBool(v->valuedouble != 0);
		if (cJSON_IsString(v) && parse_go_bool(v->valuestring, &b) == 0)
			return cJSON_CreateBool(b);
		snprintf(why, n, "not a boolean");
		return NULL;
	case CT_IP: {
		unsigned char a[16];

		if (cJSON_IsString(v) && pb_proc_parse_ip(v->valuestring, a))
			return cJSON_CreateString(v->valuestring);
		snprintf(why, n, "not an IP address");
		return NULL;
	}
	}
	return NULL;
}

static int conv_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct conv *c = p->priv;
	int i;

	for (i = 0; i < c->n; i++) {
		const char *from = c->v[i].from, *to = c->v[i].to;
		cJSON *v = pb_proc_field_get(ev, from), *nv;
		char why[200];

		if (!v) {
			if (p->ignore_missing)
				continue;
			snprintf(err, errlen, "convert: field [%s] is missing", from);
			return PB_PROC_FAIL;
		}
		nv = convert_value(v, c->types[i], why, sizeof(why));
		if (!nv) {
			snprintf(err, errlen, "convert: unable to convert value of [%s]: %s",
				 from, why);
			return PB_PROC_FAIL;
		}
		if (to && strcmp(to, from)) {
			if (pb_proc_field_put(ev, to, nv) < 0) {
				snprintf(err, errlen, "convert: cannot put [%s]", to);
				return PB_PROC_FAIL;
			}
			if (c->rename)
				cJSON_Delete(pb_proc_field_take(ev, from));
		} else {
			pb_proc_field_put(ev, from, nv);
		}
	}
	return PB_PROC_OK;
}

static void conv_free(struct pb_proc *p)
{
	struct conv *c = p->priv;

	if (c) {
		pb_proc_pairs_free(c->v, c->n);
		free(c->types);
		free(c);
	}
}

const struct pb_proc_type pb_proc_convert = {
	"convert", conv_keys, 1, conv_compile, conv_run, conv_free,
};

/* ---- replace ---- */

struct repl {
	int n;
	struct repl_one {
		char *field, *replacement;
		pcre2_code *re;
	} *v;
};

static const char *const repl_keys[] = { "fields", NULL };

static void repl_free(struct pb_proc *p)
{
	struct repl *r = p->priv;
	int i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->v[i].field);
		free(r->v[i].replacement);
		pcre2_code_free(r->v[i].re);
	}
	free(r->v);
	free(r);
}

static int repl_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	const struct pb_conf_node *f = pb_conf_child(cc->n, "fields"), *k;
	struct repl *r = calloc(1, sizeof(*r));
	int cnt = 0;

	if (!r)
		return PB_ENOMEM;
	p->priv = r;
	if (!f || f->kind != PB_CONF_SEQ || !f->child)
		return pb_proc_fail(cc, f ? "fields" : NULL, "needs fields: a list of "
				    "{field, pattern, replacement}");
	for (k = f->child; k; k = k->next)
		cnt++;
	r->v = calloc((size_t)cnt, sizeof(*r->v));
	if (!r->v)
		return PB_ENOMEM;
	for (k = f->child; k; k = k->next) {
		const struct pb_conf_node *fl = pb_conf_child(k, "field"),
			*pat = pb_conf_child(k, "pattern"), *rep = pb_conf_child(k, "replacement");
		struct repl_one *o = &r->v[r->n++];
		PCRE2_SIZE off;
		int e;

		if (k->kind != PB_CONF_MAP || !fl || fl->kind != PB_CONF_SCALAR || !fl->value ||
		    !pat || pat->kind != PB_CONF_SCALAR || !pat->value ||
		    (rep && rep->kind != PB_CONF_SCALAR))
			return pb_proc_conf_err(cc->c, k, cc->path, "fields: each entry needs "
						"field, pattern and replacement");
		o->field = strdup(fl->value);
		o->replacement = strdup(rep && rep->value ? rep->value : "");
		o->re = pcre2_compile((PCRE2_SPTR)pat->value, PCRE2_ZERO_TERMINATED,
				      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &e, &off, NULL);
		if (!o->re)
			return pb_proc_conf_err(cc->c, pat, cc->path, "pattern: '%s' is not a "
						"regular expression", pat->value);
		if (!o->field || !o->replacement)
			return PB_ENOMEM;
	}
	p->backup = r->n > 1;
	return 0;
}

static int repl_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct repl *r = p->priv;
	int i;

	for (i = 0; i < r->n; i++) {
		struct repl_one *o = &r->v[i];
		cJSON *v = pb_proc_field_get(ev, o->field);
		PCRE2_SIZE outlen;
		PCRE2_UCHAR *out;
		size_t len;
		int rc;

		if (!v) {
			if (p->ignore_missing)
				continue;
			snprintf(err, errlen, "replace: could not fetch value for key: %s", o->field);
			return PB_PROC_FAIL;
		}
		if (!cJSON_IsString(v)) {
			snprintf(err, errlen, "replace: %s is not a string", o->field);
			return PB_PROC_FAIL;
		}
		len = strlen(v->valuestring);
		/* room for the result: measured first when too small */
		outlen = len * 2 + strlen(o->replacement) + 64;
		out = malloc(outlen);
		if (!out)
			return PB_PROC_FAIL;
		rc = pcre2_substitute(o->re, (PCRE2_SPTR)v->valuestring, len, 0,
				      PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH,
				      NULL, NULL, (PCRE2_SPTR)o->replacement,
				      PCRE2_ZERO_TERMINATED, out, &outlen);
		if (rc == PCRE2_ERROR_NOMEMORY && outlen < (64u << 20)) {
			PCRE2_UCHAR *bigger = realloc(out, outlen + 1);

			if (!bigger) {
				free(out);
				return PB_PROC_FAIL;
			}
			out = bigger;
			outlen++;
			rc = pcre2_substitute(o->re, (PCRE2_SPTR)v->valuestring, len, 0,
					      PCRE2_SUBSTITUTE_GLOBAL, NULL, NULL,
					      (PCRE2_SPTR)o->replacement, PCRE2_ZERO_TERMINATED,
					      out, &outlen);
		}
		if (rc < 0) {
			free(out);
			snprintf(err, errlen, "replace: %s: cannot replace", o->field);
			return PB_PROC_FAIL;
		}
		if (rc > 0)
			pb_proc_field_put(ev, o->field, cJSON_CreateString((char *)out));
		free(out);
	}
	return PB_PROC_OK;
}

const struct pb_proc_type pb_proc_replace = {
	"replace", repl_keys, 1, repl_compile, repl_run, repl_free,
};

/* ---- urldecode ---- */

static const char *const urld_keys[] = { "fields", NULL };

struct urld {
	struct pb_proc_pair *v;
	int n;
};

static int urld_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct urld *u = calloc(1, sizeof(*u));

	if (!u)
		return PB_ENOMEM;
	p->priv = u;
	int rc = pb_proc_opt_pairs(cc, "fields", 0, &u->v, &u->n);

	if (rc < 0)
		return rc;
	p->backup = u->n > 1;
	return 0;
}

static void urld_free(struct pb_proc *p)
{
	struct urld *u = p->priv;

	if (u) {
		pb_proc_pairs_free(u->v, u->n);
		free(u);
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Go's url.QueryUnescape: %XX and '+' for a space. */
static char *query_unescape(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h, l;

			h = i + 1 < n ? hexval((unsigned char)s[i + 1]) : -1;
			l = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
			if (h < 0 || l < 0) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(h * 16 + l);
			i += 2;
		} else {
			out[o++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	out[o] = '\0';
	return out;
}

static int urld_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct urld *u = p->priv;
	int i;

	for (i = 0; i < u->n; i++) {
		cJSON *v = pb_proc_field_get(ev, u->v[i].from);
		char *s;

		if (!v) {
			if (p->ignore_missing)
				continue;
			snprintf(err, errlen, "urldecode: could not fetch value for key: %s",
				 u->v[i].from);
			return PB_PROC_FAIL;
		}
		if (!cJSON_IsString(v) || !(s = query_unescape(v->valuestring))) {
			snprintf(err, errlen, "urldecode: %s: not a URL-encoded string",
				 u->v[i].from);
			return PB_PROC_FAIL;
		}
		pb_proc_field_put(ev, u->v[i].to ? u->v[i].to : u->v[i].from,
				  cJSON_CreateString(s));
		free(s);
	}
	return PB_PROC_OK;
}

const struct pb_proc_type pb_proc_urldecode = {
	"urldecode", urld_keys, 1, urld_compile, urld_run, urld_free,
};

/* ---- decode_base64_field ---- */

static const char *const b64_keys[] = { "field", NULL };

static int b64_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	const struct pb_conf_node *f = pb_conf_child(cc->n, "field");
	const struct pb_conf_node *from = f ? pb_conf_child(f, "from") : NULL;
	const struct pb_conf_node *to = f ? pb_conf_child(f, "to") : NULL;
	struct pb_proc_pair *pair = calloc(1, sizeof(*pair));

	if (!pair)
		return PB_ENOMEM;
	p->priv = pair;
	if (!f || f->kind != PB_CONF_MAP || !from || from->kind != PB_CONF_SCALAR ||
	    !from->value || !*from->value || (to && to->kind != PB_CONF_SCALAR))
		return pb_proc_fail(cc, f ? "field" : NULL, "needs field: {from: field, "
				    "to: field}");
	pair->from = strdup(from->value);
	pair->to = strdup(to && to->value && *to->value ? to->value : from->value);
	return pair->from && pair->to ? 0 : PB_ENOMEM;
}

static void pair_free(struct pb_proc *p)
{
	pb_proc_pairs_free(p->priv, 1);
}

static int b64_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct pb_proc_pair *pair = p->priv;
	cJSON *v = pb_proc_field_get(ev, pair->from);
	size_t len;
	uint8_t *out;
	long n;

	if (!v) {
		if (p->ignore_missing)
			return PB_PROC_OK;
		snprintf(err, errlen, "decode_base64_field: could not fetch value for key: %s",
			 pair->from);
		return PB_PROC_FAIL;
	}
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "decode_base64_field: %s is not a string", pair->from);
		return PB_PROC_FAIL;
	}
	len = strlen(v->valuestring);
	out = malloc(len / 4 * 3 + 4);
	if (!out)
		return PB_PROC_FAIL;
	n = pb_base64_decode(out, v->valuestring, len);
	if (n < 0) {
		free(out);
		snprintf(err, errlen, "decode_base64_field: %s is not base64", pair->from);
		return PB_PROC_FAIL;
	}
	/* bytes that are not UTF-8 are escaped when written; a NUL ends
	 * the string (cJSON strings are C strings) */
	out[n] = '\0';
	pb_proc_field_put(ev, pair->to, cJSON_CreateString((char *)out));
	free(out);
	return PB_PROC_OK;
}

const struct pb_proc_type pb_proc_decode_base64_field = {
	"decode_base64_field", b64_keys, 1, b64_compile, b64_run, pair_free,
};

/* ---- decode_json_fields ---- */

struct djson {
	char **fields;
	int n;
	int process_array, overwrite_keys, add_error_key;
	int64_t max_depth;
	char *target;          /* NULL: in place; "": the top level */
	char *document_id;
};

static const char *const djson_keys[] = {
	"fields", "process_array", "max_depth", "target", "overwrite_keys",
	"add_error_key", "expand_keys", "document_id", NULL,
};

static int djson_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct djson *d = calloc(1, sizeof(*d));
	const char *target = NULL, *docid = NULL;
	int expand = 0, rc;

	if (!d)
		return PB_ENOMEM;
	p->priv = d;
	d->max_depth = 1;
	if ((rc = pb_proc_opt_strs(cc, "fields", &d->fields, &d->n)) < 0)
		return rc;
	if (rc == 1 || !d->n)
		return pb_proc_fail(cc, NULL, "needs fields: the fields holding JSON");
	if ((rc = pb_proc_opt_bool(cc, "process_array", &d->process_array)) < 0 ||
	    (rc = pb_proc_opt_bool(cc, "overwrite_keys", &d->overwrite_keys)) < 0 ||
	    (rc = pb_proc_opt_bool(cc, "add_error_key", &d->add_error_key)) < 0 ||
	    (rc = pb_proc_opt_bool(cc, "expand_keys", &expand)) < 0 ||
	    (rc = pb_proc_opt_int(cc, "max_depth", &d->max_depth)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "target", &target)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "document_id", &docid)) < 0)
		return rc;
	if (d->max_depth < 1 || d->max_depth > 100)
		return pb_proc_fail(cc, "max_depth", "must be from 1 to 100");
	if (target && !(d->target = strdup(target)))
		return PB_ENOMEM;
	if (docid && *docid && !(d->document_id = strdup(docid)))
		return PB_ENOMEM;
	p->backup = d->n > 1;
	return 0;
}

static void djson_free(struct pb_proc *p)
{
	struct djson *d = p->priv;

	if (d) {
		pb_proc_strv_free(d->fields);
		free(d->target);
		free(d->document_id);
		free(d);
	}
}

/* Decode strings inside v that hold JSON objects or arrays, down to
 * depth levels (max_depth). */
static void decode_nested(cJSON *v, int depth, int arrays)
{
	cJSON *k;

	if (depth <= 0)
		return;
	for (k = v->child; k; k = k->next) {
		if (cJSON_IsString(k)) {
			const char *s = k->valuestring;
			cJSON *inner;

			while (isspace((unsigned char)*s))
				s++;
			if (*s != '{' && !(arrays && *s == '['))
				continue;
			inner = cJSON_Parse(k->valuestring);
			if (!inner)
				continue;
			decode_nested(inner, depth - 1, arrays);
			/* cJSON's replace keeps no key: give it k's */
			if (k->string && !(inner->string = strdup(k->string))) {
				cJSON_Delete(inner);
				continue;
			}
			cJSON_ReplaceItemViaPointer(v, k, inner);
			k = inner;
		} else if (cJSON_IsObject(k) || cJSON_IsArray(k)) {
			decode_nested(k, depth, arrays);
		}
	}
}

static int djson_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct djson *d = p->priv;
	int i;

	for (i = 0; i < d->n; i++) {
		cJSON *v = pb_proc_field_get(ev, d->fields[i]), *dec;

		if (!v || !cJSON_IsString(v))
			continue;           /* Beats skips what is not text */
		dec = cJSON_Parse(v->valuestring);
		if (!dec || (!cJSON_IsObject(dec) && !(d->process_array && cJSON_IsArray(dec)))) {
			int bad = !dec;

			cJSON_Delete(dec);
			if (bad && d->add_error_key) {
				snprintf(err, errlen, "decode_json_fields: %s: not valid JSON",
					 d->fields[i]);
				return PB_PROC_FAIL;
			}
			continue;
		}
		if (d->max_depth > 1)
			decode_nested(dec, (int)d->max_depth - 1, d->process_array);
		if (d->document_id && cJSON_IsObject(dec)) {
			cJSON *id = pb_proc_field_take(dec, d->document_id);

			if (id)
				pb_proc_field_put(ev, "@metadata._id", id);
		}
		if (!d->target) {
			pb_proc_field_put(ev, d->fields[i], dec);
		} else if (!*d->target && cJSON_IsObject(dec)) {
			cJSON *k;

			while ((k = dec->child) != NULL) {
				cJSON_DetachItemViaPointer(dec, k);
				if (!d->overwrite_keys && pb_proc_field_get(ev, k->string))
					cJSON_Delete(k);
				else
					pb_proc_field_put(ev, k->string, k);
			}
			cJSON_Delete(dec);
		} else if (*d->target) {
			if (pb_proc_field_put(ev, d->target, dec) < 0) {
				snprintf(err, errlen, "decode_json_fields: cannot put %s", d->target);
				return PB_PROC_FAIL;
			}
		} else {
			cJSON_Delete(dec);
		}
	}
	return PB_PROC_OK;
}

const struct pb_proc_type pb_proc_decode_json_fields = {
	"decode_json_fields", djson_keys, 1, djson_compile, djson_run, djson_free,
};

/* ---- dissect ---- */

/*
 * Beats' dissect: the tokenizer is text and %{key}s; each key takes the
 * input up to the first occurrence of the text after it.  The key's
 * first character says what becomes of the value:
 *   %{key}   the value is key's        %{}, %{?key}  not kept
 *   %{+key}  appended to key's value, joined by the text before it
 *            (a space when that is empty); %{+key/N} orders the appends
 *   %{*key}  not kept; its value names the key of the %{&key} value
 *   %{&key}  stored under the value of the ?key or *key of that name
 * A key may end in "->" (the delimiter after it may repeat) and
 * "|type" (converted as Beats does, kept as text when it does not
 * convert).
 */

#define DISSECT_MAX_KEYS 256   /* values are kept in a linear table */

enum dkind { DK_SKIP, DK_NORMAL, DK_NAMED_SKIP, DK_POINTER, DK_APPEND, DK_INDIRECT };

struct dkey {
	char *name;            /* NULL: %{} */
	char *delim;           /* what follows the key ("" for the last) */
	const char *join;      /* an append's separator: the text before it */
	enum dkind kind;
	int pad;               /* "->": the delimiter may repeat */
	int ord;               /* "/N": when an append is applied */
	enum conv_type type;
};

struct dissect {
	char *prefix_lit;      /* text before the first key */
	struct dkey *k;
	int n;
	int *order;            /* the keys by ord, as written when equal */
	char *field, *target_prefix, *trim_chars;
	int overwrite, ignore_failure, trim;  /* trim: 1 left, 2 right, 3 all */
};

static const char *const dissect_keys[] = {
	"tokenizer", "field", "target_prefix", "ignore_failure", "overwrite_keys",
	"trim_values", "trim_chars", "tag_on_failure", NULL,
};

static void dissect_free(struct pb_proc *p)
{
	struct dissect *d = p->priv;
	int i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->k[i].name);
		free(d->k[i].delim);
	}
	free(d->k);
	free(d->order);
	free(d->prefix_lit);
	free(d->field);
	free(d->target_prefix);
	free(d->trim_chars);
	free(d);
}

/* The modifiers of one key, name..end (the text between the braces). */
static int dissect_key(struct pb_proc_cc *cc, struct dkey *k, const char *name,
		       const char *end)
{
	const char *bar;

	if (end - name >= 2 && end[-2] == '-' && end[-1] == '>') {
		k->pad = 1;
		end -= 2;
	}
	bar = memchr(name, '|', (size_t)(end - name));
	if (bar) {
		static const struct { const char *n; enum conv_type t; } ty[] = {
			{ "integer", CT_INT }, { "long", CT_LONG }, { "float", CT_FLOAT },
			{ "double", CT_DOUBLE }, { "boolean", CT_BOOL }, { "ip", CT_IP },
			{ "string", CT_STRING },
		};
		size_t i, tl = (size_t)(end - bar - 1);

		for (i = 0; i < sizeof(ty) / sizeof(ty[0]); i++)
			if (strlen(ty[i].n) == tl && strncmp(bar + 1, ty[i].n, tl) == 0)
				k->type = ty[i].t;
		if (k->type == CT_NONE)
			return pb_proc_fail(cc, "tokenizer", "unknown type '%.*s'",
					    (int)tl, bar + 1);
		end = bar;
		/* "key->|type" as well as "key|type->" */
		if (!k->pad && end - name >= 2 && end[-2] == '-' && end[-1] == '>') {
			k->pad = 1;
			end -= 2;
		}
	}
	/* "/N": one or two digits, as Beats reads them */
	if (end - name >= 2 && isdigit((unsigned char)end[-1])) {
		const char *sl = end - 1;

		if (isdigit((unsigned char)sl[-1]) && sl - 1 > name)
			sl--;
		if (sl - 1 >= name && sl[-1] == '/' && sl - 1 > name) {
			k->ord = sl[0] - '0';
			if (sl + 1 < end)
				k->ord = k->ord * 10 + (sl[1] - '0');
			end = sl - 1;
		}
	}
	k->kind = DK_NORMAL;
	if (name < end && ((name[0] == '+' && name + 1 < end && name[1] == '&') ||
			   (name[0] == '&' && name + 1 < end && name[1] == '+')))
		return pb_proc_fail(cc, "tokenizer", "mixed prefix '%.2s' in %%{%.*s}",
				    name, (int)(end - name), name);
	if (name < end) {
		switch (*name) {
		case '?': k->kind = DK_NAMED_SKIP; break;
		case '*': k->kind = DK_POINTER; break;
		case '+': k->kind = DK_APPEND; break;
		case '&': k->kind = DK_INDIRECT; break;
		default: break;
		}
	}
	if (k->kind != DK_NORMAL)
		name++;
	/* Beats drops the type of the keys whose value is not written as
	 * it is (an append's is the joined text) */
	if (k->kind == DK_NAMED_SKIP || k->kind == DK_POINTER || k->kind == DK_APPEND)
		k->type = CT_NONE;
	if (name >= end) {
		if (k->kind == DK_NORMAL || k->kind == DK_NAMED_SKIP) {
			k->kind = DK_SKIP;   /* %{} and %{?} skip */
			return 0;
		}
		return pb_proc_fail(cc, "tokenizer", "a key without a name after '%c'",
				    name[-1]);
	}
	if (!(k->name = strndup(name, (size_t)(end - name))))
		return PB_ENOMEM;
	return 0;
}

static int dissect_parse(struct pb_proc_cc *cc, struct dissect *d, const char *tok)
{
	const char *s = tok, *open;
	int cap = 0, i, j;

	open = strstr(s, "%{");
	if (!open)
		return pb_proc_fail(cc, "tokenizer", "no %%{key} in '%s'", tok);
	d->prefix_lit = strndup(s, (size_t)(open - s));
	if (!d->prefix_lit)
		return PB_ENOMEM;
	s = open;
	while (s && *s) {
		const char *close = strchr(s, '}'), *next;
		struct dkey *k;
		int rc;

		if (!close)
			return pb_proc_fail(cc, "tokenizer", "'%%{' without '}' in '%s'", tok);
		if (d->n == DISSECT_MAX_KEYS)
			return pb_proc_fail(cc, "tokenizer", "more than %d keys",
					    DISSECT_MAX_KEYS);
		if (d->n == cap) {
			struct dkey *nk = realloc(d->k, (size_t)(cap ? cap * 2 : 8) * sizeof(*nk));

			if (!nk)
				return PB_ENOMEM;
			d->k = nk;
			cap = cap ? cap * 2 : 8;
		}
		k = &d->k[d->n++];
		memset(k, 0, sizeof(*k));
		if ((rc = dissect_key(cc, k, s + 2, close)) < 0)
			return rc;
		next = strstr(close + 1, "%{");
		k->delim = next ? strndup(close + 1, (size_t)(next - close - 1)) : strdup(close + 1);
		if (!k->delim)
			return PB_ENOMEM;
		if (next && !*k->delim)
			return pb_proc_fail(cc, "tokenizer", "two keys with nothing between "
					    "them in '%s'", tok);
		s = next;
	}
	for (i = 0; i < d->n; i++) {
		const char *before = i ? d->k[i - 1].delim : d->prefix_lit;

		d->k[i].join = *before ? before : " ";
		if (d->k[i].kind != DK_INDIRECT)
			continue;
		/* an &key needs the ?key or *key that names where it goes */
		for (j = 0; j < d->n; j++)
			if ((d->k[j].kind == DK_NAMED_SKIP || d->k[j].kind == DK_POINTER) &&
			    strcmp(d->k[j].name, d->k[i].name) == 0)
				break;
		if (j == d->n)
			return pb_proc_fail(cc, "tokenizer", "missing reference for key '%s' "
					    "(%%{?%s} or %%{*%s})", d->k[i].name, d->k[i].name,
					    d->k[i].name);
	}
	/* the values are applied by ord (stable: a plain key is 0), so
	 * that %{+key/2} %{+key/1} joins right to left */
	d->order = malloc((size_t)d->n * sizeof(*d->order));
	if (!d->order)
		return PB_ENOMEM;
	for (i = 0; i < d->n; i++) {
		int v = i;

		for (j = i; j > 0 && d->k[d->order[j - 1]].ord > d->k[v].ord; j--)
			d->order[j] = d->order[j - 1];
		d->order[j] = v;
	}
	return 0;
}

static int dissect_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct dissect *d = calloc(1, sizeof(*d));
	const char *tok = NULL, *field = "message", *prefix = "dissect", *trim = "none",
		*chars = " ";
	int rc;

	if (!d)
		return PB_ENOMEM;
	p->priv = d;
	if ((rc = pb_proc_opt_str(cc, "tokenizer", &tok)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "field", &field)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "target_prefix", &prefix)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "trim_values", &trim)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "trim_chars", &chars)) < 0 ||
	    (rc = pb_proc_opt_bool(cc, "ignore_failure", &d->ignore_failure)) < 0 ||
	    (rc = pb_proc_opt_bool(cc, "overwrite_keys", &d->overwrite)) < 0)
		return rc;
	if (!tok || !*tok)
		return pb_proc_fail(cc, NULL, "needs tokenizer: a pattern such as "
				    "\"%%{key1} %%{key2}\"");
	if (strcmp(trim, "none") == 0)
		d->trim = 0;
	else if (strcmp(trim, "left") == 0)
		d->trim = 1;
	else if (strcmp(trim, "right") == 0)
		d->trim = 2;
	else if (strcmp(trim, "all") == 0)
		d->trim = 3;
	else
		return pb_proc_fail(cc, "trim_values", "'%s' is not none, left, right or all",
				    trim);
	if ((rc = dissect_parse(cc, d, tok)) < 0)
		return rc;
	d->field = strdup(field);
	d->target_prefix = strdup(prefix);
	d->trim_chars = strdup(chars);
	/* no backup by the chain: dissect_run writes nothing until all is
	 * found, and undoes its own writes, so that the failure flag it
	 * adds stays */
	p->backup = 0;
	return d->field && d->target_prefix && d->trim_chars ? 0 : PB_ENOMEM;
}

/* The values found, by name, as Beats' map of them: at most one entry
 * per key, so the table is bounded by the tokenizer. */
struct dval {
	char *name, *val;
	size_t len;
	enum conv_type type;
};

struct dvals {
	struct dval *v;
	int n;
};

static void dvals_free(struct dvals *m)
{
	int i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].val);
	}
	free(m->v);
}

static struct dval *dvals_find(struct dvals *m, const char *name)
{
	int i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->v[i].name, name) == 0)
			return &m->v[i];
	return NULL;
}

/* name = a (alen bytes), then sep and b when append is set; m->v has
 * room for one entry per key. */
static int dvals_set(struct dvals *m, const char *name, const char *a, size_t alen,
		     const char *sep, const char *b, size_t blen, enum conv_type type)
{
	struct dval *e = dvals_find(m, name);
	size_t sl = sep ? strlen(sep) : 0, len = alen + sl + blen;
	char *v = malloc(len + 1);

	if (!v)
		return -1;
	memcpy(v, a, alen);
	if (sep) {
		memcpy(v + alen, sep, sl);
		memcpy(v + alen + sl, b, blen);
	}
	v[len] = '\0';
	if (!e) {
		e = &m->v[m->n];
		if (!(e->name = strdup(name))) {
			free(v);
			return -1;
		}
		m->n++;
	} else {
		free(e->val);
	}
	e->val = v;
	e->len = len;
	e->type = type;
	return 0;
}

static void dvals_del(struct dvals *m, const char *name)
{
	struct dval *e = dvals_find(m, name);

	if (!e)
		return;
	free(e->name);
	free(e->val);
	memmove(e, e + 1, (size_t)(m->v + m->n - (e + 1)) * sizeof(*e));
	m->n--;
}

/* Find every key's value in s; on a mismatch, err and -1 (Beats' parse
 * failure).  pos[2i], pos[2i+1]: where key i's value starts and ends. */
static int dissect_find(const struct dissect *d, const char *s, size_t *pos,
			char *err, size_t errlen)
{
	size_t lit = strlen(d->prefix_lit), slen = strlen(s), at;
	int i;

	if (!*s) {
		snprintf(err, errlen, "dissect: empty string provided");
		return -1;
	}
	if (strncmp(s, d->prefix_lit, lit) != 0) {
		snprintf(err, errlen, "dissect: could not find beginning delimiter '%s'",
			 d->prefix_lit);
		return -1;
	}
	at = lit;
	for (i = 0; i < d->n; i++) {
		const struct dkey *k = &d->k[i];
		size_t dl = strlen(k->delim), end;

		if (dl) {
			const char *f = strstr(s + at, k->delim);

			if (!f) {
				snprintf(err, errlen, "dissect: could not find delimiter '%s'",
					 k->delim);
				return -1;
			}
			end = (size_t)(f - s);
		} else {
			end = slen;
		}
		pos[2 * i] = at;
		pos[2 * i + 1] = end;
		at = end + dl;
		/* "->": Beats steps one byte at a time while the delimiter
		 * starts again right after (end + dl <= slen: it was found) */
		if (k->pad && dl)
			while (strncmp(s + end + 1, k->delim, dl) == 0)
				at = ++end + dl;
	}
	return 0;
}

/* The values by name after the modifiers, as Beats resolves them. */
static int dissect_resolve(const struct dissect *d, const char *s, size_t *pos,
			   struct dvals *m)
{
	int i;

	m->v = calloc((size_t)d->n + 1, sizeof(*m->v));
	if (!m->v)
		return -1;
	for (i = 0; i < d->n; i++) {
		const struct dkey *k = &d->k[d->order[i]];
		const char *a = s + pos[2 * d->order[i]];
		size_t len = pos[2 * d->order[i] + 1] - pos[2 * d->order[i]];
		struct dval *e;
		char *to;
		int rc = 0;

		switch (k->kind) {
		case DK_SKIP:
			break;
		case DK_NORMAL:
		case DK_NAMED_SKIP:
		case DK_POINTER:
			rc = dvals_set(m, k->name, a, len, NULL, NULL, 0, k->type);
			break;
		case DK_APPEND:
			e = dvals_find(m, k->name);
			if (e) {
				/* e->val is replaced: join from a copy */
				char *old = e->val;

				e->val = NULL;
				rc = dvals_set(m, k->name, old, e->len, k->join, a, len, CT_NONE);
				free(old);
			} else {
				rc = dvals_set(m, k->name, a, len, NULL, NULL, 0, CT_NONE);
			}
			break;
		case DK_INDIRECT:
			/* nothing when the reference comes later (by ord) */
			e = dvals_find(m, k->name);
			if (!e || !*e->val)
				break;
			to = strdup(e->val);
			if (!to)
				return -1;
			rc = dvals_set(m, to, a, len, NULL, NULL, 0, k->type);
			free(to);
			break;
		}
		if (rc < 0)
			return -1;
	}
	/* the references and named skips are not kept */
	for (i = 0; i < d->n; i++)
		if (d->k[i].kind == DK_NAMED_SKIP || d->k[i].kind == DK_POINTER)
			dvals_del(m, d->k[i].name);
	return 0;
}

/* An entry as JSON: text, or its type when it converts (Beats keeps the
 * text of a value that does not, and ignores trailing spaces). */
static cJSON *dissect_json(const struct dval *e)
{
	cJSON *v, *cv;
	char why[128];
	size_t len = e->len;

	if (e->type == CT_NONE || e->type == CT_STRING)
		return cJSON_CreateString(e->val);
	while (len > 0 && e->val[len - 1] == ' ')
		len--;
	e->val[len] = '\0';
	v = cJSON_CreateString(e->val);
	if (!v)
		return NULL;
	cv = convert_value(v, e->type, why, sizeof(why));
	if (!cv) {
		cJSON_Delete(v);
		e->val[len] = e->len > len ? ' ' : '\0';
		return cJSON_CreateString(e->val);
	}
	cJSON_Delete(v);
	return cv;
}

static int dissect_write(struct dissect *d, cJSON *ev, struct dvals *m, char *err,
			 size_t errlen)
{
	size_t pl = strlen(d->target_prefix);
	char **paths = calloc((size_t)m->n + 1, sizeof(*paths));
	cJSON *backup = NULL;
	int i, rc = -1;

	if (!paths)
		return -1;
	for (i = 0; i < m->n; i++) {
		size_t nl = strlen(m->v[i].name);

		paths[i] = malloc(pl + nl + 2);
		if (!paths[i])
			goto out;
		snprintf(paths[i], pl + nl + 2, "%s%s%s", d->target_prefix, pl ? "." : "",
			 m->v[i].name);
	}
	/* Beats looks at every key before it writes one */
	if (!d->overwrite)
		for (i = 0; i < m->n; i++)
			if (pb_proc_field_get(ev, paths[i])) {
				snprintf(err, errlen, "dissect: cannot override existing key "
					 "with `%.400s`", paths[i]);
				goto out;
			}
	if (m->n > 1 && !(backup = cJSON_Duplicate(ev, 1)))
		goto out;
	for (i = 0; i < m->n; i++) {
		if (pb_proc_field_put(ev, paths[i], dissect_json(&m->v[i])) < 0) {
			snprintf(err, errlen, "dissect: cannot put %.400s", paths[i]);
			if (backup) {
				/* put the event back as it was: swap contents */
				cJSON *kids = ev->child;

				ev->child = backup->child;
				backup->child = kids;
			}
			goto out;
		}
	}
	rc = 0;
out:
	cJSON_Delete(backup);
	for (i = 0; i < m->n; i++)
		free(paths[i]);
	free(paths);
	return rc;
}

static int dissect_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct dissect *d = p->priv;
	cJSON *v = pb_proc_field_get(ev, d->field);
	struct dvals m = { NULL, 0 };
	size_t *pos;
	char *copy;
	int i, rc;

	if (!v) {
		if (p->ignore_missing)
			return PB_PROC_OK;
		snprintf(err, errlen, "dissect: field %s not found", d->field);
		return PB_PROC_FAIL;
	}
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "dissect: %s is not a string", d->field);
		return PB_PROC_FAIL;
	}
	/* the field may be replaced while the keys are written */
	copy = strdup(v->valuestring);
	pos = malloc((size_t)d->n * 2 * sizeof(*pos));
	if (!copy || !pos) {
		free(copy);
		free(pos);
		return PB_PROC_FAIL;
	}
	if (dissect_find(d, copy, pos, err, errlen) < 0) {
		/* Beats flags the event, and goes on when told to */
		char *flag[] = { "dissect_parsing_error" };

		free(copy);
		free(pos);
		pb_proc_add_tags(ev, "log.flags", flag, 1);
		return d->ignore_failure ? PB_PROC_OK : PB_PROC_FAIL;
	}
	for (i = 0; d->trim && i < d->n; i++) {
		size_t *a = &pos[2 * i], *b = &pos[2 * i + 1];

		if (d->trim & 1)
			while (*a < *b && strchr(d->trim_chars, copy[*a]))
				(*a)++;
		if (d->trim & 2)
			while (*b > *a && strchr(d->trim_chars, copy[*b - 1]))
				(*b)--;
	}
	rc = dissect_resolve(d, copy, pos, &m);
	free(pos);
	free(copy);
	if (rc == 0)
		rc = dissect_write(d, ev, &m, err, errlen);
	dvals_free(&m);
	return rc < 0 ? PB_PROC_FAIL : PB_PROC_OK;
}

const struct pb_proc_type pb_proc_dissect = {
	"dissect", dissect_keys, 1, dissect_compile, dissect_run, dissect_free,
};

/* ---- fingerprint ---- */

struct fpr {
	char **fields;     /* sorted */
	int n;
	char *target;
	const EVP_MD *md;
	int enc;           /* 0 hex, 1 base64, 2 base32 */
};

static const char *const fpr_keys[] = { "fields", "target_field", "method", "encoding", NULL };

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fpr_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct fpr *f = calloc(1, sizeof(*f));
	const char *target = "fingerprint", *method = "sha256", *enc = "hex";
	int rc;

	if (!f)
		return PB_ENOMEM;
	p->priv = f;
	if ((rc = pb_proc_opt_strs(cc, "fields", &f->fields, &f->n)) < 0)
		return rc;
	if (rc == 1 || !f->n)
		return pb_proc_fail(cc, NULL, "needs fields: the fields to fingerprint");
	if ((rc = pb_proc_opt_str(cc, "target_field", &target)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "method", &method)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "encoding", &enc)) < 0)
		return rc;
	if (strcmp(method, "md5") && strcmp(method, "sha1") && strcmp(method, "sha256") &&
	    strcmp(method, "sha384") && strcmp(method, "sha512"))
		return pb_proc_fail(cc, "method", "'%s' is not supported (md5, sha1, sha256, "
				    "sha384, sha512; xxhash is not)", method);
	f->md = EVP_get_digestbyname(method);
	if (!f->md)
		return pb_proc_fail(cc, "method", "'%s' is not available", method);
	if (strcmp(enc, "hex") == 0)
		f->enc = 0;
	else if (strcmp(enc, "base64") == 0)
		f->enc = 1;
	else if (strcmp(enc, "base32") == 0)
		f->enc = 2;
	else
		return pb_proc_fail(cc, "encoding", "'%s' is not hex, base32 or base64", enc);
	qsort(f->fields, (size_t)f->n, sizeof(char *), cmp_str);
	f->target = strdup(target);
	return f->target ? 0 : PB_ENOMEM;
}

static void fpr_free(struct pb_proc *p)
{
	struct fpr *f = p->priv;

	if (f) {
		pb_proc_strv_free(f->fields);
		free(f->target);
		free(f);
	}
}

static void base32(char *out, const unsigned char *in, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t i, o = 0;
	unsigned buf = 0;
	int bits = 0;

	for (i = 0; i < n; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = a[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits)
		out[o++] = a[(buf << (5 - bits)) & 31];
	while (o % 8)
		out[o++] = '=';
	out[o] = '\0';
}

static void encode_digest(char *out, const unsigned char *d, unsigned n, int enc)
{
	unsigned i;

	if (enc == 1) {
		pb_base64_encode(out, d, n);
		out[pb_base64_enc_len(n)] = '\0';
	} else if (enc == 2) {
		base32(out, d, n);
	} else {
		for (i = 0; i < n; i++)
			snprintf(out + 2 * i, 3, "%02x", d[i]);
	}
}

static int fpr_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct fpr *f = p->priv;
	unsigned char dig[EVP_MAX_MD_SIZE];
	char out[EVP_MAX_MD_SIZE * 2 + 8], text[128];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned dlen;
	int i;

	if (!ctx || !EVP_DigestInit_ex(ctx, f->md, NULL)) {
		EVP_MD_CTX_free(ctx);
		return PB_PROC_FAIL;
	}
	/* "|field|value" for each field in name order, then "|" (Beats) */
	for (i = 0; i < f->n; i++) {
		const cJSON *v = pb_proc_field_get(ev, f->fields[i]);
		const char *s = text;

		if (!v) {
			if (p->ignore_missing)
				continue;
			snprintf(err, errlen, "fingerprint: failed to find field [%s] in event",
				 f->fields[i]);
			EVP_MD_CTX_free(ctx);
			return PB_PROC_FAIL;
		}
		if (cJSON_IsString(v))
			s = v->valuestring;
		else if (value_text(v, text, sizeof(text)) < 0) {
			snprintf(err, errlen, "fingerprint: cannot compute fingerprint using "
				 "field [%s]: not a single value", f->fields[i]);
			EVP_MD_CTX_free(ctx);
			return PB_PROC_FAIL;
		}
		EVP_DigestUpdate(ctx, "|", 1);
		EVP_DigestUpdate(ctx, f->fields[i], strlen(f->fields[i]));
		EVP_DigestUpdate(ctx, "|", 1);
		EVP_DigestUpdate(ctx, s, strlen(s));
	}
	EVP_DigestUpdate(ctx, "|", 1);
	EVP_DigestFinal_ex(ctx, dig, &dlen);
	EVP_MD_CTX_free(ctx);
	encode_digest(out, dig, dlen, f->enc);
	if (pb_proc_field_put(ev, f->target, cJSON_CreateString(out)) < 0) {
		snprintf(err, errlen, "fingerprint: cannot put %s", f->target);
		return PB_PROC_FAIL;
	}
	return PB_PROC_OK;
}

const struct pb_proc_type pb_proc_fingerprint = {
	"fingerprint", fpr_keys, 1, fpr_compile, fpr_run, fpr_free,
};

/* ---- add_id ---- */

struct add_id {
	char *target;
	int random;
	struct pb_buf scratch;
};

static const char *const add_id_keys[] = { "target_field", "type", NULL };

static int add_id_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct add_id *a = calloc(1, sizeof(*a));
	const char *target = "@metadata._id", *type = "elasticsearch";
	int rc;

	if (!a)
		return PB_ENOMEM;
	p->priv = a;
	pb_buf_init(&a->scratch, PB_MAX_EVENT_TEXT);
	if ((rc = pb_proc_opt_str(cc, "target_field", &target)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "type", &type)) < 0)
		return rc;
	if (strcmp(type, "elasticsearch") == 0)
		a->random = 0;
	else if (strcmp(type, "random") == 0)
		a->random = 1;
	else
		return pb_proc_fail(cc, "type", "'%s' is not elasticsearch or random", type);
	a->target = strdup(target);
	return a->target ? 0 : PB_ENOMEM;
}

static void add_id_free(struct pb_proc *p)
{
	struct add_id *a = p->priv;

	if (a) {
		pb_buf_release(&a->scratch);
		free(a->target);
		free(a);
	}
}

static int add_id_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct add_id *a = p->priv;
	unsigned char dig[EVP_MAX_MD_SIZE];
	char id[32];
	unsigned dlen = 0;
	size_t i;

	if (a->random) {
		/* Beats' form: time first (ids of one run sort by time), then
		 * random bytes */
		struct timespec ts;
		uint64_t ms;

		clock_gettime(CLOCK_REALTIME, &ts);
		ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		for (i = 0; i < 6; i++)
			dig[i] = (unsigned char)(ms >> (40 - 8 * i));
		if (RAND_bytes(dig + 6, 9) != 1) {
			snprintf(err, errlen, "add_id: no random bytes");
			return PB_PROC_FAIL;
		}
	} else {
		/* from the event itself: the same event gets the same id on
		 * every run, so a re-run batch does not duplicate documents */
		pb_buf_clear(&a->scratch);
		if (pb_proc_write_json(&a->scratch, ev) < 0 ||
		    !EVP_Digest(a->scratch.data, a->scratch.len, dig, &dlen, EVP_sha256(), NULL)) {
			snprintf(err, errlen, "add_id: event too large");
			return PB_PROC_FAIL;
		}
	}
	/* 15 bytes: 20 characters of URL-safe base64, like Elasticsearch's */
	pb_base64_encode(id, dig, 15);
	id[20] = '\0';
	for (i = 0; i < 20; i++)
		id[i] = id[i] == '+' ? '-' : id[i] == '/' ? '_' : id[i];
	if (pb_proc_field_put(ev, a->target, cJSON_CreateString(id)) < 0) {
		snprintf(err, errlen, "add_id: cannot put %s", a->target);
		return PB_PROC_FAIL;
	}
	return PB_PROC_OK;
}

const struct pb_proc_type pb_proc_add_id = {
	"add_id", add_id_keys, 1, add_id_compile, add_id_run, add_id_free,
};

/* ---- registered_domain ---- */

/* The public suffix list (publicsuffix.org), read once per file: rules
 * "com", wildcards "*.ck", exceptions "!www.ck".  Debian's publicsuffix
 * package installs it where the default points. */
#define PSL_DEFAULT "/usr/share/publicsuffix/public_suffix_list.dat"

struct psl {
	char *path;
	char **rule[3];          /* 0 normal, 1 wildcard (after "*."), 2 exception */
	size_t n[3];
	int refs;
	struct psl *next;
};

static struct psl *psls;

static int cmp_rule(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void psl_put(struct psl *l)
{
	struct psl **pp;
	size_t i;
	int k;

	if (!l || --l->refs > 0)
		return;
	for (pp = &psls; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	for (k = 0; k < 3; k++) {
		for (i = 0; i < l->n[k]; i++)
			free(l->rule[k][i]);
		free(l->rule[k]);
	}
	free(l->path);
	free(l);
}

static struct psl *psl_get(const char *path)
{
	struct psl *l;
	size_t cap[3] = { 0, 0, 0 };
	char line[512];
	FILE *f;
	int k;

	for (l = psls; l; l = l->next)
		if (strcmp(l->path, path) == 0) {
			l->refs++;
			return l;
		}
	f = fopen(path, "r");
	if (!f)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->path = strdup(path))) {
		free(l);
		fclose(f);
		return NULL;
	}
	l->refs = 1;
	while (fgets(line, sizeof(line), f)) {
		char *r = line, *e, **nr;

		r[strcspn(r, " \t\r\n")] = '\0';   /* a rule ends at white space */
		if (!*r || (r[0] == '/' && r[1] == '/'))
			continue;
		k = 0;
		if (r[0] == '!') {
			k = 2;
			r++;
		} else if (r[0] == '*' && r[1] == '.') {
			k = 1;
			r += 2;
		}
		for (e = r; *e; e++)
			*e = (char)tolower((unsigned char)*e);
		if (l->n[k] == cap[k]) {
			cap[k] = cap[k] ? cap[k] * 2 : 1024;
			nr = realloc(l->rule[k], cap[k] * sizeof(*nr));
			if (!nr)
				break;
			l->rule[k] = nr;
		}
		if (!(l->rule[k][l->n[k]] = strdup(r)))
			break;
		l->n[k]++;
	}
	fclose(f);
	for (k = 0; k < 3; k++)
		if (l->n[k])
			qsort(l->rule[k], l->n[k], sizeof(char *), cmp_rule);
	l->next = psls;
	psls = l;
	return l;
}

static int psl_has(const struct psl *l, int k, const char *s)
{
	return l->n[k] && bsearch(&s, l->rule[k], l->n[k], sizeof(char *), cmp_rule) != NULL;
}

/* Where the public suffix of d (lower case, no trailing dot) begins, as
 * an offset into d; the rules of the list, "*" when none matches. */
static size_t psl_suffix(const struct psl *l, const char *d)
{
	const char *p = d;

	for (;;) {
		const char *dot = strchr(p, '.');

		if (psl_has(l, 2, p))
			return dot ? (size_t)(dot + 1 - d) : strlen(d);
		if (psl_has(l, 0, p) || (dot && psl_has(l, 1, dot + 1)))
			return (size_t)(p - d);
		if (!dot)
			return (size_t)(p - d);  /* the default rule: the last label */
		p = dot + 1;
	}
}

struct regdom {
	char *field, *target, *etld, *sub;
	struct psl *psl;
	int ignore_failure;
};

static const char *const regdom_keys[] = {
	"field", "target_field", "target_etld_field", "target_subdomain_field",
	"ignore_failure", "public_suffix_file", "id", NULL,
};

static void regdom_free(struct pb_proc *p)
{
	struct regdom *r = p->priv;

	if (!r)
		return;
	free(r->field);
	free(r->target);
	free(r->etld);
	free(r->sub);
	psl_put(r->psl);
	free(r);
}

static int regdom_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct regdom *r = calloc(1, sizeof(*r));
	const char *field = NULL, *target = NULL, *etld = NULL, *sub = NULL,
		*file = PSL_DEFAULT;
	int rc;

	if (!r)
		return PB_ENOMEM;
	p->priv = r;
	if ((rc = pb_proc_opt_str(cc, "field", &field)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "target_field", &target)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "target_etld_field", &etld)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "target_subdomain_field", &sub)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "public_suffix_file", &file)) < 0 ||
	    (rc = pb_proc_opt_bool(cc, "ignore_failure", &r->ignore_failure)) < 0)
		return rc;
	if (!field || !*field || !target || !*target)
		return pb_proc_fail(cc, NULL, "needs field and target_field");
	r->psl = psl_get(file);
	if (!r->psl)
		return pb_proc_fail(cc, "public_suffix_file", "cannot read the public suffix "
				    "list '%s'", file);
	r->field = strdup(field);
	r->target = strdup(target);
	r->etld = etld && *etld ? strdup(etld) : NULL;
	r->sub = sub && *sub ? strdup(sub) : NULL;
	return r->field && r->target ? 0 : PB_ENOMEM;
}

static int regdom_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct regdom *r = p->priv;
	cJSON *v = pb_proc_field_get(ev, r->field);
	char d[256];
	size_t len, i, ps, start;

	if (!v) {
		if (p->ignore_missing)
			return PB_PROC_OK;
		snprintf(err, errlen, "registered_domain: could not fetch value for key: %s",
			 r->field);
		return PB_PROC_FAIL;
	}
	if (!cJSON_IsString(v) || (len = strlen(v->valuestring)) == 0 || len >= sizeof(d))
		goto bad;
	for (i = 0; i < len; i++)
		d[i] = (char)tolower((unsigned char)v->valuestring[i]);
	d[len] = '\0';
	if (d[len - 1] == '.')
		d[--len] = '\0';
	if (!len || d[0] == '.' || strstr(d, ".."))
		goto bad;
	ps = psl_suffix(r->psl, d);
	if (ps < 2)                      /* the name is a public suffix */
		goto bad;
	/* the registered domain: one label before the suffix */
	for (start = ps - 1; start > 0 && d[start - 1] != '.'; start--)
		;
	pb_proc_field_put(ev, r->target, cJSON_CreateString(d + start));
	if (r->etld)
		pb_proc_field_put(ev, r->etld, cJSON_CreateString(d + ps));
	if (r->sub && start > 1) {
		d[start - 1] = '\0';
		pb_proc_field_put(ev, r->sub, cJSON_CreateString(d));
	}
	return PB_PROC_OK;
bad:
	if (r->ignore_failure)
		return PB_PROC_OK;
	snprintf(err, errlen, "registered_domain: %s: no registered domain in it", r->field);
	return PB_PROC_FAIL;
}

const struct pb_proc_type pb_proc_registered_domain = {
	"registered_domain", regdom_keys, 1, regdom_compile, regdom_run, regdom_free,
};
