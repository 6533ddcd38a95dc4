#!/bin/bash
# man-lint.sh - every manual page under man/ is clean under
# `mandoc -T lint -W warning` (no output at all), and each tool's page
# documents every option its --help prints.  Skipped without mandoc.
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

# 2. every option each tool's --help prints is in its page, with .Fl
# (the tools: bin_PROGRAMS of Makefile.am)
for tool in $(sed -n 's/^bin_PROGRAMS *+*= *//p' "$top_srcdir"/Makefile.am |
	tr ' ' '\n' | sed -n 's|^src/||p'); do
	page=$top_srcdir/man/man1/$tool.1
	bin=$top_builddir/src/$tool
	help=$t_tmp/help-$tool
	if [ ! -f "$page" ]; then
		fail "man/man1/$tool.1 is missing"
		continue
	elif [ ! -x "$bin" ]; then
		fail "$bin is not built"
		continue
	elif ! "$bin" --help > "$help" 2>&1; then
		fail "$tool --help did not exit 0"
		continue
	fi
	longs=$(grep -oE -- '--[a-z][a-z0-9-]*' "$help" | sort -u)
	# short options: "  -r, --read", "  -o, -w, --output"
	shorts=$(grep -E -- '^ +-[a-zA-Z],' "$help" | sed 's/--.*//' |
		grep -oE -- '-[a-zA-Z]' | tr -d '-' | sort -u)
	[ -n "$longs" ] || fail "no long options found in $tool --help"
	for opt in $longs; do
		name=${opt#--}
		if grep -qE -- "Fl -$name([^a-z0-9-]|\$)" "$page"; then
			ok
		else
			fail "$tool.1 does not document $opt (as .Fl -$name)"
		fi
	done
	for opt in $shorts; do
		if grep -qE -- "Fl $opt([^a-zA-Z0-9-]|\$)" "$page"; then
			ok
		else
			fail "$tool.1 does not document -$opt (as .Fl $opt)"
		fi
	done
done

done_testing
