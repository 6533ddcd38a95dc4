# tools/make-samples.d/pgsql.sh - the pgsql section of tools/make-samples
# (sourced by it; uses its helpers: setup, cap_start, cap_stop, cli, expect)
#
# A private PostgreSQL 15 cluster (initdb in $WORK, run as the postgres
# user in pbs-srv, listening on 10.99.0.2:5432), and three captures:
#   pgsql.pcap      psql (sslmode=disable): a script of simple queries
#                   (results, an empty result, 300 rows, INSERT, UPDATE,
#                   DELETE, a unique violation, a syntax error, a notice,
#                   COPY FROM STDIN and TO STDOUT, LISTEN/NOTIFY), then
#                   -c strings of several statements (one with an error
#                   in the middle), and a user let in by trust
#   pgsql-ext.pcap  psycopg 3 (the extended query protocol): parameters
#                   bound by the server, named prepared statements, a
#                   pipelined executemany, a unique violation, an empty
#                   query, a query cancelled (CancelRequest)
#   pgsql-auth.pcap logins: a wrong password, a user pg_hba.conf rejects,
#                   an SSLRequest declined (ssl off), then, with ssl on,
#                   SSLRequest accepted (sslmode=require: TLS) and a
#                   GSSENCRequest (accepted: Debian's server has GSSAPI;
#                   the client then hangs up)

PG_BIN=/usr/lib/postgresql/15/bin
PG_PASS=pbtools-sample-pw           # the password of role pbtest (SCRAM)
PY3=/usr/bin/python3                # Debian's, where python3-psycopg is

pgsql_need() {
    need "$PG_BIN/postgres" postgresql-15
    need "$PG_BIN/initdb" postgresql-15
    need psql postgresql-client-15
    need setpriv util-linux
    need openssl openssl
    need mergecap wireshark-common
    need "$PY3" python3
    "$PY3" -c 'import psycopg' 2>/dev/null ||
        missing+=("psycopg 3 for $PY3 (apt-get install python3-psycopg)")
}

pg_run() {      # pg_run COMMAND...: as the postgres user
    setpriv --reuid=postgres --regid=postgres --init-groups "$@"
}

pg_sql() {      # pg_sql SQL: as the superuser, over the Unix socket (not captured)
    ip netns exec "$NS_S" setpriv --reuid=postgres --regid=postgres --init-groups \
        "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK/pgsock" -d postgres -c "$1" >/dev/null
}

# pg_start SSL: a fresh cluster in $WORK/pg (made once), started in pbs-srv
# with ssl on or off
pg_start() {
    local ssl=$1
    if [ ! -d "$WORK/pg" ]; then
        install -d -o postgres -g postgres -m 700 "$WORK/pg" "$WORK/pgsock"
        pg_run "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --auth=trust \
            --no-instructions -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 ||
            { echo "make-samples: pgsql: initdb failed:" >&2; cat "$WORK/initdb.log" >&2; exit 1; }
        # a throwaway self-signed certificate for the SSL case
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
            -subj /CN=pg.pbs.test -keyout "$WORK/pg/server.key" -out "$WORK/pg/server.crt" \
            2>/dev/null
        chown postgres:postgres "$WORK/pg/server.key" "$WORK/pg/server.crt"
        chmod 600 "$WORK/pg/server.key"
        # local: the superuser over the socket; the client subnet: pbtest
        # with SCRAM, pbtrust without a password, nobody else
        cat >"$WORK/pg/pg_hba.conf" <<EOF
local all postgres trust
host all pbtrust 10.99.0.0/24 trust
host all pbtest 10.99.0.0/24 scram-sha-256
EOF
        cat >>"$WORK/pg/postgresql.conf" <<EOF
listen_addresses = '$S4'
port = 5432
unix_socket_directories = '$WORK/pgsock'
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
password_encryption = 'scram-sha-256'
logging_collector = off
log_min_messages = warning
fsync = off
EOF
    fi
    ip netns exec "$NS_S" setpriv --reuid=postgres --regid=postgres --init-groups \
        "$PG_BIN/postgres" -D "$WORK/pg" -c ssl="$ssl" >>"$WORK/postgres.log" 2>&1 &
    PIDS+=("$!")
    PG_PID=$!
    wait_until "postgres" ip netns exec "$NS_S" sh -c "ss -Hltn 'sport = :5432' | grep -q ."
    wait_until "postgres socket" test -S "$WORK/pgsock/.s.PGSQL.5432"
}
pg_stop() {
    stop_pid "$PG_PID" INT          # fast shutdown
}
# the roles and the database, once (over the socket)
pg_init_db() {
    pg_sql "CREATE ROLE pbtest LOGIN PASSWORD '$PG_PASS'"
    pg_sql "CREATE ROLE pbtrust LOGIN"
    pg_sql "CREATE DATABASE pbtest OWNER pbtest"
    pg_sql "GRANT ALL ON DATABASE pbtest TO pbtrust"
}

PSQL=(psql -X -q -v ON_ERROR_STOP=0)
PG_CONN="host=$S4 port=5432 dbname=pbtest"

pgsql_make() {
    # ---------------------------------------------------------------- pgsql.pcap
    cat >"$WORK/pg-script.sql" <<'EOF'
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(6,2));
INSERT INTO items VALUES (1, 'apple', 1.20), (2, 'pear', 0.80), (3, 'plum, red', 2.50);
SELECT * FROM items ORDER BY id;
SELECT * FROM items WHERE id = 99;
UPDATE items SET price = price * 2 WHERE id = 2;
DELETE FROM items WHERE id = 3;
INSERT INTO items VALUES (1, 'apple again', 0);
SELEC 1;
SELECT g AS n, md5(g::text) AS hash FROM generate_series(1, 300) AS g;
DROP TABLE IF EXISTS no_such_table;
COPY items FROM STDIN;
4	fig	3.10
5	lime	0.45
6	date	4.00
\.
COPY items TO STDOUT;
LISTEN pbchan;
NOTIFY pbchan, 'hello from pbtools';
UNLISTEN pbchan;
EOF
    setup v4; no_gso
    pg_start off
    pg_init_db
    cap_start "$NS_C" pgsql.pcap "${TCPDUMP[@]}" -i "$C_IF"
    cli env PGPASSWORD="$PG_PASS" PGAPPNAME=pbtools-sample "${PSQL[@]}" \
        "$PG_CONN user=pbtest sslmode=disable" -f "$WORK/pg-script.sql" \
        >"$WORK/pg-script.out" 2>&1
    cli env PGPASSWORD="$PG_PASS" "${PSQL[@]}" "$PG_CONN user=pbtest sslmode=disable" \
        -c "SELECT 1 AS one; SELECT 'two' AS two; INSERT INTO items VALUES (10, 'kiwi', 3)" \
        >/dev/null 2>&1
    cli env PGPASSWORD="$PG_PASS" "${PSQL[@]}" "$PG_CONN user=pbtest sslmode=disable" \
        -c "SELECT count(*) FROM items; SELECT 1/0; SELECT 'not run'" >/dev/null 2>&1 || true
    cli "${PSQL[@]}" "$PG_CONN user=pbtrust sslmode=disable" \
        -c "SELECT current_user, current_database()" >/dev/null
    cap_stop
    grep -q 'duplicate key value violates unique constraint' "$WORK/pg-script.out" &&
    grep -q 'syntax error at or near "SELEC"' "$WORK/pg-script.out" &&
    grep -q 'hello from pbtools' "$WORK/pg-script.out" ||
        { echo "make-samples: pgsql: the psql script did not run as expected:" >&2
          cat "$WORK/pg-script.out" >&2; exit 1; }
    expect pgsql.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 4
    expect pgsql.pcap 'pgsql.type == "Startup message"' -eq 4
    expect pgsql.pcap 'pgsql.type == "Simple query"' -eq 18
    expect pgsql.pcap 'pgsql.code == "23505"' -eq 1
    expect pgsql.pcap 'pgsql.code == "42601"' -eq 1
    expect pgsql.pcap 'pgsql.code == "22012"' -eq 1
    expect pgsql.pcap 'pgsql.tag == "SELECT 300"' -eq 1
    expect pgsql.pcap 'pgsql.tag == "COPY 3"' -eq 1
    expect pgsql.pcap 'pgsql.tag == "COPY 5"' -eq 1
    expect pgsql.pcap 'pgsql.type == "Notification"' -eq 1
    expect pgsql.pcap 'pgsql.type == "CopyIn response"' -eq 1
    expect pgsql.pcap 'pgsql.type == "CopyOut response"' -eq 1
    expect pgsql.pcap 'pgsql.query contains "SELECT 1/0"' -eq 1
    expect pgsql.pcap 'pgsql.authtype == 10' -eq 3     # SASL (SCRAM) x3
    expect pgsql.pcap 'pgsql.authtype == 0' -eq 4

    # ------------------------------------------------------------ pgsql-ext.pcap
    cat >"$WORK/pg-ext.py" <<'EOF'
import sys, threading, time
import psycopg

conninfo = sys.argv[1]
with psycopg.connect(conninfo, autocommit=True, application_name="pbtools-ext") as conn:
    # parameters bound by the server: Parse/Bind/Describe/Execute/Sync
    row = conn.execute("SELECT name, price FROM items WHERE id = %s", (1,)).fetchone()
    assert row[0] == "apple", row
    # a named prepared statement: Parse "_pg3_0" once, then Bind/Execute
    for i in (1, 2, 4):
        conn.execute("SELECT name FROM items WHERE id = %s", (i,), prepare=True).fetchall()
    # executemany: the inserts pipelined, one Sync at the end
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO items (id, name, price) VALUES (%s, %s, %s)",
                        [(20, "cherry", 5), (21, "grape", 2), (22, "melon", 4)])
    try:
        conn.execute("INSERT INTO items (id, name) VALUES (%s, %s)", (20, "again"))
    except psycopg.errors.UniqueViolation:
        pass
    else:
        raise SystemExit("expected a unique violation")
    # an empty query: EmptyQueryResponse
    conn.execute("")
    # a query cancelled from the side: a CancelRequest on a new connection
    t = threading.Timer(0.5, conn.cancel)
    t.start()
    try:
        conn.execute("SELECT pg_sleep(5)")
    except psycopg.errors.QueryCanceled:
        pass
    else:
        raise SystemExit("expected the query to be cancelled")
    t.join()
    conn.execute("SELECT count(*) FROM items").fetchone()
print("ok")
EOF
    cap_start "$NS_C" pgsql-ext.pcap "${TCPDUMP[@]}" -i "$C_IF"
    cli env PGPASSWORD="$PG_PASS" "$PY3" "$WORK/pg-ext.py" \
        "$PG_CONN user=pbtest sslmode=disable" >"$WORK/pg-ext.out" 2>&1 ||
        { echo "make-samples: pgsql: the psycopg client failed:" >&2
          cat "$WORK/pg-ext.out" >&2; exit 1; }
    cap_stop
    expect pgsql-ext.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 2
    expect pgsql-ext.pcap 'pgsql.type == "Simple query"' -eq 3     # psycopg without parameters
    expect pgsql-ext.pcap 'pgsql.type == "Parse" && pgsql.statement == "_pg3_0"' -eq 1
    expect pgsql-ext.pcap 'pgsql.type == "Bind" && pgsql.statement == "_pg3_0"' -ge 1
    expect pgsql-ext.pcap 'pgsql.type contains "Execute"' -eq 8
    expect pgsql-ext.pcap 'pgsql.code == "23505"' -eq 1
    expect pgsql-ext.pcap 'pgsql.code == "57014"' -eq 1
    expect pgsql-ext.pcap 'pgsql.type == "Empty query"' -eq 1
    expect pgsql-ext.pcap 'pgsql.type == "Cancel request"' -eq 1
    pg_stop

    # ----------------------------------------------------------- pgsql-auth.pcap
    # ssl off first: the SSLRequest of sslmode=prefer is declined ('N')
    setup v4; no_gso
    pg_start off
    cap_start "$NS_C" pgsql-auth.pcap "${TCPDUMP[@]}" -i "$C_IF"
    cli env PGPASSWORD=wrong-password "${PSQL[@]}" "$PG_CONN user=pbtest sslmode=disable" \
        -c "SELECT 1" >/dev/null 2>&1 && { echo "make-samples: pgsql: a wrong password got in" >&2; exit 1; }
    cli "${PSQL[@]}" "$PG_CONN user=intruder sslmode=disable" \
        -c "SELECT 1" >/dev/null 2>&1 && { echo "make-samples: pgsql: pg_hba.conf let intruder in" >&2; exit 1; }
    cli env PGPASSWORD="$PG_PASS" "${PSQL[@]}" "$PG_CONN user=pbtest sslmode=prefer" \
        -c "SELECT 'declined' AS ssl" >/dev/null
    cap_stop
    pg_stop
    # then ssl on: sslmode=require gets 'S' and TLS; a GSSENCRequest
    # (sent by hand: libpq sends one only with a Kerberos ticket) gets 'G'
    # (the server is built with GSSAPI) and the client hangs up
    pg_start on
    cap_start "$NS_C" pgsql-auth.pcap.2 "${TCPDUMP[@]}" -i "$C_IF"
    cli env PGPASSWORD="$PG_PASS" "${PSQL[@]}" "$PG_CONN user=pbtest sslmode=require" \
        -c "SELECT 'encrypted' AS ssl" >/dev/null
    cli "$PY3" - "$S4" <<'EOF'
import socket, struct, sys
s = socket.create_connection((sys.argv[1], 5432))
s.sendall(struct.pack("!ii", 8, 80877104))     # GSSENCRequest
assert s.recv(1) == b"G"
s.close()
EOF
    cap_stop
    pg_stop
    # one file: the ssl-off part, then the ssl-on part
    mergecap -F pcap -a -w "$WORK/out/pgsql-auth.pcap.all" "$WORK/out/pgsql-auth.pcap" \
        "$WORK/out/pgsql-auth.pcap.2"
    mv "$WORK/out/pgsql-auth.pcap.all" "$WORK/out/pgsql-auth.pcap"
    rm -f "$WORK/out/pgsql-auth.pcap.2"
    expect pgsql-auth.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 5
    expect pgsql-auth.pcap 'pgsql.code == "28P01"' -eq 1
    expect pgsql-auth.pcap 'pgsql.code == "28000"' -eq 1
    expect pgsql-auth.pcap 'pgsql.type == "SSL request"' -eq 2
    expect pgsql-auth.pcap 'pgsql.type == "GSS encrypt request"' -eq 1
    expect pgsql-auth.pcap 'tcp.srcport == 5432 && tcp.payload == 47' -eq 1     # 'G'
    expect pgsql-auth.pcap 'tcp.srcport == 5432 && tcp.payload == 4e' -eq 1     # 'N' (declined SSL)
    expect pgsql-auth.pcap 'tcp.srcport == 5432 && tcp.payload == 53' -eq 1     # 'S' 
    expect pgsql-auth.pcap 'tls.handshake.type == 1' -ge 1       # a HelloRetryRequest may double it
    expect pgsql-auth.pcap 'pgsql.query contains "declined"' -eq 1
    expect pgsql-auth.pcap 'pgsql.query contains "encrypted"' -eq 0
}

pgsql_readme() {
    cat <<'EOF'

The PostgreSQL samples (section pgsql; group db), for pb-txn: PostgreSQL
15 (Debian's postgresql-15), a cluster made by initdb on each run, run
as the postgres user in pbs-srv on 10.99.0.2:5432; pg_hba.conf lets
pbtrust in without a password and pbtest with SCRAM-SHA-256 (password
pbtools-sample-pw), from 10.99.0.0/24 only; a self-signed certificate
(EC P-256, CN pg.pbs.test) made on each run. Clients in pbs-cli.
pgsql.pcap       tcpdump -i pbs-c0; ssl off
                 1. psql -X sslmode=disable user=pbtest
                    application_name=pbtools-sample -f script: CREATE
                    TABLE items, INSERT (3 rows), SELECT (3 rows),
                    SELECT (no row), UPDATE, DELETE, INSERT of a
                    duplicate key (23505), "SELEC 1" (42601), SELECT of
                    300 rows (n, md5(n)), DROP TABLE IF EXISTS (a
                    NOTICE), COPY items FROM STDIN (3 rows), COPY items
                    TO STDOUT (5 rows), LISTEN pbchan, NOTIFY pbchan
                    (a NotificationResponse comes back), UNLISTEN:
                    each statement one Query message
                 2. psql -c "SELECT 1 AS one; SELECT 'two' AS two;
                    INSERT INTO items VALUES (10, 'kiwi', 3)": three
                    statements in one Query message
                 3. psql -c "SELECT count(*) FROM items; SELECT 1/0;
                    SELECT 'not run'": the second fails (22012), the
                    third is never run
                 4. psql user=pbtrust (trust): SELECT current_user,
                    current_database()
pgsql-ext.pcap   tcpdump -i pbs-c0; python3 with psycopg 3 (libpq 15),
                 autocommit, application_name pbtools-ext: the extended
                 query protocol only (Parse/Bind/Describe/Execute/Sync):
                 a SELECT with a parameter; a statement prepared as
                 "_pg3_0" and executed three times; executemany of
                 three INSERTs, pipelined; an INSERT of a duplicate key
                 (23505); an empty query; SELECT pg_sleep(5) cancelled
                 after 0.5 s by a CancelRequest on a second connection
                 (57014); SELECT count(*)
pgsql-auth.pcap  tcpdump -i pbs-c0, two captures joined (mergecap -a)
                 with ssl off: psql with a wrong password for pbtest
                 (SCRAM, then 28P01); psql user=intruder (no
                 pg_hba.conf entry: 28000); psql sslmode=prefer: the
                 SSLRequest declined ('N'), the startup in clear, one
                 SELECT; then, the server restarted with ssl on: psql
                 sslmode=require: the SSLRequest accepted ('S') and TLS
                 1.3 to the end; a GSSENCRequest sent by a small python3
                 client, accepted ('G': Debian's server is built with
                 GSSAPI), after which the client hangs up
EOF
}
