# tools/make-samples.d/mysql.sh - the mysql section of tools/make-samples
# (sourced by it; uses its helpers: setup, cap_start, cap_stop, cli, expect)
mysql_need() { :; }
mysql_make() { echo "make-samples: mysql: not written yet" >&2; exit 1; }
mysql_readme() { :; }
