# tools/make-samples.d/redis.sh - the redis section of tools/make-samples
# (sourced by it; uses its helpers: setup, cap_start, cap_stop, cli, expect)
redis_need() { :; }
redis_make() { echo "make-samples: redis: not written yet" >&2; exit 1; }
redis_readme() { :; }
