#!/bin/bash
# bad-input.sh - hostile and broken inputs: a clear message naming the file
# and packet or line, a count, every readable record written, exit 1;
# never a crash or a hang.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

S=$SAMPLES/http.pcap
N=$(grep -c . "$top_srcdir/tests/golden/http.ndjson")

# run NAME FILE: pb-decode on FILE, stdout to $t_tmp/NAME.out, stderr .err
run() {
	timeout 20 "$PB_DECODE" --no-data -r "$2" > "$t_tmp/$1.out" 2> "$t_tmp/$1.err"
	echo $? > "$t_tmp/$1.rc"
}
rc() { cat "$t_tmp/$1.rc"; }
lines() { wc -l < "$t_tmp/$1.out"; }

# not a capture
printf 'hello world\n' > "$t_tmp/text"
run text "$t_tmp/text"
check "text file exits 1" test "$(rc text)" -eq 1
check "text file message" grep -q "text: not a pcap, pcapng or NDJSON capture" "$t_tmp/text.err"

# empty file
: > "$t_tmp/empty"
run empty "$t_tmp/empty"
check "empty file exits 1" test "$(rc empty)" -eq 1
check "empty file message" grep -q "empty: empty input" "$t_tmp/empty.err"

# truncated last record: every whole record written
size=$(stat -c %s "$S")
head -c $((size - 10)) "$S" > "$t_tmp/trunc.pcap"
run trunc "$t_tmp/trunc.pcap"
check "truncated file exits 1" test "$(rc trunc)" -eq 1
check "truncated file keeps the whole records" test "$(lines trunc)" -eq $((N - 1))
check "truncated message names the packet" grep -q "trunc.pcap: truncated after packet $((N - 1))" "$t_tmp/trunc.err"

# truncated pcap file header
head -c 10 "$S" > "$t_tmp/short.pcap"
run short "$t_tmp/short.pcap"
check "short header exits 1" test "$(rc short)" -eq 1
check "short header message" grep -q "truncated pcap file header" "$t_tmp/short.err"

# a record longer than 256 KiB: the packets before it are written
python3 - "$S" "$t_tmp/huge.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
# global header, first record whole, then a record header claiming 300000 bytes
caplen = struct.unpack("<I", data[24 + 8:24 + 12])[0]
first = data[:24 + 16 + caplen]
open(sys.argv[2], "wb").write(first + struct.pack("<IIII", 1, 0, 300000, 300000) + b"\0" * 64)
PY
run huge "$t_tmp/huge.pcap"
check "oversized record exits 1" test "$(rc huge)" -eq 1
check "oversized record: earlier packets written" test "$(lines huge)" -eq 1
check "oversized record message" grep -q "packet 2: record of 300000 bytes exceeds the 262144-byte maximum" "$t_tmp/huge.err"

# a frame whose IP length lies: decoded with what is there, noted
python3 - "$t_tmp/lie.pcap" <<'PY'
import struct, sys
eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
ip = bytes([0x45, 0, 0x05, 0xdc, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])
udp = struct.pack(">HHHH", 1000, 53, 1480, 0) + b"abcd"
frame = eth + ip + udp
hdr = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
rec = struct.pack("<IIII", 1, 0, len(frame), len(frame))
open(sys.argv[1], "wb").write(hdr + rec + frame)
PY
run lie "$t_tmp/lie.pcap"
check "lying length exits 0 (a note, not an error)" test "$(rc lie)" -eq 0
check "lying length noted" grep -q '"anomalies":\["IP4_LENGTH_EXCEEDS_FRAME","UDP_BAD_LENGTH"\]' "$t_tmp/lie.out"
check "lying length: payload is what is there" grep -q '"payload":{"bytes":4}' "$t_tmp/lie.out"

# caplen above the snaplen and above the original length: kept, counted
python3 - "$t_tmp/snap.pcap" <<'PY'
import struct, sys
frame = b"\xff" * 12 + b"\x08\x06" + b"\0" * 50
hdr = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 32, 1)
rec = struct.pack("<IIII", 1, 0, len(frame), 20)
open(sys.argv[1], "wb").write(hdr + rec + frame)
PY
"$PB_DECODE" --stats --no-data -r "$t_tmp/snap.pcap" > "$t_tmp/snap.out" 2> "$t_tmp/snap.err"
check "caplen > snaplen kept" test "$(wc -l < "$t_tmp/snap.out")" -eq 1
check "caplen > snaplen counted" grep -qE "caplen > snaplen +1" "$t_tmp/snap.err"
check "caplen > length counted" grep -qE "caplen > length +1" "$t_tmp/snap.err"

# NDJSON: bad lines reported with their number and skipped
"$PB_DECODE" -r "$S" --count 3 > "$t_tmp/good.ndjson"
{
	sed -n 1p "$t_tmp/good.ndjson"
	echo '{"not json'
	echo '{"@timestamp":"2026-01-01T00:00:00Z","packet":{"index":9}}'
	echo '[1,2,3]'
	echo '{"@timestamp":"yesterday","packet":{"data":"AAAA"}}'
	echo '{"@timestamp":"2026-01-01T00:00:00Z","packet":{"data":"!!!"}}'
	echo
	sed -n 2,3p "$t_tmp/good.ndjson"
} > "$t_tmp/mixed.ndjson"
run mixed "$t_tmp/mixed.ndjson"
check "bad NDJSON lines exit 1" test "$(rc mixed)" -eq 1
check "bad NDJSON: good lines written" test "$(lines mixed)" -eq 3
check "line 2 not JSON" grep -q "mixed.ndjson: line 2: not valid JSON; skipped" "$t_tmp/mixed.err"
check "line 3 no data" grep -q "line 3: no packet.data" "$t_tmp/mixed.err"
check "line 4 not an object" grep -q "line 4: not a JSON object" "$t_tmp/mixed.err"
check "line 5 bad timestamp" grep -q "line 5: no valid @timestamp" "$t_tmp/mixed.err"
check "line 6 bad base64" grep -q "line 6: packet.data is not valid base64" "$t_tmp/mixed.err"
"$PB_DECODE" --strict --no-data -r "$t_tmp/mixed.ndjson" > "$t_tmp/strict.out" 2>/dev/null
expect_rc "--strict stops at the first bad line" 1 test $? -eq 0
check "--strict wrote the lines before it" test "$(wc -l < "$t_tmp/strict.out")" -eq 1

# an NDJSON line longer than the 4 MiB limit is skipped, not held
{
	sed -n 1p "$t_tmp/good.ndjson"
	head -c 5000000 /dev/zero | tr '\0' 'x'
	echo
	sed -n 2p "$t_tmp/good.ndjson"
} > "$t_tmp/long.ndjson"
run long "$t_tmp/long.ndjson"
check "over-long line exits 1" test "$(rc long)" -eq 1
check "over-long line: others written" test "$(lines long)" -eq 2
check "over-long line message" grep -q "line 2: longer than" "$t_tmp/long.err"

# gzip: read from a file and from a pipe, same records
gzip -c "$S" > "$t_tmp/s.pcap.gz"
"$PB_DECODE" -r "$t_tmp/s.pcap.gz" > "$t_tmp/gz1"
gzip -c "$S" | "$PB_DECODE" > "$t_tmp/gz2"
"$PB_DECODE" -r "$S" > "$t_tmp/plain"
check "gzip file" cmp -s "$t_tmp/gz1" "$t_tmp/plain"
check "gzip on stdin" cmp -s "$t_tmp/gz2" "$t_tmp/plain"
head -c 300 "$t_tmp/s.pcap.gz" > "$t_tmp/cut.pcap.gz"
run cutgz "$t_tmp/cut.pcap.gz"
check "truncated gzip exits 1" test "$(rc cutgz)" -eq 1

# random bytes with a pcap magic: never a crash, exit 0 or 1
for i in 1 2 3 4 5 6 7 8; do
	{ printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\xff\xff\0\0\x01\0\0\0'
	  head -c 4000 /dev/urandom; } > "$t_tmp/rand.pcap"
	run rand "$t_tmp/rand.pcap"
	r=$(rc rand)
	check "random pcap $i exits 0 or 1 (got $r)" test "$r" -le 1
done
for i in 1 2 3 4; do
	{ printf '\n\r\r\n\x1c\0\0\0\x4d\x3c\x2b\x1a\x01\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff\x1c\0\0\0'
	  head -c 4000 /dev/urandom; } > "$t_tmp/rand.pcapng"
	run randng "$t_tmp/rand.pcapng"
	r=$(rc randng)
	check "random pcapng $i exits 0 or 1 (got $r)" test "$r" -le 1
done
done_testing
