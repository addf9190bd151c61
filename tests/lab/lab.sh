#!/usr/bin/env bash
# Why this exists: the integration tests drive rackboot with simulated BMCs and nodes; this
# lab is the end-to-end check with real firmware. QEMU VMs (SeaBIOS + iPXE ROM, OVMF with
# its own PXE) netboot through rackboot's DHCP, TFTP and HTTP, are powered over Redfish by
# sushy-tools through a private libvirtd, boot the tiny image (images/), report to BOS, and
# go through a Boot, a Reboot and a Shutdown session driven only by the rackboot CLI.
#
# Usage (root, Debian 12; installs what is missing):
#   RACKBOOT=target/debug/rackboot N_BIOS=2 N_UEFI=1 DHCP_MODE=full bash tests/lab/lab.sh
#   DHCP_MODE=proxy bash tests/lab/lab.sh      # a site dnsmasq hands out addresses
# Environment (all optional):
#   RACKBOOT=path       rackboot binary (default target/debug/rackboot; copied into $LAB)
#   N_BIOS=2 N_UEFI=1   how many SeaBIOS and OVMF nodes
#   DHCP_MODE=full|proxy
#   UEFI_ROM=none|ipxe  none (default): OVMF's own PXE -> TFTP snponly.efi -> iPXE;
#                       ipxe: Debian's iPXE EFI option ROM (no TFTP)
#   RESERVE=0|1         1: record each node's address in the inventory (IPAddresses) before
#                       booting; full mode then serves reservations instead of the pool
#   LAB=dir             work directory (default: a fresh /tmp/rackboot-lab.XXXXXX)
#   ARTIFACTS=dir       where logs go on failure (default $LAB/artifacts)
#   KEEP=1              leave $LAB in place on success too (it is always kept on failure)
#   SESSION_TIMEOUT=240 seconds one BOS session may take
#   SESSIONS=all|boot   boot: only the Boot session (bench/lab.sh)
#   HOLD=discovered     debugging: stop after discovery and keep everything up until
#                       $LAB/release exists (commands: ip netns exec rblab<pid> ...)
#   BOOT_EVIDENCE=0|1   0 (default): BOS option boot_evidence=false, so a node is stable only
#                       once the image reported its token; 1: rackboot's default, where a
#                       complete initrd fetch plus boot_evidence_wait (10 s) powered on counts
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# ---------------------------------------------------------------------------------------
# Sub-command: run libvirtd in a private mount namespace (called through unshare below).
# /etc/libvirt, /run/libvirt and /var/{lib,log,cache}/libvirt are bind-mounted from $LAB,
# so the host's libvirt configuration and state are never touched, and the mounts vanish
# with the namespace when libvirtd and its QEMUs are gone.
if [ "${1:-}" = __libvirtd ]; then
    lv=$2
    mount --make-rprivate /
    mount --bind "$lv/etc" /etc/libvirt
    mount --bind "$lv/run" /run/libvirt
    mount --bind "$lv/lib" /var/lib/libvirt
    mount --bind "$lv/log" /var/log/libvirt
    mount --bind "$lv/cache" /var/cache/libvirt
    exec libvirtd --pid-file "$lv/libvirtd.pid"
fi

RACKBOOT=${RACKBOOT:-$repo/target/debug/rackboot}
N_BIOS=${N_BIOS:-2}
N_UEFI=${N_UEFI:-1}
DHCP_MODE=${DHCP_MODE:-full}
UEFI_ROM=${UEFI_ROM:-none}
RESERVE=${RESERVE:-0}
BOOT_EVIDENCE=${BOOT_EVIDENCE:-0}
HOLD=${HOLD:-}
SESSION_TIMEOUT=${SESSION_TIMEOUT:-240}
SESSIONS=${SESSIONS:-all}
VENV=$repo/.peers/lab-venv
SUSHY_TOOLS_VERSION=2.2.0
# The newest libvirt-python that builds against Debian 12's libvirt 9.0 (from source, ~10 s).
LIBVIRT_PYTHON_VERSION=12.8.0
IP=192.168.77.1
URL=http://$IP:8080   # the boot plane (what the VMs use)
CTL=https://$IP:8443  # the control plane (HTTPS; the CLI signs in as the first admin)
CA=   # its certificate, once rackboot made it
SUSHY=http://127.0.0.1:8000
BMC=x3000c0s1b0
IMAGE=tiny
TEMPLATE=lab
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%6.1f", b - a }'; }
log() { printf '[lab %ss] %s\n' "$(elapsed)" "$*" >&2; }
die() {
    printf '[lab %ss] FAIL: %s\n' "$(elapsed)" "$*" >&2
    exit 1
}

case "$DHCP_MODE" in full | proxy) ;; *) die "DHCP_MODE must be full or proxy, not '$DHCP_MODE'" ;; esac
case "$UEFI_ROM" in none | ipxe) ;; *) die "UEFI_ROM must be none or ipxe, not '$UEFI_ROM'" ;; esac
case "$SESSIONS" in all | boot) ;; *) die "SESSIONS must be all or boot, not '$SESSIONS'" ;; esac
[ "$(id -u)" = 0 ] || die "run as root (network namespaces, libvirtd, apt)"
n_nodes=$((N_BIOS + N_UEFI))
{ [ "$n_nodes" -ge 1 ] && [ "$n_nodes" -le 99 ]; } || die "N_BIOS + N_UEFI must be 1..99"

# ---------------------------------------------------------------------------------------
# 1. What the lab needs: Debian packages, the sushy-tools venv, the tiny image.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
apt_install() {
    log "apt-get install $*"
    local apt=(apt-get -o DPkg::Lock::Timeout=300)
    if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -q --no-install-recommends "$@" >&2; then
        "${apt[@]}" update -q >&2
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -q --no-install-recommends "$@" >&2
    fi
}
packages=(qemu-system-x86 ipxe-qemu ipxe ovmf libvirt-daemon-system libvirt-daemon-driver-qemu
    libvirt-clients libvirt-dev pkg-config gcc python3-venv dnsmasq-base busybox-static cpio
    iproute2 util-linux curl jq)
missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi

venv_ok() {
    [ -x "$VENV/bin/sushy-emulator" ] && "$VENV/bin/python" - "$SUSHY_TOOLS_VERSION" "$LIBVIRT_PYTHON_VERSION" <<'EOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
import libvirt, sushy_tools  # noqa: F401
sys.exit(0 if (version("sushy-tools"), version("libvirt-python")) == (sys.argv[1], sys.argv[2]) else 1)
EOF
}
if ! venv_ok; then
    log "pip install sushy-tools==$SUSHY_TOOLS_VERSION libvirt-python==$LIBVIRT_PYTHON_VERSION into $VENV"
    [ -x "$VENV/bin/pip" ] || { rm -rf "$VENV" && mkdir -p "$(dirname "$VENV")" && python3 -m venv "$VENV"; }
    "$VENV/bin/pip" install --disable-pip-version-check -q \
        "sushy-tools==$SUSHY_TOOLS_VERSION" "libvirt-python==$LIBVIRT_PYTHON_VERSION" >&2
    venv_ok || die "the venv $VENV has no working sushy-tools $SUSHY_TOOLS_VERSION + libvirt-python $LIBVIRT_PYTHON_VERSION"
fi

if [ ! -s "$repo/images/out/vmlinuz" ] || [ ! -s "$repo/images/out/initrd.img" ]; then
    log "building the tiny image (images/build.sh)"
    bash "$repo/images/build.sh" >&2
fi
{ [ -f /usr/lib/ipxe/snponly.efi ] && [ -f /usr/lib/ipxe/undionly.kpxe ]; } || die "no iPXE binaries in /usr/lib/ipxe"
{ [ -f "$OVMF_CODE" ] && [ -f "$OVMF_VARS" ]; } || die "no $OVMF_CODE / $OVMF_VARS (package ovmf)"
[ -x "$RACKBOOT" ] || die "no rackboot binary at $RACKBOOT (build it, or set RACKBOOT=)"

# ---------------------------------------------------------------------------------------
# 2. The lab directory, and the cleanup that always runs.
LAB=${LAB:-$(mktemp -d /tmp/rackboot-lab.XXXXXX)}
mkdir -p "$LAB"
LAB=$(cd "$LAB" && pwd)
ARTIFACTS=${ARTIFACTS:-$LAB/artifacts}
NS=rblab$$
SITE_NS=rblab$$-site
LV=$LAB/libvirt
VIRSH=(virsh -q -c "qemu:///system?socket=$LV/run/libvirt-sock")
cp "$RACKBOOT" "$LAB/rackboot" # a rebuild must not swap the binary under a running lab
RB=$LAB/rackboot
log "lab in $LAB, namespace $NS, $N_BIOS BIOS + $N_UEFI UEFI nodes, DHCP $DHCP_MODE, rackboot $("$RB" --version)"

in_ns() { ip netns exec "$NS" "$@"; }
rb() { in_ns "$RB" "$@" --url "$CTL"; }
api() { in_ns curl -fsS --cacert "$CA" -H "Authorization: Bearer $RACKBOOT_TOKEN" "$@"; }
rbj() { rb "$@" --format json; }
nodes=() # node xnames, once discovered
finished=0
poller= # the per-session poller (a subshell of this script, outside the netns)
pids=() # processes this script started (each the leader of its own process group)

cleanup() {
    local rc=$? pid f
    trap - EXIT INT TERM
    set +e
    [ -z "$poller" ] || kill "$poller" 2>/dev/null
    if [ "$rc" != 0 ]; then
        log "collecting logs into $ARTIFACTS"
        mkdir -p "$ARTIFACTS"
        cp "$LAB"/*.log "$LAB"/*.txt "$LAB"/*.json "$LAB"/*.xml "$ARTIFACTS"/ 2>/dev/null
        # What rackboot knows, while it still runs: BOS components and each node's timeline.
        if ip netns list | grep -qw "$NS" && [ -n "${RACKBOOT_TOKEN:-}" ] && api -m 2 "$CTL/readyz" >/dev/null 2>&1; then
            timeout 10 ip netns exec "$NS" "$RB" bos components list --url "$CTL" --format json \
                >"$ARTIFACTS/bos-components.json" 2>&1
            for x in "${nodes[@]}"; do
                timeout 10 ip netns exec "$NS" "$RB" nodes timeline "$x" --url "$CTL" \
                    >"$ARTIFACTS/timeline-$x.txt" 2>&1
            done
        fi
        cp -r "$LV/log" "$ARTIFACTS/libvirt-log" 2>/dev/null
        for f in "$ARTIFACTS"/*.log "$ARTIFACTS"/libvirt-log/qemu/*.log; do
            [ -s "$f" ] || continue
            printf '\n===== tail %s\n' "$f" >&2
            # QEMU's log is mostly its command line: its last lines say how it ended.
            case "$f" in */qemu/*) tail -n 4 "$f" ;; *) tail -n 25 "$f" ;; esac | cut -c1-300 >&2
        done
    fi
    if ip netns list | grep -qw "$NS"; then
        # Domains first, so libvirt stops QEMU in order; then everything still in the netns.
        if [ -S "$LV/run/libvirt-sock" ]; then
            for d in $("${VIRSH[@]}" list --name 2>/dev/null); do "${VIRSH[@]}" destroy "$d" >/dev/null 2>&1; done
        fi
        for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
        sleep 0.5
        for pid in $(ip netns pids "$NS" 2>/dev/null) $(ip netns pids "$SITE_NS" 2>/dev/null); do
            kill -TERM "$pid" 2>/dev/null
        done
        sleep 0.5
        for pid in $(ip netns pids "$NS" 2>/dev/null) $(ip netns pids "$SITE_NS" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
    fi
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    ip netns del "$SITE_NS" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    if [ "$rc" = 0 ] && [ "${KEEP:-0}" != 1 ]; then
        rm -rf "$LAB"
    else
        log "kept $LAB"
    fi
    if [ "$rc" != 0 ]; then
        log "FAILED (exit $rc); logs in $ARTIFACTS"
    elif [ "$finished" = 1 ]; then
        log "PASS"
    else
        log "stopped (HOLD=$HOLD)"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Start "$@" in the background, in its own process group, output to a log file.
spawn() {
    local logf=$1
    shift
    setsid "$@" >"$logf" 2>&1 </dev/null &
    pids+=($!)
}

# Wait up to $1 seconds for "${@:2}" to succeed.
wait_for() {
    local limit=$1 start=$SECONDS
    shift
    until "$@" >/dev/null 2>&1; do
        [ $((SECONDS - start)) -lt "$limit" ] || return 1
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------------------
# 3. The boot network: netns with br0 (IPv4 + IPv6), router advertisements, site DHCP.
ip netns add "$NS"
in_ns ip link set lo up
in_ns ip link add br0 type bridge forward_delay 0 stp_state 0
# A port with carrier keeps br0 up before the first VM's tap joins (a veth pair: this
# kernel may have no dummy driver).
in_ns ip link add keep0 type veth peer name keep1
in_ns ip link set keep1 up
in_ns ip link set keep0 master br0 up
in_ns ip addr add "$IP/24" dev br0
in_ns ip addr add fd77::1/64 dev br0 nodad
in_ns ip link set br0 up
# Router advertisements only (no DNS, no DHCPv4/v6 from this dnsmasq): without them this
# iPXE waits ~13 s for IPv6 autoconfiguration on every boot.
spawn "$LAB/dnsmasq-ra.log" ip netns exec "$NS" dnsmasq --no-daemon --conf-file=/dev/null \
    --port=0 --interface=br0 --bind-interfaces --enable-ra --dhcp-range=fd77::,ra-only,64 \
    --pid-file="$LAB/dnsmasq-ra.pid" --log-facility=-

mac_of() { printf '52:54:00:77:00:%02x' "$1"; } # node k (1-based)
site_ip_of() { printf '192.168.77.%d' $((49 + $1)); }

if [ "$DHCP_MODE" = proxy ]; then
    # The site's DHCP server, as on a real network: another host on br0 (192.168.77.2) that
    # hands out addresses and knows nothing about booting. Static hosts for the lab's MACs:
    # dnsmasq's dynamic pool offers one address to two simultaneous DISCOVERs (reference
    # netboot-lab.md), and this iPXE gives up after the NAK; that race is dnsmasq's.
    ip netns add "$SITE_NS"
    ip link add site0 netns "$NS" type veth peer name eth0 netns "$SITE_NS"
    in_ns ip link set site0 master br0 up
    ip -n "$SITE_NS" link set lo up
    ip -n "$SITE_NS" addr add 192.168.77.2/24 dev eth0
    ip -n "$SITE_NS" link set eth0 up
    hosts=()
    for k in $(seq 1 "$n_nodes"); do hosts+=("--dhcp-host=$(mac_of "$k"),$(site_ip_of "$k")"); done
    spawn "$LAB/dnsmasq-site.log" ip netns exec "$SITE_NS" dnsmasq --no-daemon --conf-file=/dev/null \
        --port=0 --interface=eth0 --bind-interfaces --no-ping --log-dhcp --log-facility=- \
        --dhcp-range=192.168.77.150,192.168.77.199,255.255.255.0,1h "${hosts[@]}" \
        --dhcp-leasefile="$LAB/dnsmasq-site.leases" --pid-file="$LAB/dnsmasq-site.pid"
fi

# ---------------------------------------------------------------------------------------
# 4. rackboot in the netns: HTTP, TFTP and DHCP on br0.
dhcp_args=(--dhcp "$DHCP_MODE" --dhcp-interface br0)
[ "$DHCP_MODE" = full ] && dhcp_args+=(--dhcp-pool 192.168.77.100-192.168.77.150)
# As on a rack: the boot plane on plain HTTP, the control plane on HTTPS with authentication
# (and, in full DHCP mode, each node's boot plane bound to the address it was leased).
spawn "$LAB/rackboot.log" ip netns exec "$NS" env NO_COLOR=1 "$RB" serve --listen "$IP:8080" --advertise-url "$URL" \
    --control-listen "$IP:8443" --tftp-listen "$IP:69" "${dhcp_args[@]}" --data-dir "$LAB/data"
wait_for 30 in_ns curl -fsS "$URL/healthz" || die "rackboot did not start on $URL (see $LAB/rackboot.log)"
CA=$LAB/data/tls/cert.pem
wait_for 30 in_ns curl -fsS --cacert "$CA" "$CTL/readyz" || die "rackboot's control plane did not get ready on $CTL (see $LAB/rackboot.log)"
RACKBOOT_TOKEN=$(in_ns env RACKBOOT_PASSWORD="$(cat "$LAB/data/initial-admin-password")" "$RB" tokens create lab \
    --login admin --url "$CTL" --ca "$CA" | grep '^rbt_') || die "could not sign in to rackboot as its first admin"
export RACKBOOT_TOKEN RACKBOOT_CA=$CA
log "rackboot ready: boot plane $URL, control plane $CTL"

# ---------------------------------------------------------------------------------------
# 5. A private libvirtd in the netns (its taps land on our br0) and sushy-tools over it.
mkdir -p "$LV"/{etc,run,lib,log,cache} "$LAB/nvram" "$LAB/sushy"
mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt # mount points
cat >"$LV/etc/libvirtd.conf" <<EOF
# rackboot lab: local root clients only, no polkit.
auth_unix_rw = "none"
auth_unix_ro = "none"
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
log_outputs = "3:stderr"
EOF
cat >"$LV/etc/qemu.conf" <<EOF
# rackboot lab: QEMU as root, no confinement, no cgroups, no virtlogd.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
EOF
spawn "$LAB/libvirtd.log" ip netns exec "$NS" unshare --mount --propagation private \
    bash "$here/lab.sh" __libvirtd "$LV"
# libvirtd probes QEMU's capabilities under TCG before it answers (~8 s).
wait_for 90 "${VIRSH[@]}" version || die "libvirtd did not answer on $LV/run/libvirt-sock"
log "libvirtd up"

cat >"$LAB/sushy/emulator.conf" <<EOF
# rackboot lab: sushy-tools' libvirt driver over the lab's private libvirtd; no auth, HTTP.
SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'
SUSHY_EMULATOR_LISTEN_PORT = 8000
SUSHY_EMULATOR_LIBVIRT_URI = 'qemu:///system?socket=$LV/run/libvirt-sock'
SUSHY_EMULATOR_STATE_DIR = '$LAB/sushy/state'
SUSHY_EMULATOR_BOOT_LOADER_MAP = {
    'UEFI': {'x86_64': '$OVMF_CODE'},
    'Legacy': {'x86_64': None},
}
SUSHY_EMULATOR_SECURE_BOOT_DISABLED_NVRAM = '$OVMF_VARS'
EOF
spawn "$LAB/sushy.log" ip netns exec "$NS" "$VENV/bin/sushy-emulator" --config "$LAB/sushy/emulator.conf"
wait_for 30 in_ns curl -fsS "$SUSHY/redfish/v1/" || die "sushy-emulator did not answer on $SUSHY"
log "sushy-emulator up on $SUSHY (inside $NS)"

# ---------------------------------------------------------------------------------------
# 6. Diskless TCG domains: 512 MiB, virtio NIC on br0, serial console to a file.
names=() macs=() uuids=()
define_domain() { # k name firmware
    local k=$1 name=$2 fw=$3 mac uuid os rom=''
    mac=$(mac_of "$k")
    uuid=$(printf '00000000-0000-4077-8000-%012x' "$k")
    if [ "$fw" = uefi ]; then
        cp "$OVMF_VARS" "$LAB/nvram/$name.fd"
        os="<loader readonly='yes' type='pflash'>$OVMF_CODE</loader>
    <nvram template='$OVMF_VARS'>$LAB/nvram/$name.fd</nvram>"
        [ "$UEFI_ROM" = none ] && rom="<rom enabled='no'/>"
    else
        # A failed netboot reboots (and retries) instead of waiting at "No bootable device".
        os="<bios rebootTimeout='3000'/>"
    fi
    cat >"$LAB/$name.xml" <<EOF
<domain type='qemu'>
  <name>$name</name>
  <uuid>$uuid</uuid>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    $os
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='bridge'>
      <source bridge='br0'/>
      <mac address='$mac'/>
      <model type='virtio'/>
      <boot order='1'/>
      $rom
    </interface>
    <serial type='file'>
      <source path='$LAB/console-$name.log' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
    "${VIRSH[@]}" define "$LAB/$name.xml" >/dev/null
    names+=("$name") macs+=("$mac") uuids+=("$uuid")
}
k=0
for i in $(seq 0 $((N_BIOS - 1))); do k=$((k + 1)) && define_domain "$k" "rblab-bios$i" bios; done
for i in $(seq 0 $((N_UEFI - 1))); do k=$((k + 1)) && define_domain "$k" "rblab-uefi$i" uefi; done
log "defined ${names[*]}"

# ---------------------------------------------------------------------------------------
# 7. Register sushy as a BMC; discovery makes one node per Redfish System.
rb bmc add "$SUSHY" -u admin -p password --xname "$BMC" | tee "$LAB/bmc-add.txt" >&2 ||
    die "rackboot bmc add $SUSHY failed"
ces=$(api "$CTL/apis/smd/hsm/v2/Inventory/ComponentEndpoints?redfish_ep_id=$BMC")
# node xname per VM, matched by the System's UUID (sushy's System Id), not by position.
declare -A xname_of
for j in "${!names[@]}"; do
    x=$(jq -r --arg id "${uuids[$j]}" \
        '.ComponentEndpoints[] | select(.OdataID == "/redfish/v1/Systems/" + $id) | .ID' <<<"$ces")
    [ -n "$x" ] || die "discovery found no node for ${names[$j]} (System ${uuids[$j]}): $ces"
    got=$(jq -r --arg x "$x" '.ComponentEndpoints[] | select(.ID == $x) | .RedfishSystemInfo.EthernetNICInfo[].MACAddress' <<<"$ces" | tr 'A-F' 'a-f')
    [ "$got" = "${macs[$j]}" ] || die "node $x (${names[$j]}) has MACs '$got', expected ${macs[$j]}"
    xname_of[${names[$j]}]=$x
    done
for n in "${names[@]}"; do nodes+=("${xname_of[$n]}"); done
log "discovered: $(for n in "${names[@]}"; do printf '%s=%s ' "$n" "${xname_of[$n]}"; done)"

# Optional: each node's address in the inventory, which full mode then serves as a
# reservation; in proxy mode (the site dnsmasq's static address) it is how rackboot can tell
# whose TFTP transfer it is.
if [ "$RESERVE" = 1 ]; then
    for j in "${!names[@]}"; do
        k=$((j + 1))
        if [ "$DHCP_MODE" = full ]; then addr=192.168.77.$((10 + k)); else addr=$(site_ip_of "$k"); fi
        api -X PATCH -H 'Content-Type: application/json' \
            -d "{\"IPAddresses\": [{\"IPAddress\": \"$addr\"}]}" \
            "$CTL/apis/smd/hsm/v2/Inventory/EthernetInterfaces/$(tr -d : <<<"${macs[$j]}")" >/dev/null ||
            die "could not record $addr for ${macs[$j]}"
    done
    log "recorded the nodes' addresses in the inventory (RESERVE=1)"
fi

if [ "$HOLD" = discovered ]; then # for debugging: keep the lab up after discovery
    log "HOLD=discovered: touch $LAB/release to clean up"
    until [ -e "$LAB/release" ]; do sleep 1; done
    exit 0
fi

# ---------------------------------------------------------------------------------------
# 8. The image and the session template.
rb images import --name "$IMAGE" --kernel "$repo/images/out/vmlinuz" --initrd "$repo/images/out/initrd.img" \
    --params "panic=1 no_timer_check" --quiet >"$LAB/image-import.txt" || die "rackboot images import failed"
jq -n --arg path "s3://boot-images/$IMAGE/manifest.json" --arg params "console=ttyS0 rackboot_url=$URL" \
    '{description: "rackboot QEMU lab (tests/lab/lab.sh)", enable_cfs: false,
      boot_sets: {lab: {type: "s3", path: $path, node_list: $ARGS.positional, kernel_parameters: $params}}}' \
    --args "${nodes[@]}" >"$LAB/template.json"
if [ "$BOOT_EVIDENCE" = 0 ]; then
    rb bos options set boot_evidence=false >/dev/null || die "rackboot bos options set boot_evidence=false failed"
fi
rb bos sessiontemplates create "$TEMPLATE" --file "$LAB/template.json" >&2
rb bos sessiontemplates validate "$TEMPLATE" >&2 || die "session template $TEMPLATE is not valid"

# ---------------------------------------------------------------------------------------
# 9. Sessions. A poller notes when each node of the session is done (BOS disables a
# component when its node reached the session's goal), for the per-node times; the CLI's
# --watch decides the outcome.
watch_done() { # session file
    local s=$1 out=$2 fin=" " id
    while :; do
        while read -r id; do
            [[ "$fin" == *" $id "* ]] && continue
            fin="$fin$id "
            printf '%s %s\n' "$id" "$(date +%s.%N)" >>"$out"
        done < <(rbj bos components list --session "$s" 2>/dev/null |
            jq -r '.[] | select(.enabled == false and .status.status == "stable") | .id' 2>/dev/null)
        sleep 0.25
    done
}

declare -A wall
session() { # operation
    local op=$1 name=lab-$1 start end rc=0
    : >"$LAB/stable-$name.txt"
    log "BOS $op session $name: rackboot bos sessions create --template-name $TEMPLATE --operation $op --watch"
    start=$(date +%s.%N)
    echo "$start" >"$LAB/start-$name.txt"
    watch_done "$name" "$LAB/stable-$name.txt" &
    poller=$!
    # In the background, so that a signal reaches the trap at once (wait is interruptible).
    timeout "$SESSION_TIMEOUT" ip netns exec "$NS" "$RB" bos sessions create --url "$CTL" \
        --template-name "$TEMPLATE" --operation "$op" --name "$name" --watch \
        >"$LAB/session-$name.txt" 2>&1 &
    wait $! || rc=$?
    end=$(date +%s.%N)
    sleep 0.5 # one more poll for the last node
    kill "$poller" 2>/dev/null
    wait "$poller" 2>/dev/null || true
    poller=
    wall[$op]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    grep -v '^\[' "$LAB/session-$name.txt" >&2 || true
    if [ "$rc" = 124 ]; then
        tail -n 3 "$LAB/session-$name.txt" >&2
        rb bos components list --session "$name" >&2 || true
        die "the $op session did not complete within ${SESSION_TIMEOUT}s"
    elif [ "$rc" != 0 ]; then
        tail -n 3 "$LAB/session-$name.txt" >&2
        rb bos components list --session "$name" >&2 || true
        die "the $op session failed (rackboot bos sessions create --watch exited $rc)"
    fi
    log "BOS $op session complete in ${wall[$op]} s"
}

component() { rbj bos components get "$1"; }

# Every node stable, with the token it was given reported back; its console says so. (With
# BOOT_EVIDENCE=1 a node can be stable before its report: allow it 30 s more.)
check_booted() { # session
    local x c st err want got start
    for x in "${nodes[@]}"; do
        start=$SECONDS
        while :; do
            c=$(component "$x")
            want=$(jq -r .desired_state.bss_token <<<"$c") got=$(jq -r .actual_state.bss_token <<<"$c")
            if [ "$want" = "$got" ] && grep -q "RACKBOOT-TINY-BOOTED xname=$x token=$want" \
                "$LAB/console-${vm_name[$x]}.log"; then
                break
            fi
            [ $((SECONDS - start)) -lt 30 ] || break
            sleep 0.5
        done
        st=$(jq -r .status.status <<<"$c") err=$(jq -r .error <<<"$c")
        want=$(jq -r .desired_state.bss_token <<<"$c") got=$(jq -r .actual_state.bss_token <<<"$c")
        { [ "$st" = stable ] && [ -z "$err" ]; } || die "$1: node $x is '$st' (error '$err')"
        { [ -n "$want" ] && [ "$want" = "$got" ]; } || die "$1: node $x reported token '$got', its desired token is '$want'"
        grep -q "RACKBOOT-TINY-BOOTED xname=$x token=$want" "$LAB/console-${vm_name[$x]}.log" ||
            die "$1: no RACKBOOT-TINY-BOOTED xname=$x token=$want on ${vm_name[$x]}'s console"
        token[$x]=$want
    done
}

declare -A vm_name token
for n in "${names[@]}"; do vm_name[${xname_of[$n]}]=$n; done

session boot
check_booted boot
declare -A boot_token
for x in "${nodes[@]}"; do boot_token[$x]=${token[$x]}; done

wall[reboot]=- wall[shutdown]=-
if [ "$SESSIONS" = all ]; then
    session reboot
    check_booted reboot
    for x in "${nodes[@]}"; do
        [ "${token[$x]}" != "${boot_token[$x]}" ] ||
            die "reboot: node $x still reports the boot session's token ${token[$x]}"
    done
    log "reboot: every node reported a new bss_token"

    session shutdown
    for j in "${!names[@]}"; do
        ps=$(in_ns curl -fsS "$SUSHY/redfish/v1/Systems/${uuids[$j]}" | jq -r .PowerState)
        [ "$ps" = Off ] || die "shutdown: sushy says ${names[$j]} (${xname_of[${names[$j]}]}) is '$ps'"
    done
    log "shutdown: sushy reports PowerState Off for every System"
fi

# ---------------------------------------------------------------------------------------
# 10. What happened: each node's timeline, per-session per-node times, session wall times.
for x in "${nodes[@]}"; do
    rbj nodes timeline "$x" >"$LAB/timeline-$x.json"
    printf '\n== %s (%s, %s): rackboot nodes timeline %s\n' "$x" "${vm_name[$x]}" \
        "$(jq -r '.events | length' "$LAB/timeline-$x.json") events" "$x"
    rb nodes timeline "$x"
done
if [ "$DHCP_MODE" = full ]; then
    printf '\n== rackboot dhcp leases\n'
    rb dhcp leases
fi
printf '\n'
# rackboot puts a TFTP transfer on a node's timeline when it knows the client's address: one
# its DHCP server gave or saw (in proxy mode, the address the firmware asked port 4011 from),
# the inventory's, or a stored lease. OVMF's own PXE fetches snponly.efi over TFTP.
need_tftp=() summary_args=()
for x in "${nodes[@]}"; do
    summary_args+=("$x=${vm_name[$x]}")
    if [[ "$UEFI_ROM" = none && "${vm_name[$x]}" == *uefi* ]]; then
        need_tftp+=("$x")
    fi
done
python3 "$here/summary.py" "$LAB" --need-tftp "$(IFS=,; echo "${need_tftp[*]}")" "${summary_args[@]}" ||
    die "a node's timeline misses a boot step (see MISSING above)"
if [ "$UEFI_ROM" = none ] && [ "$N_UEFI" -gt 0 ]; then
    n=$(grep -c 'tftp transfer .*file=snponly.efi outcome="complete"' "$LAB/rackboot.log" || true)
    [ "$n" -ge $((2 * N_UEFI)) ] || die "rackboot.log shows $n complete TFTP transfers of snponly.efi, expected $((2 * N_UEFI))"
fi
printf '\nsession wall time (CLI create --watch until complete): boot %s s, reboot %s s, shutdown %s s\n' \
    "${wall[boot]}" "${wall[reboot]}" "${wall[shutdown]}"
log "done: $N_BIOS BIOS + $N_UEFI UEFI nodes, DHCP $DHCP_MODE"
finished=1
