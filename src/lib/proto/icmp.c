/*
 * icmp.c - ICMP and ICMPv6 transactions: echo, timestamp, information and
 * address mask requests paired with their replies, every other message
 * reported alone, as Packetbeat's icmp analyzer does.
 *
 * References: RFC 792 (ICMP), RFC 950 (address mask), RFC 1122 3.2.2,
 * RFC 4443 (ICMPv6), RFC 4861 (neighbour discovery).
 *
 *  echo, timestamp, information, address mask (and ICMPv6 echo):
 *
 *   0               8               16                              31
 *  +---------------+---------------+-------------------------------+
 *  |     type      |     code      |           checksum            |
 *  +---------------+---------------+-------------------------------+
 *  |          identifier           |        sequence number        |
 *  +-------------------------------+-------------------------------+
 *  |  data ... (echo: any; timestamp: 3 x 32-bit times; mask: 32)  |
 *  +---------------------------------------------------------------
 *
 *  errors (unreachable, time exceeded, ...): the second word is unused,
 *  a pointer or an MTU, and the data quotes the packet that failed.
 *
 * What is counted: the bytes after the 8-byte header that were captured
 * (Packetbeat's 4 for a 12-byte ping).  A message shorter than 8 bytes
 * carries no id and sequence; Packetbeat drops it, and so do we (a parse
 * error).  Checksums are not verified: offload leaves them wrong in most
 * captures taken on the sending host.
 */
#include "proto/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/ecs.h"
#include "util/cursor.h"
#include "util/json.h"
#include "util/banned.h"

/*
 * Requests awaiting a reply, per conversation.  The engine gives each ping
 * process (echo id) its own conversation; `ping -f` at a silent host sends
 * 100 a second, so 1024 covers the default 10 s timeout.  Past it the
 * oldest is emitted unanswered to make room.
 */
#define ICMP_MAX_PENDING 1024
#define ICMP_MSG_MAX 64       /* longest message string, with its NUL */

/* Packetbeat's notes (error.message), word for word. */
static const char icmp_note_duplicate[] =
	"Another request with the same Id and Seq was received so this "
	"request was closed without receiving a response.";
static const char icmp_note_orphan_req[] =
	"Request was received without an associated response.";
static const char icmp_note_orphan_resp[] =
	"Response was received without an associated request.";
/* pbtools' own, when ICMP_MAX_PENDING pushes a request out. */
static const char icmp_note_overflow[] =
	"Too many requests were awaiting a response; the oldest was closed.";

/* One message as kept: when, where in the input, and what it was. */
struct icmp_msg {
	int64_t ns;
	uint64_t pkt;
	uint32_t bytes;           /* captured bytes after the header */
	uint8_t type, code;
};

struct icmp_pending {
	struct icmp_msg req;
	uint16_t id, seq;
	uint8_t dir;              /* the endpoint that asked */
};

/* c->state: the requests in arrival order (oldest first). */
struct icmp_state {
	struct icmp_pending *q;
	unsigned n, cap;
};

/* ---- message names, as Packetbeat 8 writes them (gopacket's tables) ---- */

struct icmp_name {
	uint8_t type;
	const char *name;
	const char *const *codes; /* NULL: the type uses no code */
	unsigned n_codes;
};

#define ICMP_N(a) (sizeof(a) / sizeof((a)[0]))

/* ICMPv4 codes, indexed by code (RFC 792, RFC 1122 3.2.2.1, RFC 1812) */
static const char *const icmp4_unreach[] = {
	"Net", "Host", "Protocol", "Port", "FragmentationNeeded",
	"SourceRoutingFailed", "NetUnknown", "HostUnknown", "SourceIsolated",
	"NetAdminProhibited", "HostAdminProhibited", "NetTOS", "HostTOS",
	"CommAdminProhibited", "HostPrecedence", "PrecedenceCutoff",
};
static const char *const icmp4_exceeded[] = {
	"TTLExceeded", "FragmentReassemblyTimeExceeded",
};
static const char *const icmp4_param[] = {
	"PointerIndicatesError", "MissingOption", "BadLength",
};
static const char *const icmp4_redirect[] = {
	"Net", "Host", "TOS+Net", "TOS+Host",
};

/* every type gopacket names; the others are written as numbers */
static const struct icmp_name icmp4_names[] = {
	{ 0, "EchoReply", NULL, 0 },
	{ 3, "DestinationUnreachable", icmp4_unreach, ICMP_N(icmp4_unreach) },
	{ 4, "SourceQuench", NULL, 0 },
	{ 5, "Redirect", icmp4_redirect, ICMP_N(icmp4_redirect) },
	{ 8, "EchoRequest", NULL, 0 },
	{ 9, "RouterAdvertisement", NULL, 0 },
	{ 10, "RouterSolicitation", NULL, 0 },
	{ 11, "TimeExceeded", icmp4_exceeded, ICMP_N(icmp4_exceeded) },
	{ 12, "ParameterProblem", icmp4_param, ICMP_N(icmp4_param) },
	{ 13, "TimestampRequest", NULL, 0 },
	{ 14, "TimestampReply", NULL, 0 },
	{ 15, "InfoRequest", NULL, 0 },
	{ 16, "InfoReply", NULL, 0 },
	{ 17, "AddressMaskRequest", NULL, 0 },
	{ 18, "AddressMaskReply", NULL, 0 },
};

/* ICMPv6 codes (RFC 4443 3.1, 3.3, 3.4) */
static const char *const icmp6_unreach[] = {
	"NoRouteToDst", "AdminProhibited", "BeyondScopeOfSrc",
	"AddressUnreachable", "PortUnreachable", "SrcAddressFailedPolicy",
	"RejectRouteToDst",
};
static const char *const icmp6_exceeded[] = {
	"HopLimitExceeded", "FragmentReassemblyTimeExceeded",
};
static const char *const icmp6_param[] = {
	"ErroneousHeaderField", "UnrecognizedNextHeader",
	"UnrecognizedIPv6Option",
};

/* no names for MLD (130-132, 143) or node information (139, 140) */
static const struct icmp_name icmp6_names[] = {
	{ 1, "DestinationUnreachable", icmp6_unreach, ICMP_N(icmp6_unreach) },
	{ 2, "PacketTooBig", NULL, 0 },
	{ 3, "TimeExceeded", icmp6_exceeded, ICMP_N(icmp6_exceeded) },
	{ 4, "ParameterProblem", icmp6_param, ICMP_N(icmp6_param) },
	{ 128, "EchoRequest", NULL, 0 },
	{ 129, "EchoReply", NULL, 0 },
	{ 133, "RouterSolicitation", NULL, 0 },
	{ 134, "RouterAdvertisement", NULL, 0 },
	{ 135, "NeighborSolicitation", NULL, 0 },
	{ 136, "NeighborAdvertisement", NULL, 0 },
	{ 137, "Redirect", NULL, 0 },
};

/*
 * "EchoReply" (a type without codes, code 0), "Redirect(Host)" (a named
 * code), "EchoReply(Code: 7)" (any other code), "42(3)" (unknown type).
 */
static size_t icmp_message(char *out, size_t size, int v6, uint8_t type, uint8_t code)
{
	const struct icmp_name *tab = v6 ? icmp6_names : icmp4_names;
	size_t i, n = v6 ? ICMP_N(icmp6_names) : ICMP_N(icmp4_names);
	int w = -1;

	/* a handful of entries: a scan is the cheapest lookup */
	for (i = 0; i < n && tab[i].type != type; i++)
		;
	if (i == n)
		w = snprintf(out, size, "%u(%u)", (unsigned)type, (unsigned)code);
	else if (!tab[i].codes && code == 0)
		w = snprintf(out, size, "%s", tab[i].name);
	else if (tab[i].codes && code < tab[i].n_codes)
		w = snprintf(out, size, "%s(%s)", tab[i].name, tab[i].codes[code]);
	else
		w = snprintf(out, size, "%s(Code: %u)", tab[i].name, (unsigned)code);
	/* the tables' longest is 46 characters: never cut, but be sure */
	if (w < 0)
		return 0;
	return (size_t)w < size ? (size_t)w : size - 1;
}

/* ---- Packetbeat's classes (protos/icmp/message.go) ---- */

/* Replies: every other type counts as a request. */
static int icmp_is_reply(int v6, uint8_t type)
{
	if (v6)
		return type == 129;
	return type == 0 || type == 14 || type == 16 || type == 18;
}

/* Types that wait for a counterpart; all others are emitted at once.
 * Packetbeat pairs no ICMPv6 type but echo (not router or neighbour
 * discovery, which have no id and sequence). */
static int icmp_is_pair(int v6, uint8_t type)
{
	if (v6)
		return type == 128 || type == 129;
	return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

/* Errors make the status "Error". */
static int icmp_is_error(int v6, uint8_t type)
{
	if (v6)
		return type >= 1 && type <= 4;
	return type == 3 || type == 4 || type == 11 || type == 12;
}

/* ---- emitting ---- */

/* What the write() callback needs, on the emitter's stack. */
struct icmp_view {
	int v6;
	const struct icmp_msg *req, *resp;
};

static void icmp_write_msg(struct pb_json *j, int v6, const struct icmp_msg *m)
{
	char s[ICMP_MSG_MAX];

	pb_json_obj(j);
	pb_json_key(j, "message");
	pb_json_ascii(j, s, icmp_message(s, sizeof(s), v6, m->type, m->code));
	pb_json_key(j, "type");
	pb_json_u64(j, m->type);
	pb_json_key(j, "code");
	pb_json_u64(j, m->code);
	pb_json_obj_end(j);
}

/* "icmp": {"version", "request": {...}, "response": {...}} */
static void icmp_write(struct pb_json *j, const struct pb_txn *t, void *arg)
{
	const struct icmp_view *v = arg;

	(void)t;
	pb_json_key(j, "icmp");
	pb_json_obj(j);
	pb_json_key(j, "version");
	pb_json_u64(j, v->v6 ? 6 : 4);
	if (v->req) {
		pb_json_key(j, "request");
		icmp_write_msg(j, v->v6, v->req);
	}
	if (v->resp) {
		pb_json_key(j, "response");
		icmp_write_msg(j, v->v6, v->resp);
	}
	pb_json_obj_end(j);
}

/*
 * One event.  client is the endpoint that asked (for a lone reply, the one
 * it was sent to; for a lone message, its sender); path is the other
 * end's address, as Packetbeat sets it.  Status as Packetbeat's HasError:
 * no request, an error type on either side, or a request left unanswered.
 */
static void icmp_emit(struct pb_txn_conn *c, int client, const struct icmp_msg *req,
		      const struct icmp_msg *resp, const char *note, const char *note2)
{
	int v6 = c->transport == 58, alen = c->family == 4 ? 4 : 16;
	struct icmp_view v = { v6, req, resp };
	const struct icmp_msg *first = req ? req : resp;
	const struct icmp_msg *last = resp ? resp : req;
	char path[48];
	struct pb_txn t;
	int err;

	if (!first)
		return;
	/* ICMP has no ports, no raw text, and event.type ["connection"] */
	memset(&t, 0, sizeof(t));
	t.client = (uint8_t)(client & 1);
	t.has_request = req != NULL;
	t.has_response = resp != NULL;
	/* a type that has no reply is a message on its own, not unanswered */
	t.single = req && !resp && !icmp_is_pair(v6, req->type);
	t.event_type_connection_only = 1;
	/* the Community ID takes the request's type and code, else the reply's */
	t.has_icmp = 1;
	t.icmp_type = first->type;
	t.icmp_code = first->code;
	/* a message alone starts and ends at its own packet */
	t.start_ns = first->ns;
	t.end_ns = last->ns;
	t.first_pkt = first->pkt;
	t.last_pkt = last->pkt;
	/* source.bytes / destination.bytes: 0 for the side not seen */
	t.request_bytes = req ? req->bytes : 0;
	t.response_bytes = resp ? resp->bytes : 0;
	err = !req || icmp_is_error(v6, req->type) ||
	      (resp && icmp_is_error(v6, resp->type)) ||
	      (!resp && icmp_is_pair(v6, req->type));
	t.status = err ? "Error" : "OK";
	/* path: what was "requested", the server's address */
	path[pb_format_ip(path, c->addr[!t.client], alen)] = '\0';
	t.path = path;
	if (note)
		pb_txn_note(&t, note);
	if (note2)
		pb_txn_note(&t, note2);
	t.write = icmp_write;
	t.arg = &v;
	pb_txn_emit(c, &t);
}

/* Take pending request i out of the queue, keeping the others' order. */
static struct icmp_pending icmp_take(struct icmp_state *s, unsigned i)
{
	struct icmp_pending p = s->q[i];

	memmove(&s->q[i], &s->q[i + 1], (s->n - i - 1) * sizeof(s->q[0]));
	s->n--;
	return p;
}

/* Emit pending request i unanswered and drop it. */
static void icmp_flush_one(struct pb_txn_conn *c, struct icmp_state *s, unsigned i,
			   const char *note, const char *note2)
{
	struct icmp_pending p = icmp_take(s, i);

	icmp_emit(c, p.dir, &p.req, NULL, note, note2);
}

/* The pending request from `dir` with this id and sequence, or -1. */
static int icmp_find(const struct icmp_state *s, int any_dir, int dir, uint16_t id,
		     uint16_t seq)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (s->q[i].id == id && s->q[i].seq == seq &&
		    (any_dir || s->q[i].dir == dir))
			return (int)i;
	return -1;
}

/* Queue a request; 0, or -1 when no memory could be had for it. */
static int icmp_push(struct pb_txn_conn *c, struct icmp_state *s, int dir,
		     const struct icmp_msg *m, uint16_t id, uint16_t seq)
{
	if (s->n == ICMP_MAX_PENDING)
		icmp_flush_one(c, s, 0, icmp_note_orphan_req, icmp_note_overflow);
	if (s->n == s->cap) {
		/* grow by doubling: no allocation per packet once warm */
		unsigned ncap = s->cap ? s->cap * 2 : 8;
		struct icmp_pending *q;

		if (ncap > ICMP_MAX_PENDING)
			ncap = ICMP_MAX_PENDING;
		q = realloc(s->q, ncap * sizeof(*q));
		if (!q)
			return -1;
		s->q = q;
		s->cap = ncap;
	}
	/* the newest at the tail: the queue stays in arrival order */
	s->q[s->n].req = *m;
	s->q[s->n].id = id;
	s->q[s->n].seq = seq;
	s->q[s->n].dir = (uint8_t)dir;
	s->n++;
	return 0;
}

/* ---- the parser ---- */

static void icmp_datagram(struct pb_txn_conn *c, int dir, const uint8_t *data, size_t len)
{
	struct icmp_state *s = c->state;
	int v6 = c->transport == 58, alen = c->family == 4 ? 4 : 16;
	struct icmp_pending p;
	struct icmp_msg m;
	struct pb_cur cur;
	uint16_t id, seq;
	int i;

	/* the header: type, code, checksum, then the second word */
	dir &= 1;
	pb_cur_init(&cur, data, data ? len : 0);
	m.type = pb_cur_u8(&cur);
	m.code = pb_cur_u8(&cur);
	pb_cur_skip(&cur, 2);                 /* checksum: not verified */
	/* bytes 4-7: id and sequence for the pair types; Packetbeat reads
	 * them for every message and drops one that lacks them */
	id = pb_cur_be16(&cur);
	seq = pb_cur_be16(&cur);
	if (!pb_cur_ok(&cur)) {
		if (c->st)
			c->st->parse_errors++;
		return;
	}
	/* a datagram is one packet: its time and index are the message's */
	m.ns = c->now_ns;
	m.pkt = c->now_pkt;
	/* what follows the header, as captured (Packetbeat's payload) */
	m.bytes = (uint32_t)(pb_cur_left(&cur) > UINT32_MAX ? UINT32_MAX : pb_cur_left(&cur));

	if (!icmp_is_pair(v6, m.type)) {
		/* errors, redirects, router and neighbour discovery: alone, now */
		icmp_emit(c, dir, &m, NULL, NULL, NULL);
		return;
	}
	if (icmp_is_reply(v6, m.type)) {
		/* the request went the other way (either way when a host pings
		 * itself: both ends then have the same address) */
		int same = memcmp(c->addr[0], c->addr[1], (size_t)alen) == 0;

		i = icmp_find(s, same, !dir, id, seq);
		if (i < 0) {
			icmp_emit(c, !dir, NULL, &m, icmp_note_orphan_resp, NULL);
			return;
		}
		/* the pair: one event, the request's sender as the client */
		p = icmp_take(s, (unsigned)i);
		icmp_emit(c, p.dir, &p.req, &m, NULL, NULL);
		return;
	}
	/* a request: one already waiting with the same id and sequence from
	 * the same sender is closed unanswered first */
	i = icmp_find(s, 0, dir, id, seq);
	if (i >= 0)
		icmp_flush_one(c, s, (unsigned)i, icmp_note_duplicate, NULL);
	if (icmp_push(c, s, dir, &m, id, seq) < 0)
		icmp_emit(c, dir, &m, NULL, icmp_note_orphan_req, NULL);
}

/* Requests older than the transaction timeout go out unanswered, oldest
 * first.  Capture time can step back, so every entry is looked at. */
static void icmp_expire(struct pb_txn_conn *c, int64_t now_ns)
{
	struct icmp_state *s = c->state;
	int64_t to = c->common && c->common->timeout_ns > 0 ? c->common->timeout_ns
							   : PB_TXN_DEF_TIMEOUT_NS;
	unsigned i = 0;

	while (i < s->n) {
		int64_t at = s->q[i].req.ns;

		/* older than the timeout, without signed overflow */
		if (now_ns > at && (uint64_t)now_ns - (uint64_t)at > (uint64_t)to)
			icmp_flush_one(c, s, i, icmp_note_orphan_req, NULL);
		else
			i++;
	}
}

/* The conversation ended: every request left is unanswered. */
static void icmp_close(struct pb_txn_conn *c)
{
	struct icmp_state *s = c->state;

	while (s->n > 0)
		icmp_flush_one(c, s, 0, icmp_note_orphan_req, NULL);
	/* the state itself belongs to the engine; it may be reused */
	free(s->q);
	s->q = NULL;
	s->cap = 0;
}

/* the options of its own (pb_proto.keys) */
static const char *const icmp_keys[] = {
	NULL
};

const struct pb_proto pb_proto_icmp = {
	.name = "icmp",
	.transports = PB_TP_ICMP,
	.ports = NULL,
	.n_ports = 0,
	.state_size = sizeof(struct icmp_state),
	.datagram = icmp_datagram,
	.expire = icmp_expire,
	.close = icmp_close,
	.keys = icmp_keys,
};
