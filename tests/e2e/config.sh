#!/bin/bash
# config.sh - the configuration file, -E, ${VAR}, --check-config, and the
# packetbeat.interfaces settings pb-decode honours.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

S=$SAMPLES/http.pcap

# The seed's "PCAP File Analysis" configuration, as a user writes it.
cat > "$t_tmp/pb.yml" <<YML
packetbeat.interfaces.type: pcap
packetbeat.interfaces.file: $S

# Disable real-time processing
packetbeat.interfaces.no_realtime: true

# Process at maximum speed
packetbeat.interfaces.topspeed: true

# Define ports to monitor
packetbeat.protocols.http.ports: [80, 8080]
packetbeat.protocols.mysql.ports: [3306]
YML
"$PB_DECODE" -c "$t_tmp/pb.yml" > "$t_tmp/out" 2> "$t_tmp/err"
check "seed config reads its file" cmp -s "$t_tmp/out" <("$PB_DECODE" -r "$S")
check "seed config draws no warning" test ! -s "$t_tmp/err"
check "--check-config" bash -c "'$PB_DECODE' -c '$t_tmp/pb.yml' --check-config | grep -qx 'Config OK'"

# The seed's minimal configuration (device, flows, protocols, output)
cat > "$t_tmp/min.yml" <<'YML'
packetbeat.interfaces:
  device: any
  snaplen: 1514
  type: pcap
  buffer_size_mb: 100

packetbeat.flows:
  timeout: 30s
  period: 10s

packetbeat.protocols:
  http:
    ports: [80, 8080, 8000, 5000, 8002]
  mysql:
    ports: [3306]
  redis:
    ports: [6379]

output.elasticsearch:
  hosts: ["localhost:9200"]
  username: "elastic"
  password: "changeme"

name: "my-packetbeat"
tags: ["production", "web"]
fields:
  env: production
  dc: us-east-1
fields_under_root: true
logging.level: info
logging.to_files: true
YML
"$PB_DECODE" -c "$t_tmp/min.yml" --check-config > "$t_tmp/out" 2> "$t_tmp/err"
check "seed minimal config checks" grep -qx 'Config OK' "$t_tmp/out"
check "seed minimal config: no warnings" test ! -s "$t_tmp/err"
# the command line wins over the configured device
check "-r overrides the configured device" cmp -s <("$PB_DECODE" -c "$t_tmp/min.yml" -r "$S") <("$PB_DECODE" -r "$S")

# -E overrides the file; ${VAR} and ${VAR:default} expand
check "-E sets the input file" cmp -s <("$PB_DECODE" -E "packetbeat.interfaces.file=$S") <("$PB_DECODE" -r "$S")
check "-E bpf_filter applies" test "$("$PB_DECODE" -E "packetbeat.interfaces.file=$S" -E 'packetbeat.interfaces.bpf_filter=tcp[tcpflags] & tcp-syn != 0' | wc -l)" -eq 4
cat > "$t_tmp/env.yml" <<'YML'
packetbeat.interfaces:
  file: ${PB_TEST_FILE}
  bpf_filter: "${PB_TEST_FILTER:arp}"
YML
check "\${VAR} and \${VAR:default}" test "$(PB_TEST_FILE=$S "$PB_DECODE" -c "$t_tmp/env.yml" | wc -l)" -eq 2
PB_TEST_FILE= "$PB_DECODE" -c "$t_tmp/env.yml" --check-config > /dev/null 2>&1
check "empty variable is accepted" test $? -eq 0
(unset PB_TEST_FILE; "$PB_DECODE" -c "$t_tmp/env.yml" > /dev/null 2> "$t_tmp/err"; echo $? > "$t_tmp/rc")
check "unset variable exits 2" test "$(cat "$t_tmp/rc")" -eq 2
check "unset variable message" grep -q "env.yml:2: packetbeat.interfaces.file: environment variable 'PB_TEST_FILE' is not set" "$t_tmp/err"

# the list form of packetbeat.interfaces
cat > "$t_tmp/list.yml" <<YML
packetbeat.interfaces:
  - file: $S
    snaplen: 65535
YML
check "list-form interfaces" cmp -s <("$PB_DECODE" -c "$t_tmp/list.yml") <("$PB_DECODE" -r "$S")

# errors name file, line and key; exit 2
printf 'packetbeat.interfaces:\n  snaplen: lots\n' > "$t_tmp/bad.yml"
"$PB_DECODE" -c "$t_tmp/bad.yml" -r "$S" > /dev/null 2> "$t_tmp/err"
check "wrong type exits 2" test $? -eq 2
check "wrong type names file:line:key" grep -q "bad.yml:2: packetbeat.interfaces.snaplen: expected an integer" "$t_tmp/err"
printf 'packetbeat.flows:\n  timeout: forever\n' > "$t_tmp/bad2.yml"
"$PB_DECODE" -c "$t_tmp/bad2.yml" --check-config > /dev/null 2> "$t_tmp/err"
check "bad duration exits 2" test $? -eq 2
check "bad duration message" grep -q "bad2.yml:2: packetbeat.flows.timeout: expected a duration" "$t_tmp/err"
printf 'packetbeat.interfaces:\n  snaplen: 1514\n  snaplne: 1\n' > "$t_tmp/typo.yml"
"$PB_DECODE" -c "$t_tmp/typo.yml" --check-config > /dev/null 2> "$t_tmp/err"
check "unknown key is only a warning" test $? -eq 0
check "unknown key warning names line and key" grep -q "typo.yml:3: unknown setting 'packetbeat.interfaces.snaplne'" "$t_tmp/err"
printf 'packetbeat.interfaces:\n  device: [eth0\n' > "$t_tmp/syntax.yml"
"$PB_DECODE" -c "$t_tmp/syntax.yml" --check-config > /dev/null 2> "$t_tmp/err"
check "YAML syntax error exits 2" test $? -eq 2
check "YAML syntax error names the file" grep -q "syntax.yml:" "$t_tmp/err"
"$PB_DECODE" -c "$t_tmp/nonexistent.yml" --check-config > /dev/null 2> "$t_tmp/err"
check "missing config exits 2" test $? -eq 2
check "missing config message" grep -q "cannot open '$t_tmp/nonexistent.yml'" "$t_tmp/err"
"$PB_DECODE" -E 'novalue' --check-config > /dev/null 2>&1
check "-E without = exits 2" test $? -eq 2
printf 'packetbeat.interfaces.bpf_filter: "port port"\n' > "$t_tmp/bpf.yml"
"$PB_DECODE" -c "$t_tmp/bpf.yml" -r "$S" > /dev/null 2> "$t_tmp/err"
check "bad configured filter exits 2" test $? -eq 2
"$PB_DECODE" -c "$t_tmp/bpf.yml" --check-config > /dev/null 2>&1
check "--check-config rejects a bad configured filter" test $? -eq 2
done_testing
