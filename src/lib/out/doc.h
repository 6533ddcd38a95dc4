/*
 * doc.h - what every writer of pb-export needs from an event: its fields
 * (nested or dotted keys alike), its time, its canonical text and the
 * deterministic id derived from that text.
 *
 * The canonical text of an event is its JSON with nested objects (a
 * dotted key "a.b" becomes {"a":{"b":...}}), keys in the order they came,
 * and no white space outside strings.  pb-txn's own lines are already
 * canonical and are used as they are; only other spellings cost a
 * re-serialisation.  The event id is the first 16 bytes of the SHA-256 of
 * the canonical text in unpadded base64url (22 characters): the same
 * event gives the same id in SQLite (events.id) and Elasticsearch (_id),
 * whatever run, machine or spelling it came from.
 */
#ifndef PB_OUT_DOC_H
#define PB_OUT_DOC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/time.h"

#define PB_OUT_ID_LEN 22

/* The value at a dotted path ("http.response.status_code"), whether the
 * event spells it nested, dotted, or a mix of both; NULL when absent. */
const cJSON *pb_out_field(const cJSON *root, const char *path);
/* The same for an event known to be nested (after pb_out_canon()):
 * faster, as an absent field costs one walk. */
const cJSON *pb_out_field_nested(const cJSON *root, const char *path);
/* The field as a string (NULL when absent or not a string). */
const char *pb_out_str(const cJSON *root, const char *path);
/* The field as an integer: 1 and *v set when it is a whole number (or a
 * string of digits, as ECS spells some numbers), else 0. */
int pb_out_int(const cJSON *root, const char *path, int64_t *v);
/* The same for a value in hand. */
int pb_out_json_int(const cJSON *v, int64_t *x);

/* The event's @timestamp: 0, or PB_EINVAL when absent or unreadable. */
int pb_out_time(const cJSON *root, struct pb_time *t);

/*
 * The canonical text of the event obj, read from the line text[0..len):
 * *out and *outlen point at the line itself when it is canonical, or at
 * scratch (cleared first) holding the canonical form.  obj may be
 * rewritten (dotted keys nested).  0, or PB_ENOMEM.
 */
int pb_out_canon(cJSON *obj, const char *text, size_t len, struct pb_buf *scratch,
		 const char **out, size_t *outlen);

/* The event id of a canonical text: PB_OUT_ID_LEN characters and a NUL. */
int pb_out_event_id(const char *canon, size_t len, char id[PB_OUT_ID_LEN + 1]);

#endif
