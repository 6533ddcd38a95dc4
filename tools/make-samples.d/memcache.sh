# tools/make-samples.d/memcache.sh - the memcache section of tools/make-samples
# (sourced by it; uses its helpers: setup, cap_start, cap_stop, cli, expect)
#
# memcache-text.pcap, memcache-binary.pcap, memcache-udp.pcap: memcached
# (Debian 12: 1.6.18) in pbs-srv on 10.99.0.2, TCP and UDP port 11211,
# one worker thread, as root; clients in pbs-cli.
#  memcache-text.pcap: a python3 client on one connection, one command at a
#   time (each answer read whole before the next command): version, set,
#   add (NOT_STORED), append, prepend, replace of a missing key, get of
#   three keys (two hits, a miss), gets, cas with a stale unique (EXISTS),
#   cas on a missing key (NOT_FOUND), cas with the right unique (STORED),
#   set/incr/decr of a counter, incr of a missing key (NOT_FOUND), incr of
#   a non-numeric value (CLIENT_ERROR), touch (TOUCHED, NOT_FOUND), gat,
#   delete (DELETED, NOT_FOUND), set and delete with noreply, an unknown
#   command (ERROR), get without a key (ERROR), stats, stats slabs,
#   verbosity, the meta commands ms, mg (a hit, a quiet miss and a quiet
#   hit, with k, followed by mn), md (quiet) and mn, ma, flush_all, quit;
#   then a
#   second connection with three commands pipelined in one write.
#  memcache-binary.pcap: memccp, memccat, memcrm and memcstat --binary
#   (libmemcached 1.1) on a file, and a python3 binary client on one
#   connection: Set, GetKQ of five keys (three hits, two misses) then
#   No-op, Increment/Decrement with an initial value, Get of a missing key
#   (Key not found), Append, Touch, Version, SetQ/DeleteQ, No-op, Flush,
#   Quit (memcached 1.6 does not answer a binary Verbosity: left out).
#  memcache-udp.pcap: a python3 client over UDP (the 8-byte frame header):
#   set, get, a noreply set, get of two keys, and stats, whose answer
#   takes several datagrams.
memcache_need() {
    need memcached memcached
    need memccp libmemcached-tools
    need python3 python3-minimal
}

MC_PORT=11211

memcache_start() {
    ip netns exec "$NS_S" memcached -u root -l "$S4" -p "$MC_PORT" -U "$MC_PORT" -t 1 \
        -m 16 -c 64 &
    MC_PID=$!
    PIDS+=("$MC_PID")
    wait_until "memcached" ip netns exec "$NS_S" sh -c "ss -Hltn 'sport = :$MC_PORT' | grep -q ."
}

# The text client: each command is sent, and its answer read up to the
# end the command calls for.
memcache_text_client() {
    cat >"$WORK/mc-text.py" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
buf = b""
def until(end):
    global buf
    while True:
        i = buf.find(end)
        if i >= 0:
            r, buf = buf[:i + len(end)], buf[i + len(end):]
            return r
        d = s.recv(65536)
        if not d:
            sys.exit("connection closed")
        buf += d
def line():
    return until(b"\r\n")
def cmd(c, end=None):
    s.sendall(c)
    return until(end) if end else line()
cmd(b"version\r\n")
cmd(b"set k1 0 0 5\r\nhello\r\n")
cmd(b"add k1 0 0 3\r\nxyz\r\n")
cmd(b"set k2 3 3600 11\r\nhello world\r\n")
cmd(b"append k1 0 0 6\r\n there\r\n")
cmd(b"prepend k1 0 0 3\r\n>> \r\n")
cmd(b"replace nokey 0 0 1\r\nx\r\n")
cmd(b"get k1 k2 missing\r\n", b"END\r\n")
r = cmd(b"gets k1\r\n", b"END\r\n")
unique = r.split(b"\r\n")[0].split(b" ")[4]
cmd(b"cas k1 0 0 3 1\r\nold\r\n")
cmd(b"cas nokey 0 0 1 1\r\nx\r\n")
cmd(b"cas k1 0 0 3 " + unique + b"\r\nnew\r\n")
cmd(b"set cnt 0 0 2\r\n10\r\n")
cmd(b"incr cnt 5\r\n")
cmd(b"decr cnt 20\r\n")
cmd(b"incr nocnt 1\r\n")
cmd(b"incr k1 1\r\n")
cmd(b"touch k1 60\r\n")
cmd(b"touch nokey 60\r\n")
cmd(b"gat 120 k1 k2\r\n", b"END\r\n")
cmd(b"delete k2\r\n")
cmd(b"delete k2\r\n")
s.sendall(b"set nr 0 0 2 noreply\r\nok\r\n")
s.sendall(b"delete nr noreply\r\n")
cmd(b"bogus arg\r\n")
cmd(b"get\r\n")
cmd(b"stats\r\n", b"END\r\n")
cmd(b"stats slabs\r\n", b"END\r\n")
cmd(b"verbosity 1\r\n")
cmd(b"ms mk 2 T0 F7\r\nhi\r\n")
cmd(b"mg mk v f\r\n", b"hi\r\n")
cmd(b"mg missing v q k\r\nmg mk v q k\r\nmn\r\n", b"MN\r\n")
cmd(b"md mk q\r\nmn\r\n", b"MN\r\n")
cmd(b"ma cnt O42\r\n")
cmd(b"flush_all\r\n")
s.sendall(b"quit\r\n")
s.recv(10)
s.close()
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
buf = b""
s.sendall(b"set p1 0 0 1\r\na\r\nset p2 0 0 1\r\nb\r\nget p1 p2\r\n")
until(b"END\r\n")
s.close()
PY
}

# The binary client: requests built by hand (the binary protocol's
# 24-byte header), answers read whole.
memcache_bin_client() {
    cat >"$WORK/mc-bin.py" <<'PY'
import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
opaque = 0
def req(op, key=b"", extras=b"", value=b"", cas=0):
    global opaque
    opaque += 1
    return struct.pack(">BBHBBHIIQ", 0x80, op, len(key), len(extras), 0, 0,
                       len(key) + len(extras) + len(value), opaque, cas) + extras + key + value
def recv_msg():
    h = b""
    while len(h) < 24:
        h += s.recv(24 - len(h))
    total = struct.unpack(">I", h[8:12])[0]
    b = b""
    while len(b) < total:
        b += s.recv(total - len(b))
    return h[1], h + b
def call(data, until_op=None):
    s.sendall(data)
    while True:
        op, m = recv_msg()
        if until_op is None or op == until_op:
            return m
SET, GET, GETK, GETKQ, NOOP, INCR, DECR = 0x01, 0x00, 0x0c, 0x0d, 0x0a, 0x05, 0x06
store = struct.pack(">II", 0, 0)
call(req(SET, b"b1", store, b"alpha"))
call(req(SET, b"b2", struct.pack(">II", 5, 300), b"beta"))
call(req(SET, b"b3", store, b"gamma" * 20))
call(req(GETKQ, b"x") + req(GETKQ, b"b1") + req(GETKQ, b"b2") + req(GETKQ, b"b3") +
     req(GETKQ, b"y") + req(NOOP), NOOP)
call(req(INCR, b"bc", struct.pack(">QQI", 3, 10, 0)))
call(req(INCR, b"bc", struct.pack(">QQI", 3, 10, 0)))
call(req(DECR, b"bc", struct.pack(">QQI", 20, 0, 0)))
call(req(GET, b"missing"))
call(req(0x0e, b"b1", b"", b"-omega"))
call(req(0x1c, b"b1", struct.pack(">I", 60)))
call(req(0x0b))
s.sendall(req(0x11, b"q1", store, b"quiet") + req(0x14, b"q1"))
call(req(NOOP))
call(req(0x08))
call(req(0x07))
s.close()
PY
}

# The UDP client: each request one datagram with the frame header
# (request id, sequence 0, 1 datagram, reserved 0); answers gathered until
# every datagram of them came.
memcache_udp_client() {
    cat >"$WORK/mc-udp.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
dst = (sys.argv[1], int(sys.argv[2]))
rid = 0
def send(data, answer=True):
    global rid
    rid += 1
    s.sendto(struct.pack(">HHHH", rid, 0, 1, 0) + data, dst)
    if not answer:
        return
    got, n = {}, None
    while n is None or len(got) < n:
        d, _ = s.recvfrom(65536)
        i, seq, n, _ = struct.unpack(">HHHH", d[:8])
        if i == rid:
            got[seq] = d[8:]
send(b"set u1 0 0 5\r\nhello\r\n")
send(b"get u1\r\n")
send(b"set u2 1 0 " + b"1200\r\n" + b"v" * 1200 + b"\r\n")
send(b"set u3 0 0 1 noreply\r\nz\r\n", answer=False)
send(b"get u1 u2 nope\r\n")
send(b"stats\r\n")
PY
}

memcache_make() {
    setup v4
    memcache_start
    memcache_text_client
    memcache_bin_client
    memcache_udp_client

    # ---- memcache-text.pcap ----
    cap_start "$NS_C" memcache-text.pcap "${TCPDUMP[@]}" -i "$C_IF" "port $MC_PORT"
    cli python3 "$WORK/mc-text.py" "$S4" "$MC_PORT"
    cap_stop
    expect memcache-text.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 2
    expect memcache-text.pcap 'tcp.payload contains "CLIENT_ERROR"' -eq 1
    expect memcache-text.pcap 'tcp.payload contains "EXISTS\r\n"' -eq 1
    expect memcache-text.pcap 'tcp.payload contains "STAT pid"' -ge 1
    expect memcache-text.pcap 'tcp.payload contains "MN\r\n"' -eq 2
    expect memcache-text.pcap 'tcp.payload contains "noreply"' -ge 1

    # ---- memcache-binary.pcap ----
    printf 'binary value from a file\n' >"$WORK/mcfile.txt"
    cap_start "$NS_C" memcache-binary.pcap "${TCPDUMP[@]}" -i "$C_IF" "port $MC_PORT"
    cli memccp --binary --servers="$S4:$MC_PORT" "$WORK/mcfile.txt"
    cli memccat --binary --servers="$S4:$MC_PORT" mcfile.txt >/dev/null
    cli memcrm --binary --servers="$S4:$MC_PORT" mcfile.txt
    cli memcstat --binary --servers="$S4:$MC_PORT" >/dev/null
    cli python3 "$WORK/mc-bin.py" "$S4" "$MC_PORT"
    cap_stop
    expect memcache-binary.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 5
    expect memcache-binary.pcap 'memcache.opcode == 13' -ge 2
    expect memcache-binary.pcap 'memcache.status == 1' -ge 1
    expect memcache-binary.pcap 'memcache.opcode == 16 && memcache.magic == 129' -ge 1

    # ---- memcache-udp.pcap ----
    cap_start "$NS_C" memcache-udp.pcap "${TCPDUMP[@]}" -i "$C_IF" "udp port $MC_PORT"
    cli python3 "$WORK/mc-udp.py" "$S4" "$MC_PORT"
    cap_stop
    expect memcache-udp.pcap 'udp.srcport == 11211' -ge 6
    expect memcache-udp.pcap 'udp.dstport == 11211' -eq 6
    expect memcache-udp.pcap 'udp.srcport == 11211 && udp.payload[4:2] != 00:01' -ge 2
    stop_pid "$MC_PID"
}

memcache_readme() {
    cat <<'EOF'

The memcache samples (section memcache), for pb-txn: memcached 1.6.18 in
pbs-srv on 10.99.0.2, TCP and UDP port 11211 (-U 11211), one worker
thread, run as root; tcpdump -i pbs-c0 'port 11211'.
memcache-text.pcap   a python3 client, one command at a time: version,
                     set, add (NOT_STORED), append, prepend, replace of a
                     missing key (NOT_STORED), get k1 k2 missing, gets, cas
                     with a stale unique (EXISTS), cas of a missing key
                     (NOT_FOUND), cas with the right unique, incr/decr
                     (decr below 0 gives 0), incr of a missing key, incr
                     of a non-numeric value (CLIENT_ERROR), touch (hit and
                     miss), gat 120 k1 k2, delete (DELETED, NOT_FOUND), set
                     and delete with noreply, "bogus arg" (ERROR), get
                     with no key (ERROR), stats, stats slabs, verbosity 1,
                     meta commands: ms, mg, mg q k (miss) + mg q k (hit)
                     + mn, md q + mn, ma with an opaque, then flush_all
                     and quit;
                     a second connection pipelines set, set, get p1 p2 in
                     one write
memcache-binary.pcap the binary protocol: memccp, memccat, memcrm, memcstat
                     --binary (libmemcached 1.1; five connections in all),
                     then a python3 client: Set x3, GetKQ x, b1, b2, b3, y
                     and No-op in one write (the misses are not answered),
                     Increment (initial 10) twice, Decrement, Get of a
                     missing key (Key not found), Append, Touch, Version,
                     SetQ + DeleteQ + No-op, Flush, Quit
memcache-udp.pcap    a python3 client over UDP, each request one datagram
                     with its 8-byte frame header (request ids 1 to 6):
                     set, get, set of 1200 bytes, set noreply, get u1 u2
                     nope, stats (answered in several datagrams)
EOF
}
