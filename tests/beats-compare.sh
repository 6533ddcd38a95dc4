#!/bin/bash
# beats-compare.sh - pb-txn against what Packetbeat's own system tests
# assert, on Packetbeat's own test captures (../shared/corpus/beats, or
# $PB_CORPUS/beats): the HTTP, DNS, TLS, ICMP, MySQL, PostgreSQL, Redis,
# memcache, MongoDB and Cassandra cases of
# packetbeat/tests/system/test_*.py and of the golden files, one block per
# case in tests/beats/EXPECT, each assertion a jq expression over the array
# of pb-txn's events (jq -s).  A failing assertion is printed with its
# capture, the Packetbeat test it comes from, the expression and the value
# pb-txn gave.  Skipped (77) without the corpus or jq.
#
# PB_BEATS_CASE=REGEX runs only the cases whose capture or label matches.
#
# The format of tests/beats/EXPECT (its header says more):
#   # text              a comment
#   #: SOURCE           the Packetbeat test of the assertions that follow
#   jqdef DEF           a jq definition prepended to every expression
#   define NAME WORDS   a macro: @NAME in args stands for WORDS
#   case CAPTURE [LABEL] a case: the capture (under the beats corpus)
#   args WORDS          pb-txn's arguments for the case (before -r CAPTURE)
#   differs EXPR        a documented difference: Packetbeat's assertion,
#                       which pb-txn must not satisfy
#   anything else       an assertion: a jq expression that must give true
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

PB_TXN=${PB_TXN:-$top_builddir/src/pb-txn}
EXPECT=${PB_BEATS_EXPECT:-$top_srcdir/tests/beats/EXPECT}
BEATS=$CORPUS/beats
ONLY=${PB_BEATS_CASE:-}

if [ ! -d "$BEATS" ]; then
	echo "beats-compare: $BEATS absent; skipped"
	exit 77
fi
if ! command -v jq > /dev/null 2>&1; then
	echo "beats-compare: jq not installed; skipped"
	exit 77
fi
if [ ! -x "$PB_TXN" ]; then
	echo "beats-compare: $PB_TXN not built; skipped"
	exit 77
fi
if [ ! -r "$EXPECT" ]; then
	echo "beats-compare: $EXPECT missing" >&2
	exit 1
fi

# The left side of the first comparison at the top level of a jq
# expression (outside brackets and strings), or the whole expression: what
# is shown as pb-txn's value when the assertion fails.
lhs() {
	awk '{
		s = $0; n = length(s); depth = 0; instr = 0
		for (i = 1; i <= n; i++) {
			c = substr(s, i, 1)
			if (instr) {
				if (c == "\\") i++
				else if (c == "\"") instr = 0
				continue
			}
			if (c == "\"") { instr = 1; continue }
			if (c == "(" || c == "[" || c == "{") depth++
			else if (c == ")" || c == "]" || c == "}") depth--
			else if (depth == 0 && c == " ") {
				op = substr(s, i, 4)
				if (op == " == " || op == " != " || op == " >= " || op == " <= ") {
					print substr(s, 1, i - 1); exit
				}
				op = substr(s, i, 3)
				if (op == " > " || op == " < ") {
					print substr(s, 1, i - 1); exit
				}
			}
		}
		print s
	}' <<< "$1"
}

jqdefs=
declare -A macro
ncases=0
nasserts=0
nknown=0
cur_case=
cur_pcap=
cur_src=
cur_args=()
exprs=()       # the current case's assertions
srcs=()        # ... and the Packetbeat test of each
skip_case=0
rc=0
why=

# pb-txn on the current case: its events in $t_tmp/out, or why not in $why
run_case() {
	rc=0
	if [ ! -r "$BEATS/$cur_pcap" ]; then
		rc=127
		why="the capture is not in $BEATS"
		return
	fi
	"$PB_TXN" -q "${cur_args[@]}" -r "$BEATS/$cur_pcap" > "$t_tmp/out" 2> "$t_tmp/err"
	rc=$?
	why="pb-txn failed (exit $rc): $(head -n 1 "$t_tmp/err")"
}

# one assertion that failed in the batch (or could not be batched): its
# own verdict, and pb-txn's value.  A `differs` assertion (a documented,
# deliberate difference from Packetbeat) is expected to be false: that
# passes, and counts as a known difference; true fails (remove the mark)
check_one() {
	local expr=$1 res actual
	if ! res=$(jq -s -c "$jqdefs $expr" "$t_tmp/out" 2>&1); then
		fail "$cur_case [${srcs[$2]}]: $expr -- $(head -n 1 <<< "$res")"
		return
	fi
	if [ "${xfs[$2]}" = 1 ]; then
		if [ "$res" = true ]; then
			fail "$cur_case [${srcs[$2]}]: differs $expr -- now true: pb-txn agrees with Packetbeat, remove 'differs'"
		else
			nknown=$((nknown + 1))
			ok
		fi
		return
	fi
	if [ "$res" = true ]; then
		ok
		return
	fi
	actual=$(jq -s -c "$jqdefs $(lhs "$expr")" "$t_tmp/out" 2>&1 | head -c 400 | tr '\n' ' ')
	fail "$cur_case [${srcs[$2]}]: $expr -- pb-txn: ${actual% }"
}

# run the current case: pb-txn once, then its assertions, all in one jq
# program (each one true or not), and one by one those that were not
run_assertions() {
	local i prog verdicts
	[ "${#exprs[@]}" -gt 0 ] || return 0
	nasserts=$((nasserts + ${#exprs[@]}))
	run_case
	if [ "$rc" -ne 0 ]; then
		for i in "${!exprs[@]}"; do
			fail "$cur_case [${srcs[$i]}]: ${exprs[$i]} -- $why"
		done
		return
	fi
	prog="$jqdefs ["
	for i in "${!exprs[@]}"; do
		[ "$i" -eq 0 ] || prog="$prog,"
		prog="$prog ([try (${exprs[$i]}) catch false] == [true])"
	done
	prog="$prog ] | .[]"
	if mapfile -t verdicts < <(jq -s -c "$prog" "$t_tmp/out" 2> /dev/null) &&
	   [ "${#verdicts[@]}" -eq "${#exprs[@]}" ]; then
		for i in "${!exprs[@]}"; do
			if [ "${verdicts[$i]}" = true ] && [ "${xfs[$i]}" != 1 ]; then
				ok
			else
				check_one "${exprs[$i]}" "$i"
			fi
		done
	else
		for i in "${!exprs[@]}"; do
			check_one "${exprs[$i]}" "$i"
		done
	fi
}

lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	# strip leading blanks
	line=${line#"${line%%[![:space:]]*}"}
	case $line in
	'' ) continue ;;
	'#:'*)
		cur_src=${line#'#:'}
		cur_src=${cur_src# }
		continue ;;
	'#'*) continue ;;
	'jqdef '*)
		jqdefs="$jqdefs ${line#jqdef }"
		continue ;;
	'define '*)
		read -r _ name words <<< "$line"
		macro[$name]=$words
		continue ;;
	'case '*)
		[ "$skip_case" -eq 1 ] || run_assertions
		exprs=()
		srcs=()
		xfs=()
		read -r _ pcap label <<< "$line"
		cur_pcap=$pcap
		cur_case=$pcap${label:+ ($label)}
		cur_args=()
		cur_src=
		skip_case=0
		if [ -n "$ONLY" ] && ! [[ $cur_case =~ $ONLY ]]; then
			skip_case=1
		else
			ncases=$((ncases + 1))
		fi
		continue ;;
	'args '*|'args')
		# split on blanks, never globbed ([80] is a YAML list)
		read -ra raw <<< "${line#args}"
		words=()
		for w in "${raw[@]}"; do
			if [ "${w#@}" != "$w" ]; then
				if [ -z "${macro[${w#@}]+x}" ]; then
					echo "beats-compare: $EXPECT:$lineno: unknown macro $w" >&2
					exit 1
				fi
				read -ra mw <<< "${macro[${w#@}]}"
				words+=("${mw[@]}")
			else
				words+=("$w")
			fi
		done
		cur_args=("${words[@]}")
		continue ;;
	esac
	if [ -z "$cur_pcap" ]; then
		echo "beats-compare: $EXPECT:$lineno: assertion before the first case" >&2
		exit 1
	fi
	[ "$skip_case" -eq 1 ] && continue
	case $line in
	'differs '*)
		exprs+=("${line#differs }")
		xfs+=(1) ;;
	*)
		exprs+=("$line")
		xfs+=(0) ;;
	esac
	srcs+=("$cur_src")
done < "$EXPECT"
[ "$skip_case" -eq 1 ] || run_assertions

echo "beats-compare: $ncases cases, $nasserts assertions, $nknown of them documented differences (differs)"
done_testing
