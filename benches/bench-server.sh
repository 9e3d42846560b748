#!/usr/bin/env bash
# Runs dynadns under the shared DNS benchmark harnesses (anchors.sh / callgrind.sh), which start
# it as OURS_CMD / --server-cmd with BENCH_* variables. The harness hands over RFC 1035 zone
# files; they are converted with `dynadns import-zone` and served with one UDP worker per
# BENCH_THREADS. Static flavour only for now (wrr/mfo as plain A RRsets).
#   OURS_CMD=benches/bench-server.sh OURS_DYNAMIC=0 ../shared/bench/anchors.sh
#   ../shared/bench/callgrind.sh --servers none --server-name dynadns --zone-flavor static \
#       --server-cmd "$PWD/benches/bench-server.sh"
# Stays in the foreground (exec) and exits on SIGTERM.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${DYNADNS:-$here/target/release/dynadns}
work=${BENCH_WORKDIR:?BENCH_WORKDIR is set by the harness}
mkdir -p "$work/zones"
for zp in $BENCH_ZONES; do
    zone=${zp%%=*} file=${zp#*=}
    "$bin" import-zone "$file" --origin "$zone" > "$work/zones/$zone.yaml"
done
cat > "$work/dynadns.yaml" <<YAML
listen:
  dns: ["${BENCH_ADDR:-127.0.0.1}:${BENCH_PORT:?}"]
zones: zones/
server:
  udp_workers: ${BENCH_THREADS:-1}
YAML
exec "$bin" serve -c "$work/dynadns.yaml"
