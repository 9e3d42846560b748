#!/usr/bin/env bash
# Instructions per query (callgrind) of geo-routed DYNA answers against a static answer, on one
# server: counters are zeroed, N queries of one kind are sent with dnsperf, counters dumped.
# Scenarios: static (EDNS), static with an ECS option, geo DYNA with ECS (database country
# match, among PREFIXES operator prefixes), geo DYNA with ECS inside an operator prefix, geo
# DYNA without ECS (routed by the source address), and a plain DYNA with `route: order`.
#   N=20000 PREFIXES=100000 benches/geo-callgrind.sh
# Needs valgrind and dnsperf; uses ../shared/geoip/GeoIP2-City-Test.mmdb.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
N=${N:-20000} PREFIXES=${PREFIXES:-100000} PORT=${PORT:-15392}
bin=${DYNADNS:-target/release/dynadns}
db=$root/../shared/geoip/GeoIP2-City-Test.mmdb
[[ -f $db ]] || { echo "missing $db" >&2; exit 1; }
work=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; [[ -n ${KEEP:-} ]] && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/zones"

python3 - "$work" "$PREFIXES" <<'PY'
import ipaddress, random, sys
work, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
seen = set()
with open(f"{work}/nets.txt", "w") as f:
    f.write("198.51.100.0/24 b\n")
    while len(seen) < n:
        ln = rng.randint(16, 24)
        net = ipaddress.IPv4Network((rng.getrandbits(32) >> (32 - ln) << (32 - ln), ln))
        if net in seen or net.overlaps(ipaddress.IPv4Network("89.160.0.0/16")) \
                or net.overlaps(ipaddress.IPv4Network("198.51.100.0/24")):
            continue
        seen.add(net)
        f.write(f"{net} {rng.choice('abc')}\n")
PY
cat > "$work/dynadns.yaml" <<YAML
listen: { dns: ["127.0.0.1:$PORT"] }
zones: zones/
health: { state_file: "" }
server: { udp_workers: 1 }
limits: { rrl: { rate: 0 } }   # one dnsperf source: no rate limiting
geoip: { database: "$db" }
datacenters:
  a: { location: [51.5, -0.1] }
  b: { location: [59.3, 18.1] }
  c: { location: [35.7, 139.7] }
geo_maps:
  world:
    default: [a, b, c]
    countries: { SE: [c, b], GB: [b] }
    networks_files: [nets.txt]
    nearest: true
resources:
  geo:
    ttl: 30
    route: { geo: world }
    pools: { a: [192.0.2.1, 192.0.2.2], b: [192.0.2.3, 192.0.2.4], c: [192.0.2.5, 192.0.2.6] }
  fixed:
    ttl: 30
    route: { order: [a, b, c] }
    pools: { a: [192.0.2.1, 192.0.2.2], b: [192.0.2.3, 192.0.2.4], c: [192.0.2.5, 192.0.2.6] }
YAML
cat > "$work/zones/example.com.yaml" <<'YAML'
zone: example.com
ttl: 3600
soa: { primary: ns1, contact: hostmaster, serial: 1, refresh: 3600, retry: 900, expire: 1209600, negative_ttl: 300 }
records:
  "@": { NS: [ns1] }
  ns1: { A: 192.0.2.53 }
  www: { A: 192.0.2.10 }
  geo: { DYNA: geo }
  fixed: { DYNA: fixed }
YAML
echo "www.example.com A" > "$work/static.txt"
echo "geo.example.com A" > "$work/geo.txt"
echo "fixed.example.com A" > "$work/fixed.txt"
# ECS options (RFC 7871 wire form, hex): family 1, source /24, scope 0, address bytes.
ecs_se=8:0001190059a01480 # 89.160.20.128/25: database says SE (Linköping)
ecs_op=8:00011800c63364   # 198.51.100.0/24: operator prefix

"$bin" check -c "$work/dynadns.yaml" >/dev/null
valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "$bin" serve -c "$work/dynadns.yaml" \
    2>"$work/serve.log" &
pid=$!
for _ in $(seq 1 300); do
    dig +time=1 +tries=1 +short @127.0.0.1 -p "$PORT" www.example.com A 2>/dev/null | grep -q 192.0.2.10 && break
    sleep 0.5
done
# The scenarios' answers, as a shape check.
dig +short +subnet=89.160.20.128/25 @127.0.0.1 -p "$PORT" geo.example.com A | sort | tr '\n' ' '
echo "<- geo with ECS 89.160.20.128/25 (SE: c first)"
dig +short +subnet=198.51.100.0/24 @127.0.0.1 -p "$PORT" geo.example.com A | sort | tr '\n' ' '
echo "<- geo with ECS 198.51.100.0/24 (operator prefix: b)"

measure() { # NAME QUERYFILE DNSPERF-FLAGS...
    local name=$1 qf=$2 f before ir
    shift 2
    dnsperf -s 127.0.0.1 -p "$PORT" -d "$qf" -n 200 "$@" >/dev/null # warm-up
    callgrind_control --zero "$pid" >/dev/null
    dnsperf -s 127.0.0.1 -p "$PORT" -d "$qf" -n "$N" -q 20 "$@" > "$work/perf.txt"
    grep -q "Queries completed: *$N " "$work/perf.txt" ||
        { echo "$name: not every query was answered"; cat "$work/perf.txt"; exit 1; }
    before=$(ls "$work"/cg.* | wc -l)
    callgrind_control --dump="$name" "$pid" >/dev/null
    for _ in $(seq 1 50); do [[ $(ls "$work"/cg.* | wc -l) -gt $before ]] && break; sleep 0.1; done
    f=$(ls -t "$work"/cg.* | head -1)
    ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$f")
    printf '%-22s %8d Ir/query\n' "$name" $((ir / N))
}
measure static "$work/static.txt" -e
measure static+ecs "$work/static.txt" -E "$ecs_se"
measure order "$work/fixed.txt" -e
measure geo+ecs-country "$work/geo.txt" -E "$ecs_se"
measure geo+ecs-operator "$work/geo.txt" -E "$ecs_op"
measure geo-no-ecs "$work/geo.txt" -e
