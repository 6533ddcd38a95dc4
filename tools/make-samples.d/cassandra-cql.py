#!/usr/bin/python3
"""cassandra-cql.py - a minimal CQL native protocol server and scripted
client for tools/make-samples (section cassandra).

Cassandra is not packaged in Debian, so the samples come from this pair
instead: both build their frames byte for byte from the specifications
(apache/cassandra doc/native_protocol_v3.spec, native_protocol_v4.spec
and native_protocol_v5.spec): frame headers, [string], [long string],
[bytes], [string map], [string multimap], query parameters, the RESULT
kinds, ERROR bodies with their details, EVENTs; bodies compressed with
LZ4 (4-byte big-endian length and a block) or Snappy; and the v5 segments
(6-byte header with a CRC24, or 8 bytes with LZ4, and a CRC32 trailer).

    cassandra-cql.py server HOST PORT
    cassandra-cql.py client HOST PORT SCENARIO

The server answers from a small table keyed by the query text (it is not a
database).  SCENARIO is one of: v4, auth, v3, lz4, snappy, v5, v5lz4.
Only the Python standard library, python3-lz4 and python3-snappy.
"""
import hashlib
import socket
import struct
import sys
import threading
import zlib

import lz4.block
import snappy

# ---- opcodes, flags --------------------------------------------------------
ERROR, STARTUP, READY, AUTHENTICATE, OPTIONS, SUPPORTED, QUERY, RESULT = 0, 1, 2, 3, 5, 6, 7, 8
PREPARE, EXECUTE, REGISTER, EVENT, BATCH = 9, 10, 11, 12, 13
AUTH_CHALLENGE, AUTH_RESPONSE, AUTH_SUCCESS = 14, 15, 16
F_COMPRESS, F_TRACING, F_CUSTOM, F_WARNING = 1, 2, 4, 8
ONE, QUORUM, ALL = 1, 4, 5
T_INT, T_VARCHAR, T_BLOB, T_BIGINT = 0x0009, 0x000D, 0x0003, 0x0002


# ---- notations (spec section 3) --------------------------------------------
def short(n):
    return struct.pack(">H", n)


def int_(n):
    return struct.pack(">i", n)


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return short(len(b)) + b


def long_string(s):
    b = s.encode()
    return int_(len(b)) + b


def bytes_(b):
    return int_(-1) if b is None else int_(len(b)) + b


def short_bytes(b):
    return short(len(b)) + b


def string_list(items):
    return short(len(items)) + b"".join(string(x) for x in items)


def string_map(pairs):
    return short(len(pairs)) + b"".join(string(k) + string(v) for k, v in pairs)


def string_multimap(pairs):
    return short(len(pairs)) + b"".join(string(k) + string_list(v) for k, v in pairs)


def inet(a, port):
    return bytes([4]) + socket.inet_aton(a) + int_(port)


class Reader:
    """Reads [notations] from a body."""

    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, n):
        v = self.b[self.p:self.p + n]
        if len(v) != n:
            raise ValueError("short body")
        self.p += n
        return v

    def byte(self):
        return self.take(1)[0]

    def short(self):
        return struct.unpack(">H", self.take(2))[0]

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def string(self):
        return self.take(self.short()).decode()

    def long_string(self):
        return self.take(self.int()).decode()

    def short_bytes(self):
        return self.take(self.short())

    def bytes(self):
        n = self.int()
        return None if n < 0 else self.take(n)

    def string_map(self):
        return dict((self.string(), self.string()) for _ in range(self.short()))


# ---- frames and compression ------------------------------------------------
def frame(version, flags, stream, op, body):
    return struct.pack(">BBhBI", version, flags, stream, op, len(body)) + body


def compress(alg, body):
    if alg == "lz4":
        return struct.pack(">I", len(body)) + lz4.block.compress(body, store_size=False)
    return snappy.compress(body)


def decompress(alg, body):
    if alg == "lz4":
        n = struct.unpack(">I", body[:4])[0]
        return lz4.block.decompress(body[4:], uncompressed_size=n) if n else b""
    return snappy.decompress(body)


# ---- v5 segments -----------------------------------------------------------
SEG_MAX = 131071


def crc24(b):
    crc = 0x875060
    for x in b:
        crc ^= x << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1974F0B
    return crc & 0xFFFFFF


def crc32(b):
    return zlib.crc32(b"\xfa\x2d\x55\xca" + b) & 0xFFFFFFFF


def segment(payload, self_contained, use_lz4):
    if not use_lz4:
        hb = (len(payload) | (self_contained << 17)).to_bytes(3, "little")
        return hb + crc24(hb).to_bytes(3, "little") + payload + crc32(payload).to_bytes(4, "little")
    comp = lz4.block.compress(payload, store_size=False)
    ulen = len(payload)
    if len(comp) >= len(payload):
        comp, ulen = payload, 0           # stored as is
    hb = (len(comp) | (ulen << 17) | (self_contained << 34)).to_bytes(5, "little")
    return hb + crc24(hb).to_bytes(3, "little") + comp + crc32(comp).to_bytes(4, "little")


def segments(envelopes, use_lz4):
    """Envelopes (bytes, one or more whole ones) in one self-contained
    segment, or a large one over several that are not."""
    if len(envelopes) <= SEG_MAX:
        return segment(envelopes, 1, use_lz4)
    return b"".join(segment(envelopes[i:i + SEG_MAX], 0, use_lz4)
                    for i in range(0, len(envelopes), SEG_MAX))


class Conn:
    """One side of a connection: frames in and out, v4 or v5 framing."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.framed = False               # v5 segments
        self.lz4seg = False
        self.env = b""                    # envelope bytes from segments
        self.comp = None                  # v4 body compression

    def recv(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        v, self.buf = self.buf[:n], self.buf[n:]
        return v

    def read_segment(self):
        hl = 8 if self.lz4seg else 6
        h = self.recv(hl)
        v = int.from_bytes(h[:hl - 3], "little")
        if crc24(h[:hl - 3]) != int.from_bytes(h[hl - 3:], "little"):
            raise ValueError("bad CRC24")
        plen = v & 0x1FFFF
        pay = self.recv(plen)
        if crc32(pay) != int.from_bytes(self.recv(4), "little"):
            raise ValueError("bad CRC32")
        if self.lz4seg and (v >> 17) & 0x1FFFF:
            pay = lz4.block.decompress(pay, uncompressed_size=(v >> 17) & 0x1FFFF)
        self.env += pay

    def read_frame(self):
        """(version, flags, stream, op, body), body decompressed."""
        if self.framed:
            while len(self.env) < 9 or len(self.env) < 9 + struct.unpack(">I", self.env[5:9])[0]:
                self.read_segment()
            h = self.env[:9]
            n = struct.unpack(">I", h[5:9])[0]
            body, self.env = self.env[9:9 + n], self.env[9 + n:]
        else:
            h = self.recv(9)
            body = self.recv(struct.unpack(">I", h[5:9])[0])
        ver, flags, stream, op = struct.unpack(">BBhB", h[:5])
        if flags & F_COMPRESS and (ver & 0x7F) <= 4:
            body = decompress(self.comp, body)
        return ver, flags, stream, op, body

    def wrap(self, version, flags, stream, op, body):
        if self.comp and (version & 0x7F) <= 4 and op != STARTUP:
            flags |= F_COMPRESS
            body = compress(self.comp, body)
        return frame(version, flags, stream, op, body)

    def send(self, frames):
        """Send whole frames (bytes) in one write; in v5, in segments."""
        data = segments(frames, self.lz4seg) if self.framed else frames
        self.s.sendall(data)


# ---- the server ------------------------------------------------------------
KS, TABLE = "pbs", "songs"
SONG_COLS = [("id", T_INT), ("title", T_VARCHAR)]
SONGS = [(1, "Blue in Green"), (2, "So What"), (3, "Freddie Freeloader")]


def col_specs(cols, ks=KS, table=TABLE):
    # global_tables_spec, then each column's name and type
    return string(ks) + string(table) + b"".join(string(n) + short(t) for n, t in cols)


def rows_meta(v, cols, paging=None, ks=KS, table=TABLE):
    flags = 0x01 | (0x02 if paging else 0)
    m = int_(flags) + int_(len(cols))
    if paging:
        m += bytes_(paging)
    return m + col_specs(cols, ks, table)


def cell(t, x):
    if t == T_INT:
        return bytes_(struct.pack(">i", x))
    if t == T_BIGINT:
        return bytes_(struct.pack(">q", x))
    return bytes_(x if isinstance(x, bytes) else x.encode())


def rows(v, cols, data, paging=None, ks=KS, table=TABLE):
    body = int_(2) + rows_meta(v, cols, paging, ks, table) + int_(len(data))
    for r in data:
        body += b"".join(cell(t, x) for (n, t), x in zip(cols, r))
    return body


def schema_change(change, target, ks, name=None):
    b = string(change) + string(target) + string(ks)
    if name is not None:
        b += string(name)
    return b


def error(code, msg, extra=b""):
    return int_(code) + string(msg) + extra


class Session(threading.Thread):
    def __init__(self, sock):
        super().__init__(daemon=True)
        self.c = Conn(sock)
        self.registered = False
        self.v5_pending = False
        self.prepared = {}
        self.slow = []                     # answers held back (pipelining)

    def run(self):
        try:
            while True:
                self.handle(*self.c.read_frame())
        except (EOFError, ConnectionError, ValueError):
            pass
        finally:
            self.c.s.close()

    def out(self, frames):
        self.c.send(b"".join(frames))

    def handle(self, ver, flags, stream, op, body):
        v = ver & 0x7F
        rv = 0x80 | v
        w = self.c.wrap
        r = Reader(body)
        if op == OPTIONS:
            self.out([w(rv, 0, stream, SUPPORTED, string_multimap([
                ("PROTOCOL_VERSIONS", ["3/v3", "4/v4", "5/v5"]),
                ("COMPRESSION", ["snappy", "lz4"]),
                ("CQL_VERSION", ["3.4.5"])]))])
            return
        if op == STARTUP:
            opts = r.string_map()
            comp = opts.get("COMPRESSION")
            if opts.get("DRIVER_NAME") == "pbtools-auth":
                self.out([w(rv, 0, stream, AUTHENTICATE,
                            string("org.apache.cassandra.auth.PasswordAuthenticator"))])
            else:
                if comp and v <= 4:
                    self.c.comp = comp
                self.out([w(rv, 0, stream, READY, b"")])
            if v >= 5:
                # from here on both sides use segments (spec 2.3.1)
                self.c.framed = True
                self.c.lz4seg = comp == "lz4"
            return
        if op == AUTH_RESPONSE:
            token = r.bytes()
            if token == b"\x00cassandra\x00cassandra":
                self.out([w(rv, 0, stream, AUTH_SUCCESS, bytes_(None))])
            else:
                self.out([w(rv, 0, stream, ERROR, error(
                    0x0100, "Provided username cassandra and/or password are incorrect"))])
            return
        if op == REGISTER:
            self.registered = True
            self.out([w(rv, 0, stream, READY, b"")])
            return
        if op == QUERY:
            q = r.long_string()
            cons = r.short()
            qflags = r.int() if v >= 5 else r.byte()
            paging = None
            if qflags & 0x01:
                for _ in range(r.short()):
                    r.bytes()
            if qflags & 0x04:
                r.int()
            if qflags & 0x08:
                paging = r.bytes()
            self.query(v, rv, stream, flags, q, cons, paging)
            return
        if op == PREPARE:
            q = r.long_string()
            pid = hashlib.md5(q.encode()).digest()
            self.prepared[pid] = q
            if q.startswith("INSERT"):
                meta = int_(0x01) + int_(2) + (int_(1) + short(0) if v >= 4 else b"") + \
                    col_specs(SONG_COLS)
                rmeta = int_(0x04) + int_(0)
            else:
                meta = int_(0x01) + int_(1) + (int_(1) + short(0) if v >= 4 else b"") + \
                    col_specs([("id", T_INT)])
                rmeta = int_(0x01) + int_(1) + col_specs([("title", T_VARCHAR)])
            rid = hashlib.md5(b"result:" + q.encode()).digest()[:8]
            body = int_(4) + short_bytes(pid) + (short_bytes(rid) if v >= 5 else b"") + meta + rmeta
            self.out([w(rv, 0, stream, RESULT, body)])
            return
        if op == EXECUTE:
            pid = r.short_bytes()
            if pid not in self.prepared:
                self.out([w(rv, 0, stream, ERROR, error(
                    0x2500, "Prepared query with ID %s not found (either the query was not "
                    "prepared on this host (maybe the host has been restarted?) or you have "
                    "prepared too many queries and it has been evicted from the internal cache)"
                    % pid.hex(), short_bytes(pid)))])
                return
            q = self.prepared[pid]
            if q.startswith("INSERT"):
                self.out([w(rv, 0, stream, RESULT, int_(1))])
            else:
                self.out([w(rv, 0, stream, RESULT, rows(v, [("title", T_VARCHAR)],
                                                        [("Blue in Green",)]))])
            return
        if op == BATCH:
            self.out([w(rv, 0, stream, RESULT, int_(1))])
            return
        self.out([w(rv, 0, stream, ERROR, error(0x000A, "Unexpected message %d" % op))])

    def query(self, v, rv, stream, flags, q, cons, paging):
        w = self.c.wrap
        frames = []
        if q.startswith("CREATE KEYSPACE") and "IF NOT EXISTS" not in q and getattr(self, "ks_made", False):
            frames.append(w(rv, 0, stream, ERROR, error(
                0x2400, "Cannot add existing keyspace \"pbs\"", string(KS) + string(""))))
        elif q.startswith("CREATE KEYSPACE"):
            self.ks_made = True
            frames.append(w(rv, 0, stream, RESULT, int_(5) + schema_change("CREATED", "KEYSPACE", KS)))
            if self.registered:
                frames.append(w(rv, 0, -1, EVENT, string("SCHEMA_CHANGE") +
                                schema_change("CREATED", "KEYSPACE", KS)))
        elif q.startswith("USE "):
            frames.append(w(rv, 0, stream, RESULT, int_(3) + string(KS)))
        elif q.startswith("CREATE TABLE"):
            frames.append(w(rv, 0, stream, RESULT, int_(5) + schema_change("CREATED", "TABLE", KS, TABLE)))
            if self.registered:
                frames.append(w(rv, 0, -1, EVENT, string("SCHEMA_CHANGE") +
                                schema_change("CREATED", "TABLE", KS, TABLE)))
        elif q.startswith("INSERT") and cons == ALL:
            frames.append(w(rv, 0, stream, ERROR, error(
                0x1000, "Cannot achieve consistency level ALL",
                short(ALL) + int_(3) + int_(1))))
        elif q.startswith("INSERT"):
            frames.append(w(rv, 0, stream, RESULT, int_(1)))
        elif q.startswith("SELEC "):
            frames.append(w(rv, 0, stream, ERROR, error(
                0x2000, "line 1:0 no viable alternative at input 'SELEC' ([SELEC]...)")))
        elif q.startswith("SELECT id, title FROM songs"):
            if paging is None:
                frames.append(w(rv, 0, stream, RESULT, rows(v, SONG_COLS, SONGS[:2],
                                                            paging=b"\x00\x04\x00\x00\x00\x02\xf0\x7f\xff\xff\xfe")))
            else:
                frames.append(w(rv, 0, stream, RESULT, rows(v, SONG_COLS, SONGS[2:])))
        elif q.startswith("SELECT release_version"):
            body = rows(v, [("release_version", T_VARCHAR)], [("4.1.3",)], ks="system", table="local")
            rflags = 0
            if flags & F_TRACING:
                body = bytes.fromhex("5f1a2d80a3b411eeb2c1b7d9c3e4f501") + \
                    string_list(["Aggregation query used without partition key"]) + body
                rflags = F_TRACING | F_WARNING
            frames.append(w(rv, rflags, stream, RESULT, body))
            if self.registered:
                frames.append(w(rv, 0, -1, EVENT, string("STATUS_CHANGE") + string("UP") +
                                inet("10.99.0.3", 9042)))
        elif q.startswith("SELECT payload FROM blobs"):
            frames.append(w(rv, 0, stream, RESULT, rows(
                v, [("payload", T_BLOB)], [(bytes(range(256)) * 800,)], table="blobs")))
        elif q.startswith("SELECT count(*)"):
            frames.append(w(rv, 0, stream, RESULT, rows(v, [("count", T_BIGINT)], [(len(SONGS),)])))
        elif q.startswith("SELECT title FROM songs WHERE id = 1"):
            frames.append(w(rv, 0, stream, RESULT, rows(v, [("title", T_VARCHAR)], [("Blue in Green",)])))
        else:
            frames.append(w(rv, 0, stream, RESULT, int_(1)))
        if "/* slow */" in q:
            self.slow += frames            # answered after the next one
            return
        self.out(frames + self.slow)
        self.slow = []


def server(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(8)
    while True:
        conn, _ = s.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        Session(conn).start()


# ---- the client ------------------------------------------------------------
def params(v, cons, flags=0, values=None, page_size=None, paging=None):
    """Query parameters (spec 4.1.4): consistency, flags and what they add."""
    if values is not None:
        flags |= 0x01
    if page_size is not None:
        flags |= 0x04
    if paging is not None:
        flags |= 0x08
    b = short(cons) + (int_(flags) if v >= 5 else bytes([flags]))
    if values is not None:
        b += short(len(values)) + b"".join(values)
    if page_size is not None:
        b += int_(page_size)
    if paging is not None:
        b += bytes_(paging)
    return b


class Client:
    def __init__(self, host, port, v):
        self.c = Conn(socket.create_connection((host, port), timeout=5))
        self.c.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.v = v
        self.stream = 0
        self.results = {}

    def next_stream(self):
        s = self.stream
        self.stream += 1
        return s

    def req(self, op, body, flags=0, stream=None):
        if stream is None:
            stream = self.next_stream()
        return stream, self.c.wrap(self.v, flags, stream, op, body)

    def call(self, *reqs):
        """Send requests (op, body[, flags]) in one write and wait for all
        their answers (server events are read and dropped)."""
        frames, want = [], set()
        for rq in reqs:
            stream, f = self.req(*rq)
            frames.append(f)
            want.add(stream)
        self.c.send(b"".join(frames))
        got = {}
        while want:
            ver, flags, stream, op, body = self.c.read_frame()
            if stream in want:
                want.discard(stream)
                got[stream] = (op, body)
        return got

    def one(self, op, body, flags=0):
        return list(self.call((op, body, flags)).values())[0]

    def query(self, q, cons=ONE, flags=0, **kw):
        return self.one(QUERY, long_string(q) + params(self.v, cons, **kw), flags)

    def prepare(self, q):
        op, body = self.one(PREPARE, long_string(q) + (int_(0) if self.v >= 5 else b""))
        r = Reader(body)
        r.int()
        pid = r.short_bytes()
        rid = r.short_bytes() if self.v >= 5 else b""
        return pid, rid

    def execute(self, pid, rid, values, cons=ONE):
        body = short_bytes(pid) + (short_bytes(rid) if self.v >= 5 else b"") + \
            params(self.v, cons, values=values)
        return self.one(EXECUTE, body)

    def startup(self, **opts):
        pairs = [("CQL_VERSION", "3.0.0")] + sorted(opts.items())
        if "COMPRESSION" in opts and self.v <= 4:
            self.c.comp = opts["COMPRESSION"]   # the READY comes compressed
        op, body = self.one(STARTUP, string_map(pairs))
        if self.v >= 5:
            self.c.framed = True
            self.c.lz4seg = opts.get("COMPRESSION") == "lz4"
        return op

    def close(self):
        self.c.s.close()


def val_int(x):
    return bytes_(struct.pack(">i", x))


def val_text(x):
    return bytes_(x.encode())


def scenario(host, port, name):
    v = {"v3": 3, "v5": 5, "v5lz4": 5}.get(name, 4)
    cl = Client(host, port, v)
    if name == "v4":
        cl.one(OPTIONS, b"")
        cl.startup(DRIVER_NAME="pbtools-samples")
        cl.one(REGISTER, string_list(["TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"]))
        ks = "CREATE KEYSPACE pbs WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        cl.query(ks)
        cl.query("USE pbs")
        cl.query("CREATE TABLE songs (id int PRIMARY KEY, title text)")
        for i, t in SONGS:
            cl.query("INSERT INTO songs (id, title) VALUES (%d, '%s')" % (i, t), cons=QUORUM)
        op, body = cl.query("SELECT id, title FROM songs", page_size=2)
        r = Reader(body)
        r.int()
        r.int()
        r.int()
        paging = r.bytes()
        cl.query("SELECT id, title FROM songs", page_size=2, paging=paging)
        pid, rid = cl.prepare("INSERT INTO songs (id, title) VALUES (?, ?)")
        cl.execute(pid, rid, [val_int(4), val_text("All Blues")])
        batch = bytes([0]) + short(2) + \
            bytes([0]) + long_string("INSERT INTO songs (id, title) VALUES (5, 'Flamenco Sketches')") + short(0) + \
            bytes([1]) + short_bytes(pid) + short(2) + val_int(6) + val_text("Milestones") + \
            short(QUORUM) + bytes([0])
        cl.one(BATCH, batch)
        cl.query("SELEC id FROM songs")
        cl.query("INSERT INTO songs (id, title) VALUES (7, 'Kind of Blue')", cons=ALL)
        cl.query(ks)
        cl.execute(hashlib.md5(b"never prepared").digest(), b"", [val_int(1)])
        cl.query("SELECT release_version FROM system.local", flags=F_TRACING)
        # pipelined: the first is answered after the second
        cl.call((QUERY, long_string("SELECT title FROM songs WHERE id = 1 /* slow */") + params(4, ONE)),
                (QUERY, long_string("SELECT count(*) FROM songs") + params(4, ONE)))
    elif name == "auth":
        cl.startup(DRIVER_NAME="pbtools-auth")
        cl.one(AUTH_RESPONSE, bytes_(b"\x00cassandra\x00wrong"))
        cl.one(AUTH_RESPONSE, bytes_(b"\x00cassandra\x00cassandra"))
        cl.query("SELECT release_version FROM system.local")
    elif name == "v3":
        cl.startup()
        cl.query("USE pbs")
        cl.query("SELECT id, title FROM songs")
        pid, rid = cl.prepare("SELECT title FROM songs WHERE id = ?")
        cl.execute(pid, rid, [val_int(1)])
    elif name in ("lz4", "snappy"):
        cl.one(OPTIONS, b"")
        cl.startup(COMPRESSION=name)
        cl.query("USE pbs")
        cl.query("SELECT id, title FROM songs")
        cl.query("INSERT INTO songs (id, title) VALUES (8, 'So What (live)')")
    elif name in ("v5", "v5lz4"):
        cl.one(OPTIONS, b"")
        if name == "v5lz4":
            cl.startup(COMPRESSION="lz4")
        else:
            cl.startup()
        cl.query("USE pbs")
        cl.query("SELECT id, title FROM songs", page_size=100)
        pid, rid = cl.prepare("SELECT title FROM songs WHERE id = ?")
        cl.execute(pid, rid, [val_int(1)])
        cl.query("SELECT payload FROM blobs")
        # two requests in one segment, both answers in one segment
        cl.call((QUERY, long_string("SELECT title FROM songs WHERE id = 1 /* slow */") + params(5, ONE)),
                (QUERY, long_string("SELECT count(*) FROM songs") + params(5, ONE)))
        cl.query("SELEC id FROM songs")
    else:
        raise SystemExit("unknown scenario %s" % name)
    cl.close()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "server":
        server(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "client":
        scenario(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        raise SystemExit(__doc__)
