# Sourced by the benches: start the appliance under test the way it runs on a rack.
#
#   start_appliance secure|lab DATA_DIR BOOT_PORT [more serve flags...]
#
# `secure`: the boot plane on plain HTTP at 127.0.0.1:BOOT_PORT (what the benches measure),
# the control plane on HTTPS on a free port with authentication on; signs in as the first
# admin and makes an API token. `lab`: both planes on the one plain-HTTP listener,
# authentication off (benches of the operators, not of the boot plane). Both without the
# boot plane's per-address request limit: every client here is 127.0.0.1. A build from before
# the control plane had its own listener (RACKBOOT_BIN, to compare) runs as it always did.
# Sets RB_PID and exports BOOT_URL (the boot plane), RACKBOOT_URL, RACKBOOT_CA and
# RACKBOOT_TOKEN (the control plane, for the CLI) and the array CURL_CTL (curl options for the
# control plane). Needs BIN and free_port.
start_appliance() {
    local shape=$1 data=$2 port=$3
    shift 3
    local extra=()
    local secure=0
    # Every simulated node and load client asks from 127.0.0.1: no per-address limit.
    "$BIN" serve --help | grep -q -- '--boot-rate-limit' && extra+=(--boot-rate-limit 0)
    if "$BIN" serve --help | grep -q -- '--control-listen'; then
        if [ "$shape" = secure ]; then
            CTL_PORT=$(free_port)
            extra+=(--control-listen "127.0.0.1:$CTL_PORT")
            secure=1
        else
            extra+=(--control-listen boot --no-auth)
        fi
    fi
    "$BIN" serve --data-dir "$data" --listen "127.0.0.1:$port" "${extra[@]}" "$@" &
    RB_PID=$!
    export BOOT_URL="http://127.0.0.1:$port"
    for _ in $(seq 100); do curl -sf "$BOOT_URL/healthz" >/dev/null && break; sleep 0.1; done
    curl -sf "$BOOT_URL/healthz" >/dev/null || { echo "rackboot did not start" >&2; exit 1; }
    CURL_CTL=()
    if [ "$secure" = 1 ]; then
        export RACKBOOT_URL="https://127.0.0.1:$CTL_PORT" RACKBOOT_CA="$data/tls/cert.pem"
        local token
        token=$("$BIN" tokens create bench --login admin --password-file "$data/initial-admin-password" | grep '^rbt_')
        export RACKBOOT_TOKEN=$token
        CURL_CTL=(--cacert "$RACKBOOT_CA" -H "Authorization: Bearer $RACKBOOT_TOKEN")
    else
        export RACKBOOT_URL=$BOOT_URL
    fi
}

# The flags of the lab shape for a `serve` line of its own (empty for older builds).
lab_flags() {
    local f=()
    "$BIN" serve --help | grep -q -- '--control-listen' && f+=(--control-listen boot --no-auth)
    "$BIN" serve --help | grep -q -- '--boot-rate-limit' && f+=(--boot-rate-limit 0)
    # Every simulated node, load client and API caller is 127.0.0.1: no per-address cap.
    "$BIN" serve --help | grep -q -- '--max-connections-per-address' && f+=(--max-connections-per-address 100000)
    echo "${f[@]}"
}
