#!/usr/bin/env bash
# Multi-core scaling of UDP answering: dynadns with W UDP workers pinned to W cores, loaded by
# examples/udpload pinned to other cores, on 127.0.0.1. Needs only the two release binaries
# (no dnsperf), so it runs on a bare machine:
#   cargo build --release && cargo build --release --example udpload
#   WORKERS="1 2 4 8" SERVER_CPUS_FROM=0 CLIENT_CPUS=8-15 CLIENT_THREADS=8 benches/scaling.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WORKERS=${WORKERS:-"1 2"} SECONDS_PER_RUN=${SECONDS_PER_RUN:-10} PORT=${PORT:-15395}
CLIENT_CPUS=${CLIENT_CPUS:-1} CLIENT_THREADS=${CLIENT_THREADS:-2} OUTSTANDING=${OUTSTANDING:-64}
SERVER_CPUS_FROM=${SERVER_CPUS_FROM:-0} QNAME=${QNAME:-www.example.com}
bin=${DYNADNS:-target/release/dynadns}
load=${UDPLOAD:-target/release/examples/udpload}
work=$(mktemp -d)
server=""
trap '[[ -n "$server" ]] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
cp -r zones "$work/zones"
cp -r pools health "$work/" 2>/dev/null || true
for w in $WORKERS; do
    # dnsperf is one source: response rate limiting off (limits.rrl.rate 0).
    sed -e "s/^  dns: .*/  dns: [\"127.0.0.1:$PORT\"]/" -e 's/^  admin: .*//' \
        -e 's/^limits:$/limits:\n  rrl: { rate: 0 }/' dynadns.yaml > "$work/dynadns.yaml"
    printf 'server:\n  udp_workers: %s\n' "$w" >> "$work/dynadns.yaml"
    sed -i 's/^  state_file: .*/  state_file: ""/' "$work/dynadns.yaml"
    last=$((SERVER_CPUS_FROM + w - 1))
    taskset -c "$SERVER_CPUS_FROM-$last" "$bin" serve -c "$work/dynadns.yaml" 2> "$work/server.log" &
    server=$!
    for _ in $(seq 100); do grep -q "ready:" "$work/server.log" && break; sleep 0.05; done
    t0=$(awk '{print $14 + $15}' "/proc/$server/stat")
    out=$(taskset -c "$CLIENT_CPUS" "$load" "127.0.0.1:$PORT" "$QNAME" "$CLIENT_THREADS" "$OUTSTANDING" "$SECONDS_PER_RUN")
    t1=$(awk '{print $14 + $15}' "/proc/$server/stat")
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" -v s="$SECONDS_PER_RUN" 'BEGIN {printf "%.2f", (b - a) / hz / s}')
    printf 'workers=%-2s server_cores=%s-%s %s; server CPU %s cores\n' "$w" "$SERVER_CPUS_FROM" "$last" "$out" "$cpu"
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
done
