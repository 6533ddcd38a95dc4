#!/bin/bash
# flows-tshark-compare.sh - pb-flows agrees with tshark on the packets and
# bytes of every TCP and UDP flow, per direction (tshark's tcp.stream and
# udp.stream, fragments counted where tshark rebuilt their datagram), for
# every sample and, when ../shared/corpus is present (or $PB_CORPUS), for
# every well-formed capture of the public corpus with a tunnel or fragments
# (by tshark's protocols or the file name) plus every 20th of the others
# by name (PB_TSHARK_FLOWS_CORPUS=all compares all of them, =none none,
# =N every Nth).  About 350 captures, 75 seconds on two cores;
# all 2139 take about 8 minutes.  See tests/flows_tshark_compare.py for
# the method and the named exceptions (KNOWN, BUGS).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

TSHARK=${TSHARK:-tshark}
PB_FLOWS=${PB_FLOWS:-$top_builddir/src/pb-flows}
if ! command -v "$TSHARK" >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	echo "flows-tshark-compare: tshark or python3 not installed; skipped"
	exit 77
fi
if [ ! -x "$PB_FLOWS" ]; then
	echo "flows-tshark-compare: $PB_FLOWS not built; skipped"
	exit 77
fi
list=$t_tmp/list
ls "$SAMPLES"/*.pcap "$SAMPLES"/*.pcapng* "$SAMPLES"/*.gz 2>/dev/null | sort -u > "$list"
mode=${PB_TSHARK_FLOWS_CORPUS:-20}
case $mode in
all) step=1 ;;
none) step=0 ;;
*[!0-9]* | '' | 0)
	echo "flows-tshark-compare: PB_TSHARK_FLOWS_CORPUS must be all, none or a number" >&2
	exit 2 ;;
*) step=$mode ;;
esac
if [ -f "$CORPUS/public/MANIFEST.tsv" ] && [ "$step" -gt 0 ]; then
	# well-formed captures in the link types pb-flows reads, in pcap or
	# pcapng (plain or gzip), sorted by name: every one with a tunnel or
	# fragments, and every step-th of the others
	awk -F'\t' 'NR > 1 && $9 == "no" && $5 != "snoop" &&
		$6 ~ /^(ether|linux-sll|linux-sll2|null|loop|rawip|rawip4|rawip6|ipv4|ipv6)$/ {
			c = ($8 ~ /gre|vxlan|geneve|erspan|mpls|pppoe|teredo/ ||
			     $1 ~ /frag|reassembl|tunnel|gre|vxlan|geneve|erspan|teredo|mpls|pppoe|bigtcp/)
			print $1 "\t" c
		}' "$CORPUS/public/MANIFEST.tsv" | sort |
	awk -F'\t' -v dir="$CORPUS/public" -v step="$step" '
		{ n++; if ($2 == 1 || n % step == 0) print dir "/" $1 }' >> "$list"
else
	echo "flows-tshark-compare: no corpus (or PB_TSHARK_FLOWS_CORPUS=none): samples only"
fi
echo "flows-tshark-compare: $(wc -l < "$list") captures"
# two workers (or as many as there are CPUs); each batch prints its own
# counts, summed below
xargs -a "$list" -d '\n' -n 20 -P "$(nproc)" \
	python3 "$top_srcdir/tests/flows_tshark_compare.py" "$PB_FLOWS" "$TSHARK" > "$t_tmp/out" 2>&1
grep -v -E '^[0-9]+ passed, [0-9]+ failed$|^flows-tshark-compare: ' "$t_tmp/out" >&2
# the batches' counts, added up
awk 'function count(what,   r) {
		r = "[0-9]+ " what
		if (match($0, r)) return substr($0, RSTART, RLENGTH) + 0
		return 0
	}
	/^flows-tshark-compare: / {
		flows += count("flows,"); agreed += count("agreed,")
		known += count("known differences,"); xfail += count("expected failures;")
		nmerged += count("flows holding"); nsplit += count("over several")
	}
	END {
		printf "flows-tshark-compare: %d flows compared, %d agreed, %d known differences, %d expected failures (pb-flows bugs); %d flows holding several tshark streams, %d tshark streams over several flows\n",
			flows, agreed, known, xfail, nmerged, nsplit
	}' "$t_tmp/out"
t_pass=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ { s += $1 } END { print s + 0 }' "$t_tmp/out")
t_fail=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ { s += $3 } END { print s + 0 }' "$t_tmp/out")
# a batch that crashed printed no count: it failed
t_fail=$((t_fail + $(grep -c '^Traceback' "$t_tmp/out")))
done_testing
