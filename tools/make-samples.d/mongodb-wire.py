#!/usr/bin/env python3
# tools/make-samples.d/mongodb-wire.py - a minimal MongoDB wire protocol
# server and client for tools/make-samples (section mongodb).  MongoDB is
# not in Debian, so both ends are here: every message is built byte by
# byte from the wire protocol specification (standard header; OP_MSG with
# its sections, flagBits and CRC-32C; OP_COMPRESSED with snappy, zlib and
# zstd; the legacy OP_QUERY, OP_REPLY, OP_GET_MORE, OP_INSERT, OP_UPDATE,
# OP_DELETE, OP_KILL_CURSORS) and BSON 1.1.  Nothing is random: the same
# bytes on every run.
#
#   mongodb-wire.py server ADDR PORT    answer one connection per script,
#                                       then exit
#   mongodb-wire.py client ADDR PORT    run the scripts, one connection each
#
# The server does not interpret what it reads: it reads one message by
# its length and sends the answers the script gives for that step, with
# responseTo set to the requestID it read.
import socket
import struct
import sys
import zlib

import snappy
import zstandard

# --- BSON ------------------------------------------------------------------


class Raw:
    """A value given as (type byte, encoded bytes)."""
    def __init__(self, t, b):
        self.t, self.b = t, b


def cstr(s):
    return s.encode() + b"\0"


def bstr(s):
    b = s.encode()
    return struct.pack("<i", len(b) + 1) + b + b"\0"


def doc(items):
    """items: a list of (name, value) pairs, in order."""
    out = b""
    for k, v in items:
        t, b = element(v)
        out += bytes([t]) + cstr(k) + b
    return struct.pack("<i", len(out) + 5) + out + b"\0"


def arr(values):
    return doc([(str(i), v) for i, v in enumerate(values)])


def element(v):
    if isinstance(v, Raw):
        return v.t, v.b
    if isinstance(v, bool):
        return 0x08, b"\1" if v else b"\0"
    if v is None:
        return 0x0A, b""
    if isinstance(v, float):
        return 0x01, struct.pack("<d", v)
    if isinstance(v, int):
        if -2**31 <= v < 2**31:
            return 0x10, struct.pack("<i", v)
        return 0x12, struct.pack("<q", v)
    if isinstance(v, str):
        return 0x02, bstr(v)
    if isinstance(v, list) and (not v or isinstance(v[0], tuple)):
        return 0x03, doc(v)
    if isinstance(v, tuple) and v and v[0] == "array":
        return 0x04, arr(v[1])
    raise TypeError(v)


def A(*values):
    return ("array", list(values))


def int64(v):
    return Raw(0x12, struct.pack("<q", v))


def oid(h):
    return Raw(0x07, bytes.fromhex(h))


def date(ms):
    return Raw(0x09, struct.pack("<q", ms))


def binary(sub, b):
    return Raw(0x05, struct.pack("<i", len(b)) + bytes([sub]) + b)


def regex(p, o):
    return Raw(0x0B, cstr(p) + cstr(o))


def ts(t, i):
    return Raw(0x11, struct.pack("<II", i, t))


def dec128(lo, hi):
    return Raw(0x13, struct.pack("<QQ", lo, hi))


UNDEFINED = Raw(0x06, b"")
MINKEY = Raw(0xFF, b"")
MAXKEY = Raw(0x7F, b"")


def code(s):
    return Raw(0x0D, bstr(s))


def symbol(s):
    return Raw(0x0E, bstr(s))


def code_w_scope(s, scope):
    body = bstr(s) + doc(scope)
    return Raw(0x0F, struct.pack("<i", len(body) + 4) + body)


def dbptr(ns, h):
    return Raw(0x0C, bstr(ns) + bytes.fromhex(h))


# --- messages ----------------------------------------------------------------
OP_REPLY, OP_UPDATE, OP_INSERT, OP_QUERY = 1, 2001, 2002, 2004
OP_GET_MORE, OP_DELETE, OP_KILL_CURSORS = 2005, 2006, 2007
OP_COMPRESSED, OP_MSG = 2012, 2013
CHECKSUM, MORE_TO_COME, EXHAUST_ALLOWED = 1, 2, 1 << 16


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def header(length, rid, to, op):
    return struct.pack("<iiii", length, rid, to, op)


def message(rid, to, op, body):
    return header(16 + len(body), rid, to, op) + body


def op_msg(rid, to, body_doc, flags=0, seqs=()):
    """seqs: (identifier, [documents]) kind 1 sections."""
    b = struct.pack("<I", flags) + b"\0" + body_doc
    for ident, docs in seqs:
        payload = cstr(ident) + b"".join(docs)
        b += b"\1" + struct.pack("<i", len(payload) + 4) + payload
    if flags & CHECKSUM:
        m = header(16 + len(b) + 4, rid, to, OP_MSG) + b
        return m + struct.pack("<I", crc32c(m))
    return message(rid, to, OP_MSG, b)


def compressed(msg, cid):
    """msg: a whole message; it is wrapped in OP_COMPRESSED."""
    _, rid, to, op = struct.unpack("<iiii", msg[:16])
    body = msg[16:]
    z = {1: lambda b: snappy.compress(b),
         2: lambda b: zlib.compress(b, 6),
         3: lambda b: zstandard.ZstdCompressor(level=3, write_content_size=True).compress(b)}[cid](body)
    return message(rid, to, OP_COMPRESSED, struct.pack("<iiB", op, len(body), cid) + z)


def op_query(rid, fcn, skip, ret, q, sel=None, flags=0):
    b = struct.pack("<i", flags) + cstr(fcn) + struct.pack("<ii", skip, ret) + q
    if sel is not None:
        b += sel
    return message(rid, 0, OP_QUERY, b)


def op_reply(rid, to, docs, cursor=0, start=0, flags=8):
    b = struct.pack("<iqii", flags, cursor, start, len(docs)) + b"".join(docs)
    return message(rid, to, OP_REPLY, b)


# --- the conversations ---------------------------------------------------------
# Each script is one connection: a list of steps (request, [replies]); a
# reply is a function of the requestID the server read.  Requests number
# from 1 on each connection, replies from 1000.

CLIENT = [("application", [("name", "pbtools-samples")]),
          ("driver", [("name", "mongodb-wire.py"), ("version", "1.0")]),
          ("os", [("type", "Linux")])]

# one document with every BSON type
ALL_TYPES = doc([
    ("_id", oid("650000000000000000000001")),
    ("name", "a"), ("qty", 5), ("price", 2.5), ("big", int64(2**40)),
    ("ok", True), ("none", None), ("tags", A("x", "y")),
    ("when", date(1700000000123)), ("bin", binary(0, b"pbtools")),
    ("uuid", binary(4, bytes.fromhex("00112233445566778899aabbccddeeff"))),
    ("re", regex("^a.*", "i")), ("ts", ts(1700000000, 7)),
    ("dec", dec128(12345, 0x3040000000000000 - (2 << 49))),
    ("min", MINKEY), ("max", MAXKEY), ("undef", UNDEFINED),
    ("js", code("function () { return 1; }")),
    ("sym", symbol("sym")),
    ("jsws", code_w_scope("x + y", [("x", 1), ("y", 2)])),
    ("ptr", dbptr("shop.other", "650000000000000000000009")),
    ("sub", [("a", [("b", [("c", -1.0)])])]),
])
DOC_B = doc([("_id", oid("650000000000000000000002")), ("name", "b"), ("qty", 3)])
DOC_C = doc([("_id", oid("650000000000000000000003")), ("name", "c"), ("qty", 4)])
CURSOR_ID = 8234678623487


def ok_reply(items, flags=0):
    return lambda rid, to: op_msg(rid, to, doc(items + [("ok", 1.0)]), flags)


def cmd(items, db):
    return doc(items + [("$db", db)])


HELLO_REPLY = [("helloOk", True), ("isWritablePrimary", True),
               ("topologyVersion", [("processId", oid("650000000000000000000100")),
                                    ("counter", int64(0))]),
               ("maxBsonObjectSize", 16777216), ("maxMessageSizeBytes", 48000000),
               ("maxWriteBatchSize", 100000), ("localTime", date(1700000000000)),
               ("connectionId", 1), ("minWireVersion", 0), ("maxWireVersion", 21),
               ("compression", A("snappy", "zlib", "zstd"))]

MODERN = [
    # the handshake, then the CRUD commands of a driver (OP_MSG)
    (lambda i: op_msg(i, 0, cmd([("hello", 1), ("client", CLIENT),
                                 ("compression", A("snappy", "zlib", "zstd"))], "admin")),
     [ok_reply(HELLO_REPLY)]),
    # insert: the documents in a kind 1 section
    (lambda i: op_msg(i, 0, cmd([("insert", "things"), ("ordered", True)], "shop"),
                      seqs=[("documents", [ALL_TYPES, DOC_B, DOC_C])]),
     [ok_reply([("n", 3)])]),
    # find with a batch of 2, then getMore on the cursor
    (lambda i: op_msg(i, 0, cmd([("find", "things"), ("filter", [("qty", [("$gt", 1)])]),
                                 ("sort", [("name", 1)]), ("batchSize", 2)], "shop")),
     [ok_reply([("cursor", [("firstBatch", A(Raw(3, ALL_TYPES), Raw(3, DOC_B))),
                            ("id", int64(CURSOR_ID)), ("ns", "shop.things")])])]),
    (lambda i: op_msg(i, 0, cmd([("getMore", int64(CURSOR_ID)), ("collection", "things"),
                                 ("batchSize", 2)], "shop")),
     [ok_reply([("cursor", [("nextBatch", A(Raw(3, DOC_C))), ("id", int64(0)),
                            ("ns", "shop.things")])])]),
    (lambda i: op_msg(i, 0, cmd([("update", "things"),
                                 ("updates", A([("q", [("name", "b")]),
                                                ("u", [("$set", [("qty", 7)])])])),
                                 ("ordered", True)], "shop")),
     [ok_reply([("n", 1), ("nModified", 1)])]),
    (lambda i: op_msg(i, 0, cmd([("delete", "things"),
                                 ("deletes", A([("q", [("name", "c")]), ("limit", 1)]))],
                                "shop")),
     [ok_reply([("n", 1)])]),
    (lambda i: op_msg(i, 0, cmd([("aggregate", "things"),
                                 ("pipeline", A([("$match", [("qty", [("$gte", 1)])])],
                                                [("$group", [("_id", None),
                                                             ("total", [("$sum", "$qty")])])])),
                                 ("cursor", [])], "shop")),
     [ok_reply([("cursor", [("firstBatch", A([("_id", None), ("total", 12)])),
                            ("id", int64(0)), ("ns", "shop.things")])])]),
    # a command that fails: ok 0 with errmsg, code, codeName
    (lambda i: op_msg(i, 0, cmd([("drop", "nosuch")], "shop")),
     [lambda rid, to: op_msg(rid, to, doc([("ok", 0.0), ("errmsg", "ns not found"),
                                           ("code", 26), ("codeName", "NamespaceNotFound")]))]),
    # a duplicate key: ok 1 with writeErrors
    (lambda i: op_msg(i, 0, cmd([("insert", "things"),
                                 ("documents", A([("_id", oid("650000000000000000000002")),
                                                  ("name", "b")]))], "shop")),
     [ok_reply([("n", 0), ("writeErrors", A([
         ("index", 0), ("code", 11000),
         ("errmsg", "E11000 duplicate key error collection: shop.things index: _id_ "
                    "dup key: { _id: ObjectId('650000000000000000000002') }")]))])]),
    # checksumPresent both ways
    (lambda i: op_msg(i, 0, cmd([("ping", 1)], "admin"), CHECKSUM),
     [ok_reply([], CHECKSUM)]),
    # moreToCome on a request: an unacknowledged write, no reply
    (lambda i: op_msg(i, 0, cmd([("insert", "log"), ("writeConcern", [("w", 0)])], "shop"),
                      MORE_TO_COME, seqs=[("documents", [doc([("msg", "fire and forget")])])]),
     []),
    # exhaust: a streaming hello answered three times, the first two with
    # moreToCome (each names the previous reply in responseTo)
    (lambda i: op_msg(i, 0, cmd([("hello", 1), ("topologyVersion",
                                                [("processId", oid("650000000000000000000100")),
                                                 ("counter", int64(0))]),
                                 ("maxAwaitTimeMS", 10000)], "admin"), EXHAUST_ALLOWED),
     [ok_reply(HELLO_REPLY, MORE_TO_COME), ok_reply(HELLO_REPLY, MORE_TO_COME),
      ok_reply(HELLO_REPLY)]),
    # OP_COMPRESSED, with each compressor, both ways
    (lambda i: compressed(op_msg(i, 0, cmd([("find", "things"), ("filter", [("name", "a")]),
                                            ("limit", 1)], "shop")), 1),
     [lambda rid, to: compressed(ok_reply([("cursor", [("firstBatch", A(Raw(3, ALL_TYPES))),
                                                       ("id", int64(0)),
                                                       ("ns", "shop.things")])])(rid, to), 1)]),
    (lambda i: compressed(op_msg(i, 0, cmd([("count", "things"), ("query", [])], "shop")), 2),
     [lambda rid, to: compressed(ok_reply([("n", 2)])(rid, to), 2)]),
    (lambda i: compressed(op_msg(i, 0, cmd([("insert", "things"), ("documents",
                                                                   A([("name", "z" * 300)]))],
                                           "shop")), 3),
     [lambda rid, to: compressed(ok_reply([("n", 1)])(rid, to), 3)]),
    (lambda i: op_msg(i, 0, cmd([("endSessions", A([("id", binary(4, bytes(16)))]))], "admin")),
     [ok_reply([])]),
]

LEGACY = [
    # a 3.x-era client: the handshake and commands by OP_QUERY on db.$cmd
    (lambda i: op_query(i, "admin.$cmd", 0, -1, doc([("isMaster", 1), ("client", CLIENT)])),
     [lambda rid, to: op_reply(rid, to, [doc([("ismaster", True), ("maxWireVersion", 5),
                                              ("ok", 1.0)])])]),
    # a find with skip, limit and a field selector, answered with a cursor
    (lambda i: op_query(i, "shop.things", 1, 2, doc([("qty", [("$gte", 1)])]),
                        doc([("name", 1)])),
     [lambda rid, to: op_reply(rid, to, [doc([("_id", oid("650000000000000000000002")),
                                              ("name", "b")]),
                                         doc([("_id", oid("650000000000000000000003")),
                                              ("name", "c")])], cursor=CURSOR_ID)]),
    (lambda i: message(i, 0, OP_GET_MORE, struct.pack("<i", 0) + cstr("shop.things") +
                       struct.pack("<iq", 2, CURSOR_ID)),
     [lambda rid, to: op_reply(rid, to, [doc([("_id", oid("650000000000000000000004")),
                                              ("name", "d")])], cursor=0, start=2)]),
    # the legacy writes: no reply
    (lambda i: message(i, 0, OP_INSERT, struct.pack("<i", 0) + cstr("shop.things") +
                       doc([("name", "e"), ("qty", 1)]) + doc([("name", "f"), ("qty", 2)])),
     []),
    (lambda i: message(i, 0, OP_UPDATE, struct.pack("<i", 0) + cstr("shop.things") +
                       struct.pack("<i", 1) + doc([("name", "e")]) +
                       doc([("$inc", [("qty", 1)])])),
     []),
    (lambda i: message(i, 0, OP_DELETE, struct.pack("<i", 0) + cstr("shop.things") +
                       struct.pack("<i", 1) + doc([("name", "f")])),
     []),
    (lambda i: message(i, 0, OP_KILL_CURSORS, struct.pack("<iiq", 0, 1, CURSOR_ID)), []),
    # a query that fails: QueryFailure and $err
    (lambda i: op_query(i, "shop.things", 0, 0, doc([("$where", code("sleep(")) ])),
     [lambda rid, to: op_reply(rid, to, [doc([("$err", "SyntaxError: missing ) after "
                                                       "argument list"), ("code", 139)])],
                               flags=2)]),
]

SCRIPTS = [MODERN, LEGACY]


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def recv_message(s):
    h = recv_exact(s, 16)
    (length,) = struct.unpack("<i", h[:4])
    return h + recv_exact(s, length - 16)


def server(addr, port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    print("listening", flush=True)
    for script in SCRIPTS:
        s, _ = ls.accept()
        # one segment per message, as drivers send them
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rid = 1000
        for _, replies in script:
            m = recv_message(s)
            (to,) = struct.unpack("<i", m[4:8])
            for r in replies:
                s.sendall(r(rid, to))
                # the next reply of an exhaust stream answers this one
                to = rid
                rid += 1
        s.close()
    ls.close()


def client(addr, port):
    for script in SCRIPTS:
        s = socket.create_connection((addr, port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rid = 1
        for request, replies in script:
            s.sendall(request(rid))
            for _ in replies:
                recv_message(s)
            rid += 1
        s.close()


if __name__ == "__main__":
    {"server": server, "client": client}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
