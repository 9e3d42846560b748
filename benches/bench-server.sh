#!/usr/bin/env bash
# Runs dynadns under the shared DNS benchmark harnesses (anchors.sh / callgrind.sh), which start
# it as OURS_CMD / --server-cmd with BENCH_* variables. The harness hands over RFC 1035 zone
# files (use the static flavour); they are converted with `dynadns import-zone`. With
# BENCH_GSLB=1 the wrr and mfo names become DYNA names backed by resources built from
# BENCH_RESOURCES (wrr: one pool of 20 weighted members, every member answered in random order;
# mfo: three datacenters, route: all), so the GSLB path is measured instead of static RRsets.
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
{
    printf 'listen:\n  dns: ["%s:%s"]\nzones: zones/\nhealth: { state_file: "" }\n' \
        "${BENCH_ADDR:-127.0.0.1}" "${BENCH_PORT:?}"
    printf 'server:\n  udp_workers: %s\n' "${BENCH_THREADS:-1}"
    # One load generator on one address: response rate limiting off, or it measures drops.
    printf 'limits:\n  rrl: { rate: 0 }\n'
} > "$work/dynadns.yaml"
if [[ "${BENCH_GSLB:-0}" == 1 ]]; then
    python3 - "$work" <<'PY'
import os, re, sys
work = sys.argv[1]
pools = {}
for line in os.environ.get("BENCH_RESOURCES", "").splitlines():
    f = line.split()
    if len(f) >= 4 and not f[0].startswith("#"):
        pools.setdefault(f[1], []).append((f[0], f[2], f[3], f[4] if len(f) > 4 else "-"))
with open(os.path.join(work, "dynadns.yaml"), "a") as out:
    labels = sorted({"dc" if r[0] == "weighted" else r[1] for rows in pools.values() for r in rows})
    out.write("datacenters: { " + ", ".join(f"{l}: {{}}" for l in labels) + " }\n")
    out.write("resources:\n")
    for res, rows in pools.items():
        out.write(f"  {res}:\n    ttl: 300\n    route: all\n    pools:\n")
        if rows[0][0] == "weighted":
            out.write("      dc: [" + ", ".join(f"{{ address: {ip}, weight: {w} }}" for _, _, ip, w in rows) + "]\n")
        else:
            for _, label, ip, _ in rows:
                out.write(f"      {label}: [{ip}]\n")
for name in os.listdir(os.path.join(work, "zones")):
    path = os.path.join(work, "zones", name)
    text = open(path).read()
    for res in pools:
        # Replace the static RRset of the resource's name by a DYNA reference.
        text = re.sub(r'(?m)^  "%s":\n(    .*\n)+' % re.escape(res), f'  "{res}":\n    DYNA: "{res}"\n', text)
    open(path, "w").write(text)
PY
fi
exec "$bin" serve -c "$work/dynadns.yaml"
