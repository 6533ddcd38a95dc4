# tools/make-samples.d/cassandra.sh - the cassandra section of tools/make-samples
# (sourced by it; uses its helpers: setup, no_gso, cap_start, cap_stop, cli,
# expect, stop_pid, wait_until, PIDS, WORK)
#
# cassandra.pcap, cassandra-compressed.pcap, cassandra-v5.pcap: Cassandra
# is not packaged in Debian, so the server is tools/make-samples.d/
# cassandra-cql.py: a minimal CQL server in pbs-srv on 10.99.0.2:9042 that
# answers from a small table keyed by the query text, and its scripted
# client in pbs-cli, over real TCP. Both build every frame byte for byte
# from the native protocol specifications (v3, v4, v5): headers, bodies,
# LZ4 and Snappy compression, v5 segments with their CRC24 and CRC32.
# Both veth ends segment in software (no_gso) and everything runs on CPU 0,
# as for http-txn.pcap. Each connection is one client scenario:
#  cassandra.pcap:
#   v4:   OPTIONS/SUPPORTED, STARTUP/READY, REGISTER, CREATE KEYSPACE
#         (schema_change, then a server EVENT SCHEMA_CHANGE, stream -1),
#         USE (set_keyspace), CREATE TABLE (schema_change, EVENT), three
#         INSERTs (void), SELECT with page_size 2 (2 rows and a paging
#         state), the same SELECT with that paging state (1 row), PREPARE
#         an INSERT (prepared: id, metadata with a partition key), EXECUTE
#         it, a LOGGED BATCH of a query and the prepared id, then errors:
#         a syntax error (0x2000), an INSERT at consistency ALL
#         (unavailable 0x1000: ALL, required 3, alive 1), CREATE KEYSPACE
#         again (already exists 0x2400), EXECUTE of an id never prepared
#         (unprepared 0x2500); a traced SELECT (tracing flag: the RESULT
#         carries a tracing id and a warning), followed by an EVENT
#         STATUS_CHANGE UP 10.99.0.3:9042; two SELECTs in one write whose
#         answers come in the other order (streams 19 and 20)
#   auth: STARTUP/AUTHENTICATE (PasswordAuthenticator), AUTH_RESPONSE with
#         a wrong password (ERROR 0x0100), AUTH_RESPONSE, AUTH_SUCCESS, a
#         SELECT
#   v3:   protocol v3: STARTUP, USE, SELECT, PREPARE, EXECUTE
#  cassandra-compressed.pcap: two v4 connections, STARTUP with COMPRESSION
#   lz4, then snappy: OPTIONS, STARTUP, then every frame compressed (READY
#   too): USE, SELECT (2 rows), INSERT
#  cassandra-v5.pcap: two v5 connections, OPTIONS and STARTUP as plain
#   frames, then segments: USE, SELECT, PREPARE/EXECUTE (v5: result
#   metadata id), a SELECT whose 204 KB answer is spread over two segments
#   that are not self-contained, two SELECTs in one segment answered in
#   one segment in the other order, a syntax error; the first without
#   compression (6-byte segment headers), the second with COMPRESSION lz4
#   (8-byte headers, LZ4 payloads)
cassandra_need() {
    need python3 python3-minimal
    [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import lz4.block, snappy' 2>/dev/null ||
        missing+=("python3 lz4 and snappy modules (apt-get install python3-lz4 python3-snappy)")
}

CQL_PY=/usr/bin/python3

cassandra_start() {
    ip netns exec "$NS_S" "$CQL_PY" "$ROOT/tools/make-samples.d/cassandra-cql.py" \
        server "$S4" 9042 &
    CQL_PID=$!
    PIDS+=("$CQL_PID")
    wait_until "cql server" ip netns exec "$NS_S" sh -c "ss -Hltn 'sport = :9042' | grep -q ."
}

cassandra_client() {    # cassandra_client SCENARIO
    cli "$CQL_PY" "$ROOT/tools/make-samples.d/cassandra-cql.py" client "$S4" 9042 "$1" ||
        { echo "make-samples: cassandra: client scenario $1 failed" >&2; exit 1; }
}

cassandra_capture() {   # cassandra_capture FILE SCENARIO...
    local file=$1 sc; shift
    setup v4; no_gso
    cassandra_start
    cap_start "$NS_C" "$file" "${TCPDUMP[@]}" -B 65536 -i "$C_IF"
    for sc in "$@"; do
        cassandra_client "$sc"
        sleep 0.2              # the FINs of one connection before the next
    done
    cap_stop
    stop_pid "$CQL_PID"
}

cassandra_make() {
    local cpus
    cpus=$(taskset -p $$ | sed 's/.*: //')
    taskset -p 1 $$ >/dev/null

    cassandra_capture cassandra.pcap v4 auth v3
    expect cassandra.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 3
    expect cassandra.pcap 'cql.opcode == 5' -eq 1          # OPTIONS
    expect cassandra.pcap 'cql.opcode == 6' -eq 1          # SUPPORTED
    expect cassandra.pcap 'cql.opcode == 1' -eq 3          # STARTUP
    expect cassandra.pcap 'cql.opcode == 3' -eq 1          # AUTHENTICATE
    expect cassandra.pcap 'cql.opcode == 15' -eq 2         # AUTH_RESPONSE
    expect cassandra.pcap 'cql.opcode == 16' -eq 1         # AUTH_SUCCESS
    expect cassandra.pcap 'cql.opcode == 11' -eq 1         # REGISTER
    expect cassandra.pcap 'cql.opcode == 12' -eq 3         # EVENT
    expect cassandra.pcap 'cql.opcode == 9' -eq 2          # PREPARE
    expect cassandra.pcap 'cql.opcode == 10' -eq 3         # EXECUTE
    expect cassandra.pcap 'cql.opcode == 13' -eq 1         # BATCH
    expect cassandra.pcap 'cql.error_code == 0x2000' -eq 1
    expect cassandra.pcap 'cql.error_code == 0x1000' -eq 1
    expect cassandra.pcap 'cql.error_code == 0x2400' -eq 1
    expect cassandra.pcap 'cql.error_code == 0x2500' -eq 1
    expect cassandra.pcap 'cql.error_code == 0x0100' -eq 1
    expect cassandra.pcap 'cql.result.kind == 3' -eq 2     # set_keyspace
    expect cassandra.pcap 'cql.result.kind == 4' -eq 2     # prepared
    expect cassandra.pcap 'cql.result.kind == 5' -eq 2     # schema_change
    expect cassandra.pcap 'cql.result.rows.flags.has_more_pages == 1' -eq 2
    expect cassandra.pcap 'cql.flags.tracing == 1' -eq 2
    expect cassandra.pcap 'cql.version == 3' -ge 5
    expect cassandra.pcap 'cql.stream == 19 && cql.opcode == 7' -eq 1

    cassandra_capture cassandra-compressed.pcap lz4 snappy
    expect cassandra-compressed.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 2
    expect cassandra-compressed.pcap 'cql.opcode == 1' -eq 2
    expect cassandra-compressed.pcap 'cql.flags.compression == 1' -ge 12
    expect cassandra-compressed.pcap 'cql.opcode == 7' -eq 6
    # tshark 4.0 reads a rows metadata's global table spec before its
    # paging state (the specification has them the other way round), so
    # these results are "malformed" to it: their kinds are checked
    expect cassandra-compressed.pcap 'cql.result.kind == 2' -eq 2
    expect cassandra-compressed.pcap 'cql.result.kind == 3' -eq 2

    cassandra_capture cassandra-v5.pcap v5 v5lz4
    expect cassandra-v5.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 2
    # tshark 4.0 knows protocol versions up to 4 only: the v5 frames are
    # checked by their bytes (version 0x05/0x85, opcode); the segments by
    # the generator itself, whose server and client verify the CRC24 and
    # CRC32 of every segment they read, and by pb-txn's golden case
    expect cassandra-v5.pcap 'tcp.payload[0] == 0x05 && tcp.payload[4] == 5' -eq 2   # OPTIONS
    expect cassandra-v5.pcap 'tcp.payload[0] == 0x85 && tcp.payload[4] == 6' -eq 2   # SUPPORTED
    expect cassandra-v5.pcap 'tcp.payload[0] == 0x05 && tcp.payload[4] == 1' -eq 2   # STARTUP
    expect cassandra-v5.pcap 'tcp.payload[0] == 0x85 && tcp.payload[4] == 2' -eq 2   # READY
    expect cassandra-v5.pcap 'tcp.len > 1400' -ge 140                  # the 204 KB result, twice

    taskset -p "$cpus" $$ >/dev/null
}

cassandra_readme() {
    cat <<'EOF'

The Cassandra samples (section cassandra), for pb-txn. Cassandra is not
packaged in Debian: tools/make-samples.d/cassandra-cql.py is a minimal CQL
server (10.99.0.2:9042 in pbs-srv, answers from a table keyed by the query
text) and a scripted client (pbs-cli) that build every frame byte for byte
from the native protocol specifications v3, v4 and v5, over real TCP;
both veth ends with gso_max_segs 1 and everything on CPU 0; tcpdump -B
65536 -i pbs-c0. tshark's cql dissector checks the v3/v4 frames.
cassandra.pcap   three connections:
                 1. v4: OPTIONS, STARTUP, REGISTER, CREATE KEYSPACE (and a
                    pushed EVENT SCHEMA_CHANGE), USE, CREATE TABLE (EVENT),
                    3 INSERTs, SELECT page_size 2 (2 rows, paging state),
                    the next page (1 row), PREPARE, EXECUTE, BATCH (a query
                    and the prepared id), errors 0x2000 (syntax), 0x1000
                    (unavailable: ALL, required 3, alive 1), 0x2400
                    (keyspace exists), 0x2500 (unprepared id), a traced
                    SELECT (tracing id and a warning in the RESULT) and an
                    EVENT STATUS_CHANGE, two SELECTs in one write answered
                    in the other order
                 2. v4 with PasswordAuthenticator: AUTHENTICATE, a wrong
                    password (ERROR 0x0100), AUTH_SUCCESS, SELECT
                 3. v3: STARTUP, USE, SELECT, PREPARE, EXECUTE
cassandra-compressed.pcap
                 two v4 connections with COMPRESSION lz4, then snappy:
                 every frame after the STARTUP compressed (READY too): USE,
                 SELECT (2 rows), INSERT
cassandra-v5.pcap
                 two v5 connections: OPTIONS and STARTUP as plain frames,
                 then segments (6-byte headers; then with COMPRESSION lz4,
                 8-byte headers and LZ4 payloads): USE, SELECT, PREPARE,
                 EXECUTE, a 204 KB result over two segments that are not
                 self-contained, two SELECTs in one segment answered in
                 one segment in the other order, a syntax error
EOF
}
