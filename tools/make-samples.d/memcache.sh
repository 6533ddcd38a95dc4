# tools/make-samples.d/memcache.sh - the memcache section of tools/make-samples
# (sourced by it; uses its helpers: setup, cap_start, cap_stop, cli, expect)
memcache_need() { :; }
memcache_make() { echo "make-samples: memcache: not written yet" >&2; exit 1; }
memcache_readme() { :; }
