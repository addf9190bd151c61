#!/usr/bin/env bash
# Runs the whole test suite, installing what the tests need first:
#  - cargo-nextest (pinned), the test runner;
#  - the real peers in .peers/ (scripts/peers.sh): the sushy-tools Redfish emulator in a
#    Python venv.
# The tests start the real appliance in-process on 127.0.0.1:0 and drive it over HTTP and
# through the CLI binary, against SimBmc (our simulated BMC) and the peers above.
set -euo pipefail
cd "$(dirname "$0")/.."

NEXTEST_VERSION=0.9.143
if ! cargo nextest --version >/dev/null 2>&1; then
    echo "installing cargo-nextest $NEXTEST_VERSION" >&2
    cargo install --locked "cargo-nextest@$NEXTEST_VERSION"
fi
bash scripts/peers.sh
cargo nextest run --workspace --all-features --no-fail-fast "$@"
