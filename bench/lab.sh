#!/usr/bin/env bash
# Benchmark (not a test): what netbooting through rackboot costs a real VM, against the same
# VM booting the same kernel and initrd directly, in the same run.
#
#   rackboot: tests/lab/lab.sh with N BIOS nodes (SeaBIOS + Debian's iPXE ROM, TCG) and only
#             the Boot session: per node, seconds from its Redfish power-on call to its
#             report (the tiny image's BOS PATCH) and to `stable` in BOS.
#   direct:   N of the same VMs (512 MiB, virtio NIC, TCG) started at once with QEMU
#             `-kernel/-initrd` on user networking, reporting to a small HTTP server: seconds
#             from QEMU's start to the same PATCH.
# Prints both per node, the medians and the ratio (rackboot / direct: the goal of issue 8 is
# ≤ 1.3×). All N boot at once in both runs, so both pay the same CPU contention (2 cores).
#
#   bash bench/lab.sh          # N=8
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-8}
[ "$(id -u)" -eq 0 ] || { echo "bench/lab.sh needs root (network namespaces, libvirtd)" >&2; exit 1; }
cargo build --release --quiet
BIN=$PWD/target/release/rackboot
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "== rackboot: $N BIOS nodes netboot through the lab (Boot session only)" >&2
RACKBOOT=$BIN N_BIOS=$N N_UEFI=0 DHCP_MODE=full SESSIONS=boot SESSION_TIMEOUT=600 \
    bash tests/lab/lab.sh >"$WORK/lab.out" 2>"$WORK/lab.err" || {
    tail -40 "$WORK/lab.err" >&2
    exit 1
}
# The boot session's table: node vm power-on dhcp tftp bootscript kernel initrd booted reported done
awk '/^boot session:/ { on = 1; next } on && /^  x/ { print $1, $10, $11 } on && /^$/ { on = 0 }' \
    "$WORK/lab.out" "$WORK/lab.err" >"$WORK/netboot.txt"
[ -s "$WORK/netboot.txt" ] || { echo "no boot-session figures in the lab's output" >&2; tail -40 "$WORK/lab.err" >&2; exit 1; }
# Where the netboot's time goes: each step, seconds after the node's power-on call.
awk '/^boot session:/ { on = 1 } on { print } on && /^$/ { exit }' "$WORK/lab.out" "$WORK/lab.err"

echo "== direct: $N of the same VMs with -kernel/-initrd, at once" >&2
python3 - "$WORK" "$N" <<'PY'
import http.server, os, subprocess, sys, threading, time

work, n = sys.argv[1], int(sys.argv[2])
arrived = {}

class H(http.server.BaseHTTPRequestHandler):
    def do_PATCH(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if "/apis/bos/v2/components/" in self.path:
            arrived.setdefault(self.path.rsplit("/", 1)[1], time.monotonic())
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    do_POST = do_PATCH
    def log_message(self, *a):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
port = srv.server_address[1]
threading.Thread(target=srv.serve_forever, daemon=True).start()
procs, started = [], {}
for i in range(n):
    x = f"x3000c0s9b0n{i}"
    append = (f"console=ttyS0 panic=1 no_timer_check xname={x} bss_referral_token=direct "
              f"rackboot_url=http://10.0.2.2:{port} rackboot_poweroff=1")
    started[x] = time.monotonic()
    procs.append(subprocess.Popen(
        ["qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-display", "none", "-no-reboot",
         "-serial", f"file:{work}/direct-{i}.log",
         "-kernel", "images/out/vmlinuz", "-initrd", "images/out/initrd.img", "-append", append,
         "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
deadline = time.monotonic() + 300
while len(arrived) < n and time.monotonic() < deadline:
    time.sleep(0.1)
for p in procs:
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
with open(f"{work}/direct.txt", "w") as f:
    for x in sorted(started):
        f.write(f"{x} {arrived[x] - started[x]:.1f}\n" if x in arrived else f"{x} -\n")
if len(arrived) < n:
    sys.exit(f"only {len(arrived)} of {n} direct boots reported")
PY

python3 - "$WORK/netboot.txt" "$WORK/direct.txt" <<'PY'
import statistics, sys
net = [l.split() for l in open(sys.argv[1]) if l.strip()]
direct = [l.split() for l in open(sys.argv[2]) if l.strip()]
print(f"{'netboot node':16} {'reported':>9} {'stable':>8}   {'direct VM':16} {'reported':>9}")
for i in range(max(len(net), len(direct))):
    a = net[i] if i < len(net) else ["", "", ""]
    b = direct[i] if i < len(direct) else ["", ""]
    print(f"{a[0]:16} {a[1]:>9} {a[2]:>8}   {b[0]:16} {b[1]:>9}")
rep = statistics.median(float(r[1]) for r in net)
stable = statistics.median(float(r[2]) for r in net)
d = statistics.median(float(r[1]) for r in direct)
print(f"median: netboot power-on call -> reported {rep:.1f} s, -> stable {stable:.1f} s; "
      f"direct QEMU start -> reported {d:.1f} s")
print(f"ratio (netboot reported / direct reported): {rep / d:.2f}x  (goal <= 1.3x); "
      f"stable / direct: {stable / d:.2f}x")
PY
