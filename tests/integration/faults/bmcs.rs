//! Bad BMCs among healthy ones (issue 19 findings 3 and 5): one that accepts connections and
//! never answers, one answering 500, one 503, one refusing the credentials, one answering in
//! 5 s, beside 50 healthy ones. The healthy nodes are all stable while the hanging BMC's
//! first call has not even timed out (nothing waits on it), the slow one boots too, and the
//! session says what happened: the four that could not be driven count as failed, each named
//! with its cause by the CLI, which exits non-zero; their BMCs' circuits show the failures.

use std::time::Duration;

use redfish::sim::SimConfig;
use reqwest::Method;
use serde_json::Value;

use super::checked;
use crate::bos::{Lab, bos, put_image, quick};
use crate::cli::rackboot;
use crate::common::wait_until;

const HEALTHY: usize = 50;

#[tokio::test]
async fn bad_bmcs_slow_no_healthy_node_and_count_as_failed() {
    let settings = rackboot::config::Settings {
        bmc_timeout_secs: Some(8),
        ..quick()
    };
    let lab = Lab::start_with(HEALTHY + 5, settings, SimConfig::default()).await;
    let bmcs = lab.fleet.bmcs();
    let (hang, e500, e503, auth, slow) =
        (HEALTHY, HEALTHY + 1, HEALTHY + 2, HEALTHY + 3, HEALTHY + 4);
    bmcs[hang].set_unresponsive(true);
    bmcs[e500].fail_next(u32::MAX, 500);
    bmcs[e503].fail_next(u32::MAX, 503);
    bmcs[auth].set_password("changed-by-someone");
    bmcs[auth].expire_sessions();
    bmcs[slow].set_latency(Duration::from_secs(5));
    let img = put_image(&lab.s, "img");
    lab.template("t", &img, &lab.xnames).await;
    let name = lab.create("t", "boot", None).await;

    // Every healthy node stable, while the hanging BMC's node has no error yet: its first
    // call cannot have failed before its 8 s timeout, so nothing waited on it.
    let healthy = &lab.xnames[..HEALTHY];
    let hang_x = lab.xnames[hang].clone();
    wait_until(
        "every healthy node to be stable before the hanging BMC has answered",
        Duration::from_secs(60),
        async || {
            let (_, comps) = bos(&lab.s, Method::GET, "/components", None).await;
            let comps = comps.as_array().unwrap().clone();
            let status = |x: &str| {
                comps
                    .iter()
                    .find(|c| c["id"] == x)
                    .map(|c| (c["status"]["status"].clone(), c["error"].clone()))
                    .unwrap()
            };
            let stable = healthy.iter().filter(|x| status(x).0 == "stable").count();
            if stable == HEALTHY {
                let (_, hang_error) = status(&hang_x);
                assert_eq!(
                    hang_error.as_str().unwrap_or(""),
                    "",
                    "the healthy nodes were held up until the hanging BMC failed"
                );
                Ok(())
            } else {
                Err(format!("{stable} of {HEALTHY} healthy nodes stable"))
            }
        },
    )
    .await;

    let done = lab.wait_complete(&name).await;
    let st = &done["status"];
    let undriven = [hang, e500, e503, auth];
    assert_eq!(st["percent_failed"], 7.27, "4 of 55 failed: {st:#}");
    assert_eq!(st["percent_successful"], 92.73, "51 of 55: {st:#}");
    let summary = st["error_summary"].as_object().unwrap();
    for i in undriven {
        let x = &lab.xnames[i];
        assert!(
            summary
                .values()
                .any(|e| e["list"].as_str().unwrap().split(',').any(|l| l == x)),
            "{x} not in the error summary: {st:#}"
        );
    }
    let slow_c = lab.component(&lab.xnames[slow]).await;
    assert_eq!(slow_c["status"]["status"], "stable", "{slow_c:#}");

    // The CLI names each failed node with its cause and exits non-zero.
    let (ok, out, err) = rackboot(&lab.s.base, &["bos", "sessions", "status", &name]).await;
    assert!(!ok, "status exited 0 with failed nodes:\n{out}{err}");
    assert!(err.contains("4 of 55 nodes failed"), "{err}");
    for i in undriven {
        let x = &lab.xnames[i];
        let line = out
            .lines()
            .find(|l| l.contains(x.as_str()) && l.contains("on_hold"))
            .unwrap_or_else(|| panic!("{x} not named with its cause:\n{out}"));
        let bmc_id = &x[..x.rfind('n').unwrap()];
        assert!(line.contains(bmc_id), "the cause names the BMC: {line}");
    }

    // Their BMCs' circuits saw the failures.
    let (_, health) = lab.s.get("/apis/rackboot/v1/bmcs/health").await;
    let listed: Vec<&Value> = health["bmcs"].as_array().unwrap().iter().collect();
    for i in [e500, e503, auth] {
        let bmc_id = &lab.xnames[i][..lab.xnames[i].rfind('n').unwrap()];
        let h = listed
            .iter()
            .find(|h| h["bmc"] == bmc_id)
            .unwrap_or_else(|| panic!("{bmc_id} not in {health:#}"));
        assert!(h["consecutive_failures"].as_u64().unwrap() >= 1, "{h}");
    }
    bmcs[hang].set_unresponsive(false);
    checked(
        "bad BMCs among healthy ones",
        &[
            format!("{HEALTHY} healthy nodes stable before the hanging BMC's first call timed out"),
            "the 5 s BMC's node stable too".into(),
            "session: 7.27 % failed (hang, 500, 503, 401), 92.73 % successful".into(),
            "each failed node in the error summary".into(),
            "`rackboot bos sessions status` exits non-zero and names each failed node and its BMC"
                .into(),
            "the failing BMCs' circuits list their failures at /apis/rackboot/v1/bmcs/health"
                .into(),
        ],
    );
}

#[tokio::test]
async fn bmcs_that_drop_actions_or_answers_fail_only_their_own_nodes() {
    const GOOD: usize = 20;
    let lab = Lab::start_with(GOOD + 3, quick(), SimConfig::default()).await;
    let bmcs = lab.fleet.bmcs();
    let (ignores, drops_override, cuts) = (GOOD, GOOD + 1, GOOD + 2);
    bmcs[ignores].set_ignore_resets(true);
    bmcs[drops_override].set_drop_boot_override(true);
    bmcs[cuts].set_cut_bodies(true);
    lab.options(serde_json::json!({"max_power_on_wait_time": 3, "default_retry_policy": 2}))
        .await;
    let img = put_image(&lab.s, "img");
    lab.template("t", &img, &lab.xnames).await;
    let done = lab.run("t", "boot", None).await;
    let st = &done["status"];
    assert_eq!(st["percent_failed"], 13.04, "3 of 23: {done:#}");
    assert_eq!(st["percent_successful"], 86.96, "{done:#}");
    for i in 0..GOOD {
        assert_eq!(lab.resets(i), 1, "{}", lab.xnames[i]);
    }
    let lab = &lab;
    let error = async |i: usize| {
        let c = lab.component(&lab.xnames[i]).await;
        c["error"].as_str().unwrap_or_default().to_string()
    };
    // Accepted and ignored: tried once per attempt, then failed by the retry limit.
    assert_eq!(lab.resets(ignores), 2, "one On per attempt");
    let c = lab.component(&lab.xnames[ignores]).await;
    assert_eq!(c["status"]["status"], "failed", "{c:#}");
    // An override the BMC does not keep: never powered on without it.
    assert_eq!(lab.resets(drops_override), 0);
    let e = error(drops_override).await;
    let bmc_id = |i: usize| lab.xnames[i][..lab.xnames[i].rfind('n').unwrap()].to_string();
    assert!(e.contains(&bmc_id(drops_override)), "{e}");
    // Answers cut mid-body: the BMC cannot be read, or its override call fails, whichever
    // BOS asks first; either way the node's error says so, naming the BMC where it is the
    // call that failed.
    let e = error(cuts).await;
    assert!(
        e.contains("Component information was not returned by the BMC")
            || (e.contains(&bmc_id(cuts)) && e.contains("connection closed")),
        "{e}"
    );
    checked(
        "BMCs that drop actions or answers",
        &[
            format!("{GOOD} healthy nodes stable, one reset each"),
            "resets accepted and ignored: one On per attempt, then failed at the retry limit"
                .into(),
            format!(
                "boot override not kept: no reset sent, error names {}",
                bmc_id(drops_override)
            ),
            "answers cut mid-body: on hold, 'not returned by the BMC' with the cause".into(),
            "session: 13.04 % failed (3 of 23)".into(),
        ],
    );
}
