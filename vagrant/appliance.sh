#!/usr/bin/env bash
# Why this exists: the appliance VM's side of vagrant/Vagrantfile, the same steps as
# tests/lab/lab.sh but with systemd services on a real VM instead of processes in a netns.
#   appliance.sh provision   (Vagrant runs it as root) installs rackboot, sushy-tools and
#                            router advertisements, registers sushy as BMC x3000c0s1b0,
#                            imports the tiny image, writes the BOS session template "lab"
#   appliance.sh sessions    forces the nodes off, then Boot, Reboot and Shutdown sessions
#                            through the CLI, each node's timeline and the wall times
# Not run in CI (see README.md).
set -euo pipefail

IP=192.168.77.1
URL=http://$IP:8080
SUSHY=http://127.0.0.1:8000
BMC=x3000c0s1b0
TEMPLATE=lab
VENV=/opt/rackboot-lab/venv
ETC=/etc/rackboot-lab
SUSHY_TOOLS_VERSION=2.2.0
LIBVIRT_PYTHON_VERSION=12.8.0
export RACKBOOT_URL=$URL

log() { printf '[appliance] %s\n' "$*" >&2; }
wait_for() { # seconds command...
    local limit=$1 start=$SECONDS
    shift
    until "$@" >/dev/null 2>&1; do
        [ $((SECONDS - start)) -lt "$limit" ] || return 1
        sleep 0.5
    done
}
die() {
    printf '[appliance] FAIL: %s\n' "$*" >&2
    exit 1
}

provision() {
    : "${LIBVIRT_URI:?set by the Vagrantfile}" "${NODE_UUIDS:?set by the Vagrantfile}"
    local dhcp_mode=${DHCP_MODE:-full} iface
    log "installing packages"
    apt-get -o DPkg::Lock::Timeout=300 update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
        ipxe dnsmasq-base python3-venv libvirt-clients libvirt-dev pkg-config gcc openssh-client \
        curl jq busybox-static cpio >&2

    install -m 0755 /tmp/rackboot /usr/local/bin/rackboot
    install -d -m 0700 "$ETC"
    install -m 0600 /tmp/id_ed25519 "$ETC/id_ed25519"

    # The boot interface is the one Vagrant gave 192.168.77.1; IPv6 for the RAs.
    iface=$(ip -o -4 addr show | awk -v ip="$IP/" 'index($4, ip) == 1 { print $2; exit }')
    [ -n "$iface" ] || die "no interface has $IP"
    ip -6 addr replace fd77::1/64 dev "$iface" nodad

    if [ ! -x "$VENV/bin/sushy-emulator" ]; then
        log "sushy-tools $SUSHY_TOOLS_VERSION, libvirt-python $LIBVIRT_PYTHON_VERSION into $VENV"
        mkdir -p "$(dirname "$VENV")"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --disable-pip-version-check -q \
            "sushy-tools==$SUSHY_TOOLS_VERSION" "libvirt-python==$LIBVIRT_PYTHON_VERSION" >&2
    fi
    # Only the lab's nodes are Systems (not the appliance, not other VMs on the host).
    local allowed
    allowed=$(tr ',' '\n' <<<"$NODE_UUIDS" | sed "s/.*/'&',/" | tr -d '\n')
    cat >"$ETC/sushy.conf" <<EOF
# rackboot lab (Vagrant): sushy-tools' libvirt driver over the host's libvirtd.
SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'
SUSHY_EMULATOR_LISTEN_PORT = 8000
SUSHY_EMULATOR_LIBVIRT_URI = '$LIBVIRT_URI'
SUSHY_EMULATOR_ALLOWED_INSTANCES = [$allowed]
SUSHY_EMULATOR_BOOT_LOADER_MAP = {
    'UEFI': {'x86_64': '/usr/share/OVMF/OVMF_CODE_4M.fd'},
    'Legacy': {'x86_64': None},
}
SUSHY_EMULATOR_SECURE_BOOT_DISABLED_NVRAM = '/usr/share/OVMF/OVMF_VARS_4M.fd'
EOF

    local dhcp_args="--dhcp $dhcp_mode --dhcp-interface $iface"
    [ "$dhcp_mode" = full ] && dhcp_args="$dhcp_args --dhcp-pool 192.168.77.100-192.168.77.150"
    cat >/etc/systemd/system/rackboot.service <<EOF
[Unit]
Description=rackboot (lab appliance)
After=network-online.target
Wants=network-online.target

[Service]
Environment=NO_COLOR=1
ExecStart=/usr/local/bin/rackboot serve --listen $IP:8080 --advertise-url $URL --tftp-listen $IP:69 $dhcp_args --data-dir /var/lib/rackboot
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
    cat >/etc/systemd/system/rackboot-sushy.service <<EOF
[Unit]
Description=sushy-tools Redfish emulator for the lab's node VMs

[Service]
ExecStart=$VENV/bin/sushy-emulator --config $ETC/sushy.conf
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
    # Router advertisements only: without them this iPXE waits ~13 s for IPv6 on every boot.
    cat >/etc/systemd/system/rackboot-ra.service <<EOF
[Unit]
Description=IPv6 router advertisements on the boot network (for iPXE)
After=network-online.target

[Service]
ExecStartPre=/usr/sbin/ip -6 addr replace fd77::1/64 dev $iface nodad
ExecStart=/usr/sbin/dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface=$iface --bind-interfaces --enable-ra --dhcp-range=fd77::,ra-only,64
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
    systemctl daemon-reload
    systemctl enable --now rackboot-ra.service rackboot-sushy.service rackboot.service >&2
    systemctl restart rackboot-sushy.service rackboot.service

    wait_for 30 curl -fsS "$URL/readyz" || die "rackboot is not ready (journalctl -u rackboot)"
    wait_for 30 curl -fsS "$SUSHY/redfish/v1/Systems" || true
    local count
    count=$(curl -fsS "$SUSHY/redfish/v1/Systems" | jq '.Members | length') ||
        die "sushy-emulator does not answer (journalctl -u rackboot-sushy)"
    [ "$count" -gt 0 ] || die "sushy sees no node VMs through $LIBVIRT_URI: run 'vagrant up node-bios0 ...' first, and authorise vagrant/.lab/id_ed25519.pub on the host"

    if rackboot bmc list --format json | jq -e --arg b "$BMC" '.RedfishEndpoints[] | select(.ID == $b)' >/dev/null; then
        rackboot bmc discover "$BMC" >&2
    else
        rackboot bmc add "$SUSHY" -u admin -p password --xname "$BMC" >&2
    fi

    if [ ! -s /rackboot/images/out/vmlinuz ]; then
        log "building the tiny image"
        bash /rackboot/images/build.sh >&2
    fi
    rackboot images import --name tiny --kernel /rackboot/images/out/vmlinuz \
        --initrd /rackboot/images/out/initrd.img --params "panic=1 no_timer_check" --quiet >&2
    rackboot bos options set boot_evidence=false >/dev/null

    local nodes
    nodes=$(curl -fsS "$URL/apis/smd/hsm/v2/Inventory/ComponentEndpoints?redfish_ep_id=$BMC" |
        jq -c '[.ComponentEndpoints[].ID]')
    jq -n --argjson nodes "$nodes" --arg params "console=ttyS0 rackboot_url=$URL" \
        '{description: "rackboot lab (vagrant)", enable_cfs: false,
          boot_sets: {lab: {type: "s3", path: "s3://boot-images/tiny/manifest.json",
                            node_list: $nodes, kernel_parameters: $params}}}' >"$ETC/template.json"
    rackboot bos sessiontemplates create "$TEMPLATE" --file "$ETC/template.json" >&2
    rackboot bos sessiontemplates validate "$TEMPLATE" >&2
    log "ready: sudo /rackboot/vagrant/appliance.sh sessions"
}

sessions() {
    local nodes x op start end
    mapfile -t nodes < <(jq -r '.boot_sets.lab.node_list[]' "$ETC/template.json")
    [ ${#nodes[@]} -gt 0 ] || die "no nodes in $ETC/template.json (run provision first)"
    log "forcing ${nodes[*]} off (vagrant up left them PXE-looping)"
    rackboot power off "${nodes[@]}" --force >&2
    local tok
    declare -A wall token
    for op in boot reboot shutdown; do
        log "rackboot bos sessions create --template-name $TEMPLATE --operation $op --watch"
        start=$(date +%s.%N)
        rackboot bos sessions create --template-name "$TEMPLATE" --operation "$op" --watch >&2 ||
            die "the $op session failed"
        end=$(date +%s.%N)
        wall[$op]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
        if [ "$op" != shutdown ]; then
            for x in "${nodes[@]}"; do
                rackboot bos components get "$x" --format json |
                    jq -e '.status.status == "stable" and .actual_state.bss_token == .desired_state.bss_token
                           and .actual_state.bss_token != ""' >/dev/null ||
                    die "$op: node $x is not stable with its desired token"
                tok=$(rackboot bos components get "$x" --format json | jq -r .actual_state.bss_token)
                if [ "$op" = reboot ] && [ "$tok" = "${token[$x]}" ]; then
                    die "reboot: node $x still reports the boot session's token $tok"
                fi
                token[$x]=$tok
            done
        fi
    done
    local sys
    for sys in $(curl -fsS "$SUSHY/redfish/v1/Systems" | jq -r '.Members[]."@odata.id"'); do
        [ "$(curl -fsS "$SUSHY$sys" | jq -r .PowerState)" = Off ] || die "shutdown: sushy says $sys is not Off"
    done
    for x in "${nodes[@]}"; do
        printf '\n== rackboot nodes timeline %s\n' "$x"
        rackboot nodes timeline "$x"
    done
    printf '\nsession wall time: boot %s s, reboot %s s, shutdown %s s\n' \
        "${wall[boot]}" "${wall[reboot]}" "${wall[shutdown]}"
}

case "${1:-}" in
    provision) provision ;;
    sessions) sessions ;;
    *) die "usage: $0 provision|sessions" ;;
esac
