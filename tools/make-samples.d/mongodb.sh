# tools/make-samples.d/mongodb.sh - the mongodb section of tools/make-samples
# (sourced by it; uses its helpers: setup, cap_start, cap_stop, cli, expect)
mongodb_need() { :; }
mongodb_make() { echo "make-samples: mongodb: not written yet" >&2; exit 1; }
mongodb_readme() { :; }
