//! The seed's BOS v2 workflows (Boot, Reboot, Power off) on the capture's four simulated
//! nodes, each through exactly the requests the CLI sent: the configuration and template
//! create, the session create, `sessions describe` rerun until complete (as an admin polls),
//! `sessions status list`, `components list --session` and `power status list`; then the end
//! state at the BMCs (power, power-ons, resets, the one-time netboot override) and in the BOS
//! components.

use serde_json::Value;

use super::replay::capture_lab;
use super::{Answer, Replayer};
use crate::bos::Lab;

const CONFIGURATION: &str =
    "cray cfs v3 configurations update T --file configuration-v3.json --format json";
const TEMPLATE: &str = "cray bos v2 sessiontemplates create T --file template.json --format json";
const POWER_STATUS: &str = "cray power status list --xnames x3000c0s0b0n0,x3000c0s1b0n0,x3000c0s2b0n0,x3000c0s3b0n0 --format json";
const NODE_CONFIG: &str = "cray cfs v3 components describe x3000c0s0b0n0 --format json";

/// What one workflow's session ended as.
struct Ended {
    status: Value,
    components: Vec<Value>,
    power: Vec<Value>,
}

/// The template and its configuration, as the capture creates them.
async fn template(r: &Replayer<'_>) {
    r.ok(CONFIGURATION).await;
    let t = r.ok(TEMPLATE).await;
    assert_eq!(t[0].status, 200, "{:?}", t[0]);
}

/// `sessions create --operation <op> --name T-<op>`, describe until complete, its status,
/// its components and the nodes' power, each the CLI's own request.
async fn session(r: &Replayer<'_>, op: &str) -> Ended {
    let created = r
        .ok(&format!(
            "cray bos v2 sessions create --template-name T --operation {op} --name T-{op} --format json"
        ))
        .await;
    assert_eq!(created[0].status, 201, "{:?}", created[0]);
    assert_eq!(created[0].body["operation"], op);
    let described = r
        .ok(&format!(
            "cray bos v2 sessions describe T-{op} --format json"
        ))
        .await;
    assert_eq!(described[0].body["status"]["status"], "complete");
    let status = first(
        r.ok(&format!(
            "cray bos v2 sessions status list T-{op} --format json"
        ))
        .await,
    );
    assert_eq!(status["percent_successful"], 100.0, "{status:#}");
    assert_eq!(status["percent_failed"], 0.0, "{status:#}");
    assert_eq!(status["managed_components_count"], 4, "{status:#}");
    assert_eq!(status["error_summary"], serde_json::json!({}), "{status:#}");
    let components = first(
        r.ok(&format!(
            "cray bos v2 components list --session T-{op} --format json"
        ))
        .await,
    );
    let components = components.as_array().unwrap().clone();
    let ids: Vec<&str> = components
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "x3000c0s0b0n0",
            "x3000c0s1b0n0",
            "x3000c0s2b0n0",
            "x3000c0s3b0n0"
        ]
    );
    let power = first(r.ok(POWER_STATUS).await)["status"]
        .as_array()
        .unwrap()
        .clone();
    Ended {
        status,
        components,
        power,
    }
}

fn first(answers: Vec<Answer>) -> Value {
    answers.into_iter().next().unwrap().body
}

/// Each node On with the capture's image booted, as the BMCs and BOS both say.
fn booted(lab: &Lab, end: &Ended) {
    for (i, c) in end.components.iter().enumerate() {
        let x = &lab.xnames[i];
        assert_eq!(lab.power(i), "On", "{x}");
        assert_eq!(c["status"]["status"], "stable", "{x}: {c:#}");
        assert_eq!(
            c["actual_state"]["boot_artifacts"]["kernel"], "s3://boot-images/demo-image/kernel",
            "{x}: {c:#}"
        );
        assert_eq!(
            c["actual_state"]["bss_token"], c["desired_state"]["bss_token"],
            "{x}: {c:#}"
        );
        assert!(
            c["desired_state"]["boot_artifacts"]["kernel_parameters"]
                .as_str()
                .unwrap()
                .contains("console=ttyS0,115200"),
            "{x}: {c:#}"
        );
        assert_eq!(c["desired_state"]["configuration"], "T", "{x}: {c:#}");
        // Netbooted: the one-time override was set to PXE and taken by the power-on.
        let (bmc, system) = lab.bmc(i);
        let (enabled, target, _) = bmc.boot_override(system);
        assert_eq!(
            (enabled.as_str(), target.as_str()),
            ("Disabled", "Pxe"),
            "{x}"
        );
        assert_eq!(end.power[i]["xname"], x.as_str(), "{:#?}", end.power);
        assert_eq!(end.power[i]["powerState"], "on", "{:#?}", end.power);
    }
}

fn power_ons(lab: &Lab) -> Vec<u64> {
    (0..lab.xnames.len())
        .map(|i| {
            let (bmc, system) = lab.bmc(i);
            bmc.power_events(system).borrow().power_ons
        })
        .collect()
}

#[tokio::test]
async fn cli_replay_v2_boot() {
    let lab = capture_lab().await;
    let r = Replayer::new(&lab.s);
    template(&r).await;
    assert!(power_ons(&lab).iter().all(|n| *n == 0));
    let end = session(&r, "boot").await;
    booted(&lab, &end);
    for (i, n) in power_ons(&lab).into_iter().enumerate() {
        assert_eq!(n, 1, "{}: powered on once", lab.xnames[i]);
    }
    for c in &end.components {
        assert_eq!(c["last_action"]["action"], "powering_on", "{c:#}");
        assert_eq!(c["enabled"], false, "{c:#}");
    }
    // The node configured itself with the template's configuration.
    let c = first(r.ok(NODE_CONFIG).await);
    assert_eq!(c["desired_config"], "T", "{c:#}");
    assert_eq!(c["configuration_status"], "configured", "{c:#}");
    lab.s.stop().await;
}

#[tokio::test]
async fn cli_replay_v2_reboot() {
    let lab = capture_lab().await;
    let r = Replayer::new(&lab.s);
    template(&r).await;
    let boot = session(&r, "boot").await;
    booted(&lab, &boot);
    let before = power_ons(&lab);
    let resets: Vec<u64> = (0..4).map(|i| lab.resets(i)).collect();
    let end = session(&r, "reboot").await;
    booted(&lab, &end);
    for (i, n) in power_ons(&lab).into_iter().enumerate() {
        let x = &lab.xnames[i];
        assert!(n > before[i], "{x}: the host never powered on again");
        assert!(lab.resets(i) > resets[i], "{x}: no reset reached the BMC");
        assert_ne!(
            end.components[i]["actual_state"]["bss_token"],
            boot.components[i]["actual_state"]["bss_token"],
            "{x}: booted again with a new referral token"
        );
    }
    assert_eq!(end.status["managed_components_count"], 4);
    lab.s.stop().await;
}

#[tokio::test]
async fn cli_replay_v2_power_off() {
    let lab = capture_lab().await;
    let r = Replayer::new(&lab.s);
    template(&r).await;
    booted(&lab, &session(&r, "boot").await);
    let end = session(&r, "shutdown").await;
    for (i, c) in end.components.iter().enumerate() {
        let x = &lab.xnames[i];
        assert_eq!(lab.power(i), "Off", "{x}");
        assert_eq!(end.power[i]["powerState"], "off", "{:#?}", end.power);
        assert_eq!(c["status"]["status"], "stable", "{x}: {c:#}");
        assert_eq!(
            c["last_action"]["action"], "powering_off_gracefully",
            "{x}: {c:#}"
        );
        assert_eq!(
            c["event_stats"]["power_off_forceful_attempts"], 0,
            "{x}: {c:#}"
        );
        assert_eq!(
            c["actual_state"]["boot_artifacts"]["kernel"], "",
            "{x}: {c:#}"
        );
    }
    lab.s.stop().await;
}
