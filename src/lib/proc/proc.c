/*
 * proc.c - processor chains: compiling a `processors:` list, running it,
 * the per-event-type sets, and the processors that move fields about
 * (add_fields, add_tags, add_labels, drop_event, drop_fields,
 * include_fields, rename, copy_fields, move_fields, if/then/else).
 *
 * Beats runs a chain to the end even when a processor fails: the failing
 * processor leaves the event as it was (when it changes several fields,
 * from a copy taken before it ran), writes why in error.message, and the
 * next processor runs.  With fail_on_error: false the failure is ignored
 * and whatever the processor did stays.  A dropped event ends the chain.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "proc/proc_int.h"
#include "util/log.h"
#include "util/banned.h"

/* A chain nested in if/then/else deeper than this is refused. */
#define PROC_MAX_DEPTH 32

struct pb_proc_chain {
	int n;
	struct pb_proc *p;
	struct pb_proc_stats *st;  /* the set's, for failures */
};

/* ---- configuration helpers ---- */

int pb_proc_conf_err(struct pb_conf *c, const struct pb_conf_node *n,
		     const char *path, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (n && n->file)
		snprintf(c->err, sizeof(c->err), "%s:%d: %s: %s", n->file, n->line, path, why);
	else
		snprintf(c->err, sizeof(c->err), "%s: %s", path, why);
	return PB_EUSAGE;
}

static void relabel(struct pb_conf_node *n, const char *file, int line)
{
	for (; n; n = n->next) {
		n->file = file;
		n->line = line;
		relabel(n->child, file, line);
	}
}

const struct pb_conf_node *pb_proc_conf_shorthand(struct pb_conf *c, struct pb_conf *tmp,
						  const struct pb_conf_node *n,
						  const char *path)
{
	if (pb_conf_init(tmp) < 0) {
		pb_proc_conf_err(c, n, path, "out of memory");
		return NULL;
	}
	if (pb_conf_load_string(tmp, "when", n->value) < 0 || !tmp->root->child) {
		pb_proc_conf_err(c, n, path, "'%s' is not a condition (such as "
				 "\"equals.type: flow\")", n->value);
		pb_conf_release(tmp);
		return NULL;
	}
	relabel(tmp->root, n->file, n->line);
	return tmp->root;
}

cJSON *pb_proc_conf_json(const struct pb_conf_node *n)
{
	const struct pb_conf_node *k;
	cJSON *o;

	if (n->kind == PB_CONF_MAP || n->kind == PB_CONF_SEQ) {
		o = n->kind == PB_CONF_MAP ? cJSON_CreateObject() : cJSON_CreateArray();
		for (k = n->child; o && k; k = k->next) {
			cJSON *v = pb_proc_conf_json(k);

			if (!v) {
				cJSON_Delete(o);
				return NULL;
			}
			if (n->kind == PB_CONF_MAP)
				cJSON_AddItemToObject(o, k->key, v);
			else
				cJSON_AddItemToArray(o, v);
		}
		return o;
	}
	if (!n->value)
		return cJSON_CreateNull();
	if (!n->quoted) {
		const char *s = n->value;
		char *end;
		double d;
		int b;

		if (!*s || strcmp(s, "null") == 0 || strcmp(s, "~") == 0)
			return cJSON_CreateNull();
		if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0 ||
		    strcmp(s, "True") == 0 || strcmp(s, "False") == 0) {
			b = s[0] == 't' || s[0] == 'T';
			return cJSON_CreateBool(b);
		}
		d = strtod(s, &end);
		/* numbers as YAML writes them; not "0x1f" or "inf" */
		if (!*end && (s[0] == '-' || s[0] == '+' || s[0] == '.' ||
			      (s[0] >= '0' && s[0] <= '9')) &&
		    !strpbrk(s, "xXnN"))
			return cJSON_CreateNumber(d);
	}
	return cJSON_CreateString(n->value);
}

static const struct pb_conf_node *opt_node(struct pb_proc_cc *cc, const char *key)
{
	return cc->n->kind == PB_CONF_MAP ? pb_conf_child(cc->n, key) : NULL;
}

int pb_proc_fail(struct pb_proc_cc *cc, const char *key, const char *fmt, ...)
{
	const struct pb_conf_node *n = key ? opt_node(cc, key) : NULL;
	char why[400], path[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s%s%s", cc->path, key ? "." : "", key ? key : "");
	return pb_proc_conf_err(cc->c, n ? n : cc->n, path, "%s", why);
}

int pb_proc_opt_str(struct pb_proc_cc *cc, const char *key, const char **out)
{
	const struct pb_conf_node *n = opt_node(cc, key);

	if (!n)
		return 1;
	if (n->kind != PB_CONF_SCALAR)
		return pb_proc_fail(cc, key, "not a string");
	*out = n->value ? n->value : "";
	return 0;
}

int pb_proc_opt_bool(struct pb_proc_cc *cc, const char *key, int *out)
{
	const struct pb_conf_node *n = opt_node(cc, key);

	if (!n)
		return 1;
	if (n->kind != PB_CONF_SCALAR || !n->value || pb_parse_bool(n->value, out) < 0)
		return pb_proc_fail(cc, key, "not true or false");
	return 0;
}

int pb_proc_opt_int(struct pb_proc_cc *cc, const char *key, int64_t *out)
{
	const struct pb_conf_node *n = opt_node(cc, key);

	if (!n)
		return 1;
	if (n->kind != PB_CONF_SCALAR || !n->value || pb_parse_int(n->value, out) < 0)
		return pb_proc_fail(cc, key, "not a whole number");
	return 0;
}

void pb_proc_strv_free(char **v)
{
	char **p;

	for (p = v; p && *p; p++)
		free(*p);
	free(v);
}

int pb_proc_opt_strs(struct pb_proc_cc *cc, const char *key, char ***out, int *np)
{
	const struct pb_conf_node *n = opt_node(cc, key), *k;
	char **v;
	int cnt = 0, i = 0;

	*out = NULL;
	*np = 0;
	if (!n)
		return 1;
	if (n->kind == PB_CONF_MAP)
		return pb_proc_fail(cc, key, "not a string or a list of strings");
	if (n->kind == PB_CONF_SCALAR)
		cnt = 1;
	for (k = n->kind == PB_CONF_SEQ ? n->child : NULL; k; k = k->next) {
		if (k->kind != PB_CONF_SCALAR)
			return pb_proc_fail(cc, key, "not a string or a list of strings");
		cnt++;
	}
	v = calloc((size_t)cnt + 1, sizeof(*v));
	if (!v)
		return PB_ENOMEM;
	if (n->kind == PB_CONF_SCALAR)
		v[i++] = strdup(n->value ? n->value : "");
	for (k = n->kind == PB_CONF_SEQ ? n->child : NULL; k; k = k->next)
		v[i++] = strdup(k->value ? k->value : "");
	for (i = 0; i < cnt; i++)
		if (!v[i]) {
			pb_proc_strv_free(v);
			return PB_ENOMEM;
		}
	*out = v;
	*np = cnt;
	return 0;
}

void pb_proc_pairs_free(struct pb_proc_pair *p, int n)
{
	int i;

	for (i = 0; p && i < n; i++) {
		free(p[i].from);
		free(p[i].to);
		free(p[i].type);
	}
	free(p);
}

int pb_proc_opt_pairs(struct pb_proc_cc *cc, const char *key, int need_to,
		      struct pb_proc_pair **out, int *np)
{
	const struct pb_conf_node *n = opt_node(cc, key), *k, *f;
	struct pb_proc_pair *v;
	int cnt = 0, i = 0;

	*out = NULL;
	*np = 0;
	if (!n || n->kind != PB_CONF_SEQ || !n->child)
		return pb_proc_fail(cc, n ? key : NULL, "needs %s: a list of {from: field, "
				    "to: field}", key);
	for (k = n->child; k; k = k->next)
		cnt++;
	v = calloc((size_t)cnt, sizeof(*v));
	if (!v)
		return PB_ENOMEM;
	for (k = n->child; k; k = k->next, i++) {
		const char *from = NULL, *to = NULL, *type = NULL;

		if (k->kind != PB_CONF_MAP) {
			pb_proc_pairs_free(v, cnt);
			return pb_proc_conf_err(cc->c, k, cc->path, "%s: each entry is a map "
						"{from: field, to: field}", key);
		}
		for (f = k->child; f; f = f->next) {
			if (f->kind != PB_CONF_SCALAR) {
				pb_proc_pairs_free(v, cnt);
				return pb_proc_conf_err(cc->c, f, cc->path, "%s.%s: not a "
							"field name", key, f->key);
			}
			if (strcmp(f->key, "from") == 0)
				from = f->value;
			else if (strcmp(f->key, "to") == 0)
				to = f->value;
			else if (strcmp(f->key, "type") == 0)
				type = f->value;
			else
				pb_warn("%s:%d: %s.%s: unknown key '%s'", f->file, f->line,
					cc->path, key, f->key);
		}
		if (!from || !*from || (need_to && (!to || !*to))) {
			pb_proc_pairs_free(v, cnt);
			return pb_proc_conf_err(cc->c, k, cc->path, "%s: each entry needs "
						"from%s", key, need_to ? " and to" : "");
		}
		v[i].from = strdup(from);
		v[i].to = to && *to ? strdup(to) : NULL;
		v[i].type = type ? strdup(type) : NULL;
		if (!v[i].from) {
			pb_proc_pairs_free(v, cnt);
			return PB_ENOMEM;
		}
	}
	*out = v;
	*np = cnt;
	return 0;
}

int pb_proc_yaml_quote(char *out, size_t n, const char *s)
{
	size_t o = 0;

	if (n < 3)
		return -1;
	out[o++] = '"';
	for (; *s; s++) {
		if (o + 3 >= n)
			return -1;
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}

/* ---- event helpers ---- */

int pb_proc_add_tags(cJSON *ev, const char *key, char *const *tags, int n)
{
	cJSON *arr = pb_proc_field_get(ev, key), *e;
	int i;

	if (!arr) {
		arr = cJSON_CreateArray();
		if (!arr || pb_proc_field_put(ev, key, arr) < 0)
			return -1;
	} else if (cJSON_IsString(arr)) {
		/* a single tag written as a string: make it a list */
		cJSON *a = cJSON_CreateArray();

		if (!a)
			return -1;
		cJSON_AddItemToArray(a, cJSON_CreateString(arr->valuestring));
		if (pb_proc_field_put(ev, key, a) < 0)
			return -1;
		arr = a;
	} else if (!cJSON_IsArray(arr)) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		int seen = 0;

		/* a tag already there is not added twice */
		for (e = arr->child; e && !seen; e = e->next)
			seen = cJSON_IsString(e) && strcmp(e->valuestring, tags[i]) == 0;
		if (!seen)
			cJSON_AddItemToArray(arr, cJSON_CreateString(tags[i]));
	}
	return 0;
}

/* Record a failure: error.message becomes the message, or a list of
 * them when there are several. */
static void record_error(cJSON *ev, const char *msg)
{
	cJSON *e = pb_proc_field_get(ev, "error.message");

	if (!e) {
		pb_proc_field_put(ev, "error.message", cJSON_CreateString(msg));
	} else if (cJSON_IsArray(e)) {
		cJSON_AddItemToArray(e, cJSON_CreateString(msg));
	} else {
		cJSON *a = cJSON_CreateArray();

		if (!a)
			return;
		cJSON_AddItemToArray(a, cJSON_Duplicate(e, 1));
		cJSON_AddItemToArray(a, cJSON_CreateString(msg));
		pb_proc_field_put(ev, "error.message", a);
	}
}

/* ---- add_fields ---- */

struct add_fields {
	char *target;      /* "" for the top level */
	cJSON *fields;
	int overwrite;
};

static const char *const add_fields_keys[] = { "target", "fields", "overwrite", NULL };

static int add_fields_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	const struct pb_conf_node *f = opt_node(cc, "fields");
	struct add_fields *a = calloc(1, sizeof(*a));
	const char *target = "fields";
	int rc;

	if (!a)
		return PB_ENOMEM;
	p->priv = a;
	a->overwrite = 1;
	if ((rc = pb_proc_opt_str(cc, "target", &target)) < 0 ||
	    (rc = pb_proc_opt_bool(cc, "overwrite", &a->overwrite)) < 0)
		return rc;
	if (!f || f->kind != PB_CONF_MAP || !f->child)
		return pb_proc_fail(cc, f ? "fields" : NULL, "needs fields: a map of "
				    "names and values");
	a->target = strdup(target);
	a->fields = pb_proc_conf_json(f);
	return a->target && a->fields ? 0 : PB_ENOMEM;
}

/* Merge src's keys into dst, objects into objects (Beats' DeepUpdate). */
static void deep_merge(cJSON *dst, const cJSON *src, int overwrite)
{
	const cJSON *k;

	for (k = src->child; k; k = k->next) {
		cJSON *old = pb_proc_field_get(dst, k->string);

		if (old && cJSON_IsObject(old) && cJSON_IsObject(k))
			deep_merge(old, k, overwrite);
		else if (!old || overwrite)
			pb_proc_field_put(dst, k->string, cJSON_Duplicate(k, 1));
	}
}

static int add_fields_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct add_fields *a = p->priv;
	cJSON *t;

	if (!*a->target) {
		deep_merge(ev, a->fields, a->overwrite);
		return PB_PROC_OK;
	}
	t = pb_proc_field_get(ev, a->target);
	if (!t)
		return pb_proc_field_put(ev, a->target, cJSON_Duplicate(a->fields, 1)) < 0 ?
			(snprintf(err, errlen, "cannot add fields under '%s'", a->target),
			 PB_PROC_FAIL) : PB_PROC_OK;
	if (!cJSON_IsObject(t)) {
		snprintf(err, errlen, "target '%s' is not an object", a->target);
		return PB_PROC_FAIL;
	}
	deep_merge(t, a->fields, a->overwrite);
	return PB_PROC_OK;
}

static void add_fields_free(struct pb_proc *p)
{
	struct add_fields *a = p->priv;

	if (a) {
		free(a->target);
		cJSON_Delete(a->fields);
		free(a);
	}
}

static const struct pb_proc_type proc_add_fields = {
	"add_fields", add_fields_keys, 1, add_fields_compile, add_fields_run, add_fields_free,
};

/* ---- add_labels: nested maps become dotted keys under labels ---- */

static void flatten_into(cJSON *dst, const cJSON *src, const char *prefix)
{
	const cJSON *k;

	for (k = src->child; k; k = k->next) {
		char key[512];

		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", k->string);
		if (cJSON_IsObject(k)) {
			flatten_into(dst, k, key);
		} else {
			cJSON_DeleteItemFromObjectCaseSensitive(dst, key);
			cJSON_AddItemToObject(dst, key, cJSON_Duplicate(k, 1));
		}
	}
}

static const char *const add_labels_keys[] = { "labels", NULL };

static int add_labels_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	const struct pb_conf_node *f = opt_node(cc, "labels");
	cJSON *nested;

	if (!f || f->kind != PB_CONF_MAP || !f->child)
		return pb_proc_fail(cc, f ? "labels" : NULL, "needs labels: a map of "
				    "names and values");
	nested = pb_proc_conf_json(f);
	p->priv = cJSON_CreateObject();
	if (!nested || !p->priv) {
		cJSON_Delete(nested);
		return PB_ENOMEM;
	}
	flatten_into(p->priv, nested, "");
	cJSON_Delete(nested);
	return 0;
}

static int add_labels_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	cJSON *l = pb_proc_field_get(ev, "labels"), *k;

	if (!l) {
		l = cJSON_CreateObject();
		if (!l || pb_proc_field_put(ev, "labels", l) < 0)
			goto bad;
	} else if (!cJSON_IsObject(l)) {
		goto bad;
	}
	for (k = ((cJSON *)p->priv)->child; k; k = k->next) {
		cJSON_DeleteItemFromObjectCaseSensitive(l, k->string);
		cJSON_AddItemToObject(l, k->string, cJSON_Duplicate(k, 1));
	}
	return PB_PROC_OK;
bad:
	snprintf(err, errlen, "add_labels: labels is not an object");
	return PB_PROC_FAIL;
}

static void json_free(struct pb_proc *p)
{
	cJSON_Delete(p->priv);
}

static const struct pb_proc_type proc_add_labels = {
	"add_labels", add_labels_keys, 1, add_labels_compile, add_labels_run, json_free,
};

/* ---- add_tags ---- */

struct add_tags {
	char **tags;
	int n;
	char *target;
};

static const char *const add_tags_keys[] = { "tags", "target", NULL };

static int add_tags_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct add_tags *a = calloc(1, sizeof(*a));
	const char *target = "tags";
	int rc;

	if (!a)
		return PB_ENOMEM;
	p->priv = a;
	if ((rc = pb_proc_opt_strs(cc, "tags", &a->tags, &a->n)) < 0)
		return rc;
	if (rc == 1 || a->n == 0)
		return pb_proc_fail(cc, NULL, "needs tags: a tag or a list of them");
	if ((rc = pb_proc_opt_str(cc, "target", &target)) < 0)
		return rc;
	a->target = strdup(*target ? target : "tags");
	return a->target ? 0 : PB_ENOMEM;
}

static int add_tags_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct add_tags *a = p->priv;

	if (pb_proc_add_tags(ev, a->target, a->tags, a->n) < 0) {
		snprintf(err, errlen, "add_tags: '%s' is not a list of tags", a->target);
		return PB_PROC_FAIL;
	}
	return PB_PROC_OK;
}

static void add_tags_free(struct pb_proc *p)
{
	struct add_tags *a = p->priv;

	if (a) {
		pb_proc_strv_free(a->tags);
		free(a->target);
		free(a);
	}
}

static const struct pb_proc_type proc_add_tags = {
	"add_tags", add_tags_keys, 1, add_tags_compile, add_tags_run, add_tags_free,
};
static const struct pb_proc_type proc_add_tag = {
	"add_tag", add_tags_keys, 1, add_tags_compile, add_tags_run, add_tags_free,
};

/* ---- drop_event ---- */

static const char *const no_keys[] = { NULL };

static int drop_event_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	(void)p, (void)ev, (void)err, (void)errlen;
	return PB_PROC_DROP;
}

static const struct pb_proc_type proc_drop_event = {
	"drop_event", no_keys, 1, NULL, drop_event_run, NULL,
};

/* ---- drop_fields and include_fields ---- */

struct field_list {
	char **names;        /* plain names */
	int n;
	pcre2_code **re;     /* "/pattern/" entries */
	pcre2_match_data *md;
	int nre;
};

static const char *const drop_fields_keys[] = { "fields", NULL };

static int field_list_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct field_list *f = calloc(1, sizeof(*f));
	char **all;
	int n, i, rc;

	if (!f)
		return PB_ENOMEM;
	p->priv = f;
	if ((rc = pb_proc_opt_strs(cc, "fields", &all, &n)) < 0)
		return rc;
	if (rc == 1 || n == 0)
		return pb_proc_fail(cc, NULL, "needs fields: a list of field names");
	f->names = calloc((size_t)n + 1, sizeof(char *));
	f->re = calloc((size_t)n, sizeof(pcre2_code *));
	if (!f->names || !f->re) {
		pb_proc_strv_free(all);
		return PB_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		size_t l = strlen(all[i]);

		if (l > 2 && all[i][0] == '/' && all[i][l - 1] == '/') {
			int err;
			PCRE2_SIZE off;

			f->re[f->nre] = pcre2_compile((PCRE2_SPTR)all[i] + 1, l - 2,
						      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
						      &err, &off, NULL);
			if (!f->re[f->nre]) {
				rc = pb_proc_fail(cc, "fields", "'%s' is not a regular "
						  "expression", all[i]);
				pb_proc_strv_free(all);
				return rc;
			}
			f->nre++;
			free(all[i]);
		} else {
			f->names[f->n++] = all[i];
		}
	}
	free(all);
	if (f->nre && !(f->md = pcre2_match_data_create(4, NULL)))
		return PB_ENOMEM;
	return 0;
}

static void field_list_free(struct pb_proc *p)
{
	struct field_list *f = p->priv;
	int i;

	if (!f)
		return;
	pb_proc_strv_free(f->names);
	for (i = 0; i < f->nre; i++)
		pcre2_code_free(f->re[i]);
	free(f->re);
	pcre2_match_data_free(f->md);
	free(f);
}

static int re_any(const struct field_list *f, const char *s)
{
	int i;

	for (i = 0; i < f->nre; i++)
		if (pcre2_match(f->re[i], (PCRE2_SPTR)s, strlen(s), 0, 0, f->md, NULL) >= 0)
			return 1;
	return 0;
}

/* @timestamp and type are never dropped, and always included (Beats). */
static int protected_field(const char *path)
{
	return strcmp(path, "@timestamp") == 0 || strcmp(path, "type") == 0;
}

static void drop_matching(const struct field_list *f, cJSON *obj, const char *prefix,
			  int depth)
{
	cJSON *k = obj->child, *next;

	for (; k; k = next) {
		char path[1024];

		next = k->next;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k->string);
		if (!protected_field(path) && re_any(f, path))
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, k));
		else if (cJSON_IsObject(k) && depth < 100)
			drop_matching(f, k, path, depth + 1);
	}
}

static int drop_fields_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct field_list *f = p->priv;
	size_t used = 0;
	int i, missing = 0;

	for (i = 0; i < f->n; i++) {
		cJSON *v;

		if (protected_field(f->names[i]))
			continue;
		v = pb_proc_field_take(ev, f->names[i]);
		if (v) {
			cJSON_Delete(v);
		} else if (!p->ignore_missing) {
			if (!missing++)
				used = (size_t)snprintf(err, errlen, "drop_fields: not found: %s",
							f->names[i]);
			else if (used < errlen)
				used += (size_t)snprintf(err + used, errlen - used, ", %s",
							 f->names[i]);
		}
	}
	if (f->nre)
		drop_matching(f, ev, "", 0);
	return missing ? PB_PROC_FAIL : PB_PROC_OK;
}

static const struct pb_proc_type proc_drop_fields = {
	"drop_fields", drop_fields_keys, 1, field_list_compile, drop_fields_run,
	field_list_free,
};

/* Keep path: 2 kept whole, 1 an object on the way to a kept field, 0 not. */
static int include_match(const struct field_list *f, const char *path)
{
	size_t l = strlen(path);
	int i, on_way = 0;

	if (protected_field(path) || re_any(f, path))
		return 2;
	for (i = 0; i < f->n; i++) {
		const char *name = f->names[i];

		if (strcmp(name, path) == 0)
			return 2;
		/* a kept field inside this one */
		if (strncmp(name, path, l) == 0 && name[l] == '.')
			on_way = 1;
		/* this dotted key lies inside a kept field */
		if (strncmp(path, name, strlen(name)) == 0 && path[strlen(name)] == '.')
			return 2;
	}
	return on_way;
}

static void include_prune(const struct field_list *f, cJSON *obj, const char *prefix,
			  int depth)
{
	cJSON *k = obj->child, *next;

	for (; k; k = next) {
		char path[1024];
		int m;

		next = k->next;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k->string);
		m = include_match(f, path);
		if (m == 1 && cJSON_IsObject(k) && depth < 100) {
			include_prune(f, k, path, depth + 1);
			if (!k->child)   /* nothing of it was kept */
				cJSON_Delete(cJSON_DetachItemViaPointer(obj, k));
		} else if (m != 2) {
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, k));
		}
	}
}

static int include_fields_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	include_prune(p->priv, ev, "", 0);
	return PB_PROC_OK;
}

static const struct pb_proc_type proc_include_fields = {
	"include_fields", drop_fields_keys, 1, field_list_compile, include_fields_run,
	field_list_free,
};

/* ---- rename, copy_fields ---- */

struct pairs {
	struct pb_proc_pair *v;
	int n;
};

static const char *const pairs_keys[] = { "fields", NULL };

static int pairs_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct pairs *a = calloc(1, sizeof(*a));

	if (!a)
		return PB_ENOMEM;
	p->priv = a;
	int rc = pb_proc_opt_pairs(cc, "fields", 1, &a->v, &a->n);

	if (rc < 0)
		return rc;
	p->backup = a->n > 1;
	return 0;
}

static void pairs_free(struct pb_proc *p)
{
	struct pairs *a = p->priv;

	if (a) {
		pb_proc_pairs_free(a->v, a->n);
		free(a);
	}
}

static int move_copy(struct pb_proc *p, cJSON *ev, char *err, size_t errlen, int copy)
{
	struct pairs *a = p->priv;
	const char *what = copy ? "copy_fields" : "rename";
	int i;

	for (i = 0; i < a->n; i++) {
		const char *from = a->v[i].from, *to = a->v[i].to;
		cJSON *v = pb_proc_field_get(ev, from);

		if (!v) {
			if (p->ignore_missing)
				continue;
			snprintf(err, errlen, "%s: could not fetch value for key: %s", what, from);
			return PB_PROC_FAIL;
		}
		if (strcmp(from, to) == 0)
			continue;
		if (pb_proc_field_get(ev, to)) {
			snprintf(err, errlen, "%s: target field %s already exists, drop or "
				 "rename this field first", what, to);
			return PB_PROC_FAIL;
		}
		if (copy) {
			v = cJSON_Duplicate(v, 1);
		} else {
			v = pb_proc_field_take(ev, from);
			/* a copy to put back should the target be unusable */
		}
		if (!v) {
			snprintf(err, errlen, "%s: out of memory", what);
			return PB_PROC_FAIL;
		}
		if (!copy) {
			cJSON *back = cJSON_Duplicate(v, 1);

			if (pb_proc_field_put(ev, to, v) < 0) {
				if (back)
					pb_proc_field_put(ev, from, back);
				snprintf(err, errlen, "%s: cannot put %s: a part of it is "
					 "not an object", what, to);
				return PB_PROC_FAIL;
			}
			cJSON_Delete(back);
		} else if (pb_proc_field_put(ev, to, v) < 0) {
			snprintf(err, errlen, "%s: cannot put %s: a part of it is not an "
				 "object", what, to);
			return PB_PROC_FAIL;
		}
	}
	return PB_PROC_OK;
}

static int rename_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	return move_copy(p, ev, err, errlen, 0);
}

static int copy_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	return move_copy(p, ev, err, errlen, 1);
}

static const struct pb_proc_type proc_rename = {
	"rename", pairs_keys, 1, pairs_compile, rename_run, pairs_free,
};
static const struct pb_proc_type proc_copy_fields = {
	"copy_fields", pairs_keys, 1, pairs_compile, copy_run, pairs_free,
};

/* ---- move_fields: fields under the prefix from, to the prefix to ---- */

struct move_fields {
	char *from, *to;
	char **fields, **exclude;
	int nfields, nexclude;
};

static const char *const move_fields_keys[] = { "from", "to", "fields", "exclude", NULL };

static int move_fields_compile(struct pb_proc_cc *cc, struct pb_proc *p)
{
	struct move_fields *m = calloc(1, sizeof(*m));
	const char *from = "", *to = NULL;
	int rc;

	if (!m)
		return PB_ENOMEM;
	p->priv = m;
	if ((rc = pb_proc_opt_str(cc, "from", &from)) < 0 ||
	    (rc = pb_proc_opt_str(cc, "to", &to)) < 0 ||
	    (rc = pb_proc_opt_strs(cc, "fields", &m->fields, &m->nfields)) < 0 ||
	    (rc = pb_proc_opt_strs(cc, "exclude", &m->exclude, &m->nexclude)) < 0)
		return rc;
	if (!to)
		return pb_proc_fail(cc, NULL, "needs to: the prefix to move the fields to");
	m->from = strdup(from);
	m->to = strdup(to);
	p->backup = 1;
	return m->from && m->to ? 0 : PB_ENOMEM;
}

static int move_one(struct pb_proc *p, cJSON *ev, const char *name, char *err, size_t errlen)
{
	struct move_fields *m = p->priv;
	char src[512], dst[512];
	cJSON *v;

	snprintf(src, sizeof(src), "%s%s%s", m->from, *m->from ? "." : "", name);
	snprintf(dst, sizeof(dst), "%s%s", m->to, name);
	v = pb_proc_field_take(ev, src);
	if (!v) {
		if (p->ignore_missing)
			return PB_PROC_OK;
		snprintf(err, errlen, "move_fields: could not fetch value for key: %s", src);
		return PB_PROC_FAIL;
	}
	if (pb_proc_field_put(ev, dst, v) < 0) {
		snprintf(err, errlen, "move_fields: cannot put %s", dst);
		return PB_PROC_FAIL;
	}
	return PB_PROC_OK;
}

static int move_fields_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct move_fields *m = p->priv;
	int i, j, rc;

	if (m->nfields) {
		for (i = 0; i < m->nfields; i++)
			if ((rc = move_one(p, ev, m->fields[i], err, errlen)) != PB_PROC_OK)
				return rc;
		return PB_PROC_OK;
	} else {
		/* every key of from but the excluded ones: names first, as
		 * moving changes the object being walked */
		cJSON *obj = *m->from ? pb_proc_field_get(ev, m->from) : ev, *k;
		char **names;
		int n = 0;

		if (!obj || !cJSON_IsObject(obj)) {
			if (p->ignore_missing)
				return PB_PROC_OK;
			snprintf(err, errlen, "move_fields: %s is not an object", m->from);
			return PB_PROC_FAIL;
		}
		for (k = obj->child; k; k = k->next)
			n++;
		names = calloc((size_t)n + 1, sizeof(*names));
		if (!names)
			return PB_PROC_FAIL;
		n = 0;
		for (k = obj->child; k; k = k->next) {
			int skip = 0;

			for (j = 0; j < m->nexclude && !skip; j++)
				skip = strcmp(k->string, m->exclude[j]) == 0;
			/* the destination itself, when it lies inside from */
			if (!skip && !*m->from && strncmp(m->to, k->string, strlen(k->string)) == 0 &&
			    m->to[strlen(k->string)] == '.')
				skip = 1;
			if (!skip)
				names[n++] = strdup(k->string);
		}
		rc = PB_PROC_OK;
		for (i = 0; i < n && rc == PB_PROC_OK; i++)
			if (names[i])
				rc = move_one(p, ev, names[i], err, errlen);
		pb_proc_strv_free(names);
		return rc;
	}
}

static void move_fields_free(struct pb_proc *p)
{
	struct move_fields *m = p->priv;

	if (m) {
		free(m->from);
		free(m->to);
		pb_proc_strv_free(m->fields);
		pb_proc_strv_free(m->exclude);
		free(m);
	}
}

static const struct pb_proc_type proc_move_fields = {
	"move_fields", move_fields_keys, 1, move_fields_compile, move_fields_run,
	move_fields_free,
};

/* ---- if/then/else ---- */

struct if_proc {
	struct pb_cond *cond;
	struct pb_proc_chain *then_, *else_;
};

static int chain_compile(struct pb_proc_chain **out, struct pb_conf *c,
			 const struct pb_conf_node *n, const char *path, int depth,
			 struct pb_proc_stats *st);
static int chain_run(struct pb_proc_chain *ch, cJSON *ev, int depth);

static void if_free(struct pb_proc *p)
{
	struct if_proc *f = p->priv;

	if (f) {
		pb_cond_free(f->cond);
		pb_proc_chain_free(f->then_);
		pb_proc_chain_free(f->else_);
		free(f);
	}
}

static int if_run(struct pb_proc *p, cJSON *ev, char *err, size_t errlen)
{
	struct if_proc *f = p->priv;
	struct pb_proc_chain *ch = pb_cond_eval(f->cond, ev) ? f->then_ : f->else_;

	(void)err, (void)errlen;
	if (!ch)
		return PB_PROC_OK;
	return chain_run(ch, ev, 0) ? PB_PROC_OK : PB_PROC_DROP;
}

static const struct pb_proc_type proc_if = {
	"if", no_keys, 1, NULL, if_run, if_free,
};

/* ---- the registry ---- */

static const struct pb_proc_type *const proc_types[] = {
	&proc_add_fields, &proc_add_tags, &proc_add_tag, &proc_add_labels,
	&proc_drop_event, &proc_drop_fields, &proc_include_fields, &proc_rename,
	&proc_copy_fields, &proc_move_fields,
	&pb_proc_truncate_fields, &pb_proc_convert, &pb_proc_replace,
	&pb_proc_urldecode, &pb_proc_decode_base64_field, &pb_proc_decode_json_fields,
	&pb_proc_dissect, &pb_proc_fingerprint, &pb_proc_add_id,
	&pb_proc_registered_domain,
	&pb_proc_community_id, &pb_proc_network_direction, &pb_proc_add_geoip,
	&pb_proc_add_asn, &pb_proc_add_host_metadata, &pb_proc_dns,
};

/* Beats processors pbtools does not have: named so the message says
 * "not supported" rather than "unknown". */
static const char *const unsupported[] = {
	"add_cloud_metadata", "add_docker_metadata", "add_kubernetes_metadata",
	"add_process_metadata", "add_locale", "add_observer_metadata",
	"add_formatted_index", "decompress_gzip_field", "detect_mime_type",
	"extract_array", "rate_limit", "script", "syslog", "timestamp",
	"translate_sid", "translate_ldap_attribute", "add_session_metadata",
	"add_nomad_metadata", "decode_cef", "decode_csv_fields",
	"decode_xml", "decode_xml_wineventlog", "decode_duration", "append",
	"cache", "parse_aws_vpc_flow_log", "convert_to_ecs",
};

static void proc_release(struct pb_proc *p)
{
	if (p->type && p->type->free)
		p->type->free(p);
	pb_cond_free(p->when);
	memset(p, 0, sizeof(*p));
}

void pb_proc_chain_free(struct pb_proc_chain *ch)
{
	int i;

	if (!ch)
		return;
	for (i = 0; i < ch->n; i++)
		proc_release(&ch->p[i]);
	free(ch->p);
	free(ch);
}

static int check_keys(struct pb_proc_cc *cc, const struct pb_proc_type *t)
{
	const struct pb_conf_node *k;
	const char *const *w;

	if (cc->n->kind != PB_CONF_MAP)
		return 0;
	for (k = cc->n->child; k; k = k->next) {
		int known = strcmp(k->key, "when") == 0 ||
			    strcmp(k->key, "ignore_missing") == 0 ||
			    strcmp(k->key, "fail_on_error") == 0;

		for (w = t->keys; w && *w && !known; w++)
			known = strcmp(*w, k->key) == 0;
		if (!known)
			return pb_proc_conf_err(cc->c, k, cc->path, "unknown option '%s' of %s",
						k->key, t->name);
	}
	return 0;
}

static int proc_compile(struct pb_proc *p, struct pb_conf *c,
			const struct pb_conf_node *item, const char *ipath, int depth,
			struct pb_proc_stats *st)
{
	const struct pb_conf_node *k, *body = NULL, *when;
	static const struct pb_conf_node empty = { .kind = PB_CONF_MAP };
	const struct pb_proc_type *t = NULL;
	struct pb_proc_cc cc;
	char path[320];
	size_t i;
	int rc;

	memset(p, 0, sizeof(*p));
	if (item->kind != PB_CONF_MAP || !item->child)
		return pb_proc_conf_err(c, item, ipath, "a processor is a map such as "
					"{add_tags: {tags: [x]}}");
	/* if/then/else: three keys of one list item */
	if (pb_conf_child(item, "if")) {
		struct if_proc *f = calloc(1, sizeof(*f));

		if (!f)
			return PB_ENOMEM;
		p->type = &proc_if;
		p->priv = f;
		snprintf(path, sizeof(path), "%s.if", ipath);
		for (k = item->child; k; k = k->next)
			if (strcmp(k->key, "if") && strcmp(k->key, "then") && strcmp(k->key, "else"))
				return pb_proc_conf_err(c, k, ipath, "'%s' beside if: only then "
							"and else go with it", k->key);
		if ((rc = pb_cond_compile(&f->cond, c, pb_conf_child(item, "if"), path)) < 0)
			return rc;
		if (!(k = pb_conf_child(item, "then")))
			return pb_proc_conf_err(c, item, ipath, "if without then");
		snprintf(path, sizeof(path), "%s.then", ipath);
		if ((rc = chain_compile(&f->then_, c, k, path, depth + 1, st)) < 0)
			return rc;
		if ((k = pb_conf_child(item, "else")) != NULL) {
			snprintf(path, sizeof(path), "%s.else", ipath);
			if ((rc = chain_compile(&f->else_, c, k, path, depth + 1, st)) < 0)
				return rc;
		}
		return 0;
	}
	if (item->child->next)
		return pb_proc_conf_err(c, item->child->next, ipath, "one processor per list "
					"item ('%s' and '%s'): is the indentation right?",
					item->child->key, item->child->next->key);
	k = item->child;
	for (i = 0; i < sizeof(proc_types) / sizeof(proc_types[0]); i++)
		if (strcmp(proc_types[i]->name, k->key) == 0)
			t = proc_types[i];
	snprintf(path, sizeof(path), "%s.%s", ipath, k->key);
	if (!t) {
		for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
			if (strcmp(unsupported[i], k->key) == 0)
				return pb_proc_conf_err(c, k, path, "processor '%s' is not "
							"supported by pbtools", k->key);
		return pb_proc_conf_err(c, k, path, "unknown processor '%s'", k->key);
	}
	if (k->kind == PB_CONF_MAP)
		body = k;
	else if (k->kind == PB_CONF_SCALAR && (!k->value || !*k->value))
		body = &empty;   /* "- community_id:" */
	else
		return pb_proc_conf_err(c, k, path, "the options of %s are a map", t->name);
	p->type = t;
	p->fail_on_error = t->fail_on_error;
	cc.c = c;
	cc.path = path;
	cc.n = body;
	if ((rc = check_keys(&cc, t)) < 0)
		return rc;
	if ((rc = pb_proc_opt_bool(&cc, "ignore_missing", &p->ignore_missing)) < 0 ||
	    (rc = pb_proc_opt_bool(&cc, "fail_on_error", &p->fail_on_error)) < 0)
		return rc;
	if ((when = body->kind == PB_CONF_MAP ? pb_conf_child(body, "when") : NULL) != NULL) {
		char wpath[340];

		snprintf(wpath, sizeof(wpath), "%s.when", path);
		if ((rc = pb_cond_compile(&p->when, c, when, wpath)) < 0)
			return rc;
	}
	if (t->compile && (rc = t->compile(&cc, p)) < 0)
		return rc;
	return 0;
}

static int chain_compile(struct pb_proc_chain **out, struct pb_conf *c,
			 const struct pb_conf_node *n, const char *path, int depth,
			 struct pb_proc_stats *st)
{
	struct pb_proc_chain *ch;
	const struct pb_conf_node *k, *first;
	int cnt = 0, rc;

	*out = NULL;
	if (depth > PROC_MAX_DEPTH)
		return pb_proc_conf_err(c, n, path, "processors nested too deep");
	if (n->kind == PB_CONF_SCALAR && (!n->value || !*n->value))
		return 0;                       /* "processors:" with nothing */
	if (n->kind == PB_CONF_SCALAR)
		return pb_proc_conf_err(c, n, path, "not a list of processors");
	/* a single processor map is a list of one */
	first = n->kind == PB_CONF_SEQ ? n->child : n;
	for (k = first; k; k = n->kind == PB_CONF_SEQ ? k->next : NULL)
		cnt++;
	if (!cnt)
		return 0;
	ch = calloc(1, sizeof(*ch));
	if (!ch || !(ch->p = calloc((size_t)cnt, sizeof(*ch->p)))) {
		free(ch);
		return PB_ENOMEM;
	}
	ch->st = st;
	for (k = first; k; k = n->kind == PB_CONF_SEQ ? k->next : NULL) {
		char ipath[300];

		snprintf(ipath, sizeof(ipath), "%s.%d", path, ch->n);
		rc = proc_compile(&ch->p[ch->n], c, k, n->kind == PB_CONF_SEQ ? ipath : path,
				  depth, st);
		ch->n++;                        /* released with the chain */
		if (rc < 0) {
			pb_proc_chain_free(ch);
			return rc;
		}
	}
	*out = ch;
	return 0;
}

int pb_proc_chain_compile(struct pb_proc_chain **out, struct pb_conf *c,
			  const struct pb_conf_node *n, const char *path)
{
	return chain_compile(out, c, n, path, 0, NULL);
}

static int chain_run(struct pb_proc_chain *ch, cJSON *ev, int depth)
{
	int i;

	(void)depth;
	for (i = 0; ch && i < ch->n; i++) {
		struct pb_proc *p = &ch->p[i];
		cJSON *backup = NULL;
		char err[512];
		int rc;

		if (p->when && !pb_cond_eval(p->when, ev))
			continue;
		if (p->backup && p->fail_on_error)
			backup = cJSON_Duplicate(ev, 1);
		err[0] = '\0';
		rc = p->type->run(p, ev, err, sizeof(err));
		if (rc == PB_PROC_DROP) {
			cJSON_Delete(backup);
			return 0;
		}
		if (rc == PB_PROC_FAIL && p->fail_on_error) {
			if (backup) {
				/* put the event back as it was: swap contents */
				cJSON *kids = ev->child;

				ev->child = backup->child;
				backup->child = kids;
			}
			record_error(ev, err[0] ? err : p->type->name);
			if (ch->st)
				ch->st->failed++;
		}
		cJSON_Delete(backup);
	}
	return 1;
}

int pb_proc_chain_run(struct pb_proc_chain *ch, cJSON *ev)
{
	return chain_run(ch, ev, 0);
}

/* ---- sets ---- */

struct type_chain {
	char *type;                        /* the event's "type" */
	struct pb_proc_chain *pre, *procs; /* fields/tags, processors */
};

struct pb_proc_set {
	struct pb_proc_stats st;
	struct pb_proc_chain *global_pre, *global;
	struct pb_proc_chain **extra;      /* added with add_yaml */
	int nextra;
	struct type_chain *types;
	int ntypes;
};

/* The fields/tags/fields_under_root of a section, as add_fields and
 * add_tags processors (Beats' own way of adding them). */
static int fields_tags_chain(struct pb_proc_chain **out, struct pb_conf *c,
			     const struct pb_conf_node *sec, const char *path,
			     struct pb_proc_stats *st)
{
	const struct pb_conf_node *fields = pb_conf_child(sec, "fields");
	const struct pb_conf_node *tags = pb_conf_child(sec, "tags");
	const struct pb_conf_node *root = pb_conf_child(sec, "fields_under_root");
	struct pb_proc_chain *ch;
	int under_root = 0, i = 0, rc;
	struct pb_proc_cc cc;

	*out = NULL;
	if (root && (root->kind != PB_CONF_SCALAR || !root->value ||
		     pb_parse_bool(root->value, &under_root) < 0))
		return pb_proc_conf_err(c, root, path, "fields_under_root: not true or false");
	if (fields && fields->kind != PB_CONF_MAP)
		return pb_proc_conf_err(c, fields, path, "fields: not a map");
	if (fields && !fields->child)
		fields = NULL;
	if (!fields && !tags)
		return 0;
	ch = calloc(1, sizeof(*ch));
	if (!ch || !(ch->p = calloc(2, sizeof(*ch->p)))) {
		free(ch);
		return PB_ENOMEM;
	}
	ch->st = st;
	cc.c = c;
	cc.path = path;
	if (fields) {
		struct add_fields *a = calloc(1, sizeof(*a));

		ch->p[i].type = &proc_add_fields;
		ch->p[i++].priv = a;
		ch->n = i;
		if (!a || !(a->target = strdup(under_root ? "" : "fields")) ||
		    !(a->fields = pb_proc_conf_json(fields))) {
			pb_proc_chain_free(ch);
			return PB_ENOMEM;
		}
		a->overwrite = 1;
	}
	if (tags) {
		cc.n = sec;
		ch->p[i].type = &proc_add_tags;
		ch->n = i + 1;
		if ((rc = add_tags_compile(&cc, &ch->p[i])) < 0) {
			pb_proc_chain_free(ch);
			return rc;
		}
	}
	*out = ch;
	return 0;
}

static int set_add_type(struct pb_proc_set *s, struct pb_conf *c, const char *type,
			const struct pb_conf_node *sec, const char *path)
{
	const struct pb_conf_node *procs = pb_conf_child(sec, "processors");
	struct type_chain tc, *nt;
	char ppath[300];
	int rc;

	memset(&tc, 0, sizeof(tc));
	if (sec->kind != PB_CONF_MAP)
		return 0;
	if ((rc = fields_tags_chain(&tc.pre, c, sec, path, &s->st)) < 0)
		return rc;
	snprintf(ppath, sizeof(ppath), "%s.processors", path);
	if (procs && (rc = chain_compile(&tc.procs, c, procs, ppath, 0, &s->st)) < 0) {
		pb_proc_chain_free(tc.pre);
		return rc;
	}
	if (!tc.pre && !tc.procs)
		return 0;
	nt = realloc(s->types, (size_t)(s->ntypes + 1) * sizeof(*nt));
	if (!nt || !(tc.type = strdup(type))) {
		if (nt)
			s->types = nt;
		pb_proc_chain_free(tc.pre);
		pb_proc_chain_free(tc.procs);
		return PB_ENOMEM;
	}
	s->types = nt;
	s->types[s->ntypes++] = tc;
	return 0;
}

int pb_proc_set_load(struct pb_proc_set **out, struct pb_conf *c)
{
	struct pb_proc_set *s = calloc(1, sizeof(*s));
	const struct pb_conf_node *n, *k;
	int rc = 0;

	*out = NULL;
	if (!s)
		return PB_ENOMEM;
	if ((rc = fields_tags_chain(&s->global_pre, c, c->root, "fields", &s->st)) < 0)
		goto bad;
	if ((n = pb_conf_get(c, "processors")) != NULL &&
	    (rc = chain_compile(&s->global, c, n, "processors", 0, &s->st)) < 0)
		goto bad;
	if ((n = pb_conf_get(c, "packetbeat.flows")) != NULL &&
	    (rc = set_add_type(s, c, "flow", n, "packetbeat.flows")) < 0)
		goto bad;
	/* packetbeat.protocols: a map by name, or a list of {type: name} */
	if ((n = pb_conf_get(c, "packetbeat.protocols")) != NULL) {
		int i = 0;

		for (k = n->child; k; k = k->next, i++) {
			const struct pb_conf_node *t = NULL;
			char path[300];
			const char *name = k->key;

			if (n->kind == PB_CONF_SEQ) {
				t = pb_conf_child(k, "type");
				name = t && t->kind == PB_CONF_SCALAR ? t->value : NULL;
				snprintf(path, sizeof(path), "packetbeat.protocols.%d", i);
			} else {
				snprintf(path, sizeof(path), "packetbeat.protocols.%s", k->key);
			}
			/* "postgresql" in a user's file is the pgsql parser */
			if (name && strcmp(name, "postgresql") == 0)
				name = "pgsql";
			if (name && (rc = set_add_type(s, c, name, k, path)) < 0)
				goto bad;
		}
	}
	*out = s;
	return 0;
bad:
	pb_proc_set_free(s);
	return rc;
}

int pb_proc_set_add_yaml(struct pb_proc_set *s, struct pb_conf *c,
			 const char *name, const char *yaml)
{
	struct pb_proc_chain *ch, **ne;
	struct pb_conf tmp;
	int rc;

	if (pb_conf_init(&tmp) < 0)
		return PB_ENOMEM;
	if (pb_conf_load_string(&tmp, name, yaml) < 0) {
		snprintf(c->err, sizeof(c->err), "%s", tmp.err);
		pb_conf_release(&tmp);
		return PB_EUSAGE;
	}
	/* the text is "processors: [...]": the nodes name the option */
	rc = chain_compile(&ch, &tmp, pb_conf_get(&tmp, "processors"), name, 0, &s->st);
	if (rc < 0) {
		snprintf(c->err, sizeof(c->err), "%s", tmp.err);
		pb_conf_release(&tmp);
		return rc;
	}
	pb_conf_release(&tmp);
	if (!ch)
		return 0;
	ne = realloc(s->extra, (size_t)(s->nextra + 1) * sizeof(*ne));
	if (!ne) {
		pb_proc_chain_free(ch);
		return PB_ENOMEM;
	}
	s->extra = ne;
	s->extra[s->nextra++] = ch;
	return 0;
}

int pb_proc_set_active(const struct pb_proc_set *s)
{
	return s && (s->global_pre || s->global || s->nextra || s->ntypes);
}

int pb_proc_set_run(struct pb_proc_set *s, cJSON *ev)
{
	struct type_chain *tc = NULL;
	int i, keep = 1;

	s->st.events++;
	if (s->ntypes) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "type");

		for (i = 0; cJSON_IsString(t) && i < s->ntypes && !tc; i++)
			if (strcmp(s->types[i].type, t->valuestring) == 0)
				tc = &s->types[i];
	}
	if (tc && tc->pre)
		keep = chain_run(tc->pre, ev, 0);
	if (keep && s->global_pre)
		keep = chain_run(s->global_pre, ev, 0);
	if (keep && tc && tc->procs)
		keep = chain_run(tc->procs, ev, 0);
	if (keep && s->global)
		keep = chain_run(s->global, ev, 0);
	for (i = 0; keep && i < s->nextra; i++)
		keep = chain_run(s->extra[i], ev, 0);
	if (!keep)
		s->st.dropped++;
	return keep;
}

int pb_proc_set_run_line(struct pb_proc_set *s, struct pb_buf *out,
			 const char *line, size_t n)
{
	cJSON *ev;
	int keep;

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	ev = cJSON_ParseWithLength(line, n);
	if (!ev || !cJSON_IsObject(ev)) {
		cJSON_Delete(ev);
		pb_buf_add(out, line, n);
		pb_buf_addc(out, '\n');
		return 1;
	}
	keep = pb_proc_set_run(s, ev);
	if (keep)
		pb_proc_write_json(out, ev);
	cJSON_Delete(ev);
	return keep;
}

int pb_proc_set_run_tail(struct pb_proc_set *s, struct pb_buf *b, size_t start)
{
	size_t pos = start, end = b->len;
	int kept = 0;

	/* parse every line first, from the buffer as written; the buffer
	 * is then rewritten from start (it may move as it grows) */
	cJSON *evs[64], **ev = evs;
	size_t n = 0, cap = 64, i;

	while (pos < end) {
		const char *nl = memchr(b->data + pos, '\n', end - pos);
		size_t len = nl ? (size_t)(nl - (b->data + pos)) : end - pos;
		cJSON *o = cJSON_ParseWithLength(b->data + pos, len);

		if (o && !cJSON_IsObject(o)) {
			cJSON_Delete(o);
			o = NULL;
		}
		if (!o) {
			/* not an event: left as it is, and whatever follows */
			break;
		}
		if (n == cap) {
			cJSON **more = malloc(cap * 2 * sizeof(*more));

			if (!more) {
				cJSON_Delete(o);
				break;
			}
			memcpy(more, ev, n * sizeof(*more));
			if (ev != evs)
				free(ev);
			ev = more;
			cap *= 2;
		}
		ev[n++] = o;
		pos += len + (nl != NULL);
	}
	if (n) {
		/* what could not be parsed moves down after the events */
		size_t rest = end - pos;
		char *tail = rest ? malloc(rest) : NULL;

		if (rest && tail)
			memcpy(tail, b->data + pos, rest);
		b->len = start;
		for (i = 0; i < n; i++) {
			if (pb_proc_set_run(s, ev[i])) {
				pb_proc_write_json(b, ev[i]);
				kept++;
			}
			cJSON_Delete(ev[i]);
		}
		if (tail) {
			pb_buf_add(b, tail, rest);
			free(tail);
		}
	}
	if (ev != evs)
		free(ev);
	return kept + (pos < end);
}

const struct pb_proc_stats *pb_proc_set_stats(const struct pb_proc_set *s)
{
	return &s->st;
}

void pb_proc_set_free(struct pb_proc_set *s)
{
	int i;

	if (!s)
		return;
	pb_proc_chain_free(s->global_pre);
	pb_proc_chain_free(s->global);
	for (i = 0; i < s->nextra; i++)
		pb_proc_chain_free(s->extra[i]);
	free(s->extra);
	for (i = 0; i < s->ntypes; i++) {
		free(s->types[i].type);
		pb_proc_chain_free(s->types[i].pre);
		pb_proc_chain_free(s->types[i].procs);
	}
	free(s->types);
	free(s);
}
