# tools/make-samples.d/mongodb.sh - the mongodb section of tools/make-samples
# (sourced by it; uses its helpers: setup, cap_start, cap_stop, cli, expect)
#
# mongodb.pcap: MongoDB is not in Debian, so both ends are
# tools/make-samples.d/mongodb-wire.py, which builds every message byte by
# byte from the wire protocol specification: a server in pbs-srv on
# 10.99.0.2:27017 and a client in pbs-cli, over real TCP.  Two
# connections: a modern driver's (OP_MSG: hello, insert with a document
# sequence, find and getMore on a cursor, update, delete, aggregate, a
# command error, a duplicate key, checksumPresent, moreToCome, an exhaust
# hello answered three times, OP_COMPRESSED with snappy, zlib and zstd,
# endSessions) and a 3.x-era one (OP_QUERY and OP_REPLY, OP_GET_MORE,
# OP_INSERT, OP_UPDATE, OP_DELETE, OP_KILL_CURSORS, a query failure).

MONGODB_PY=/usr/bin/python3     # Debian's, where python3-snappy and
                                # python3-zstandard are installed

mongodb_need() {
    need "$MONGODB_PY" python3-minimal
    "$MONGODB_PY" -c 'import snappy' 2>/dev/null ||
        missing+=("python3 snappy (apt-get install python3-snappy)")
    "$MONGODB_PY" -c 'import zstandard' 2>/dev/null ||
        missing+=("python3 zstandard (apt-get install python3-zstandard)")
}

# mongodb_expect FILE DISPLAY-FILTER OP N: expect, with tshark told that
# port 27017 is MongoDB (its heuristics otherwise take some of these
# segments for TLS continuation data)
mongodb_expect() {
    local n
    n=$(tshark -r "$WORK/out/$1" -d tcp.port==27017,mongo -Y "$2" 2>"$WORK/tshark.err" | wc -l) ||
        { echo "make-samples: $1: tshark failed on '$2':" >&2; cat "$WORK/tshark.err" >&2; exit 1; }
    if ! test "$n" "$3" "$4"; then
        echo "make-samples: $1: '$2' matched $n packets, want $3 $4" >&2
        exit 1
    fi
}

mongodb_make() {
    local py="$ROOT/tools/make-samples.d/mongodb-wire.py"
    setup v4; no_gso
    ip netns exec "$NS_S" "$MONGODB_PY" "$py" server "$S4" 27017 >"$WORK/mongodb-srv.log" 2>&1 &
    PIDS+=("$!")
    wait_until "mongodb-wire server" ip netns exec "$NS_S" sh -c "ss -Hltn 'sport = :27017' | grep -q ."
    cap_start "$NS_C" mongodb.pcap "${TCPDUMP[@]}" -i "$C_IF" tcp port 27017
    cli "$MONGODB_PY" "$py" client "$S4" 27017
    cap_stop
    expect mongodb.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 2
    expect mongodb.pcap 'tcp.analysis.flags && !tcp.analysis.window_update' -eq 0
    # every message one segment (none is larger than the MTU)
    mongodb_expect mongodb.pcap 'mongo' -eq 45
    mongodb_expect mongodb.pcap 'mongo.opcode == 2013' -eq 27
    mongodb_expect mongodb.pcap 'mongo.opcode == 2012' -eq 6
    mongodb_expect mongodb.pcap 'mongo.compression.compressor == 1' -eq 2
    mongodb_expect mongodb.pcap 'mongo.compression.compressor == 2' -eq 2
    mongodb_expect mongodb.pcap 'mongo.compression.compressor == 3' -eq 2
    mongodb_expect mongodb.pcap 'mongo.opcode == 2004' -eq 3
    mongodb_expect mongodb.pcap 'mongo.opcode == 1' -eq 4
    mongodb_expect mongodb.pcap 'mongo.opcode == 2005' -eq 1
    mongodb_expect mongodb.pcap 'mongo.opcode == 2002' -eq 1
    mongodb_expect mongodb.pcap 'mongo.opcode == 2001' -eq 1
    mongodb_expect mongodb.pcap 'mongo.opcode == 2006' -eq 1
    mongodb_expect mongodb.pcap 'mongo.opcode == 2007' -eq 1
    mongodb_expect mongodb.pcap 'mongo.msg.sections.section.doc_sequence_id == "documents"' -eq 2
    mongodb_expect mongodb.pcap 'mongo.msg.flags.checksumpresent == 1' -eq 2
    mongodb_expect mongodb.pcap 'mongo.msg.flags.moretocome == 1' -eq 3
    mongodb_expect mongodb.pcap 'mongo.msg.flags.exhaustallowed == 1' -eq 1
    mongodb_expect mongodb.pcap 'mongo.element.name == "codeName"' -eq 1
    mongodb_expect mongodb.pcap 'mongo.element.name == "writeErrors"' -eq 1
    mongodb_expect mongodb.pcap 'mongo.element.name == "$err"' -eq 1
    mongodb_expect mongodb.pcap 'mongo.reply.flags.queryfailure == 1' -eq 1
    # the checksum trailer is not a section: tshark 4.0 says so, no other
    mongodb_expect mongodb.pcap '_ws.malformed && !mongo.msg.flags.checksumpresent' -eq 0
}

mongodb_readme() {
    cat <<'EOF'

MongoDB (mongodb.pcap): MongoDB is not in Debian, so both ends are
tools/make-samples.d/mongodb-wire.py, a python3 server (pbs-srv,
10.99.0.2:27017) and client (pbs-cli) that build every message byte by
byte from the wire protocol specification; the bytes are the same on every
run. Two connections. The first speaks OP_MSG as a modern driver does:
hello (with the client metadata), insert of three documents in a kind 1
section (one of them holds every BSON type), find with batchSize 2 and a
getMore on its cursor, update, delete, aggregate, drop of a missing
collection (ok 0, code 26, NamespaceNotFound), an insert that gets a
duplicate key writeErrors (code 11000), ping with checksumPresent both
ways, an unacknowledged insert with moreToCome (no reply), a streaming
hello with exhaustAllowed answered three times (twice with moreToCome),
find, count and insert in OP_COMPRESSED with snappy, zlib and zstd (the
replies too), endSessions. The second speaks the legacy opcodes: isMaster
by OP_QUERY on admin.$cmd, a find with skip, limit and a field selector
answered with a cursor, OP_GET_MORE, OP_INSERT, OP_UPDATE, OP_DELETE,
OP_KILL_CURSORS (no replies), and a query answered with QueryFailure and
$err. tshark 4.0 reads the CRC-32C trailer of checksumPresent messages as
a malformed section; every other message it dissects cleanly.
EOF
}
