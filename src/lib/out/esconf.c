/*
 * esconf.c - Elasticsearch settings, index name patterns and bulk items
 * (see es.h).
 */
#include "out/es.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "out/doc.h"
#include "pb.h"
#include "util/json.h"
#include "util/log.h"
#include "util/banned.h"

#define ES "output.elasticsearch"

void pb_es_conf_init(struct pb_es_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->protocol = "http";
	c->path = "";
	c->index = PB_ES_DEFAULT_INDEX;
	c->verify = PB_ES_VERIFY_FULL;
	c->workers = 1;
	c->bulk_max_size = 1600;      /* Packetbeat 8's default */
	c->compression_level = 1;     /* Beats 8 compresses by default */
	c->max_retries = 3;
	c->op_create = 1;
	c->backoff_init_ns = 1000000000LL;
	c->backoff_max_ns = 60000000000LL;
	c->timeout_ns = 90000000000LL;
}

void pb_es_conf_release(struct pb_es_conf *c)
{
	int i;

	for (i = 0; i < c->n_owned; i++)
		free(c->owned[i]);
	c->n_owned = 0;
	for (i = 0; i < c->n_headers; i++)
		free(c->headers[i]);
	c->n_headers = 0;
	free(c->parameters);
	c->parameters = NULL;
}

/* A map of scalars (headers, parameters), each entry handed to add():
 * 0, or PB_EUSAGE naming the entry. */
static int scalar_map(struct pb_conf *conf, const char *key,
		      int (*add)(struct pb_es_conf *c, const char *k, const char *v),
		      struct pb_es_conf *c)
{
	const struct pb_conf_node *m = pb_conf_get(conf, key), *e;
	char path[160];

	if (!m)
		return 0;
	if (m->kind != PB_CONF_MAP)
		return pb_conf_fail(conf, key, "must be a map of names to values");
	for (e = m->child; e; e = e->next) {
		snprintf(path, sizeof(path), "%s.%s", key, e->key);
		if (e->kind != PB_CONF_SCALAR || !e->value)
			return pb_conf_fail(conf, path, "must be a string");
		if (add(c, e->key, e->value) < 0)
			return pb_conf_fail(conf, path, "cannot be sent: a header name "
					    "must be a token and a value one line, at most 32 of them");
	}
	return 0;
}

/* A header line "Name: value"; the name an RFC 9110 token, the value
 * without line breaks. */
static int add_header(struct pb_es_conf *c, const char *k, const char *v)
{
	size_t kl = strlen(k), vl = strlen(v), i;
	char *line;

	if (c->n_headers == PB_ES_MAX_HEADERS || kl == 0)
		return -1;
	for (i = 0; i < kl; i++)
		if (!strchr("!#$%&'*+-.^_`|~", k[i]) && !isalnum((unsigned char)k[i]))
			return -1;
	if (strpbrk(v, "\r\n"))
		return -1;
	line = malloc(kl + vl + 3);
	if (!line)
		return -1;
	memcpy(line, k, kl);
	memcpy(line + kl, ": ", 2);
	memcpy(line + kl + 2, v, vl + 1);
	c->headers[c->n_headers++] = line;
	return 0;
}

/* Percent-encode s onto b (RFC 3986 unreserved characters as they are). */
static int add_escaped(struct pb_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (isalnum(ch) || strchr("-._~", ch)) {
			if (pb_buf_addc(b, (char)ch) < 0)
				return -1;
		} else if (pb_buf_addf(b, "%%%02X", ch) < 0) {
			return -1;
		}
	}
	return 0;
}

/* One name=value pair of the bulk requests' query string. */
static int add_parameter(struct pb_es_conf *c, const char *k, const char *v)
{
	struct pb_buf b;
	int rc;

	pb_buf_init(&b, 8192);
	if (c->parameters)
		rc = pb_buf_adds(&b, c->parameters) < 0 || pb_buf_addc(&b, '&') < 0;
	else
		rc = 0;
	if (rc || add_escaped(&b, k) < 0 || pb_buf_addc(&b, '=') < 0 ||
	    add_escaped(&b, v) < 0) {
		pb_buf_release(&b);
		return -1;
	}
	free(c->parameters);
	c->parameters = strdup(pb_buf_cstr(&b));
	pb_buf_release(&b);
	return c->parameters ? 0 : -1;
}

int pb_es_conf_add_hosts(struct pb_es_conf *c, const char *list)
{
	const char *p = list;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *h;

		if (n) {
			if (c->n_hosts == PB_ES_MAX_HOSTS || c->n_owned == PB_ES_MAX_HOSTS) {
				pb_error("--es: more than %d hosts", PB_ES_MAX_HOSTS);
				return PB_EUSAGE;
			}
			if (!(h = malloc(n + 1)))
				return PB_ENOMEM;
			memcpy(h, p, n);
			h[n] = '\0';
			c->owned[c->n_owned++] = h;
			c->hosts[c->n_hosts++] = h;
		}
		p += n + (e != NULL);
	}
	if (!c->n_hosts) {
		pb_error("--es: '%s' names no host", list);
		return PB_EUSAGE;
	}
	return 0;
}

/* Keys of output.elasticsearch pb-export reads, and Beats keys it accepts
 * without using (they concern a long-running shipper, not a batch job). */
static const char *const known[] = {
	"enabled", "hosts", "protocol", "path", "index", "pipeline", "username",
	"password", "api_key", "worker", "workers", "bulk_max_size",
	"compression_level", "max_retries", "backoff", "timeout", "ssl",
	"loadbalance", "op_type", "headers", "parameters", "proxy_url",
	"proxy_disable", NULL,
};
static const char *const ignored[] = {
	"escape_html", "idle_connection_timeout", "allow_older_versions",
	"non_indexable_policy", "preset", "kerberos", "ttl", "setup", NULL,
};
static const char *const known_ssl[] = {
	"enabled", "certificate_authorities", "certificate", "key",
	"verification_mode", NULL,
};
static const char *const known_backoff[] = { "init", "max", NULL };

static int in(const char *const *list, const char *k)
{
	for (; *list; list++)
		if (!strcmp(*list, k))
			return 1;
	return 0;
}

static void warn_unknown(const struct pb_conf_node *m, const char *where,
			 const char *const *ok, const char *const *skip)
{
	const struct pb_conf_node *k;

	if (!m || m->kind != PB_CONF_MAP)
		return;
	for (k = m->child; k; k = k->next) {
		if (in(ok, k->key))
			continue;
		if (skip && in(skip, k->key)) {
			pb_info("%s:%d: %s.%s: not used by pb-export", k->file, k->line,
				where, k->key);
			continue;
		}
		pb_warn("%s:%d: unknown key '%s.%s'", k->file, k->line, where, k->key);
	}
}

/* An integer key in [lo, hi]. */
static int int_key(struct pb_conf *conf, const char *key, int64_t lo, int64_t hi,
		   int *out)
{
	char why[96];
	int64_t v;
	int rc = pb_conf_int(conf, key, &v);

	if (rc)
		return rc < 0 ? rc : 0;
	if (v < lo || v > hi) {
		snprintf(why, sizeof(why), "must be from %lld to %lld", (long long)lo,
			 (long long)hi);
		return pb_conf_fail(conf, key, why);
	}
	*out = (int)v;
	return 0;
}

static int str_key(struct pb_conf *conf, const char *key, const char **out)
{
	int rc = pb_conf_str(conf, key, out);

	return rc < 0 ? rc : 0;
}

static int dur_key(struct pb_conf *conf, const char *key, int64_t *out)
{
	int64_t v;
	int rc = pb_conf_duration(conf, key, &v);

	if (rc)
		return rc < 0 ? rc : 0;
	if (v <= 0)
		return pb_conf_fail(conf, key, "must be a positive duration");
	*out = v;
	return 0;
}

int pb_es_conf_load(struct pb_es_conf *c, struct pb_conf *conf)
{
	const struct pb_conf_node *es = pb_conf_get(conf, ES), *n;
	const char *s;
	int rc;

	if (!es)
		return 0;
	if (es->kind != PB_CONF_MAP)
		return pb_conf_fail(conf, ES, "must be a map of settings");
	warn_unknown(es, ES, known, ignored);
	warn_unknown(pb_conf_child(es, "ssl"), ES ".ssl", known_ssl, NULL);
	warn_unknown(pb_conf_child(es, "backoff"), ES ".backoff", known_backoff, NULL);

	n = pb_conf_child(es, "hosts");
	if (n && !c->n_hosts) {
		const struct pb_conf_node *h;

		if (n->kind == PB_CONF_SCALAR) {
			c->hosts[c->n_hosts++] = n->value;
		} else if (n->kind == PB_CONF_SEQ) {
			for (h = n->child; h; h = h->next) {
				if (h->kind != PB_CONF_SCALAR || !h->value || !*h->value)
					return pb_conf_fail(conf, ES ".hosts",
							    "must be a list of URLs");
				if (c->n_hosts == PB_ES_MAX_HOSTS)
					return pb_conf_fail(conf, ES ".hosts", "too many hosts");
				c->hosts[c->n_hosts++] = h->value;
			}
		} else {
			return pb_conf_fail(conf, ES ".hosts", "must be a list of URLs");
		}
	}
	if ((rc = str_key(conf, ES ".protocol", &c->protocol)) < 0)
		return rc;
	if (strcmp(c->protocol, "http") && strcmp(c->protocol, "https"))
		return pb_conf_fail(conf, ES ".protocol", "must be http or https");
	if ((rc = str_key(conf, ES ".path", &c->path)) < 0 ||
	    (rc = str_key(conf, ES ".index", &c->index)) < 0 ||
	    (rc = str_key(conf, ES ".pipeline", &c->pipeline)) < 0 ||
	    (rc = str_key(conf, ES ".username", &c->username)) < 0 ||
	    (rc = str_key(conf, ES ".password", &c->password)) < 0 ||
	    (rc = str_key(conf, ES ".api_key", &c->api_key)) < 0 ||
	    (rc = str_key(conf, ES ".ssl.certificate", &c->cert)) < 0 ||
	    (rc = str_key(conf, ES ".ssl.key", &c->key)) < 0)
		return rc;
	if (c->pipeline && !*c->pipeline)
		c->pipeline = NULL;
	n = pb_conf_get(conf, ES ".ssl.certificate_authorities");
	if (n) {
		if (n->kind == PB_CONF_SEQ && n->child && !n->child->next &&
		    n->child->kind == PB_CONF_SCALAR)
			c->ca_file = n->child->value;
		else if (n->kind == PB_CONF_SCALAR)
			c->ca_file = n->value;
		else
			return pb_conf_fail(conf, ES ".ssl.certificate_authorities",
					    "must name one file of CA certificates "
					    "(put several certificates in one PEM file)");
	}
	if ((rc = pb_conf_str(conf, ES ".ssl.verification_mode", &s)) == 0) {
		if (!strcmp(s, "full") || !strcmp(s, "strict"))
			c->verify = PB_ES_VERIFY_FULL;
		else if (!strcmp(s, "certificate"))
			c->verify = PB_ES_VERIFY_CERTIFICATE;
		else if (!strcmp(s, "none"))
			c->verify = PB_ES_VERIFY_NONE;
		else
			return pb_conf_fail(conf, ES ".ssl.verification_mode",
					    "must be full, strict, certificate or none");
	} else if (rc < 0) {
		return rc;
	}
	if ((rc = str_key(conf, ES ".proxy_url", &c->proxy_url)) < 0 ||
	    (rc = scalar_map(conf, ES ".headers", add_header, c)) < 0 ||
	    (rc = scalar_map(conf, ES ".parameters", add_parameter, c)) < 0)
		return rc;
	if ((rc = pb_conf_bool(conf, ES ".proxy_disable", &c->proxy_disable)) < 0)
		return rc;
	if ((rc = pb_conf_str(conf, ES ".op_type", &s)) == 0) {
		if (!strcmp(s, "create"))
			c->op_create = 1;
		else if (!strcmp(s, "index"))
			c->op_create = 0;
		else
			return pb_conf_fail(conf, ES ".op_type", "must be create or index");
	} else if (rc < 0) {
		return rc;
	}
	if ((rc = int_key(conf, ES ".worker", 1, PB_ES_MAX_WORKERS, &c->workers)) < 0 ||
	    (rc = int_key(conf, ES ".workers", 1, PB_ES_MAX_WORKERS, &c->workers)) < 0 ||
	    (rc = int_key(conf, ES ".bulk_max_size", 1, 1000000, &c->bulk_max_size)) < 0 ||
	    (rc = int_key(conf, ES ".compression_level", 0, 9, &c->compression_level)) < 0 ||
	    (rc = int_key(conf, ES ".max_retries", -1, 1000000, &c->max_retries)) < 0 ||
	    (rc = dur_key(conf, ES ".backoff.init", &c->backoff_init_ns)) < 0 ||
	    (rc = dur_key(conf, ES ".backoff.max", &c->backoff_max_ns)) < 0 ||
	    (rc = dur_key(conf, ES ".timeout", &c->timeout_ns)) < 0)
		return rc;
	if (c->backoff_max_ns < c->backoff_init_ns)
		return pb_conf_fail(conf, ES ".backoff.max", "must not be less than backoff.init");
	if (c->username && !c->password)
		return pb_conf_fail(conf, ES ".username", "needs a password too");
	if ((c->cert != NULL) != (c->key != NULL))
		return pb_conf_fail(conf, c->cert ? ES ".ssl.certificate" : ES ".ssl.key",
				    "ssl.certificate and ssl.key go together");
	return 0;
}

/* ---- index name patterns ---- */

enum { P_LIT, P_FIELD, P_DATE };

struct part {
	int kind;
	char *text;      /* literal, field path, or date format */
	char *def;       /* P_FIELD: default, or NULL */
};

struct pb_es_index {
	struct part *parts;
	int n;
};

void pb_es_index_free(struct pb_es_index *ix)
{
	int i;

	if (!ix)
		return;
	for (i = 0; i < ix->n; i++) {
		free(ix->parts[i].text);
		free(ix->parts[i].def);
	}
	free(ix->parts);
	free(ix);
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int add_part(struct pb_es_index *ix, int kind, const char *s, size_t n,
		    const char *def, size_t dn)
{
	struct part *p = realloc(ix->parts, (size_t)(ix->n + 1) * sizeof(*p));

	if (!p)
		return PB_ENOMEM;
	ix->parts = p;
	p = &ix->parts[ix->n];
	p->kind = kind;
	p->text = dupn(s, n);
	p->def = def ? dupn(def, dn) : NULL;
	if (!p->text || (def && !p->def)) {
		free(p->text);
		free(p->def);
		return PB_ENOMEM;
	}
	ix->n++;
	return 0;
}

int pb_es_index_compile(struct pb_es_index **out, const char *pattern,
			char *err, size_t errlen)
{
	struct pb_es_index *ix = calloc(1, sizeof(*ix));
	const char *p = pattern;

	*out = NULL;
	if (!ix)
		return PB_ENOMEM;
	while (*p) {
		const char *open = strstr(p, "%{"), *close;

		if (!open) {
			if (add_part(ix, P_LIT, p, strlen(p), NULL, 0) < 0)
				goto nomem;
			break;
		}
		if (open > p && add_part(ix, P_LIT, p, (size_t)(open - p), NULL, 0) < 0)
			goto nomem;
		close = strchr(open, '}');
		if (!close) {
			snprintf(err, errlen, "'%s': '%%{' without its '}'", pattern);
			goto bad;
		}
		if (open[2] == '+') {
			const char *f;

			for (f = open + 3; f < close; f++)
				if (isalpha((unsigned char)*f) && !strchr("yYMdHms", *f)) {
					snprintf(err, errlen, "'%s': date letter '%c' is not one "
						 "of y, Y, M, d, H, m, s", pattern, *f);
					goto bad;
				}
			if (add_part(ix, P_DATE, open + 3, (size_t)(close - open - 3), NULL, 0) < 0)
				goto nomem;
		} else if (open[2] == '[') {
			/* %{[a.b]} or %{[a.b]:default}; the default may not hold '}' */
			const char *rb = memchr(open + 3, ']', (size_t)(close - open - 3));
			const char *def = NULL;
			size_t dn = 0;

			if (!rb || rb == open + 3 || (rb[1] != '}' && rb[1] != ':')) {
				snprintf(err, errlen, "'%s': a field is written %%{[name]} or "
					 "%%{[name]:default}", pattern);
				goto bad;
			}
			if (rb[1] == ':') {
				def = rb + 2;
				dn = (size_t)(close - def);
			}
			if (add_part(ix, P_FIELD, open + 3, (size_t)(rb - open - 3), def, dn) < 0)
				goto nomem;
		} else {
			snprintf(err, errlen, "'%s': expected %%{[field]} or %%{+date format}",
				 pattern);
			goto bad;
		}
		p = close + 1;
	}
	if (!ix->n) {
		snprintf(err, errlen, "the index name is empty");
		goto bad;
	}
	*out = ix;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	pb_es_index_free(ix);
	return PB_ENOMEM;
bad:
	pb_es_index_free(ix);
	return PB_EUSAGE;
}

static void add_num(struct pb_buf *b, long v, int width)
{
	char tmp[24];

	if (width > 9)
		width = 9;
	snprintf(tmp, sizeof(tmp), "%0*ld", width, v);
	pb_buf_adds(b, tmp);
}

/* Joda-style letters: a run of one letter is one field; yy is the year
 * in two digits, any other run of y at least four. */
static void format_date(struct pb_buf *b, const char *f, const struct tm *tm)
{
	while (*f) {
		char ch = *f;
		int run = 0;

		while (f[run] == ch)
			run++;
		switch (ch) {
		case 'y': case 'Y':
			if (run == 2)
				add_num(b, (tm->tm_year + 1900) % 100, 2);
			else
				add_num(b, tm->tm_year + 1900L, run < 4 ? 4 : run);
			break;
		case 'M': add_num(b, tm->tm_mon + 1, run); break;
		case 'd': add_num(b, tm->tm_mday, run); break;
		case 'H': add_num(b, tm->tm_hour, run); break;
		case 'm': add_num(b, tm->tm_min, run); break;
		case 's': add_num(b, tm->tm_sec, run); break;
		default: pb_buf_add(b, f, (size_t)run); break;
		}
		f += run;
	}
}

int pb_es_index_eval(const struct pb_es_index *ix, const cJSON *ev, struct pb_buf *out,
		     const char **why)
{
	int i, have_tm = 0;
	struct tm tm;
	size_t k;

	pb_buf_clear(out);
	for (i = 0; i < ix->n; i++) {
		const struct part *p = &ix->parts[i];

		switch (p->kind) {
		case P_LIT:
			pb_buf_adds(out, p->text);
			break;
		case P_FIELD: {
			const cJSON *v = pb_out_field(ev, p->text);
			int64_t x;

			if (cJSON_IsString(v) && v->valuestring[0]) {
				pb_buf_adds(out, v->valuestring);
			} else if (v && pb_out_json_int(v, &x)) {
				pb_buf_addf(out, "%lld", (long long)x);
			} else if (p->def) {
				pb_buf_adds(out, p->def);
			} else if (!strcmp(p->text, "agent.version")) {
				/* the agent that wrote the events is pbtools */
				pb_buf_adds(out, PACKAGE_VERSION);
			} else {
				*why = "a field the index name needs is absent";
				return PB_EINVAL;
			}
			break;
		}
		case P_DATE:
			if (!have_tm) {
				struct pb_time t;
				time_t sec;

				if (pb_out_time(ev, &t) < 0) {
					*why = "no readable @timestamp for the index name";
					return PB_EINVAL;
				}
				sec = (time_t)t.sec;
				if (!gmtime_r(&sec, &tm)) {
					*why = "@timestamp out of range";
					return PB_EINVAL;
				}
				have_tm = 1;
			}
			format_date(out, p->text, &tm);
			break;
		}
	}
	if (!out->data || !out->len) {
		*why = "the index name is empty";
		return PB_EINVAL;
	}
	for (k = 0; k < out->len; k++)
		out->data[k] = (char)tolower((unsigned char)out->data[k]);
	pb_buf_cstr(out);
	return 0;
}

int pb_es_bulk_item(struct pb_buf *body, int op_create, const char *index,
		    const char *id, const char *pipeline, const char *doc, size_t len)
{
	struct pb_json j;
	size_t before = body->len;

	pb_json_init(&j, body);
	pb_json_obj(&j);
	if (op_create)
		pb_json_key(&j, "create");
	else
		pb_json_key(&j, "index");
	pb_json_obj(&j);
	pb_json_key(&j, "_index");
	pb_json_cstr(&j, index);
	pb_json_key(&j, "_id");
	pb_json_cstr(&j, id);
	if (pipeline) {
		pb_json_key(&j, "pipeline");
		pb_json_cstr(&j, pipeline);
	}
	pb_json_obj_end(&j);
	pb_json_obj_end(&j);
	if (pb_buf_addc(body, '\n') < 0 || pb_buf_add(body, doc, len) < 0 ||
	    pb_buf_addc(body, '\n') < 0) {
		body->len = before;
		return PB_ETOOBIG;
	}
	return 0;
}
