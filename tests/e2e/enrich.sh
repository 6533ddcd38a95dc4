#!/bin/bash
# enrich.sh - pb-enrich end to end: events pass through unchanged; every
# processor example of the Packetbeat guide (samples/enrich-*.yml) on the
# seed events; pb-txn/pb-flows -c apply the same processors as a pipe into
# pb-enrich; the command-line shortcuts; GeoIP and ASN on databases built
# by tests/mmdb/make-mmdb; configuration errors; bad and hostile input.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

PB_ENRICH=${PB_ENRICH:-$top_builddir/src/pb-enrich}
PB_TXN=${PB_TXN:-$top_builddir/src/pb-txn}
PB_FLOWS=${PB_FLOWS:-$top_builddir/src/pb-flows}
SEED=$SAMPLES/enrich-seed.ndjson
HTTP=$SAMPLES/enrich-http.ndjson
have_jq=0
# a command whose messages are expected (expect_rc's own must show)
quiet() { "$@" 2> /dev/null; }
command -v jq > /dev/null && have_jq=1

# 1. Without processors, events come out byte for byte as they went in
for s in http-txn.pcap dns-udp.pcap icmp.pcap ipv6.pcap tls13.pcap; do
	"$PB_TXN" --flows -r "$SAMPLES/$s" > "$t_tmp/in" 2> /dev/null
	"$PB_ENRICH" "$t_tmp/in" > "$t_tmp/out"
	check "$s: events unchanged without processors" cmp -s "$t_tmp/in" "$t_tmp/out"
done
"$PB_DECODE" -r "$SAMPLES/http.pcap" > "$t_tmp/pk"
"$PB_ENRICH" < "$t_tmp/pk" > "$t_tmp/pk.out"
check "packet records unchanged, from standard input" cmp -s "$t_tmp/pk" "$t_tmp/pk.out"
gzip -c "$t_tmp/pk" > "$t_tmp/pk.gz"
"$PB_ENRICH" "$t_tmp/pk.gz" -o "$t_tmp/pk.out2"
check "gzip input, -o output" cmp -s "$t_tmp/pk" "$t_tmp/pk.out2"
"$PB_ENRICH" "$HTTP" "$SEED" > "$t_tmp/two"
check "two inputs in order" test "$(wc -l < "$t_tmp/two")" -eq $(($(wc -l < "$HTTP") + $(wc -l < "$SEED")))

# 2. The databases for GeoIP and ASN
geo=0
if perl "$top_srcdir/tests/mmdb/make-mmdb" "$t_tmp" 2> "$t_tmp/mmdb.err"; then
	geo=1
	export PB_GEOIP_CITY=$t_tmp/pb-test-city.mmdb PB_GEOIP_ASN=$t_tmp/pb-test-asn.mmdb
else
	echo "enrich: tests/mmdb/make-mmdb failed (MaxMind::DB::Writer missing?); GeoIP checks skipped"
fi

# 3. Every configuration loads
for y in "$SAMPLES"/enrich-*.yml; do
	n=$(basename "$y")
	[ "$n" = enrich-geoip.yml ] && [ $geo = 0 ] && continue
	out=$("$PB_ENRICH" -c "$y" --check-config 2>&1)
	check "$n: --check-config" test "$out" = "Config OK"
	# the dns example asks the system's resolver: run below against ours
	[ "$n" = enrich-dns.yml ] && continue
	"$PB_ENRICH" -c "$y" "$SEED" > "$t_tmp/$n.1"
	check "$n: runs (exit 0)" test $? -eq 0
	"$PB_ENRICH" -c "$y" "$SEED" > "$t_tmp/$n.2"
	check "$n: two runs give the same bytes" cmp -s "$t_tmp/$n.1" "$t_tmp/$n.2"
done

# 4. The guide's examples do what it says
if [ $have_jq = 1 ]; then
	q() { "$PB_ENRICH" -c "$SAMPLES/$1" "${3:-$SEED}" | jq -c "$2" | tr '\n' ' '; }
	check "troubleshooting: high_latency over 500000 us" test \
		"$(q enrich-troubleshooting.yml 'select(.tags|index("high_latency")) | .http.response.time_us')" \
		= "750000 1500000 1000001 "
	check "troubleshooting: very_high_latency over 1000000 us" test \
		"$(q enrich-troubleshooting.yml 'select(.tags|index("very_high_latency")) | .http.response.time_us')" \
		= "1500000 1000001 "
	check "troubleshooting: use_case on every event" test \
		"$(q enrich-troubleshooting.yml '.use_case' | tr ' ' '\n' | sort -u | tr '\n' ' ')" \
		= '"troubleshooting" '
	check "security: the user-agent regexp tags curl, sqlmap, wget, nikto" test \
		"$(q enrich-security.yml 'select(.tags) | [.http.request.headers["user-agent"], .tags[0]]')" \
		= '["curl/8.5.0","suspicious_useragent"] ["sqlmap/1.7","suspicious_useragent"] ["wget/1.21","suspicious_useragent"] ["nikto/2.5","suspicious_useragent"] '
	check "security: directions" test \
		"$(q enrich-security.yml '.network.direction')" \
		= '"inbound" "inbound" "internal" "internal" "inbound" "external" "inbound" "internal" "internal" '
	check "apm: OPTIONS and /health dropped" test \
		"$(q enrich-apm.yml '[.http.request.method, .http.request.uri, .use_case]' | grep -c -e OPTIONS -e /health)" -eq 0
	check "apm: the others kept" test "$("$PB_ENRICH" -c "$SAMPLES/enrich-apm.yml" "$SEED" | wc -l)" -eq 7
	check "api: only /api/ kept, tagged by version" test \
		"$(q enrich-api.yml '[.http.request.uri, .tags]')" \
		= '["/api/v1/users",["api_v1"]] ["/api/v2/items",["api_v2"]] ["/api/v1/users",["api_v1"]] ["/api/v1/login",["api_v1"]] ["/api/v1/status",["api_v1"]] '
	check "if: 4xx and 500 are http_error with alert_level, the rest success" test \
		"$(q enrich-conditional.yml '[.http.response.status_code, .tags, .alert_level]' "$HTTP" | tr ' ' '\n' | sort | uniq -c | tr -s ' ' | tr '\n' ';')" \
		= ' 9 [200,["success"],null]; 1 [304,["success"],null]; 1 [404,["http_error"],"warning"]; 8 [null,["success"],null];'
	check "if: 500 is an error, 503 is not (neither 500 nor 400-499)" test \
		"$(q enrich-conditional.yml 'select(.http.response.status_code >= 500) | [.http.response.status_code, .tags[0]]')" \
		= '[503,"success"] [500,"http_error"] '
	check "database: the FOR UPDATE query dropped, the other kept" test \
		"$(q enrich-database.yml 'select(.type == "mysql") | [.mysql.query, .use_case]')" \
		= '[null,"database_monitoring"] ["SELECT 1","database_monitoring"] '
	check "common: fields added, direction, rename skipped (client.ip exists)" test \
		"$(q enrich-common.yml '[.environment, .datacenter, .network.direction, .source.ip == .client.ip, .error]' | cut -d' ' -f1)" \
		= '["production","us-east-1","inbound",true,null]'
	check "packet: internal dropped, bodies cut to 1024 bytes on a character, Community ID" test \
		"$(q enrich-packet.yml '[.network.direction, (.http.request.body.content | utf8bytelength), .log.flags[0], (.network.community_id | length)]' | tr ' ' '\n' | sort -u | tr '\n' ' ')" \
		= '["external",1023,"truncated",30] ["inbound",1023,"truncated",30] '
	if [ $geo = 1 ]; then
		check "geoip: source and destination places and AS" test \
			"$(q enrich-geoip.yml 'select(.source.geo or .destination.geo) | [.source.geo.city_name, .source.geo.country_iso_code, .source.as.number, .destination.geo.city_name, .destination.as.organization.name]')" \
			= '["London","GB",20712,null,null] ["Milton","US",209,null,null] [null,"AU",null,null,null] ["Tokyo","JP",64496,null,null] '
		check "geoip: location and region" test \
			"$(q enrich-geoip.yml 'select(.source.geo.city_name == "London") | .source.geo | [.location.lat, .location.lon, .region_iso_code, .timezone]')" \
			= '[51.5142,-0.0931,"GB-ENG","Europe/London"] '
		"$PB_ENRICH" --geoip "$PB_GEOIP_CITY" --asn "$PB_GEOIP_ASN" "$SEED" > "$t_tmp/short"
		"$PB_ENRICH" -c "$SAMPLES/enrich-geoip.yml" "$SEED" > "$t_tmp/long"
		check "--geoip and --asn = the guide's four processors" cmp -s "$t_tmp/short" "$t_tmp/long"
	fi
	# shortcuts
	check "--internal-networks, --community-id, --add-field, --drop-field" test \
		"$("$PB_ENRICH" --internal-networks 'private, loopback' --community-id --add-field site=lab \
			--add-field n.x=3 --add-field b=true --drop-field user_agent "$SEED" | head -n 1 |
			jq -c '[.network.direction, .network.community_id, .site, .n.x, .b, .user_agent]')" \
		= '["inbound","1:joeRvQlTCnwZgEMJTiTwTUekKaQ=","lab",3,true,null]'
	check "--community-id gives pb-txn's ids" test \
		"$("$PB_ENRICH" --drop-field network.community_id --community-id "$HTTP" | jq -r .network.community_id | sort | uniq -c | tr -s ' ')" \
		= "$(jq -r .network.community_id "$HTTP" | sort | uniq -c | tr -s ' ')"
	# per-type sections of the configuration
	cat > "$t_tmp/types.yml" << 'YML'
fields: {site: lab}
fields_under_root: true
packetbeat.flows:
  tags: [flow]
  processors:
    - include_fields: {fields: [source.ip, destination.ip]}
packetbeat.protocols:
  http:
    tags: [web]
    processors:
      - drop_event.when.equals.http.response.status_code: 304
processors:
  - add_tag: {tags: all}
YML
	check "per-protocol and flows processors, fields and tags" test \
		"$("$PB_ENRICH" -c "$t_tmp/types.yml" "$HTTP" | jq -c '[.type, .tags, .site, (keys | length)]' | sort | uniq -c | tr -s ' ' | tr '\n' ';')" \
		= ' 8 ["flow",["all"],null,5]; 10 ["http",["web","all"],"lab",19];'
else
	echo "enrich: jq not installed; event checks skipped"
fi

# 4b. The dns processor against a resolver of our own on loopback, and
# add_host_metadata
if [ $have_jq = 1 ] && command -v python3 > /dev/null; then
	python3 "$top_srcdir/tests/dns/fake-dns.py" "$t_tmp/dns.port" "$t_tmp/dns.log" &
	dns_pid=$!
	for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$t_tmp/dns.port" ] && break; sleep 0.2; done
	ns="[\"127.0.0.1:$(cat "$t_tmp/dns.port")\"]"
	"$PB_ENRICH" -c "$SAMPLES/enrich-dns.yml" -E "processors.0.dns.nameservers=$ns" \
		-E "processors.1.dns.nameservers=$ns" "$SEED" > "$t_tmp/dns.out"
	check "dns: the guide's reverse lookups" test \
		"$(jq -c 'select(.source.domain) | [.source.ip, .source.domain]' "$t_tmp/dns.out" | tr '\n' ' ')" \
		= '["81.2.69.7","host-a.example"] ["10.1.2.3",["a.example","b.example"]] ["10.1.2.3",["a.example","b.example"]] ["2001:db8:101::1","v6host.example"] '
	check "dns: an answer is asked once (success cache)" \
		test "$(grep -c '^12 3.2.1.10.in-addr.arpa$' "$t_tmp/dns.log")" -eq 1
	check "dns: a failure is asked once (failure cache)" \
		test "$(grep -c '^12 2.0.99.10.in-addr.arpa$' "$t_tmp/dns.log")" -eq 1
	cat > "$t_tmp/fwd.yml" << YML
processors:
  - dns:
      type: forward
      fields: {url.domain: url.ip}
      action: replace
      nameservers: $ns
      timeout: 100ms
      tag_on_failure: [_dns_failed]
YML
	printf '%s\n' '{"url":{"domain":"www.example","ip":"x"}}' '{"url":{"domain":"slow.example"}}' \
		'{"url":{"domain":"nosuch.example"}}' '{"url":{}}' > "$t_tmp/fwd.in"
	check "dns: forward (A and AAAA), replace, timeout and NXDOMAIN tagged" test \
		"$("$PB_ENRICH" -c "$t_tmp/fwd.yml" "$t_tmp/fwd.in" | tr '\n' ' ')" \
		= '{"url":{"domain":"www.example","ip":["192.0.2.1","2001:db8::1"]}} {"url":{"domain":"slow.example"},"tags":["_dns_failed"]} {"url":{"domain":"nosuch.example"},"tags":["_dns_failed"]} {"url":{},"tags":["_dns_failed"]} '
	kill "$dns_pid" 2> /dev/null
	wait "$dns_pid" 2> /dev/null
else
	echo "enrich: python3 or jq not installed; dns checks skipped"
fi
if [ $have_jq = 1 ]; then
	check "add_host_metadata: this host, with the guide's geo" test \
		"$("$PB_ENRICH" -c "$SAMPLES/enrich-host.yml" "$SEED" | head -n 1 |
			jq -c '[.host.name == .host.hostname, .host.os.type, (.host.architecture | length > 0), .host.geo]')" \
		= '[true,"linux",true,{"name":"nyc-dc-1","location":{"lat":40.7128,"lon":-74.006},"continent_name":"North America","country_iso_code":"US"}]'
	check "add_host_metadata: host name as gethostname says" test \
		"$("$PB_ENRICH" -c "$SAMPLES/enrich-host.yml" "$SEED" | head -n 1 | jq -r .host.name)" = "$(hostname)"
fi

# 5. pb-txn and pb-flows -c apply the processors as pb-enrich does (with
# configurations that change nothing else in them: no ports, no periods)
for y in enrich-common.yml enrich-conditional.yml enrich-packet.yml "$t_tmp/types.yml"; do
	case $y in /*) ;; *) y=$SAMPLES/$y ;; esac
	[ -f "$y" ] || continue
	n=$(basename "$y")
	"$PB_TXN" --flows -r "$SAMPLES/http-txn.pcap" | "$PB_ENRICH" -c "$y" > "$t_tmp/pipe"
	"$PB_TXN" --flows -c "$y" -r "$SAMPLES/http-txn.pcap" > "$t_tmp/direct"
	check "$n: pb-txn -c = pb-txn | pb-enrich -c" cmp -s "$t_tmp/pipe" "$t_tmp/direct"
	"$PB_FLOWS" -r "$SAMPLES/http.pcap" | "$PB_ENRICH" -c "$y" > "$t_tmp/pipe"
	"$PB_FLOWS" -c "$y" -r "$SAMPLES/http.pcap" > "$t_tmp/direct"
	check "$n: pb-flows -c = pb-flows | pb-enrich -c" cmp -s "$t_tmp/pipe" "$t_tmp/direct"
done
"$PB_TXN" -c "$SAMPLES/enrich-packet.yml" -r "$SAMPLES/http-txn.pcap" --stats > "$t_tmp/d" 2> "$t_tmp/d.err"
check "pb-txn: dropped events are not counted as written" grep -q 'records written    0' "$t_tmp/d.err"
printf 'processors: [{nope: {}}]\n' > "$t_tmp/nope.yml"
expect_rc "pb-txn: a bad processor is a configuration error" 2 \
	quiet "$PB_TXN" -c "$t_tmp/nope.yml" -r "$SAMPLES/http.pcap"

# 6. Configuration errors: exit 2, file, line and key named
bad() {
	local name=$1 want=$2
	printf '%s\n' "$3" > "$t_tmp/bad.yml"
	"$PB_ENRICH" -c "$t_tmp/bad.yml" "$SEED" > /dev/null 2> "$t_tmp/bad.err"
	local rc=$?
	if [ $rc -eq 2 ] && grep -qF -- "$want" "$t_tmp/bad.err"; then ok; else
		fail "$name: exit $rc, $(cat "$t_tmp/bad.err")"; fi
}
bad "unknown processor" "bad.yml:2: processors.0.add_tagz: unknown processor 'add_tagz'" \
	$'processors:\n  - add_tagz: {tags: [x]}'
bad "unsupported processor" "processor 'add_kubernetes_metadata' is not supported by pbtools" \
	$'processors:\n  - add_kubernetes_metadata: {}'
bad "unknown option" "bad.yml:4: processors.0.add_tag: unknown option 'tag' of add_tag" \
	$'processors:\n  - add_tag:\n      tags: [x]\n      tag: y'
bad "unknown condition" "bad.yml:5: processors.0.drop_event.when: unknown condition 'equal'" \
	$'processors:\n  - drop_event:\n      when:\n        not:\n          equal: {a: 1}'
bad "bad regexp" "bad.yml:4: processors.0.drop_event.when: http.request.uri: bad regular expression" \
	$'processors:\n  - drop_event:\n      when:\n        regexp: {http.request.uri: "^/api/(.*"}'
bad "bad range" "range takes gt, gte, lt or lte" \
	$'processors:\n  - drop_event:\n      when:\n        range: {a: {above: 3}}'
bad "bad network" "'10.0.0.0/40' is not a CIDR or a named network" \
	$'processors:\n  - add_network_direction:\n      internal_networks: ["10.0.0.0/40"]'
bad "missing database" "database_file: cannot open '/nonexistent/x.mmdb'" \
	$'processors:\n  - add_geoip: {field: source.ip, database_file: /nonexistent/x.mmdb}'
bad "per-protocol processors are checked" "packetbeat.protocols.http.processors.0.nope: unknown processor" \
	$'packetbeat.protocols:\n  http:\n    processors:\n      - nope: {}'
bad "processors not a list" "processors: not a list of processors" $'processors: 3'
expect_rc "-E overrides are checked too" 2 quiet "$PB_ENRICH" -E 'processors=[{drop_evnt: {}}]' "$SEED"
expect_rc "--geoip with a missing file" 2 quiet "$PB_ENRICH" --geoip /nonexistent.mmdb "$SEED"
expect_rc "--add-field without =" 2 quiet "$PB_ENRICH" --add-field novalue "$SEED"
expect_rc "--internal-networks with a bad network" 2 quiet "$PB_ENRICH" --internal-networks 10.0.0.0/99 "$SEED"
expect_rc "a missing input" 1 quiet "$PB_ENRICH" "$t_tmp/nonexistent"

# 7. Bad and hostile input: reported with the line number, skipped, exit 1
{
	head -n 1 "$SEED"
	echo 'not json'
	echo '[1,2,3]'
	echo
	echo '{"truncated":'
	python3 -c 'print("[" * 100000 + "]" * 100000)' 2> /dev/null || echo '[[[['
	python3 -c 'print("{\"big\":\"" + "x" * 5000000 + "\"}")' 2> /dev/null || echo '{"big":"x"}'
	tail -n 1 "$SEED"
} > "$t_tmp/mixed"
"$PB_ENRICH" --community-id "$t_tmp/mixed" > "$t_tmp/mixed.out" 2> "$t_tmp/mixed.err"
check "bad lines: exit 1" test $? -eq 1
check "bad lines: the good events written" test "$(wc -l < "$t_tmp/mixed.out")" -eq 3
check "bad lines: line 2 named" grep -q "mixed: line 2: " "$t_tmp/mixed.err"
check "bad lines: line 3 (not an object) named" grep -q "mixed: line 3: not a JSON object" "$t_tmp/mixed.err"
check "bad lines: line 5 named" grep -q "mixed: line 5: " "$t_tmp/mixed.err"
check "deep nesting: reported, no crash" grep -q "mixed: line 6: " "$t_tmp/mixed.err"
"$PB_ENRICH" --strict "$t_tmp/mixed" > "$t_tmp/strict.out" 2> /dev/null
check "--strict: exit 1" test $? -eq 1
check "--strict: stops at line 2" test "$(wc -l < "$t_tmp/strict.out")" -eq 1
"$PB_ENRICH" --stats "$t_tmp/mixed" > /dev/null 2> "$t_tmp/stats"
check "--stats: lines and events" grep -q "lines read 8, events 3, bad lines skipped 4" "$t_tmp/stats"

# 8. The manual page's options are the tool's
"$PB_ENRICH" --help > "$t_tmp/help"
check "--help exits 0" test $? -eq 0
for o in geoip asn community-id internal-networks add-field drop-field strict; do
	check "--help lists --$o" grep -q -- "--$o" "$t_tmp/help"
done

done_testing
