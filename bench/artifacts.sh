#!/usr/bin/env bash
# Benchmark (not a test): the boot-artifact proxy.
#
# (1) Warm cache: 64 concurrent clients each download a 64 MiB artifact through
#     /artifacts/<token>/kernel, and, in the same run, from nginx serving the same file.
#     Prints aggregate throughput of both, the ratio (goal >= 0.8x) and both peak RSS.
# (2) Cold object, origin s3s-fs (a real S3 server): 200 nodes (200 tokens) ask at once for
#     an uncached object. Prints how many GETs reached the origin (must be 1) and the wall
#     time beside one single cold download of a same-size object (goal <= 1.5x).
#
#   bash bench/artifacts.sh
#   SIZE_MB=16 CLIENTS=16 NODES=50 bash bench/artifacts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-64}
CLIENTS=${CLIENTS:-64}
NODES=${NODES:-200}
COLD_MB=${COLD_MB:-$SIZE_MB}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi
bash scripts/peers.sh
cargo build --release --quiet
BIN=$PWD/target/release/rackboot
S3FS=$PWD/.peers/bin/s3s-fs

WORK=$(mktemp -d)
cleanup() {
    for p in ${RB_PID:-} ${S3_PID:-}; do kill "$p" 2>/dev/null || true; done
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RB_PORT=$(free_port); NG_PORT=$(free_port); S3_PORT=$(free_port)

# The origin: s3s-fs with a boot-images bucket.
mkdir -p "$WORK/s3/boot-images"
"$S3FS" --host 127.0.0.1 --port "$S3_PORT" --access-key bench --secret-key bench-secret "$WORK/s3" >/dev/null 2>&1 &
S3_PID=$!
# The boot plane as on a rack (the control plane on HTTPS with authentication), without the
# per-address request limit (every client here is 127.0.0.1).
source bench/appliance.sh
start_appliance secure "$WORK/data" "$RB_PORT" --advertise-url "http://10.0.0.1:8080" --tftp-listen off \
    --log-level warn --s3-endpoint "http://127.0.0.1:$S3_PORT" --s3-access-key bench --s3-secret-key bench-secret

# Artifacts: one warm object, two cold ones of the same size.
head -c $((SIZE_MB << 20)) /dev/urandom >"$WORK/warm"
head -c $((COLD_MB << 20)) /dev/urandom >"$WORK/cold1"
head -c $((COLD_MB << 20)) /dev/urandom >"$WORK/cold2"
"$BIN" images import --name warm --kernel "$WORK/warm" --quiet >/dev/null
"$BIN" images import --name cold1 --kernel "$WORK/cold1" --quiet >/dev/null
"$BIN" images import --name cold2 --kernel "$WORK/cold2" --quiet >/dev/null

# Nodes: node 0 boots `warm` and `cold1`'s owner is node 1; every other node boots cold2.
python3 - "$NODES" "$WORK" <<'PY'
import json, sys
n, work = int(sys.argv[1]), sys.argv[2]
nodes = [{"xname": f"x3000c0s{i // 8}b0n{i % 8}", "role": "Compute", "macs": ["02:00:00:00:%02x:%02x" % (i >> 8, i & 255)]}
         for i in range(n + 2)]
json.dump({"nodes": nodes}, open(f"{work}/inv.json", "w"))
PY
"$BIN" inventory import "$WORK/inv.json" --quiet >/dev/null
bp() { curl -sf "${CURL_CTL[@]}" -X PUT -d "{\"hosts\":[\"$1\"],\"kernel\":\"s3://boot-images/$2/kernel\"}" "$RACKBOOT_URL/boot/v1/bootparameters" >/dev/null; }
bp x3000c0s0b0n0 warm
bp x3000c0s0b0n1 cold1
bp Compute cold2
url_of() { # MAC -> artifact URL on the test listener
    curl -sf "$BOOT_URL/boot/v1/bootscript?mac=$1" | awk '/^kernel --name kernel/ {print $4}' |
        sed "s#http://10.0.0.1:8080#$BOOT_URL#"
}
WARM_URL=$(url_of 02:00:00:00:00:00)
COLD1_URL=$(url_of 02:00:00:00:00:01)
: >"$WORK/cold.urls"
for i in $(seq 2 $((NODES + 1))); do url_of "$(printf '02:00:00:00:%02x:%02x' $((i >> 8)) $((i & 255)))" >>"$WORK/cold.urls"; done

# nginx serving the same warm file.
mkdir -p "$WORK/www" "$WORK/ngtmp"; cp "$WORK/warm" "$WORK/www/warm"
cat >"$WORK/nginx.conf" <<NGX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err warn;
events { worker_connections 1024; }
http {
  access_log off; sendfile on;
  client_body_temp_path $WORK/ngtmp; proxy_temp_path $WORK/ngtmp; fastcgi_temp_path $WORK/ngtmp;
  uwsgi_temp_path $WORK/ngtmp; scgi_temp_path $WORK/ngtmp;
  server { listen 127.0.0.1:$NG_PORT; root $WORK/www; }
}
NGX
chmod 755 "$WORK" "$WORK/www"; chmod 644 "$WORK/www/warm"
nginx -c "$WORK/nginx.conf" -p "$WORK"
NG_PID=$(cat "$WORK/nginx.pid")

# Warm the cache with one full read, then measure both the same way.
curl -sf -o /dev/null "$WARM_URL"
many() { # URL COUNT -> wall seconds for COUNT concurrent full downloads
    local start end
    start=$(date +%s.%N)
    seq "$2" | xargs -P "$2" -I{} curl -sf -o /dev/null "$1"
    end=$(date +%s.%N)
    python3 -c "print($end - $start)"
}
RB_WALL=$(many "$WARM_URL" "$CLIENTS")
NG_WALL=$(many "http://127.0.0.1:$NG_PORT/warm" "$CLIENTS")
RB_RSS=$(awk '/VmHWM/ {print $2}' /proc/$RB_PID/status)
NG_WORKER=$(pgrep -P "$NG_PID" | head -1)
NG_RSS=$(awk '/VmHWM/ {print $2}' /proc/$NG_WORKER/status)

# The same number of nodes at once for the warm (cached) object, as a yardstick for the storm.
: >"$WORK/warm.urls"; for _ in $(seq "$NODES"); do echo "$WARM_URL" >>"$WORK/warm.urls"; done
start=$(date +%s.%N)
xargs -P "$NODES" -n1 curl -sf -o /dev/null <"$WORK/warm.urls"
end=$(date +%s.%N)
WARM_STORM=$(python3 -c "print($end - $start)")

# Cold: one single download of cold1, then NODES nodes at once for cold2.
ORIGIN0=$(curl -sf "${CURL_CTL[@]}" "$RACKBOOT_URL/metrics" | awk '/^rackboot_artifact_origin_gets_total/ {print $2}')
ONE=$(many "$COLD1_URL" 1)
ORIGIN1=$(curl -sf "${CURL_CTL[@]}" "$RACKBOOT_URL/metrics" | awk '/^rackboot_artifact_origin_gets_total/ {print $2}')
start=$(date +%s.%N)
xargs -P "$NODES" -n1 curl -sf -o /dev/null <"$WORK/cold.urls"
end=$(date +%s.%N)
STORM=$(python3 -c "print($end - $start)")
ORIGIN2=$(curl -sf "${CURL_CTL[@]}" "$RACKBOOT_URL/metrics" | awk '/^rackboot_artifact_origin_gets_total/ {print $2}')

python3 - "$SIZE_MB" "$CLIENTS" "$RB_WALL" "$NG_WALL" "$RB_RSS" "$NG_RSS" "$NODES" "$COLD_MB" "$ONE" "$STORM" "${ORIGIN0:-0}" "${ORIGIN1:-0}" "${ORIGIN2:-0}" "$WARM_STORM" <<'PY'
import sys
size, clients, rb, ng, rbrss, ngrss, nodes, cold, one, storm, o0, o1, o2, warm_storm = sys.argv[1:]
size, clients, rb, ng = int(size), int(clients), float(rb), float(ng)
total = size * clients
print(f"(1) warm: {clients} clients x {size} MiB")
print(f"  rackboot /artifacts/<token>/kernel : {total / rb:8.0f} MiB/s  ({rb:.2f} s)  peak RSS {int(rbrss) / 1024:.0f} MiB")
print(f"  nginx static file (sendfile)       : {total / ng:8.0f} MiB/s  ({ng:.2f} s)  peak RSS {int(ngrss) / 1024:.0f} MiB")
print(f"  ratio rackboot/nginx: {ng / rb:.2f}x  (goal >= 0.8x)")
print(f"(2) cold: {nodes} nodes at once for an uncached {cold} MiB object from s3s-fs")
print(f"  origin GETs: {int(float(o2)) - int(float(o1))} (must be 1); single cold download took {int(float(o1)) - int(float(o0))} GET")
print(f"  wall: storm {float(storm):.2f} s vs one cold download {float(one):.2f} s -> {float(storm) / float(one):.2f}x  (goal <= 1.5x)")
print(f"  the same {nodes} downloads of a cached object: {float(warm_storm):.2f} s -> the cold storm costs {float(storm) / float(warm_storm):.2f}x that")
PY
