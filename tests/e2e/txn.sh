#!/bin/bash
# txn.sh - pb-txn end to end: the same events from a capture, from
# pb-decode's NDJSON of it (whole or filtered with jq) and from standard
# input; TCP data handed over a byte at a time gives the same events;
# determinism; --flows; --protocols; configuration of packetbeat.protocols
# and its errors; bad input.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

PB_TXN=${PB_TXN:-$top_builddir/src/pb-txn}
PB_FLOWS=${PB_FLOWS:-$top_builddir/src/pb-flows}

for s in "$SAMPLES"/*.pcap "$SAMPLES"/*.pcapng "$SAMPLES"/*.gz; do
	n=$(basename "$s")
	"$PB_TXN" -r "$s" > "$t_tmp/a" 2> "$t_tmp/a.err"
	check "$n: exit 0" test $? -eq 0
	"$PB_DECODE" -r "$s" | "$PB_TXN" > "$t_tmp/b" 2> /dev/null
	check "$n: events from the capture = from pb-decode NDJSON" cmp -s "$t_tmp/a" "$t_tmp/b"
	"$PB_TXN" < "$s" > "$t_tmp/c" 2> /dev/null
	check "$n: events from standard input = from -r" cmp -s "$t_tmp/a" "$t_tmp/c"
	"$PB_TXN" --segment-bytes 1 -r "$s" > "$t_tmp/d" 2> /dev/null
	check "$n: TCP data a byte at a time gives the same events" cmp -s "$t_tmp/a" "$t_tmp/d"
	"$PB_TXN" --segment-bytes 7 -r "$s" > "$t_tmp/e" 2> /dev/null
	check "$n: TCP data 7 bytes at a time gives the same events" cmp -s "$t_tmp/a" "$t_tmp/e"
	"$PB_TXN" -r "$s" > "$t_tmp/f" 2> /dev/null
	check "$n: two runs give the same bytes" cmp -s "$t_tmp/a" "$t_tmp/f"
done

# The samples hold transactions of each protocol
count() { "$PB_TXN" -r "$SAMPLES/$1" | jq -r .type | grep -c "^$2\$"; }
check "http.pcap: HTTP transactions" test "$(count http.pcap http)" -ge 1
check "dns-udp.pcap: DNS transactions" test "$(count dns-udp.pcap dns)" -ge 1
check "dns-tcp.pcap: DNS transactions" test "$(count dns-tcp.pcap dns)" -ge 1
check "icmp.pcap: ICMP transactions" test "$(count icmp.pcap icmp)" -ge 1

# Every event is one JSON object with the common fields
"$PB_TXN" -r "$SAMPLES/http.pcap" > "$t_tmp/h"
check "events parse as JSON with @timestamp, type, client, server" \
	jq -e -s 'length > 0 and all(."@timestamp" and .type and .client.ip and .server.ip and .event.dataset == .type and .network.protocol == .type)' "$t_tmp/h"

# A jq filter between pb-decode and pb-txn keeps the events of what it
# keeps: DNS only
"$PB_DECODE" -r "$SAMPLES/dns-udp.pcap" | jq -c 'select(.destination.port == 53 or .source.port == 53)' |
	"$PB_TXN" > "$t_tmp/j"
"$PB_TXN" -r "$SAMPLES/dns-udp.pcap" --protocols dns > "$t_tmp/k"
check "pb-decode | jq select(port 53) | pb-txn = pb-txn --protocols dns" cmp -s "$t_tmp/j" "$t_tmp/k"

# --protocols restricts
"$PB_TXN" -r "$SAMPLES/http.pcap" --protocols dns > "$t_tmp/p"
check "--protocols dns: no HTTP events from http.pcap" test "$(grep -c '"type":"http"' "$t_tmp/p")" -eq 0
"$PB_TXN" -r "$SAMPLES/http.pcap" --protocols nosuch > /dev/null 2> "$t_tmp/p.err"
check "--protocols with an unknown name: exit 2" test $? -eq 2
check "... naming it" grep -q "nosuch" "$t_tmp/p.err"

# --flows adds pb-flows' events, the same ones
"$PB_TXN" -r "$SAMPLES/http.pcap" --flows > "$t_tmp/fl"
"$PB_FLOWS" -r "$SAMPLES/http.pcap" > "$t_tmp/fl2"
grep '"type":"flow"' "$t_tmp/fl" > "$t_tmp/fl1"
check "--flows: the flow events of pb-flows" cmp -s "$t_tmp/fl1" "$t_tmp/fl2"
check "--flows: and the transactions" test "$(grep -vc '"type":"flow"' "$t_tmp/fl")" -eq "$(wc -l < "$t_tmp/h")"

# Configuration: ports move a protocol; a protocol not listed is off
cat > "$t_tmp/pb.yml" <<'EOF'
packetbeat.protocols:
- type: dns
  ports: [53]
EOF
"$PB_TXN" -c "$t_tmp/pb.yml" -r "$SAMPLES/http.pcap" > "$t_tmp/c1"
check "a configuration listing only dns: no HTTP events" test "$(grep -c '"type":"http"' "$t_tmp/c1")" -eq 0
"$PB_TXN" -E 'packetbeat.protocols.0.type=http' -E 'packetbeat.protocols.0.ports=[9999]' \
	-r "$SAMPLES/http.pcap" > "$t_tmp/c2"
check "http on port 9999 only: no HTTP events from port 80" test "$(grep -c '"type":"http"' "$t_tmp/c2")" -eq 0
cat > "$t_tmp/dup.yml" <<'EOF'
packetbeat.protocols:
- type: http
  ports: [80, 8443]
- type: tls
  ports: [8443]
EOF
"$PB_TXN" -c "$t_tmp/dup.yml" -r "$SAMPLES/http.pcap" > /dev/null 2> "$t_tmp/dup.err"
check "a port in two TCP protocols: exit 2" test $? -eq 2
check "... Packetbeat's message" grep -q "Duplicate port (8443) exists in http and tls protocols" "$t_tmp/dup.err"
cat > "$t_tmp/unk.yml" <<'EOF'
packetbeat.protocols:
- type: http
  ports: [80]
- type: nosuchproto
  ports: [1234]
EOF
"$PB_TXN" -c "$t_tmp/unk.yml" -r "$SAMPLES/http.pcap" > "$t_tmp/unk" 2> "$t_tmp/unk.err"
check "an unknown protocol type: a warning, not an error" test $? -eq 0
check "... naming it" grep -q "nosuchproto" "$t_tmp/unk.err"
check "... and the others still decoded" test "$(grep -c '"type":"http"' "$t_tmp/unk")" -ge 1
"$PB_TXN" -E 'packetbeat.protocols.0.type=http' -E 'packetbeat.protocols.0.ports=[0]' \
	-r "$SAMPLES/http.pcap" > /dev/null 2> "$t_tmp/bad.err"
check "port 0: exit 2" test $? -eq 2
"$PB_TXN" -E 'packetbeat.protocols.0.type=http' -E 'packetbeat.protocols.0.transaction_timeout=soon' \
	-r "$SAMPLES/http.pcap" > /dev/null 2> "$t_tmp/bad2.err"
check "a bad transaction_timeout: exit 2" test $? -eq 2
"$PB_TXN" --segment-bytes 0 -r "$SAMPLES/http.pcap" > /dev/null 2>&1
check "--segment-bytes 0: exit 2" test $? -eq 2

# Bad input: a data error, after what could be written
printf 'not a capture at all' > "$t_tmp/junk"
"$PB_TXN" -r "$t_tmp/junk" > /dev/null 2> "$t_tmp/junk.err"
check "junk input: exit 1" test $? -eq 1
head -c 3000 "$SAMPLES/http.pcap" > "$t_tmp/cut.pcap"
"$PB_TXN" -r "$t_tmp/cut.pcap" > "$t_tmp/cut" 2> "$t_tmp/cut.err"
rc=$?
check "a capture cut short: exit 0 or 1, no crash" test "$rc" -le 1

done_testing
