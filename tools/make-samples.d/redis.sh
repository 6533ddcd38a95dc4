# tools/make-samples.d/redis.sh - the redis section of tools/make-samples
# (sourced by it; uses its helpers: setup, cap_start, cap_stop, cli, expect)
#
# 19-20. redis.pcap and redis-resp3.pcap: redis-server (Debian 12: Redis
# 7.0) in pbs-srv on 10.99.0.2:6379 with a configuration file written
# here: no persistence (save "", appendonly no, its dir in $WORK), DEBUG
# enabled (for DEBUG PROTOCOL, which answers with every RESP3 type), an
# ACL user alice (password
# "secret") besides the default user (no password, and no COMMAND: the
# COMMAND DOCS that redis-cli 7 sends when it reads commands from stdin
# gets a short NOPERM error instead of 170 KB of help); redis-cli in
# pbs-cli.
# Both veth ends segment in software (no_gso) and everything runs on CPU 0,
# as for http-txn.pcap, so the 100 KB value stays in 1514-byte frames in
# order. redis.pcap (RESP2), eight connections:
#  1. redis-cli with commands on stdin, one at a time: AUTH alice secret,
#     SET/GET/DEL/INCR, LPUSH/LRANGE, HSET/HGETALL, GET of a missing key
#     (nil), LPUSH on a string (WRONGTYPE), an unknown command, LRANGE of
#     an empty list, RPUSH of 300 elements and LRANGE of them (a large
#     array), MULTI/SET/INCR/EXEC, MULTI/DISCARD, AUTH alice nope
#     (WRONGPASS), CONFIG SET requirepass ... (refused: NOPERM for alice)
#  2. redis-cli -x SET big (a 102400-byte value from stdin); 3. GET big
#  4. redis-cli --pipe: 40 commands in RESP sent without waiting (and the
#     ECHO of 20 random bytes redis-cli adds to see the end)
#  5. bash /dev/tcp: inline commands in one write: PING, SET with a quoted
#     value, CLIENT REPLY OFF, SET (no reply), CLIENT REPLY ON, GET, QUIT
#  6. redis-cli SUBSCRIBE news alerts (two confirmations), while two more
#     connections (7., 8.) PUBLISH to news and to alerts: two messages
#     that answer no request; then the subscriber is stopped
# redis-resp3.pcap: redis-cli -3 (HELLO 3) with commands on stdin: HELLO 3
# AUTH alice secret, HSET/HGETALL (a map), SADD/SMEMBERS (a set), ZADD/
# ZSCORE (a double), GET of a missing key (null), CLIENT TRACKING ON, GET
# k, SET k (an invalidate push); bash /dev/tcp: HELLO 3 and DEBUG PROTOCOL
# attrib, bignum, true, false, verbatim, double, map, set, null, push,
# inline in one write (redis-cli 7.0 cannot read attributes and big
# numbers); then a RESP3 SUBSCRIBE whose confirmation and message are
# pushes, with a RESP2 PUBLISH.
redis_need() {
    need redis-server redis-server
    need redis-cli redis-tools
}

REDIS_CLI=(redis-cli -h 10.99.0.2 -p 6379)

redis_start() {
    mkdir -p "$WORK/redis"
    cat >"$WORK/redis/redis.conf" <<EOF
bind 10.99.0.2
port 6379
protected-mode no
save ""
appendonly no
dir $WORK/redis
daemonize no
logfile $WORK/redis/redis.log
enable-debug-command yes
user default on nopass ~* &* +@all -command
user alice on >secret ~* &* +@all -config
EOF
    ip netns exec "$NS_S" redis-server "$WORK/redis/redis.conf" &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    wait_until "redis-server" ip netns exec "$NS_S" sh -c "ss -Hltn 'sport = :6379' | grep -q ."
}

redis_make() {
    local cpus i
    cpus=$(taskset -p $$ | sed 's/.*: //')
    taskset -p 1 $$ >/dev/null

    # ---- redis.pcap (RESP2) ----
    setup v4; no_gso
    redis_start
    cat >"$WORK/redis-cmds.txt" <<'EOF'
AUTH alice secret
SET key1 hello
GET key1
INCR counter
INCR counter
DEL key1
LPUSH list1 a b c
LRANGE list1 0 -1
HSET user:1 name "Ada Lovelace" born 1815
HGETALL user:1
GET nosuchkey
LPUSH counter x
FOOBAR arg1 arg2
LRANGE emptylist 0 -1
MULTI
SET tx:a 1
INCR tx:a
EXEC
MULTI
SET tx:b 2
DISCARD
AUTH alice nope
CONFIG SET requirepass hunter2
EOF
    {
        printf 'RPUSH biglist'
        for i in $(seq 1 300); do printf ' element-%03d' "$i"; done
        printf '\nLRANGE biglist 0 -1\n'
    } >>"$WORK/redis-cmds.txt"
    head -c 102400 /dev/zero | tr '\0' 'v' >"$WORK/redis-big.txt"
    {
        for i in $(seq 1 30); do
            printf '*3\r\n$3\r\nSET\r\n$%d\r\npipe:%d\r\n$%d\r\nvalue-%d\r\n' \
                $((5 + ${#i})) "$i" $((6 + ${#i})) "$i"
        done
        for i in $(seq 1 10); do
            printf '*2\r\n$4\r\nINCR\r\n$12\r\npipe:counter\r\n'
        done
    } >"$WORK/redis-pipe.txt"
    cap_start "$NS_C" redis.pcap "${TCPDUMP[@]}" -B 65536 -i "$C_IF"
    cli "${REDIS_CLI[@]}" <"$WORK/redis-cmds.txt" >"$WORK/redis-cmds.out"
    cli "${REDIS_CLI[@]}" -x SET big <"$WORK/redis-big.txt" >/dev/null
    cli "${REDIS_CLI[@]}" GET big >/dev/null
    cli "${REDIS_CLI[@]}" --pipe <"$WORK/redis-pipe.txt" >"$WORK/redis-pipe.out"
    cli bash -c "exec 3<>/dev/tcp/10.99.0.2/6379
        printf 'PING\r\nSET greeting \"hello world\"\r\nCLIENT REPLY OFF\r\nSET quiet 1\r\nCLIENT REPLY ON\r\nGET greeting\r\nQUIT\r\n' >&3
        timeout 2 cat <&3 >/dev/null"
    # started without cli(), so that $! is redis-cli itself (ip execs it)
    ip netns exec "$NS_C" "${REDIS_CLI[@]}" SUBSCRIBE news alerts >"$WORK/redis-sub.out" &
    PIDS+=("$!"); local sub=$!
    sleep 0.5
    cli "${REDIS_CLI[@]}" PUBLISH news "hello subscribers" >/dev/null
    cli "${REDIS_CLI[@]}" PUBLISH alerts "fire drill" >/dev/null
    sleep 0.5
    stop_pid "$sub"
    cap_stop
    grep -q 'errors: 0,' "$WORK/redis-pipe.out" ||
        { echo "make-samples: redis: --pipe failed:" >&2; cat "$WORK/redis-pipe.out" >&2; exit 1; }
    expect redis.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 8
    expect redis.pcap 'resp.error contains "WRONGTYPE"' -eq 1
    expect redis.pcap 'resp.error contains "WRONGPASS"' -eq 1
    expect redis.pcap 'resp.error contains "unknown command"' -eq 1
    expect redis.pcap 'resp.error contains "config|set"' -eq 1
    expect redis.pcap 'resp.error contains "command|docs"' -eq 1
    expect redis.pcap 'resp.string == "QUEUED"' -ge 3
    expect redis.pcap 'frame.len > 1514' -eq 0
    expect redis.pcap 'tcp.analysis.retransmission || tcp.analysis.lost_segment || tcp.analysis.out_of_order' -eq 0
    redis_stop

    # ---- redis-resp3.pcap ----
    setup v4; no_gso
    redis_start
    cat >"$WORK/redis-resp3.txt" <<'EOF'
HELLO 3 AUTH alice secret
HSET h3 f1 v1 f2 v2
HGETALL h3
SADD s3 x y
SMEMBERS s3
ZADD z3 1.5 m
ZSCORE z3 m
GET nosuchkey
CLIENT TRACKING ON
GET tracked
SET tracked 1
PING
EOF
    cap_start "$NS_C" redis-resp3.pcap "${TCPDUMP[@]}" -B 65536 -i "$C_IF"
    cli "${REDIS_CLI[@]}" -3 <"$WORK/redis-resp3.txt" >"$WORK/redis-resp3.out"
    # redis-cli 7.0 stops at an attribute or a big number ("Protocol
    # error"): DEBUG PROTOCOL's replies are asked for inline, in one write
    cli bash -c "exec 3<>/dev/tcp/10.99.0.2/6379
        printf 'HELLO 3\r\nDEBUG PROTOCOL attrib\r\nDEBUG PROTOCOL bignum\r\nDEBUG PROTOCOL true\r\nDEBUG PROTOCOL false\r\nDEBUG PROTOCOL verbatim\r\nDEBUG PROTOCOL double\r\nDEBUG PROTOCOL map\r\nDEBUG PROTOCOL set\r\nDEBUG PROTOCOL null\r\nDEBUG PROTOCOL push\r\nQUIT\r\n' >&3
        timeout 2 cat <&3 >/dev/null"
    ip netns exec "$NS_C" "${REDIS_CLI[@]}" -3 SUBSCRIBE news >"$WORK/redis-sub3.out" &
    PIDS+=("$!"); sub=$!
    sleep 0.5
    cli "${REDIS_CLI[@]}" PUBLISH news "hello resp3" >/dev/null
    sleep 0.5
    stop_pid "$sub"
    cap_stop
    expect redis-resp3.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 4
    expect redis-resp3.pcap 'tcp.payload contains "%2\r\n"' -ge 1
    expect redis-resp3.pcap 'tcp.payload contains "|1\r\n$14\r\nkey-popularity"' -eq 1
    expect redis-resp3.pcap 'tcp.payload contains "=29\r\ntxt:"' -eq 1
    expect redis-resp3.pcap 'tcp.payload contains ">2\r\n$16\r\nserver-cpu-usage"' -eq 1
    expect redis-resp3.pcap 'tcp.payload contains ">2\r\n$10\r\ninvalidate"' -eq 1
    expect redis-resp3.pcap 'tcp.payload contains ">3\r\n$7\r\nmessage"' -eq 1
    expect redis-resp3.pcap 'tcp.analysis.retransmission || tcp.analysis.lost_segment || tcp.analysis.out_of_order' -eq 0
    redis_stop
    taskset -p "$cpus" $$ >/dev/null
}

redis_stop() {
    stop_pid "$REDIS_PID"
}

redis_readme() {
    cat <<'EOF'

The Redis samples (section redis), for pb-txn: redis-server (Redis 7.0)
on 10.99.0.2:6379 in pbs-srv, no persistence, DEBUG enabled, ACL users
default (no password, no COMMAND) and alice (password "secret", no
CONFIG); both veth ends with gso_max_segs 1 and everything on CPU 0;
tcpdump -B 65536 -i pbs-c0. redis-cli reading commands from stdin first
sends COMMAND DOCS, refused (NOPERM) for the default user.
redis.pcap       RESP2, eight connections:
                 1. redis-cli, commands on stdin one at a time: AUTH alice
                    secret, SET/GET/INCR/DEL, LPUSH/LRANGE, HSET/HGETALL,
                    GET nosuchkey (nil), LPUSH on a string (WRONGTYPE),
                    FOOBAR (unknown command), LRANGE of an empty list,
                    MULTI SET INCR EXEC, MULTI SET DISCARD, AUTH alice
                    nope (WRONGPASS), CONFIG SET requirepass (NOPERM),
                    RPUSH of 300 elements, LRANGE of them
                 2. redis-cli -x SET big: a 102400-byte value
                 3. redis-cli GET big
                 4. redis-cli --pipe: 30 SETs and 10 INCRs in RESP without
                    waiting, and redis-cli's ECHO of 20 random bytes
                 5. bash /dev/tcp, inline commands in one write: PING,
                    SET greeting "hello world", CLIENT REPLY OFF, SET
                    quiet 1 (no reply), CLIENT REPLY ON, GET greeting, QUIT
                 6. redis-cli SUBSCRIBE news alerts (two confirmations,
                    then the two messages below; stopped with SIGTERM)
                 7. and 8. redis-cli PUBLISH news, PUBLISH alerts
redis-resp3.pcap RESP3, four connections:
                 1. redis-cli -3, commands on stdin: HELLO 3 (from
                    redis-cli), HELLO 3 AUTH alice secret, HSET/HGETALL
                    (map), SADD/SMEMBERS (set), ZADD/ZSCORE (double), GET
                    nosuchkey (null), CLIENT TRACKING ON, GET tracked, SET
                    tracked 1 (an invalidate push), PING
                 2. bash /dev/tcp, inline commands in one write: HELLO 3,
                    DEBUG PROTOCOL attrib, bignum, true, false, verbatim,
                    double, map, set, null, push (a push, then the reply),
                    QUIT
                 3. redis-cli -3 SUBSCRIBE news: the confirmation and the
                    message are RESP3 pushes
                 4. redis-cli PUBLISH news
EOF
}
