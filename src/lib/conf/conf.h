/*
 * conf.h - the packetbeat.yml subset pbtools reads (pb-config(5)).
 *
 * The file is read with libyaml into a tree that remembers each node's
 * file and line.  Dotted keys ("packetbeat.interfaces.file: x") are split
 * into nested maps, as Beats does.  -E key=value overrides are parsed as
 * YAML values and merged over the file.  ${VAR} and ${VAR:default} expand
 * from the environment.  pb_conf_check() compares the tree with the schema
 * table: unknown keys draw a warning naming file, line and key; values of
 * the wrong type are errors naming the same.
 */
#ifndef PB_CONF_H
#define PB_CONF_H

#include <stddef.h>
#include <stdint.h>

enum pb_conf_kind { PB_CONF_SCALAR, PB_CONF_MAP, PB_CONF_SEQ };

struct pb_conf_node {
	enum pb_conf_kind kind;
	char *key;                  /* key in the parent map, or NULL */
	char *value;                /* scalars: text after ${} expansion */
	int quoted;                 /* scalar was quoted in YAML */
	const char *file;           /* "-E" for overrides */
	int line;
	struct pb_conf_node *child; /* first child of a map or sequence */
	struct pb_conf_node *last;
	struct pb_conf_node *next;  /* next sibling */
};

struct pb_conf {
	struct pb_conf_node *root;  /* a map; never NULL after init */
	char *file;                 /* the loaded file, or NULL */
	char err[512];              /* the last error, file:line: key: why */
};

int pb_conf_init(struct pb_conf *c);
void pb_conf_release(struct pb_conf *c);

/* Load a YAML file; PB_EUSAGE with c->err on failure. */
int pb_conf_load_file(struct pb_conf *c, const char *path);
/* Load YAML from a string (tests); name is used in messages. */
int pb_conf_load_string(struct pb_conf *c, const char *name, const char *yaml);
/* Apply one -E key=value override. */
int pb_conf_set(struct pb_conf *c, const char *assignment);
/* Expand ${VAR} and ${VAR:default} in every scalar. */
int pb_conf_expand(struct pb_conf *c);
/* Check the tree against the schema: warnings printed, errors returned. */
int pb_conf_check(struct pb_conf *c);

/* Node at a dotted path ("packetbeat.interfaces.snaplen"; a number picks
 * an element of a sequence), or NULL. */
const struct pb_conf_node *pb_conf_get(const struct pb_conf *c, const char *path);
const struct pb_conf_node *pb_conf_child(const struct pb_conf_node *n, const char *key);

/* Typed getters: 0 and *out set, 1 when absent (out untouched), or
 * PB_EUSAGE with c->err naming file, line and key. */
int pb_conf_str(struct pb_conf *c, const char *path, const char **out);
int pb_conf_bool(struct pb_conf *c, const char *path, int *out);
int pb_conf_int(struct pb_conf *c, const char *path, int64_t *out);
/* Durations: "10s", "500ms", "1m30s", "2h", a bare number of seconds,
 * or -1; the result is in nanoseconds (negative for -1). */
int pb_conf_duration(struct pb_conf *c, const char *path, int64_t *out_ns);
/* Sizes: "10mb", "5 KiB", "1024"; the result is in bytes. */
int pb_conf_size(struct pb_conf *c, const char *path, uint64_t *out);

/* A value the caller found wrong: c->err becomes "file:line: path: why"
 * (or "path: why" when absent); returns PB_EUSAGE. */
int pb_conf_fail(struct pb_conf *c, const char *path, const char *why);

/* Value parsers shared with the typed getters (0 or -1). */
int pb_parse_bool(const char *s, int *out);
int pb_parse_int(const char *s, int64_t *out);
int pb_parse_duration(const char *s, int64_t *out_ns);
int pb_parse_size(const char *s, uint64_t *out);

#endif
