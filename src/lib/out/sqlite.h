/*
 * sqlite.h - events into an SQLite database (pb-sqlite(5)).
 *
 * One table, events: typed columns for the fields analysts filter and
 * group on, the whole canonical document beside them in doc, and the
 * event id (doc.h) unique, so importing the same events again adds
 * nothing.  Rows go in through one prepared statement, in batches of
 * `batch` rows, each batch one transaction of a database in WAL mode: a
 * process killed in the middle leaves whole batches, and running the
 * same import again completes it.
 *
 * The schema version is PRAGMA user_version, and PRAGMA application_id
 * marks the file as pbtools'.  Opening an older file upgrades it (in one
 * transaction); a newer one, or another program's, is refused.
 */
#ifndef PB_OUT_SQLITE_H
#define PB_OUT_SQLITE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define PB_SQLITE_SCHEMA_VERSION 1
#define PB_SQLITE_APP_ID 0x70627462  /* "pbtb" */
#define PB_SQLITE_BATCH 10000        /* rows per transaction by default */

struct pb_sqlite_opts {
	uint32_t batch;     /* rows per transaction (1 or more) */
	int busy_ms;        /* wait this long for a lock held by another */
};

struct pb_sqlite_stats {
	uint64_t inserted;  /* new rows */
	uint64_t duplicates;/* events already in the database */
	uint64_t no_time;   /* stored without a readable @timestamp */
	uint64_t batches;   /* transactions committed */
};

struct pb_sqlite;

void pb_sqlite_opts_init(struct pb_sqlite_opts *o);
/* Open or create path, upgrading its schema; errors are reported
 * ("cannot open 'x.db': ...") and returned as PB_EIO or PB_EFORMAT. */
int pb_sqlite_open(struct pb_sqlite **out, const char *path,
		   const struct pb_sqlite_opts *o);
/* Add one event (ev: as pb_out_canon() left it, nested; canon: its
 * canonical text; id: its id, doc.h).
 * 0 inserted, 1 already there, or PB_EIO (reported; the open batch is
 * rolled back and nothing more can be added). */
int pb_sqlite_add(struct pb_sqlite *s, const cJSON *ev, const char *canon,
		  size_t len, const char *id);
/* Commit the open batch: 0 or PB_EIO (reported). */
int pb_sqlite_commit(struct pb_sqlite *s);
const struct pb_sqlite_stats *pb_sqlite_stats(const struct pb_sqlite *s);
/* Commit what is pending (unless failed), checkpoint and close: 0 or
 * PB_EIO (reported). */
int pb_sqlite_close(struct pb_sqlite *s);
/* The schema as SQL statements (for pb-sqlite(5) and tests). */
const char *pb_sqlite_schema_sql(void);

#endif
