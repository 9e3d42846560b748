#!/usr/bin/env bash
# End-to-end health failover with dig: real TCP backends on loopback, a real server, real probes.
#   DYNADNS=target/release/dynadns tests/e2e/health.sh
# 1. both datacenters healthy: answers from msk;
# 2. msk's backend killed: msk leaves the answers after the detection window, spb answers;
# 3. dynadns restarted while msk is down: msk is still out right after the restart (state file);
# 4. msk's backend back: msk returns after the up threshold.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${DYNADNS:-target/release/dynadns}
PORT=${PORT:-15380} BACKEND_PORT=${BACKEND_PORT:-18090}
work=$(mktemp -d)
pids=()
server=""
msk=""
cleanup() {
    for p in "${pids[@]}" $server $msk; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
ok() { printf 'ok   %s\n' "$1"; passed=$((passed + 1)); }
fail() { printf 'FAIL %s: %s\n' "$1" "$2"; failed=$((failed + 1)); }

mkdir -p "$work/zones"
cat > "$work/dynadns.yaml" <<YAML
zones: zones/
datacenters: { msk: {}, spb: {} }
checks:
  web: { type: tcp, port: $BACKEND_PORT, interval: 300ms, timeout: 200ms, down: 3/5, up: 3/3 }
resources:
  www:
    ttl: 30
    check: web
    pools:
      msk: [127.0.0.1]
      spb: [127.0.0.2]
    route: { order: [msk, spb] }
YAML
cat > "$work/zones/example.com.yaml" <<YAML
zone: example.com
soa: { primary: ns1, contact: hostmaster, serial: 1 }
records:
  "@": { NS: ns1 }
  ns1: { A: 192.0.2.53 }
  www: { DYNA: www }
YAML

backend() { python3 benches/tcp_backend.py "$BACKEND_PORT" "$1" > /dev/null 2>&1 & echo $!; }
start_server() {
    : > "$work/server.log"
    "$bin" serve -c "$work/dynadns.yaml" --listen "127.0.0.1:$PORT" 2>> "$work/server.log" &
    server=$!
    for _ in $(seq 100); do grep -q "ready:" "$work/server.log" && return 0; sleep 0.05; done
    echo "server did not start"; cat "$work/server.log"; exit 1
}
answer() { dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$PORT" www.example.com A | head -1; }
# wait_for ID EXPECTED SECONDS: poll until the answer is EXPECTED.
wait_for() {
    local deadline=$((SECONDS + $3)) got
    while :; do
        got=$(answer)
        [[ "$got" == "$2" ]] && { ok "$1 ($got)"; return 0; }
        (( SECONDS >= deadline )) && { fail "$1" "answer '$got', expected $2 within $3 s"; return 0; }
        sleep 0.05
    done
}

msk=$(backend 127.0.0.1)
pids+=("$(backend 127.0.0.2)")
sleep 0.3
start_server
[[ "$(answer)" == 127.0.0.1 ]] && ok "healthy: msk answers" || fail "healthy" "answer $(answer)"

kill "$msk"; wait "$msk" 2>/dev/null || true; msk=""
t0=$(date +%s%N)
wait_for "msk backend killed: spb answers" 127.0.0.2 5
elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
# Detection window: 3 failures x 300 ms + 200 ms timeout = 1.1 s (refused connects fail fast).
(( elapsed >= 500 )) && ok "not before 3 failures (${elapsed} ms)" || fail "hysteresis" "failed over after ${elapsed} ms"
ttl=$(dig +noall +answer +norec @127.0.0.1 -p "$PORT" www.example.com A | awk '{print $2; exit}')
[[ "$ttl" == 1 ]] && ok "degraded TTL 1 on failover" || fail "degraded TTL" "ttl $ttl"
grep -q "member 127.0.0.1 (www/msk, check web) UP -> DOWN: 3 of last 5 probes failed" "$work/server.log" \
    && ok "transition logged with its reason" || fail "log" "$(grep 'UP -> DOWN' "$work/server.log" || true)"

kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=""
start_server
[[ "$(answer)" == 127.0.0.2 ]] && ok "restart while msk is down: still spb at once" || fail "restart" "answer $(answer)"

msk=$(backend 127.0.0.1)
wait_for "msk backend back: msk answers again" 127.0.0.1 5

echo "e2e health: $passed passed, $failed failed"
(( failed == 0 ))
