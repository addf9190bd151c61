#!/usr/bin/env bash
# Runs the whole test suite, installing what the tests need first.
# Today the tests need only the Rust toolchain and cargo-nextest: they start the real
# appliance in-process on 127.0.0.1:0 and drive it over HTTP and through the CLI binary.
set -euo pipefail
cd "$(dirname "$0")/.."

NEXTEST_VERSION=0.9.143
if ! cargo nextest --version >/dev/null 2>&1; then
    echo "installing cargo-nextest $NEXTEST_VERSION" >&2
    cargo install --locked "cargo-nextest@$NEXTEST_VERSION"
fi
cargo nextest run --no-fail-fast "$@"
