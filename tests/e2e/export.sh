#!/bin/bash
# export.sh - pb-export end to end: pipelines into SQLite (row counts,
# views, idempotence, schema versions, kill -9, a locked database, a full
# disk), the pcap round trip on every sample, carving mixed link types,
# bulk bodies, and the HTTP client against tests/es/fake-es.py (faults:
# 503, dropped connections, 429, rejected items, wrong credentials,
# gzip), where every document must arrive exactly once or land in the
# dead-letter file.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

PB_EXPORT=${PB_EXPORT:-$top_builddir/src/pb-export}
PB_TXN=${PB_TXN:-$top_builddir/src/pb-txn}
PB_FLOWS=${PB_FLOWS:-$top_builddir/src/pb-flows}
PB_ENRICH=${PB_ENRICH:-$top_builddir/src/pb-enrich}
FAKE_ES=$top_srcdir/tests/es/fake-es.py
T=$t_tmp

have() { command -v "$1" > /dev/null 2>&1; }
if ! have sqlite3 || ! have jq; then
	echo "sqlite3 and jq are needed" >&2
	exit 77
fi
q() { sqlite3 "$@"; }

# expect_io NAME RC OUT ERR COMMAND...: as expect_rc, with the command's
# standard output and error sent to OUT and ERR ('-': left as they are),
# so that the verdict itself still shows
expect_io() {
	local name=$1 want=$2 out=$3 err=$4 rc
	shift 4
	if [ "$out" = - ] && [ "$err" = - ]; then "$@"
	elif [ "$out" = - ]; then "$@" 2> "$err"
	elif [ "$err" = - ]; then "$@" > "$out"
	else "$@" > "$out" 2> "$err"
	fi
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else fail "$name: exit $rc, want $want"; fi
}

# ---------------------------------------------------------------- SQLite
# Every sample's transactions and flows into one database: one row per
# event, whatever the number of captures.
for s in "$SAMPLES"/*.pcap; do
	"$PB_TXN" -r "$s" 2> /dev/null
	"$PB_FLOWS" -r "$s" 2> /dev/null
done > "$T/all.ndjson"
n=$(wc -l < "$T/all.ndjson")
check "events to import" test "$n" -gt 100
expect_rc "import" 0 "$PB_EXPORT" --sqlite "$T/a.db" "$T/all.ndjson"
check "one row per event" test "$(q "$T/a.db" 'select count(*) from events')" -eq "$n"
check "no duplicate event ids" test "$(sort -u "$T/all.ndjson" | wc -l)" -eq "$n"
# again: nothing added, and exit 0
expect_io "import again" 0 - "$T/again.err" "$PB_EXPORT" --sqlite "$T/a.db" --stats "$T/all.ndjson"
check "import again adds nothing" test "$(q "$T/a.db" 'select count(*) from events')" -eq "$n"
check "import again: the duplicates counted" grep -q " 0 events inserted, $n already there" "$T/again.err"
# the pipeline, with pb-enrich in the middle when it exists
if [ -x "$PB_ENRICH" ]; then
	"$PB_TXN" -r "$SAMPLES/http-txn.pcap" | "$PB_ENRICH" | "$PB_EXPORT" --sqlite "$T/p.db"
else
	"$PB_TXN" -r "$SAMPLES/http-txn.pcap" | "$PB_EXPORT" --sqlite "$T/p.db"
fi
check "pipeline: rows = events" test "$(q "$T/p.db" 'select count(*) from events')" -eq \
	"$("$PB_TXN" -r "$SAMPLES/http-txn.pcap" | wc -l)"
# typed columns
check "columns: an HTTP 404" test "$(q "$T/a.db" "select count(*) from events where type='http' and http_status=404")" -ge 1
check "columns: times in ns" test "$(q "$T/a.db" "select count(*) from events where ts is null or ts < 1700000000000000000")" -eq 0
check "columns: ports" test "$(q "$T/a.db" "select count(*) from events where type='dns' and dst_port=53")" -ge 1
check "columns: community id" test "$(q "$T/a.db" "select count(*) from events where community_id like '1:%'")" -ge 1
check "columns: the document" test "$(q "$T/a.db" "select count(*) from events where json_valid(doc) and json_extract(doc,'\$.\"@timestamp\"')=timestamp")" -eq "$n"
check "indexes" test "$(q "$T/a.db" "select count(*) from sqlite_master where type='index' and name like 'events_%'")" -eq 7
# views
check "view http_slowest" test "$(q "$T/a.db" "select count(*) from http_slowest where path='/big.dat'")" -eq 1
check "view dns_failures: NXDOMAIN" test "$(q "$T/a.db" "select queries from dns_failures where name='nosuch.pbs.test' and failure='NXDOMAIN'")" -ge 1
check "view dns_failures: no response" test "$(q "$T/a.db" "select count(*) from dns_failures where failure like 'No response%'")" -ge 1
check "view top_talkers" test "$(q "$T/a.db" "select ip from top_talkers limit 1")" = "10.99.0.1"
check "view top_talkers: each final flow once" test "$(q "$T/a.db" "select sum(bytes_sent) from top_talkers")" -eq \
	"$(q "$T/a.db" "select sum(bytes) from events where type='flow' and final=1")"
check "view conversations" test "$(q "$T/a.db" "select count(*) from conversations")" -gt 10
# SQL errors, from mysql and pgsql events (Packetbeat's field names); the
# same event written with dotted keys is the same event (one row)
cat > "$T/sql.ndjson" <<'EOF'
{"@timestamp":"2026-11-29T10:00:00.000001Z","type":"mysql","status":"Error","method":"SELECT","query":"select * from nosuch","source":{"ip":"10.0.0.1","port":40000},"destination":{"ip":"10.0.0.2","port":3306},"mysql":{"error_code":1146,"error_message":"Table 'db.nosuch' doesn't exist"}}
{"@timestamp":"2026-11-29T10:00:01.000001Z","type":"pgsql","status":"Error","method":"SELECT","query":"select 1/0","source":{"ip":"10.0.0.1","port":40001},"destination":{"ip":"10.0.0.3","port":5432},"pgsql":{"error_code":"22012","error_message":"division by zero"}}
{"@timestamp":"2026-11-29T10:00:02.000001Z","type":"pgsql","status":"OK","method":"SELECT","query":"select 1","source":{"ip":"10.0.0.1","port":40001},"destination":{"ip":"10.0.0.3","port":5432}}
{"@timestamp":"2026-11-29T10:00:01.000001Z","type":"pgsql","status":"Error","method":"SELECT","query":"select 1/0","source.ip":"10.0.0.1","source.port":40001,"destination":{"ip":"10.0.0.3","port":5432},"pgsql.error_code":"22012","pgsql.error_message":"division by zero"}
  { "@timestamp" : "2026-11-29T10:00:02.000001Z", "type":"pgsql","status":"OK","method":"SELECT","query":"select 1","source":{"ip":"10.0.0.1","port":40001},"destination":{"ip":"10.0.0.3","port":5432}}
EOF
expect_rc "sql events" 0 "$PB_EXPORT" --sqlite "$T/s.db" "$T/sql.ndjson"
check "dotted keys and white space: the same events" test "$(q "$T/s.db" 'select count(*) from events')" -eq 3
check "view sql_errors" test "$(q "$T/s.db" "select group_concat(error_code || ':' || error_message, '|') from sql_errors")" = \
	"1146:Table 'db.nosuch' doesn't exist|22012:division by zero"
# and from the parsers' own events, when the samples have them
if [ -f "$SAMPLES/pgsql.pcap" ] && [ -f "$SAMPLES/mysql.pcap" ]; then
	check "view sql_errors on the samples" test "$(q "$T/a.db" "select count(distinct type) from sql_errors where error_code is not null")" -eq 2
fi
check "stored nested" test "$(q "$T/s.db" "select json_extract(doc, '\$.pgsql.error_code') from events where type='pgsql' and status='Error'")" = 22012

# schema version and refusals
check "schema version" test "$(q "$T/a.db" 'pragma user_version')" -eq 1
check "application id" test "$(q "$T/a.db" 'pragma application_id')" -eq 1885500514
cp "$T/s.db" "$T/new.db"
q "$T/new.db" 'pragma user_version=99'
expect_io "newer schema refused" 1 - "$T/err" "$PB_EXPORT" --sqlite "$T/new.db" "$T/sql.ndjson"
check "newer schema: message" grep -q "schema version 99, newer than this pb-export knows" "$T/err"
q "$T/other.db" 'create table foo(x)'
expect_io "another program's database refused" 1 - "$T/err" "$PB_EXPORT" --sqlite "$T/other.db" "$T/sql.ndjson"
check "another database: message" grep -q "is not a pbtools database" "$T/err"
check "another database: untouched" test "$(q "$T/other.db" "select count(*) from sqlite_master")" -eq 1
echo "not a database at all, just text" > "$T/text.db"
expect_io "not a database" 1 - "$T/err" "$PB_EXPORT" --sqlite "$T/text.db" "$T/sql.ndjson"
check "not a database: message" grep -q "pb-export: cannot .* '$T/text.db': file is not a database" "$T/err"
# an older file: views dropped and the version unset are made again
q "$T/s.db" 'drop view sql_errors'
expect_rc "views made again" 0 "$PB_EXPORT" --sqlite "$T/s.db" "$T/sql.ndjson"
check "views made again: sql_errors" test "$(q "$T/s.db" 'select count(*) from sql_errors')" -eq 2

# kill -9 in the middle: whole batches, a valid file, and the rerun
# completes it without duplicates
awk '{ sub(/"@timestamp":"[^"]*"/, sprintf("\"@timestamp\":\"2026-01-01T00:00:00.%06dZ\"", NR)); print }' \
	"$T/all.ndjson" "$T/all.ndjson" "$T/all.ndjson" "$T/all.ndjson" "$T/all.ndjson" > "$T/big1"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	sed "s/\"@timestamp\":\"2026-01-01T/\"@timestamp\":\"2026-01-$(printf %02d $i)T/" "$T/big1"
done > "$T/big"
nbig=$(wc -l < "$T/big")
"$PB_EXPORT" --sqlite "$T/k.db" --batch 500 "$T/big" &
pid=$!
for i in $(seq 1 200); do
	c=$(q "$T/k.db" 'select count(*) from events' 2> /dev/null || echo 0)
	[ "${c:-0}" -ge 1000 ] && break
	sleep 0.05
done
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null
c=$(q "$T/k.db" 'select count(*) from events')
check "kill -9: the import was cut short ($c of $nbig)" test "$c" -lt "$nbig"
check "kill -9: whole batches ($c)" test $((c % 500)) -eq 0
check "kill -9: the database is valid" test "$(q "$T/k.db" 'pragma integrity_check')" = ok
expect_rc "kill -9: rerun" 0 "$PB_EXPORT" --sqlite "$T/k.db" --batch 500 "$T/big"
check "kill -9: rerun completes it" test "$(q "$T/k.db" 'select count(*) from events')" -eq "$nbig"
check "kill -9: each event once" test "$(q "$T/k.db" 'select count(distinct doc) from events')" -eq "$nbig"

# a database locked by another writer: an error after the busy timeout
(echo 'BEGIN EXCLUSIVE; INSERT INTO events(id, doc) VALUES ("lock", "{}");'; sleep 8; echo 'ROLLBACK;') |
	sqlite3 "$T/s.db" &
lockpid=$!
sleep 0.5
expect_io "locked database" 1 - "$T/err" "$PB_EXPORT" --sqlite "$T/s.db" "$T/sql.ndjson"
check "locked: message" grep -q "pb-export: cannot .* '$T/s.db': database is locked" "$T/err"
kill $lockpid 2> /dev/null
wait $lockpid 2> /dev/null

# a full disk (a file size limit stands in for it): an error, and the
# database holds whole batches still
(
	trap '' XFSZ
	ulimit -f 4096
	"$PB_EXPORT" --sqlite "$T/full.db" --batch 500 "$T/big" 2> "$T/err"
)
rc=$?
check "disk full: exit 1 (got $rc)" test "$rc" -eq 1
check "disk full: message" grep -q "pb-export: cannot write to '$T/full.db': " "$T/err"
check "disk full: still a valid database" test "$(q "$T/full.db" 'pragma integrity_check')" = ok
c=$(q "$T/full.db" 'select count(*) from events')
check "disk full: whole batches ($c)" test $((c % 500)) -eq 0

# ---------------------------------------------------------------- pcap
# The round trip: packets and timestamps as they were, for every sample;
# a pcap sample comes back byte for byte.
proj() { "$PB_DECODE" -r "$1" | jq -c '[.["@timestamp"], .packet.length, .packet.linktype, .packet.data]'; }
for s in "$SAMPLES"/*.pcap "$SAMPLES"/*.pcapng "$SAMPLES"/*.gz "$SAMPLES"/rotated/*; do
	b=$(basename "$s")
	"$PB_DECODE" -r "$s" | "$PB_EXPORT" --pcap - > "$T/rt.pcap"
	check "$b: round trip exit 0" test "${PIPESTATUS[1]}" -eq 0
	case $b in
	*.pcap) check "$b: round trip byte for byte" cmp -s "$s" "$T/rt.pcap" ;;
	esac
	proj "$s" > "$T/p1"
	proj "$T/rt.pcap" > "$T/p2"
	check "$b: same packets and timestamps" cmp -s "$T/p1" "$T/p2"
	if have tcpdump; then
		check "$b: tcpdump reads it" tcpdump -r "$T/rt.pcap" -c 1 -w /dev/null 2> /dev/null
	fi
done
# carving with jq: the DNS packets of a capture
"$PB_DECODE" -r "$SAMPLES/dns-udp.pcap" | jq -c 'select(.source.port == 53 or .destination.port == 53)' |
	"$PB_EXPORT" --pcap "$T/dns.pcap"
check "carved: only DNS" test "$("$PB_DECODE" -r "$T/dns.pcap" | jq -c 'select(.source.port != 53 and .destination.port != 53)' | wc -l)" -eq 0
check "carved: some packets" test "$("$PB_DECODE" -r "$T/dns.pcap" | wc -l)" -gt 0
# mixed link types: pcapng; nanoseconds after microseconds: a ns pcap
{ "$PB_DECODE" -r "$SAMPLES/http.pcap"; "$PB_DECODE" -r "$SAMPLES/sll.pcap"; "$PB_DECODE" -r "$SAMPLES/http-ns.pcap"; } > "$T/mixed.ndjson"
expect_rc "mixed link types" 0 "$PB_EXPORT" --pcap "$T/mixed.out" "$T/mixed.ndjson"
check "mixed link types: pcapng" test "$(head -c 4 "$T/mixed.out" | od -An -tx1 | tr -d ' ')" = 0a0d0d0a
jq -c '[.["@timestamp"], .packet.length, .packet.linktype, .packet.data]' "$T/mixed.ndjson" > "$T/p1"
proj "$T/mixed.out" > "$T/p2"
check "mixed link types: same packets and timestamps" cmp -s "$T/p1" "$T/p2"
if have tshark; then
	check "mixed link types: tshark reads it" test "$(tshark -r "$T/mixed.out" 2> /dev/null | wc -l)" -eq "$(wc -l < "$T/mixed.ndjson")"
fi
"$PB_EXPORT" --pcap - "$T/mixed.ndjson" 2> "$T/err" | cat > /dev/null
check "mixed link types to a pipe: exit 1" test "${PIPESTATUS[0]}" -eq 1
check "mixed link types to a pipe: message" grep -q "write to a file, or use --pcapng" "$T/err"
"$PB_EXPORT" --pcap - --pcapng "$T/mixed.ndjson" | cat > "$T/ng.out"
proj "$T/ng.out" > "$T/p2"
check "--pcapng to a pipe" cmp -s "$T/p1" "$T/p2"
{ "$PB_DECODE" -r "$SAMPLES/http.pcap"; "$PB_DECODE" -r "$SAMPLES/http-ns.pcap"; } > "$T/usns.ndjson"
"$PB_EXPORT" --pcap "$T/usns.pcap" "$T/usns.ndjson"
check "us then ns: a nanosecond pcap" test "$(head -c 4 "$T/usns.pcap" | od -An -tx1 | tr -d ' ')" = 4d3cb2a1
jq -c '[.["@timestamp"], .packet.data]' "$T/usns.ndjson" | sed 's/\.\([0-9]\{6\}\)Z/.\1000Z/' > "$T/p1"
"$PB_DECODE" -r "$T/usns.pcap" | jq -c '[.["@timestamp"], .packet.data]' > "$T/p2"
check "us then ns: same packets and times" cmp -s "$T/p1" "$T/p2"
expect_io "pcap: no packet records" 1 - /dev/null "$PB_EXPORT" --pcap "$T/none.pcap" "$T/sql.ndjson"

# carving by events: the packets of the HTTP 404s of a capture, from the
# capture itself; the same packets pb-decode numbers in their ranges
"$PB_TXN" -r "$SAMPLES/http-txn.pcap" | jq -c 'select(.http.response.status_code == 404)' > "$T/404.ndjson"
check "carve: events selected" test "$(wc -l < "$T/404.ndjson")" -ge 1
expect_rc "carve" 0 "$PB_EXPORT" --pcap "$T/404.pcap" --from "$SAMPLES/http-txn.pcap" "$T/404.ndjson"
want=$(jq -r '"\(.pb.packet.first) \(.pb.packet.last)"' "$T/404.ndjson" | while read -r a b; do
	"$PB_DECODE" -r "$SAMPLES/http-txn.pcap" | jq -c --argjson a "$a" --argjson b "$b" \
		'select(.packet.index >= $a and .packet.index <= $b) | .packet.data'
done)
check "carve: the transactions' packets" test "$("$PB_DECODE" -r "$T/404.pcap" | jq -c .packet.data)" = "$want"
# a flow, by time (its packet numbers removed): the packets of the first
# UDP flow
"$PB_FLOWS" -r "$SAMPLES/dns-udp.pcap" | jq -c 'select(.network.transport == "udp") | del(.pb.packet)' | head -n 1 > "$T/flow1.ndjson"
"$PB_EXPORT" --pcap "$T/flow1.pcap" --from "$SAMPLES/dns-udp.pcap" "$T/flow1.ndjson"
sp=$(jq .source.port "$T/flow1.ndjson")
check "carve by time: the flow's packets" test "$("$PB_DECODE" -r "$T/flow1.pcap" | jq -c .packet.data)" = \
	"$("$PB_DECODE" -r "$SAMPLES/dns-udp.pcap" | jq -c --argjson p "$sp" 'select(.source.port == $p or .destination.port == $p) | .packet.data')"
check "carve by time: packets" test "$("$PB_DECODE" -r "$T/flow1.pcap" | wc -l)" -eq "$(jq '.network.packets' "$T/flow1.ndjson")"
echo '{"@timestamp":"2026-11-29T00:00:00.000000Z","type":"x"}' > "$T/noaddr.ndjson"
expect_io "carve: an event without addresses" 1 - "$T/err" "$PB_EXPORT" --pcap "$T/n.pcap" --from "$SAMPLES/dns-udp.pcap" "$T/noaddr.ndjson"
check "carve: an event without addresses: message" grep -q "noaddr.ndjson: line 1: no source.ip or client.ip; no packets selected by it" "$T/err"
expect_io "--from without --pcap" 2 - /dev/null "$PB_EXPORT" --sqlite "$T/x.db" --from "$SAMPLES/dns-udp.pcap"

# ---------------------------------------------------------------- bulk
"$PB_TXN" -r "$SAMPLES/dns-txn.pcap" > "$T/dns.ndjson"
nd=$(wc -l < "$T/dns.ndjson")
expect_io "bulk to stdout" 0 "$T/bulk1" - "$PB_EXPORT" --es-bulk "$T/dns.ndjson"
expect_rc "bulk to a file" 0 "$PB_EXPORT" --es-bulk="$T/bulk2" "$T/dns.ndjson"
check "bulk: the same either way" cmp -s "$T/bulk1" "$T/bulk2"
check "bulk: two lines per event" test "$(wc -l < "$T/bulk1")" -eq $((2 * nd))
check "bulk: action lines" test "$(sed -n '1~2p' "$T/bulk1" | jq -r '.create._index' | sort -u)" = "packetbeat-0.1.0-2026.11.29"
check "bulk: documents as read" cmp -s <(sed -n '2~2p' "$T/bulk1") "$T/dns.ndjson"
"$PB_EXPORT" --sqlite "$T/d.db" "$T/dns.ndjson"
check "bulk: _id = the SQLite id" test "$(sed -n '1~2p' "$T/bulk1" | jq -r '.create._id' | sort)" = "$(q "$T/d.db" 'select id from events order by id' | LC_ALL=C sort)"
"$PB_EXPORT" --es-bulk --index 'pb-%{[dns.question.name]}-%{+yyyy.MM.dd.HH}' --op-type index --pipeline geo \
	"$T/dns.ndjson" > "$T/bulk3" 2> "$T/err"
check "bulk: index pattern from fields and time" test "$(head -n 1 "$T/bulk3")" = \
	"$(printf '{"index":{"_index":"pb-www.pbs.test-2026.11.29.09","_id":"%s","pipeline":"geo"}}' "$(head -n 1 "$T/bulk1" | jq -r .create._id)")"
expect_io "bulk: absent field" 1 /dev/null "$T/err" "$PB_EXPORT" --es-bulk --index 'x-%{[no.such]}' "$T/dns.ndjson"
check "bulk: absent field: message" grep -q "dns.ndjson: line 1: a field the index name needs is absent; event not written" "$T/err"
check "bulk: absent field with a default" test "$("$PB_EXPORT" --es-bulk --index 'x-%{[no.such]:none}' "$T/dns.ndjson" | head -n 1 | jq -r .create._index)" = x-none
expect_io "bad pattern" 2 - /dev/null "$PB_EXPORT" --es-bulk --index 'x-%{oops' "$T/dns.ndjson"

# ---------------------------------------------------------------- template
expect_io "template" 0 "$T/tpl" - "$PB_EXPORT" --template
check "template: valid JSON" jq -e . "$T/tpl" > /dev/null
check "template: pattern" test "$(jq -r '.index_patterns[0]' "$T/tpl")" = "packetbeat-*"
check "template: types" test "$(jq -c '[.template.mappings.properties["@timestamp"].type, .template.mappings.properties.source.properties.ip.type, .template.mappings.properties.source.properties.port.type]' "$T/tpl")" = '["date_nanos","ip","long"]'

# ---------------------------------------------------------------- HTTP
servers=
start_es() { # NAME ARGS...: a fake server; its port in $T/NAME.port
	local name=$1
	shift
	python3 "$FAKE_ES" --port-file "$T/$name.port" "$@" &
	servers="$servers $!"
	for i in $(seq 1 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
}
state() { curl -s "http://127.0.0.1:$(cat "$T/$1.port")/_fake/state"; }
trap 'for p in $servers; do kill $p 2> /dev/null; done; rm -rf "$t_tmp"' EXIT
if ! have python3 || ! have curl; then
	echo "python3 and curl needed for the HTTP tests: skipped" >&2
	done_testing
	exit
fi
FAST="-E output.elasticsearch.backoff.init=10ms -E output.elasticsearch.backoff.max=40ms"
AUTH="-E output.elasticsearch.username=elastic -E output.elasticsearch.password=s3cret"

# 503 for the first two requests, a connection dropped after the third was
# carried out, one cut mid-request, gzip required, two workers, and a
# dead host in the list: every document arrives once
start_es a --user elastic --password s3cret --require-gzip --fail-first-bulk 2 --drop-bulk 3 --drop-before 5
pa=$(cat "$T/a.port")
"$PB_TXN" -r "$SAMPLES/http-txn.pcap" > "$T/h.ndjson"
cat "$T/all.ndjson" > "$T/es.ndjson"
ne=$(wc -l < "$T/es.ndjson")
expect_io "es: faults on the way" 0 - "$T/err" "$PB_EXPORT" --es "127.0.0.1:$pa,http://127.0.0.1:1" $AUTH $FAST -E output.elasticsearch.max_retries=10 --workers 2 --bulk-max-size 50 --stats "$T/es.ndjson"
state a > "$T/st"
check "es: every document once ($(jq '.docs | length' "$T/st") of $ne)" test "$(jq '.docs | length' "$T/st")" -eq "$ne"
check "es: none overwritten" test "$(jq .counts.updated "$T/st")" -eq 0
check "es: gzip bodies" test "$(jq .counts.plain "$T/st")" -eq 0
check "es: the faults happened" test "$(jq .counts.dropped "$T/st")" -eq 2
check "es: the ids are the bulk file's" test "$(jq -r '.docs | keys[]' "$T/st" | sort)" = \
	"$("$PB_EXPORT" --es-bulk "$T/es.ndjson" | sed -n '1~2p' | jq -r .create._id | sort)"
check "es: stats" grep -q "documents indexed" "$T/err"
# the same batch job again: nothing new, all known (409 to create)
expect_io "es: rerun" 0 - "$T/err" "$PB_EXPORT" --es "127.0.0.1:$pa" $AUTH $FAST --stats "$T/es.ndjson"
check "es: rerun adds nothing" test "$(state a | jq '.docs | length')" -eq "$ne"
check "es: rerun: all already there" grep -q "0 documents indexed, $ne already there" "$T/err"

# output.elasticsearch.headers on every request, parameters on the bulk
# requests' URL (escaped), proxy_disable
cat > "$T/hdr.yml" <<EOF
output.elasticsearch:
  headers:
    X-Case: IR-42
  parameters:
    refresh: wait_for
    routing: "a b&c"
  proxy_disable: true
EOF
expect_io "es: headers and parameters" 0 - "$T/err" env http_proxy=http://127.0.0.1:1 "$PB_EXPORT" -c "$T/hdr.yml" --es "127.0.0.1:$pa" $AUTH $FAST "$T/es.ndjson"
state a > "$T/st"
check "es: the configured header" test "$(jq -r '.last_bulk.headers["X-Case"]' "$T/st")" = IR-42
check "es: the parameters, escaped" test "$(jq -r .last_bulk.path "$T/st")" = "/_bulk?refresh=wait_for&routing=a%20b%26c"
printf 'output.elasticsearch.headers:\n  "Bad Name": x\n' > "$T/badhdr.yml"
expect_io "es: a header name that is not a token" 2 - "$T/err" "$PB_EXPORT" -c "$T/badhdr.yml" --es "127.0.0.1:$pa" "$T/es.ndjson"
check "es: the bad header named" grep -q 'badhdr.yml:2: output.elasticsearch.headers.Bad Name' "$T/err"

# per-item results: rejected items and items throttled for good go to the
# dead letter with the reason; items throttled twice get in
start_es b --api-key c2VjcmV0
pb=$(cat "$T/b.port")
{
	head -n 20 "$T/h.ndjson"
	jq -c '. + {fake_es: "reject"}' "$T/h.ndjson" | head -n 3
	jq -c '. + {fake_es: "429", pb_copy: 1}' "$T/h.ndjson" | head -n 4
	jq -c '. + {fake_es: "always429"}' "$T/h.ndjson" | head -n 2
} > "$T/items.ndjson"
ni=$(wc -l < "$T/items.ndjson")
expect_io "es: failed items" 1 - "$T/err" "$PB_EXPORT" --es "http://127.0.0.1:$pb"  -E output.elasticsearch.api_key=c2VjcmV0 $FAST -E output.elasticsearch.max_retries=3  --dead-letter "$T/dead.ndjson" --bulk-max-size 7 "$T/items.ndjson"
state b > "$T/st"
nok=$(jq '.docs | length' "$T/st")
ndead=$(wc -l < "$T/dead.ndjson")
check "es: indexed + dead letters = all ($nok + $ndead of $ni)" test $((nok + ndead)) -eq "$ni"
check "es: the 429 twice got in" test "$(jq '[.docs[]] | length' "$T/st")" -eq $((ni - 5))
check "es: rejected, with the reason" test "$(jq -r 'select(.status == 400) | .reason' "$T/dead.ndjson" | sort -u)" = \
	"mapper_parsing_exception: failed to parse field [fake_es]"
check "es: rejected: 3" test "$(jq -r 'select(.status == 400)' "$T/dead.ndjson" | jq -s length)" -eq 3
check "es: throttled for good" test "$(jq -r 'select(.status == 429) | .reason' "$T/dead.ndjson" | sort -u)" = \
	"gave up after 3 retries: es_rejected_execution_exception: rejected execution"
check "es: dead letters carry the event" test "$(jq -r '.event.fake_es' "$T/dead.ndjson" | sort | uniq -c | tr -s ' ' | paste -sd, -)" = " 2 always429, 3 reject"
check "es: the error is reported" grep -q "5 documents not indexed (written to '$T/dead.ndjson')" "$T/err"

# wrong credentials: a clear error, and nothing lost silently
expect_io "es: wrong password" 1 - "$T/err" "$PB_EXPORT" --es "127.0.0.1:$pa" $FAST  -E output.elasticsearch.username=elastic -E output.elasticsearch.password=wrong  --dead-letter "$T/dead2.ndjson" "$T/h.ndjson"
check "es: wrong password: message" grep -q "HTTP status 401: not authenticated: check the credentials" "$T/err"
check "es: wrong password: the documents in the dead letter" test "$(wc -l < "$T/dead2.ndjson")" -eq "$(wc -l < "$T/h.ndjson")"
# no server at all: retries, then the dead letter
expect_io "es: no server" 1 - "$T/err" "$PB_EXPORT" --es "127.0.0.1:1" $FAST -E output.elasticsearch.max_retries=2  --dead-letter "$T/dead3.ndjson" "$T/h.ndjson"
check "es: no server: the documents in the dead letter" test "$(wc -l < "$T/dead3.ndjson")" -eq "$(wc -l < "$T/h.ndjson")"
check "es: no server: reason" test "$(jq -r .reason "$T/dead3.ndjson" | sort -u | sed 's/:.*//')" = "gave up after 2 retries"

# test-output and setup
expect_io "test-output" 0 "$T/out" - "$PB_EXPORT" --test-output --es "127.0.0.1:$pa" $AUTH
check "test-output: version" grep -q "version: 8.11.0" "$T/out"
expect_io "test-output: wrong credentials" 1 "$T/out" /dev/null "$PB_EXPORT" --test-output --es "127.0.0.1:$pa"
check "test-output: says so" grep -q "credentials... ERROR" "$T/out"
expect_io "test-output: no server" 1 /dev/null /dev/null "$PB_EXPORT" --test-output --es 127.0.0.1:1
expect_io "setup" 0 - /dev/null "$PB_EXPORT" --setup --es "127.0.0.1:$pa" $AUTH
check "setup: the template installed" test "$(state a | jq -r '.templates[0].name')" = packetbeat

# TLS: a CA file, a client certificate, and the verification modes
if have openssl; then
	tls=$T/tls
	mkdir -p "$tls"
	(
		cd "$tls" || exit 1
		ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
		openssl req -x509 $ec -keyout ca.key -out ca.pem -days 30 -subj /CN=pbtools-test-ca &&
		openssl req $ec -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
		printf 'subjectAltName=IP:127.0.0.1\n' > ip.ext &&
		printf 'subjectAltName=DNS:elsewhere.test\n' > other.ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 30 -extfile ip.ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out other.pem -days 30 -extfile other.ext &&
		openssl req $ec -keyout cli.key -out cli.csr -subj /CN=client &&
		openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 30
	) > /dev/null 2>&1
	check "tls: certificates made" test -s "$tls/cli.pem"
	start_es tls --tls-cert "$tls/srv.pem" --tls-key "$tls/srv.key" --client-ca "$tls/ca.pem"
	start_es tlso --tls-cert "$tls/other.pem" --tls-key "$tls/srv.key"
	pt=$(cat "$T/tls.port")
	po=$(cat "$T/tlso.port")
	CA="-E output.elasticsearch.ssl.certificate_authorities=$tls/ca.pem"
	CLI="-E output.elasticsearch.ssl.certificate=$tls/cli.pem -E output.elasticsearch.ssl.key=$tls/cli.key"
	expect_io "tls: CA and client certificate" 0 /dev/null - "$PB_EXPORT" --es "https://127.0.0.1:$pt" $CA $CLI $FAST "$T/h.ndjson"
	check "tls: the documents arrived" test "$(curl -s --cacert "$tls/ca.pem" --cert "$tls/cli.pem" --key "$tls/cli.key" \
		"https://127.0.0.1:$pt/_fake/state" | jq '.docs | length')" -eq "$(wc -l < "$T/h.ndjson")"
	expect_io "tls: no client certificate" 1 /dev/null /dev/null "$PB_EXPORT" --test-output --es "https://127.0.0.1:$pt" $CA
	expect_io "tls: no CA" 1 /dev/null "$T/err" "$PB_EXPORT" --test-output --es "https://127.0.0.1:$pt" $CLI
	check "tls: no CA: why" grep -q "cannot reach Elasticsearch: https://127.0.0.1:$pt/: " "$T/err"
	expect_io "tls: verification_mode none" 0 /dev/null - "$PB_EXPORT" --test-output --es "https://127.0.0.1:$pt" $CLI \
		-E output.elasticsearch.ssl.verification_mode=none
	expect_io "tls: another name, full" 1 /dev/null /dev/null "$PB_EXPORT" --test-output --es "https://127.0.0.1:$po" $CA
	expect_io "tls: another name, certificate" 0 /dev/null - "$PB_EXPORT" --test-output --es "https://127.0.0.1:$po" $CA \
		-E output.elasticsearch.ssl.verification_mode=certificate
	expect_io "tls: protocol https for a bare host" 0 /dev/null - "$PB_EXPORT" --test-output --es "127.0.0.1:$po" $CA \
		-E output.elasticsearch.ssl.verification_mode=certificate -E output.elasticsearch.protocol=https
fi

# ---------------------------------------------------------------- configuration
cat > "$T/es.yml" <<EOF
output.elasticsearch:
  hosts: ["127.0.0.1:$pa"]
  username: elastic
  password: s3cret
  index: "cfg-%{+yyyy}"
  bulk_max_size: 10
  worker: 2
  backoff.init: 10ms
  no_such_key: 1
EOF
expect_io "config: hosts and settings from the file" 0 /dev/null "$T/err" "$PB_EXPORT" -c "$T/es.yml" --test-output
check "config: unknown key warned with its line" grep -q "es.yml:9: unknown key 'output.elasticsearch.no_such_key'" "$T/err"
check "config: the index from the file" test "$("$PB_EXPORT" -q -c "$T/es.yml" --es-bulk "$T/dns.ndjson" | head -n 1 | jq -r .create._index)" = cfg-2026
echo "output.elasticsearch.bulk_max_size: lots" > "$T/bad.yml"
expect_io "config: a bad value" 2 - "$T/err" "$PB_EXPORT" -c "$T/bad.yml" --es-bulk "$T/dns.ndjson"
check "config: a bad value: file and line" grep -q "bad.yml:1: output.elasticsearch.bulk_max_size: 'lots' is not an integer" "$T/err"
echo "output.elasticsearch.ssl.verification_mode: sometimes" > "$T/bad.yml"
expect_io "config: verification_mode" 2 - /dev/null "$PB_EXPORT" -c "$T/bad.yml" --es-bulk "$T/dns.ndjson"

# ---------------------------------------------------------------- usage
expect_io "no output" 2 - /dev/null "$PB_EXPORT" "$T/dns.ndjson"
expect_io "two outputs" 2 - /dev/null "$PB_EXPORT" --sqlite "$T/x.db" --pcap "$T/x.pcap"
expect_io "missing input" 1 - "$T/err" "$PB_EXPORT" --sqlite "$T/x.db" "$T/no-such.ndjson"
check "missing input: message" grep -q "pb-export: cannot open '$T/no-such.ndjson': No such file or directory" "$T/err"
printf '%s\nnot json\n' "$(head -n 1 "$T/dns.ndjson")" > "$T/bad.ndjson"
expect_io "a bad line: reported, the rest written, exit 1" 1 - "$T/err" "$PB_EXPORT" --sqlite "$T/bad.db" "$T/bad.ndjson"
check "a bad line: message" grep -q "bad.ndjson: line 2: not valid JSON; skipped" "$T/err"
check "a bad line: the good one written" test "$(q "$T/bad.db" 'select count(*) from events')" -eq 1
expect_io "--strict stops" 1 /dev/null /dev/null "$PB_EXPORT" --strict --es-bulk "$T/bad.ndjson"
expect_io "--check-config" 0 /dev/null /dev/null "$PB_EXPORT" --check-config -c "$T/es.yml"

done_testing
