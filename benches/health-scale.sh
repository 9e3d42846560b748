#!/usr/bin/env bash
# Health-probe scale check: N members (127.0.x.y, loopback only) probed with a tcp check.
#  1. healthy: every probe connects; measures dynadns CPU for MEASURE seconds (probe cost).
#  2. the backend stops accepting (its backlog fills, connects hang): measures the time until
#     every member is DOWN, against the detection window k x interval + timeout.
#   N=1000 INTERVAL=1s TIMEOUT=1s DOWN=3/5 TYPE=tcp|http benches/health-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000} INTERVAL=${INTERVAL:-1s} TIMEOUT=${TIMEOUT:-1s} DOWN=${DOWN:-3/5} TYPE=${TYPE:-tcp}
MEASURE=${MEASURE:-20} PORT=${PORT:-18099} DNS_PORT=${DNS_PORT:-15390} ADMIN=${ADMIN:-127.0.0.1:18098}
bin=${DYNADNS:-target/release/dynadns}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/zones" "$work/pools"
python3 -c "
n=$N
for i in range(n):
    print(f'127.{10 + i // 250}.{(i % 250) // 250}.{i % 250 + 1}')" > "$work/pools/m.txt"
# path and expect_body apply only to http checks (a tcp check with them is a config error).
HTTP_KEYS=""
[[ "$TYPE" == http ]] && HTTP_KEYS=' path: /healthz, expect_body: "OK",'
cat > "$work/dynadns.yaml" <<YAML
listen: { admin: "$ADMIN" }
zones: zones/
health: { state_file: "" }
datacenters: { dc: {} }
checks:
  t: { type: $TYPE, port: $PORT,$HTTP_KEYS interval: $INTERVAL, timeout: $TIMEOUT, down: $DOWN, up: 2/2 }
resources:
  big:
    ttl: 30
    check: t
    pools: { dc: { members_file: pools/m.txt } }
    route: all
YAML
cat > "$work/zones/t.yaml" <<YAML
zone: scale.test
soa: { primary: ns1, contact: hostmaster, serial: 1 }
records:
  "@": { NS: ns1 }
  ns1: { A: 192.0.2.53 }
  big: { DYNA: big }
YAML
python3 benches/tcp_backend.py "$PORT" 0.0.0.0 "$TYPE" > "$work/backend.log" &
pids+=($!); backend=$!
sleep 0.5
"$bin" serve -c "$work/dynadns.yaml" --listen "127.0.0.1:$DNS_PORT" 2> "$work/server.log" &
pids+=($!); server=$!
until grep -q "ready:" "$work/server.log"; do sleep 0.1; done
up_count() { curl -s "http://$ADMIN/metrics" | awk '/^dynadns_pool_members_up/ {print $2}'; }
echo "members up after start: $(up_count)/$N"
ticks=$(getconf CLK_TCK)
cpu() { awk -v t="$ticks" '{print ($14 + $15) / t}' "/proc/$server/stat"; }
c0=$(cpu); t0=$(date +%s.%N)
sleep "$MEASURE"
c1=$(cpu); t1=$(date +%s.%N)
echo "healthy: dynadns CPU $(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN {printf "%.1f%% of one core (%.2f s over %.1f s)", 100*(b-a)/(e-s), b-a, e-s}') for $N $TYPE targets at $INTERVAL"
kill -USR1 "$backend"
start=$(date +%s.%N)
while :; do
    n=$(up_count)
    [[ "$n" == 0 ]] && break
    sleep 0.05
done
end=$(date +%s.%N)
echo "hang: all $N members DOWN after $(awk -v s="$start" -v e="$end" 'BEGIN {printf "%.2f", e-s}') s (window: down $DOWN x $INTERVAL + timeout $TIMEOUT)"
grep -c "UP -> DOWN" "$work/server.log" | sed 's/^/state changes logged: /'
