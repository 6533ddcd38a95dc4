# tools/make-samples.d/cassandra.sh - the cassandra section of tools/make-samples
# (sourced by it; uses its helpers: setup, cap_start, cap_stop, cli, expect)
cassandra_need() { :; }
cassandra_make() { echo "make-samples: cassandra: not written yet" >&2; exit 1; }
cassandra_readme() { :; }
