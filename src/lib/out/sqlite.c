/*
 * sqlite.c - events into SQLite (see sqlite.h and pb-sqlite(5)).
 */
#include "out/sqlite.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "out/doc.h"
#include "pb.h"
#include "util/log.h"
#include "util/banned.h"

enum col_kind { K_TEXT, K_INT, K_BOOL };

/* The typed columns, in table order, and where each comes from: the
 * first of its paths the event has.  Documented in pb-sqlite(5): keep the
 * two in step. */
static const struct col {
	const char *name, *decl;
	enum col_kind kind;
	const char *paths[3];
} cols[] = {
	{ "type", "TEXT", K_TEXT, { "type", "event.dataset" } },
	{ "status", "TEXT", K_TEXT, { "status" } },
	{ "method", "TEXT", K_TEXT, { "method" } },
	{ "query", "TEXT", K_TEXT, { "query" } },
	{ "path", "TEXT", K_TEXT, { "path", "url.path" } },
	{ "src_ip", "TEXT", K_TEXT, { "source.ip", "client.ip" } },
	{ "src_port", "INTEGER", K_INT, { "source.port", "client.port" } },
	{ "dst_ip", "TEXT", K_TEXT, { "destination.ip", "server.ip" } },
	{ "dst_port", "INTEGER", K_INT, { "destination.port", "server.port" } },
	{ "transport", "TEXT", K_TEXT, { "network.transport" } },
	{ "protocol", "TEXT", K_TEXT, { "network.protocol" } },
	{ "community_id", "TEXT", K_TEXT, { "network.community_id" } },
	{ "http_status", "INTEGER", K_INT, { "http.response.status_code" } },
	{ "dns_rcode", "TEXT", K_TEXT, { "dns.response_code" } },
	{ "error_code", "TEXT", K_TEXT, { "mysql.error_code", "pgsql.error_code" } },
	{ "error_message", "TEXT", K_TEXT,
	  { "mysql.error_message", "pgsql.error_message", "error.message" } },
	{ "duration", "INTEGER", K_INT, { "event.duration" } },
	{ "bytes", "INTEGER", K_INT, { "network.bytes" } },
	{ "src_bytes", "INTEGER", K_INT, { "source.bytes", "client.bytes" } },
	{ "dst_bytes", "INTEGER", K_INT, { "destination.bytes", "server.bytes" } },
	{ "packets", "INTEGER", K_INT, { "network.packets" } },
	{ "src_packets", "INTEGER", K_INT, { "source.packets" } },
	{ "dst_packets", "INTEGER", K_INT, { "destination.packets" } },
	{ "first_packet", "INTEGER", K_INT, { "pb.packet.first", "packet.index" } },
	{ "last_packet", "INTEGER", K_INT, { "pb.packet.last", "packet.index" } },
	{ "final", "INTEGER", K_BOOL, { "flow.final" } },
};
#define N_COLS (sizeof(cols) / sizeof(cols[0]))

/*
 * Version 1 of the schema.  A later version adds a step to `upgrades`
 * below; the tables here stay as version 1 made them, so that a file of
 * any version goes up one step at a time.  Views are not versioned: they
 * are dropped and made again at each open, so a file always has the
 * views of the pb-export writing to it.
 */
static const char schema_v1[] =
	"CREATE TABLE events (\n"
	"  rowid INTEGER PRIMARY KEY,\n"
	"  id TEXT NOT NULL UNIQUE,\n"
	"  ts INTEGER,\n"
	"  timestamp TEXT,\n"
	"  type TEXT,\n"
	"  status TEXT,\n"
	"  method TEXT,\n"
	"  query TEXT,\n"
	"  path TEXT,\n"
	"  src_ip TEXT,\n"
	"  src_port INTEGER,\n"
	"  dst_ip TEXT,\n"
	"  dst_port INTEGER,\n"
	"  transport TEXT,\n"
	"  protocol TEXT,\n"
	"  community_id TEXT,\n"
	"  http_status INTEGER,\n"
	"  dns_rcode TEXT,\n"
	"  error_code TEXT,\n"
	"  error_message TEXT,\n"
	"  duration INTEGER,\n"
	"  bytes INTEGER,\n"
	"  src_bytes INTEGER,\n"
	"  dst_bytes INTEGER,\n"
	"  packets INTEGER,\n"
	"  src_packets INTEGER,\n"
	"  dst_packets INTEGER,\n"
	"  first_packet INTEGER,\n"
	"  last_packet INTEGER,\n"
	"  final INTEGER,\n"
	"  doc TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX events_ts ON events(ts);\n"
	"CREATE INDEX events_src_ip ON events(src_ip);\n"
	"CREATE INDEX events_dst_ip ON events(dst_ip);\n"
	"CREATE INDEX events_src_port ON events(src_port);\n"
	"CREATE INDEX events_dst_port ON events(dst_port);\n"
	"CREATE INDEX events_community_id ON events(community_id);\n"
	"CREATE INDEX events_type ON events(type, ts);\n";

static const char views[] =
	"DROP VIEW IF EXISTS top_talkers;\n"
	"DROP VIEW IF EXISTS http_slowest;\n"
	"DROP VIEW IF EXISTS dns_failures;\n"
	"DROP VIEW IF EXISTS sql_errors;\n"
	"DROP VIEW IF EXISTS conversations;\n"
	/* Flow counters count from the start of the flow, so only final
	 * reports are summed; each flow is counted once. */
	"CREATE VIEW top_talkers AS\n"
	"  SELECT ip, sum(sent) AS bytes_sent, sum(received) AS bytes_received,\n"
	"         sum(sent) + sum(received) AS bytes, count(*) AS flows\n"
	"  FROM (SELECT src_ip AS ip, src_bytes AS sent, dst_bytes AS received\n"
	"          FROM events WHERE type = 'flow' AND final = 1\n"
	"        UNION ALL\n"
	"        SELECT dst_ip, dst_bytes, src_bytes\n"
	"          FROM events WHERE type = 'flow' AND final = 1)\n"
	"  WHERE ip IS NOT NULL\n"
	"  GROUP BY ip ORDER BY bytes DESC, ip;\n"
	"CREATE VIEW http_slowest AS\n"
	"  SELECT method, path, count(*) AS requests,\n"
	"         round(avg(duration) / 1e6, 3) AS avg_ms,\n"
	"         round(max(duration) / 1e6, 3) AS max_ms,\n"
	"         sum(http_status >= 500) AS server_errors\n"
	"  FROM events WHERE type = 'http' AND duration IS NOT NULL\n"
	"  GROUP BY method, path ORDER BY avg_ms DESC, method, path;\n"
	/* failed: an rcode other than NOERROR, or no answer at all (then
	 * status is Error and error_message says why) */
	"CREATE VIEW dns_failures AS\n"
	"  SELECT json_extract(doc, '$.dns.question.name') AS name,\n"
	"         json_extract(doc, '$.dns.question.type') AS qtype,\n"
	"         CASE WHEN coalesce(dns_rcode, 'NOERROR') = 'NOERROR'\n"
	"              THEN coalesce(error_message, 'no response')\n"
	"              ELSE dns_rcode END AS failure,\n"
	"         count(*) AS queries,\n"
	"         min(timestamp) AS first_seen, max(timestamp) AS last_seen\n"
	"  FROM events\n"
	"  WHERE type = 'dns' AND (status IS NOT 'OK' OR dns_rcode IS NULL\n"
	"                          OR dns_rcode <> 'NOERROR')\n"
	"  GROUP BY name, qtype, failure ORDER BY queries DESC, name, qtype;\n"
	"CREATE VIEW sql_errors AS\n"
	"  SELECT timestamp, type, src_ip AS client_ip, dst_ip AS server_ip,\n"
	"         query, error_code, error_message, community_id\n"
	"  FROM events\n"
	"  WHERE type IN ('mysql', 'pgsql')\n"
	"    AND (error_code IS NOT NULL OR status = 'Error')\n"
	"  ORDER BY ts;\n"
	"CREATE VIEW conversations AS\n"
	"  SELECT community_id, min(src_ip) AS ip_a, max(dst_ip) AS ip_b,\n"
	"         group_concat(DISTINCT type) AS types, count(*) AS events,\n"
	"         min(timestamp) AS first_seen, max(timestamp) AS last_seen\n"
	"  FROM events WHERE community_id IS NOT NULL\n"
	"  GROUP BY community_id ORDER BY events DESC, community_id;\n";

/* Upgrades: upgrades[v] takes a file from version v to v + 1.  None yet:
 * version 1 is the first. */
static const char *const upgrades[PB_SQLITE_SCHEMA_VERSION] = { NULL };

struct pb_sqlite {
	sqlite3 *db;
	sqlite3_stmt *ins;
	char *path;
	uint32_t batch, in_batch;
	int open_tx;
	int failed;
	struct pb_sqlite_stats st;
	char num[N_COLS][24];
};

void pb_sqlite_opts_init(struct pb_sqlite_opts *o)
{
	o->batch = PB_SQLITE_BATCH;
	o->busy_ms = 5000;
}

const char *pb_sqlite_schema_sql(void)
{
	return schema_v1;
}

static int fail(struct pb_sqlite *s, const char *what)
{
	pb_error("%s '%s': %s", what, s->path, sqlite3_errmsg(s->db));
	return PB_EIO;
}

static int exec(struct pb_sqlite *s, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		pb_error("%s '%s': %s", what, s->path, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return PB_EIO;
	}
	return 0;
}

static int pragma_int(struct pb_sqlite *s, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, "cannot read");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return fail(s, "cannot read");
	return 0;
}

/* Bring the schema to the current version, or refuse the file. */
static int setup_schema(struct pb_sqlite *s)
{
	int64_t app, ver, objects;
	char sql[128];

	if (exec(s, "BEGIN IMMEDIATE", "cannot lock") < 0)
		return PB_EIO;
	if (pragma_int(s, "PRAGMA application_id", &app) < 0 ||
	    pragma_int(s, "PRAGMA user_version", &ver) < 0 ||
	    pragma_int(s, "SELECT count(*) FROM sqlite_master", &objects) < 0)
		goto rollback;
	if (objects == 0 && ver == 0) {
		/* a new (or empty) file */
		if (exec(s, schema_v1, "cannot create the tables in") < 0)
			goto rollback;
		ver = 1;
	} else if (app != PB_SQLITE_APP_ID) {
		pb_error("'%s' is not a pbtools database (application_id %" PRId64
			 ", %" PRId64 " schema objects): refusing to write to it",
			 s->path, app, objects);
		goto refuse;
	} else if (ver > PB_SQLITE_SCHEMA_VERSION) {
		pb_error("'%s' has schema version %" PRId64 ", newer than this "
			 "pb-export knows (%d): use a newer pb-export", s->path, ver,
			 PB_SQLITE_SCHEMA_VERSION);
		goto refuse;
	} else if (ver < 1) {
		pb_error("'%s' has schema version %" PRId64 ", which no pb-export "
			 "wrote: refusing to write to it", s->path, ver);
		goto refuse;
	}
	while (ver < PB_SQLITE_SCHEMA_VERSION) {
		pb_info("'%s': upgrading the schema from version %" PRId64, s->path, ver);
		if (exec(s, upgrades[ver], "cannot upgrade the schema of") < 0)
			goto rollback;
		ver++;
	}
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d;",
		 PB_SQLITE_APP_ID, PB_SQLITE_SCHEMA_VERSION);
	if (exec(s, sql, "cannot write the schema version to") < 0 ||
	    exec(s, views, "cannot create the views in") < 0 ||
	    exec(s, "COMMIT", "cannot write") < 0)
		goto rollback;
	return 0;
refuse:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return PB_EFORMAT;
rollback:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return PB_EIO;
}

int pb_sqlite_open(struct pb_sqlite **out, const char *path,
		   const struct pb_sqlite_opts *o)
{
	struct pb_sqlite *s;
	char sql[1024];
	size_t i, n;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		pb_error("out of memory");
		return PB_ENOMEM;
	}
	s->batch = o->batch ? o->batch : PB_SQLITE_BATCH;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		rc = fail(s, "cannot open");
		goto err;
	}
	sqlite3_extended_result_codes(s->db, 0);
	sqlite3_busy_timeout(s->db, o->busy_ms);
	/* WAL: a commit is one append, and a crash (kill -9) can only lose
	 * the batch being written.  synchronous=NORMAL is safe against a
	 * killed process in WAL mode; only power loss can lose the last
	 * commits, which a re-run of the import restores. */
	{
		sqlite3_stmt *st;
		const unsigned char *mode = NULL;

		if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) !=
		    SQLITE_OK) {
			rc = fail(s, "cannot open");
			goto err;
		}
		if (sqlite3_step(st) == SQLITE_ROW)
			mode = sqlite3_column_text(st, 0);
		if (!mode || strcmp((const char *)mode, "wal")) {
			sqlite3_finalize(st);
			rc = fail(s, "cannot use write-ahead logging with");
			goto err;
		}
		sqlite3_finalize(st);
	}
	/* 128 MiB of page cache holds the seven indexes of a few million
	 * rows, whose pages random keys (ids, addresses) touch everywhere;
	 * checkpoints every 64 MiB of log instead of 4 write each hot index
	 * page once per checkpoint rather than many times */
	if ((rc = exec(s, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-131072;"
		       "PRAGMA wal_autocheckpoint=16384; PRAGMA temp_store=MEMORY;",
		       "cannot set up")) < 0)
		goto err;
	if ((rc = setup_schema(s)) < 0)
		goto err;
	n = (size_t)snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO events "
			     "(id, ts, timestamp");
	for (i = 0; i < N_COLS; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", %s", cols[i].name);
	n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", doc) VALUES (?, ?, ?");
	for (i = 0; i < N_COLS; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", ?");
	snprintf(sql + n, sizeof(sql) - n, ", ?)");
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->ins, NULL) !=
	    SQLITE_OK) {
		rc = fail(s, "cannot prepare the insert into");
		goto err;
	}
	*out = s;
	return 0;
err:
	sqlite3_close(s->db);
	free(s->path);
	free(s);
	return rc;
}

static void bind_col(struct pb_sqlite *s, const cJSON *ev, size_t c, int param)
{
	const struct col *col = &cols[c];
	const cJSON *v = NULL;
	int i;

	for (i = 0; i < 3 && col->paths[i] && !v; i++)
		v = pb_out_field_nested(ev, col->paths[i]);
	if (!v) {
		sqlite3_bind_null(s->ins, param);
		return;
	}
	switch (col->kind) {
	case K_TEXT:
		if (cJSON_IsString(v)) {
			sqlite3_bind_text(s->ins, param, v->valuestring, -1, SQLITE_STATIC);
		} else if (cJSON_IsNumber(v) && v->valuedouble == (double)(int64_t)v->valuedouble) {
			snprintf(s->num[c], sizeof(s->num[c]), "%" PRId64, (int64_t)v->valuedouble);
			sqlite3_bind_text(s->ins, param, s->num[c], -1, SQLITE_STATIC);
		} else {
			sqlite3_bind_null(s->ins, param);
		}
		return;
	case K_INT: {
		int64_t x;

		/* strings of digits count too ("ttl":"600") */
		if (pb_out_json_int(v, &x))
			sqlite3_bind_int64(s->ins, param, x);
		else
			sqlite3_bind_null(s->ins, param);
		return;
	}
	case K_BOOL:
		if (cJSON_IsBool(v))
			sqlite3_bind_int(s->ins, param, cJSON_IsTrue(v));
		else
			sqlite3_bind_null(s->ins, param);
		return;
	}
}

int pb_sqlite_add(struct pb_sqlite *s, const cJSON *ev, const char *canon,
		  size_t len, const char *id)
{
	struct pb_time t;
	const char *ts;
	size_t c;
	int rc;

	if (s->failed)
		return PB_EIO;
	if (!s->open_tx) {
		if (exec(s, "BEGIN IMMEDIATE", "cannot write to") < 0) {
			s->failed = 1;
			return PB_EIO;
		}
		s->open_tx = 1;
	}
	sqlite3_bind_text(s->ins, 1, id, PB_OUT_ID_LEN, SQLITE_STATIC);
	ts = pb_out_str(ev, "@timestamp");
	if (ts && pb_time_parse(ts, strlen(ts), &t) == 0) {
		sqlite3_bind_int64(s->ins, 2, pb_time_ns(&t));
	} else {
		sqlite3_bind_null(s->ins, 2);
		s->st.no_time++;
	}
	if (ts)
		sqlite3_bind_text(s->ins, 3, ts, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s->ins, 3);
	for (c = 0; c < N_COLS; c++)
		bind_col(s, ev, c, (int)c + 4);
	sqlite3_bind_text(s->ins, (int)N_COLS + 4, canon, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s->ins);
	sqlite3_reset(s->ins);
	if (rc != SQLITE_DONE) {
		fail(s, "cannot write to");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		s->open_tx = 0;
		s->failed = 1;
		return PB_EIO;
	}
	if (sqlite3_changes(s->db) > 0) {
		s->st.inserted++;
		rc = 0;
	} else {
		s->st.duplicates++;
		rc = 1;
	}
	if (++s->in_batch >= s->batch && pb_sqlite_commit(s) < 0)
		return PB_EIO;
	return rc;
}

int pb_sqlite_commit(struct pb_sqlite *s)
{
	if (s->failed)
		return PB_EIO;
	if (!s->open_tx)
		return 0;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(s, "cannot write to");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		s->open_tx = 0;
		s->failed = 1;
		return PB_EIO;
	}
	s->open_tx = 0;
	s->in_batch = 0;
	s->st.batches++;
	return 0;
}

const struct pb_sqlite_stats *pb_sqlite_stats(const struct pb_sqlite *s)
{
	return &s->st;
}

int pb_sqlite_close(struct pb_sqlite *s)
{
	int rc = 0;

	if (!s)
		return 0;
	if (!s->failed)
		rc = pb_sqlite_commit(s);
	else
		rc = PB_EIO;
	sqlite3_finalize(s->ins);
	/* fold the WAL back into the file, so the database is one file
	 * again for whoever copies it next */
	if (rc == 0 && sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
						 NULL, NULL) != SQLITE_OK &&
	    sqlite3_errcode(s->db) != SQLITE_BUSY)
		rc = fail(s, "cannot write to");
	if (sqlite3_close(s->db) != SQLITE_OK && rc == 0)
		rc = fail(s, "cannot close");
	free(s->path);
	free(s);
	return rc;
}
