# tools/make-samples.d/pgsql.sh - the pgsql section of tools/make-samples
# (sourced by it; uses its helpers: setup, cap_start, cap_stop, cli, expect)
pgsql_need() { :; }
pgsql_make() { echo "make-samples: pgsql: not written yet" >&2; exit 1; }
pgsql_readme() { :; }
