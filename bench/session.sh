#!/usr/bin/env bash
# Benchmark (not a test): one BOS v2 Boot session over 10,000 simulated netbooting nodes.
#
# `rackboot sim bmcs --netboot` serves one SimBmc per node (one system each, 20 ms added to
# every Redfish answer) and, for every system, a simulated node that, when its system powers
# on, fetches its iPXE script, kernel and initrd from rackboot and reports its boot token like
# bos-reporter. rackboot discovers all BMCs (one bulk POST of RedfishEndpoints), then one Boot
# session over an HSM group of all nodes runs from POST /apis/bos/v2/sessions until the
# session is `complete`. Prints the time from create to complete, per 1,000 nodes, the peak
# RSS of rackboot and of the simulator, and the discovery time. Goal: ≤ 60 s for 10,000
# nodes on 2 cores.
#
#   bash bench/session.sh                  # 10,000 nodes
#   NODES=1000 bash bench/session.sh       # a quick check
#   bash bench/session.sh --store postgres # the session on SQLite, then on PostgreSQL, and the ratio
#
# Knobs (environment): NODES (10000), CFS_LAYERS (0: no configuration; N: a built-in CFS
# configuration of N layers that every node applies and reports after booting), LATENCY_MS (20), BOS_POLL_MS (1000: every BOS
# operator runs at least this often; BOS itself polls every 15 s), GLOBAL_CAP (1000 requests
# in flight to all BMCs) and BMC_CAP (2 per BMC), both rackboot's defaults, PER_SIM (5000
# BMCs per simulator process), OUT (target/bench-session: server and simulator logs, the
# session's samples and final status), LOG_LEVEL (default: info, plus every operator
# activation with its duration and report, which the script summarises), PERF=1 (record a perf
# profile of rackboot over the session into OUT/perf.data; slows the run by ~10%).
#
# Why several simulator processes: the hard open-file limit here is 20,000 (`ulimit -Hn`;
# raising it needs CAP_SYS_RESOURCE), and a simulator holds per BMC a listener and rackboot's
# connection, plus its nodes' connections to rackboot: 10,000 BMCs do not fit in one process.
# rackboot itself peaks near 18,000 open files at 10,000 nodes (printed), so a real
# deployment of that size wants a higher limit (LimitNOFILE).
set -euo pipefail
cd "$(dirname "$0")/.."
# The lab shape (one plain-HTTP listener, authentication off): lab_flags.
source bench/appliance.sh

# `--store postgres`: the same session on SQLite and then on PostgreSQL (Debian's server,
# started by scripts/pg.sh with its own data directory and PostgreSQL's default durability),
# one after the other in this run, then both figures side by side with the ratio.
if [ "${1:-}" = --store ]; then
    case "${2:-}" in
    sqlite) STORE=sqlite ;;
    postgres)
        cargo build --release --quiet
        export RACKBOOT_BIN=${RACKBOOT_BIN:-$PWD/target/release/rackboot}
        base_out=${OUT:-$PWD/target/bench-session}
        for s in sqlite postgres; do
            echo "== store: $s" >&2
            STORE=$s OUT=$base_out-$s bash "$0" | tee "$base_out-$s.txt"
        done
        python3 - "$base_out-sqlite.txt" "$base_out-postgres.txt" <<'PY'
import re, sys
def figures(path):
    rows = {}
    for line in open(path):
        m = re.match(r"^\| (.+?) +\| (.+) \|$", line)
        if m:
            rows[m[1].strip()] = m[2]
    wall = float(re.match(r"([\d.]+) s", rows["create -> complete, all stable"])[1])
    rss = float(re.match(r"([\d.]+) MiB", rows["peak RSS rackboot serve"])[1])
    cpu = float(re.match(r"([\d.]+) s", rows["CPU in the session (rackboot / sim)"])[1])
    return wall, rss, cpu, rows.get("CPU of the PostgreSQL server", "-")
(sw, sr, sc, _), (pw, pr, pc, pgc) = figures(sys.argv[1]), figures(sys.argv[2])
print(f"| store | create -> complete | peak RSS rackboot | rackboot CPU | PostgreSQL server CPU |")
print(f"|---|---|---|---|---|")
print(f"| SQLite | {sw:.1f} s | {sr:.0f} MiB | {sc:.1f} s | - |")
print(f"| PostgreSQL | {pw:.1f} s | {pr:.0f} MiB | {pc:.1f} s | {pgc} |")
print(f"| PostgreSQL / SQLite | {pw / sw:.2f}x | {pr / sr:.2f}x | {pc / sc:.2f}x | (goal: session within 1.5x) |")
PY
        exit 0 ;;
    *) echo "usage: bench/session.sh [--store sqlite|postgres]" >&2; exit 2 ;;
    esac
fi
STORE=${STORE:-sqlite}
NODES=${NODES:-10000}
LATENCY_MS=${LATENCY_MS:-20}
BOS_POLL_MS=${BOS_POLL_MS:-1000}
GLOBAL_CAP=${GLOBAL_CAP:-1000}
BMC_CAP=${BMC_CAP:-2}
PER_SIM=${PER_SIM:-5000}
OUT=${OUT:-$PWD/target/bench-session}
SIMS=$(( (NODES + PER_SIM - 1) / PER_SIM ))

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open-file limit: $(ulimit -n) (hard $(ulimit -Hn)); $SIMS simulator process(es) of up to $PER_SIM BMCs" >&2
# RACKBOOT_BIN: measure another build (e.g. an older commit's, to compare in one sitting).
if [ -n "${RACKBOOT_BIN:-}" ]; then
    BIN=$RACKBOOT_BIN
else
    cargo build --release --quiet
    BIN=$PWD/target/release/rackboot
fi
# The simulators run from SIM_BIN (default: the same build), so two servers can be compared
# against one simulator.
SIM_BIN=${SIM_BIN:-$BIN}

WORK=$(mktemp -d)
mkdir -p "$OUT"
SIM_PIDS=()
# STORE=postgres: a fresh database on a durable server of the bench's own.
STORE_FLAGS=()
PG_DIR=/tmp/rackboot-bench-pg-$(id -u)
if [ "$STORE" = postgres ]; then
    PG_URL=$(RACKBOOT_PG_DIR=$PG_DIR PG_DURABLE=1 bash scripts/pg.sh)
    PSQL=$(compgen -G '/usr/lib/postgresql/*/bin/psql' | sort -V | tail -1)
    PG_DB=bench_$$
    "$PSQL" "$PG_URL" -qc "CREATE DATABASE $PG_DB"
    STORE_FLAGS=(--store-url "${PG_URL%/postgres}/$PG_DB")
fi
cleanup() {
    [ -n "${RB_PID:-}" ] && kill "$RB_PID" 2>/dev/null || true
    for p in "${SIM_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    cp "$WORK"/*.log "$OUT"/ 2>/dev/null || true
    rm -rf "$WORK"
    [ -n "${PG_DB:-}" ] && "$PSQL" "$PG_URL" -qc "DROP DATABASE IF EXISTS $PG_DB" 2>/dev/null || true
}
trap cleanup EXIT

# Each BMC listens on an ephemeral port (32768-60999 here: 28,000 ports). A previous run
# leaves tens of thousands of sockets in TIME_WAIT for 60 s, and those ports cannot be bound
# ("Address already in use"), so wait for them to drain first.
for _ in $(seq 60); do
    tw=$(ss -tan state time-wait 2>/dev/null | tail -n +2 | wc -l)
    [ "$tw" -lt 2000 ] && break
    echo "waiting for $tw TIME_WAIT sockets of an earlier run to drain" >&2
    sleep 2
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RB_PORT=$(free_port)
export RACKBOOT_URL="http://127.0.0.1:$RB_PORT"

# Nodes talk only to the base URL they are given, so the advertise URL is the same address.
"$BIN" serve $(lab_flags) "${STORE_FLAGS[@]}" --data-dir "$WORK/data" --listen "127.0.0.1:$RB_PORT" --advertise-url "$RACKBOOT_URL" --tftp-listen off \
    --log-level "${LOG_LEVEL:-info,rackboot::operators=debug,rackboot::operators::discovery=warn}" --bos-poll-ms "$BOS_POLL_MS" \
    --bmc-concurrency "$BMC_CAP" --bmc-global-concurrency "$GLOBAL_CAP" >"$WORK/server.log" 2>&1 &
RB_PID=$!
for _ in $(seq 100); do curl -sf "$RACKBOOT_URL/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$RACKBOOT_URL/healthz" >/dev/null || { cat "$WORK/server.log"; exit 1; }

# The fleet starts after rackboot listens, so its ports cannot take rackboot's.
for ((k = 0; k < SIMS; k++)); do
    count=$(( NODES - k * PER_SIM < PER_SIM ? NODES - k * PER_SIM : PER_SIM ))
    "$SIM_BIN" sim bmcs --count "$count" --systems 1 --latency-ms "$LATENCY_MS" \
        --bmcs-per-cabinet 8 --first-cabinet $(( 1000 + k * ((PER_SIM + 7) / 8) )) --mac-seed $(( k * PER_SIM )) \
        --netboot "$RACKBOOT_URL" --status-secs 1 --endpoints "$WORK/endpoints.$k.json" 2>"$WORK/sim.$k.log" &
    SIM_PIDS+=($!)
done
for ((k = 0; k < SIMS; k++)); do
    for _ in $(seq 600); do [ -s "$WORK/endpoints.$k.json" ] && break; sleep 0.1; done
    [ -s "$WORK/endpoints.$k.json" ] || { cat "$WORK/sim.$k.log"; exit 1; }
done

# With PostgreSQL, the session waits for the leader election (a new leader waits out one
# hold of the lease first).
if [ "$STORE" = postgres ]; then
    for _ in $(seq 100); do curl -sf "$RACKBOOT_URL/readyz" | grep -q '"role":"leader"' && break; sleep 0.2; done
fi
STORE=$STORE PG_DIR=$PG_DIR python3 - "$RACKBOOT_URL" "$WORK" "$OUT" "$NODES" "$LATENCY_MS" "$BOS_POLL_MS" "$RB_PID" "${SIM_PIDS[@]}" <<'PY'
import glob, json, os, sys, time, urllib.request

base, work, out = sys.argv[1], sys.argv[2], sys.argv[3]
nodes_wanted, latency_ms, poll_ms = (int(a) for a in sys.argv[4:7])
rb_pid, sim_pids = sys.argv[7], sys.argv[8:]
HSM = "/apis/smd/hsm/v2"
BOS = "/apis/bos/v2"

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            text = r.read()
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code}: {e.read()[:2000].decode(errors='replace')}")
    return json.loads(text) if text else None

def proc_status(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024  # kB -> MiB

def cpu_secs(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))

def bmc_counters():
    # Every simulator prints its BMCs' request counters on SIGUSR1; sum the newest lines.
    import re, signal
    logs = sorted(glob.glob(f"{work}/sim.*.log"))
    before = [open(f, errors="replace").read().count("counters:") for f in logs]
    for p in sim_pids:
        os.kill(int(p), signal.SIGUSR1)
    total = [0, 0, 0, 0]
    for f, n in zip(logs, before):
        for _ in range(100):
            lines = [l for l in open(f, errors="replace") if l.startswith("counters:")]
            if len(lines) > n:
                break
            time.sleep(0.05)
        m = re.match(r"counters: (\d+) requests, (\d+) resets, (\d+) patches, (\d+) session logins", lines[-1])
        total = [t + int(x) for t, x in zip(total, m.groups())]
    return total

# 1. Register every BMC in one request and wait for discovery.
eps = []
for f in sorted(glob.glob(f"{work}/endpoints.*.json")):
    eps += json.load(open(f))["RedfishEndpoints"]
assert len(eps) == nodes_wanted, len(eps)
t0 = time.monotonic()
call("POST", f"{HSM}/Inventory/RedfishEndpoints", {"RedfishEndpoints": eps})
while True:
    listed = call("GET", f"{HSM}/Inventory/RedfishEndpoints")["RedfishEndpoints"]
    pending = sum(e["DiscoveryInfo"]["LastDiscoveryStatus"] in ("NotYetQueried", "DiscoveryStarted")
                  for e in listed)
    if pending == 0:
        break
    time.sleep(0.5)
discovery = time.monotonic() - t0
bad = [e["ID"] for e in listed if e["DiscoveryInfo"]["LastDiscoveryStatus"] != "DiscoverOK"]
assert not bad, f"discovery failed for {len(bad)} BMCs, e.g. {bad[:3]}"
nodes = sorted(c["ID"] for c in call("GET", f"{HSM}/State/Components?type=Node")["Components"])
assert len(nodes) == nodes_wanted, len(nodes)
print(f"discovery of {len(eps)} BMCs: {discovery:.1f} s", file=sys.stderr)

# 2. An image in the local artifact dir (IMS-style manifest), a group of all nodes, a template.
img = f"{work}/data/artifacts/boot-images/bench"
os.makedirs(img, exist_ok=True)
open(f"{img}/kernel", "w").write("kernel of bench" * 1000)
open(f"{img}/initrd", "w").write("initrd of bench" * 5000)
json.dump({"version": "1.0", "created": "2026-11-25", "artifacts": [
    {"link": {"path": "s3://boot-images/bench/kernel", "etag": "k", "type": "s3"},
     "type": "application/vnd.cray.image.kernel"},
    {"link": {"path": "s3://boot-images/bench/initrd", "etag": "i", "type": "s3"},
     "type": "application/vnd.cray.image.initrd"}]}, open(f"{img}/manifest.json", "w"))
call("POST", f"{HSM}/groups", {"label": "bench", "description": "bench/session.sh",
                               "members": {"ids": nodes}})
# With CFS_LAYERS > 0 the template names a built-in CFS configuration of that many layers,
# which every simulated node applies and reports (state_append) after it boots.
layers = int(os.environ.get("CFS_LAYERS", "0"))
template = {"enable_cfs": False}
if layers:
    call("PUT", "/apis/cfs/v3/configurations/bench", {"layers": [
        {"name": f"layer{i}", "clone_url": f"https://vcs.example/layer{i}.git",
         "playbook": "site.yml", "commit": f"{i:040x}"} for i in range(layers)]})
    template = {"enable_cfs": True, "cfs": {"configuration": "bench"}}
template["boot_sets"] = {"compute": {
    "type": "s3", "path": "s3://boot-images/bench/manifest.json", "node_groups": ["bench"],
    "kernel_parameters": "console=ttyS0,115200"}}
call("PUT", f"{BOS}/sessiontemplates/bench", template)

# 3. Let the background work discovery started settle: BOS components for every node, and the
#    power monitor's pass over all BMCs (poked by discovery), so neither shares the session.
t_settle = time.monotonic()
while True:
    comps = call("GET", f"{BOS}/components")
    comps = comps if isinstance(comps, list) else comps.get("components", [])
    ops = {o["name"]: o for o in call("GET", "/apis/rackboot/v1/operators")["operators"]}
    pm = ops.get("power-monitor", {})
    if len(comps) >= len(nodes) and pm.get("activations", 0) >= 2 and not pm.get("running"):
        break
    if time.monotonic() - t_settle > 120:
        print("settle: gave up waiting after 120 s, going on", file=sys.stderr)
        break
    time.sleep(0.5)
del comps

# 4. The session, timed from the POST to status complete.
ops_before = {o["name"]: o for o in call("GET", "/apis/rackboot/v1/operators")["operators"]}
perf = None
if os.environ.get("PERF"):
    # Diagnosis only: a CPU profile of rackboot over the session (perf report -i OUT/perf.data).
    import subprocess
    perf = subprocess.Popen(["perf", "record", "-F", "99", "--call-graph", "dwarf,16384", "-p", rb_pid,
                             "-o", f"{out}/perf.data"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(1)
def pg_cpu():
    # Every process of the bench's PostgreSQL server (its backends come and go with the pool).
    if os.environ.get("STORE") != "postgres":
        return {}
    total = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{pid}/exe").startswith("/usr/lib/postgresql/"):
                total[pid] = cpu_secs(pid)
        except OSError:
            pass
    return total
# WATCH_CMD (bench/console.sh): a watcher started before the session (the web console in a
# browser), which prints "ready" once it is looking and its figures as JSON when it is done.
watcher = None
if os.environ.get("WATCH_CMD"):
    import subprocess
    watcher = subprocess.Popen(os.environ["WATCH_CMD"], shell=True, stdout=subprocess.PIPE, text=True)
    for line in watcher.stdout:
        if line.strip() == "ready":
            break
    else:
        sys.exit(f"the watcher ended before it was ready ({watcher.wait()})")
bmc0 = bmc_counters()
pg0 = pg_cpu()
cpu0 = [cpu_secs(rb_pid)] + [cpu_secs(p) for p in sim_pids]
samples, max_fds = [], [0, 0]
t0, t_post = time.monotonic(), time.time()
name = call("POST", f"{BOS}/sessions", {"template_name": "bench", "operation": "boot"})["name"]
while True:
    s = call("GET", f"{BOS}/sessions/{name}")
    now = time.monotonic() - t0
    ops = call("GET", "/apis/rackboot/v1/operators")["operators"]
    max_fds = [max(max_fds[0], fds(rb_pid)), max(max_fds[1], max(fds(p) for p in sim_pids))]
    samples.append({"t": round(now, 2), "session": s["status"],
                    "operators": {o["name"]: [o["activations"], o["running"], o["last_duration_ms"]]
                                  for o in ops}})
    if s["status"]["status"] == "complete":
        break
    if now > 900:
        sys.exit(f"session {name} not complete after 900 s: {s}")
    time.sleep(0.5)
wall = time.monotonic() - t0
bmc = [b - a for a, b in zip(bmc0, bmc_counters())]
cpu = [cpu_secs(rb_pid) - cpu0[0], sum(cpu_secs(p) for p in sim_pids) - sum(cpu0[1:])]
pg1 = pg_cpu()
pg_server_cpu = sum(t - pg0.get(p, 0) for p, t in pg1.items())
if perf:
    import signal
    perf.send_signal(signal.SIGINT)
    perf.wait()
status = call("GET", f"{BOS}/sessions/{name}/status")
ops_after = {o["name"]: o for o in call("GET", "/apis/rackboot/v1/operators")["operators"]}
json.dump({"session": s, "status": status, "samples": samples, "operators_before": ops_before,
           "operators_after": ops_after}, open(f"{out}/session.json", "w"), indent=1)
watched = None
if watcher:
    rest = watcher.communicate(timeout=600)[0].strip().splitlines()
    if watcher.returncode != 0 or not rest:
        sys.exit(f"the watcher failed ({watcher.returncode}): {rest}")
    watched = json.loads(rest[-1])
    json.dump(watched, open(f"{out}/watch.json", "w"), indent=1)
pct = status.get("percent_successful")
assert pct == 100, f"percent_successful {pct}: {json.dumps(status)[:3000]}"

# Where the time went: every operator activation that finished during the session, from the
# server log (LOG_LEVEL with rackboot::operators=debug, the default here).
import re
from datetime import datetime
acts = []
line_re = re.compile(r'^(\S+Z) .*activation finished operator="([\w-]+)" ms=(\d+) report=(.*)$')
for line in open(f"{work}/server.log", errors="replace"):
    m = line_re.match(re.sub(r"\x1b\[[0-9;]*m", "", line).strip())
    if not m:
        continue
    end = datetime.fromisoformat(m[1].replace("Z", "+00:00")).timestamp() - t_post
    ms = int(m[3])
    if end >= 0 and end - ms / 1000 <= wall + 0.5:
        acts.append((end - ms / 1000, end, m[2], ms, m[4]))
rb_rss = proc_status(rb_pid, "VmHWM")
sim_rss = [proc_status(p, "VmHWM") for p in sim_pids]
rows = [
    ("store", os.environ.get("STORE", "sqlite")),
    ("nodes (one system per SimBmc)", f"{len(nodes):,}"),
    ("BMC latency per answer", f"{latency_ms} ms"),
    ("BOS operators' poll", f"{poll_ms} ms"),
    ("create -> complete, all stable", f"{wall:.1f} s  (percent_successful {pct:g})"),
    ("per 1,000 nodes", f"{wall / (len(nodes) / 1000):.2f} s"),
    ("Redfish requests per node (session)", f"{bmc[0] / len(nodes):.2f}  (resets {bmc[1] / len(nodes):.2f}, PATCHes {bmc[2] / len(nodes):.2f}, session logins {bmc[3] / len(nodes):.2f})"),
    ("peak RSS rackboot serve", f"{rb_rss:.0f} MiB"),
    ("peak RSS simulator", f"{sum(sim_rss):.0f} MiB" + (f" ({len(sim_rss)} processes, largest {max(sim_rss):.0f} MiB)" if len(sim_rss) > 1 else "")),
    ("CPU in the session (rackboot / sim)", f"{cpu[0]:.1f} s / {cpu[1]:.1f} s  ({os.cpu_count()} cores)"),
    ("peak open files (rackboot / one sim)", f"{max_fds[0]:,} / {max_fds[1]:,}"),
] + ([("CPU of the PostgreSQL server", f"{pg_server_cpu:.1f} s")] if pg1 else []) + [
    ("discovery of all BMCs", f"{discovery:.1f} s"),
] + ([
    ("console: rack view first render", f"{watched['first_render_ms']} ms  (the same page from a file: {watched['file_render_ms']} ms, {watched['first_render_ms'] / max(1, watched['file_render_ms']):.2f}x)"),
    ("console: every tile stable after the POST", f"{watched['all_stable_after_ready_ms'] / 1000:.1f} s  (the API's complete: {wall:.1f} s, {watched['all_stable_after_ready_ms'] / 1000 / wall:.2f}x)"),
    ("console: tile changes shown, main thread", f"{watched['changes']:,} class changes; {watched['long_tasks']} long tasks, longest {watched['longest_ms']} ms, {watched['long_total_ms']} ms in all; worst timer lag {watched['lag_ms']} ms"),
] if watched else []) + [
    ("for scale", "BOS: one status pass every 15 s (polling_frequency)"),
]
w = max(len(k) for k, _ in rows)
print(f"| {'':<{w}} | figure |")
print(f"|{'-' * (w + 2)}|--------|")
for k, v in rows:
    print(f"| {k:<{w}} | {v} |")
print()
# The nodes' side, from the simulators' status lines (printed every second while they change).
time.sleep(1.5)
first_boot, all_up, all_reported = None, [], []
day = t_post - t_post % 86400
for f in sorted(glob.glob(f"{work}/sim.*.log")):
    up_at = rep_at = None
    for line in open(f, errors="replace"):
        m = re.match(r"^(\d\d):(\d\d):([\d.]+)Z nodes: (\d+) total: (\d+) off, .* reports \d+ sent, (\d+) ok", line)
        if not m:
            continue
        t = day + int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]) - t_post
        total, off, ok = int(m[4]), int(m[5]), int(m[6])
        if off < total and t >= 0 and (first_boot is None or t < first_boot):
            first_boot = t
        if off == 0 and up_at is None and t >= 0:
            up_at = t
        if ok >= total and rep_at is None and t >= 0:
            rep_at = t
    all_up.append(up_at)
    all_reported.append(rep_at)
if first_boot is not None and None not in all_up + all_reported:
    print(f"nodes (1 s resolution): first power-on seen +{first_boot:.1f} s, all powered on "
          f"+{max(all_up):.1f} s, all reports accepted +{max(all_reported):.1f} s, complete +{wall:.1f} s")
if acts:
    per_op = {}
    for _, _, op, ms, _ in acts:
        n, tot, mx = per_op.get(op, (0, 0, 0))
        per_op[op] = (n + 1, tot + ms, max(mx, ms))
    print("operator activations during the session (server log):")
    for op, (n, tot, mx) in sorted(per_op.items(), key=lambda kv: -kv[1][1]):
        print(f"  {op:<26} {n:>4} activations, {tot / 1000:6.1f} s in all, longest {mx / 1000:5.1f} s")
    def busy(report):
        try:
            r = json.loads(report)
        except ValueError:
            return True
        return any(v not in (0, [], {}, None, "") for v in r.values()) if isinstance(r, dict) else True
    print("activations of 1 s or more that did something, seconds after the POST:")
    for start, end, op, ms, report in sorted(acts):
        if ms >= 1000 and busy(report):
            print(f"  {start:5.1f} -> {end:5.1f}  {op:<26} {report[:110]}")
else:
    print("(no operator activations in the server log: run with LOG_LEVEL=info,rackboot::operators=debug)")
print(f"samples and final status: {out}/session.json; logs: {out}/*.log")
PY
