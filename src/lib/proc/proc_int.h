/*
 * proc_int.h - what the processor files share inside src/lib/proc.
 */
#ifndef PB_PROC_INT_H
#define PB_PROC_INT_H

#include <stdarg.h>

#include "proc/proc.h"

/* A YAML scalar as a JSON value, typed as Beats' configuration reader
 * types it: unquoted true/false, numbers and null keep their type,
 * anything quoted or else is a string.  Maps and lists recursively. */
cJSON *pb_proc_conf_json(const struct pb_conf_node *n);

/* c->err = "file:line: path: why" (n may be NULL); returns PB_EUSAGE. */
int pb_proc_conf_err(struct pb_conf *c, const struct pb_conf_node *n,
		     const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The string shorthand of a condition ("not.equals.type: flow"), read
 * as YAML into tmp, whose nodes are relabelled with n's file and line;
 * the caller releases tmp.  Returns its root or NULL (c->err set). */
const struct pb_conf_node *pb_proc_conf_shorthand(struct pb_conf *c, struct pb_conf *tmp,
						  const struct pb_conf_node *n,
						  const char *path);

/* An address in text: 4 or 16 bytes in out, IPv4-mapped IPv6 made
 * IPv4 (as Go's net.IP treats it); returns the length, or 0. */
int pb_proc_parse_ip(const char *s, unsigned char out[16]);


/* ---- processors: how each kind plugs into the chain ---- */

/* Largest event text a processor serialises for itself (add_id). */
#define PB_MAX_EVENT_TEXT (128u << 20)

#define PB_PROC_FAIL (-1)
#define PB_PROC_OK 0
#define PB_PROC_DROP 1

struct pb_proc;

/* What a processor's compile step gets: the configuration (for its
 * messages) and the path of the processor ("processors.2.rename"). */
struct pb_proc_cc {
	struct pb_conf *c;
	const char *path;
	const struct pb_conf_node *n;  /* the processor's map (never NULL) */
};

struct pb_proc_type {
	const char *name;
	/* the keys it takes besides when, ignore_missing, fail_on_error */
	const char *const *keys;
	int fail_on_error;           /* its default */
	int (*compile)(struct pb_proc_cc *cc, struct pb_proc *p);
	/* PB_PROC_OK, PB_PROC_DROP, or PB_PROC_FAIL with err filled */
	int (*run)(struct pb_proc *p, cJSON *ev, char *err, size_t errlen);
	void (*free)(struct pb_proc *p);
};

struct pb_proc {
	const struct pb_proc_type *type;
	struct pb_cond *when;
	int ignore_missing, fail_on_error;
	int backup;                  /* changes several fields: undo on failure */
	void *priv;
};

/* Typed options of a processor's map: 0 set, 1 absent, PB_EUSAGE. */
int pb_proc_opt_str(struct pb_proc_cc *cc, const char *key, const char **out);
int pb_proc_opt_bool(struct pb_proc_cc *cc, const char *key, int *out);
int pb_proc_opt_int(struct pb_proc_cc *cc, const char *key, int64_t *out);
/* A string or a list of strings: a NULL-terminated array (free with
 * pb_proc_strv_free), *n its length. */
int pb_proc_opt_strs(struct pb_proc_cc *cc, const char *key, char ***out, int *n);
void pb_proc_strv_free(char **v);
/* Fail at the processor's key (or the processor when key is NULL). */
int pb_proc_fail(struct pb_proc_cc *cc, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The processor kinds in each file. */
extern const struct pb_proc_type pb_proc_community_id, pb_proc_network_direction,
	pb_proc_add_geoip, pb_proc_add_asn;
extern const struct pb_proc_type pb_proc_truncate_fields, pb_proc_convert,
	pb_proc_replace, pb_proc_urldecode, pb_proc_decode_base64_field,
	pb_proc_decode_json_fields, pb_proc_dissect, pb_proc_fingerprint,
	pb_proc_add_id, pb_proc_registered_domain;
extern const struct pb_proc_type pb_proc_add_host_metadata, pb_proc_dns;

/* Add tags to the array at key (made when absent); 0 or -1. */
int pb_proc_add_tags(cJSON *ev, const char *key, char *const *tags, int n);

/* From/to pairs ("fields: [{from: a, to: b}]"), shared by rename,
 * copy_fields, urldecode, convert. */
struct pb_proc_pair {
	char *from, *to, *type;
};
int pb_proc_opt_pairs(struct pb_proc_cc *cc, const char *key, int need_to,
		      struct pb_proc_pair **out, int *n);
void pb_proc_pairs_free(struct pb_proc_pair *p, int n);

#endif
