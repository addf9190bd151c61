//! The console in a real browser: `tests/console/e2e.mjs` (Playwright driving Debian's
//! chromium headless) against this appliance with simulated nodes. The walk logs in, starts
//! a Boot session from its dry run and watches tiles and progress reach stable without a
//! reload, reads a node's timeline, and checks that a read-only user has no action and that
//! forged actions are refused; it writes the screenshots (`RACKBOOT_SCREENSHOTS=docs` puts
//! them in `docs/`, where the README shows them). The scale run draws 10,000 tiles and
//! changes every one through the API twice, and prints what the browser measured (figures,
//! not assertions: bench/console.sh is the benchmark).

use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::lab_with;
use crate::common::{Server, secure_settings, wait_until};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run the browser script in `mode`; returns the figures it printed.
async fn e2e(s: &Server, mode: &str, env: &[(&str, String)]) -> Value {
    let sec = s.secure.as_ref().unwrap();
    let out = repo().join("target/console-e2e");
    let script = repo().join("tests/console/e2e.mjs");
    assert!(
        repo()
            .join("tests/console/node_modules/playwright-core")
            .is_dir(),
        "tests/console/node_modules is missing: scripts/peers.sh installs it (npm ci)"
    );
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(&script)
        .current_dir(repo().join("tests/console"))
        .env("RACKBOOT_URL", &s.base)
        .env("ADMIN_TOKEN", &sec.admin_token)
        .env("MODE", mode)
        .env("OUT", &out)
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = tokio::time::timeout(Duration::from_secs(300), cmd.output())
        .await
        .expect("the browser run ends within 5 minutes")
        .expect("node runs (scripts/peers.sh installs it)");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the browser {mode} run failed ({}):\n{stderr}\n{stdout}",
        run.status
    );
    let figures: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("no figures ({e}):\n{stdout}\n{stderr}"));
    println!("console {mode}: {figures:#}");
    figures
}

#[tokio::test]
#[ignore = "tier browser: Debian's chromium and tests/console's node_modules (scripts/peers.sh)"]
async fn in_a_browser_a_session_started_from_the_console_moves_the_rack_to_stable() {
    // BMCs that answer in 150 ms, as real ones do, so the tiles pass through their states.
    let bmc = redfish::sim::SimConfig {
        latency: Duration::from_millis(150),
        ..Default::default()
    };
    let lab = lab_with(8, bmc).await;
    lab.s.user_token("ops", "operator").await;
    lab.s.user_token("viewer", "read-only").await;
    let env = [("OPS", "ops".to_string()), ("VIEWER", "viewer".to_string())];
    let figures = e2e(&lab.s, "walk", &env).await;
    assert_eq!(figures["tiles"], 8, "{figures}");
    // What the walk's session did, as the API says.
    let (_, sessions) = lab.s.get("/apis/bos/v2/sessions").await;
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["status"]["status"], "complete");
    for i in 0..8 {
        assert_eq!(lab.power(i), "On", "node {i}");
    }
    // The forged and read-only power requests were refused: no node was powered off.
    let (_, ts) = lab.s.get("/apis/power-control/v1/transitions").await;
    assert!(
        ts["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["operation"] != "Off"),
        "{ts:#}"
    );
    let out = repo().join("target/console-e2e");
    if std::env::var("RACKBOOT_SCREENSHOTS").as_deref() == Ok("docs") {
        for f in [
            "console-rack.png",
            "console-session.png",
            "console-node.png",
        ] {
            std::fs::copy(out.join(f), repo().join("docs").join(f)).unwrap();
        }
    }
    lab.s.stop().await;
}

/// 10,000 nodes in HSM (no BMCs: the tiles' changes come from BOS components patched
/// through the API, the same path a session's changes take to the page).
#[tokio::test]
#[ignore = "tier browser: Debian's chromium and tests/console's node_modules (scripts/peers.sh)"]
async fn in_a_browser_ten_thousand_tiles_render_and_follow_every_change() {
    const NODES: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), crate::bos::quick().or(secure_settings())).await;
    let components: Vec<Value> = (0..NODES)
        .map(|i| {
            let x = format!(
                "x{}c{}s{}b0n{}",
                1000 + i / 512,
                i / 64 % 8,
                i / 2 % 32,
                i % 2
            );
            json!({"ID": x, "State": "Off", "NID": i + 1, "Role": "Compute"})
        })
        .collect();
    let (st, v) = s
        .send(
            Method::POST,
            "/apis/smd/hsm/v2/State/Components",
            json!({ "Components": components }),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    wait_until(
        "BOS to know every node",
        Duration::from_secs(120),
        async || {
            let (_, v) = s.get("/apis/bos/v2/components").await;
            let n = v.as_array().map_or(0, Vec::len);
            if n == NODES { Ok(()) } else { Err(n) }
        },
    )
    .await;
    s.user_token("ops", "operator").await;
    let env = [("OPS", "ops".to_string()), ("NODES", NODES.to_string())];
    let figures = e2e(&s, "scale", &env).await;
    assert_eq!(figures["nodes"], NODES, "{figures}");
    assert_eq!(figures["updates"].as_array().unwrap().len(), 2, "{figures}");
    s.stop().await;
}
