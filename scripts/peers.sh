#!/usr/bin/env bash
# Installs the real peers that the integration tests talk to, into $REPO/.peers/.
# Today: the sushy-tools Redfish emulator (fake driver) in a Python venv, the s3s-fs S3
# server (built with cargo into .peers/bin), and Debian's TFTP clients and iPXE binaries (apt). bcrypt (a dependency of
# sushy-tools: its SUSHY_EMULATOR_AUTH_FILE takes bcrypt htpasswd entries only) is pinned too, and
# can hash a password: .peers/venv/bin/python -c 'import bcrypt; print(bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode())'
# Used by tests/integration/sushy.rs. DMTF's redfish-protocol-validator (pinned) goes into the same
# venv for redfish/tests/protocol_validator.rs (its requests/urllib3 pins match sushy-tools').
# schemathesis (pinned, with every dependency pinned by tests/contract/constraints.txt) goes into a
# venv of its own, .peers/schemathesis, for the contract run (tests/contract/run.py): its
# dependencies (requests, urllib3, …) must not move sushy-tools' pins.
# Idempotent: when the pinned versions are already installed it only says so.
# Can be executed (`bash scripts/peers.sh`) or sourced (`. scripts/peers.sh`); either way it
# exits/returns non-zero on failure and leaves the caller's shell options alone.

_peers_main() {
    local repo venv py want_sushy want_bcrypt want_rpv
    repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    venv="$repo/.peers/venv"
    py="$venv/bin/python"
    want_sushy="2.2.0"
    want_bcrypt="4.2.0"
    want_rpv="1.3.2"

    # Fast path: every package importable at the pinned version.
    if [ -x "$py" ] && [ -x "$venv/bin/sushy-emulator" ] &&
        "$py" - "$want_sushy" "$want_bcrypt" "$want_rpv" >/dev/null 2>&1 <<'EOF'
import sys
from importlib.metadata import version
import bcrypt, sushy_tools, redfish_protocol_validator  # noqa: F401  (must import, not just be listed)
have = (version("sushy-tools"), version("bcrypt"), version("redfish-protocol-validator"))
sys.exit(0 if have == tuple(sys.argv[1:4]) else 1)
EOF
    then
        echo "peers: sushy-tools $want_sushy, bcrypt $want_bcrypt and redfish-protocol-validator $want_rpv already in $venv" >&2
        return 0
    fi

    # (Re)create the venv unless it exists with a working pip. A venv made without ensurepip
    # (Debian without python3-venv) has bin/python but no pip: start over in that case.
    if ! { [ -x "$py" ] && "$py" -m pip --version >/dev/null 2>&1; }; then
        echo "peers: creating venv $venv" >&2
        rm -rf "$venv"
        mkdir -p "$repo/.peers" || return 1
        if ! python3 -m venv "$venv" >/dev/null 2>&1; then
            rm -rf "$venv"
            # Debian/Ubuntu split venv/ensurepip into python3-venv (python3.X-venv).
            if [ "$(id -u)" -ne 0 ]; then
                echo "peers: 'python3 -m venv' failed; run: sudo apt-get install python3-venv" >&2
                return 1
            fi
            echo "peers: 'python3 -m venv' failed; installing python3-venv with apt-get" >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2 ||
                { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2; } ||
                return 1
            python3 -m venv "$venv" || return 1
        fi
    fi

    echo "peers: pip install sushy-tools==$want_sushy bcrypt==$want_bcrypt redfish-protocol-validator==$want_rpv into $venv" >&2
    "$py" -m pip install --disable-pip-version-check --quiet \
        "sushy-tools==$want_sushy" "bcrypt==$want_bcrypt" \
        "redfish-protocol-validator==$want_rpv" >&2 || return 1
    "$py" -c 'from importlib.metadata import version as v; print("peers: installed sushy-tools", v("sushy-tools"), "bcrypt", v("bcrypt"), "Flask", v("flask"), "redfish-protocol-validator", v("redfish-protocol-validator"))' >&2
}

# s3s-fs: a real S3 server (checks signatures) for the artifact tests, built from crates.io
# (0.15 and later need rustc 1.96). Takes about 3 minutes the first time; then a no-op.
_s3s_main() {
    local repo want bin
    repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    want="0.14.1"
    bin="$repo/.peers/bin/s3s-fs"
    if [ -x "$bin" ] && [ -f "$repo/.peers/s3s-fs.version" ] &&
        [ "$(cat "$repo/.peers/s3s-fs.version")" = "$want" ]; then
        echo "peers: s3s-fs $want already in $bin" >&2
        return 0
    fi
    echo "peers: cargo install --locked s3s-fs@$want --features binary (about 3 minutes)" >&2
    cargo install --locked --quiet "s3s-fs@$want" --features binary --root "$repo/.peers" >&2 || return 1
    echo "$want" >"$repo/.peers/s3s-fs.version"
}

# Debian packages: the TFTP clients the TFTP tests drive (tftp-hpa, atftp; curl is usually
# there), the ipxe binaries the server serves, and the DHCP tests' peers. Installed with apt when one is missing
# (needs root, or sudo without a password); then a no-op. Debian's postgresql too, for the
# PostgreSQL store's tests (they run their own server, scripts/pg.sh, not the packaged one). (bench/tftp.sh adds tftpd-hpa, its
# peer, itself: a package with a service is kept out of the test setup.)
_apt_main() {
    local missing=()
    command -v tftp >/dev/null || missing+=(tftp-hpa)
    command -v atftp >/dev/null || missing+=(atftp)
    [ -f /usr/lib/ipxe/undionly.kpxe ] || missing+=(ipxe)
    command -v curl >/dev/null || missing+=(curl)
    # The DHCP tests' clients (busybox udhcpc, ISC dhclient) and the site server beside the
    # proxy (dnsmasq); busybox-static is also what images/build.sh puts in the initramfs.
    command -v busybox >/dev/null || missing+=(busybox-static)
    command -v dhclient >/dev/null || missing+=(isc-dhcp-client)
    command -v dnsmasq >/dev/null || missing+=(dnsmasq-base)
    # The PostgreSQL store's tests start their own server from Debian's binaries (scripts/pg.sh).
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
    # The web console's browser tests: Debian's chromium, driven by Playwright on Node.js.
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    command -v node >/dev/null || missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
    if [ ${#missing[@]} -eq 0 ]; then
        echo "peers: tftp-hpa, atftp, curl, ipxe, busybox, dhclient, dnsmasq, postgresql, chromium and node already installed" >&2
        return 0
    fi
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    echo "peers: apt-get install ${missing[*]}" >&2
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
        "${sudo[@]}" apt-get update -q >&2 || return 1
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || return 1
    fi
}

# schemathesis for the contract run, in its own venv (see the top of this file).
_schemathesis_main() {
    local repo venv want
    repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    venv="$repo/.peers/schemathesis"
    want="4.32.5"
    if [ -x "$venv/bin/st" ] && [ "$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("schemathesis"))' 2>/dev/null)" = "$want" ]; then
        echo "peers: schemathesis $want already in $venv" >&2
        return 0
    fi
    echo "peers: pip install schemathesis==$want into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" || return 1
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet \
        -c "$repo/tests/contract/constraints.txt" "schemathesis==$want" >&2 || return 1
}

# playwright-core for the console's browser tests (tests/console: pinned by its lockfile; it
# downloads no browser, the tests use Debian's chromium). After apt: npm may come from there.
_console_main() {
    local repo dir
    repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    dir="$repo/tests/console"
    if [ -f "$dir/node_modules/.package-lock.json" ] &&
        cmp -s <(grep -v '"name"' "$dir/package-lock.json" | grep '"version"') \
            <(grep -v '"name"' "$dir/node_modules/.package-lock.json" | grep '"version"'); then
        echo "peers: tests/console's node_modules match its lockfile" >&2
        return 0
    fi
    echo "peers: npm ci in tests/console" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2 || return 1
}

# A subshell keeps `set -euo pipefail` and the helper's variables out of a sourcing shell.
( set -euo pipefail; _peers_main "$@"; _schemathesis_main; _s3s_main; _apt_main; _console_main )
