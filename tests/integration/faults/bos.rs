//! BOS sessions interrupted: crashes at every window of setup, power-on and power-off, a
//! crash loop, a kill in the boot wait, a SIGTERM mid-power-on. After the last restart the
//! session completes with every node stable, each node's BMC took exactly the resets the
//! operation plans (none repeated, none missing), no attempt was spent on a crash, and the
//! store is intact.

use std::time::Duration;

use redfish::sim::SimConfig;
use reqwest::Method;
use serde_json::Value;

use super::{Appliance, checked, integrity, until};
use crate::bos::{Lab, assert_all_stable, bos, put_image};

struct Case {
    app: Appliance,
    lab: Lab,
}

/// `n` nodes, one per SimBmc (answering after `latency`), discovered, with a template `t`
/// over all of them.
async fn case(n: usize, latency: Duration) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let app = Appliance::start(&data, &[]).await;
    let lab = Lab::around(app.server(), dir, n, SimConfig::default()).await;
    for b in lab.fleet.bmcs() {
        b.set_latency(latency);
    }
    let img = put_image(&lab.s, "img");
    lab.template("t", &img, &lab.xnames).await;
    // One attempt each: any attempt a crash used up would fail its node.
    lab.options(serde_json::json!({"default_retry_policy": 1}))
        .await;
    Case { app, lab }
}

impl Case {
    /// Every node stable, its resets, then the store: what every case ends with.
    async fn check(&self, name: &str, status: &Value, resets_each: u64, extra: Vec<String>) {
        assert_all_stable(status);
        let mut what = vec![format!(
            "session complete, {} nodes stable, 0 % failed, no error",
            self.lab.xnames.len()
        )];
        for (i, x) in self.lab.xnames.iter().enumerate() {
            assert_eq!(
                self.lab.resets(i),
                resets_each,
                "{x}: resets at its BMC\n{}",
                self.app.log()
            );
        }
        what.push(format!(
            "each node's BMC took exactly {resets_each} reset(s), all within a retry policy of 1 (a crash that spent an attempt would have failed the node)"
        ));
        assert_eq!(integrity(&self.app.data).await, "ok");
        what.push("store integrity_check ok".into());
        what.extend(extra);
        what.push(format!("{} starts of rackboot serve", self.app.starts()));
        checked(name, &what);
    }

    async fn session(&self, operation: &str) -> String {
        self.lab.create("t", operation, None).await
    }

    fn resets(&self) -> u64 {
        self.lab.fleet.counters().resets
    }
}

/// Crashed at `point` (armed at the next start) `times` times in a row, then started clean.
async fn crash_loop(c: &mut Case, point: &str, times: u32) {
    for _ in 0..times {
        c.app.kill().await;
        c.app.restart(Some(point));
        c.app.crashed(point).await;
    }
    c.app.restart(None);
    c.app.ready().await;
}

#[tokio::test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the fault-injection feature (crash points): cargo nextest run --all-features"
)]
async fn a_crash_loop_in_power_on_spends_no_retry_budget() {
    // Issue 19 finding 1: three kills during power-on used up the retry budget with 0 resets.
    let mut c = case(20, Duration::from_millis(300)).await;
    let name = c.session("boot").await;
    crash_loop(&mut c, "bos.power_on.intent", 3).await;
    let status = c.lab.wait_complete(&name).await;
    c.check(
        "crash loop at power-on intent",
        &status,
        1,
        vec!["3 aborts after the power-on intent was written, before any BMC call".into()],
    )
    .await;
}

#[tokio::test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the fault-injection feature (crash points): cargo nextest run --all-features"
)]
async fn a_crash_after_resets_before_their_outcome_repeats_none() {
    let mut c = case(20, Duration::ZERO).await;
    c.app.kill().await;
    c.app.restart(Some("bos.power_on.sent:7"));
    c.app.ready().await;
    let name = c.session("boot").await;
    c.app.crashed("bos.power_on.sent").await;
    let at_crash = c.resets();
    c.app.restart(None);
    c.app.ready().await;
    let status = c.lab.wait_complete(&name).await;
    c.check(
        "crash after the 7th power-on reset",
        &status,
        1,
        vec![format!(
            "{at_crash} resets sent before the abort, none of their outcomes recorded"
        )],
    )
    .await;
}

#[tokio::test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the fault-injection feature (crash points): cargo nextest run --all-features"
)]
async fn a_crash_in_session_setup_resumes_the_session() {
    let mut c = case(10, Duration::ZERO).await;
    c.app.kill().await;
    c.app.restart(Some("bos.session_setup.components"));
    c.app.ready().await;
    let name = c.session("boot").await;
    c.app.crashed("bos.session_setup.components").await;
    c.app.restart(None);
    c.app.ready().await;
    let status = c.lab.wait_complete(&name).await;
    c.check(
        "crash in session setup",
        &status,
        1,
        vec![
            "abort after setup wrote the components, before the session was marked running".into(),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_kill_in_the_boot_wait_costs_nothing() {
    let mut c = case(20, Duration::ZERO).await;
    let name = c.session("boot").await;
    let n = c.lab.xnames.len() as u64;
    until("every node to be reset", Duration::from_secs(30), || {
        c.resets() >= n
    })
    .await;
    c.app.kill().await;
    c.app.restart(None);
    c.app.ready().await;
    let status = c.lab.wait_complete(&name).await;
    c.check(
        "kill -9 in the boot wait",
        &status,
        1,
        vec!["SIGKILL once every node had been reset, before the session completed".into()],
    )
    .await;
}

#[tokio::test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the fault-injection feature (crash points): cargo nextest run --all-features"
)]
async fn a_reboot_crashed_after_graceful_offs_repeats_none() {
    let mut c = case(12, Duration::ZERO).await;
    let first = c.session("boot").await;
    c.lab.wait_complete(&first).await;
    let before = c.resets();
    c.app.kill().await;
    c.app.restart(Some("bos.power_off.sent:5"));
    c.app.ready().await;
    let name = c.session("reboot").await;
    c.app.crashed("bos.power_off.sent").await;
    c.app.restart(None);
    c.app.ready().await;
    let status = c.lab.wait_complete(&name).await;
    assert_all_stable(&status);
    // Boot: one On each; reboot: one graceful off and one On each.
    for i in 0..c.lab.xnames.len() {
        assert_eq!(c.lab.resets(i), 3, "{}: {}", c.lab.xnames[i], c.app.log());
    }
    assert_eq!(integrity(&c.app.data).await, "ok");
    checked(
        "reboot, crash after the 5th graceful off",
        &[
            format!(
                "boot then reboot of {} nodes complete, all stable",
                c.lab.xnames.len()
            ),
            format!(
                "{} resets for the reboot: exactly one graceful off and one On per node",
                c.resets() - before
            ),
            "all within a retry policy of 1".into(),
            "store integrity_check ok".into(),
        ],
    );
}

#[tokio::test]
async fn a_sigterm_mid_power_on_finishes_its_calls_then_resumes() {
    let mut c = case(20, Duration::from_millis(300)).await;
    let name = c.session("boot").await;
    until("the first reset", Duration::from_secs(30), || {
        c.resets() >= 1
    })
    .await;
    let st = c.app.terminate(Duration::from_secs(60)).await;
    assert!(st.success(), "SIGTERM exit: {st}\n{}", c.app.log());
    c.app.restart(None);
    c.app.ready().await;
    let status = c.lab.wait_complete(&name).await;
    let (_, s) = bos(&c.lab.s, Method::GET, &format!("/sessions/{name}"), None).await;
    assert_eq!(s["status"]["status"], "complete");
    c.check(
        "SIGTERM during power-on calls",
        &status,
        1,
        vec!["SIGTERM after the first reset: exit 0, restart, no reset repeated".into()],
    )
    .await;
}

#[tokio::test]
async fn a_kill_while_nodes_configure_costs_nothing() {
    let mut c = case(12, Duration::ZERO).await;
    // Ten layers: a simulated node applies one per agent round (100 ms), so its nodes stay
    // configuring for about a second, which a poll cannot miss even on a loaded machine
    // (with one layer the whole window could fall between two polls).
    let layers: Vec<serde_json::Value> = (0..10)
        .map(|i| {
            serde_json::json!({"name": format!("layer{i}"), "clone_url": format!("https://vcs.example/l{i}.git"),
                "playbook": "site.yml", "commit": format!("{i:040x}")})
        })
        .collect();
    let (st, v) = c
        .lab
        .s
        .send(
            Method::PUT,
            "/apis/cfs/v3/configurations/site",
            serde_json::json!({ "layers": layers }),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let img = put_image(&c.lab.s, "img");
    let (st, v) = bos(
        &c.lab.s,
        Method::PUT,
        "/sessiontemplates/t",
        Some(
            serde_json::json!({"enable_cfs": true, "cfs": {"configuration": "site"},
            "boot_sets": {"compute": {"type": "s3", "path": img, "node_list": c.lab.xnames,
                "kernel_parameters": "console=ttyS0"}}}),
        ),
    )
    .await;
    assert!(st.is_success(), "{v}");
    let name = c.session("boot").await;
    let s = &c.lab.s;
    crate::common::wait_until(
        "a node to be configuring",
        Duration::from_secs(30),
        async || {
            let (_, comps) = bos(s, Method::GET, "/components", None).await;
            let n = comps
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["status"]["status"] == "configuring")
                .count();
            if n > 0 { Ok(()) } else { Err(comps) }
        },
    )
    .await;
    c.app.kill().await;
    c.app.restart(None);
    c.app.ready().await;
    let status = c.lab.wait_complete(&name).await;
    c.check(
        "kill -9 while nodes configure",
        &status,
        1,
        vec!["SIGKILL while nodes were configuring (built-in CFS, ten layers)".into()],
    )
    .await;
}
