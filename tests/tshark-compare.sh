#!/bin/bash
# tshark-compare.sh - pb-decode agrees with tshark on every packet of every
# sample (addresses, ports, transport, lengths, TCP flags, ICMP type,
# VLAN ids, Community ID; the innermost packet of a tunnel; datagrams
# rebuilt from fragments against tshark's own reassembly), and on every
# well-formed tunnel, MPLS, PPPoE or fragment capture of the public corpus
# plus a fixed tenth of the others when ../shared/corpus is present
# (PB_TSHARK_CORPUS=all compares all of them, =none none).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

TSHARK=${TSHARK:-tshark}
if ! command -v "$TSHARK" >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	echo "tshark-compare: tshark or python3 not installed; skipped"
	exit 77
fi
list=$t_tmp/list
ls "$SAMPLES"/*.pcap "$SAMPLES"/*.pcapng "$SAMPLES"/*.gz "$SAMPLES"/rotated/*.pcap > "$list"
mode=${PB_TSHARK_CORPUS:-tenth}
if [ -f "$CORPUS/public/MANIFEST.tsv" ] && [ "$mode" != none ]; then
	# well-formed captures in the link types pb-decode reads, in pcap or
	# pcapng (plain or gzip)
	awk -F'\t' -v dir="$CORPUS/public" -v mode="$mode" '
		NR > 1 && $9 == "no" && $5 != "snoop" &&
		$6 ~ /^(ether|linux-sll|linux-sll2|null|loop|rawip|rawip4|rawip6|ipv4|ipv6)$/ {
			n++
			# every capture with an encapsulation, a tenth of the rest
			if (mode == "all" || n % 10 == 0 ||
			    $8 ~ /gre|vxlan|geneve|erspan|mpls|pppoe|teredo/ ||
			    $1 ~ /frag/) print dir "/" $1
		}' "$CORPUS/public/MANIFEST.tsv" >> "$list"
fi
echo "tshark-compare: $(wc -l < "$list") captures"
# two workers, one summary: each batch prints its own closing count
xargs -a "$list" -d '\n' -n 25 -P "$(nproc)" \
	python3 "$top_srcdir/tests/tshark_compare.py" "$PB_DECODE" "$TSHARK" > "$t_tmp/out" 2>&1
grep -v -E '^[0-9]+ passed, [0-9]+ failed$|not compared$' "$t_tmp/out" >&2
t_pass=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ { s += $1 } END { print s + 0 }' "$t_tmp/out")
t_fail=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ { s += $3 } END { print s + 0 }' "$t_tmp/out")
# a batch that crashed printed no count: it failed
t_fail=$((t_fail + $(grep -c '^Traceback' "$t_tmp/out")))
done_testing
