#!/bin/bash
# corpus-sweep.sh - every capture in ../shared/corpus through pb-decode,
# pb-flows and pb-txn (all protocols, with --flows) built with AddressSanitizer and UndefinedBehaviorSanitizer: no
# sanitizer report, no crash, no hang, exit 0 or 1 only.  Skipped when the
# corpus is absent.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

SAN=${PB_DECODE_SAN:-$top_builddir/tests/san/decode-san}
FLOWS_SAN=${PB_FLOWS_SAN:-$top_builddir/tests/san/flows-san}
TXN_SAN=${PB_TXN_SAN:-$top_builddir/tests/san/txn-san}
if [ ! -d "$CORPUS/public" ]; then
	echo "corpus-sweep: no corpus at $CORPUS; skipped"
	exit 77
fi
for b in "$SAN" "$FLOWS_SAN" "$TXN_SAN"; do
	if [ ! -x "$b" ]; then
		echo "corpus-sweep: $b not built"
		exit 99
	fi
done
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87

# one capture: writes "ok FILE" or "bad FILE reason" to stdout
sweep_one() {
	local f=$1 err rc tool
	err=$(mktemp)
	for tool in "$SAN --no-data" "$FLOWS_SAN" "$TXN_SAN --flows"; do
		# shellcheck disable=SC2086 # the tool and its options
		timeout 60 $tool -q -r "$f" >/dev/null 2>"$err"
		rc=$?
		if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$err"; then
			echo "bad $f ${tool%% *} sanitizer: $(grep -m1 -E 'Sanitizer|runtime error' "$err")"
			rm -f "$err"
			return
		elif [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
			echo "bad $f ${tool%% *} exit $rc: $(head -c 300 "$err")"
			rm -f "$err"
			return
		fi
	done
	echo "ok $f"
	rm -f "$err"
}
export -f sweep_one
export SAN FLOWS_SAN TXN_SAN

files=$t_tmp/files
{
	tail -n +2 "$CORPUS/public/MANIFEST.tsv" | cut -f1 | sed "s|^|$CORPUS/public/|"
	find "$CORPUS/beats" -type f \( -name '*.pcap' -o -name '*.pcapng' \) 2>/dev/null
} > "$files"
xargs -a "$files" -d '\n' -P "$(nproc)" -n 1 bash -c 'sweep_one "$0"' > "$t_tmp/out"
n_ok=$(grep -c '^ok ' "$t_tmp/out")
n_bad=$(grep -c '^bad ' "$t_tmp/out")
grep '^bad ' "$t_tmp/out" | head -20 >&2
echo "corpus-sweep: $n_ok captures clean, $n_bad with a problem"
t_pass=$n_ok
t_fail=$n_bad
done_testing
