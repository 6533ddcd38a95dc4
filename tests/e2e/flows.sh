#!/bin/bash
# flows.sh - pb-flows end to end: the same flows from a capture, from
# pb-decode's NDJSON of it and from standard input; merged captures;
# configuration and options; eviction; live capture on lo, ended by SIGINT.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

PB_FLOWS=${PB_FLOWS:-$top_builddir/src/pb-flows}

# The same bytes whether read from the capture or from its packet records,
# for every sample (file names are left out: the NDJSON names the file).
for s in "$SAMPLES"/*.pcap "$SAMPLES"/*.pcapng "$SAMPLES"/*.gz; do
	n=$(basename "$s")
	"$PB_FLOWS" -r "$s" > "$t_tmp/a" 2> "$t_tmp/a.err"
	"$PB_DECODE" -r "$s" | "$PB_FLOWS" > "$t_tmp/b" 2> "$t_tmp/b.err"
	check "$n: flows from the capture = flows from pb-decode NDJSON" cmp -s "$t_tmp/a" "$t_tmp/b"
	check "$n: some flows" test -s "$t_tmp/a"
	"$PB_FLOWS" < "$s" > "$t_tmp/c" 2> /dev/null
	check "$n: flows from standard input = from -r" cmp -s "$t_tmp/a" "$t_tmp/c"
done
# ... and with the timeline capture, whose reports come from timeouts and
# period boundaries
TL=$top_srcdir/tests/golden/regress/flows-timeline.pcap
"$PB_FLOWS" -r "$TL" > "$t_tmp/a"
"$PB_DECODE" -r "$TL" | "$PB_FLOWS" > "$t_tmp/b"
check "timeline: capture = NDJSON" cmp -s "$t_tmp/a" "$t_tmp/b"
check "timeline: interim and final reports" test "$(grep -c '"final":false' "$t_tmp/a")" -eq 8
check "timeline: two timeouts" test "$(grep -c '"end_reason":"timeout"' "$t_tmp/a")" -eq 2
# --realtime paces by capture time and changes nothing in the output
# (the sample spans a fraction of a second)
"$PB_FLOWS" --realtime -r "$SAMPLES/http.pcap" > "$t_tmp/rt"
"$PB_FLOWS" -r "$SAMPLES/http.pcap" > "$t_tmp/nrt"
check "--realtime gives the same flows" cmp -s "$t_tmp/rt" "$t_tmp/nrt"

# Determinism
"$PB_FLOWS" -r "$SAMPLES/dns-udp.pcap" > "$t_tmp/d1"
"$PB_FLOWS" -r "$SAMPLES/dns-udp.pcap" > "$t_tmp/d2"
check "two runs give the same bytes" cmp -s "$t_tmp/d1" "$t_tmp/d2"

# A rotated capture read as a directory gives the flows of the whole
"$PB_FLOWS" -r "$SAMPLES/rotated" > "$t_tmp/dir"
"$PB_FLOWS" -r "$SAMPLES/rotated.pcap.gz" > "$t_tmp/whole"
check "rotated parts = the whole capture" cmp -s "$t_tmp/dir" "$t_tmp/whole"

# Every line is a flow event jq can read; per-end counts add up
if command -v jq > /dev/null; then
	"$PB_FLOWS" -r "$SAMPLES/http.pcap" |
		jq -e -s 'all(.[]; .type == "flow" and .network.bytes == .source.bytes + .destination.bytes and .network.packets == .source.packets + .destination.packets)' > /dev/null
	check "events add up" test $? -eq 0
	n=$("$PB_FLOWS" -r "$SAMPLES/http.pcap" | jq -s 'map(.network.packets) | add')
	check "every packet of http.pcap is in a flow" test "$n" -eq 24
	src=$("$PB_FLOWS" -r "$SAMPLES/http.pcap" | jq -r 'select(.network.transport == "tcp") | "\(.destination.port) \(.pb.flow.source_from)"' | sort -u)
	check "TCP: the server is the destination, known from the SYN" test "$src" = "80 open"
else
	echo "flows: jq not installed; event checks skipped"
fi

# Options and configuration
expect_rc "--timeout below 1s is refused" 2 "$PB_FLOWS" --timeout 500ms -r "$SAMPLES/http.pcap"
expect_rc "--period 0 is refused" 2 "$PB_FLOWS" --period 0 -r "$SAMPLES/http.pcap"
expect_rc "--max-flows 0 is refused" 2 "$PB_FLOWS" --max-flows 0 -r "$SAMPLES/http.pcap"
printf 'packetbeat.flows:\n  timeout: 10s\n  period: 200ms\n' > "$t_tmp/bad.yml"
"$PB_FLOWS" -c "$t_tmp/bad.yml" --check-config > /dev/null 2> "$t_tmp/bad.err"
check "--check-config refuses period 200ms" test $? -eq 2
check "... naming the file, line and key" grep -q "bad.yml:3: packetbeat.flows.period" "$t_tmp/bad.err"
printf 'packetbeat.flows:\n  enabled: false\n' > "$t_tmp/off.yml"
"$PB_FLOWS" -c "$t_tmp/off.yml" -r "$SAMPLES/http.pcap" > "$t_tmp/off" 2> "$t_tmp/off.err"
check "enabled: false exits 0" test $? -eq 0
check "enabled: false reports nothing" test ! -s "$t_tmp/off"
check "enabled: false says so" grep -q "disabled" "$t_tmp/off.err"
"$PB_FLOWS" -E packetbeat.flows.period=-1 -r "$TL" > "$t_tmp/p1"
check "period -1: final reports only" test "$(grep -c '"final":false' "$t_tmp/p1")" -eq 0
check "period -1: a final report per flow" test "$(wc -l < "$t_tmp/p1")" -eq 5
"$PB_FLOWS" --period -1 -r "$TL" > "$t_tmp/p2"
check "--period -1 = packetbeat.flows.period: -1" cmp -s "$t_tmp/p1" "$t_tmp/p2"
"$PB_FLOWS" -E packetbeat.flows.timeout=1h -E packetbeat.flows.period=-1 -r "$TL" > "$t_tmp/long"
check "timeout 1h: no flow times out" test "$(grep -c '"timeout"' "$t_tmp/long")" -eq 0
# delta reports: the interim counts add up to the final's total
if command -v jq > /dev/null; then
	a=$("$PB_FLOWS" -r "$TL" | jq -s '[.[] | select(.source.port == 46147)] | map(.network.packets) | add')
	b=$("$PB_FLOWS" -E packetbeat.flows.enable_delta_flow_reports=true -r "$TL" | jq -s '[.[] | select(.source.port == 46147)] | map(.network.packets) | add')
	check "delta reports sum to fewer packets than cumulative ones" test "$b" -lt "$a"
	c=$("$PB_FLOWS" -E packetbeat.flows.enable_delta_flow_reports=true -r "$TL" | jq -s '[.[] | select(.source.port == 46147)] | map(.network.packets) | add')
	d=$("$PB_FLOWS" --period -1 -r "$TL" | jq -s '[.[] | select(.source.port == 46147)] | map(.network.packets) | add')
	check "delta reports add up to the packets seen" test "$c" -eq "$d"
fi

# Eviction: one flow at a time; every flow still reported, evictions counted
"$PB_FLOWS" --max-flows 1 --stats -r "$SAMPLES/dns-udp.pcap" > "$t_tmp/ev" 2> "$t_tmp/ev.err"
check "--max-flows 1 exits 0" test $? -eq 0
check "evictions are reported" grep -q '"end_reason":"evicted"' "$t_tmp/ev"
check "evictions are counted in --stats" grep -Eq 'evicted [1-9]' "$t_tmp/ev.err"
check "peak at once is 1" grep -q 'peak at once 1$' "$t_tmp/ev.err"

# Bad input: a clear error and status 1, nothing invented
printf 'not a capture at all\n' > "$t_tmp/junk"
"$PB_FLOWS" -r "$t_tmp/junk" > "$t_tmp/junk.out" 2> "$t_tmp/junk.err"
check "garbage input exits 1" test $? -eq 1
check "garbage input: no flows" test ! -s "$t_tmp/junk.out"
check "garbage input: the file is named" grep -q junk "$t_tmp/junk.err"
head -c 1000 "$SAMPLES/http.pcap" > "$t_tmp/cut.pcap"
"$PB_FLOWS" -r "$t_tmp/cut.pcap" > "$t_tmp/cut.out" 2> "$t_tmp/cut.err"
check "truncated capture: flows up to the cut" test -s "$t_tmp/cut.out"
"$PB_FLOWS" -o "$t_tmp/o.ndjson" -r "$SAMPLES/http.pcap"
check "-o writes the file" cmp -s "$t_tmp/o.ndjson" "$t_tmp/nrt"

# Live capture on lo: root only; connections go to 127.0.0.1 only.
if [ "$(id -u)" -eq 0 ] && ip link show lo > /dev/null 2>&1 && command -v python3 > /dev/null; then
	port=59981
	"$PB_FLOWS" -i lo -f "tcp port $port" > "$t_tmp/live" 2> "$t_tmp/live.err" &
	pid=$!
	python3 - "$port" <<'PY' &
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(8)
s.settimeout(10)
for _ in range(3):
    c, _ = s.accept()
    c.recv(100)
    c.sendall(b'pong')
    c.close()
PY
	srv=$!
	sleep 1
	for i in 1 2 3; do
		python3 -c 'import socket,sys; c=socket.create_connection(("127.0.0.1", int(sys.argv[1]))); c.sendall(b"ping"); c.recv(100); c.close()' "$port"
	done
	wait "$srv"
	kill -INT "$pid"
	wait "$pid"
	check "live: SIGINT ends pb-flows with exit 0" test $? -eq 0
	check "live: three connections, three final flows" test "$(grep -c '"final":true' "$t_tmp/live")" -eq 3
	check "live: the server port is the destination" test "$(grep -c "\"destination\":{\"mac\":\"00-00-00-00-00-00\",\"ip\":\"127.0.0.1\",\"port\":$port" "$t_tmp/live")" -eq 3
	check "live: handshakes seen" test "$(grep -c '"source_from":"open"' "$t_tmp/live")" -eq 3
	# An idle interface: the wall clock still ends flows (timeout 1s)
	port=59982
	"$PB_FLOWS" -i lo -f "udp port $port" --timeout 1s --period -1 > "$t_tmp/live2" 2> "$t_tmp/live2.err" &
	pid=$!
	sleep 1
	printf 'x' > /dev/udp/127.0.0.1/$port 2>/dev/null || true
	sleep 3.5
	check "live: an idle flow times out on the wall clock" grep -q '"end_reason":"timeout"' "$t_tmp/live2"
	kill -INT "$pid"
	wait "$pid"
	check "live: nothing left at SIGINT" test "$(wc -l < "$t_tmp/live2")" -eq 1
else
	echo "flows: not root; live capture cases skipped"
fi
done_testing
