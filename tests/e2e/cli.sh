#!/bin/bash
# cli.sh - pb-decode's command line: options, exit statuses, messages.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

S=$SAMPLES/http.pcap
N=$(grep -c . "$top_srcdir/tests/golden/http.ndjson")

check "--help exits 0 and names options" bash -c "'$PB_DECODE' --help | grep -q -- --no-data"
check "--version" bash -c "'$PB_DECODE' --version | grep -q '^pb-decode (pbtools) '"
expect_rc "unknown option is a usage error" 2 "$PB_DECODE" --no-such-option
expect_rc "-i with -r is a usage error" 2 "$PB_DECODE" -i lo -r "$S"
expect_rc "bad BPF filter is a usage error" 2 "$PB_DECODE" -f 'port port' -r "$S"
expect_rc "bad --count" 2 "$PB_DECODE" --count many -r "$S"
expect_rc "bad --snaplen" 2 "$PB_DECODE" --snaplen 0 -r "$S"

# a missing file: exit 1, message names the file
"$PB_DECODE" -r /nonexistent.pcap > /dev/null 2> "$t_tmp/err"
expect_rc "missing file exits 1" 1 test $? -eq 0
check "missing file message" grep -q "^pb-decode: cannot open '/nonexistent.pcap': No such file or directory$" "$t_tmp/err"

# the input: -r, a positional name, standard input
"$PB_DECODE" -r "$S" > "$t_tmp/a"
"$PB_DECODE" "$S" > "$t_tmp/b"
"$PB_DECODE" < "$S" > "$t_tmp/c"
"$PB_DECODE" - < "$S" > "$t_tmp/d"
check "-r, positional, stdin and - agree" bash -c "cmp -s '$t_tmp/a' '$t_tmp/b' && cmp -s '$t_tmp/a' '$t_tmp/c' && cmp -s '$t_tmp/a' '$t_tmp/d'"
check "one record per packet" test "$(wc -l < "$t_tmp/a")" -eq "$N"

# -o writes the file, nothing on standard output
"$PB_DECODE" -r "$S" -o "$t_tmp/o" > "$t_tmp/stdout"
check "-o writes the file" cmp -s "$t_tmp/o" "$t_tmp/a"
check "-o leaves stdout empty" test ! -s "$t_tmp/stdout"
expect_rc "-o into a missing directory exits 1" 1 "$PB_DECODE" -r "$S" -o /nonexistent/dir/out

# --count, --no-data, -f
check "--count 3" test "$("$PB_DECODE" --count 3 -r "$S" | wc -l)" -eq 3
check "--no-data drops packet.data" bash -c "! '$PB_DECODE' --no-data -r '$S' | grep -q '\"data\"'"
check "every record has packet.data by default" test "$(grep -c '"data":' "$t_tmp/a")" -eq "$N"
n_syn=$("$PB_DECODE" -f 'tcp[tcpflags] & tcp-syn != 0' -r "$S" | wc -l)
check "-f keeps only matching packets" test "$n_syn" -eq 4
"$PB_DECODE" -f 'tcp[tcpflags] & tcp-syn != 0' -r "$S" | head -1 > "$t_tmp/syn"
check "-f keeps packet.index" grep -q '"index":3,' "$t_tmp/syn"

# --duration on a file counts capture time: 0.001 s keeps the first packets only
n_dur=$("$PB_DECODE" --duration 0.001 -r "$S" | wc -l)
check "--duration on a file" test "$n_dur" -ge 1 -a "$n_dur" -lt "$N"

# --stats goes to stderr, output unchanged
"$PB_DECODE" --stats -r "$S" > "$t_tmp/s" 2> "$t_tmp/serr"
check "--stats leaves stdout alone" cmp -s "$t_tmp/s" "$t_tmp/a"
check "--stats counts packets" grep -qE "^  packets +$N\$" "$t_tmp/serr"
check "--stats counts records written" grep -qE "^  records written +$N\$" "$t_tmp/serr"
check "--stats shows decode counters" grep -q "decoded: ipv4" "$t_tmp/serr"

# --realtime paces by capture time: the run lasts as long as the capture
span_ms=$("$PB_DECODE" --no-data -r "$SAMPLES/icmp.pcap" | python3 -c '
import json, sys
from datetime import datetime
t = [datetime.strptime(json.loads(l)["@timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ") for l in sys.stdin]
print(int((t[-1] - t[0]).total_seconds() * 1000))')
start=$(date +%s%N)
"$PB_DECODE" --realtime -r "$SAMPLES/icmp.pcap" > /dev/null
el=$(( ($(date +%s%N) - start) / 1000000 ))
check "--realtime lasts the capture's ${span_ms} ms (took ${el} ms)" test "$el" -ge $((span_ms * 9 / 10))
start=$(date +%s%N)
"$PB_DECODE" --realtime --duration 60 -r "$SAMPLES/icmp.pcap" > /dev/null
el=$(( ($(date +%s%N) - start) / 1000000 ))
check "--realtime with --duration still paces (took ${el} ms)" test "$el" -ge $((span_ms * 9 / 10))
check "top speed is faster than the capture" bash -c "s=\$(date +%s%N); '$PB_DECODE' -r '$SAMPLES/icmp.pcap' >/dev/null; test \$(( (\$(date +%s%N) - s) / 1000000 )) -lt $span_ms"

# -q silences warnings but not errors
printf 'not a capture\n' > "$t_tmp/junk"
"$PB_DECODE" -q -r "$t_tmp/junk" > /dev/null 2> "$t_tmp/qerr"
check "-q still reports errors" grep -q "not a pcap, pcapng or NDJSON" "$t_tmp/qerr"

# progress is off when stderr is not a terminal, forced with --progress
"$PB_DECODE" --progress -r "$S" > /dev/null 2> "$t_tmp/perr"
check "--progress does not break output" test $? -eq 0
done_testing
