#!/bin/bash
# merge.sh - several captures read as one: merged by timestamp, packet.index
# unique, packet.file and packet.file_index naming the source; directories
# and gzip members; --since and --until.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

S=$SAMPLES/http.pcap
mkdir -p "$t_tmp/rot" "$t_tmp/oe"
# split the sample: in runs of 10 (a rotated set) and odd/even (interleaved)
python3 - "$S" "$t_tmp" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
hdr, recs, off = data[:24], [], 24
while off < len(data):
    caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
    recs.append(data[off:off + 16 + caplen])
    off += 16 + caplen
for k in range(0, len(recs), 10):
    open(f"{sys.argv[2]}/rot/part-{k // 10:05d}.pcap", "wb").write(hdr + b"".join(recs[k:k + 10]))
open(f"{sys.argv[2]}/oe/odd.pcap", "wb").write(hdr + b"".join(recs[0::2]))
open(f"{sys.argv[2]}/oe/even.pcap", "wb").write(hdr + b"".join(recs[1::2]))
PY
strip() { jq -c 'del(.packet.file, .packet.file_index, .packet.index)'; }
"$PB_DECODE" -r "$S" | strip > "$t_tmp/whole"
N=$(wc -l < "$t_tmp/whole")

"$PB_DECODE" "$t_tmp"/rot/part-*.pcap > "$t_tmp/a"
check "rotated set reads as the whole capture" cmp -s <(strip < "$t_tmp/a") "$t_tmp/whole"
check "packet.index runs 1..N over the set" test "$(jq -r .packet.index "$t_tmp/a" | tr '\n' ' ')" = "$(seq -s ' ' 1 "$N") "
check "packet.file names the part" test "$(jq -r '.packet.file' "$t_tmp/a" | sed -n 11p)" = "$t_tmp/rot/part-00001.pcap"
check "packet.file_index counts within the part" test "$(jq -r '.packet.file_index' "$t_tmp/a" | sed -n 11p)" = 1
"$PB_DECODE" "$t_tmp"/rot/part-00002.pcap "$t_tmp"/rot/part-00000.pcap "$t_tmp"/rot/part-00001.pcap > "$t_tmp/b"
check "order on the command line does not matter" cmp -s "$t_tmp/a" "$t_tmp/b"
"$PB_DECODE" "$t_tmp/rot" > "$t_tmp/c"
check "a directory reads its files" cmp -s <(strip < "$t_tmp/c") "$t_tmp/whole"
"$PB_DECODE" "$t_tmp/oe/even.pcap" "$t_tmp/oe/odd.pcap" > "$t_tmp/d"
check "interleaved files merge by timestamp" cmp -s <(strip < "$t_tmp/d") "$t_tmp/whole"
gzip -n "$t_tmp/rot/part-00001.pcap"
"$PB_DECODE" "$t_tmp/rot" > "$t_tmp/e"
check "a gzip member of the set" cmp -s <(strip < "$t_tmp/e") "$t_tmp/whole"
# the merged records decode again to the same records, file names kept
"$PB_DECODE" < "$t_tmp/e" > "$t_tmp/f"
check "merged records round trip" cmp -s "$t_tmp/e" "$t_tmp/f"

# a broken member: reported, the rest read, exit 1
printf 'junk' > "$t_tmp/rot/part-00003.pcap"
"$PB_DECODE" "$t_tmp/rot" > "$t_tmp/g" 2> "$t_tmp/g.err"
check "a bad file in the set exits 1" test $? -eq 1
check "a bad file in the set is named" grep -q "part-00003.pcap: not a pcap" "$t_tmp/g.err"
check "the others are read" test "$(wc -l < "$t_tmp/g")" -eq "$N"
expect_rc "standard input twice is a usage error" 2 "$PB_DECODE" - - < /dev/null

# --since / --until on capture time
ts() { jq -r '.["@timestamp"]' "$t_tmp/a" | sed -n "${1}p"; }
"$PB_DECODE" --since "$(ts 5)" --until "$(ts 9)" -r "$S" > "$t_tmp/h"
check "--since/--until keep packets 5..9" test "$(jq -r .packet.index "$t_tmp/h" | tr '\n' ' ')" = "5 6 7 8 9 "
epoch=$(python3 -c "import datetime,sys; print(datetime.datetime.strptime(sys.argv[1], '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc).timestamp())" "$(ts 20)")
check "--since takes epoch seconds" test "$("$PB_DECODE" --since "$epoch" -r "$S" | wc -l)" -ge $((N - 20)) 
"$PB_DECODE" --stats --until "$(ts 3)" "$t_tmp"/rot/part-0000[02].pcap > /dev/null 2> "$t_tmp/i"
check "--until stops a file at its first later packet" grep -qE "after --until +2" "$t_tmp/i"
expect_rc "bad --since" 2 "$PB_DECODE" --since yesterday -r "$S"
done_testing
