#!/bin/bash
# golden.sh - the tools on every sample against the expected NDJSON in
# tests/golden (TESTLIST); every pb-txn case again with TCP data handed to
# the parsers one byte at a time (--segment-bytes 1), which must give the
# same events; and the NDJSON round trip: decoding pb-decode's own output
# gives the same records, byte for byte.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

G=$top_srcdir/tests/golden
while IFS=$'\t' read -r name tool cap args; do
	case $name in ''|'#'*) continue ;; esac
	# run from the capture's folder, so recorded file names are relative
	case $cap in
	regress/*) dir=$G ;;   # minimal captures of fixed bugs
	*) dir=$SAMPLES ;;
	esac
	bin=$top_builddir/src/$tool
	# shellcheck disable=SC2086 # args is a list of words
	if ! (cd "$dir" && "$bin" $args "$cap") > "$t_tmp/$name.out" 2> "$t_tmp/$name.err"; then
		fail "$name: $tool failed: $(head -c 300 "$t_tmp/$name.err")"
		continue
	fi
	if cmp -s "$t_tmp/$name.out" "$G/$name.ndjson"; then
		ok
	else
		fail "$name: output differs from tests/golden/$name.ndjson"
		diff "$G/$name.ndjson" "$t_tmp/$name.out" | head -10 >&2
	fi
	if [ "$tool" = pb-txn ]; then
		# shellcheck disable=SC2086 # args is a list of words
		(cd "$dir" && "$bin" --segment-bytes 1 $args "$cap") > "$t_tmp/$name.b1" 2> /dev/null
		check "$name: the same a byte at a time" cmp -s "$t_tmp/$name.b1" "$G/$name.ndjson"
	fi
done < "$G/TESTLIST"

# Round trip on every sample: pb-decode -r S | pb-decode == pb-decode -r S
for s in "$SAMPLES"/*.pcap "$SAMPLES"/*.pcapng "$SAMPLES"/*.gz; do
	n=$(basename "$s")
	"$PB_DECODE" -r "$s" > "$t_tmp/rt1" &&
		"$PB_DECODE" < "$t_tmp/rt1" > "$t_tmp/rt2" &&
		cmp -s "$t_tmp/rt1" "$t_tmp/rt2"
	check "round trip $n" test $? -eq 0
done

# Determinism: two runs give the same bytes.
"$PB_DECODE" -r "$SAMPLES/http.pcap" > "$t_tmp/d1"
"$PB_DECODE" -r "$SAMPLES/http.pcap" > "$t_tmp/d2"
check "deterministic output" cmp -s "$t_tmp/d1" "$t_tmp/d2"
done_testing
