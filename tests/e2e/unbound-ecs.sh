#!/usr/bin/env bash
# EDNS Client Subnet through a real resolver: unbound (subnetcache module) in front of dynadns.
#   DYNADNS=target/release/dynadns tests/e2e/unbound-ecs.sh
# dynadns serves example.com with a static name and a DYNA name routed by a geo map
# (127.0.1.0/24 -> datacenter b, everything else -> a). unbound, started here on a high loopback
# port with its own configuration (the system service is never used), sends ECS (/24) to
# dynadns. Clients are loopback source addresses (dig -b):
# 0. asked directly, dynadns returns ECS scope /24 for the DYNA name and 0 for the static one;
# 1. 127.0.0.2 and 127.0.1.2 (two /24s) get different datacenters through unbound;
# 2. 127.0.0.3 (the first client's /24) gets the cached answer: no query reaches dynadns
#    (its dynadns_queries_total counter does not move);
# 3. a static name (ECS scope 0) is cached once for everyone: asked from 127.0.0.2 then from
#    127.0.1.2, it reaches dynadns once.
# Every wait is bounded; any failure prints both logs. Needs unbound with the subnetcache module.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${DYNADNS:-target/release/dynadns}
PORT=${PORT:-15390} ADMIN_PORT=${ADMIN_PORT:-15391} UNBOUND_PORT=${UNBOUND_PORT:-15392}
work=$(mktemp -d)
server="" resolver=""
cleanup() {
    for p in $resolver $server; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
passed=0 failed=0
logs() {
    echo "---- dynadns log"
    cat "$work/server.log" 2>/dev/null || true
    echo "---- unbound log"
    cat "$work/unbound.log" 2>/dev/null || true
}
die() {
    echo "FAIL $*"
    logs
    exit 1
}
ok() { printf 'ok   %s\n' "$1"; passed=$((passed + 1)); }
fail() { printf 'FAIL %s: %s\n' "$1" "$2"; failed=$((failed + 1)); }

command -v unbound > /dev/null || die "unbound is not installed (apt-get install unbound)"
command -v dig > /dev/null || die "dig is not installed"
if ! unbound -V 2>&1 | grep -q 'Linked modules:.*subnetcache'; then
    die "this unbound build lacks the subnetcache module (ECS): $(unbound -V 2>&1 | grep 'Linked modules')"
fi

mkdir -p "$work/zones"
cat > "$work/dynadns.yaml" << YAML
listen:
  dns: ["127.0.0.1:$PORT"]
  admin: "127.0.0.1:$ADMIN_PORT"
zones: zones/
health: { state_file: "" }
datacenters: { a: {}, b: {} }
checks:
  up: { type: always_up }
geo_maps:
  m:
    default: [a, b]
    networks: { "127.0.1.0/24": [b, a] }
resources:
  www:
    ttl: 300
    check: up
    pools:
      a: [192.0.2.1]
      b: [198.51.100.1]
    route: { geo: m }
YAML
cat > "$work/zones/example.com.yaml" << YAML
zone: example.com
ttl: 300
soa: { primary: ns1, contact: hostmaster, serial: 1 }
records:
  "@": { NS: ns1 }
  ns1: { A: 192.0.2.53 }
  static: { A: 192.0.2.80 }
  www: { DYNA: www }
YAML
cat > "$work/unbound.conf" << CONF
server:
    verbosity: 1
    interface: 127.0.0.1
    port: $UNBOUND_PORT
    do-ip6: no
    do-tcp: yes
    num-threads: 1
    so-reuseport: no
    access-control: 127.0.0.0/8 allow
    username: ""
    chroot: ""
    directory: "$work"
    pidfile: "$work/unbound.pid"
    logfile: ""
    use-syslog: no
    do-not-query-localhost: no
    qname-minimisation: no
    prefetch: no
    module-config: "subnetcache iterator"
    send-client-subnet: 127.0.0.1
    client-subnet-always-forward: yes
    max-client-subnet-ipv4: 24
    max-client-subnet-ipv6: 56
stub-zone:
    name: "example.com"
    stub-addr: 127.0.0.1@$PORT
remote-control:
    control-enable: no
CONF

"$bin" serve -c "$work/dynadns.yaml" 2> "$work/server.log" &
server=$!
for _ in $(seq 100); do grep -q "ready:" "$work/server.log" && break; sleep 0.05; done
grep -q "ready:" "$work/server.log" || die "dynadns did not start within 5 s"

unbound-checkconf "$work/unbound.conf" > "$work/checkconf.log" 2>&1 ||
    die "unbound-checkconf: $(cat "$work/checkconf.log")"
unbound -d -c "$work/unbound.conf" > "$work/unbound.log" 2>&1 &
resolver=$!
ready=""
for _ in $(seq 100); do
    kill -0 "$resolver" 2>/dev/null || die "unbound exited at start"
    if dig +time=1 +tries=1 @127.0.0.1 -p "$UNBOUND_PORT" version.server CH TXT > /dev/null 2>&1; then
        ready=1
        break
    fi
    sleep 0.05
done
[[ -n $ready ]] || die "unbound did not answer within 5 s"

# queries: dynadns's count of DNS messages received (UDP and TCP), from /metrics.
queries() {
    python3 - "http://127.0.0.1:$ADMIN_PORT/metrics" << 'PY'
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=3).read().decode()
counts = [int(float(l.rsplit(" ", 1)[1])) for l in text.splitlines()
          if l.startswith("dynadns_queries_total{")]
if not counts:
    sys.exit("no dynadns_queries_total in /metrics")
print(sum(counts))
PY
}
# settled: the query count once it has not moved for 0.5 s (unbound may finish background work).
settled() {
    local last now
    last=$(queries) || return 1
    for _ in $(seq 20); do
        sleep 0.5
        now=$(queries) || return 1
        [[ $now == "$last" ]] && { echo "$now"; return 0; }
        last=$now
    done
    echo "query count still moving after 10 s" >&2
    return 1
}
# ask SOURCE NAME: the A answer through unbound for a client at SOURCE.
ask() {
    { dig -b "$1" +short +time=3 +tries=1 @127.0.0.1 -p "$UNBOUND_PORT" "$2" A || true; } | head -1
}

# 0. The scopes dynadns returns (asked directly): /24 for the DYNA name in a /24 the map
#    decides, 0 for the static name.
scope() {
    { dig +time=2 +tries=1 +norec +subnet="$1" @127.0.0.1 -p "$PORT" "$2" A || true; } |
        sed -n 's/.*CLIENT-SUBNET: \([^ ]*\).*/\1/p' | head -1
}
sc=$(scope 127.0.0.0/24 www.example.com)
[[ $sc == 127.0.0.0/24/24 ]] && ok "dynadns: www for 127.0.0.0/24 has scope /24" ||
    fail "www scope" "got '$sc', want 127.0.0.0/24/24"
sc=$(scope 127.0.0.0/24 static.example.com)
[[ $sc == 127.0.0.0/24/0 ]] && ok "dynadns: static name has scope 0" ||
    fail "static scope" "got '$sc', want 127.0.0.0/24/0"

# 1. Two /24s, two datacenters.
before=$(settled) || die "cannot read the query count from dynadns /metrics"
a=$(ask 127.0.0.2 www.example.com)
[[ $a == 192.0.2.1 ]] && ok "client 127.0.0.2 gets datacenter a (192.0.2.1)" ||
    fail "client 127.0.0.2" "got '$a', want 192.0.2.1"
b=$(ask 127.0.1.2 www.example.com)
[[ $b == 198.51.100.1 ]] && ok "client 127.0.1.2 gets datacenter b (198.51.100.1)" ||
    fail "client 127.0.1.2" "got '$b', want 198.51.100.1"
after=$(settled) || die "cannot read the query count from dynadns /metrics"
((after > before)) && ok "both reached dynadns ($((after - before)) queries)" ||
    fail "upstream queries" "dynadns saw no query ($before -> $after)"

# 2. Same /24 as the first client: answered from unbound's cache for 127.0.0.0/24.
before=$(settled) || die "cannot read the query count from dynadns /metrics"
c=$(ask 127.0.0.3 www.example.com)
after=$(settled) || die "cannot read the query count from dynadns /metrics"
[[ $c == 192.0.2.1 ]] && ok "client 127.0.0.3 gets datacenter a" ||
    fail "client 127.0.0.3" "got '$c', want 192.0.2.1"
((after == before)) && ok "127.0.0.3 answered from unbound's cache (scope /24): no query reached dynadns" ||
    fail "ECS cache" "dynadns saw $((after - before)) queries for a client in a cached /24"
# A third /24, named by no rule, gets the default order.
b=$(ask 127.1.0.2 www.example.com)
[[ $b == 192.0.2.1 ]] && ok "client 127.1.0.2 (no rule) gets datacenter a" ||
    fail "client 127.1.0.2" "got '$b', want 192.0.2.1"

# 3. A static name: scope 0, cached once for every client.
before=$(settled) || die "cannot read the query count from dynadns /metrics"
s1=$(ask 127.0.0.2 static.example.com)
mid=$(settled) || die "cannot read the query count from dynadns /metrics"
s2=$(ask 127.0.1.2 static.example.com)
after=$(settled) || die "cannot read the query count from dynadns /metrics"
[[ $s1 == 192.0.2.80 && $s2 == 192.0.2.80 ]] && ok "static name answered for both clients" ||
    fail "static name" "got '$s1' and '$s2', want 192.0.2.80"
((mid > before)) && ok "first static query reached dynadns" ||
    fail "static upstream" "dynadns saw no query for the first static lookup"
((after == mid)) && ok "static name cached for everyone (scope 0): the second /24 caused no query" ||
    fail "scope 0 cache" "dynadns saw $((after - mid)) queries for the second client"

printf '\n%d passed, %d failed\n' "$passed" "$failed"
if ((failed > 0)); then
    logs
    exit 1
fi
