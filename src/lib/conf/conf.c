/*
 * conf.c - loading packetbeat.yml with libyaml, -E overrides, ${VAR}
 * expansion, typed getters.  The schema check is in schema.c.
 */
#include "conf/conf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pb.h"
#include "util/banned.h"

/* Bounds on what a configuration may hold: a file is written by people. */
#define CONF_MAX_DEPTH 64
#define CONF_MAX_NODES 100000
#define CONF_MAX_ANCHORS 256

static int conf_err(struct pb_conf *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int conf_err(struct pb_conf *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return PB_EUSAGE;
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct pb_conf_node *node_new(enum pb_conf_kind kind, const char *file, int line)
{
	struct pb_conf_node *n = calloc(1, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->file = file;
		n->line = line;
	}
	return n;
}

static void node_free(struct pb_conf_node *n)
{
	while (n) {
		struct pb_conf_node *next = n->next;

		node_free(n->child);
		free(n->key);
		free(n->value);
		free(n);
		n = next;
	}
}

static void node_append(struct pb_conf_node *parent, struct pb_conf_node *n)
{
	n->next = NULL;
	if (parent->last)
		parent->last->next = n;
	else
		parent->child = n;
	parent->last = n;
}

static struct pb_conf_node *node_copy(const struct pb_conf_node *n)
{
	struct pb_conf_node *m = node_new(n->kind, n->file, n->line), *k;

	if (!m)
		return NULL;
	m->key = xstrdup(n->key);
	m->value = xstrdup(n->value);
	m->quoted = n->quoted;
	for (k = n->child; k; k = k->next) {
		struct pb_conf_node *kc = node_copy(k);

		if (!kc) {
			node_free(m);
			return NULL;
		}
		node_append(m, kc);
	}
	return m;
}

int pb_conf_init(struct pb_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->root = node_new(PB_CONF_MAP, "", 0);
	return c->root ? 0 : PB_ENOMEM;
}

void pb_conf_release(struct pb_conf *c)
{
	node_free(c->root);
	free(c->file);
	c->root = NULL;
	c->file = NULL;
}

const struct pb_conf_node *pb_conf_child(const struct pb_conf_node *n, const char *key)
{
	const struct pb_conf_node *k, *found = NULL;

	if (!n || n->kind != PB_CONF_MAP)
		return NULL;
	for (k = n->child; k; k = k->next)
		if (k->key && !strcmp(k->key, key))
			found = k; /* the last of duplicate keys wins */
	return found;
}

/* Remove a child by pointer. */
static void node_unlink(struct pb_conf_node *parent, struct pb_conf_node *n)
{
	struct pb_conf_node **pp = &parent->child, *prev = NULL;

	while (*pp && *pp != n) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = n->next;
	if (parent->last == n)
		parent->last = prev;
	n->next = NULL;
}

/* Put n (whose key is its last path segment) into map at key; maps merge,
 * anything else replaces what was there. */
static void map_put(struct pb_conf_node *map, struct pb_conf_node *n)
{
	struct pb_conf_node *old = (struct pb_conf_node *)pb_conf_child(map, n->key);

	if (old && old->kind == PB_CONF_MAP && n->kind == PB_CONF_MAP) {
		struct pb_conf_node *k = n->child;

		while (k) {
			struct pb_conf_node *next = k->next;

			k->next = NULL;
			map_put(old, k);
			k = next;
		}
		n->child = n->last = NULL;
		node_free(n);
		return;
	}
	if (old) {
		node_unlink(map, old);
		node_free(old);
	}
	node_append(map, n);
}

/* Insert n under map at a dotted key, making the maps in between. */
static int map_put_dotted(struct pb_conf *c, struct pb_conf_node *map,
			  const char *key, struct pb_conf_node *n)
{
	const char *dot = strchr(key, '.');

	while (dot) {
		struct pb_conf_node *sub;
		char *seg = strndup(key, (size_t)(dot - key));

		if (!seg)
			return PB_ENOMEM;
		sub = (struct pb_conf_node *)pb_conf_child(map, seg);
		if (!sub || sub->kind != PB_CONF_MAP) {
			struct pb_conf_node *m = node_new(PB_CONF_MAP, n->file, n->line);

			if (!m) {
				free(seg);
				return PB_ENOMEM;
			}
			m->key = seg;
			map_put(map, m);
			sub = m;
		} else {
			free(seg);
		}
		map = sub;
		key = dot + 1;
		dot = strchr(key, '.');
	}
	if (!*key)
		return conf_err(c, "%s:%d: empty key", n->file, n->line);
	free(n->key);
	n->key = strdup(key);
	if (!n->key)
		return PB_ENOMEM;
	map_put(map, n);
	return 0;
}

/* ---- YAML to tree ---- */

struct anchor {
	char *name;
	struct pb_conf_node *node;  /* a copy of the anchored value, owned */
	int size;                   /* nodes in it */
};

struct loader {
	struct pb_conf *c;
	yaml_parser_t p;
	const char *file;
	int nodes;
	struct anchor anchors[CONF_MAX_ANCHORS];
	int n_anchors;
};

static int load_node(struct loader *l, yaml_event_t *ev, int depth,
		     struct pb_conf_node **out);

static int next_event(struct loader *l, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&l->p, ev))
		return conf_err(l->c, "%s:%zu: %s", l->file, l->p.problem_mark.line + 1,
				l->p.problem ? l->p.problem : "YAML syntax error");
	return 0;
}

static int node_count(const struct pb_conf_node *n)
{
	int k = 1;

	for (n = n->child; n; n = n->next)
		k += node_count(n);
	return k;
}

/* Keep a copy of an anchored value once it is complete: the node itself
 * may yet be merged into a map of the same name or replaced by a later
 * duplicate key, and freed, before an alias names it.  Copies count
 * towards CONF_MAX_NODES like everything else. */
static int remember_anchor(struct loader *l, const yaml_char_t *name,
			   const struct pb_conf_node *n, int line)
{
	struct anchor *a;

	if (!name || l->n_anchors == CONF_MAX_ANCHORS)
		return 0;
	a = &l->anchors[l->n_anchors];
	a->size = node_count(n);
	if ((l->nodes += a->size) > CONF_MAX_NODES)
		return conf_err(l->c, "%s:%d: too many values", l->file, line);
	a->name = strdup((const char *)name);
	a->node = node_copy(n);
	if (!a->name || !a->node) {
		free(a->name);
		node_free(a->node);
		return PB_ENOMEM;
	}
	l->n_anchors++;
	return 0;
}

static int load_node(struct loader *l, yaml_event_t *ev, int depth,
		     struct pb_conf_node **out)
{
	int line = (int)ev->start_mark.line + 1, rc;
	struct pb_conf_node *n;
	yaml_event_t e;

	*out = NULL;
	if (depth > CONF_MAX_DEPTH)
		return conf_err(l->c, "%s:%d: nested too deeply", l->file, line);
	if (++l->nodes > CONF_MAX_NODES)
		return conf_err(l->c, "%s:%d: too many values", l->file, line);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = node_new(PB_CONF_SCALAR, l->file, line);
		if (!n)
			return PB_ENOMEM;
		n->value = strndup((const char *)ev->data.scalar.value,
				   ev->data.scalar.length);
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		/* a plain ~ or null is an empty value */
		if (!n->quoted && (!strcmp(n->value, "~") || !strcmp(n->value, "null")))
			n->value[0] = '\0';
		if ((rc = remember_anchor(l, ev->data.scalar.anchor, n, line)) < 0) {
			node_free(n);
			return rc;
		}
		*out = n;
		return 0;
	case YAML_ALIAS_EVENT: {
		int i;

		for (i = l->n_anchors - 1; i >= 0; i--)
			if (!strcmp(l->anchors[i].name, (const char *)ev->data.alias.anchor)) {
				/* an alias costs what it copies (no "billion laughs") */
				if ((l->nodes += l->anchors[i].size - 1) > CONF_MAX_NODES)
					return conf_err(l->c, "%s:%d: too many values",
							l->file, line);
				*out = node_copy(l->anchors[i].node);
				return *out ? 0 : PB_ENOMEM;
			}
		return conf_err(l->c, "%s:%d: unknown alias '*%s'", l->file, line,
				ev->data.alias.anchor);
	}
	case YAML_SEQUENCE_START_EVENT:
		n = node_new(PB_CONF_SEQ, l->file, line);
		if (!n)
			return PB_ENOMEM;
		for (;;) {
			struct pb_conf_node *k;

			if ((rc = next_event(l, &e)) < 0) {
				node_free(n);
				return rc;
			}
			if (e.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&e);
				break;
			}
			rc = load_node(l, &e, depth + 1, &k);
			yaml_event_delete(&e);
			if (rc < 0) {
				node_free(n);
				return rc;
			}
			node_append(n, k);
		}
		if ((rc = remember_anchor(l, ev->data.sequence_start.anchor, n, line)) < 0) {
			node_free(n);
			return rc;
		}
		*out = n;
		return 0;
	case YAML_MAPPING_START_EVENT:
		n = node_new(PB_CONF_MAP, l->file, line);
		if (!n)
			return PB_ENOMEM;
		for (;;) {
			struct pb_conf_node *v;
			char *key;
			int kline;

			if ((rc = next_event(l, &e)) < 0) {
				node_free(n);
				return rc;
			}
			if (e.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&e);
				break;
			}
			kline = (int)e.start_mark.line + 1;
			if (e.type != YAML_SCALAR_EVENT) {
				yaml_event_delete(&e);
				node_free(n);
				return conf_err(l->c, "%s:%d: a key must be a plain value",
						l->file, kline);
			}
			key = strndup((const char *)e.data.scalar.value, e.data.scalar.length);
			yaml_event_delete(&e);
			if (!key || (rc = next_event(l, &e)) < 0) {
				free(key);
				node_free(n);
				return key ? rc : PB_ENOMEM;
			}
			rc = load_node(l, &e, depth + 1, &v);
			yaml_event_delete(&e);
			if (rc < 0) {
				free(key);
				node_free(n);
				return rc;
			}
			v->line = kline;
			if (!strcmp(key, "<<") && v->kind == PB_CONF_MAP) {
				/* YAML merge key: the aliased map's keys, unless set */
				struct pb_conf_node *k = v->child;

				while (k) {
					struct pb_conf_node *next = k->next;

					k->next = NULL;
					if (!pb_conf_child(n, k->key))
						node_append(n, k);
					else
						node_free(k);
					k = next;
				}
				v->child = v->last = NULL;
				node_free(v);
				free(key);
				continue;
			}
			rc = map_put_dotted(l->c, n, key, v);
			free(key);
			if (rc < 0) {
				node_free(v); /* not put in the map */
				node_free(n);
				return rc;
			}
		}
		if ((rc = remember_anchor(l, ev->data.mapping_start.anchor, n, line)) < 0) {
			node_free(n);
			return rc;
		}
		*out = n;
		return 0;
	default:
		return conf_err(l->c, "%s:%d: unexpected YAML content", l->file, line);
	}
}

/* Parse a whole YAML stream into *out (the first document's root). */
static int load_yaml(struct pb_conf *c, const char *file, const unsigned char *text,
		     size_t len, struct pb_conf_node **out)
{
	struct loader l;
	yaml_event_t e;
	int rc = 0, i, started = 0;

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.file = file;
	*out = NULL;
	if (!yaml_parser_initialize(&l.p))
		return PB_ENOMEM;
	yaml_parser_set_input_string(&l.p, text, len);
	for (;;) {
		if ((rc = next_event(&l, &e)) < 0)
			break;
		if (e.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&e);
			break;
		}
		if (e.type == YAML_DOCUMENT_START_EVENT) {
			if (started) {
				rc = conf_err(c, "%s:%zu: only one YAML document is read",
					      file, e.start_mark.line + 1);
				yaml_event_delete(&e);
				break;
			}
			started = 1;
		} else if (e.type == YAML_SCALAR_EVENT || e.type == YAML_SEQUENCE_START_EVENT ||
			   e.type == YAML_MAPPING_START_EVENT || e.type == YAML_ALIAS_EVENT) {
			rc = load_node(&l, &e, 0, out);
			if (rc < 0) {
				yaml_event_delete(&e);
				break;
			}
		}
		yaml_event_delete(&e);
	}
	for (i = 0; i < l.n_anchors; i++) {
		free(l.anchors[i].name);
		node_free(l.anchors[i].node);
	}
	yaml_parser_delete(&l.p);
	if (rc < 0) {
		node_free(*out);
		*out = NULL;
	}
	return rc;
}

static const char *intern_file(struct pb_conf *c, const char *name)
{
	free(c->file);
	c->file = strdup(name);
	return c->file ? c->file : "";
}

int pb_conf_load_string(struct pb_conf *c, const char *name, const char *yaml)
{
	struct pb_conf_node *root, *k;
	const char *file = intern_file(c, name);
	int rc;

	rc = load_yaml(c, file, (const unsigned char *)yaml, strlen(yaml), &root);
	if (rc < 0)
		return rc;
	if (!root)
		return 0; /* an empty file is an empty configuration */
	if (root->kind == PB_CONF_SCALAR && !root->value[0]) {
		node_free(root);
		return 0;
	}
	if (root->kind != PB_CONF_MAP) {
		node_free(root);
		return conf_err(c, "%s:1: the configuration must be a map of settings", file);
	}
	/* Merge into what is there (keys already split by the loader). */
	k = root->child;
	while (k) {
		struct pb_conf_node *next = k->next;

		k->next = NULL;
		map_put(c->root, k);
		k = next;
	}
	root->child = root->last = NULL;
	node_free(root);
	return 0;
}

/* Largest configuration file read: bounded like everything else. */
#define CONF_MAX_FILE (16u << 20)

int pb_conf_load_file(struct pb_conf *c, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text;
	size_t n;
	int rc;

	if (!f)
		return conf_err(c, "cannot open '%s': %s", path, strerror(errno));
	text = malloc(CONF_MAX_FILE + 1);
	if (!text) {
		fclose(f);
		return PB_ENOMEM;
	}
	n = fread(text, 1, CONF_MAX_FILE + 1, f);
	if (ferror(f) || n > CONF_MAX_FILE) {
		rc = conf_err(c, "cannot read '%s': %s", path,
			      ferror(f) ? strerror(errno) : "file too large");
		fclose(f);
		free(text);
		return rc;
	}
	fclose(f);
	text[n] = '\0';
	if (memchr(text, '\0', n)) {
		free(text);
		return conf_err(c, "%s: not a text file", path);
	}
	rc = pb_conf_load_string(c, path, text);
	free(text);
	return rc;
}

/* ---- paths and -E ---- */

static int is_index(const char *s, size_t n, long *idx)
{
	size_t i;
	long v = 0;

	if (n == 0 || n > 6)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*idx = v;
	return 1;
}

const struct pb_conf_node *pb_conf_get(const struct pb_conf *c, const char *path)
{
	const struct pb_conf_node *n = c->root;

	while (n && *path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		const struct pb_conf_node *k, *found = NULL;
		long idx;

		if (n->kind == PB_CONF_SEQ && is_index(path, len, &idx)) {
			for (k = n->child; k && idx > 0; k = k->next)
				idx--;
			found = k;
		} else if (n->kind == PB_CONF_MAP) {
			for (k = n->child; k; k = k->next)
				if (k->key && strlen(k->key) == len && !memcmp(k->key, path, len))
					found = k;
		}
		n = found;
		path += len + (dot != NULL);
		if (dot && !*path)
			return NULL;
	}
	return n;
}

int pb_conf_set(struct pb_conf *c, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	struct pb_conf_node *val, *n;
	char *key, *seg, *save;
	int rc;

	if (!eq || eq == assignment)
		return conf_err(c, "-E '%s': expected key=value", assignment);
	key = strndup(assignment, (size_t)(eq - assignment));
	if (!key)
		return PB_ENOMEM;
	if (!eq[1]) {
		val = node_new(PB_CONF_SCALAR, "-E", 0);
		if (val)
			val->value = strdup("");
		rc = val && val->value ? 0 : PB_ENOMEM;
	} else {
		rc = load_yaml(c, "-E", (const unsigned char *)eq + 1, strlen(eq + 1), &val);
		if (rc == 0 && !val)
			rc = conf_err(c, "-E '%s': no value", assignment);
	}
	if (rc < 0) {
		free(key);
		return rc;
	}
	/* Walk the path, descending into sequences by index. */
	n = c->root;
	seg = key;
	for (;;) {
		char *dot = strchr(seg, '.');
		long idx;

		save = dot;
		if (dot)
			*dot = '\0';
		if (!*seg) {
			node_free(val);
			free(key);
			return conf_err(c, "-E '%s': empty key segment", assignment);
		}
		if (n->kind == PB_CONF_SEQ && is_index(seg, strlen(seg), &idx)) {
			struct pb_conf_node *k = n->child;

			while (k && idx > 0) {
				k = k->next;
				idx--;
			}
			if (!k) { /* one past the end appends */
				if (idx != 0) {
					node_free(val);
					free(key);
					return conf_err(c, "-E '%s': index past the end of the list",
							assignment);
				}
				k = node_new(dot ? PB_CONF_MAP : PB_CONF_SCALAR, "-E", 0);
				if (!k) {
					node_free(val);
					free(key);
					return PB_ENOMEM;
				}
				node_append(n, k);
			}
			if (!dot) {
				/* replace the element's contents in place */
				node_free(k->child);
				free(k->value);
				k->kind = val->kind;
				k->value = val->value;
				k->quoted = val->quoted;
				k->child = val->child;
				k->last = val->last;
				k->file = "-E";
				val->value = NULL;
				val->child = val->last = NULL;
				node_free(val);
				break;
			}
			if (k->kind != PB_CONF_MAP && k->kind != PB_CONF_SEQ) {
				k->kind = PB_CONF_MAP;
				free(k->value);
				k->value = NULL;
			}
			n = k;
		} else {
			struct pb_conf_node *k;

			if (n->kind != PB_CONF_MAP) {
				int rc2 = conf_err(c, "-E '%s': cannot set '%s' there: its parent is "
						   "a list or a value, not a map", assignment, seg);

				node_free(val);
				free(key);
				return rc2;
			}
			if (!dot) {
				val->key = strdup(seg);
				val->file = "-E";
				map_put(n, val);
				break;
			}
			k = (struct pb_conf_node *)pb_conf_child(n, seg);
			if (!k || (k->kind != PB_CONF_MAP && k->kind != PB_CONF_SEQ)) {
				struct pb_conf_node *m = node_new(PB_CONF_MAP, "-E", 0);

				if (!m) {
					node_free(val);
					free(key);
					return PB_ENOMEM;
				}
				m->key = strdup(seg);
				map_put(n, m);
				k = m;
			}
			n = k;
		}
		seg = save + 1;
	}
	free(key);
	return 0;
}

/* ---- ${VAR} expansion ---- */

#define CONF_MAX_VALUE (64u << 10)

static int expand_value(struct pb_conf *c, struct pb_conf_node *n, const char *path)
{
	const char *s = n->value, *p;
	char *out;
	size_t len = 0, cap = strlen(s) + 1;

	if (!strstr(s, "${"))
		return 0;
	out = malloc(cap);
	if (!out)
		return PB_ENOMEM;
	for (p = s; *p;) {
		const char *add = p, *close;
		size_t addn = 1;
		char *name = NULL;

		if (p[0] == '$' && p[1] == '{' && (close = strchr(p + 2, '}'))) {
			const char *colon = memchr(p + 2, ':', (size_t)(close - p - 2));
			const char *val;

			name = strndup(p + 2, (size_t)((colon ? colon : close) - p - 2));
			if (!name) {
				free(out);
				return PB_ENOMEM;
			}
			val = getenv(name);
			if (val) {
				add = val;
				addn = strlen(val);
			} else if (colon) {
				add = colon + 1;
				addn = (size_t)(close - colon - 1);
			} else {
				int rc = conf_err(c, "%s:%d: %s: environment variable '%s' is "
						  "not set and has no default",
						  n->file, n->line, path, name);
				free(name);
				free(out);
				return rc;
			}
			free(name);
			p = close + 1;
		} else {
			p++;
		}
		if (len + addn + 1 > cap) {
			char *o;

			if (len + addn + 1 > CONF_MAX_VALUE) {
				free(out);
				return conf_err(c, "%s:%d: %s: value too long after expansion",
						n->file, n->line, path);
			}
			cap = (len + addn + 1) * 2;
			o = realloc(out, cap);
			if (!o) {
				free(out);
				return PB_ENOMEM;
			}
			out = o;
		}
		memcpy(out + len, add, addn);
		len += addn;
	}
	out[len] = '\0';
	free(n->value);
	n->value = out;
	n->quoted = 1; /* an expanded value is text */
	return 0;
}

static int expand_tree(struct pb_conf *c, struct pb_conf_node *n, char *path,
		       size_t plen, size_t cap)
{
	struct pb_conf_node *k;
	int rc, i = 0;

	if (n->kind == PB_CONF_SCALAR)
		return n->value ? expand_value(c, n, path) : 0;
	for (k = n->child; k; k = k->next, i++) {
		int w = k->key ? snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", k->key)
			       : snprintf(path + plen, cap - plen, "%s%d", plen ? "." : "", i);
		size_t nl = plen + (w > 0 ? (size_t)w : 0);

		if (nl >= cap)
			nl = cap - 1;
		rc = expand_tree(c, k, path, nl, cap);
		path[plen] = '\0';
		if (rc < 0)
			return rc;
	}
	return 0;
}

int pb_conf_expand(struct pb_conf *c)
{
	char path[512] = "";

	return expand_tree(c, c->root, path, 0, sizeof(path));
}

/* ---- values ---- */

int pb_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "y", "1" };
	static const char *const no[] = { "false", "no", "off", "n", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int pb_parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

int pb_parse_duration(const char *s, int64_t *out)
{
	double total = 0;
	const char *p = s;
	char *end;

	if (!strcmp(s, "-1")) {
		*out = -1;
		return 0;
	}
	while (*p == ' ')
		p++;
	if (!*p)
		return -1;
	/* a bare number is seconds */
	/* (the comparisons are written to be false for NaN, and the result
	 * must stay below 2^63 ns to convert to int64_t) */
	{
		double v = strtod(p, &end);

		if (end != p && !*end) {
			if (!(v >= 0 && v * 1e9 < 9223372036854775808.0))
				return -1;
			*out = (int64_t)(v * 1e9);
			return 0;
		}
	}
	while (*p) {
		double v = strtod(p, &end), mult;

		if (end == p || !(v >= 0))
			return -1;
		p = end;
		if (!strncmp(p, "ns", 2)) mult = 1, p += 2;
		else if (!strncmp(p, "us", 2)) mult = 1e3, p += 2;
		else if (!strncmp(p, "ms", 2)) mult = 1e6, p += 2;
		else if (*p == 's') mult = 1e9, p++;
		else if (*p == 'm') mult = 60e9, p++;
		else if (*p == 'h') mult = 3600e9, p++;
		else return -1;
		total += v * mult;
		if (!(total < 9223372036854775808.0))
			return -1;
	}
	*out = (int64_t)total;
	return 0;
}

int pb_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *unit; double mult; } units[] = {
		{ "", 1 }, { "b", 1 },
		{ "k", 1e3 }, { "kb", 1e3 }, { "kib", 1024.0 },
		{ "m", 1e6 }, { "mb", 1e6 }, { "mib", 1048576.0 },
		{ "g", 1e9 }, { "gb", 1e9 }, { "gib", 1073741824.0 },
	};
	char *end;
	double v = strtod(s, &end);
	size_t i;

	if (end == s || !(v >= 0)) /* false for NaN too */
		return -1;
	while (*end == ' ')
		end++;
	/* As Beats reads sizes: kb, mb, gb are powers of 1000 and kib,
	 * mib, gib powers of 1024, in any letter case. */
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(end, units[i].unit)) {
			double b = v * units[i].mult;

			if (b > 1.8e19)
				return -1;
			*out = (uint64_t)b;
			return 0;
		}
	return -1;
}

static const struct pb_conf_node *scalar(struct pb_conf *c, const char *path, int *rc)
{
	const struct pb_conf_node *n = pb_conf_get(c, path);

	*rc = 0;
	if (!n) {
		*rc = 1;
		return NULL;
	}
	if (n->kind != PB_CONF_SCALAR) {
		*rc = conf_err(c, "%s:%d: %s: expected a single value, not a %s",
			       n->file, n->line, path,
			       n->kind == PB_CONF_MAP ? "map" : "list");
		return NULL;
	}
	return n;
}

int pb_conf_str(struct pb_conf *c, const char *path, const char **out)
{
	int rc;
	const struct pb_conf_node *n = scalar(c, path, &rc);

	if (n)
		*out = n->value;
	return rc;
}

int pb_conf_fail(struct pb_conf *c, const char *path, const char *why)
{
	const struct pb_conf_node *n = pb_conf_get(c, path);

	if (n && n->file)
		return conf_err(c, "%s:%d: %s: %s", n->file, n->line, path, why);
	return conf_err(c, "%s: %s", path, why);
}

#define PB_CONF_GETTER(fn, type, parse, what)                                   \
	int fn(struct pb_conf *c, const char *path, type *out)                  \
	{                                                                       \
		int rc;                                                         \
		const struct pb_conf_node *n = scalar(c, path, &rc);            \
		if (!n)                                                         \
			return rc;                                              \
		if (parse(n->value, out) < 0)                                   \
			return conf_err(c, "%s:%d: %s: '%s' is not " what,      \
					n->file, n->line, path, n->value);      \
		return 0;                                                       \
	}

PB_CONF_GETTER(pb_conf_bool, int, pb_parse_bool, "true or false")
PB_CONF_GETTER(pb_conf_int, int64_t, pb_parse_int, "an integer")
PB_CONF_GETTER(pb_conf_duration, int64_t, pb_parse_duration, "a duration (like 10s or 500ms)")
PB_CONF_GETTER(pb_conf_size, uint64_t, pb_parse_size, "a size (like 10mb or 4096)")
