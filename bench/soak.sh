#!/usr/bin/env bash
# Soak (not a test): Boot, Reboot and Shutdown sessions of 1,000 simulated netbooting nodes,
# one after the other for DURATION seconds, with boot-script and artifact load on the boot
# plane alongside. Every SAMPLE seconds it records rackboot's RSS and open file descriptors
# and the latency of a control-plane read; at the end it prints the error rate (goal 0),
# the RSS and descriptor curves (goal: flat — the last third's mean against the first
# third's, as a ratio), and API latency percentiles, and writes OUT/soak.csv and an SVG plot
# (OUT/soak.svg; the committed one is bench/soak.svg).
#
#   bash bench/soak.sh                        # 1,000 nodes, 10 minutes
#   NODES=200 DURATION=120 bash bench/soak.sh # a quick look
#
# Knobs: NODES (1000), DURATION (600 s), SAMPLE (5 s), LATENCY_MS (20, added to every
# Redfish answer), LOAD_RPS (200 boot-plane requests per second: scripts, and every tenth a
# kernel), OUT (target/bench-soak). Every client here (nodes, load, API) is 127.0.0.1, so the
# per-address connection cap is lifted. There is no peer to run beside: the figure is how flat
# rackboot's own curves stay (end/start ratios), in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/appliance.sh
NODES=${NODES:-1000}
DURATION=${DURATION:-600}
SAMPLE=${SAMPLE:-5}
LATENCY_MS=${LATENCY_MS:-20}
LOAD_RPS=${LOAD_RPS:-200}
OUT=${OUT:-$PWD/target/bench-soak}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ -n "${RACKBOOT_BIN:-}" ]; then
    BIN=$RACKBOOT_BIN
else
    cargo build --release --quiet
    BIN=$PWD/target/release/rackboot
fi
WORK=$(mktemp -d)
mkdir -p "$OUT"
SIM_PID=
cleanup() {
    [ -n "${RB_PID:-}" ] && kill "$RB_PID" 2>/dev/null || true
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    cp "$WORK"/*.log "$OUT"/ 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RB_PORT=$(free_port)
URL="http://127.0.0.1:$RB_PORT"
"$BIN" serve $(lab_flags) --data-dir "$WORK/data" --listen "127.0.0.1:$RB_PORT" --advertise-url "$URL" \
    --tftp-listen off --bos-poll-ms 1000 --log-level warn \
    >"$WORK/server.log" 2>&1 &
RB_PID=$!
for _ in $(seq 100); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$URL/healthz" >/dev/null || { cat "$WORK/server.log"; exit 1; }
"$BIN" sim bmcs --count "$NODES" --systems 1 --latency-ms "$LATENCY_MS" --bmcs-per-cabinet 8 \
    --first-cabinet 1000 --netboot "$URL" --status-secs 5 --endpoints "$WORK/endpoints.json" \
    2>"$WORK/sim.log" &
SIM_PID=$!
for _ in $(seq 600); do [ -s "$WORK/endpoints.json" ] && break; sleep 0.1; done
[ -s "$WORK/endpoints.json" ] || { cat "$WORK/sim.log"; exit 1; }

python3 - "$URL" "$WORK" "$OUT" "$DURATION" "$SAMPLE" "$LOAD_RPS" "$RB_PID" <<'PY'
import json, os, random, sys, threading, time, urllib.request

base, work, out = sys.argv[1], sys.argv[2], sys.argv[3]
duration, sample, rps = float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
rb_pid = sys.argv[7]
HSM, BOS = "/apis/smd/hsm/v2", "/apis/bos/v2"
errors = {"api": 0, "load": 0, "sessions": 0}
lock = threading.Lock()

def call(method, path, body=None, timeout=300):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        text = r.read()
    return json.loads(text) if text else None

def status(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024

eps = json.load(open(f"{work}/endpoints.json"))["RedfishEndpoints"]
call("POST", f"{HSM}/Inventory/RedfishEndpoints", {"RedfishEndpoints": eps})
while any(e["DiscoveryInfo"]["LastDiscoveryStatus"] in ("NotYetQueried", "DiscoveryStarted")
          for e in call("GET", f"{HSM}/Inventory/RedfishEndpoints")["RedfishEndpoints"]):
    time.sleep(0.5)
nodes = sorted(c["ID"] for c in call("GET", f"{HSM}/State/Components?type=Node")["Components"])
img = f"{work}/data/artifacts/boot-images/soak"
os.makedirs(img, exist_ok=True)
open(f"{img}/kernel", "w").write("kernel of soak" * 100000)
open(f"{img}/initrd", "w").write("initrd of soak" * 100000)
json.dump({"version": "1.0", "created": "2026-12-03", "artifacts": [
    {"link": {"path": "s3://boot-images/soak/kernel", "etag": "k", "type": "s3"},
     "type": "application/vnd.cray.image.kernel"},
    {"link": {"path": "s3://boot-images/soak/initrd", "etag": "i", "type": "s3"},
     "type": "application/vnd.cray.image.initrd"}]}, open(f"{img}/manifest.json", "w"))
call("POST", f"{HSM}/groups", {"label": "soak", "members": {"ids": nodes}})
call("PUT", f"{BOS}/sessiontemplates/soak", {"enable_cfs": False, "boot_sets": {"compute": {
    "type": "s3", "path": "s3://boot-images/soak/manifest.json", "node_groups": ["soak"],
    "kernel_parameters": "console=ttyS0,115200"}}})

stop = threading.Event()
load_done = [0]

def load():
    # Boot scripts of random nodes, and every tenth request the kernel its script names.
    gap = 1.0 / rps
    n = 0
    while not stop.is_set():
        t = time.monotonic()
        x = random.choice(nodes)
        try:
            with urllib.request.urlopen(f"{base}/boot/v1/bootscript?name={x}", timeout=30) as r:
                script = r.read().decode()
            if n % 10 == 0:
                k = next((l.split()[1] for l in script.splitlines() if l.startswith("kernel ")), None)
                if k and k.startswith("http"):
                    with urllib.request.urlopen(k, timeout=60) as r:
                        while r.read(1 << 16):
                            pass
        except Exception:
            with lock:
                errors["load"] += 1
        n += 1
        load_done[0] = n
        time.sleep(max(0.0, gap - (time.monotonic() - t)))

def cycles():
    ops = ["boot", "reboot", "shutdown"]
    i = 0
    while not stop.is_set():
        op = ops[i % 3]
        try:
            name = call("POST", f"{BOS}/sessions", {"template_name": "soak", "operation": op})["name"]
            while not stop.is_set():
                s = call("GET", f"{BOS}/sessions/{name}")
                if s["status"]["status"] == "complete":
                    st = call("GET", f"{BOS}/sessions/{name}/status")
                    if st["percent_successful"] != 100:
                        with lock:
                            errors["sessions"] += 1
                        print(f"session {name} ({op}): {json.dumps(st)[:500]}", file=sys.stderr)
                    break
                time.sleep(1)
            else:
                break
            call("DELETE", f"{BOS}/sessions/{name}")
        except Exception as e:
            with lock:
                errors["api"] += 1
            print(f"cycle {i} ({op}): {e}", file=sys.stderr)
            time.sleep(1)
        i += 1
        cycles_done[0] = i

cycles_done = [0]
threads = [threading.Thread(target=load, daemon=True), threading.Thread(target=cycles, daemon=True)]
for t in threads:
    t.start()
samples, lat = [], []
t0 = time.monotonic()
while time.monotonic() - t0 < duration:
    t = time.monotonic()
    try:
        call("GET", f"{BOS}/components?session=none", timeout=30)
        call("GET", "/apis/rackboot/v1/operators", timeout=30)
        lat.append((time.monotonic() - t) * 1000 / 2)
    except Exception:
        errors["api"] += 1
    samples.append((round(time.monotonic() - t0, 1), status(rb_pid, "VmRSS"),
                    len(os.listdir(f"/proc/{rb_pid}/fd")), cycles_done[0], load_done[0]))
    time.sleep(max(0.0, sample - (time.monotonic() - t)))
stop.set()
for t in threads:
    t.join(timeout=120)

with open(f"{out}/soak.csv", "w") as f:
    f.write("t_s,rss_mib,fds,sessions_done,boot_plane_requests\n")
    for s in samples:
        f.write(",".join(str(v) for v in s) + "\n")
third = max(1, len(samples) // 3)
def mean(xs): return sum(xs) / len(xs)
rss0, rss1 = mean([s[1] for s in samples[:third]]), mean([s[1] for s in samples[-third:]])
fd0, fd1 = mean([s[2] for s in samples[:third]]), mean([s[2] for s in samples[-third:]])
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))]
total_req = load_done[0] + cycles_done[0]
rows = [
    ("nodes, duration", f"{len(nodes):,} nodes, {duration:.0f} s, sample every {sample:g} s"),
    ("sessions completed (boot/reboot/shutdown)", f"{cycles_done[0]}"),
    ("boot-plane requests (scripts + kernels)", f"{load_done[0]:,}"),
    ("errors (sessions not 100 % / API / boot plane)", f"{errors['sessions']} / {errors['api']} / {errors['load']}"),
    ("RSS first third → last third", f"{rss0:.0f} → {rss1:.0f} MiB (ratio {rss1 / rss0:.3f})"),
    ("open fds first third → last third", f"{fd0:.0f} → {fd1:.0f} (ratio {fd1 / fd0:.3f})"),
    ("peak RSS", f"{status(rb_pid, 'VmHWM'):.0f} MiB"),
    ("API read latency p50 / p99 / max", f"{pct(50):.1f} / {pct(99):.1f} / {lat[-1]:.1f} ms"),
]
w = max(len(k) for k, _ in rows)
print(f"| {'':<{w}} | figure |")
print(f"|{'-' * (w + 2)}|--------|")
for k, v in rows:
    print(f"| {k:<{w}} | {v} |")

# The curves as an SVG: RSS (MiB) and open fds over time, sessions done marked along.
W, H, P = 720, 300, 40
tmax = samples[-1][0] or 1
def poly(idx, vmax, colour):
    pts = " ".join(f"{P + s[0] / tmax * (W - 2 * P):.1f},{H - P - s[idx] / vmax * (H - 2 * P):.1f}" for s in samples)
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>'
rmax = max(s[1] for s in samples) * 1.2
fmax = max(s[2] for s in samples) * 1.2
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<line x1="{P}" y1="{H - P}" x2="{W - P}" y2="{H - P}" stroke="black"/>',
       f'<line x1="{P}" y1="{P}" x2="{P}" y2="{H - P}" stroke="black"/>',
       poly(1, rmax, "#1f77b4"), poly(2, fmax, "#d62728"),
       f'<text x="{P}" y="20">soak: {len(nodes)} nodes, {cycles_done[0]} sessions in {duration:.0f} s</text>',
       f'<text x="{W - 260}" y="20" fill="#1f77b4">RSS (0–{rmax:.0f} MiB)</text>',
       f'<text x="{W - 130}" y="20" fill="#d62728">open fds (0–{fmax:.0f})</text>',
       f'<text x="{W - P - 40}" y="{H - P + 20}">{tmax:.0f} s</text>',
       f'<text x="{P}" y="{H - P + 20}">0</text></svg>']
open(f"{out}/soak.svg", "w").write("\n".join(svg))
print(f"\ncurves: {out}/soak.csv, {out}/soak.svg")
sys.exit(1 if sum(errors.values()) else 0)
PY
