#!/usr/bin/env bash
# Soak: a steady dnsperf load for DURATION seconds while everything an operator does happens at
# once: probed members flap, a forced state is set and cleared every few seconds, the
# configuration is reloaded every minute (alternately a zone rewritten and SIGHUP, and a
# members file rewritten, which the server's file watcher picks up), and
# the server is restarted halfway. Loopback only: the probed members are 127.0.0.11-16, served by
# a small python backend that this script runs and makes flap.
#
#   DURATION=1800 RATE=2000 benches/soak.sh      # the recorded run (docs/reliability.md)
#   DURATION=180 benches/soak.sh                 # a quick look
#
# Needs dnsperf, python3 and curl, and a release build (DYNADNS=target/release/dynadns).
# Reports, per half (the restart is between the halves): queries sent, completed and lost by
# dnsperf, the kernel's UDP receive drops in the same time, RSS after warm-up and at the end,
# and every WARN/ERROR line the server logged that is not an injected fault. Exits non-zero when
# a query was lost beyond the kernel's drops, RSS grew more than RSS_SLACK percent after warm-up,
# a reload failed, or an unexpected error was logged.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-1800} RATE=${RATE:-2000} PORT=${PORT:-15400} ADMIN=${ADMIN:-127.0.0.1:15401}
BACKEND_PORT=${BACKEND_PORT:-15402} RELOAD_EVERY=${RELOAD_EVERY:-60}
OVERRIDE_EVERY=${OVERRIDE_EVERY:-5} FLAP_EVERY=${FLAP_EVERY:-20} WARMUP=${WARMUP:-120}
RSS_SLACK=${RSS_SLACK:-10}
bin=${DYNADNS:-target/release/dynadns}
for tool in dnsperf python3 curl; do
    command -v "$tool" >/dev/null || { echo "soak: $tool is required" >&2; exit 2; }
done
[[ -x $bin ]] || { echo "soak: $bin not built (cargo build --release)" >&2; exit 2; }
half=$((DURATION / 2))
(( WARMUP < half )) || WARMUP=$((half / 3))

work=$(mktemp -d "${TMPDIR:-/tmp}/dynadns-soak.XXXXXX")
server_pid="" backend_pid="" chores_pid=""
cleanup() {
    for p in $chores_pid $server_pid $backend_pid; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [[ -n ${KEEP:-} ]] && echo "soak: files kept in $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/zones"
cat > "$work/dynadns.yaml" <<YAML
listen: { dns: ["127.0.0.1:$PORT"], admin: "$ADMIN" }
zones: zones/
limits: { rrl: { rate: 0 } }     # one dnsperf source asks the same names all the time
health: { state_file: soak.state.json }
server: { watch_debounce: 200ms }
datacenters: { east: {}, west: {}, south: {} }
checks:
  web: { type: tcp, port: $BACKEND_PORT, interval: 1s, timeout: 500ms, down: 2/3, up: 2/2 }
resources:
  www:
    ttl: 30
    check: web
    route: { order: [east, west, south] }
    pools:
      east:  [{ address: 192.0.2.11, probe: 127.0.0.11 }, { address: 192.0.2.12, probe: 127.0.0.12 }]
      west:  [{ address: 192.0.2.13, probe: 127.0.0.13 }, { address: 192.0.2.14, probe: 127.0.0.14 }]
      south: [{ address: 192.0.2.15, probe: 127.0.0.15 }, { address: 192.0.2.16, probe: 127.0.0.16 }]
  mix:
    ttl: 30
    check: web
    route: all
    pools:
      east: { members_file: pools/mix.txt }   # rewritten by the reloads below (watched)
YAML
write_members() {
    printf '192.0.2.21 probe=127.0.0.11\n192.0.2.22 weight=%s probe=127.0.0.13\n' "$1" \
        > "$work/pools/.mix.tmp"
    mv "$work/pools/.mix.tmp" "$work/pools/mix.txt"
}
mkdir -p "$work/pools"
write_members 1
write_zone() {
    cat > "$work/zones/.soak.tmp" <<YAML
zone: soak.test
soa: { primary: ns1, contact: hostmaster, serial: $1 }
records:
  "@": { NS: [ns1, ns2], MX: ["10 mail"] }
  ns1: { A: 192.0.2.53 }
  ns2: { A: 192.0.2.54 }
  mail: { A: 192.0.2.25 }
  static: { A: [192.0.2.1, 192.0.2.2], AAAA: "2001:db8::1" }
  txt: { TXT: "serial $1" }
  www: { DYNA: www }
  mix: { DYNA: mix }
  alias: { CNAME: www }
YAML
    mv "$work/zones/.soak.tmp" "$work/zones/soak.yaml"   # atomic: never half-written
}
write_zone 1

# Members .12 and .14 flap (their listener closes and reopens every FLAP_EVERY s, out of step);
# the others stay up.
cat > "$work/backend.py" <<'PY'
import socket, sys, threading, time
port, flap_every = int(sys.argv[1]), float(sys.argv[2])
def serve(addr, flap, phase):
    while True:
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port)); s.listen(64); s.settimeout(0.2)
        until = time.time() + (flap_every * (1.5 if phase else 1.0) if flap else 1e9)
        phase = False
        while time.time() < until:
            try:
                c, _ = s.accept(); c.close()
            except socket.timeout:
                pass
        s.close()
        time.sleep(flap_every)   # down: connections are refused
for i, addr in enumerate(f"127.0.0.{n}" for n in range(11, 17)):
    threading.Thread(target=serve, args=(addr, addr in ("127.0.0.12", "127.0.0.14"), i == 3),
                     daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
PY
python3 "$work/backend.py" "$BACKEND_PORT" "$FLAP_EVERY" > "$work/backend.log" 2>&1 &
backend_pid=$!

cat > "$work/queries" <<'Q'
www.soak.test A
mix.soak.test A
static.soak.test A
static.soak.test AAAA
alias.soak.test A
soak.test MX
soak.test SOA
txt.soak.test TXT
nothere.soak.test A
www.soak.test AAAA
Q

start_server() {
    "$bin" serve -c "$work/dynadns.yaml" 2>> "$work/server.log" &
    server_pid=$!
    local t0=$SECONDS
    until [[ $(grep -c 'ready:' "$work/server.log") -ge $1 ]]; do
        kill -0 "$server_pid" 2>/dev/null || { echo "soak: server exited"; cat "$work/server.log"; exit 1; }
        (( SECONDS - t0 < 30 )) || { echo "soak: server not ready in 30 s"; exit 1; }
        sleep 0.1
    done
}

# Forced states, reloads: in the background for the whole run.
chores() {
    local n=0 serial=1 next_reload=$((SECONDS + RELOAD_EVERY))
    while :; do
        sleep "$OVERRIDE_EVERY"
        n=$((n + 1))
        if (( n % 2 )); then
            curl -s -o /dev/null -X PUT -H 'Content-Type: application/json' \
                -d '{"state":"down"}' "http://$ADMIN/api/v1/overrides/member/192.0.2.11" || true
        else
            curl -s -o /dev/null -X DELETE "http://$ADMIN/api/v1/overrides/member/192.0.2.11" || true
        fi
        if (( SECONDS >= next_reload )); then
            serial=$((serial + 1))
            if (( serial % 2 )); then
                write_members "$serial"                    # picked up by the file watcher
            else
                write_zone "$serial"                       # zones change by SIGHUP
                kill -HUP "$(cat "$work/server.pid")" 2>/dev/null || true
            fi
            next_reload=$((SECONDS + RELOAD_EVERY))
        fi
    done
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
udp_drops() { awk '/^Udp: [0-9]/ {print $4 + $6; exit}' /proc/net/snmp; } # InErrors + RcvbufErrors

run_half() { # $1 = label
    local label=$1 drops0 drops1 rss_warm rss_end rss_max=0 out
    drops0=$(udp_drops)
    dnsperf -s 127.0.0.1 -p "$PORT" -d "$work/queries" -Q "$RATE" -l "$half" -c 4 -t 2 \
        > "$work/dnsperf-$label.txt" 2>&1 &
    local perf_pid=$! t0=$SECONDS
    rss_warm=""
    while kill -0 "$perf_pid" 2>/dev/null; do
        sleep 5
        local r; r=$(rss_kib "$server_pid")
        (( r > rss_max )) && rss_max=$r
        [[ -z $rss_warm ]] && (( SECONDS - t0 >= WARMUP )) && rss_warm=$r
        echo "$((SECONDS - t0)) $r" >> "$work/rss-$label.txt"
    done
    wait "$perf_pid" || true
    drops1=$(udp_drops)
    rss_end=$(rss_kib "$server_pid")
    out=$work/dnsperf-$label.txt
    local sent completed lost
    sent=$(awk '/Queries sent:/ {print $3}' "$out")
    completed=$(awk '/Queries completed:/ {print $3}' "$out")
    lost=$(awk '/Queries lost:/ {print $3}' "$out")
    printf '%s: sent %s completed %s lost %s; kernel UDP drops %s; RSS warm %s KiB, max %s KiB, end %s KiB\n' \
        "$label" "$sent" "$completed" "$lost" "$((drops1 - drops0))" "${rss_warm:-?}" "$rss_max" "$rss_end"
    grep -E 'Response codes|Queries per second|Average Latency' "$out" | sed "s/^/$label: /"
    if grep -q 'SERVFAIL' "$out"; then echo "FAIL $label: SERVFAIL answers"; failed=1; fi
    verdict_lost=$((lost - (drops1 - drops0)))
    (( verdict_lost <= 0 )) || { echo "FAIL $label: $verdict_lost queries lost beyond kernel drops"; failed=1; }
    if [[ -n $rss_warm ]] && (( rss_end * 100 > rss_warm * (100 + RSS_SLACK) )); then
        echo "FAIL $label: RSS grew from $rss_warm KiB to $rss_end KiB after warm-up"; failed=1
    fi
}

failed=0
start_server 1
echo "$server_pid" > "$work/server.pid"
chores &
chores_pid=$!
echo "soak: ${DURATION}s at ${RATE} q/s, restart at ${half}s, reload every ${RELOAD_EVERY}s, override every ${OVERRIDE_EVERY}s, flap every ${FLAP_EVERY}s"
run_half first
t_stop=$(date +%s.%N)
kill -TERM "$server_pid"; wait "$server_pid" || { echo "FAIL: server exited non-zero on SIGTERM"; failed=1; }
start_server 2
echo "$server_pid" > "$work/server.pid"
echo "restart: $(awk -v a="$t_stop" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s from SIGTERM to the new process ready"
run_half second
kill "$chores_pid" 2>/dev/null || true; wait "$chores_pid" 2>/dev/null || true; chores_pid=""

# The log: reloads and transitions, and anything alarming that we did not cause.
plain=$work/server.plain.log
sed 's/\x1b\[[0-9;]*m//g' "$work/server.log" > "$plain"
echo "reloads ok: $(grep -c 'reloaded:' "$plain" || true); failed: $(grep -c 'reload failed' "$plain" || true)"
echo "state changes logged: $(grep -c ' -> ' "$plain" || true); forced-state calls: every ${OVERRIDE_EVERY}s"
unexpected=$(grep -E ' (WARN|ERROR) ' "$plain" | grep -v -E 'probe|connection refused' || true)
if [[ -n $unexpected ]]; then
    echo "FAIL: unexpected warnings or errors:"; echo "$unexpected" | head -20; failed=1
fi
if grep -q 'reload failed' "$plain"; then echo "FAIL: a reload failed"; failed=1; fi
(( failed == 0 )) && echo "soak: passed" || echo "soak: FAILED"
exit "$failed"
