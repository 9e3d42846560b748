#!/usr/bin/env bash
# Geo scale check: PREFIXES operator prefixes (a networks file) x DCS datacenters x NAMES DYNA
# names, loaded by `dynadns check` and by `serve` (time to the first answer), with the peak
# resident memory of each. The issue's bound: 1,000,000 x 1,000 x 100,000 in under 10 s and
# under 1 GiB.
#   PREFIXES=1000000 DCS=1000 NAMES=100000 RESOURCES=100 DEFAULT_DCS=3 benches/geo-scale.sh
# DEFAULT_DCS is the length of the map's default order; every prefix's order is its own three
# datacenters followed by the rest of default, so DEFAULT_DCS=1000 is the memory worst case.
# Prefixes are random /16../24 IPv4 and /32../48 IPv6 networks (seeded, so runs compare);
# each resource has a one-member pool in every datacenter (answers are documentation
# addresses; nothing is probed). Prints one line per phase: seconds and peak RSS in MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIXES=${PREFIXES:-1000000} DCS=${DCS:-1000} NAMES=${NAMES:-100000} RESOURCES=${RESOURCES:-100}
DEFAULT_DCS=${DEFAULT_DCS:-3} PORT=${PORT:-15391}
bin=${DYNADNS:-target/release/dynadns}
work=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/zones"

python3 - "$work" "$PREFIXES" "$DCS" "$NAMES" "$RESOURCES" "$PORT" "$DEFAULT_DCS" <<'PY'
import ipaddress, os, random, sys
work, prefixes, dcs, names, resources, port, default_dcs = sys.argv[1], *map(int, sys.argv[2:])
rng = random.Random(7)
dc = [f"dc{i}" for i in range(dcs)]
with open(os.path.join(work, "nets.txt"), "w") as f:
    seen = set()
    while len(seen) < prefixes:
        if rng.random() < 0.8:
            ln = rng.randint(16, 24)
            net = ipaddress.IPv4Network((rng.getrandbits(32) >> (32 - ln) << (32 - ln), ln))
        else:
            ln = rng.randint(32, 48)
            net = ipaddress.IPv6Network(((0x2001 << 112 | rng.getrandbits(112)) >> (128 - ln) << (128 - ln), ln))
        if net in seen:
            continue
        seen.add(net)
        f.write(f"{net} {','.join(rng.sample(dc, 3))}\n")
with open(os.path.join(work, "dynadns.yaml"), "w") as f:
    f.write(f'listen: {{ dns: ["127.0.0.1:{port}"] }}\nzones: zones/\nhealth: {{ state_file: "" }}\n')
    f.write("datacenters:\n")
    for i, d in enumerate(dc):
        f.write(f"  {d}: {{ location: [{rng.uniform(-60, 70):.2f}, {rng.uniform(-180, 180):.2f}] }}\n")
    f.write(f"geo_maps:\n  world:\n    default: [{', '.join(dc[:default_dcs])}]\n    networks_files: [nets.txt]\n")
    f.write("resources:\n")
    for r in range(resources):
        f.write(f"  r{r}:\n    ttl: 30\n    route: {{ geo: world }}\n    pools:\n")
        for i, d in enumerate(dc):
            f.write(f"      {d}: [192.0.2.{(r + i) % 254 + 1}]\n")
with open(os.path.join(work, "zones", "example.com.yaml"), "w") as f:
    f.write("zone: example.com\nttl: 3600\n")
    f.write("soa: { primary: ns1, contact: hostmaster, serial: 1, refresh: 3600, retry: 900, expire: 1209600, negative_ttl: 300 }\n")
    f.write('records:\n  "@": { NS: [ns1] }\n  ns1: { A: 192.0.2.53 }\n')
    for n in range(names):
        f.write(f"  n{n}: {{ DYNA: r{n % resources} }}\n")
PY
echo "generated: $PREFIXES prefixes, $DCS datacenters, $NAMES DYNA names, $RESOURCES resources, default of $DEFAULT_DCS"

/usr/bin/time -f "check: %e s, peak RSS %M KiB" "$bin" check -c "$work/dynadns.yaml" >/dev/null

start=$(date +%s.%N)
/usr/bin/time -f "serve: peak RSS %M KiB (whole run)" "$bin" serve -c "$work/dynadns.yaml" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 1 600); do
    if dig +time=1 +tries=1 +short @127.0.0.1 -p "$PORT" "n$((NAMES - 1)).example.com" A 2>/dev/null | grep -q '^192\.0\.2\.'; then
        break
    fi
    sleep 0.1
done
end=$(date +%s.%N)
dig +short @127.0.0.1 -p "$PORT" "n$((NAMES - 1)).example.com" A | grep -q '^192\.0\.2\.' ||
    { echo "serve never answered"; cat "$work/serve.log"; exit 1; }
python3 -c "print(f'serve: first answer after {$end - $start:.2f} s')"
# GNU time ignores SIGINT while its command runs: stop the server itself.
pkill -INT -P "$pid" || true
wait "$pid" 2>/dev/null || true
pid=
grep -h 'peak RSS' "$work/serve.log" || true
