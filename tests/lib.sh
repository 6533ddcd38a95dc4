# lib.sh - shared helpers for the shell tests (sourced).
# Each test prints "N passed, N failed" at the end and exits non-zero on a
# failure, 77 when it must be skipped.

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
PB_DECODE=${PB_DECODE:-$top_builddir/src/pb-decode}
SAMPLES=$top_srcdir/samples
CORPUS=${PB_CORPUS:-$top_srcdir/../shared/corpus}
export LC_ALL=C TZ=UTC

t_pass=0
t_fail=0
t_tmp=$(mktemp -d "${TMPDIR:-/tmp}/pbtest.XXXXXX")
trap 'rm -rf "$t_tmp"' EXIT

ok() { t_pass=$((t_pass + 1)); }
fail() { t_fail=$((t_fail + 1)); printf 'FAIL: %s\n' "$*" >&2; }

# check NAME COMMAND...: the command must succeed
check() {
	local name=$1
	shift
	if "$@"; then ok; else fail "$name"; fi
}

# expect_rc NAME RC COMMAND...: the command must exit with RC
expect_rc() {
	local name=$1 want=$2 rc
	shift 2
	"$@"
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else fail "$name: exit $rc, want $want"; fi
}

done_testing() {
	printf '%d passed, %d failed\n' "$t_pass" "$t_fail"
	[ "$t_fail" -eq 0 ]
}
