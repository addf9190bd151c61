#!/usr/bin/env bash
# Benchmark (not a test): rackboot's DHCP server beside dnsmasq, in the same run, on the same
# private network, driven by the same load generator (perfdhcp, from Kea).
#
# Setup: a network namespace with a bridge, a server host (10.77.0.1/16) and a client host
# running perfdhcp on its veth. Each server runs alone in turn:
#   full  — rackboot `--dhcp full` with a dynamic pool vs `dnsmasq --dhcp-range` (no ping
#           check, so neither waits before offering): 4-way DORA exchanges, perfdhcp -r RATE
#           with RANGE distinct MACs for SECS seconds. rackboot writes each lease to SQLite
#           before its ACK; dnsmasq rewrites its lease file.
#   proxy — rackboot `--dhcp proxy` vs `dnsmasq --dhcp-range=…,proxy` with a pxe-service:
#           DISCOVER → proxy OFFER only (perfdhcp -i), the DISCOVERs carrying a PXE ROM's
#           vendor class and option 93.
# Prints, per server: the achieved exchange rate, received/sent for each step, the drop
# ratio, and the average delay; then the rate ratio rackboot / dnsmasq (above 1: rackboot
# answers more per second).
#
#   bash bench/dhcp.sh                    # RATE=2000 RANGE=5000 SECS=5
#   RATE=500 bash bench/dhcp.sh           # below both servers' ceilings: compare delays
set -euo pipefail
cd "$(dirname "$0")/.."
# The lab shape (one plain-HTTP listener, authentication off): lab_flags.
source bench/appliance.sh
RATE=${RATE:-2000}
RANGE=${RANGE:-5000}
SECS=${SECS:-5}

[ "$(id -u)" -eq 0 ] || { echo "bench/dhcp.sh needs root (network namespaces)" >&2; exit 1; }
bash scripts/peers.sh >/dev/null
if ! command -v perfdhcp >/dev/null; then
    echo "installing kea-admin (perfdhcp)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends kea-admin >&2
fi
cargo build --release --quiet
BIN=$PWD/target/release/rackboot

WORK=$(mktemp -d)
ID="rbb$$"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for n in lan srv cli; do ip netns del "$ID-$n" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$ID-lan"
ip -n "$ID-lan" link add br0 type bridge
ip -n "$ID-lan" link set br0 up
for h in srv cli; do
    ip netns add "$ID-$h"
    ip -n "$ID-$h" link add eth0 type veth peer name "p$h" netns "$ID-lan"
    ip -n "$ID-lan" link set "p$h" master br0 up
    ip -n "$ID-$h" link set eth0 up
    ip -n "$ID-$h" link set lo up
done
ip -n "$ID-srv" addr add 10.77.0.1/16 dev eth0
ip -n "$ID-cli" addr add 10.77.0.2/16 dev eth0
SRV=(ip netns exec "$ID-srv")
CLI=(ip netns exec "$ID-cli")
PXE_VENDOR=$(printf 'PXEClient:Arch:00000:UNDI:002001' | od -An -tx1 | tr -d ' \n')

start_rackboot() { # mode
    rm -rf "$WORK/rb"
    local pool=()
    [ "$1" = full ] && pool=(--dhcp-pool 10.77.1.0-10.77.200.255)
    "${SRV[@]}" "$BIN" serve $(lab_flags) --data-dir "$WORK/rb" --listen 10.77.0.1:8080 \
        --advertise-url http://10.77.0.1:8080 --tftp-listen off --log-level warn \
        --dhcp "$1" --dhcp-interface eth0 "${pool[@]}" >"$WORK/rackboot.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do
        "${SRV[@]}" curl -sf http://10.77.0.1:8080/healthz >/dev/null && return 0
        sleep 0.1
    done
    echo "rackboot did not start:" >&2
    cat "$WORK/rackboot.log" >&2
    exit 1
}

start_dnsmasq() { # mode
    rm -f "$WORK/dnsmasq.leases"
    local range=(--dhcp-range=10.77.1.0,10.77.200.255,255.255.0.0,1h --dhcp-lease-max=100000)
    [ "$1" = proxy ] && range=(--dhcp-range=10.77.0.0,proxy,255.255.0.0 '--pxe-service=x86PC,rackboot,undionly')
    "${SRV[@]}" dnsmasq --no-daemon --port=0 --conf-file=/dev/null --interface=eth0 \
        --bind-interfaces --user=root --no-ping "--dhcp-leasefile=$WORK/dnsmasq.leases" \
        "${range[@]}" >"$WORK/dnsmasq.log" 2>&1 &
    PIDS+=($!)
    sleep 1
}

stop_servers() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    PIDS=()
}

# perfdhcp's report → "rate do_recv/do_sent ra_recv/ra_sent drops% avg_ms"
measure() { # mode
    local extra=()
    [ "$1" = proxy ] && extra=(-i -o "60,$PXE_VENDOR" -o 93,0000)
    "${CLI[@]}" perfdhcp -4 -l eth0 -r "$RATE" -R "$RANGE" -p "$SECS" -W 1000000 "${extra[@]}" 2>&1 |
        awk '
            /^Rate:/ { rate = $2 }
            /Statistics for: DISCOVER-OFFER/ { s = "do" }
            /Statistics for: REQUEST-ACK/ { s = "ra" }
            /^sent packets:/ { sent[s] = $3 }
            /^received packets:/ { recv[s] = $3 }
            /^avg delay:/ { avg[s] = $3 }
            END {
                last = ("ra" in sent) ? "ra" : "do"
                total_sent = sent["do"] + sent["ra"]; total_recv = recv["do"] + recv["ra"]
                drops = total_sent ? 100 * (total_sent - total_recv) / total_sent : 0
                printf "%s %s/%s %s/%s %.1f %s\n", rate, recv["do"], sent["do"], \
                    ("ra" in sent) ? recv["ra"] : "-", ("ra" in sent) ? sent["ra"] : "-", drops, avg[last]
            }'
}

printf '%-7s %-9s %10s %13s %13s %7s %10s\n' mode server "rate/s" "OFFER/DISC" "ACK/REQ" "drop%" "avg ms"
for mode in full proxy; do
    declare -A rate=()
    for server in rackboot dnsmasq; do
        "start_$server" "$mode"
        read -r r o a d avg < <(measure "$mode")
        stop_servers
        rate[$server]=$r
        printf '%-7s %-9s %10s %13s %13s %7s %10s\n' "$mode" "$server" "$r" "$o" "$a" "$d" "$avg"
    done
    awk -v a="${rate[rackboot]}" -v b="${rate[dnsmasq]}" -v m="$mode" \
        'BEGIN { printf "%-7s ratio rackboot/dnsmasq: %.2fx\n", m, (b > 0 ? a / b : 0) }'
done
echo "(perfdhcp -r $RATE -R $RANGE -p $SECS; rate = exchanges completed per second; delays are the last step's)"
