#!/usr/bin/env bash
# Reflection attack against a real server: response rate limiting (limits.rrl) and DNS cookies.
#   DYNADNS=target/release/dynadns tests/e2e/rrl.sh
# dynadns serves a small zone with rrl rate 50, slip 2. A python flood sends 3000 queries/s for
# 3 s for one TXT name (EDNS payload 4096, so each answer is several times the query) from
# 127.0.0.2, as a spoofing attacker would make the victim's network send them. Meanwhile a
# legitimate client at 127.0.0.1 (the same /24) uses dig +cookie: it learns its server cookie,
# then sends it with every query, and every one of those must get a full answer. The flood may
# get at most rate x seconds full answers (+ margin) plus truncated "slips" (TC=1, no records).
# Prints sent / full / slipped / dropped and the amplification factor (bytes out / bytes in).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${DYNADNS:-target/release/dynadns}
PORT=${PORT:-15394} ADMIN_PORT=${ADMIN_PORT:-15395}
RATE=50 QPS=3000 SECONDS_FLOOD=3
work=$(mktemp -d)
server=""
cleanup() {
    [[ -z $server ]] || kill "$server" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
passed=0 failed=0
ok() { printf 'ok   %s\n' "$1"; passed=$((passed + 1)); }
fail() { printf 'FAIL %s: %s\n' "$1" "$2"; failed=$((failed + 1)); }
die() {
    echo "FAIL $*"
    echo "---- dynadns log"
    cat "$work/server.log" 2>/dev/null || true
    exit 1
}
command -v dig > /dev/null || die "dig is not installed"
command -v python3 > /dev/null || die "python3 is not installed"

mkdir -p "$work/zones"
cat > "$work/dynadns.yaml" << YAML
listen:
  dns: ["127.0.0.1:$PORT"]
  admin: "127.0.0.1:$ADMIN_PORT"
zones: zones/
health: { state_file: "" }
server: { udp_workers: 2 }
limits:
  rrl: { rate: $RATE, slip: 2 }
YAML
cat > "$work/zones/example.com.yaml" << 'YAML'
zone: example.com
ttl: 3600
soa: { primary: ns1, contact: hostmaster, serial: 1 }
records:
  "@": { NS: ns1 }
  ns1: { A: 192.0.2.53 }
  big:
    TXT:
      - "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip4:203.0.113.0/24 include:_spf.example.net ~all"
      - "google-site-verification=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
      - "a third text record, so that the answer is many times the size of the question asked"
      - "and a fourth one: a reflection attacker picks the largest answer the zone has to offer"
YAML

"$bin" serve -c "$work/dynadns.yaml" 2> "$work/server.log" &
server=$!
for _ in $(seq 100); do
    kill -0 "$server" 2> /dev/null || die "server exited"
    grep -q 'ready:' "$work/server.log" && break
    sleep 0.05
done
grep -q 'ready:' "$work/server.log" || die "server not ready within 5 s"
ok "server ready"

q() { dig +norec +tries=1 +time=1 +ignore -b 127.0.0.1 @127.0.0.1 -p "$PORT" "$@"; }

# The size of one full answer (no cookie), before any limiting.
full_size=$(q +nocookie big.example.com TXT | sed -n 's/.*MSG SIZE  rcvd: \([0-9]*\).*/\1/p')

# The legitimate client learns its server cookie.
out=$(q +cookie big.example.com TXT)
cookie=$(sed -n 's/^; COOKIE: \([0-9a-f]*\).*/\1/p' <<< "$out")
if [[ ${#cookie} -eq 48 ]]; then
    ok "dig +cookie: the answer carries client + server cookie ($cookie)"
else
    die "no 24-byte COOKIE in the answer: $out"
fi

# The flood: 127.0.0.2, paced in 10 ms slices; replies counted by kind and size.
python3 - "$PORT" "$QPS" "$SECONDS_FLOOD" > "$work/flood.txt" << 'PY' &
import socket, struct, sys, threading, time
port, qps, secs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", 0))
s.connect(("127.0.0.1", port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
qname = b"".join(bytes([len(l)]) + l for l in b"big.example.com".split(b".")) + b"\0"
opt = b"\0" + struct.pack(">HHIH", 41, 4096, 0, 0)
def query(i):
    return struct.pack(">HHHHHH", i & 0xFFFF, 0, 1, 0, 0, 1) + qname + struct.pack(">HH", 16, 1) + opt
stats = {"full": 0, "slipped": 0, "other": 0, "bytes_out": 0}
done = threading.Event()
def receive():
    s.settimeout(0.2)
    while True:
        try:
            r = s.recv(65535)
        except socket.timeout:
            if done.is_set():
                return
            continue
        stats["bytes_out"] += len(r)
        flags, an = struct.unpack(">H", r[2:4])[0], struct.unpack(">H", r[6:8])[0]
        if flags & 0x0200 and an == 0:
            stats["slipped"] += 1
        elif not flags & 0x0200 and an > 0:
            stats["full"] += 1
        else:
            stats["other"] += 1
t = threading.Thread(target=receive)
t.start()
sent = bytes_in = 0
start = time.monotonic()
per_slice = qps // 100
for tick in range(secs * 100):
    for _ in range(per_slice):
        p = query(sent)
        s.send(p)
        sent += 1
        bytes_in += len(p)
    delay = start + (tick + 1) / 100 - time.monotonic()
    if delay > 0:
        time.sleep(delay)
elapsed = time.monotonic() - start
time.sleep(0.5)
done.set()
t.join()
dropped = sent - stats["full"] - stats["slipped"] - stats["other"]
print(f"sent={sent} full={stats['full']} slipped={stats['slipped']} other={stats['other']} "
      f"dropped={dropped} bytes_in={bytes_in} bytes_out={stats['bytes_out']} "
      f"elapsed={elapsed:.2f} query_bytes={len(query(0))}")
PY
flood=$!

# Meanwhile the legitimate client, with its server cookie, asks every 100 ms.
sleep 0.3
legit=0 legit_full=0
while kill -0 "$flood" 2> /dev/null && ((legit < 25)); do
    out=$(q +cookie="$cookie" big.example.com TXT || true)
    legit=$((legit + 1))
    if grep -q 'status: NOERROR' <<< "$out" && grep -q 'ANSWER: 4,' <<< "$out" &&
        ! grep -q 'flags:.* tc' <<< "$out"; then
        legit_full=$((legit_full + 1))
    else
        echo "legitimate query $legit not answered in full:"
        echo "$out"
    fi
    sleep 0.1
done
# One without its cookie, for comparison: it shares the flood's /24 bucket.
plain=$(q big.example.com TXT || true)
wait "$flood" || die "the flood script failed"
read -r line < "$work/flood.txt"
echo "flood: $line"
declare -A f
for kv in $line; do f[${kv%%=*}]=${kv#*=}; done

if ((legit >= 10 && legit_full == legit)); then
    ok "legitimate client with its server cookie: $legit_full of $legit answered in full during the flood"
else
    fail "cookie client" "$legit_full of $legit answered in full"
fi
if grep -q 'flags:.* tc' <<< "$plain" || [[ -z $(grep 'status:' <<< "$plain") ]]; then
    ok "the same client without its cookie is limited with the flood (truncated or dropped)"
else
    echo "note: a cookie-less query during the flood got a full answer (its bucket had room)"
fi

limit=$((RATE * (SECONDS_FLOOD + 2)))
if ((f[full] <= limit)); then
    ok "flood: ${f[full]} full answers of ${f[sent]} (at most rate x seconds: $limit)"
else
    fail "flood full answers" "${f[full]} > $limit"
fi
if ((f[other] == 0)); then ok "flood: every reply is a full answer or a slip"; else fail "flood replies" "${f[other]} neither full nor slipped"; fi
limited=$((f[sent] - f[full]))
half=$((limited / 2))
if ((f[slipped] >= half * 9 / 10 && f[slipped] <= half + 10)); then
    ok "flood: ${f[slipped]} slipped, about half of $limited limited (slip 2)"
else
    fail "flood slips" "${f[slipped]} slipped of $limited limited"
fi
amp=$(python3 -c "print(f'{${f[bytes_out]} / ${f[bytes_in]}:.2f}')")
echo "figures: sent=${f[sent]} full=${f[full]} slipped=${f[slipped]} dropped=${f[dropped]}" \
    "bytes_in=${f[bytes_in]} bytes_out=${f[bytes_out]} amplification=${amp}x" \
    "(one full answer: ${full_size:-?} bytes for a ${f[query_bytes]}-byte query)"
if python3 -c "import sys; sys.exit(0 if ${f[bytes_out]} < ${f[bytes_in]} else 1)"; then
    ok "flood: fewer bytes reflected than sent (amplification ${amp}x)"
else
    fail "amplification" "${amp}x"
fi

metrics=$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$ADMIN_PORT/metrics').read().decode())")
m() { awk -v k="$1" '$1 == k { print $2 }' <<< "$metrics"; }
if [[ $(m dynadns_rrl_slipped_total) -ge ${f[slipped]} && $(m dynadns_rrl_dropped_total) -gt 0 ]]; then
    ok "metrics: dynadns_rrl_slipped_total $(m dynadns_rrl_slipped_total), dynadns_rrl_dropped_total $(m dynadns_rrl_dropped_total)"
else
    fail "metrics" "$(grep dynadns_rrl <<< "$metrics")"
fi
if [[ $(m 'dynadns_cookies_total{result="valid"}') -ge $legit_full ]]; then
    ok "metrics: dynadns_cookies_total{result=\"valid\"} $(m 'dynadns_cookies_total{result="valid"}')"
else
    fail "cookie metrics" "$(grep dynadns_cookies <<< "$metrics")"
fi

if grep -qE 'ERROR|panicked' "$work/server.log"; then
    fail "server log" "$(grep -E 'ERROR|panicked' "$work/server.log" | head -n 3)"
else
    ok "server log clean"
fi
echo "passed: $passed, failed: $failed"
((failed == 0))
