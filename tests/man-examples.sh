#!/bin/bash
# man-examples.sh - the outputs the manual pages show in their EXAMPLES
# are what their commands print now (tools/man-examples --check; run
# tools/man-examples to rewrite them after a deliberate change).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

if ! command -v jq > /dev/null || ! command -v python3 > /dev/null; then
	echo "man-examples: jq or python3 not installed; skipped"
	exit 77
fi
check "every example output is current" python3 "$top_srcdir/tools/man-examples" --check
done_testing
