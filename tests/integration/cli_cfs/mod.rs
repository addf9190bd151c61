//! `rackboot cfs …` against a live appliance with the built-in CFS: what an admin types,
//! what they see, and the exit codes scripts rely on. Components are written over HTTP,
//! as the BOS handoff and the nodes' reporters write them; the CLI reads them.
//!
//! The commits, node names and JSON helper are here; the tests are in the topic modules below.

use serde_json::Value;

mod commands;
mod input;
mod paging;

const A: &str = "0123456789abcdef0123456789abcdef01234567";
const B: &str = "89abcdef0123456789abcdef0123456789abcdef";
const N0: &str = "x1000c0s0b0n0";
const N1: &str = "x1000c0s1b0n0";

/// Nothing listens here: a command that fails with anything but "cannot reach" failed
/// before sending a request.
const NOWHERE: &str = "http://127.0.0.1:1";

fn json_out(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}
