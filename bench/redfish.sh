#!/usr/bin/env bash
# Benchmark (not a test): power on 10,000 systems spread over 1,000 simulated BMCs.
#
# `rackboot sim bmcs` serves 1,000 SimBmcs (10 systems each, 50 ms added to every Redfish
# answer) in one process; rackboot discovers them, then one PCS transition powers all
# 10,000 nodes on with a per-BMC cap of 2 requests in flight. Prints the wall time from
# POST /transitions to `completed`, the ideal, the ratio, and rackboot's peak RSS.
#
# The ideal: each node needs 3 round trips (read power state, POST the reset, read it back
# to confirm), and a BMC serves 2 at a time, so a BMC with 10 nodes needs
# 3 × ceil(10 / 2) = 15 latencies = 750 ms. Goal: wall ≤ 1.5 × ideal.
#
#   bash bench/redfish.sh
#   BMCS=100 SYSTEMS=10 LATENCY_MS=50 bash bench/redfish.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The lab shape (one plain-HTTP listener, authentication off): lab_flags.
source bench/appliance.sh
BMCS=${BMCS:-1000}
SYSTEMS=${SYSTEMS:-10}
LATENCY_MS=${LATENCY_MS:-50}
CAP=${CAP:-2}

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet
BIN=$PWD/target/release/rackboot

WORK=$(mktemp -d)
cleanup() {
    [ -n "${RB_PID:-}" ] && kill "$RB_PID" 2>/dev/null || true
    [ -n "${SIM_PID:-}" ] && kill "$SIM_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RB_PORT=$(free_port)

# The global cap is raised so that only the per-BMC cap (the thing measured) binds.
"$BIN" serve $(lab_flags) --data-dir "$WORK/data" --listen "127.0.0.1:$RB_PORT" --advertise-url "http://10.0.0.1:8080" --tftp-listen off \
    --log-level "${LOG_LEVEL:-warn}" --bmc-concurrency "$CAP" --bmc-global-concurrency "${GLOBAL_CAP:-$((BMCS * CAP))}" \
    --power-confirm-ms 50 --power-sample-secs 3600 &
RB_PID=$!
export RACKBOOT_URL="http://127.0.0.1:$RB_PORT"
for _ in $(seq 50); do curl -sf "$RACKBOOT_URL/healthz" >/dev/null && break; sleep 0.1; done

# The fleet starts after rackboot listens, so its 1,000 ports cannot take rackboot's.
"$BIN" sim bmcs --count "$BMCS" --systems "$SYSTEMS" --latency-ms "$LATENCY_MS" \
    --endpoints "$WORK/endpoints.json" 2>"$WORK/sim.log" &
SIM_PID=$!
for _ in $(seq 200); do [ -s "$WORK/endpoints.json" ] && break; sleep 0.1; done
[ -s "$WORK/endpoints.json" ] || { cat "$WORK/sim.log"; exit 1; }


python3 - "$RACKBOOT_URL" "$WORK/endpoints.json" "$RB_PID" "$SIM_PID" "$BMCS" "$SYSTEMS" "$LATENCY_MS" "$CAP" <<'PY'
import json, math, os, sys, time, urllib.request

base, eps_file, pid, sim_pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
bmcs, systems, latency_ms, cap = (int(a) for a in sys.argv[5:9])

def cpu_secs(p):
    fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        text = r.read()
        return json.loads(text) if text else None

def rss_peak_mib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

eps = json.load(open(eps_file))
t0 = time.monotonic()
call("POST", "/apis/smd/hsm/v2/Inventory/RedfishEndpoints", eps)
while True:
    listed = call("GET", "/apis/smd/hsm/v2/Inventory/RedfishEndpoints")["RedfishEndpoints"]
    done = [e for e in listed if e["DiscoveryInfo"]["LastDiscoveryStatus"] not in ("NotYetQueried", "DiscoveryStarted")]
    if len(done) == len(listed):
        break
    time.sleep(0.2)
discovery = time.monotonic() - t0
bad = [e["ID"] for e in listed if e["DiscoveryInfo"]["LastDiscoveryStatus"] != "DiscoverOK"]
assert not bad, f"discovery failed for {len(bad)} BMCs, e.g. {bad[:3]}"
nodes = [c["ID"] for c in call("GET", "/apis/smd/hsm/v2/Inventory/ComponentEndpoints")["ComponentEndpoints"]]
assert len(nodes) == bmcs * systems, len(nodes)

# Let the power monitor's first pass (poked by discovery) finish, so it does not share the BMCs.
while True:
    ops = {o["name"]: o for o in call("GET", "/apis/rackboot/v1/operators")["operators"]}
    if ops["power-monitor"]["activations"] >= 2 and not ops["power-monitor"]["running"]:
        break
    time.sleep(0.2)

cpu0 = (cpu_secs(pid), cpu_secs(sim_pid))
t0 = time.monotonic()
tid = call("POST", "/apis/power-control/v1/transitions",
           {"operation": "on", "location": [{"xname": x} for x in nodes]})["transitionID"]
# Poll the list (headers and counts), not the transition with its 10,000 tasks.
while True:
    t = next(x for x in call("GET", "/apis/power-control/v1/transitions")["transitions"] if x["transitionID"] == tid)
    if t["transitionStatus"] in ("completed", "aborted"):
        break
    time.sleep(0.02)
wall = time.monotonic() - t0
cpu = (cpu_secs(pid) - cpu0[0], cpu_secs(sim_pid) - cpu0[1])
counts = t["taskCounts"]
assert counts["succeeded"] == len(nodes), counts

ideal = 3 * math.ceil(systems / cap) * latency_ms / 1000
print(f"discovery of {bmcs} BMCs / {len(nodes)} systems: {discovery:.1f} s")
print(f"power on {len(nodes)} systems over {bmcs} SimBmcs, {latency_ms} ms latency, per-BMC cap {cap}:")
print(f"  rackboot wall time : {wall:.3f} s")
print(f"  ideal              : {ideal:.3f} s  (3 round trips x ceil({systems}/{cap}) batches x {latency_ms} ms)")
print(f"  ratio              : {wall / ideal:.2f}x  (goal <= 1.5x)")
print(f"  CPU during the run : rackboot {cpu[0]:.2f} s, SimBmc fleet {cpu[1]:.2f} s (2 cores shared)")
print(f"  rackboot peak RSS  : {rss_peak_mib():.0f} MiB")
PY
