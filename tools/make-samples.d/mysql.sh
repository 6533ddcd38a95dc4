# tools/make-samples.d/mysql.sh - the mysql section of tools/make-samples
# (sourced by it; uses its helpers: setup, cap_start, cap_stop, cli, expect)
#
# 19. mysql.pcap, mysql-compress.pcap, mysql-tls.pcap: MariaDB 10.11
# (mariadbd, a private datadir made by mariadb-install-db in $WORK, run as
# root, listening on 10.99.0.2:3306 with skip-name-resolve, local-infile
# on, and a self-signed certificate made on each run) and real clients in
# pbs-cli: the mariadb command-line client and perl DBI with DBD::MariaDB.
# The users and the database are made over the server's Unix socket in
# pbs-srv, outside the capture: user pbs (password pbs-secret), database
# shop with a table items (id AUTO_INCREMENT, name, qty) and a procedure
# two_results() that returns two result sets.
# mysql.pcap, in this order (one connection each):
#  1. mariadb --skip-ssl shop: SELECT * FROM items (3 rows), an empty
#     result, SELECT seq, CONCAT(...) FROM seq_1_to_300 (300 rows),
#     INSERT (insert id), UPDATE (2 affected rows), DELETE, SELECT from a
#     missing table (error 1146), a syntax error (1064), USE mysql and USE
#     shop (the client sends SELECT DATABASE(), then COM_INIT_DB), CALL
#     two_results() (two result sets), LOAD DATA LOCAL INFILE of three
#     lines (with a MariaDB progress report), then COM_QUIT
#  2. mariadb with a wrong password: the login fails (error 1045)
#  3. perl DBI, DBD::MariaDB with mariadb_server_prepare=1: COM_STMT_PREPARE
#     of an INSERT with an integer and a string parameter, two
#     COM_STMT_EXECUTEs, a prepared SELECT with one parameter executed
#     once (binary result set), COM_STMT_CLOSE of both, a COM_PING
# mysql-compress.pcap: mariadb --compress: two queries, then COM_QUIT; the
#  command phase is zlib-compressed (CLIENT_COMPRESS).
# mysql-tls.pcap: mariadb --ssl: SSLRequest, then TLS; one query inside.
MY_USER=pbs MY_PASS=pbs-secret
mysql_need() {
    need mariadbd mariadb-server
    need mariadb-install-db mariadb-server
    need mariadb mariadb-client
    need perl perl
    need openssl openssl
    perl -MDBD::MariaDB -e 1 2>/dev/null ||
        { echo "make-samples: mysql: perl DBD::MariaDB missing (apt-get install libdbd-mariadb-perl)" >&2; exit 1; }
}

MY_DIR=
mysql_server_start() {   # a fresh datadir in $MY_DIR/data, then the server
    rm -rf "$MY_DIR/data"; mkdir -p "$MY_DIR/data"
    mariadb-install-db --no-defaults --datadir="$MY_DIR/data" --user=root \
        --skip-test-db --auth-root-authentication-method=socket \
        >"$MY_DIR/install.log" 2>&1 ||
        { echo "make-samples: mysql: mariadb-install-db failed" >&2; cat "$MY_DIR/install.log" >&2; exit 1; }
    ip netns exec "$NS_S" mariadbd --no-defaults --datadir="$MY_DIR/data" --user=root \
        --socket="$MY_DIR/sock" --pid-file="$MY_DIR/pid" --log-error="$MY_DIR/error.log" \
        --bind-address="$S4" --port=3306 --skip-name-resolve --local-infile=1 \
        --ssl-cert="$MY_DIR/cert.pem" --ssl-key="$MY_DIR/key.pem" \
        --innodb-buffer-pool-size=16M --performance-schema=0 &
    PIDS+=("$!")
    wait_until "mariadbd" test -S "$MY_DIR/sock"
    ip netns exec "$NS_S" mariadb --no-defaults --socket="$MY_DIR/sock" -u root <<EOF
CREATE DATABASE shop;
CREATE USER '$MY_USER'@'%' IDENTIFIED BY '$MY_PASS';
GRANT ALL ON shop.* TO '$MY_USER'@'%';
GRANT SELECT ON mysql.* TO '$MY_USER'@'%';
USE shop;
CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40), qty INT);
INSERT INTO items (name, qty) VALUES ('apple', 3), ('pear, green', 5), ('plum "red"', 7);
DELIMITER //
CREATE PROCEDURE two_results() BEGIN SELECT 1 AS one; SELECT 'two' AS two; END//
DELIMITER ;
EOF
}

my_cli() {     # my_cli OPTION...: the mariadb client in pbs-cli (batch mode)
    cli mariadb --no-defaults -h "$S4" -P 3306 -u "$MY_USER" "$@"
}

mysql_make() {
    MY_DIR=$WORK/mysql
    mkdir -p "$MY_DIR"
    setup v4; no_gso
    # the server's certificate (self-signed, EC P-256), made each run
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
        -days 3650 -subj /CN=db.pbs.test -keyout "$MY_DIR/key.pem" -out "$MY_DIR/cert.pem" \
        >/dev/null 2>&1
    mysql_server_start
    printf '10,infile one,1\n11,infile two,2\n12,infile three,3\n' >"$WORK/items.csv"
    cat >"$WORK/prep.pl" <<'PL'
use strict; use warnings; use DBI;
my ($host, $user, $pass) = @ARGV;
my $dbh = DBI->connect("DBI:MariaDB:database=shop;host=$host;port=3306;mariadb_server_prepare=1;mariadb_ssl=0",
    $user, $pass, { RaiseError => 1, PrintError => 0, AutoCommit => 1 });
my $ins = $dbh->prepare("INSERT INTO items (name, qty) VALUES (?, ?)");
$ins->execute("prepared kiwi", 42);
$ins->execute("prepared fig", -7);
my $sel = $dbh->prepare("SELECT id, name, qty FROM items WHERE qty > ? ORDER BY id");
$sel->execute(4);
while (my @r = $sel->fetchrow_array) { }
$sel->finish; undef $sel; undef $ins;
$dbh->ping;
$dbh->disconnect;
PL
    # mysql.pcap
    cap_start "$NS_S" mysql.pcap "${TCPDUMP[@]}" -i "$S_IF" tcp port 3306
    # (from $WORK, so the file name in LOAD DATA is the same every run)
    (cd "$WORK" && my_cli --skip-ssl --force --local-infile=1 -p"$MY_PASS" shop) >/dev/null 2>&1 <<EOF || true
SELECT * FROM items;
SELECT name FROM items WHERE qty > 100;
SELECT seq, CONCAT('row number ', seq) AS label FROM seq_1_to_300;
INSERT INTO items (name, qty) VALUES ('quince', 1);
UPDATE items SET qty = qty + 1 WHERE qty < 6;
DELETE FROM items WHERE name = 'quince';
SELECT * FROM no_such_table;
SELEC 1;
USE mysql;
USE shop;
CALL two_results();
LOAD DATA LOCAL INFILE 'items.csv' INTO TABLE items FIELDS TERMINATED BY ',';
EOF
    my_cli --skip-ssl -pwrong-password -e 'SELECT 1' >/dev/null 2>&1 || true
    cli perl "$WORK/prep.pl" "$S4" "$MY_USER" "$MY_PASS"
    cap_stop
    expect mysql.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 3
    expect mysql.pcap 'mysql.command == 3' -ge 12
    expect mysql.pcap 'mysql.command == 2' -eq 2          # USE: COM_INIT_DB
    expect mysql.pcap 'mysql.command == 22' -eq 2         # COM_STMT_PREPARE
    expect mysql.pcap 'mysql.command == 23' -eq 3         # COM_STMT_EXECUTE
    expect mysql.pcap 'mysql.command == 25' -ge 1         # COM_STMT_CLOSE
    expect mysql.pcap 'mysql.command == 14' -eq 1         # COM_PING
    expect mysql.pcap 'mysql.error_code == 1146' -eq 1
    expect mysql.pcap 'mysql.error_code == 1064' -eq 1
    expect mysql.pcap 'mysql.error_code == 1045' -eq 1
    expect mysql.pcap 'tcp.analysis.flags && !tcp.analysis.window_update' -eq 0
    # mysql-compress.pcap
    cap_start "$NS_S" mysql-compress.pcap "${TCPDUMP[@]}" -i "$S_IF" tcp port 3306
    my_cli --skip-ssl --compress -p"$MY_PASS" shop >/dev/null 2>&1 <<EOF
SELECT id, name, qty FROM items ORDER BY id;
UPDATE items SET qty = 0 WHERE id = 1;
EOF
    cap_stop
    expect mysql-compress.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 1
    expect mysql-compress.pcap 'tcp.analysis.flags && !tcp.analysis.window_update' -eq 0
    # mysql-tls.pcap
    cap_start "$NS_S" mysql-tls.pcap "${TCPDUMP[@]}" -i "$S_IF" tcp port 3306
    my_cli --ssl --skip-ssl-verify-server-cert -p"$MY_PASS" shop -e 'SELECT COUNT(*) FROM items' \
        >/dev/null 2>&1
    cap_stop
    expect mysql-tls.pcap 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -eq 1
    expect mysql-tls.pcap 'tls.handshake.type == 1' -eq 1
}

mysql_readme() {
    [ -e "$OUT/mysql.pcap" ] || return 0
    cat <<'EOF'

MySQL (mysql.pcap, mysql-compress.pcap, mysql-tls.pcap): MariaDB 10.11
(mariadbd on 10.99.0.2:3306, a fresh datadir made by mariadb-install-db
each run, skip-name-resolve, local-infile on, a self-signed certificate
made each run), clients in pbs-cli: the mariadb command-line client and
perl DBI with DBD::MariaDB (mariadb_server_prepare=1). User pbs, password
pbs-secret, database shop with a table items. The greetings carry a random
scramble and a thread id, so the captures differ from run to run.
  mysql.pcap           three connections: (1) the mariadb client, without
                       TLS: SELECTs (3 rows, no row, 300 rows from the
                       sequence engine), INSERT, UPDATE (2 rows), DELETE,
                       a missing table (error 1146), a syntax error (1064),
                       USE mysql and USE shop (SELECT DATABASE(), then
                       COM_INIT_DB), CALL of a
                       procedure returning two result sets, LOAD DATA LOCAL
                       INFILE of three lines, COM_QUIT; (2) a login with a
                       wrong password (error 1045); (3) perl DBI: two
                       prepared statements (COM_STMT_PREPARE), three
                       COM_STMT_EXECUTEs with integer and string
                       parameters, one with a binary result set,
                       COM_STMT_CLOSE, COM_PING
  mysql-compress.pcap  mariadb --compress: the command phase in the zlib
                       compressed protocol (a SELECT of the table, an
                       UPDATE, COM_QUIT)
  mysql-tls.pcap       mariadb --ssl: SSLRequest, then TLS 1.3 (one query
                       inside, not readable)
EOF
}
