#!/bin/bash
# txn-tshark-compare.sh - pb-txn's HTTP, DNS, TLS and database transactions
# against tshark's decode (tests/txn_tshark_compare.py has the method):
# every sample, and, when ../shared/corpus is present (or $PB_CORPUS), every
# 10th by name of the well-formed public captures in which tshark's
# protocols include http, dns or tls, and every one with mysql, pgsql,
# redis, memcache, mongodb or cassandra (PB_TSHARK_TXN_CORPUS=all: all 930
# or so; =none: samples only; =N: every Nth of the first kind).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

TSHARK=${TSHARK:-tshark}
PB_TXN=${PB_TXN:-$top_builddir/src/pb-txn}
if ! command -v "$TSHARK" >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	echo "txn-tshark-compare: tshark or python3 not installed; skipped"
	exit 77
fi
if [ ! -x "$PB_TXN" ]; then
	echo "txn-tshark-compare: $PB_TXN not built; skipped"
	exit 77
fi
list=$t_tmp/list
ls "$SAMPLES"/*.pcap "$SAMPLES"/*.pcapng* "$SAMPLES"/*.gz 2>/dev/null | sort -u > "$list"
mode=${PB_TSHARK_TXN_CORPUS:-10}
case $mode in
all) step=1 ;;
none) step=0 ;;
*[!0-9]* | '' | 0)
	echo "txn-tshark-compare: PB_TSHARK_TXN_CORPUS must be all, none or a number" >&2
	exit 2 ;;
*) step=$mode ;;
esac
if [ -f "$CORPUS/public/MANIFEST.tsv" ] && [ "$step" -gt 0 ]; then
	awk -F'\t' 'NR > 1 && $9 == "no" && $5 != "snoop" &&
		$6 ~ /^(ether|linux-sll|linux-sll2|null|loop|rawip|rawip4|rawip6|ipv4|ipv6)$/ &&
		$8 ~ /(^|[:, ])(http|dns|tls)([:, ]|$)/ { print $1 }' \
		"$CORPUS/public/MANIFEST.tsv" | sort |
		awk -v dir="$CORPUS/public" -v step="$step" '{ if (++n % step == 0) print dir "/" $0 }' >> "$list"
	awk -F'\t' 'NR > 1 && $9 == "no" && $5 != "snoop" &&
		$8 ~ /(^|[:, ])(mysql|pgsql|redis|memcache|mongodb|cassandra)([:, ]|$)/ &&
		$8 !~ /(^|[:, ])(http|dns|tls)([:, ]|$)/ { print dir "/" $1 }' dir="$CORPUS/public" \
		"$CORPUS/public/MANIFEST.tsv" | sort >> "$list"
	ls "$CORPUS"/beats/mysql_*.pcap "$CORPUS"/beats/pgsql_*.pcap "$CORPUS"/beats/redis_*.pcap \
		"$CORPUS"/beats/memcache_*.pcap "$CORPUS"/beats/mongo*.pcap \
		"$CORPUS"/beats/cassandra_*.pcap 2>/dev/null >> "$list"
fi
echo "txn-tshark-compare: $(wc -l < "$list") captures"
xargs -a "$list" -d '\n' -n 20 -P "$(nproc)" \
	python3 "$top_srcdir/tests/txn_tshark_compare.py" "$PB_TXN" "$TSHARK" > "$t_tmp/out" 2>&1
grep -v -E '^[0-9]+ passed, [0-9]+ failed$|^txn-tshark-compare: ' "$t_tmp/out" >&2
grep '^txn-tshark-compare: ' "$t_tmp/out"
t_pass=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ { s += $1 } END { print s + 0 }' "$t_tmp/out")
t_fail=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ { s += $3 } END { print s + 0 }' "$t_tmp/out")
t_fail=$((t_fail + $(grep -c '^Traceback' "$t_tmp/out")))
done_testing
