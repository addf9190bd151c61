#!/usr/bin/env bash
# Benchmark (not a test): boot-script throughput with 10,000 registered nodes.
#
# wrk asks rackboot for /boot/v1/bootscript?mac=<random registered MAC> and, in the same
# run and the same way, asks nginx for a static file of the same size as one script.
# Prints both req/s and p99 latency and the ratio. Everything runs on 127.0.0.1.
#
#   bash bench/bootscript.sh            # 10,000 nodes, 10 s per run
#   NODES=2000 DURATION=5 bash bench/bootscript.sh
#   REPLICAS=2 bash bench/bootscript.sh # two replicas on one PostgreSQL (scripts/pg.sh, durable):
#                                       # one replica's figure, then both behind two wrk halves
set -euo pipefail
cd "$(dirname "$0")/.."
REPLICAS=${REPLICAS:-1}
NODES=${NODES:-10000}
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null
fi
# RACKBOOT_BIN: measure another build (e.g. an older commit's, to compare in one sitting).
if [ -n "${RACKBOOT_BIN:-}" ]; then
    BIN=$RACKBOOT_BIN
else
    cargo build --release --quiet
    BIN=$PWD/target/release/rackboot
fi

WORK=$(mktemp -d)
STORE_FLAGS=()
if [ "$REPLICAS" -gt 1 ]; then
    PG_URL=$(RACKBOOT_PG_DIR=/tmp/rackboot-bench-pg-$(id -u) PG_DURABLE=1 bash scripts/pg.sh)
    PSQL=$(compgen -G '/usr/lib/postgresql/*/bin/psql' | sort -V | tail -1)
    PG_DB=bench_script_$$
    "$PSQL" "$PG_URL" -qc "CREATE DATABASE $PG_DB"
    STORE_FLAGS=(--store-url "${PG_URL%/postgres}/$PG_DB")
fi
cleanup() {
    [ -n "${RB2_PID:-}" ] && kill "$RB2_PID" 2>/dev/null || true
    [ -n "${RB_PID:-}" ] && kill "$RB_PID" 2>/dev/null || true
    # The replicas first, then their database.
    [ -n "${PG_DB:-}" ] && { wait 2>/dev/null; "$PSQL" "$PG_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" 2>/dev/null || true; }
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RB_PORT=$(free_port)
NG_PORT=$(free_port)

# The boot plane as on a rack (its own listener; the control plane on HTTPS with
# authentication), without the per-address request limit: wrk is one address asking tens of
# thousands of times a second, which that limit exists to stop.
source bench/appliance.sh
start_appliance secure "$WORK/data" "$RB_PORT" "${STORE_FLAGS[@]}" --advertise-url "http://10.0.0.1:8080" --tftp-listen off --log-level warn

echo "registering $NODES nodes..." >&2
python3 - "$NODES" "$WORK" <<'PY'
import json, sys
n, work = int(sys.argv[1]), sys.argv[2]
nodes, macs = [], []
for i in range(n):
    cab, slot = 3000 + i // 640, (i % 640) // 10
    x = f"x{cab}c0s{slot}b0n{i % 10}"
    mac = "02:00:%02x:%02x:%02x:%02x" % ((i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)
    nodes.append({"xname": x, "nid": i + 1, "role": "Compute", "macs": [mac]})
    macs.append(mac)
json.dump({"nodes": nodes}, open(f"{work}/inventory.json", "w"))
json.dump([n["xname"] for n in nodes], open(f"{work}/hosts.json", "w"))
with open(f"{work}/macs.lua", "w") as f:
    f.write("macs = {" + ",".join(f'"{m}"' for m in macs) + "}\n")
    f.write('math.randomseed(42)\nrequest = function()\n  return wrk.format("GET", "/boot/v1/bootscript?mac=" .. macs[math.random(#macs)])\nend\n')
PY
START=$(date +%s.%N)
"$BIN" inventory import "$WORK/inventory.json" --quiet
END=$(date +%s.%N)
python3 -c "import json;print(json.dumps({'hosts':json.load(open('$WORK/hosts.json')),'kernel':'http://10.0.0.1:8080/images/k','initrd':'http://10.0.0.1:8080/images/i','params':'console=ttyS0,115200 ip=dhcp quiet root=live:http://10.0.0.1:8080/images/rootfs'}))" >"$WORK/bp.json"
curl -sf "${CURL_CTL[@]}" -X PUT -d @"$WORK/bp.json" "$RACKBOOT_URL/boot/v1/bootparameters" >/dev/null
python3 -c "print('import of $NODES nodes took %.1f s' % ($END - $START))"

# A static file of the same size as one script, served by nginx.
SAMPLE_MAC=$(python3 -c "print('02:00:00:00:00:01')")
curl -sf "$BOOT_URL/boot/v1/bootscript?mac=$SAMPLE_MAC" >"$WORK/script.ipxe"
SIZE=$(stat -c %s "$WORK/script.ipxe")
mkdir -p "$WORK/www" "$WORK/ngtmp"
head -c "$SIZE" /dev/urandom | base64 -w0 | head -c "$SIZE" >"$WORK/www/script.ipxe"
cat >"$WORK/nginx.conf" <<NGX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/ngtmp; proxy_temp_path $WORK/ngtmp; fastcgi_temp_path $WORK/ngtmp;
  uwsgi_temp_path $WORK/ngtmp; scgi_temp_path $WORK/ngtmp;
  server { listen 127.0.0.1:$NG_PORT; root $WORK/www; }
}
NGX
chmod 755 "$WORK" "$WORK/www"; chmod 644 "$WORK/www/script.ipxe"
nginx -c "$WORK/nginx.conf" -p "$WORK"
curl -sf "http://127.0.0.1:$NG_PORT/script.ipxe" >/dev/null || { echo "nginx does not serve the sample file" >&2; exit 1; }
sleep 0.3

run_wrk() { wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$@" 2>&1; }
parse() { # stdin: wrk output -> "rps p99_ms"
    python3 -c '
import re, sys
t = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", t)
v, u = float(m.group(1)), m.group(2)
p99 = v / 1000 if u == "us" else v * 1000 if u == "s" else v
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(rps, p99, errs.group(1) if errs else 0)'
}
echo "warming up..." >&2
wrk -t1 -c4 -d2s -s "$WORK/macs.lua" "$BOOT_URL" >/dev/null 2>&1
read -r RB_RPS RB_P99 RB_ERR < <(run_wrk -s "$WORK/macs.lua" "$BOOT_URL" | parse)
read -r NG_RPS NG_P99 NG_ERR < <(run_wrk "http://127.0.0.1:$NG_PORT/script.ipxe" | parse)
RSS=$(awk '/VmHWM/ {print $2}' /proc/$RB_PID/status)

if [ "$REPLICAS" -gt 1 ]; then
    # The second replica: its own data directory with a copy of the first's seal.key, the
    # same database; it serves the boot index it builds from the store.
    RB2_PORT=$(free_port)
    install -d -m 0700 "$WORK/data2"
    cp -p "$WORK/data/seal.key" "$WORK/data2/seal.key"
    "$BIN" serve --data-dir "$WORK/data2" --listen "127.0.0.1:$RB2_PORT" --control-listen "127.0.0.1:$(free_port)" \
        --boot-rate-limit 0 "${STORE_FLAGS[@]}" --advertise-url "http://10.0.0.2:8080" --tftp-listen off --log-level warn &
    RB2_PID=$!
    BOOT2_URL="http://127.0.0.1:$RB2_PORT"
    for _ in $(seq 300); do curl -sf "$BOOT2_URL/boot/v1/bootscript?mac=$SAMPLE_MAC" 2>/dev/null | grep -q kernel && break; sleep 0.1; done
    wrk -t1 -c4 -d2s -s "$WORK/macs.lua" "$BOOT2_URL" >/dev/null 2>&1
    half=$(( CONNS / 2 ))
    run_wrk_c() { wrk -t"$THREADS" -c"$half" -d"${DURATION}s" --latency "$@" 2>&1; }
    run_wrk_c -s "$WORK/macs.lua" "$BOOT_URL" >"$WORK/wrk.a" &
    WA=$!
    run_wrk_c -s "$WORK/macs.lua" "$BOOT2_URL" >"$WORK/wrk.b"
    wait "$WA"
    read -r A_RPS A_P99 A_ERR < <(parse <"$WORK/wrk.a")
    read -r B_RPS B_P99 B_ERR < <(parse <"$WORK/wrk.b")
    RSS2=$(awk '/VmHWM/ {print $2}' /proc/$RB2_PID/status)
    python3 - "$RB_RPS" "$A_RPS" "$A_P99" "$A_ERR" "$B_RPS" "$B_P99" "$B_ERR" "$RSS2" "$half" <<'PY'
import os, sys
one, a, a99, aerr, b, b99, berr, rss2, half = sys.argv[1:]
one, a, b = float(one), float(a), float(b)
print(f"two replicas on one PostgreSQL, wrk -c{half} against each at once:")
print(f"  replica A {a:10.0f} req/s   p99 {float(a99):6.2f} ms   non-2xx {aerr}")
print(f"  replica B {b:10.0f} req/s   p99 {float(b99):6.2f} ms   non-2xx {berr}   peak RSS {int(rss2)/1024:.0f} MiB")
print(f"  both      {a + b:10.0f} req/s = {(a + b) / one:.2f}x one replica (goal >= 1.8x where cores allow;"
      f" here {os.cpu_count()} cores run wrk, both replicas and PostgreSQL's idle server)")
PY
fi

python3 - "$RB_RPS" "$RB_P99" "$RB_ERR" "$NG_RPS" "$NG_P99" "$NG_ERR" "$SIZE" "$NODES" "$RSS" <<'PY'
import sys
rb, rb99, rberr, ng, ng99, ngerr, size, nodes, rss = sys.argv[1:]
rb, rb99, ng, ng99 = float(rb), float(rb99), float(ng), float(ng99)
print(f"bootscript benchmark: {nodes} nodes, script {size} bytes, wrk -c{__import__('os').environ.get('CONNS','32')}")
print(f"  rackboot /boot/v1/bootscript?mac=<random>  {rb:10.0f} req/s   p99 {rb99:6.2f} ms   non-2xx {rberr}   peak RSS {int(rss)/1024:.0f} MiB")
print(f"  nginx static file of the same size        {ng:10.0f} req/s   p99 {ng99:6.2f} ms   non-2xx {ngerr}")
print(f"  ratio rackboot/nginx: {rb/ng:.2f}x   (goal >= 0.5x with p99 < 5 ms)")
PY
