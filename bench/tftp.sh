#!/usr/bin/env bash
# Benchmark (not a test): rackboot's TFTP server beside Debian's tftpd-hpa (`in.tftpd`), in
# the same run, on the same files, with the same client.
#
# Files: a 20 MiB file of random bytes and Debian's ipxe.efi. Client: atftp at blksize 1468
# (and tsize), windowsize 1, 8 and 16 (tftpd-hpa does not negotiate windowsize, so it always
# runs lock-step; it answers the same request without that option). Then 20 clients at once
# fetching the 20 MiB file with windowsize 16. Each figure is the median of REPS runs (wall
# time, the client included). All clients share 127.0.0.1, so rackboot's per-client cap is
# raised to 64 here (default 8 per address). Prints rackboot's time, tftpd-hpa's, and the ratio
# (tftpd-hpa / rackboot: above 1 means rackboot is faster). Goals (issue 7): at least 3× at
# windowsize 16, and never slower at windowsize 1.
#
#   bash bench/tftp.sh            # REPS=5
set -euo pipefail
cd "$(dirname "$0")/.."
# The lab shape (one plain-HTTP listener, authentication off): lab_flags.
source bench/appliance.sh
REPS=${REPS:-5}

bash scripts/peers.sh >/dev/null
if [ ! -x /usr/sbin/in.tftpd ]; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    echo "installing tftpd-hpa (the peer)" >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tftpd-hpa >&2 || true
fi
[ -x /usr/sbin/in.tftpd ] || { echo "in.tftpd (tftpd-hpa) is not installed" >&2; exit 1; }
cargo build --release --quiet
BIN=$PWD/target/release/rackboot

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/root" "$WORK/out"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$WORK/root/big.bin"
cp /usr/lib/ipxe/ipxe.efi "$WORK/root/ipxe.efi"

udp_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tcp_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RB_TFTP=$(udp_port)
RB_HTTP=$(tcp_port)
HPA=$(udp_port)

"$BIN" serve $(lab_flags) --data-dir "$WORK/data" --listen "127.0.0.1:$RB_HTTP" --advertise-url "http://127.0.0.1:$RB_HTTP" \
    --tftp-listen "127.0.0.1:$RB_TFTP" --tftp-root "$WORK/root" --tftp-max-per-client 64 --log-level warn >"$WORK/rackboot.log" 2>&1 &
PIDS+=($!)
/usr/sbin/in.tftpd -L -a "127.0.0.1:$HPA" -s "$WORK/root" >"$WORK/hpa.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$RB_HTTP/healthz" >/dev/null && break; sleep 0.1; done

python3 - "$RB_TFTP" "$HPA" "$WORK" "$REPS" <<'PY'
import filecmp, statistics, subprocess, sys, time

rb, hpa, work, reps = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

def fetch(port, name, window, out):
    cmd = ["atftp", "--option", "blksize 1468", "--option", "tsize 0"]
    if window > 1:
        cmd += ["--option", f"windowsize {window}"]
    cmd += ["-g", "-r", name, "-l", out, "127.0.0.1", str(port)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

def timed(port, name, window, clients=1):
    times = []
    for r in range(reps):
        outs = [f"{work}/out/{port}.{r}.{i}" for i in range(clients)]
        t0 = time.monotonic()
        procs = [fetch(port, name, window, o) for o in outs]
        for p in procs:
            _, err = p.communicate()
            if p.returncode != 0:
                sys.exit(f"atftp from port {port} failed: {err.decode(errors='replace')}")
        times.append(time.monotonic() - t0)
        for o in outs:
            if not filecmp.cmp(o, f"{work}/root/{name}", shallow=False):
                sys.exit(f"{o}: not the same bytes as {name}")
    return statistics.median(times)

rows = []
for name in ["big.bin", "ipxe.efi"]:
    for window in [1, 8, 16]:
        a, b = timed(rb, name, window), timed(hpa, name, window)
        rows.append((f"{name}, windowsize {window}", a, b))
a, b = timed(rb, "big.bin", 16, clients=20), timed(hpa, "big.bin", 16, clients=20)
rows.append(("big.bin, 20 clients at once, windowsize 16", a, b))

w = max(len(r[0]) for r in rows)
print(f"median of {reps} runs, atftp at blksize 1468; tftpd-hpa ignores windowsize (lock-step)")
print(f"| {'transfer':<{w}} | rackboot | tftpd-hpa | ratio (tftpd-hpa / rackboot) |")
print(f"|{'-' * (w + 2)}|----------|-----------|------------------------------|")
for label, a, b in rows:
    print(f"| {label:<{w}} | {a:7.3f} s | {b:8.3f} s | {b / a:5.2f}× |")
PY
