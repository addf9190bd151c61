#!/usr/bin/env bash
# Self-test of the tiny image: proves, under QEMU/TCG with no appliance, that it boots,
# reports to BOS with a real PATCH and the exact bos-reporter body, reports CFS layers,
# powers off on the ACPI power button (what Redfish GracefulShutdown sends) and on
# rackboot_poweroff=1, says REPORT-FAILED when the appliance is unreachable, and that two
# builds give a byte-identical initrd.
#
# Usage: images/selftest.sh          (builds twice into a temp dir first)
#        SKIP_BUILD=1 OUT=images/out images/selftest.sh    (test an existing build)
# Needs root only to apt-install qemu-system-x86 when it is missing. KEEP=1 keeps the logs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
boot_timeout=${BOOT_TIMEOUT:-120}
tmp=$(mktemp -d /tmp/rackboot-tiny-selftest.XXXXXX)
pids=()

cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ -n "${KEEP:-}" ]; then echo "selftest: logs kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

say() { printf 'selftest: %s\n' "$*"; }
fail() {
    printf 'selftest: FAIL: %s\n' "$*" >&2
    for f in "$tmp"/serial*.log; do
        [ -f "$f" ] && { echo "--- $f (tail)" >&2; tail -n 25 "$f" >&2; }
    done
    [ -f "$tmp/requests.jsonl" ] && { echo "--- requests" >&2; cat "$tmp/requests.jsonl" >&2; }
    exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if ! command -v qemu-system-x86_64 >/dev/null; then
    [ "$(id -u)" = 0 ] || fail "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
        --no-install-recommends qemu-system-x86 ipxe-qemu >&2
fi

# --- build (twice: the initrd must be byte-identical)
if [ -n "${SKIP_BUILD:-}" ]; then
    img=${OUT:-$here/out}
else
    t0=$(now)
    OUT=$tmp/build1 "$here/build.sh" 2>"$tmp/build1.log" || fail "build: $(tail -n 5 "$tmp/build1.log")"
    say "build took $(since "$t0") s"
    OUT=$tmp/build2 "$here/build.sh" 2>"$tmp/build2.log" || fail "second build failed"
    a=$(sha256sum <"$tmp/build1/initrd.img")
    b=$(sha256sum <"$tmp/build2/initrd.img")
    [ "$a" = "$b" ] || fail "two builds gave different initrd.img ($a vs $b)"
    cmp -s "$tmp/build1/manifest.json" "$tmp/build2/manifest.json" || fail "manifests differ"
    say "reproducible: both builds' initrd.img sha256 ${a%% *}"
    img=$tmp/build1
fi
if [ ! -f "$img/vmlinuz" ] || [ ! -f "$img/initrd.img" ]; then fail "no vmlinuz/initrd.img in $img"; fi
say "initrd.img $(stat -c %s "$img/initrd.img") bytes, vmlinuz $(stat -c %s "$img/vmlinuz") bytes"

# --- stand-in appliance: logs every request as one JSON line, answers 200 {} (or 503 for
# the first FAIL_FIRST BOS reports of a component whose xname ends in n1, to test retries)
cat >"$tmp/server.py" <<'EOF'
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, log_file = sys.argv[1], sys.argv[2]
fails = {"n": 2}

class H(BaseHTTPRequestHandler):
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        status = 200
        if self.path.endswith("n1") and "/bos/" in self.path and fails["n"] > 0:
            fails["n"] -= 1
            status = 503
        with open(log_file, "a") as f:
            f.write(json.dumps({"t": time.time(), "line": self.requestline,
                                "method": self.command, "path": self.path,
                                "body": body, "status": status,
                                "override": self.headers.get("X-HTTP-Method-Override")}) + "\n")
        out = b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any
    def log_message(self, *a):
        pass

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os; os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
EOF
: >"$tmp/requests.jsonl"
python3 "$tmp/server.py" "$tmp/port" "$tmp/requests.jsonl" &
pids+=($!)
for _ in $(seq 50); do [ -f "$tmp/port" ] && break; sleep 0.1; done
[ -f "$tmp/port" ] || fail "the HTTP server did not start"
port=$(cat "$tmp/port")
say "stand-in appliance on 127.0.0.1:$port (guest: http://10.0.2.2:$port)"

qemu_pid=
# boot N CMDLINE_EXTRA: start QEMU (TCG, direct kernel boot, virtio-net on slirp).
boot() {
    local n=$1 extra=$2
    qemu-system-x86_64 -accel tcg -m 512 -display none -no-reboot \
        -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
        -append "console=ttyS0 panic=1 no_timer_check rackboot_url=http://10.0.2.2:$port $extra" \
        -netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
        -serial "file:$tmp/serial$n.log" \
        -monitor "unix:$tmp/mon$n.sock,server=on,wait=off" &
    qemu_pid=$!
    pids+=("$qemu_pid")
}
# wait_for FILE REGEX TIMEOUT
wait_for() {
    local end
    end=$(($(date +%s) + $3))
    while [ "$(date +%s)" -lt "$end" ]; do
        grep -aqE "$2" "$1" 2>/dev/null && return 0
        kill -0 "$qemu_pid" 2>/dev/null || { grep -aqE "$2" "$1" 2>/dev/null; return; }
        sleep 0.1
    done
    return 1
}
# wait_exit TIMEOUT: wait for QEMU to exit by itself.
wait_exit() {
    local end
    end=$(($(date +%s) + $1))
    while kill -0 "$qemu_pid" 2>/dev/null; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.1
    done
}
# first request time relative to T0 for a path
req_after() {
    python3 - "$tmp/requests.jsonl" "$1" "$2" <<'EOF'
import json, sys
t0, path = float(sys.argv[3]), sys.argv[2]
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["path"] == path and r["status"] == 200:
        print("%.1f" % (r["t"] - t0)); break
else:
    print("never")
EOF
}
# check_requests PATH EXPECTED_BODY...: the 200-answered requests to PATH are real PATCHes
# with exactly these bodies, in order.
check_requests() {
    python3 - "$tmp/requests.jsonl" "$@" <<'EOF'
import json, sys
log, path, want = sys.argv[1], sys.argv[2], sys.argv[3:]
got = [json.loads(l) for l in open(log)]
got = [r for r in got if r["path"] == path and r["status"] == 200]
# The raw request line too: Python's server folds a leading "//" in self.path.
bad = [r for r in got if r["line"] != "PATCH %s HTTP/1.1" % path or r["override"]]
if bad:
    sys.exit("not a plain PATCH: %r" % bad)
bodies = [r["body"] for r in got]
if bodies != want:
    sys.exit("%s: bodies %r, want %r" % (path, bodies, want))
for b in bodies:
    json.loads(b)
EOF
}

# --- 1. boot, report, stay up; then the ACPI power button
x1=x3000c0s1b0n0
t0=$(now)
boot 1 "xname=$x1 bss_referral_token=abc123"
wait_for "$tmp/serial1.log" "RACKBOOT-TINY-(BOOTED|REPORT-FAILED)" "$boot_timeout" ||
    fail "boot 1: no marker within ${boot_timeout}s"
t_marker=$(since "$t0")
grep -aq "RACKBOOT-TINY-BOOTED xname=$x1 token=abc123" "$tmp/serial1.log" || fail "boot 1: report failed"
t_report=$(req_after "/apis/bos/v2/components/$x1" "$t0")
check_requests "/apis/bos/v2/components/$x1" '{"actual_state": {"bss_token": "abc123"}}' ||
    fail "boot 1: wrong BOS report"
say "boot 1: PATCH /apis/bos/v2/components/$x1 body OK; report at +${t_report}s, marker at +${t_marker}s after QEMU start"
grep -aq "acpid started" "$tmp/serial1.log" || fail "boot 1: acpid did not start"
sleep 1 # still up?
kill -0 "$qemu_pid" 2>/dev/null || fail "boot 1: the node did not stay up"
t1=$(now)
python3 - "$tmp/mon1.sock" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
time.sleep(0.2); s.sendall(b"system_powerdown\n"); time.sleep(0.2); s.close()
EOF
wait_exit 20 || fail "boot 1: QEMU still running 20 s after system_powerdown"
t_off=$(since "$t1")
grep -aq "RACKBOOT-TINY-POWER-BUTTON" "$tmp/serial1.log" || fail "boot 1: QEMU exited without the power-button marker"
say "boot 1: system_powerdown -> QEMU exited after ${t_off}s (acpid -> poweroff -f)"

# --- 2. rackboot_poweroff=1, CFS layers, and a BOS that answers 503 twice first
x2=x3000c0s1b0n1
layers='https://vcs.local/vcs/cray/cos-config-management.git;site.yml;0123abcd,https://vcs.local/x%2Cy.git|a%3Bb.yml|beef'
t0=$(now)
boot 2 "xname=$x2 bss_referral_token=tok-2 rackboot_cfs_layers=$layers rackboot_poweroff=1"
wait_exit "$boot_timeout" || fail "boot 2: rackboot_poweroff=1 but QEMU still running after ${boot_timeout}s"
t_exit=$(since "$t0")
grep -aq "RACKBOOT-TINY-BOOTED xname=$x2 token=tok-2" "$tmp/serial2.log" || fail "boot 2: no BOOTED marker"
grep -aq "RACKBOOT-TINY-CFS-REPORTED xname=$x2 applied=2 failed=0" "$tmp/serial2.log" || fail "boot 2: CFS report"
check_requests "/apis/bos/v2/components/$x2" '{"actual_state": {"bss_token": "tok-2"}}' ||
    fail "boot 2: wrong BOS report"
n503=$(grep -c '"status": 503' "$tmp/requests.jsonl" || true)
[ "$n503" = 2 ] || fail "boot 2: expected 2 answers of 503 before success, saw $n503"
check_requests "/apis/cfs/v3/components/$x2" \
    '{"state_append": {"clone_url": "https://vcs.local/vcs/cray/cos-config-management.git", "playbook": "site.yml", "commit": "0123abcd", "status": "applied", "session_name": "tiny-image"}}' \
    '{"state_append": {"clone_url": "https://vcs.local/x,y.git", "playbook": "a;b.yml", "commit": "beef", "status": "applied", "session_name": "tiny-image"}}' ||
    fail "boot 2: wrong CFS reports"
say "boot 2: report after 2x 503 retried OK, 2 CFS layers reported, powered off by itself; QEMU exited at +${t_exit}s"

# --- 3. nothing listening at rackboot_url (the later word wins): 10 tries, the failure
# marker, and rackboot_poweroff=1 still powers off
t0=$(now)
boot 3 "xname=x3000c0s1b0n2 bss_referral_token=tok-3 rackboot_url=http://10.0.2.2:1 rackboot_poweroff=1"
wait_exit "$boot_timeout" || fail "boot 3: QEMU still running after ${boot_timeout}s"
grep -aq "RACKBOOT-TINY-REPORT-FAILED xname=x3000c0s1b0n2 token=tok-3 .*reason=PATCH http://10.0.2.2:1/" \
    "$tmp/serial3.log" || fail "boot 3: no REPORT-FAILED marker"
tries=$(grep -ac "PATCH http://10.0.2.2:1/.*(try" "$tmp/serial3.log" || true)
[ "$tries" = 10 ] || fail "boot 3: $tries tries, want 10"
say "boot 3: unreachable appliance -> 10 tries, REPORT-FAILED marker, powered off at +$(since "$t0")s"
say "PASS"
