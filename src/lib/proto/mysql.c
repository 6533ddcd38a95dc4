/*
 * mysql.c - the MySQL and MariaDB client/server protocol over TCP: packet
 * framing (with 16 MiB continuations and the zlib compressed protocol),
 * the connection phase, commands and their responses, prepared
 * statements, and the fields of Packetbeat's "mysql" event.
 *
 * References: MySQL Internals / MySQL Source Code Documentation, "Client/
 * Server Protocol" (dev.mysql.com/doc/dev/mysql-server/latest/
 * PAGE_PROTOCOL.html): packets, basic types, connection phase
 * (Protocol::Handshake, HandshakeResponse41, SSLRequest, AuthSwitch),
 * text protocol (COM_QUERY, result sets), prepared statements
 * (COM_STMT_PREPARE, COM_STMT_EXECUTE, binary protocol value), OK, ERR and
 * EOF packets, compression; the MariaDB Knowledge Base, "Client/Server
 * Protocol" (mariadb.com/kb/en/clientserver-protocol/): extended
 * capabilities, progress reports, COM_STMT_EXECUTE with statement id -1.
 * RFC 1950 (zlib).  pb-proto-mysql(7) teaches all of it with the fields.
 *
 * Every message is one or more packets:
 *
 *   0       3     4
 *   +-------+-----+---------------------------+
 *   | len   | seq | payload (len bytes)       |   len: 24 bits, little endian
 *   +-------+-----+---------------------------+
 *   a payload of 0xffffff bytes goes on in the next packet (seq + 1), until
 *   a shorter one (maybe empty) ends the logical packet.
 *
 * With CLIENT_COMPRESS, after the login's OK, each direction is a stream
 * of compressed packets carrying those packets:
 *
 *   0        3      4        7
 *   +--------+------+--------+-------------------------------+
 *   | clen   | cseq | ulen   | zlib stream (ulen bytes when  |
 *   +--------+------+--------+ inflated), or raw if ulen = 0 |
 *                            +-------------------------------+
 *
 * A conversation:
 *
 *   server                                client
 *   Handshake v10 (seq 0) ------------->
 *                          <------------- HandshakeResponse41 (seq 1)
 *                                         (or SSLRequest, then TLS)
 *   [AuthSwitch 0xfe / more data 0x01 <-> auth data]
 *   OK 0x00 or ERR 0xff    ------------->           -- login event
 *                          <------------- command (seq 0): 0x03 COM_QUERY..
 *   OK | ERR | result set  ------------->           -- one event each
 *
 *   result set: column count (lenenc), column definitions, [EOF], rows,
 *   EOF or OK (0xfe); with SERVER_MORE_RESULTS_EXISTS another follows.
 *
 * Each direction is framed by mysql_feed() into logical packets (a
 * capped prefix kept, the rest counted), which go to the client's command
 * reader or the server's response reader.  Requests wait in a FIFO
 * (txn/queue.h); a response closes the oldest.
 */
#include "proto/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include "txn/queue.h"
#include "util/buf.h"
#include "util/cursor.h"
#include "util/json.h"
#include "util/banned.h"

/* ------------------------------------------------------------ limits */

/* Requests sent and not answered yet.  MySQL clients wait for each answer
 * (there is no pipelining), so more than a few means the responses were
 * lost; past the cap the oldest is written unanswered. */
#define MYSQL_MAX_PENDING 32
/* Prepared statements remembered per connection, and the bytes of their
 * SQL together: a client preparing forever (and never closing) evicts its
 * oldest statements instead of growing the connection. */
#define MYSQL_MAX_STMTS 256
#define MYSQL_MAX_STMT_BYTES (4u << 20)
/* Parameter types remembered per statement (for executions that do not
 * send them again); statements with more are executed without params. */
#define MYSQL_MAX_PARAMS 256
/* Column types kept per result set, to read binary rows (MySQL allows
 * 4096 columns per table). */
#define MYSQL_MAX_COLS 4096
/* Bytes kept of a server packet, beyond max_row_length: a row's length
 * prefixes (9 bytes each, at most 4096 columns) and a column definition. */
#define MYSQL_SRV_KEEP (64u << 10)
/* path ("db.table, db.table"), error and info texts, names */
#define MYSQL_MAX_PATH 1024
#define MYSQL_MAX_TEXT 4096
#define MYSQL_NAME 128
/* The text of the parameters of one execution. */
#define MYSQL_MAX_PARAM_TEXT (64u << 10)
/* The response text (send_response): the CSV of max_rows rows of at most
 * max_row_length bytes each, however those are set. */
#define MYSQL_MAX_CSV (16u << 20)
/* inflate output slice (compressed protocol) */
#define MYSQL_ZCHUNK 16384
/* bytes a resynchronising direction looks at before giving up a byte */
#define MYSQL_LOOK 12

/* Notes (error.message).  The first three are Packetbeat's words. */
static const char my_n_loss_rq[] = "Packet loss while capturing the request";
static const char my_n_loss_rs[] = "Packet loss while capturing the response";
static const char my_n_unknown[] = "The actual query being used is unknown";
static const char my_n_unm_rq[] = "Unmatched request";
static const char my_n_unm_rs[] = "Unmatched response";
static const char my_n_pipe[] = "Too many pending requests";
static const char my_n_inc_rs[] = "Response incomplete at end of stream";
static const char my_n_cut[] = "Query truncated to max_message_size";
static const char my_n_tls[] = "Session continues in TLS (SSLRequest): not decoded";
static const char my_n_zstd[] = "zstd compressed protocol: not decoded";
static const char my_n_zbad[] = "Invalid compressed packet: decoding stopped";
static const char my_n_params[] = "Parameters not decoded";
static const char my_n_attrs[] = "Query attributes not decoded";

/* ------------------------------------------------------ protocol codes */

/* capability flags (Protocol::CapabilityFlags) */
enum {
	CAP_LONG_PASSWORD = 0x1,
	CAP_CONNECT_WITH_DB = 0x8,
	CAP_COMPRESS = 0x20,
	CAP_PROTOCOL_41 = 0x200,
	CAP_SSL = 0x800,
	CAP_SECURE_CONNECTION = 0x8000,
	CAP_PLUGIN_AUTH = 0x80000,
	CAP_CONNECT_ATTRS = 0x100000,
	CAP_PLUGIN_AUTH_LENENC = 0x200000,
	CAP_SESSION_TRACK = 0x800000,
	CAP_DEPRECATE_EOF = 0x1000000,
	CAP_ZSTD = 0x4000000,
	CAP_QUERY_ATTRIBUTES = 0x8000000,
};

/* server status flags */
enum {
	ST_MORE_RESULTS = 0x0008,
	ST_CURSOR_EXISTS = 0x0040,
};

/* commands (the first byte of a request) */
enum {
	COM_SLEEP = 0x00, COM_QUIT = 0x01, COM_INIT_DB = 0x02, COM_QUERY = 0x03,
	COM_FIELD_LIST = 0x04, COM_CREATE_DB = 0x05, COM_DROP_DB = 0x06,
	COM_REFRESH = 0x07, COM_SHUTDOWN = 0x08, COM_STATISTICS = 0x09,
	COM_PROCESS_INFO = 0x0a, COM_CONNECT = 0x0b, COM_PROCESS_KILL = 0x0c,
	COM_DEBUG = 0x0d, COM_PING = 0x0e, COM_TIME = 0x0f,
	COM_DELAYED_INSERT = 0x10, COM_CHANGE_USER = 0x11, COM_BINLOG_DUMP = 0x12,
	COM_TABLE_DUMP = 0x13, COM_CONNECT_OUT = 0x14, COM_REGISTER_SLAVE = 0x15,
	COM_STMT_PREPARE = 0x16, COM_STMT_EXECUTE = 0x17,
	COM_STMT_SEND_LONG_DATA = 0x18, COM_STMT_CLOSE = 0x19,
	COM_STMT_RESET = 0x1a, COM_SET_OPTION = 0x1b, COM_STMT_FETCH = 0x1c,
	COM_DAEMON = 0x1d, COM_BINLOG_DUMP_GTID = 0x1e, COM_RESET_CONNECTION = 0x1f,
	COM_CLONE = 0x20, COM_SUBSCRIBE_GROUP_REPLICATION_STREAM = 0x21,
	/* MariaDB */
	COM_STMT_BULK_EXECUTE = 0xfa,
	/* not a command byte: the connection phase's request */
	MYSQL_LOGIN = 0x100,
};

/* The names of the commands: mysql.command, and (without "COM_") the
 * method of the commands that carry no SQL. */
static const char *const mysql_cmd_names[] = {
	"COM_SLEEP", "COM_QUIT", "COM_INIT_DB", "COM_QUERY", "COM_FIELD_LIST",
	"COM_CREATE_DB", "COM_DROP_DB", "COM_REFRESH", "COM_SHUTDOWN",
	"COM_STATISTICS", "COM_PROCESS_INFO", "COM_CONNECT", "COM_PROCESS_KILL",
	"COM_DEBUG", "COM_PING", "COM_TIME", "COM_DELAYED_INSERT",
	"COM_CHANGE_USER", "COM_BINLOG_DUMP", "COM_TABLE_DUMP", "COM_CONNECT_OUT",
	"COM_REGISTER_SLAVE", "COM_STMT_PREPARE", "COM_STMT_EXECUTE",
	"COM_STMT_SEND_LONG_DATA", "COM_STMT_CLOSE", "COM_STMT_RESET",
	"COM_SET_OPTION", "COM_STMT_FETCH", "COM_DAEMON", "COM_BINLOG_DUMP_GTID",
	"COM_RESET_CONNECTION", "COM_CLONE", "COM_SUBSCRIBE_GROUP_REPLICATION_STREAM",
};
#define MYSQL_N_CMDS (sizeof(mysql_cmd_names) / sizeof(mysql_cmd_names[0]))

static const char *mysql_cmd_name(unsigned cmd)
{
	if (cmd < MYSQL_N_CMDS)
		return mysql_cmd_names[cmd];
	if (cmd == COM_STMT_BULK_EXECUTE)
		return "COM_STMT_BULK_EXECUTE";
	return NULL;
}

/* A command a client really sends (COM_SLEEP and the other internal
 * ones are only ever errors): what a resynchronising client side may
 * start at. */
static int mysql_cmd_known(unsigned cmd)
{
	return (cmd >= COM_QUIT && cmd < MYSQL_N_CMDS && cmd != COM_CONNECT &&
		cmd != COM_TIME && cmd != COM_DELAYED_INSERT && cmd != COM_CONNECT_OUT) ||
	       cmd == COM_STMT_BULK_EXECUTE;
}

/* Commands that get no response by design. */
static int mysql_cmd_silent(unsigned cmd)
{
	return cmd == COM_QUIT || cmd == COM_STMT_CLOSE || cmd == COM_STMT_SEND_LONG_DATA;
}

/* ----------------------------------------------------- configuration */

/* The options of the "mysql" entry (pb-proto-mysql(7), CONFIGURATION). */
struct mysql_conf {
	int64_t max_rows;            /* rows in the response text */
	int64_t max_row_length;      /* bytes of each of those rows */
	int64_t statement_timeout;   /* ns a prepared statement is kept */
};

static void mysql_conf_init(void *v)
{
	struct mysql_conf *cf = v;

	cf->max_rows = 10;
	cf->max_row_length = 1024;
	cf->statement_timeout = INT64_C(3600) * 1000000000;
}

static int mysql_conf_load(void *v, struct pb_conf *c, const char *prefix)
{
	struct mysql_conf *cf = v;
	char p[256];

#define MYSQL_KEY(k) (snprintf(p, sizeof(p), "%s.%s", prefix, k), p)
	if (pb_conf_int(c, MYSQL_KEY("max_rows"), &cf->max_rows) < 0)
		return -1;
	if (cf->max_rows < 0 || cf->max_rows > 1000000)
		return pb_conf_fail(c, p, "expected a number of rows from 0 to 1000000");
	if (pb_conf_int(c, MYSQL_KEY("max_row_length"), &cf->max_row_length) < 0)
		return -1;
	if (cf->max_row_length < 0 || cf->max_row_length > (1 << 24))
		return pb_conf_fail(c, p, "expected a length from 0 to 16777216");
	if (pb_conf_duration(c, MYSQL_KEY("statement_timeout"), &cf->statement_timeout) < 0)
		return -1;
	if (cf->statement_timeout < 1000000)
		return pb_conf_fail(c, p, "expected a duration of 1ms or more");
#undef MYSQL_KEY
	return 0;
}

static const struct mysql_conf mysql_conf_default = {
	10, 1024, INT64_C(3600) * 1000000000
};

static const struct mysql_conf *mysql_cf(const struct pb_txn_conn *c)
{
	return c->conf ? c->conf : &mysql_conf_default;
}

/* ---------------------------------------------------------- state */

/* How a direction's bytes are read. */
enum {
	M_NEW = 0,      /* nothing seen yet */
	M_PLAIN,        /* packets */
	M_ZLIB,         /* compressed packets carrying packets */
	M_RESYNC,       /* looking for the start of a packet */
	M_SKIP          /* TLS, an undecodable compression, not MySQL */
};

/* Where the conversation is. */
enum {
	P_CONNECT = 0,  /* before the login: greeting, handshake response */
	P_AUTH,         /* the login's authentication exchange */
	P_CMD,          /* the command phase */
	P_DONE          /* TLS, or given up */
};

/* The logical packet a direction is reading: its first bytes (up to the
 * direction's keep cap), how long it is, when it came. */
struct mysql_lp {
	uint8_t active;
	uint8_t seq;             /* of its first packet */
	uint8_t last_seq;        /* of its last packet */
	uint8_t cut;             /* longer than what was kept */
	uint8_t loss;            /* bytes of it were never captured */
	uint32_t npk;            /* packets (headers) */
	uint64_t len;            /* payload bytes */
	int64_t start_ns, end_ns;
	uint64_t first_pkt, last_pkt;
	struct pb_buf keep;
};

/* One direction: packet framing, and compressed-packet framing under it. */
struct mysql_dir {
	uint8_t mode;
	uint8_t hdr[4], nhdr;
	uint8_t in_payload;
	uint32_t plen, remain;   /* the packet's length, payload bytes to come */
	struct mysql_lp lp;
	size_t keep_cap;
	/* compressed packets */
	uint8_t chdr[7], nchdr;
	uint8_t cin;             /* inside a compressed packet's payload */
	uint8_t zinit;
	uint32_t cremain, ulen;  /* payload bytes to come; inflated length */
	uint64_t uout;           /* bytes inflated from this packet */
	z_stream z;
	uint8_t rs_zlib;         /* RESYNC: look for compressed headers */
	uint8_t seen;            /* RESYNC: bytes of it were skipped */
};

/* A request, from its command packet to its event (a queue slot).  What
 * it points to it owns. */
struct mysql_req {
	uint16_t cmd;            /* COM_* or MYSQL_LOGIN */
	uint8_t loss, cut, overflow, unknown_stmt, single, params_bad, attrs_bad;
	uint8_t has_stmt, tls, zstd, resp_lost;
	uint32_t stmt_id;
	uint32_t caps;           /* login: the client's capabilities */
	int64_t start_ns, end_ns;
	uint64_t first_pkt, last_pkt;
	uint64_t bytes;
	char *query;             /* SQL as sent (COM_QUERY, PREPARE), or the
				  * statement's (EXECUTE) */
	size_t query_len;
	char *params;            /* NUL-separated texts of nparams params */
	size_t params_len;
	unsigned nparams;
	char *arg;               /* database (INIT_DB, CREATE_DB, DROP_DB,
				  * login), table (FIELD_LIST), user
				  * (CHANGE_USER), id (PROCESS_KILL) */
	char *user;              /* login, CHANGE_USER */
	char *plugin;            /* login: the auth plugin */
};

/* A prepared statement: its SQL, its parameter count and the types last
 * bound, its column types (for COM_STMT_FETCH). */
struct mysql_stmt {
	uint32_t id;
	uint16_t nparams;
	uint16_t ntypes;         /* types remembered (0: none bound yet) */
	int64_t used_ns;
	char *sql;
	size_t sql_len;
	uint16_t *types;         /* type | unsigned flag << 8, ntypes */
	/* its result columns, from the PREPARE response: types, names
	 * (NUL-separated) and path, for executions whose result set leaves
	 * its metadata out (MariaDB's metadata cache) and for fetches */
	uint16_t *ctypes;
	unsigned nctypes;
	char *cnames;
	size_t cnames_len;
	unsigned ncnames;
	char *path;
};

/* What a response is in the middle of. */
enum {
	RS_FIRST = 0,   /* its first packet (or the first of a next result) */
	RS_COLS,        /* column definitions */
	RS_COLS_END,    /* EOF, or the first row (CLIENT_DEPRECATE_EOF) */
	RS_ROWS,        /* rows until EOF or OK */
	RS_PARAMS,      /* PREPARE: parameter definitions */
	RS_PARAMS_END,  /* EOF after them, maybe */
	RS_PCOLS,       /* PREPARE: column definitions */
	RS_PCOLS_END,   /* EOF after them, maybe */
	RS_INFILE,      /* LOCAL INFILE: the client sends, then OK/ERR */
	RS_AUTH,        /* login or CHANGE_USER: until OK or ERR */
	RS_FLIST,       /* FIELD_LIST: definitions until EOF */
	RS_BINLOG,      /* replication events until EOF or ERR */
};

/* The response being read, built up packet by packet. */
struct mysql_resp {
	uint8_t active, state, binary, is_err, loss, incomplete, done;
	uint8_t last_seq, results, has_prep, progress;
	uint16_t cmd;
	uint16_t error_code, status, warnings;
	char sql_state[6];
	uint64_t ncols, cols_seen, nparams, params_seen;
	uint64_t num_fields, num_rows, affected, insert_id;
	uint32_t stmt_id;
	int64_t start_ns, end_ns;
	uint64_t first_pkt, last_pkt, bytes;
	struct pb_buf err, info, path, csv;
	uint16_t *types;         /* column types of the current result */
	unsigned ntypes;
	uint64_t csv_rows;
	uint8_t csv_on;          /* this result set's rows go to the CSV */
	uint8_t csv_head;        /* its header line has been written */
	struct pb_buf head;      /* column names of the header line */
	unsigned nhead;
};

/* The connection's state (c->state); zeroed by the engine. */
struct mysql_state {
	struct mysql_dir d[2];
	uint8_t init, srv, phase, caps_known, have_greeting, tls, zstd;
	uint8_t zbad;            /* the next event notes a bad compressed packet */
	uint32_t srv_caps, cli_caps, thread_id;
	char version[64];
	char plugin[64];
	char user[MYSQL_NAME];   /* the session's user, once logged in */
	struct pb_txn_queue q;   /* of struct mysql_req */
	struct mysql_resp rs;
	struct mysql_stmt *stmts;
	unsigned nstmts;
	size_t stmt_bytes;
	uint32_t last_stmt;
	uint64_t greet_bytes;
};

static struct mysql_state *mysql_st(struct pb_txn_conn *c)
{
	return c->state;
}

static void mysql_error(struct pb_txn_conn *c)
{
	if (c->st)
		c->st->parse_errors++;
}

/* --------------------------------------------------------- basic types */

/* int<lenenc>: 0 and *v set, 1 for the NULL marker 0xfb, -1 on a bad
 * first byte (0xff) or a short read (the cursor says which). */
static int mysql_lenenc(struct pb_cur *c, uint64_t *v)
{
	uint8_t b = pb_cur_u8(c);

	*v = 0;
	if (!pb_cur_ok(c))
		return -1;
	if (b < 0xfb) {
		*v = b;
	} else if (b == 0xfb) {
		return 1;
	} else if (b == 0xfc) {
		*v = pb_cur_le16(c);
	} else if (b == 0xfd) {
		const uint8_t *p = pb_cur_bytes(c, 3);

		*v = p ? (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 : 0;
	} else if (b == 0xfe) {
		*v = pb_cur_le64(c);
	} else {
		pb_cur_invalid(c);
		return -1;
	}
	return pb_cur_ok(c) ? 0 : -1;
}

/* string<lenenc>: its bytes (clipped to what is there when the packet was
 * cut: *n says how many), or NULL. */
static const uint8_t *mysql_lenstr(struct pb_cur *c, size_t *n, int *null)
{
	uint64_t v;
	int r = mysql_lenenc(c, &v);
	size_t have;
	const uint8_t *p;

	*n = 0;
	if (null)
		*null = r == 1;
	if (r != 0)
		return NULL;
	have = pb_cur_left(c);
	if (v > have) {
		/* cut short: what is there, and the cursor marked truncated */
		p = c->pos;
		*n = have;
		c->pos = c->end;
		c->err = PB_CUR_TRUNCATED;
		return p;
	}
	*n = (size_t)v;
	return pb_cur_bytes(c, (size_t)v);
}

/* string<NUL>: up to the NUL (or the end), which is skipped. */
static const uint8_t *mysql_nulstr(struct pb_cur *c, size_t *n)
{
	const uint8_t *p = c->pos;
	const uint8_t *z;

	if (!pb_cur_ok(c))
		return NULL;
	z = memchr(p, 0, pb_cur_left(c));
	*n = z ? (size_t)(z - p) : pb_cur_left(c);
	pb_cur_skip(c, *n);
	if (z)
		pb_cur_skip(c, 1);
	return p;
}

/* a malloc'ed NUL-terminated copy of at most max bytes, or NULL */
static char *mysql_dup(const void *p, size_t n, size_t max)
{
	char *s;

	if (n > max)
		n = max;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = 0;
	return s;
}

/* copy into a fixed array, cut to fit */
static void mysql_copy(char *dst, size_t cap, const void *p, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, p, n);
	dst[n] = 0;
}

/* ------------------------------------------------------ binary values */

/* One value of the binary protocol (COM_STMT_EXECUTE parameters, query
 * attributes, binary result rows) as text into out; 0, or -1 when the
 * type is unknown or the value cut short (the cursor is then unusable
 * for the values after it). */
static int mysql_bin_value(struct pb_cur *c, unsigned type, int uns, struct pb_buf *out)
{
	char t[96];
	int n = -1;

	switch (type) {
	case 0x01: {            /* TINY */
		uint8_t v = pb_cur_u8(c);

		n = uns ? snprintf(t, sizeof(t), "%u", v) : snprintf(t, sizeof(t), "%d", (int8_t)v);
		break;
	}
	case 0x02:              /* SHORT */
	case 0x0d: {            /* YEAR */
		uint16_t v = pb_cur_le16(c);

		n = uns || type == 0x0d ? snprintf(t, sizeof(t), "%u", v)
					: snprintf(t, sizeof(t), "%d", (int16_t)v);
		break;
	}
	case 0x03:              /* LONG */
	case 0x09: {            /* INT24 */
		uint32_t v = pb_cur_le32(c);

		n = uns ? snprintf(t, sizeof(t), "%lu", (unsigned long)v)
			: snprintf(t, sizeof(t), "%ld", (long)(int32_t)v);
		break;
	}
	case 0x08: {            /* LONGLONG */
		uint64_t v = pb_cur_le64(c);

		n = uns ? snprintf(t, sizeof(t), "%llu", (unsigned long long)v)
			: snprintf(t, sizeof(t), "%lld", (long long)(int64_t)v);
		break;
	}
	case 0x04: {            /* FLOAT */
		uint32_t v = pb_cur_le32(c);
		float f;

		memcpy(&f, &v, 4);
		n = snprintf(t, sizeof(t), "%.9g", (double)f);
		break;
	}
	case 0x05: {            /* DOUBLE */
		uint64_t v = pb_cur_le64(c);
		double d;
		int p;

		memcpy(&d, &v, 8);
		/* the shortest text that reads back as the same double */
		for (p = 1; p <= 17; p++) {
			n = snprintf(t, sizeof(t), "%.*g", p, d);
			if (strtod(t, NULL) == d)
				break;
		}
		break;
	}
	case 0x06:              /* NULL */
		n = snprintf(t, sizeof(t), "NULL");
		break;
	case 0x07:              /* TIMESTAMP */
	case 0x0a:              /* DATE */
	case 0x0c:              /* DATETIME */
	case 0x0e: {            /* NEWDATE */
		/* length 0, 4 (date), 7 (and time), 11 (and microseconds) */
		uint8_t len = pb_cur_u8(c);
		struct pb_cur s = pb_cur_sub(c, len);
		unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
		unsigned long us = 0;

		if (len >= 4) {
			y = pb_cur_le16(&s);
			mo = pb_cur_u8(&s);
			d = pb_cur_u8(&s);
		}
		if (len >= 7) {
			h = pb_cur_u8(&s);
			mi = pb_cur_u8(&s);
			se = pb_cur_u8(&s);
		}
		if (len >= 11)
			us = (unsigned long)pb_cur_le32(&s);
		if (type == 0x0a)
			n = snprintf(t, sizeof(t), "%04u-%02u-%02u", y, mo, d);
		else if (len >= 11 && us)
			n = snprintf(t, sizeof(t), "%04u-%02u-%02u %02u:%02u:%02u.%06lu",
				     y, mo, d, h, mi, se, us);
		else
			n = snprintf(t, sizeof(t), "%04u-%02u-%02u %02u:%02u:%02u",
				     y, mo, d, h, mi, se);
		break;
	}
	case 0x0b: {            /* TIME: length 0, 8, 12 */
		uint8_t len = pb_cur_u8(c);
		struct pb_cur s = pb_cur_sub(c, len);
		unsigned neg = 0, h = 0, mi = 0, se = 0;
		unsigned long days = 0, us = 0;

		if (len >= 8) {
			neg = pb_cur_u8(&s);
			days = (unsigned long)pb_cur_le32(&s);
			h = pb_cur_u8(&s);
			mi = pb_cur_u8(&s);
			se = pb_cur_u8(&s);
		}
		if (len >= 12)
			us = (unsigned long)pb_cur_le32(&s);
		if (len >= 12 && us)
			n = snprintf(t, sizeof(t), "%s%02lu:%02u:%02u.%06lu", neg ? "-" : "",
				     days * 24 + h, mi, se, us);
		else
			n = snprintf(t, sizeof(t), "%s%02lu:%02u:%02u", neg ? "-" : "",
				     days * 24 + h, mi, se);
		break;
	}
	case 0x00: case 0x0f: case 0x10: case 0xf5: case 0xf6: case 0xf7:
	case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
	case 0xfe: case 0xff: {
		/* strings, decimals, blobs, bits, JSON, geometry: string<lenenc> */
		size_t len;
		const uint8_t *p = mysql_lenstr(c, &len, NULL);

		if (!p && len == 0 && !pb_cur_ok(c))
			return -1;
		if (len)
			pb_buf_add(out, p, len);
		return pb_cur_ok(c) ? 0 : -1;
	}
	default:
		return -1;
	}
	if (!pb_cur_ok(c) || n < 0)
		return -1;
	pb_buf_add(out, t, (size_t)n < sizeof(t) ? (size_t)n : sizeof(t) - 1);
	return 0;
}

/* ------------------------------------------------------ statements */

static void mysql_stmt_free(struct mysql_stmt *s)
{
	free(s->sql);
	free(s->types);
	free(s->ctypes);
	free(s->cnames);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

static struct mysql_stmt *mysql_stmt_find(struct mysql_state *s, uint32_t id)
{
	unsigned i;

	/* MariaDB: -1 names the statement prepared last */
	if (id == 0xffffffffu)
		id = s->last_stmt;
	for (i = 0; i < s->nstmts; i++)
		if (s->stmts[i].id == id)
			return &s->stmts[i];
	return NULL;
}

static void mysql_stmt_drop(struct mysql_state *s, unsigned i)
{
	s->stmt_bytes -= s->stmts[i].sql_len;
	mysql_stmt_free(&s->stmts[i]);
	memmove(s->stmts + i, s->stmts + i + 1, (s->nstmts - i - 1) * sizeof(*s->stmts));
	s->nstmts--;
}

/* Remember a statement the server prepared (its SQL copied); the oldest
 * go when a cap is reached. */
static struct mysql_stmt *mysql_stmt_add(struct mysql_state *s, uint32_t id, const char *sql,
					 size_t n, uint16_t nparams, int64_t now)
{
	struct mysql_stmt *st;
	unsigned i;

	if (n > MYSQL_MAX_STMT_BYTES)
		n = MYSQL_MAX_STMT_BYTES;
	for (i = 0; i < s->nstmts; i++)
		if (s->stmts[i].id == id) {
			mysql_stmt_drop(s, i);   /* an id reused: the new one wins */
			break;
		}
	while (s->nstmts > 0 &&
	       (s->nstmts >= MYSQL_MAX_STMTS || s->stmt_bytes + n > MYSQL_MAX_STMT_BYTES))
		mysql_stmt_drop(s, 0);
	if (!s->stmts) {
		s->stmts = calloc(MYSQL_MAX_STMTS, sizeof(*s->stmts));
		if (!s->stmts)
			return NULL;
	}
	st = &s->stmts[s->nstmts];
	memset(st, 0, sizeof(*st));
	st->sql = mysql_dup(sql ? sql : "", sql ? n : 0, n);
	if (!st->sql)
		return NULL;
	st->sql_len = sql ? n : 0;
	st->id = id;
	st->nparams = nparams;
	st->used_ns = now;
	s->nstmts++;
	s->stmt_bytes += st->sql_len;
	s->last_stmt = id;
	return st;
}

/* ------------------------------------------------------ requests */

static void mysql_req_free(struct mysql_req *r)
{
	free(r->query);
	free(r->params);
	free(r->arg);
	free(r->user);
	free(r->plugin);
	memset(r, 0, sizeof(*r));
}

static void mysql_resp_reset(struct mysql_resp *rs)
{
	struct pb_buf err = rs->err, info = rs->info, path = rs->path, csv = rs->csv,
		      head = rs->head;
	uint16_t *types = rs->types;

	pb_buf_clear(&err);
	pb_buf_clear(&info);
	pb_buf_clear(&path);
	pb_buf_clear(&csv);
	pb_buf_clear(&head);
	memset(rs, 0, sizeof(*rs));
	rs->err = err;
	rs->info = info;
	rs->path = path;
	rs->csv = csv;
	rs->head = head;
	rs->types = types;
}

static void mysql_resp_release(struct mysql_resp *rs)
{
	pb_buf_release(&rs->err);
	pb_buf_release(&rs->info);
	pb_buf_release(&rs->path);
	pb_buf_release(&rs->csv);
	pb_buf_release(&rs->head);
	free(rs->types);
	memset(rs, 0, sizeof(*rs));
}

/* ------------------------------------------------------------ events */

/* What the write() callback needs. */
struct mysql_out {
	struct mysql_state *s;
	const struct mysql_req *rq;
	const struct mysql_resp *rs;
	const char *user;
};

static void mysql_write(struct pb_json *j, const struct pb_txn *t, void *arg)
{
	const struct mysql_out *o = arg;
	const struct mysql_req *rq = o->rq;
	const struct mysql_resp *rs = o->rs;
	const char *cmd = NULL;
	unsigned k;

	(void)t;
	pb_json_key(j, "mysql");
	pb_json_obj(j);
	/* Packetbeat writes these four with every response */
	if (rs) {
		pb_json_key(j, "affected_rows");
		pb_json_u64(j, rs->affected);
		pb_json_key(j, "insert_id");
		pb_json_u64(j, rs->insert_id);
		pb_json_key(j, "num_fields");
		pb_json_u64(j, rs->num_fields);
		pb_json_key(j, "num_rows");
		pb_json_u64(j, rs->num_rows);
		if (rs->is_err) {
			pb_json_key(j, "error_code");
			pb_json_u64(j, rs->error_code);
			pb_json_key(j, "error_message");
			pb_json_str(j, rs->err.data, rs->err.len);
			if (rs->sql_state[0]) {
				pb_json_key(j, "sql_state");
				pb_json_cstr(j, rs->sql_state);
			}
		}
		if (rs->warnings) {
			pb_json_key(j, "warnings");
			pb_json_u64(j, rs->warnings);
		}
		if (rs->info.len) {
			pb_json_key(j, "info");
			pb_json_str(j, rs->info.data, rs->info.len);
		}
	}
	/* pbtools' own: which command, which statement, the login */
	if (rq) {
		cmd = rq->cmd == MYSQL_LOGIN ? NULL : mysql_cmd_name(rq->cmd);
		if (cmd) {
			pb_json_key(j, "command");
			pb_json_cstr(j, cmd);
		}
		if (rq->has_stmt) {
			pb_json_key(j, "stmt_id");
			pb_json_u64(j, rq->stmt_id);
		}
	}
	if (rs && rs->has_prep) {
		if (!rq || !rq->has_stmt) {
			pb_json_key(j, "stmt_id");
			pb_json_u64(j, rs->stmt_id);
		}
		pb_json_key(j, "num_params");
		pb_json_u64(j, rs->nparams);
	}
	if (rq && rq->arg) {
		/* database, table, or thread id, after the command */
		switch (rq->cmd) {
		case COM_FIELD_LIST:
			pb_json_key(j, "table");
			break;
		case COM_PROCESS_KILL:
			pb_json_key(j, "thread_id");
			break;
		default:
			pb_json_key(j, "database");
			break;
		}
		pb_json_cstr(j, rq->arg);
	}
	if (rq && rq->cmd == MYSQL_LOGIN) {
		struct mysql_state *s = o->s;

		if (s->version[0]) {
			pb_json_key(j, "server_version");
			pb_json_cstr(j, s->version);
			pb_json_key(j, "thread_id");
			pb_json_u64(j, s->thread_id);
		}
		if (rq->plugin || s->plugin[0]) {
			pb_json_key(j, "auth_plugin");
			pb_json_cstr(j, s->plugin[0] ? s->plugin : rq->plugin);
		}
		if (rq->caps || s->srv_caps) {
			uint32_t both = s->have_greeting ? rq->caps & s->srv_caps : rq->caps;

			pb_json_key(j, "compressed");
			pb_json_bool(j, (both & (CAP_COMPRESS | CAP_ZSTD)) != 0);
			pb_json_key(j, "tls");
			pb_json_bool(j, rq->tls);
		}
	}
	pb_json_obj_end(j);
	/* Packetbeat's params: the values of an execution, as texts */
	if (rq && rq->nparams) {
		const char *p = rq->params;

		pb_json_key(j, "params");
		pb_json_arr(j);
		for (k = 0; k < rq->nparams && p && p < rq->params + rq->params_len; k++) {
			size_t n = strlen(p);

			pb_json_str(j, p, n);
			p += n + 1;
		}
		pb_json_arr_end(j);
	}
	if (o->user) {
		pb_json_key(j, "user");
		pb_json_obj(j);
		pb_json_key(j, "name");
		pb_json_cstr(j, o->user);
		pb_json_obj_end(j);
	}
}

/* The method of a query: its first word, upper-cased, as Packetbeat
 * takes it (the query trimmed of " \r\n\t" first). */
static void mysql_method(const char *q, size_t n, char *out, size_t cap)
{
	size_t i;

	for (i = 0; i < n && i + 1 < cap; i++) {
		char ch = q[i];

		if (ch == ' ' || ch == '\r' || ch == '\n' || ch == '\t')
			break;
		out[i] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
	}
	out[i] = 0;
}

static int mysql_ws(char ch)
{
	return ch == ' ' || ch == '\r' || ch == '\n' || ch == '\t';
}

/* Write one event: a request with its response, or either alone; then
 * free them.  rs is the state's response (reset by the caller). */
static void mysql_emit(struct pb_txn_conn *c, struct mysql_req *rq, const struct mysql_resp *rs)
{
	struct mysql_state *s = mysql_st(c);
	const struct pb_proto_common *pc = c->common;
	struct pb_txn t;
	struct mysql_out o;
	char method[64];
	char *q = NULL;
	size_t qn = 0;

	memset(&t, 0, sizeof(t));
	memset(&o, 0, sizeof(o));
	o.s = s;
	o.rq = rq;
	o.rs = rs;
	method[0] = 0;
	t.client = (uint8_t)!s->srv;
	t.has_request = rq != NULL;
	t.has_response = rs != NULL;
	t.single = rq && !rs && rq->single;
	if (rq) {
		t.start_ns = rq->start_ns;
		t.first_pkt = rq->first_pkt;
		t.end_ns = rq->end_ns;
		t.last_pkt = rq->last_pkt;
		t.request_bytes = rq->bytes;
	} else {
		t.start_ns = rs->start_ns;
		t.first_pkt = rs->first_pkt;
	}
	if (rs) {
		t.end_ns = rs->end_ns;
		t.last_pkt = rs->last_pkt;
		t.response_bytes = rs->bytes;
	}
	/* Packetbeat: Error for an ERR packet; pbtools also for a request
	 * that expected an answer and got none */
	if (rs)
		t.status = rs->is_err ? "Error" : "OK";
	else
		t.status = rq && rq->single ? "OK" : "Error";
	if (rq && rq->query) {
		/* the query trimmed of " \r\n\t" (Packetbeat) */
		q = rq->query;
		qn = rq->query_len;
		while (qn > 0 && mysql_ws(*q)) {
			q++;
			qn--;
		}
		while (qn > 0 && mysql_ws(q[qn - 1]))
			qn--;
		mysql_method(q, qn, method, sizeof(method));
	}
	if (rq && rq->cmd == MYSQL_LOGIN)
		mysql_copy(method, sizeof(method), "LOGIN", 5);
	else if (rq && !method[0]) {
		const char *n = mysql_cmd_name(rq->cmd);

		if (n)
			mysql_copy(method, sizeof(method), n + 4, strlen(n + 4));
	} else if (!rq && rs && !method[0]) {
		const char *n = rs->cmd == MYSQL_LOGIN ? "COM_LOGIN" : mysql_cmd_name(rs->cmd);

		if (n)
			mysql_copy(method, sizeof(method), n + 4, strlen(n + 4));
	}
	if (method[0])
		t.method = method;
	if (q) {
		/* a NUL-terminated copy of the trimmed text */
		q = mysql_dup(q, qn, qn);
		t.query = q;
	}
	if (rs && rs->path.len)
		t.path = pb_buf_cstr((struct pb_buf *)&rs->path);
	/* the raw texts: the request's SQL as sent; the response's rows */
	if (rq && rq->query && pc && pc->send_request) {
		t.request = (const uint8_t *)rq->query;
		t.request_len = rq->query_len;
	}
	if (rs && pc && pc->send_response) {
		t.response = (const uint8_t *)(rs->csv.data ? rs->csv.data : "");
		t.response_len = rs->csv.len;
	}
	/* notes: the request's, then the response's */
	if (rq) {
		if (rq->loss)
			pb_txn_note(&t, my_n_loss_rq);
		if (rq->cut)
			pb_txn_note(&t, my_n_cut);
		if (rq->unknown_stmt)
			pb_txn_note(&t, my_n_unknown);
		if (rq->params_bad)
			pb_txn_note(&t, my_n_params);
		if (rq->attrs_bad)
			pb_txn_note(&t, my_n_attrs);
		if (rq->overflow)
			pb_txn_note(&t, my_n_pipe);
		if (rq->tls)
			pb_txn_note(&t, my_n_tls);
		if (rq->zstd)
			pb_txn_note(&t, my_n_zstd);
		if (rq->resp_lost)
			pb_txn_note(&t, my_n_loss_rs);
		if (!rs && !rq->single && !rq->resp_lost)
			pb_txn_note(&t, my_n_unm_rq);
	}
	if (s->zbad) {
		pb_txn_note(&t, my_n_zbad);
		s->zbad = 0;
	}
	if (rs) {
		if (rs->loss)
			pb_txn_note(&t, my_n_loss_rs);
		else if (rs->incomplete)
			pb_txn_note(&t, my_n_inc_rs);
		if (!rq)
			pb_txn_note(&t, my_n_unm_rs);
	}
	if (rq && rq->user)
		o.user = rq->user;
	else if (s->user[0])
		o.user = s->user;
	t.write = mysql_write;
	t.arg = &o;
	pb_txn_emit(c, &t);
	free(q);
	if (rq)
		mysql_req_free(rq);
}

/* ----------------------------------------------------------- pairing */

/* The request a packet from the client continues (auth data, a LOCAL
 * INFILE's contents): the newest pending one. */
static struct mysql_req *mysql_tail(struct mysql_state *s)
{
	unsigned n = pb_txn_queue_len(&s->q);

	return n ? pb_txn_queue_peek(&s->q, n - 1) : NULL;
}

/* Queue a request (the oldest goes out unanswered on a full queue); a
 * request that gets no answer by design is written at once. */
static void mysql_push(struct pb_txn_conn *c, struct mysql_req *r)
{
	struct mysql_state *s = mysql_st(c);
	struct mysql_req *slot;

	if (r->single) {
		mysql_emit(c, r, NULL);
		return;
	}
	if (!s->q.size)
		pb_txn_queue_init(&s->q, sizeof(struct mysql_req), MYSQL_MAX_PENDING);
	slot = pb_txn_queue_push(&s->q);
	if (!slot) {
		struct mysql_req old;

		if (pb_txn_queue_pop(&s->q, &old) == 0) {
			old.overflow = 1;
			mysql_emit(c, &old, NULL);
		}
		slot = pb_txn_queue_push(&s->q);
	}
	if (!slot) {
		mysql_req_free(r);       /* out of memory: dropped */
		return;
	}
	*slot = *r;
}

/* The response is complete: written with the oldest request, which it
 * answers. */
static void mysql_resp_done(struct pb_txn_conn *c)
{
	struct mysql_state *s = mysql_st(c);
	struct mysql_req rq;
	int have = s->q.n > 0 && pb_txn_queue_pop(&s->q, &rq) == 0;

	mysql_emit(c, have ? &rq : NULL, &s->rs);
	mysql_resp_reset(&s->rs);
}

/* ------------------------------------------------------ the login */

/* Protocol::HandshakeV10, the server's greeting. */
static void mysql_greeting(struct pb_txn_conn *c, const uint8_t *p, size_t n)
{
	struct mysql_state *s = mysql_st(c);
	struct pb_cur cur;
	const uint8_t *v;
	size_t vn, pn;
	uint32_t caps;
	uint8_t alen;

	pb_cur_init(&cur, p, n);
	pb_cur_skip(&cur, 1);                 /* protocol version 10 */
	v = mysql_nulstr(&cur, &vn);
	if (v)
		mysql_copy(s->version, sizeof(s->version), v, vn);
	s->thread_id = pb_cur_le32(&cur);
	pb_cur_skip(&cur, 8 + 1);             /* scramble part 1, filler */
	caps = pb_cur_le16(&cur);
	if (pb_cur_left(&cur) >= 2 + 2 + 2 + 1 + 10) {
		pb_cur_skip(&cur, 1 + 2);     /* charset, status */
		caps |= (uint32_t)pb_cur_le16(&cur) << 16;
		alen = pb_cur_u8(&cur);
		pb_cur_skip(&cur, 10);        /* reserved (MariaDB: ext caps) */
		if (caps & CAP_SECURE_CONNECTION)
			pb_cur_skip(&cur, alen > 8 + 13 ? (size_t)alen - 8 : 13);
		if (caps & CAP_PLUGIN_AUTH) {
			v = mysql_nulstr(&cur, &pn);
			if (v && pn)
				mysql_copy(s->plugin, sizeof(s->plugin), v, pn);
		}
	}
	s->srv_caps = caps;
	s->have_greeting = 1;
}

/* HandshakeResponse41 (or 320), or SSLRequest: the login request. */
static void mysql_handshake_response(struct pb_txn_conn *c, struct mysql_req *r,
				     const uint8_t *p, size_t n)
{
	struct mysql_state *s = mysql_st(c);
	struct pb_cur cur;
	const uint8_t *v;
	size_t vn;
	uint32_t caps;

	pb_cur_init(&cur, p, n);
	caps = pb_cur_le16(&cur);
	if (caps & CAP_PROTOCOL_41) {
		pb_cur_init(&cur, p, n);
		caps = pb_cur_le32(&cur);
		pb_cur_skip(&cur, 4 + 1 + 23);    /* max packet, charset, filler */
	} else {
		pb_cur_skip(&cur, 3);             /* max packet (24 bits) */
	}
	r->caps = caps;
	s->cli_caps = caps;
	s->caps_known = s->have_greeting;
	/* SSLRequest: the fixed part and nothing more, with CLIENT_SSL */
	if ((caps & CAP_SSL) && pb_cur_left(&cur) == 0) {
		r->tls = 1;
		r->single = 1;
		return;
	}
	v = mysql_nulstr(&cur, &vn);
	if (v && vn) {
		r->user = mysql_dup(v, vn, MYSQL_NAME - 1);
		mysql_copy(s->user, sizeof(s->user), v, vn);
	}
	/* the auth response */
	if (caps & CAP_PLUGIN_AUTH_LENENC) {
		uint64_t l;

		if (mysql_lenenc(&cur, &l) == 0)
			pb_cur_skip(&cur, l > pb_cur_left(&cur) ? pb_cur_left(&cur) : (size_t)l);
	} else if (caps & CAP_SECURE_CONNECTION) {
		pb_cur_skip(&cur, pb_cur_u8(&cur));
	} else {
		mysql_nulstr(&cur, &vn);
	}
	if ((caps & CAP_CONNECT_WITH_DB) && pb_cur_left(&cur)) {
		v = mysql_nulstr(&cur, &vn);
		if (v && vn)
			r->arg = mysql_dup(v, vn, MYSQL_NAME - 1);
	}
	if ((caps & CAP_PLUGIN_AUTH) && pb_cur_left(&cur)) {
		v = mysql_nulstr(&cur, &vn);
		if (v && vn)
			r->plugin = mysql_dup(v, vn, 63);
	}
}

/* --------------------------------------------------------- requests */

/* The SQL of a COM_QUERY: after the query attributes, when the client
 * sends them (CLIENT_QUERY_ATTRIBUTES). */
static void mysql_query_text(struct mysql_state *s, struct mysql_req *r, struct pb_cur *cur,
			     size_t cap)
{
	int attrs = s->caps_known ? (s->cli_caps & s->srv_caps & CAP_QUERY_ATTRIBUTES) != 0
				  : pb_cur_left(cur) >= 2 && cur->pos[0] == 0 && cur->pos[1] == 1;

	if (attrs) {
		uint64_t count, sets, i;
		struct pb_buf scratch;

		pb_buf_init(&scratch, MYSQL_MAX_PARAM_TEXT);
		if (mysql_lenenc(cur, &count) != 0 || mysql_lenenc(cur, &sets) != 0)
			r->attrs_bad = 1;
		else if (count > 0) {
			/* null bitmap, new-params-bound flag, then per attribute
			 * its type and name, then the values */
			uint16_t types[64];
			uint8_t bound;
			const uint8_t *nulls;
			size_t nb = (size_t)((count + 7) / 8);

			nulls = count <= 64 ? pb_cur_bytes(cur, nb) : NULL;
			bound = pb_cur_u8(cur);
			if (!nulls || bound != 1) {
				r->attrs_bad = 1;
			} else {
				for (i = 0; i < count; i++) {
					size_t ln;

					types[i] = pb_cur_le16(cur);
					mysql_lenstr(cur, &ln, NULL);
				}
				for (i = 0; i < count && pb_cur_ok(cur); i++) {
					if (nulls[i / 8] & (1u << (i % 8)))
						continue;
					pb_buf_clear(&scratch);
					if (mysql_bin_value(cur, types[i] & 0xff, types[i] >> 15, &scratch) < 0)
						break;
				}
				if (!pb_cur_ok(cur) || i < count)
					r->attrs_bad = 1;
			}
		}
		pb_buf_release(&scratch);
		if (r->attrs_bad)
			return;
	}
	r->query = mysql_dup(cur->pos, pb_cur_left(cur), cap);
	r->query_len = r->query ? strlen(r->query) : 0;
	/* a NUL in the text ends the copy's strlen: keep the real count */
	if (r->query && pb_cur_left(cur) <= cap)
		r->query_len = pb_cur_left(cur);
}

/* The parameters of a COM_STMT_EXECUTE, as texts. */
static void mysql_exec_params(struct mysql_req *r, struct mysql_stmt *st, struct pb_cur *cur)
{
	unsigned np = st->nparams, i;
	const uint8_t *nulls;
	uint8_t bound;
	struct pb_buf out;

	if (np == 0)
		return;
	if (np > MYSQL_MAX_PARAMS) {
		r->params_bad = 1;
		return;
	}
	nulls = pb_cur_bytes(cur, (np + 7) / 8);
	bound = pb_cur_u8(cur);
	if (!nulls || !pb_cur_ok(cur)) {
		r->params_bad = 1;
		return;
	}
	if (bound == 1) {
		/* types sent again: remembered for later executions */
		if (!st->types)
			st->types = calloc(MYSQL_MAX_PARAMS, sizeof(*st->types));
		if (!st->types) {
			r->params_bad = 1;
			return;
		}
		for (i = 0; i < np; i++) {
			uint16_t ty = pb_cur_le16(cur);

			/* the unsigned flag is the high bit of the second byte */
			st->types[i] = (uint16_t)((ty & 0xff) | ((ty >> 15) << 8));
		}
		if (!pb_cur_ok(cur)) {
			r->params_bad = 1;
			return;
		}
		st->ntypes = (uint16_t)np;
	}
	if (st->ntypes != np) {
		r->params_bad = 1;
		return;
	}
	pb_buf_init(&out, MYSQL_MAX_PARAM_TEXT);
	for (i = 0; i < np; i++) {
		if (nulls[i / 8] & (1u << (i % 8))) {
			pb_buf_add(&out, "NULL", 4);
		} else if (mysql_bin_value(cur, st->types[i] & 0xff, st->types[i] >> 8, &out) < 0) {
			/* long data (COM_STMT_SEND_LONG_DATA) leaves no value:
			 * what was read stays, the rest is not guessed */
			r->params_bad = 1;
			break;
		}
		if (pb_buf_addc(&out, 0) < 0) {
			r->params_bad = 1;
			break;
		}
	}
	r->nparams = i;
	if (i > 0 && out.data) {
		r->params = malloc(out.len);
		if (r->params) {
			memcpy(r->params, out.data, out.len);
			r->params_len = out.len;
		} else {
			r->nparams = 0;
		}
	} else {
		r->nparams = 0;
	}
	pb_buf_release(&out);
}

/* A command packet (sequence 0) from the client. */
static void mysql_command(struct pb_txn_conn *c, const struct mysql_lp *lp)
{
	struct mysql_state *s = mysql_st(c);
	const struct mysql_dir *d = &s->d[!s->srv];
	struct mysql_req r;
	struct pb_cur cur;
	const uint8_t *v;
	size_t vn;

	memset(&r, 0, sizeof(r));
	pb_cur_init(&cur, lp->keep.data, lp->keep.len);
	r.cmd = pb_cur_u8(&cur);
	r.start_ns = lp->start_ns;
	r.first_pkt = lp->first_pkt;
	r.end_ns = lp->end_ns;
	r.last_pkt = lp->last_pkt;
	r.bytes = lp->len + 4u * lp->npk;
	r.loss = lp->loss;
	r.single = (uint8_t)mysql_cmd_silent(r.cmd);
	switch (r.cmd) {
	case COM_QUERY:
	case COM_STMT_PREPARE:
		if (r.cmd == COM_QUERY)
			mysql_query_text(s, &r, &cur, d->keep_cap);
		else {
			r.query = mysql_dup(cur.pos, pb_cur_left(&cur), d->keep_cap);
			r.query_len = pb_cur_left(&cur);
		}
		r.cut = lp->cut;
		break;
	case COM_INIT_DB:
	case COM_CREATE_DB:
	case COM_DROP_DB:
		r.arg = mysql_dup(cur.pos, pb_cur_left(&cur), MYSQL_NAME - 1);
		break;
	case COM_FIELD_LIST:
		v = mysql_nulstr(&cur, &vn);
		if (v)
			r.arg = mysql_dup(v, vn, MYSQL_NAME - 1);
		break;
	case COM_PROCESS_KILL:
		if (pb_cur_left(&cur) >= 4) {
			char t[16];

			snprintf(t, sizeof(t), "%lu", (unsigned long)pb_cur_le32(&cur));
			r.arg = mysql_dup(t, strlen(t), sizeof(t));
		}
		break;
	case COM_CHANGE_USER:
		v = mysql_nulstr(&cur, &vn);
		if (v && vn)
			r.user = mysql_dup(v, vn, MYSQL_NAME - 1);
		break;
	case COM_STMT_EXECUTE:
	case COM_STMT_CLOSE:
	case COM_STMT_RESET:
	case COM_STMT_SEND_LONG_DATA:
	case COM_STMT_FETCH:
	case COM_STMT_BULK_EXECUTE: {
		struct mysql_stmt *st;

		r.stmt_id = pb_cur_le32(&cur);
		if (!pb_cur_ok(&cur))
			break;
		r.has_stmt = 1;
		st = mysql_stmt_find(s, r.stmt_id);
		if (st)
			st->used_ns = lp->start_ns;
		if (r.cmd == COM_STMT_CLOSE) {
			if (st)
				mysql_stmt_drop(s, (unsigned)(st - s->stmts));
			break;
		}
		if (r.cmd != COM_STMT_EXECUTE && r.cmd != COM_STMT_BULK_EXECUTE)
			break;
		if (!st) {
			r.unknown_stmt = 1;
			break;
		}
		if (st->id != r.stmt_id) {
			r.stmt_id = st->id;   /* -1 resolved */
		}
		r.query = mysql_dup(st->sql, st->sql_len, st->sql_len);
		r.query_len = r.query ? st->sql_len : 0;
		if (r.cmd == COM_STMT_EXECUTE) {
			pb_cur_skip(&cur, 1 + 4);   /* flags, iteration count */
			mysql_exec_params(&r, st, &cur);
			if (lp->cut && r.params_bad)
				r.cut = 1;
		}
		break;
	}
	default:
		break;
	}
	mysql_push(c, &r);
}

/* A client packet in the connection phase, or one that continues an
 * exchange (sequence > 0). */
static void mysql_client_packet(struct pb_txn_conn *c, const struct mysql_lp *lp)
{
	struct mysql_state *s = mysql_st(c);
	const uint8_t *p = (const uint8_t *)lp->keep.data;
	size_t n = lp->keep.len;
	struct mysql_req *tail;

	if (s->phase == P_CONNECT && lp->seq != 0) {
		struct mysql_req r;

		/* the handshake response (or SSLRequest): the login request */
		memset(&r, 0, sizeof(r));
		r.cmd = MYSQL_LOGIN;
		r.start_ns = lp->start_ns;
		r.first_pkt = lp->first_pkt;
		r.end_ns = lp->end_ns;
		r.last_pkt = lp->last_pkt;
		r.bytes = lp->len + 4u * lp->npk;
		r.loss = lp->loss;
		mysql_handshake_response(c, &r, p, n);
		if (r.tls) {
			/* everything after it is TLS */
			s->tls = 1;
			s->phase = P_DONE;
			s->d[0].mode = s->d[1].mode = M_SKIP;
		} else {
			s->phase = P_AUTH;
		}
		mysql_push(c, &r);
		return;
	}
	if (lp->seq == 0 && n > 0 && s->phase != P_AUTH) {
		/* a command; in P_CONNECT it means the login was not seen */
		s->phase = P_CMD;
		mysql_command(c, lp);
		return;
	}
	/* auth data, LOCAL INFILE contents: part of the newest request */
	tail = mysql_tail(s);
	if (tail) {
		tail->bytes += lp->len + 4u * lp->npk;
		tail->end_ns = lp->end_ns;
		tail->last_pkt = lp->last_pkt;
		if (lp->loss)
			tail->loss = 1;
	}
}

/* -------------------------------------------------------- responses */

/* OK packet: affected rows, insert id, status, warnings, info. */
static void mysql_ok(struct mysql_state *s, struct mysql_resp *rs, const uint8_t *p, size_t n)
{
	struct pb_cur cur;
	uint64_t v;
	uint32_t caps = s->caps_known ? s->cli_caps & s->srv_caps : CAP_PROTOCOL_41;

	pb_cur_init(&cur, p, n);
	pb_cur_skip(&cur, 1);
	if (mysql_lenenc(&cur, &v) == 0)
		rs->affected = v;
	if (mysql_lenenc(&cur, &v) == 0)
		rs->insert_id = v;
	if (caps & CAP_PROTOCOL_41) {
		rs->status = pb_cur_le16(&cur);
		rs->warnings = pb_cur_le16(&cur);
	}
	if (!pb_cur_ok(&cur) || pb_cur_left(&cur) == 0)
		return;
	/* info: string<lenenc> with session tracking, else to the end;
	 * when the login was not seen, a first byte that is the length of
	 * the rest says it is one */
	pb_buf_clear(&rs->info);
	if (!s->caps_known && cur.pos[0] < 0xfb && (size_t)cur.pos[0] + 1 == pb_cur_left(&cur))
		caps |= CAP_SESSION_TRACK;
	if (caps & CAP_SESSION_TRACK) {
		size_t ln;
		const uint8_t *i = mysql_lenstr(&cur, &ln, NULL);

		if (i && ln)
			pb_buf_add(&rs->info, i, ln < MYSQL_MAX_TEXT ? ln : MYSQL_MAX_TEXT);
	} else {
		size_t ln = pb_cur_left(&cur);

		pb_buf_add(&rs->info, cur.pos, ln < MYSQL_MAX_TEXT ? ln : MYSQL_MAX_TEXT);
	}
}

/* EOF packet (0xfe, under 9 bytes): warnings and status. */
static void mysql_eof(struct mysql_resp *rs, const uint8_t *p, size_t n)
{
	struct pb_cur cur;

	pb_cur_init(&cur, p, n);
	pb_cur_skip(&cur, 1);
	if (pb_cur_left(&cur) >= 4) {
		rs->warnings = pb_cur_le16(&cur);
		rs->status = pb_cur_le16(&cur);
	} else {
		rs->status = 0;
	}
}

/* ERR packet: 0 done, 1 a MariaDB progress report (not the end). */
static int mysql_err(struct mysql_resp *rs, const uint8_t *p, size_t n)
{
	struct pb_cur cur;
	uint16_t code;
	size_t ln;

	pb_cur_init(&cur, p, n);
	pb_cur_skip(&cur, 1);
	code = pb_cur_le16(&cur);
	if (code == 0xffff) {
		rs->progress = 1;
		return 1;
	}
	rs->is_err = 1;
	rs->error_code = code;
	rs->sql_state[0] = 0;
	pb_buf_clear(&rs->err);
	/* '#' and the five-character SQL state (CLIENT_PROTOCOL_41); the
	 * message follows, "SQLSTATE: message" as Packetbeat writes it */
	if (pb_cur_left(&cur) >= 6 && cur.pos[0] == '#') {
		mysql_copy(rs->sql_state, sizeof(rs->sql_state), cur.pos + 1, 5);
		pb_buf_add(&rs->err, cur.pos + 1, 5);
		pb_buf_add(&rs->err, ": ", 2);
		pb_cur_skip(&cur, 6);
	}
	ln = pb_cur_left(&cur);
	pb_buf_add(&rs->err, cur.pos, ln < MYSQL_MAX_TEXT ? ln : MYSQL_MAX_TEXT);
	return 0;
}

/* ---- the response text: CSV as Go's encoding/csv writes it ---- */

/* one field: "\n" (and in rows "\r") written as the two characters \n,
 * then quoted when it holds a comma, a quote, a CR or LF, or starts with
 * a space (Go's csv.Writer) */
static void mysql_csv_field(struct pb_buf *b, const uint8_t *p, size_t n, int row, int first)
{
	size_t i;
	int quote = 0;

	if (!first)
		pb_buf_addc(b, ',');
	for (i = 0; i < n; i++)
		if (p[i] == ',' || p[i] == '"' || (!row && p[i] == '\r'))
			quote = 1;
	if (n > 0 && (p[0] == ' ' || p[0] == '\t' || p[0] == '\v' || p[0] == '\f'))
		quote = 1;
	if (n == 2 && p[0] == '\\' && p[1] == '.')
		quote = 1;
	if (quote)
		pb_buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		if (p[i] == '\n')
			pb_buf_add(b, "\\n", 2);
		else if (row && p[i] == '\r')
			pb_buf_add(b, "\\r", 2);
		else if (p[i] == '"')
			pb_buf_add(b, "\"\"", 2);
		else
			pb_buf_addc(b, (char)p[i]);
	}
	if (quote)
		pb_buf_addc(b, '"');
}

/* The header line, from the column names, before the first row (or at
 * the end of a result with no rows). */
static void mysql_csv_head(struct mysql_resp *rs)
{
	const char *p = rs->head.data;
	unsigned i;

	if (!rs->csv_on || rs->csv_head)
		return;
	rs->csv_head = 1;
	if (rs->nhead == 0)
		return;
	for (i = 0; i < rs->nhead && p; i++) {
		size_t n = strlen(p);

		mysql_csv_field(&rs->csv, (const uint8_t *)p, n, 0, i == 0);
		p += n + 1;
	}
	pb_buf_addc(&rs->csv, '\n');
}

/* One row into the CSV, its fields cut so the row holds at most
 * max_row_length bytes (Packetbeat's rule: fields past the limit are
 * left out). */
static void mysql_csv_row(struct pb_txn_conn *c, struct mysql_resp *rs, const uint8_t *p,
			  size_t n)
{
	const struct mysql_conf *cf = mysql_cf(c);
	uint64_t maxlen = (uint64_t)cf->max_row_length, used = 0;
	struct pb_cur cur;
	struct pb_buf val;
	int first = 1;
	unsigned col = 0;

	pb_cur_init(&cur, p, n);
	pb_buf_init(&val, MYSQL_SRV_KEEP + (size_t)maxlen);
	if (rs->binary) {
		/* 0x00, NULL bitmap (offset 2), then the non-NULL values */
		size_t nb = (size_t)((rs->ntypes + 7 + 2) / 8);
		const uint8_t *nulls;

		pb_cur_skip(&cur, 1);
		nulls = pb_cur_bytes(&cur, nb);
		for (col = 0; nulls && col < rs->ntypes && used < maxlen; col++) {
			unsigned bit = col + 2;
			const uint8_t *t;
			size_t tn;

			pb_buf_clear(&val);
			if (nulls[bit / 8] & (1u << (bit % 8)))
				pb_buf_add(&val, "NULL", 4);
			else if (mysql_bin_value(&cur, rs->types[col] & 0xff, rs->types[col] >> 8, &val) < 0)
				break;
			t = (const uint8_t *)val.data;
			tn = val.len;
			if (used + tn > maxlen)
				tn = (size_t)(maxlen - used);
			mysql_csv_field(&rs->csv, t ? t : (const uint8_t *)"", tn, 1, first);
			first = 0;
			used += tn;
		}
	} else {
		/* string<lenenc> per column, 0xfb for NULL */
		while (pb_cur_ok(&cur) && pb_cur_left(&cur) > 0 && used < maxlen) {
			size_t tn;
			int null;
			const uint8_t *t = mysql_lenstr(&cur, &tn, &null);

			if (null) {
				t = (const uint8_t *)"NULL";
				tn = 4;
			} else if (!t && tn == 0 && !pb_cur_ok(&cur)) {
				break;
			}
			if (used + tn > maxlen)
				tn = (size_t)(maxlen - used);
			mysql_csv_field(&rs->csv, t ? t : (const uint8_t *)"", tn, 1, first);
			first = 0;
			used += tn;
		}
	}
	pb_buf_release(&val);
	pb_buf_addc(&rs->csv, '\n');
}

/* What a column definition describes. */
enum { COL_PARAM, COL_PREP, COL_RESULT };

/* A column definition (Protocol::ColumnDefinition41): the path, the
 * header name, the type for binary rows.  A prepared statement's columns
 * are remembered (COL_PREP) for executions that do not send them again;
 * a parameter's definition (COL_PARAM) is only skipped. */
static void mysql_column(struct mysql_resp *rs, const uint8_t *p, size_t n, int kind)
{
	struct pb_cur cur;
	const uint8_t *schema, *table, *name;
	size_t sn, tn, nn, on;
	uint16_t type = 0;

	pb_cur_init(&cur, p, n);
	mysql_lenstr(&cur, &on, NULL);                  /* catalog */
	schema = mysql_lenstr(&cur, &sn, NULL);
	table = mysql_lenstr(&cur, &tn, NULL);
	mysql_lenstr(&cur, &on, NULL);                  /* org_table */
	name = mysql_lenstr(&cur, &nn, NULL);
	mysql_lenstr(&cur, &on, NULL);                  /* org_name */
	if (pb_cur_ok(&cur)) {
		uint16_t flags;

		/* MariaDB's extended metadata (string<lenenc>) comes before
		 * the fixed fields' length 0x0c when negotiated */
		if (pb_cur_left(&cur) > 0 && cur.pos[0] != 0x0c)
			mysql_lenstr(&cur, &on, NULL);
		pb_cur_skip(&cur, 1 + 2 + 4);           /* 0x0c, charset, length */
		type = pb_cur_u8(&cur);
		flags = pb_cur_le16(&cur);
		type |= (uint16_t)((flags & 0x20) ? 0x100 : 0);   /* UNSIGNED */
	}
	if (kind == COL_PARAM)
		return;
	/* path: "schema.table", each once, joined by ", " (Packetbeat);
	 * columns of no table (expressions) add nothing */
	if (tn > 0 && rs->path.len + sn + tn + 3 <= MYSQL_MAX_PATH) {
		char dt[2 * 256 + 2];
		size_t k = 0;

		if (sn < 256 && tn < 256) {
			memcpy(dt, schema, sn);
			k = sn;
			dt[k++] = '.';
			memcpy(dt + k, table, tn);
			k += tn;
			dt[k] = 0;
			if (!rs->path.len || !strstr(pb_buf_cstr(&rs->path), dt)) {
				if (rs->path.len)
					pb_buf_add(&rs->path, ", ", 2);
				pb_buf_add(&rs->path, dt, k);
			}
		}
	}
	if (rs->types && rs->cols_seen < MYSQL_MAX_COLS) {
		rs->types[rs->cols_seen] = type;
		rs->ntypes = (unsigned)rs->cols_seen + 1;
	}
	if ((rs->csv_on || kind == COL_PREP) && !rs->csv_head &&
	    rs->head.len + nn + 1 <= rs->head.max) {
		if (nn && name)
			pb_buf_add(&rs->head, name, nn);
		pb_buf_addc(&rs->head, 0);
		rs->nhead++;
	}
}

/* A row of the current result. */
static void mysql_row(struct pb_txn_conn *c, struct mysql_resp *rs, const uint8_t *p, size_t n)
{
	const struct mysql_conf *cf = mysql_cf(c);

	rs->num_rows++;
	if (!rs->csv_on)
		return;
	mysql_csv_head(rs);
	if (rs->csv_rows >= (uint64_t)cf->max_rows)
		return;
	rs->csv_rows++;
	mysql_csv_row(c, rs, p, n);
}

/* A result set starts: its column count is known. */
static void mysql_result_start(struct pb_txn_conn *c, struct mysql_resp *rs, uint64_t ncols)
{
	const struct pb_proto_common *pc = c->common;

	rs->ncols = ncols;
	rs->cols_seen = 0;
	rs->ntypes = 0;
	if (rs->results == 0)
		rs->num_fields = ncols;
	/* the response text holds the first result set */
	rs->csv_on = rs->results == 0 && pc && pc->send_response;
	rs->csv_head = 0;
	pb_buf_clear(&rs->head);
	rs->nhead = 0;
	rs->results++;
	if (!rs->types)
		rs->types = calloc(MYSQL_MAX_COLS, sizeof(*rs->types));
	rs->state = RS_COLS;
}

/* The result set (or the response) ended with an EOF or OK whose status
 * is in rs->status: another result may follow. */
static void mysql_result_end(struct mysql_resp *rs)
{
	mysql_csv_head(rs);
	rs->csv_on = 0;
	if (rs->status & ST_MORE_RESULTS)
		rs->state = RS_FIRST;
	else
		rs->done = 1;
}

/* A result set without column definitions: the types, names and path
 * of the statement being executed (or fetched from). */
static void mysql_stmt_meta(struct mysql_state *s, struct mysql_resp *rs)
{
	struct mysql_req *rq = s->q.n ? pb_txn_queue_peek(&s->q, 0) : NULL;
	struct mysql_stmt *st = rq && rq->has_stmt ? mysql_stmt_find(s, rq->stmt_id) : NULL;

	if (!st)
		return;
	if (st->ctypes && rs->types) {
		memcpy(rs->types, st->ctypes, st->nctypes * sizeof(*rs->types));
		rs->ntypes = st->nctypes;
	}
	if (rs->csv_on && st->cnames) {
		pb_buf_clear(&rs->head);
		pb_buf_add(&rs->head, st->cnames, st->cnames_len);
		rs->nhead = st->ncnames;
	}
	if (st->path && !rs->path.len)
		pb_buf_adds(&rs->path, st->path);
}

/* A PREPARE response ended: its columns go with the statement. */
static void mysql_stmt_keep_meta(struct mysql_state *s, struct mysql_resp *rs)
{
	struct mysql_stmt *st = mysql_stmt_find(s, rs->stmt_id);

	if (!st || st->id != rs->stmt_id)
		return;
	free(st->ctypes);
	free(st->cnames);
	free(st->path);
	st->ctypes = NULL;
	st->cnames = st->path = NULL;
	st->nctypes = st->ncnames = 0;
	if (rs->ntypes && rs->types) {
		st->ctypes = malloc(rs->ntypes * sizeof(*st->ctypes));
		if (st->ctypes) {
			memcpy(st->ctypes, rs->types, rs->ntypes * sizeof(*st->ctypes));
			st->nctypes = rs->ntypes;
		}
	}
	if (rs->head.len && rs->head.data) {
		st->cnames = malloc(rs->head.len);
		if (st->cnames) {
			memcpy(st->cnames, rs->head.data, rs->head.len);
			st->cnames_len = rs->head.len;
			st->ncnames = rs->nhead;
		}
	}
	if (rs->path.len)
		st->path = mysql_dup(rs->path.data, rs->path.len, rs->path.len);
}

/* Can the first packet of a response (b0, len) answer cmd?  Only the
 * clear cases say no: a PREPARE gets PREPARE_OK or ERR; commands that
 * only ever get OK or ERR (or EOF) get nothing else. */
static int mysql_fits(unsigned cmd, uint8_t b0, uint64_t len)
{
	switch (cmd) {
	case COM_STMT_PREPARE:
		return b0 == 0xff || (b0 == 0x00 && len >= 12);
	case COM_INIT_DB: case COM_PING: case COM_CREATE_DB: case COM_DROP_DB:
	case COM_REFRESH: case COM_PROCESS_KILL: case COM_STMT_RESET:
	case COM_RESET_CONNECTION: case COM_REGISTER_SLAVE: case COM_SET_OPTION:
	case COM_SHUTDOWN: case COM_DEBUG:
		return b0 == 0x00 || b0 == 0xff || (b0 == 0xfe && len < 9);
	default:
		return 1;
	}
}

/* CLIENT_DEPRECATE_EOF was negotiated (known from the login). */
static int mysql_no_eof(const struct mysql_state *s)
{
	return s->caps_known && (s->cli_caps & s->srv_caps & CAP_DEPRECATE_EOF);
}

/* One logical packet of a response.  Returns 1 when the packet is not
 * part of the response being read (it was complete already, and this
 * one starts the next): the caller ends it and gives the packet again. */
static int mysql_resp_packet(struct pb_txn_conn *c, const struct mysql_lp *lp)
{
	struct mysql_state *s = mysql_st(c);
	struct mysql_resp *rs = &s->rs;
	const uint8_t *p = (const uint8_t *)lp->keep.data;
	size_t n = lp->keep.len;
	uint8_t b0 = n ? p[0] : 0;
	uint64_t len = lp->len;
	/* an EOF packet: 0xfe and under 9 bytes; 0xfe with any length under
	 * 0xffffff ends rows (an OK with CLIENT_DEPRECATE_EOF) */
	int is_eof = b0 == 0xfe && len < 9;
	int is_end = b0 == 0xfe && len < 0xffffff;
	int cont = (uint8_t)(rs->last_seq + 1) == lp->seq;

	if (!rs->active) {
		struct mysql_req *rq = s->q.n ? pb_txn_queue_peek(&s->q, 0) : NULL;

		/* a first packet the oldest request cannot get while a later
		 * one waits: the oldest's answer was not captured (MySQL does
		 * not pipeline), it goes out alone */
		while (rq && s->q.n > 1 && !mysql_fits(rq->cmd, b0, len)) {
			struct mysql_req old;

			if (pb_txn_queue_pop(&s->q, &old) == 0) {
				old.resp_lost = 1;
				mysql_emit(c, &old, NULL);
			}
			rq = pb_txn_queue_peek(&s->q, 0);
		}

		rs->active = 1;
		rs->cmd = rq ? rq->cmd : (s->phase == P_AUTH ? MYSQL_LOGIN : COM_QUERY);
		rs->start_ns = lp->start_ns;
		rs->first_pkt = lp->first_pkt;
		rs->state = rs->cmd == MYSQL_LOGIN || rs->cmd == COM_CHANGE_USER ? RS_AUTH
			  : rs->cmd == COM_FIELD_LIST ? RS_FLIST
			  : rs->cmd == COM_BINLOG_DUMP || rs->cmd == COM_BINLOG_DUMP_GTID ? RS_BINLOG
			  : RS_FIRST;
		rs->binary = rs->cmd == COM_STMT_EXECUTE || rs->cmd == COM_STMT_FETCH;
		if (rs->cmd == COM_STMT_FETCH) {
			/* rows of an open cursor: the statement's columns */
			if (!rs->types)
				rs->types = calloc(MYSQL_MAX_COLS, sizeof(*rs->types));
			mysql_stmt_meta(s, rs);
			rs->state = RS_ROWS;
		}
		cont = 1;
	} else if ((rs->state == RS_PARAMS_END || rs->state == RS_PCOLS_END) &&
		   !(is_eof && len <= 5 && cont)) {
		/* the PREPARE response ended without an EOF (DEPRECATE_EOF):
		 * this packet is the next response's */
		return 1;
	}
	rs->last_seq = lp->seq;
	rs->bytes += len + 4u * lp->npk;
	rs->end_ns = lp->end_ns;
	rs->last_pkt = lp->last_pkt;
	if (lp->loss)
		rs->loss = 1;
	if (n == 0 && rs->state != RS_ROWS)
		return 0;                /* nothing to read (empty packet) */

	switch (rs->state) {
	case RS_AUTH:
		/* OK ends, ERR ends; an auth switch (0xfe) names the plugin;
		 * 0x01 carries more auth data */
		if (b0 == 0x00) {
			mysql_ok(s, rs, p, n);
			rs->done = 1;
		} else if (b0 == 0xff) {
			if (mysql_err(rs, p, n) == 0)
				rs->done = 1;
		} else if (b0 == 0xfe && rs->cmd == MYSQL_LOGIN && n > 1) {
			struct pb_cur cur;
			const uint8_t *v;
			size_t vn;

			pb_cur_init(&cur, p + 1, n - 1);
			v = mysql_nulstr(&cur, &vn);
			if (v && vn)
				mysql_copy(s->plugin, sizeof(s->plugin), v, vn);
		}
		break;
	case RS_FIRST:
		if (b0 == 0xff) {
			if (mysql_err(rs, p, n) == 0)
				rs->done = 1;
		} else if (b0 == 0x00 && rs->cmd == COM_STMT_PREPARE && rs->results == 0) {
			/* COM_STMT_PREPARE_OK: id, columns, params, 0, warnings */
			struct pb_cur cur;
			struct mysql_req *rq = s->q.n ? pb_txn_queue_peek(&s->q, 0) : NULL;

			pb_cur_init(&cur, p, n);
			pb_cur_skip(&cur, 1);
			rs->stmt_id = pb_cur_le32(&cur);
			rs->ncols = pb_cur_le16(&cur);
			rs->nparams = pb_cur_le16(&cur);
			pb_cur_skip(&cur, 1);
			rs->warnings = pb_cur_le16(&cur);
			rs->has_prep = 1;
			rs->num_fields = rs->ncols;
			if (!rs->types)
				rs->types = calloc(MYSQL_MAX_COLS, sizeof(*rs->types));
			if (rq && rq->cmd == COM_STMT_PREPARE)
				mysql_stmt_add(s, rs->stmt_id, rq->query, rq->query_len,
					       (uint16_t)rs->nparams, lp->start_ns);
			rs->state = rs->nparams ? RS_PARAMS : rs->ncols ? RS_PCOLS : RS_FIRST;
			if (!rs->nparams && !rs->ncols)
				rs->done = 1;
		} else if (b0 == 0x00) {
			mysql_ok(s, rs, p, n);
			if (rs->status & ST_MORE_RESULTS)
				rs->results++;
			else
				rs->done = 1;
		} else if (is_eof) {
			/* SET_OPTION, DEBUG, SHUTDOWN answer with EOF */
			mysql_eof(rs, p, n);
			rs->done = 1;
		} else if (b0 == 0xfb && rs->cmd == COM_QUERY) {
			/* LOCAL INFILE: the file name; the client sends */
			rs->state = RS_INFILE;
		} else if (rs->cmd == COM_STATISTICS) {
			pb_buf_clear(&rs->info);
			pb_buf_add(&rs->info, p, n < MYSQL_MAX_TEXT ? n : MYSQL_MAX_TEXT);
			rs->done = 1;
		} else {
			struct pb_cur cur;
			uint64_t nc;

			pb_cur_init(&cur, p, n);
			if (mysql_lenenc(&cur, &nc) != 0 || nc == 0) {
				/* not a response we know: it ends here */
				mysql_error(c);
				rs->done = 1;
				break;
			}
			mysql_result_start(c, rs, nc);
			/* a byte after the count: "metadata follows" (MariaDB's
			 * metadata cache, MySQL's optional metadata); 0 leaves
			 * the definitions out: the statement's are used */
			if (pb_cur_left(&cur) > 0 && pb_cur_u8(&cur) == 0) {
				mysql_stmt_meta(s, rs);
				rs->state = RS_COLS_END;
			}
		}
		break;
	case RS_COLS:
		if (b0 == 0xff) {
			if (mysql_err(rs, p, n) == 0)
				rs->done = 1;
			break;
		}
		if (is_eof) {
			/* fewer definitions than announced: rows follow */
			mysql_eof(rs, p, n);
			rs->state = RS_ROWS;
			break;
		}
		mysql_column(rs, p, n, COL_RESULT);
		if (++rs->cols_seen >= rs->ncols)
			rs->state = RS_COLS_END;
		break;
	case RS_COLS_END:
		/* the EOF of the classic protocol (5 bytes, or 1 before 4.1);
		 * with CLIENT_DEPRECATE_EOF the first row or the final OK */
		if (b0 == 0xfe && len <= 5) {
			mysql_eof(rs, p, n);
			/* a cursor was opened: rows come with COM_STMT_FETCH */
			if (rs->binary && (rs->status & ST_CURSOR_EXISTS)) {
				mysql_csv_head(rs);
				rs->done = 1;
			} else {
				rs->state = RS_ROWS;
			}
			break;
		}
		rs->state = RS_ROWS;
		/* fall through: this packet is a row or the end */
		/* FALLTHROUGH */
	case RS_ROWS:
		if (is_end && n > 0) {
			if (len <= 5)
				mysql_eof(rs, p, n);
			else
				mysql_ok(s, rs, p, n);
			mysql_result_end(rs);
		} else if (b0 == 0xff && n > 0) {
			if (mysql_err(rs, p, n) == 0)
				rs->done = 1;
		} else {
			mysql_row(c, rs, p, n);
		}
		break;
	case RS_PARAMS:
		mysql_column(rs, p, n, COL_PARAM);
		if (++rs->params_seen < rs->nparams)
			break;
		/* no EOF follows with CLIENT_DEPRECATE_EOF; unknown, the next
		 * packet tells (an EOF continues this response's sequence) */
		if (mysql_no_eof(s)) {
			if (rs->ncols)
				rs->state = RS_PCOLS;
			else
				rs->done = 1;
		} else {
			rs->state = RS_PARAMS_END;
		}
		break;
	case RS_PARAMS_END:
		/* the EOF after the parameters (cont and is_eof checked above) */
		if (rs->ncols)
			rs->state = RS_PCOLS;
		else
			rs->done = 1;
		break;
	case RS_PCOLS:
		if (is_eof && len <= 5) {
			rs->done = 1;
			break;
		}
		mysql_column(rs, p, n, COL_PREP);
		if (++rs->cols_seen < rs->ncols)
			break;
		if (mysql_no_eof(s))
			rs->done = 1;
		else
			rs->state = RS_PCOLS_END;
		break;
	case RS_PCOLS_END:
		rs->done = 1;            /* its EOF */
		break;
	case RS_INFILE:
		if (b0 == 0x00) {
			mysql_ok(s, rs, p, n);
			rs->done = 1;
		} else if (b0 == 0xff) {
			if (mysql_err(rs, p, n) == 0)
				rs->done = 1;
		}
		break;
	case RS_FLIST:
		if (b0 == 0xff) {
			if (mysql_err(rs, p, n) == 0)
				rs->done = 1;
		} else if (is_eof) {
			mysql_eof(rs, p, n);
			rs->done = 1;
		} else {
			mysql_column(rs, p, n, COL_RESULT);
			rs->cols_seen++;
			rs->num_fields++;
		}
		break;
	case RS_BINLOG:
		if (b0 == 0xff) {
			if (mysql_err(rs, p, n) == 0)
				rs->done = 1;
		} else if (is_eof) {
			rs->done = 1;
		} else {
			rs->num_rows++;      /* one replication event */
		}
		break;
	default:
		break;
	}
	return 0;
}

/* What a response that ended in P_AUTH means for the conversation. */
static void mysql_login_done(struct pb_txn_conn *c)
{
	struct mysql_state *s = mysql_st(c);
	struct mysql_req *rq = s->q.n ? pb_txn_queue_peek(&s->q, 0) : NULL;
	uint32_t both = s->cli_caps & s->srv_caps;

	s->phase = P_CMD;
	if (s->rs.is_err || !rq || rq->cmd != MYSQL_LOGIN)
		return;
	/* compression starts right after the OK, in both directions */
	if (s->have_greeting && (both & CAP_COMPRESS)) {
		s->d[0].mode = s->d[1].mode = M_ZLIB;
	} else if (s->have_greeting && (both & CAP_ZSTD)) {
		rq->zstd = 1;
		s->d[0].mode = s->d[1].mode = M_SKIP;
		s->phase = P_DONE;
	}
}

/* The response is complete: what it means for the session, then its
 * event. */
static void mysql_finish(struct pb_txn_conn *c)
{
	struct mysql_state *s = mysql_st(c);
	struct mysql_req *rq = s->q.n ? pb_txn_queue_peek(&s->q, 0) : NULL;

	if (s->rs.cmd == MYSQL_LOGIN) {
		mysql_login_done(c);
		s->rs.bytes += s->greet_bytes;
		s->greet_bytes = 0;
		if (s->rs.is_err)
			s->user[0] = 0;
	} else if (s->rs.has_prep) {
		mysql_stmt_keep_meta(s, &s->rs);
	} else if (s->rs.cmd == COM_CHANGE_USER && rq && rq->user) {
		if (!s->rs.is_err)
			mysql_copy(s->user, sizeof(s->user), rq->user, strlen(rq->user));
	}
	mysql_resp_done(c);
}

/* A logical packet from the server. */
static void mysql_server_packet(struct pb_txn_conn *c, const struct mysql_lp *lp)
{
	struct mysql_state *s = mysql_st(c);
	const uint8_t *p = (const uint8_t *)lp->keep.data;
	size_t n = lp->keep.len;

	if (s->phase == P_CONNECT && !s->have_greeting && lp->seq == 0 && n > 0 && !s->rs.active) {
		if (p[0] == 0x0a) {
			mysql_greeting(c, p, n);
			s->greet_bytes = lp->len + 4u * lp->npk;
			return;
		}
		if (p[0] == 0xff) {
			/* refused before the greeting ("Host ... is not allowed
			 * to connect"): a login that failed */
			s->rs.active = 1;
			s->rs.cmd = MYSQL_LOGIN;
			s->rs.start_ns = lp->start_ns;
			s->rs.first_pkt = lp->first_pkt;
			s->rs.end_ns = lp->end_ns;
			s->rs.last_pkt = lp->last_pkt;
			s->rs.bytes = lp->len + 4u * lp->npk;
			mysql_err(&s->rs, p, n);
			mysql_resp_done(c);
			s->phase = P_DONE;
			return;
		}
	}
	/* no request waits and none is being answered: nothing to pair
	 * (what was asked was not captured) */
	if (!s->rs.active && s->q.n == 0)
		return;
	if (mysql_resp_packet(c, lp)) {
		/* the response before ended without a last packet */
		mysql_finish(c);
		if (s->q.n == 0)
			return;
		mysql_resp_packet(c, lp);
	}
	if (s->rs.done)
		mysql_finish(c);
}

/* ---------------------------------------------------------- framing */

/* Where the bytes being framed came from, for their times: offset base
 * of the data parse() was given, and either each byte at its own offset
 * or (inflated bytes) all at base. */
struct mysql_src {
	size_t base;
	int fixed;
};

static void mysql_time(struct pb_txn_conn *c, int dir, const struct mysql_src *src, size_t i,
		       int64_t *ns, uint64_t *pkt)
{
	pb_txn_byte_time(c, dir, src->fixed ? src->base : src->base + i, ns, pkt);
}

/* A logical packet is complete: to the server's response reader or the
 * client's request reader. */
static void mysql_packet(struct pb_txn_conn *c, int dir)
{
	struct mysql_state *s = mysql_st(c);
	struct mysql_dir *d = &s->d[dir];

	if (dir == s->srv)
		mysql_server_packet(c, &d->lp);
	else
		mysql_client_packet(c, &d->lp);
	/* a buffer grown by a large packet goes back to the allocator */
	if (d->lp.keep.cap > (64u << 10)) {
		size_t max = d->lp.keep.max;

		pb_buf_release(&d->lp.keep);
		pb_buf_init(&d->lp.keep, max);
	}
	pb_buf_clear(&d->lp.keep);
}

/* Frame p[0..n) of dir into packets (mode says how the caller reads this
 * direction).  Every byte is consumed, except when a packet changes the
 * direction's mode (compression starts, TLS): then the count read so
 * far, and the caller goes on in the new mode. */
static size_t mysql_feed(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n,
			 const struct mysql_src *src, int mode)
{
	struct mysql_state *s = mysql_st(c);
	struct mysql_dir *d = &s->d[dir];
	struct mysql_lp *lp = &d->lp;
	size_t i = 0;

	while (i < n && d->mode == mode) {
		if (!d->in_payload) {
			size_t take = 4u - d->nhdr;

			/* the header, maybe split across calls: the packet's
			 * time is its first byte's */
			if (!lp->active && d->nhdr == 0)
				mysql_time(c, dir, src, i, &lp->start_ns, &lp->first_pkt);
			if (take > n - i)
				take = n - i;
			memcpy(d->hdr + d->nhdr, p + i, take);
			d->nhdr = (uint8_t)(d->nhdr + take);
			i += take;
			if (d->nhdr < 4)
				break;
			d->nhdr = 0;
			d->plen = (uint32_t)d->hdr[0] | (uint32_t)d->hdr[1] << 8 |
				  (uint32_t)d->hdr[2] << 16;
			if (!lp->active) {
				lp->active = 1;
				lp->seq = d->hdr[3];
				lp->len = 0;
				lp->npk = 0;
				lp->cut = lp->loss = 0;
				pb_buf_clear(&lp->keep);
			}
			lp->last_seq = d->hdr[3];
			lp->npk++;
			d->remain = d->plen;
			d->in_payload = 1;
		}
		if (d->remain > 0) {
			size_t take = d->remain < n - i ? d->remain : n - i;
			size_t room = lp->keep.max - lp->keep.len;

			/* the first bytes are kept, up to the cap; after a hole
			 * nothing more is, the kept bytes would lie */
			if (lp->loss)
				room = 0;
			if (take > room)
				lp->cut = 1;
			if (room > 0 && pb_buf_add(&lp->keep, p + i, take < room ? take : room) < 0)
				lp->cut = 1;
			lp->len += take;
			d->remain -= (uint32_t)take;
			i += take;
			if (d->remain > 0)
				break;
		}
		d->in_payload = 0;
		/* a full-length packet: the logical packet goes on */
		if (d->plen == 0xffffff)
			continue;
		mysql_time(c, dir, src, i > 0 ? i - 1 : 0, &lp->end_ns, &lp->last_pkt);
		lp->active = 0;
		mysql_packet(c, dir);
	}
	return i;
}

/* End both directions: what is pending is written (with note), nothing
 * more is read. */
static void mysql_give_up(struct pb_txn_conn *c, int loss_dir);

/* Frame compressed packets: inflate (or take raw) their payloads and
 * frame the packets inside. */
static size_t mysql_zfeed(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n, size_t base)
{
	struct mysql_state *s = mysql_st(c);
	struct mysql_dir *d = &s->d[dir];
	size_t i = 0;

	while (i < n && d->mode == M_ZLIB) {
		size_t take;
		struct mysql_src src;

		if (!d->cin) {
			take = 7u - d->nchdr;
			if (take > n - i)
				take = n - i;
			memcpy(d->chdr + d->nchdr, p + i, take);
			d->nchdr = (uint8_t)(d->nchdr + take);
			i += take;
			if (d->nchdr < 7)
				break;
			d->nchdr = 0;
			d->cremain = (uint32_t)d->chdr[0] | (uint32_t)d->chdr[1] << 8 |
				     (uint32_t)d->chdr[2] << 16;
			d->ulen = (uint32_t)d->chdr[4] | (uint32_t)d->chdr[5] << 8 |
				  (uint32_t)d->chdr[6] << 16;
			d->uout = 0;
			d->cin = d->cremain > 0;
			if (d->cin && d->ulen) {
				/* each compressed packet is one zlib stream */
				if (!d->zinit) {
					memset(&d->z, 0, sizeof(d->z));
					if (inflateInit(&d->z) != Z_OK) {
						mysql_give_up(c, -1);
						break;
					}
					d->zinit = 1;
				} else {
					inflateReset(&d->z);
				}
			}
			continue;
		}
		take = d->cremain < n - i ? d->cremain : n - i;
		if (d->ulen == 0) {
			/* sent as it is (short payloads) */
			src.base = base + i;
			src.fixed = 0;
			mysql_feed(c, dir, p + i, take, &src, M_ZLIB);
		} else {
			uint8_t out[MYSQL_ZCHUNK];
			int r = Z_OK;

			/* the inflated bytes take the time of the compressed
			 * bytes that carried them */
			src.base = base + i + take - 1;
			src.fixed = 1;
			d->z.next_in = p + i;
			d->z.avail_in = (uInt)take;
			while (d->mode == M_ZLIB && r != Z_STREAM_END) {
				size_t got;

				d->z.next_out = out;
				d->z.avail_out = sizeof(out);
				r = inflate(&d->z, Z_NO_FLUSH);
				got = sizeof(out) - d->z.avail_out;
				d->uout += got;
				/* more than it declared: a bomb, or not zlib */
				if ((r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) ||
				    d->uout > d->ulen) {
					mysql_error(c);
					mysql_give_up(c, -2);
					break;
				}
				if (got)
					mysql_feed(c, dir, out, got, &src, M_ZLIB);
				if (got == 0 && d->z.avail_in == 0)
					break;
				if (got == 0 && r == Z_BUF_ERROR)
					break;
			}
		}
		i += take;
		d->cremain -= (uint32_t)take;
		if (d->cremain == 0)
			d->cin = 0;
	}
	return i;
}

/* ------------------------------------------------------ resynchronising */

static uint32_t mysql_le24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* A packet could start at p (MYSQL_LOOK bytes there): for the client a
 * command (sequence 0, a command byte clients send); for the server the
 * first packet of a response (sequence 1, OK, ERR, EOF or a column
 * count).  A TLS record header is not taken. */
static int mysql_plausible(const struct mysql_state *s, int server, const uint8_t *p)
{
	uint32_t len = mysql_le24(p);
	uint8_t seq = p[3], b0 = p[4];

	if (len == 0 || len >= 0xffffff)
		return 0;
	if (p[0] >= 0x14 && p[0] <= 0x17 && p[1] == 0x03 && p[2] <= 0x04)
		return 0;
	if (!server) {
		uint8_t b1 = p[5];

		if (s->phase == P_CONNECT)
			/* the handshake response (or SSLRequest): sequence 1,
			 * at least 32 bytes, CLIENT_PROTOCOL_41 */
			return seq == 1 && len >= 32 && (p[5] & 0x02);
		if (seq != 0 || !mysql_cmd_known(b0))
			return 0;
		/* each command has a length it can have */
		switch (b0) {
		case COM_QUIT: case COM_STATISTICS: case COM_PROCESS_INFO:
		case COM_DEBUG: case COM_PING: case COM_RESET_CONNECTION:
			return len == 1;
		case COM_INIT_DB: case COM_CREATE_DB: case COM_DROP_DB:
			return len >= 2 && len <= 256;
		case COM_QUERY: case COM_STMT_PREPARE:
			/* text (or query attributes: a count, then 1) */
			return len >= 2 && (b1 >= 0x20 || b1 == '\t' || b1 == '\r' ||
					    b1 == '\n' || b1 == 0);
		case COM_STMT_CLOSE: case COM_STMT_RESET: case COM_PROCESS_KILL:
			return len == 5;
		case COM_STMT_FETCH:
			return len == 9;
		case COM_SET_OPTION:
			return len == 3;
		case COM_REFRESH:
			return len == 2;
		case COM_SHUTDOWN:
			return len <= 2;
		case COM_STMT_EXECUTE:
			return len >= 10;
		case COM_STMT_SEND_LONG_DATA:
			return len >= 7;
		default:
			return len >= 2;
		}
	}
	/* a greeting: sequence 0, protocol 10, a printable version */
	if (seq == 0 && b0 == 0x0a && !s->have_greeting)
		return len >= 30 && p[5] >= '0' && p[5] <= '9' ? 2 : 0;
	if (seq != 1 || (s->q.n == 0 && !s->rs.active))
		return 0;
	if (b0 == 0x00)
		return len >= 7;
	if (b0 == 0xff)
		return len >= 3;
	if (b0 == 0xfe)
		return len < 9;
	if (b0 < 0xfb)
		return len == 1;
	if (b0 == 0xfc)
		return len == 3;
	return 0;
}

/* A compressed packet could start at p: raw, with a plausible packet
 * inside; or zlib (its header: CMF 0x78 and a check multiple of 31). */
static int mysql_zplausible(const struct mysql_state *s, int server, const uint8_t *p)
{
	uint32_t clen = mysql_le24(p), ulen = mysql_le24(p + 4);

	if (clen == 0 || clen >= 0xffffff)
		return 0;
	if (ulen == 0)
		return clen >= 5 && mysql_le24(p + 7) + 4 <= clen && mysql_plausible(s, server, p + 7);
	return (server || p[3] == 0) && p[7] == 0x78 && ((p[7] << 8) | p[8]) % 31 == 0 &&
	       ulen >= clen / 2;
}

/* Skip to a byte where a packet (or a compressed packet) plausibly
 * starts.  Each decision looks at MYSQL_LOOK bytes only, so it is the
 * same whatever the segmentation. */
static size_t mysql_resync(struct pb_txn_conn *c, int dir, const uint8_t *p, size_t n)
{
	struct mysql_state *s = mysql_st(c);
	struct mysql_dir *d = &s->d[dir];
	int server = dir == s->srv;
	size_t k;

	/* a server with nothing to answer: nothing of it can be paired; only
	 * its very first bytes may still be a greeting */
	if (server && s->q.n == 0 && !s->rs.active && (s->have_greeting || d->seen))
		return n;
	for (k = 0; k + MYSQL_LOOK <= n; k++) {
		int r;

		if (mysql_zplausible(s, server, p + k)) {
			d->mode = M_ZLIB;
			break;
		}
		if (!d->rs_zlib && (r = mysql_plausible(s, server, p + k)) != 0) {
			/* a greeting: the connection phase, seen from there */
			if (r == 2)
				s->phase = P_CONNECT;
			d->mode = M_PLAIN;
			break;
		}
		if (server && s->q.n == 0 && !s->rs.active) {
			k = n;
			break;
		}
	}
	d->seen |= k > 0;
	if (d->mode != M_RESYNC) {
		d->nhdr = d->nchdr = 0;
		d->in_payload = d->cin = 0;
		d->lp.active = 0;
		if (d->mode == M_ZLIB)
			s->d[!dir].rs_zlib = 1;  /* the other side is compressed too */
		if (!server && s->phase != P_CONNECT)
			s->phase = P_CMD;
	}
	return k;
}

/* ---------------------------------------------------------- callbacks */

/* The first call: which endpoint is the server (the one on a configured
 * port), where the conversation starts, the keep caps. */
static void mysql_init(struct pb_txn_conn *c, int dir)
{
	struct mysql_state *s = mysql_st(c);
	const struct pb_proto_common *pc = c->common;
	const struct mysql_conf *cf = mysql_cf(c);
	uint64_t mms = pc ? pc->max_message_size : PB_TXN_DEF_MAX_MESSAGE;
	uint64_t srv_cap = MYSQL_SRV_KEEP + (uint64_t)cf->max_row_length;
	unsigned i;
	int e;

	s->init = 1;
	s->srv = 1;
	for (e = 1; e >= 0 && pc; e--) {
		for (i = 0; i < pc->n_ports; i++)
			if (pc->ports[i] == c->port[e])
				break;
		if (i < pc->n_ports) {
			s->srv = (uint8_t)e;
			break;
		}
	}
	if (mms < 1024)
		mms = 1024;
	s->d[!s->srv].keep_cap = (size_t)mms;
	s->d[s->srv].keep_cap = (size_t)(srv_cap < mms ? srv_cap : mms);
	for (e = 0; e < 2; e++)
		pb_buf_init(&s->d[e].lp.keep, s->d[e].keep_cap);
	pb_buf_init(&s->rs.err, MYSQL_MAX_TEXT + 8);
	pb_buf_init(&s->rs.info, MYSQL_MAX_TEXT + 8);
	pb_buf_init(&s->rs.path, MYSQL_MAX_PATH + 8);
	pb_buf_init(&s->rs.csv, MYSQL_MAX_CSV);
	pb_buf_init(&s->rs.head, MYSQL_SRV_KEEP);
	pb_txn_queue_init(&s->q, sizeof(struct mysql_req), MYSQL_MAX_PENDING);
	/* seen from its start: the connection phase comes first */
	s->phase = c->mid_stream[dir & 1] ? P_CMD : P_CONNECT;
}

/* A response that stopped where it could have ended (a PREPARE response
 * waiting for an EOF that CLIENT_DEPRECATE_EOF leaves out). */
static int mysql_resp_whole(const struct mysql_resp *rs)
{
	return rs->state == RS_PARAMS_END || rs->state == RS_PCOLS_END;
}

static int64_t mysql_timeout(const struct pb_txn_conn *c)
{
	return c->common && c->common->timeout_ns > 0 ? c->common->timeout_ns
						      : PB_TXN_DEF_TIMEOUT_NS;
}

/* Requests unanswered for transaction_timeout are written alone (not
 * while their response is being read); statements unused for
 * statement_timeout are forgotten. */
static void mysql_expire(struct pb_txn_conn *c, int64_t now_ns)
{
	struct mysql_state *s = mysql_st(c);
	int64_t to = mysql_timeout(c), sto = mysql_cf(c)->statement_timeout;
	unsigned i;

	if (!s || !s->init)
		return;
	while (s->q.n > 0 && !s->rs.active) {
		struct mysql_req *r = pb_txn_queue_peek(&s->q, 0), old;

		if (now_ns < r->end_ns || now_ns - r->end_ns < to)
			break;
		if (pb_txn_queue_pop(&s->q, &old) == 0)
			mysql_emit(c, &old, NULL);
	}
	for (i = 0; i < s->nstmts;) {
		if (now_ns >= s->stmts[i].used_ns && now_ns - s->stmts[i].used_ns >= sto)
			mysql_stmt_drop(s, i);
		else
			i++;
	}
}

static size_t mysql_parse(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct mysql_state *s = mysql_st(c);
	struct mysql_dir *d;
	size_t off = 0;

	dir &= 1;
	if (!s->init)
		mysql_init(c, dir);
	d = &s->d[dir];
	if (d->mode == M_NEW)
		d->mode = c->mid_stream[dir] ? M_RESYNC : M_PLAIN;
	mysql_expire(c, c->now_ns);
	while (off < len) {
		uint8_t mode = d->mode;
		size_t used = 0;
		struct mysql_src src;

		switch (mode) {
		case M_PLAIN:
			src.base = off;
			src.fixed = 0;
			used = mysql_feed(c, dir, data + off, len - off, &src, M_PLAIN);
			break;
		case M_ZLIB:
			used = mysql_zfeed(c, dir, data + off, len - off, off);
			break;
		case M_RESYNC:
			used = mysql_resync(c, dir, data + off, len - off);
			break;
		default:                 /* M_SKIP */
			return len;
		}
		off += used;
		/* nothing read and nothing changed: more bytes are needed */
		if (used == 0 && d->mode == mode)
			break;
	}
	return off;
}

/* Write everything pending: the response being read (with its request),
 * then each request still waiting. */
static void mysql_flush(struct pb_txn_conn *c)
{
	struct mysql_state *s = mysql_st(c);
	struct mysql_req r;

	if (s->rs.active) {
		if (!s->rs.done && !mysql_resp_whole(&s->rs) && !s->rs.loss)
			s->rs.incomplete = 1;
		mysql_finish(c);
	}
	while (s->q.n > 0 && pb_txn_queue_pop(&s->q, &r) == 0)
		mysql_emit(c, &r, NULL);
}

static void mysql_give_up(struct pb_txn_conn *c, int loss_dir)
{
	struct mysql_state *s = mysql_st(c);

	if (loss_dir == -2)
		s->zbad = 1;
	s->rs.loss = s->rs.active;
	mysql_flush(c);
	s->d[0].mode = s->d[1].mode = M_SKIP;
	s->phase = P_DONE;
}

static void mysql_gap(struct pb_txn_conn *c, int dir, uint64_t n)
{
	struct mysql_state *s = mysql_st(c);
	struct mysql_dir *d;

	dir &= 1;
	if (!s->init)
		mysql_init(c, dir);
	d = &s->d[dir];
	if (d->mode == M_SKIP || d->mode == M_RESYNC)
		return;
	if (d->mode == M_NEW) {
		d->mode = M_RESYNC;
		return;
	}
	/* inside one packet's payload: counted, and the framing holds */
	if (d->mode == M_PLAIN && d->in_payload && n < d->remain) {
		d->remain -= (uint32_t)n;
		d->lp.len += n;
		d->lp.loss = 1;
		return;
	}
	if (d->mode == M_ZLIB) {
		/* a compressed stream with a hole cannot be inflated on */
		mysql_give_up(c, dir);
		return;
	}
	/* the framing is lost: a command whose start was read is still
	 * written (its response will come); the rest of the packet is
	 * dropped */
	if (dir != s->srv && d->lp.active && d->lp.seq == 0 && d->lp.npk == 1 &&
	    d->lp.keep.len > 0 && s->phase == P_CMD) {
		d->lp.loss = 1;
		d->lp.active = 0;
		mysql_client_packet(c, &d->lp);
		pb_buf_clear(&d->lp.keep);
	}
	d->lp.active = 0;
	d->in_payload = 0;
	d->nhdr = 0;
	d->mode = M_RESYNC;
	d->rs_zlib = 0;
	d->seen = 1;
	if (dir == s->srv) {
		if (s->rs.active) {
			/* what was read goes out, noted (Packetbeat does so) */
			s->rs.loss = 1;
			mysql_finish(c);
		} else if (s->q.n > 0) {
			struct mysql_req r;

			/* its answer started in the hole */
			if (pb_txn_queue_pop(&s->q, &r) == 0) {
				r.resp_lost = 1;
				mysql_emit(c, &r, NULL);
			}
		}
	}
}

/* fin(): the direction ended.  A response cut there is written. */
static void mysql_fin(struct pb_txn_conn *c, int dir)
{
	struct mysql_state *s = mysql_st(c);

	if (!s->init || (dir & 1) != s->srv || !s->rs.active)
		return;
	if (!s->rs.done && !mysql_resp_whole(&s->rs) && !s->rs.loss)
		s->rs.incomplete = 1;
	mysql_finish(c);
}

/* close(): everything pending is written, everything freed; the state
 * is left zeroed. */
static void mysql_close(struct pb_txn_conn *c)
{
	struct mysql_state *s = mysql_st(c);
	unsigned i;
	int e;

	if (!s || !s->init)
		return;
	mysql_flush(c);
	for (i = 0; i < s->nstmts; i++)
		mysql_stmt_free(&s->stmts[i]);
	free(s->stmts);
	mysql_resp_release(&s->rs);
	pb_txn_queue_release(&s->q);
	for (e = 0; e < 2; e++) {
		pb_buf_release(&s->d[e].lp.keep);
		if (s->d[e].zinit)
			inflateEnd(&s->d[e].z);
	}
	memset(s, 0, sizeof(*s));
}

/* Packetbeat's default MySQL ports */
static const uint16_t mysql_ports[] = { 3306, 3307 };

/* the options of its own (pb_proto.keys) */
static const char *const mysql_keys[] = {
	"max_rows",
	"max_row_length",
	"statement_timeout",
	NULL
};

const struct pb_proto pb_proto_mysql = {
	.name = "mysql",
	.transports = PB_TP_TCP,
	.ports = mysql_ports,
	.n_ports = sizeof(mysql_ports) / sizeof(mysql_ports[0]),
	.conf_size = sizeof(struct mysql_conf),
	.conf_init = mysql_conf_init,
	.conf_load = mysql_conf_load,
	.state_size = sizeof(struct mysql_state),
	.parse = mysql_parse,
	.gap = mysql_gap,
	.fin = mysql_fin,
	.expire = mysql_expire,
	.close = mysql_close,
	.keys = mysql_keys,
};
