#!/usr/bin/env bash
# Benchmark (not a test): the web console's rack view over a real 10,000-node Boot session.
#
# bench/session.sh's session (10,000 SimBmcs with one netbooting node each, 20 ms per Redfish
# answer) with Debian's chromium (headless, Playwright: tests/console/e2e.mjs, MODE=watch)
# looking at the rack view from before the POST until every tile reads stable. Prints
# session.sh's table plus: the rack view's first render beside the same page drawn from a
# file (the browser's floor: no server, no network) and the ratio; when the page showed every
# tile stable beside when the API said complete, and the ratio; how many tile changes it was
# shown, and the main thread's long tasks (over 50 ms) and worst timer lag while they came.
# Peak RSS of rackboot is session.sh's row. Goal (issue 21): first render under 2 s, the page
# responsive through the session (no long task near a second).
#
#   bash bench/console.sh              # 10,000 nodes
#   NODES=1000 bash bench/console.sh   # a quick check
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/peers.sh >/dev/null 2>&1 || bash scripts/peers.sh
OUT=${OUT:-$PWD/target/bench-console}
mkdir -p "$OUT"
export OUT NODES=${NODES:-10000}
export WATCH_CMD="cd $PWD/tests/console && MODE=watch NODES=$NODES OUT=$OUT node e2e.mjs"
exec bash bench/session.sh
