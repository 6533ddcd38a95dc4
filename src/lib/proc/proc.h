/*
 * proc.h - Beats processors and conditions over events (pb-enrich(1),
 * PROCESSORS in pb-config(5)).
 *
 * An event is a cJSON object.  A processor list from the configuration
 * is compiled once into a chain (regular expressions compiled, MaxMind
 * databases opened, addresses parsed); running it on an event changes
 * the event in place and says whether it is kept.  As in Beats, a
 * processor that fails on an event records why in error.message and the
 * chain goes on with the next; fail_on_error: false makes it ignore the
 * failure instead.  Compilation errors name file, line and key.
 *
 * Field names are dotted paths ("http.response.status_code") that match
 * nested objects, dotted keys ("http.response.status_code": 200 at the
 * top) or a mix of both, as event readers must accept both forms.
 *
 * Ownership: a chain owns everything it compiled; the event belongs to
 * the caller, and the chain only edits it.
 */
#ifndef PB_PROC_H
#define PB_PROC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "conf/conf.h"
#include "util/buf.h"

/* ---- field paths (fields.c) ---- */

/* The value at a dotted path, or NULL. */
cJSON *pb_proc_field_get(const cJSON *ev, const char *path);
/* Put v (owned by the event afterwards, also on failure) at path,
 * replacing what is there and making the objects in between; fails
 * (-1, v freed) when a part of the path holds something other than an
 * object. */
int pb_proc_field_put(cJSON *ev, const char *path, cJSON *v);
/* Detach the value at path: the caller owns it; NULL when absent. */
cJSON *pb_proc_field_take(cJSON *ev, const char *path);
/* Write ev as compact JSON and a newline: keys in their order, integral
 * numbers as integers, strings escaped as pb_json_str() does. */
int pb_proc_write_json(struct pb_buf *b, const cJSON *ev);

/* ---- conditions (cond.c) ---- */

struct pb_cond;

/* Compile the condition at n (a map such as {equals: {type: flow}}, or
 * the string shorthand "not.equals.type: flow"); path names it in
 * messages.  0, or PB_EUSAGE with c->err set. */
int pb_cond_compile(struct pb_cond **out, struct pb_conf *c,
		    const struct pb_conf_node *n, const char *path);
/* 1 when ev meets the condition. */
int pb_cond_eval(const struct pb_cond *cd, const cJSON *ev);
void pb_cond_free(struct pb_cond *cd);

/* Networks: CIDRs and Beats' named ranges (private, loopback, unicast,
 * global_unicast, multicast, link_local, link_local_unicast,
 * link_local_multicast, interface_local_multicast, unspecified, public). */
struct pb_proc_netset;
/* Add one network by name or CIDR; 0 or -1. */
int pb_proc_netset_add(struct pb_proc_netset **set, const char *spec);
/* 1 when the address (text) is in the set; 0 when not; -1 when ip is
 * not an address. */
int pb_proc_netset_match(const struct pb_proc_netset *set, const char *ip);
void pb_proc_netset_free(struct pb_proc_netset *set);

/* ---- chains (proc.c) ---- */

struct pb_proc_chain;

/* Compile the processor list at n (a sequence; a single map is taken as a
 * list of one).  *out is NULL for an empty list. */
int pb_proc_chain_compile(struct pb_proc_chain **out, struct pb_conf *c,
			  const struct pb_conf_node *n, const char *path);
/* Run the chain over ev: 1 to keep it, 0 when a processor dropped it. */
int pb_proc_chain_run(struct pb_proc_chain *ch, cJSON *ev);
void pb_proc_chain_free(struct pb_proc_chain *ch);

/*
 * A set: what a configuration asks to be done to each event, in Beats'
 * order: the event type's own fields and tags (packetbeat.protocols.<name>
 * or packetbeat.flows, picked by the event's "type"), the global fields
 * and tags, the type's processors, the global processors, then those
 * added with pb_proc_set_add_yaml() (the command-line shortcuts).
 */
struct pb_proc_set;

struct pb_proc_stats {
	uint64_t events;   /* events run */
	uint64_t dropped;  /* dropped by drop_event (or include/when) */
	uint64_t failed;   /* processor failures recorded (error.message) */
};

int pb_proc_set_load(struct pb_proc_set **out, struct pb_conf *c);
/* Compile a processor list written in YAML and append it to the global
 * chain; name stands for the file in messages (e.g. "--geoip"). */
int pb_proc_set_add_yaml(struct pb_proc_set *s, struct pb_conf *c,
			 const char *name, const char *yaml);
/* 1 when the set does something to events. */
int pb_proc_set_active(const struct pb_proc_set *s);
/* 1 keep, 0 dropped. */
int pb_proc_set_run(struct pb_proc_set *s, cJSON *ev);
/* One finished NDJSON line (with or without its newline) through the set,
 * written to out with a newline, or nothing when dropped.  A line that is
 * not a JSON object is written unchanged.  1 written, 0 dropped. */
int pb_proc_set_run_line(struct pb_proc_set *s, struct pb_buf *out,
			 const char *line, size_t n);
/* The records at b->data[start, b->len) (whole NDJSON lines, as a tool
 * just wrote them) through the set, in place: dropped lines go, the
 * others are rewritten.  Returns how many lines were kept. */
int pb_proc_set_run_tail(struct pb_proc_set *s, struct pb_buf *b, size_t start);
const struct pb_proc_stats *pb_proc_set_stats(const struct pb_proc_set *s);
void pb_proc_set_free(struct pb_proc_set *s);

/* Quote s as a YAML double-quoted scalar into out (for building
 * shortcut configurations); 0 or -1 when it does not fit. */
int pb_proc_yaml_quote(char *out, size_t n, const char *s);

#endif
