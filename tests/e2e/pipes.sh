#!/bin/bash
# pipes.sh - pb-decode in pipelines: filtering with jq and decoding again,
# carving by packet index, and live capture on the loopback interface.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

S=$SAMPLES/dns-udp.pcap

if command -v jq > /dev/null; then
	# pb-decode | jq select | pb-decode == pb-decode -f on the same packets
	"$PB_DECODE" -r "$S" | jq -c 'select(.destination.port == 53)' | "$PB_DECODE" > "$t_tmp/a"
	"$PB_DECODE" -f 'udp dst port 53' -r "$S" > "$t_tmp/b"
	check "jq filter then decode equals a BPF filter" cmp -s "$t_tmp/a" "$t_tmp/b"
	check "the filter kept queries" test "$(wc -l < "$t_tmp/a")" -ge 5
	# dotted keys are read too
	"$PB_DECODE" -r "$S" --count 2 | jq -c '{"@timestamp": .["@timestamp"], "packet.data": .packet.data, "packet.index": .packet.index}' \
		| "$PB_DECODE" --no-data > "$t_tmp/dotted"
	"$PB_DECODE" -r "$S" --count 2 --no-data > "$t_tmp/plain"
	check "dotted keys decode the same" cmp -s "$t_tmp/dotted" "$t_tmp/plain"
	# a BPF filter applies to re-decoded NDJSON too
	check "-f on NDJSON input" cmp -s <("$PB_DECODE" -r "$S" | "$PB_DECODE" -f 'udp dst port 53') "$t_tmp/b"
else
	echo "pipes: jq not installed; jq cases skipped"
fi

# An empty pipe is an empty stream (a jq filter may select nothing)
: | "$PB_DECODE" > "$t_tmp/empty"
check "empty pipe exits 0" test $? -eq 0
check "empty pipe writes nothing" test ! -s "$t_tmp/empty"

# A pcapng with two interfaces read through a pipe keeps interface numbers
"$PB_DECODE" < "$SAMPLES/multi-if.pcapng" | grep -c '"interface":1' > "$t_tmp/n1"
check "pcapng interface 1 seen through a pipe" test "$(cat "$t_tmp/n1")" -gt 0

# Live capture on lo: root only; traffic is sent to 127.0.0.1 only.
if [ "$(id -u)" -eq 0 ] && ip link show lo > /dev/null 2>&1; then
	"$PB_DECODE" -i lo -f 'udp port 59999' --count 3 --duration 20 --no-data -q > "$t_tmp/live" 2> "$t_tmp/live.err" &
	pid=$!
	sleep 1
	for i in 1 2 3 4 5 6; do
		printf 'x' > /dev/udp/127.0.0.1/59999 2>/dev/null || true
		sleep 0.2
	done
	wait "$pid"
	rc=$?
	check "live capture exits 0" test "$rc" -eq 0
	check "live capture stops after --count 3" test "$(wc -l < "$t_tmp/live")" -eq 3
	check "live records are loopback UDP" grep -q '"destination":{"mac":"00-00-00-00-00-00","ip":"127.0.0.1","port":59999}' "$t_tmp/live"
	# SIGINT ends a live capture cleanly, with everything written
	"$PB_DECODE" -i lo -f 'udp port 59998' --no-data -q > "$t_tmp/live2" 2>&1 &
	pid=$!
	sleep 1
	printf 'y' > /dev/udp/127.0.0.1/59998 2>/dev/null || true
	sleep 0.5
	kill -INT "$pid"
	wait "$pid"
	check "SIGINT ends a live capture with exit 0" test $? -eq 0
	check "SIGINT: the packet seen was written" test "$(wc -l < "$t_tmp/live2")" -eq 1
	check "--duration ends a live capture" timeout 10 "$PB_DECODE" -i lo -f 'udp port 59997' --duration 1 -q -o /dev/null
else
	echo "pipes: not root; live capture cases skipped"
fi
done_testing
