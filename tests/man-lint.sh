#!/bin/bash
# man-lint.sh - every manual page under man/ is clean under
# `mandoc -T lint -W warning` (no output at all), and pb-decode(1) documents
# every option that `pb-decode --help` prints.  Skipped without mandoc.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

# $MANDOC comes from configure (it is "no" when mandoc was not found)
if [ -z "$MANDOC" ] || [ ! -x "$MANDOC" ]; then
	MANDOC=$(command -v mandoc)
fi
if [ -z "$MANDOC" ] || [ ! -x "$MANDOC" ]; then
	echo "man-lint: mandoc not found; skipped"
	exit 77
fi

pages=$t_tmp/pages
find "$top_srcdir/man" -type f -name '*.[1-9]' | sort > "$pages"
if [ ! -s "$pages" ]; then
	fail "no manual pages under $top_srcdir/man"
fi

# 1. lint: any output at all (warnings, errors, unsupported) is a failure
while IFS= read -r page; do
	out=$("$MANDOC" -T lint -W warning "$page" 2>&1)
	rc=$?
	if [ -n "$out" ] || [ "$rc" -gt 1 ]; then
		fail "mandoc -T lint -W warning ${page#"$top_srcdir"/}:"
		printf '%s\n' "$out" >&2
	else
		ok
	fi
done < "$pages"

# 2. every option in --help is in pb-decode(1), written with .Fl
page=$top_srcdir/man/man1/pb-decode.1
help=$t_tmp/help
if [ ! -f "$page" ]; then
	fail "man/man1/pb-decode.1 is missing"
elif ! "$PB_DECODE" --help > "$help" 2>&1; then
	fail "$PB_DECODE --help did not exit 0"
else
	longs=$(grep -oE -- '--[a-z][a-z0-9-]*' "$help" | sort -u)
	# short options: "  -r, --read", "  -o, -w, --output"
	shorts=$(grep -E -- '^ +-[a-zA-Z],' "$help" | sed 's/--.*//' |
		grep -oE -- '-[a-zA-Z]' | tr -d '-' | sort -u)
	[ -n "$longs" ] || fail "no long options found in pb-decode --help"
	for opt in $longs; do
		name=${opt#--}
		if grep -qE -- "Fl -$name([^a-z0-9-]|\$)" "$page"; then
			ok
		else
			fail "pb-decode.1 does not document $opt (as .Fl -$name)"
		fi
	done
	for opt in $shorts; do
		if grep -qE -- "Fl $opt([^a-zA-Z0-9-]|\$)" "$page"; then
			ok
		else
			fail "pb-decode.1 does not document -$opt (as .Fl $opt)"
		fi
	done
fi

done_testing
