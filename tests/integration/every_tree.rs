//! Every recorded vendor tree (`tests/fixtures/redfish-mockups/`), and an EX blade whose
//! Systems collection is out of order, replayed by a writable SimBmc and driven as an admin
//! would through rackboot's own APIs: discovery names the nodes as HSM would; every PCS
//! transition the system's document supports completes with the reset type CSM would choose
//! (the others are refused naming what the system allows, with nothing sent); `--netboot`
//! intent is honoured where the system takes a one-time override and refused clearly where it
//! cannot or the node is already On; and a BOS Boot → Reboot → Shutdown session completes with
//! graceful offs only, on every node the BMC has.
//!
//! The expectations are written out per tree (from its recorded document), not derived by the
//! code under test: a tree whose reset types or names change makes its test fail.

use std::path::PathBuf;
use std::time::Duration;

use redfish::sim::{Mockup, SimConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::bos::{Lab, put_image, quick};
use crate::common::Server;
use crate::power::{PCS, finished, task, transition};

/// What a tree's recorded documents say, written out.
struct Expect {
    /// `(node suffix, system path)` in xname order, as HSM names them.
    nodes: &'static [(&'static str, &'static str)],
    /// The PCS operations its first node supports (`supportedPowerTransitions`).
    supported: &'static [&'static str],
    /// The reset type a graceful off sends (CSM: GracefulShutdown, PushPowerButton, Off).
    graceful_off: &'static str,
    /// Whether the system has Boot override properties.
    boot_override: bool,
}

fn tree(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/redfish-mockups")
        .join(name)
}

fn replaying(dir: &std::path::Path) -> SimConfig {
    SimConfig {
        mockup: Some(Mockup::load(dir).unwrap()),
        ..Default::default()
    }
}

const ALL: &[&str] = &[
    "On",
    "Off",
    "Soft-Off",
    "Force-Off",
    "Soft-Restart",
    "Hard-Restart",
    "Init",
];

#[tokio::test]
async fn hpe_ilo_dl325() {
    let e = Expect {
        nodes: &[("n0", "/redfish/v1/Systems/1")],
        supported: ALL,
        graceful_off: "gracefulshutdown",
        boot_override: true,
    };
    exercise(replaying(&tree("DL325")), &e).await;
}

#[tokio::test]
async fn ami_gigabyte() {
    let e = Expect {
        nodes: &[("n0", "/redfish/v1/Systems/Self")],
        supported: ALL,
        graceful_off: "gracefulshutdown",
        boot_override: true,
    };
    exercise(replaying(&tree("Gigabyte")), &e).await;
}

#[tokio::test]
async fn stock_openbmc() {
    let e = Expect {
        nodes: &[("n0", "/redfish/v1/Systems/system")],
        supported: ALL,
        graceful_off: "gracefulshutdown",
        boot_override: true,
    };
    exercise(replaying(&tree("OpenBMC-stock")), &e).await;
}

#[tokio::test]
async fn dmtf_public_rackmount() {
    let e = Expect {
        nodes: &[("n0", "/redfish/v1/Systems/437XR1138R2")],
        supported: ALL,
        graceful_off: "gracefulshutdown",
        boot_override: true,
    };
    exercise(replaying(&tree("public-rackmount1")), &e).await;
}

const EX_NODES: &[(&str, &str)] = &[
    ("n0", "/redfish/v1/Systems/Node0"),
    ("n1", "/redfish/v1/Systems/Node1"),
];

#[tokio::test]
async fn cray_ex425_blade() {
    let e = Expect {
        nodes: EX_NODES,
        supported: ALL,
        graceful_off: "off",
        boot_override: false,
    };
    exercise(replaying(&tree("EX425")), &e).await;
}

/// Four EX nodes listed Node3, Node1, Node2, Node0: named in sorted order, and every action
/// on `n0` reaches `Node0`, listed last.
#[tokio::test]
async fn cray_ex_blade_listed_out_of_order() {
    let blade = crate::mockup::four_node_blade(&["Node3", "Node1", "Node2", "Node0"]);
    let e = Expect {
        nodes: &[
            ("n0", "/redfish/v1/Systems/Node0"),
            ("n1", "/redfish/v1/Systems/Node1"),
            ("n2", "/redfish/v1/Systems/Node2"),
            ("n3", "/redfish/v1/Systems/Node3"),
        ],
        supported: ALL,
        graceful_off: "off",
        boot_override: false,
    };
    exercise(replaying(blade.path()), &e).await;
}

async fn exercise(cfg: SimConfig, e: &Expect) {
    let lab = Lab::one_bmc(quick(), cfg).await;
    let named: Vec<(String, String)> = lab
        .xnames
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let (bmc, system) = lab.bmc(i);
            (x.clone(), bmc.system_paths()[system].clone())
        })
        .collect();
    let want: Vec<(String, String)> = e
        .nodes
        .iter()
        .map(|(n, p)| (format!("x3000c0s0b0{n}"), p.to_string()))
        .collect();
    assert_eq!(named, want, "nodes named as HSM would");

    pcs_transitions(&lab, e).await;
    netboot(&lab, e).await;
    bos_boot_reboot_shutdown(&lab).await;
    lab.s.stop().await;
}

/// The `i`th node's power status entry.
async fn status(s: &Server, x: &str) -> Value {
    let (st, v) = s.get(&format!("{PCS}/power-status?xname={x}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["status"][0].clone()
}

/// Run one operation on the first node; returns its task.
async fn on_first(lab: &Lab, operation: &str, extra: Value) -> Value {
    let x = &lab.xnames[0];
    let mut body = json!({"operation": operation, "location": [{"xname": x}]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let id = transition(&lab.s, body).await;
    let t = finished(&lab.s, &id, Duration::from_secs(30)).await;
    task(&t, x).clone()
}

/// Every PCS transition from the state it applies to, on the first node: each completes, the
/// system reaches the state it should, a graceful off sends the tree's graceful reset type,
/// and the other nodes on the BMC are not touched.
async fn pcs_transitions(lab: &Lab, e: &Expect) {
    let x = &lab.xnames[0];
    let st = status(&lab.s, x).await;
    let supported: Vec<&str> = st["supportedPowerTransitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(supported, e.supported, "{x}: {st}");
    let others: Vec<String> = (1..lab.xnames.len()).map(|i| lab.power(i)).collect();

    // (operation, state it applies to, state after, last reset type sent)
    let steps = [
        ("Soft-Off", "On", "Off", Some(e.graceful_off)),
        ("On", "Off", "On", Some("on")),
        ("Soft-Restart", "On", "On", None),
        ("Hard-Restart", "On", "On", Some("on")),
        ("Off", "On", "Off", Some(e.graceful_off)),
        ("Init", "Off", "On", Some("on")),
        ("Init", "On", "On", Some("on")),
        ("Force-Off", "On", "Off", Some("forceoff")),
    ];
    for (op, from, to, sent) in steps {
        if lab.power(0) != from {
            let fix = if from == "On" { "On" } else { "Force-Off" };
            let k = on_first(lab, fix, json!({})).await;
            assert_eq!(k["taskStatus"], "succeeded", "{x} {fix}: {k}");
        }
        let power_ons = lab.bmc(0).0.power_events(lab.bmc(0).1).borrow().power_ons;
        let k = on_first(lab, op, json!({})).await;
        assert_eq!(k["taskStatus"], "succeeded", "{x} {op} from {from}: {k}");
        assert_eq!(lab.power(0), to, "{x} after {op}: {k}");
        let described = k["taskStatusDescription"].as_str().unwrap();
        if let Some(sent) = sent {
            assert_eq!(
                described,
                format!("Transition confirmed, {sent}"),
                "{x} {op}"
            );
        }
        if to == "On" {
            let now = lab.bmc(0).0.power_events(lab.bmc(0).1).borrow().power_ons;
            assert!(now > power_ons, "{x} {op}: the host never powered on");
        }
    }
    let after: Vec<String> = (1..lab.xnames.len()).map(|i| lab.power(i)).collect();
    assert_eq!(after, others, "the other nodes of the BMC were touched");
}

/// `On` with a boot target: honoured from Off where the system takes a one-time override,
/// refused before anything is sent where it has none, and refused on a node already On.
async fn netboot(lab: &Lab, e: &Expect) {
    let x = &lab.xnames[0];
    let (bmc, system) = lab.bmc(0);
    assert_eq!(lab.power(0), "Off", "{x}");
    let before = bmc.counters();
    let k = on_first(lab, "On", json!({"bootTarget": "Pxe"})).await;
    let err = k["error"].as_str().unwrap_or_default();
    if e.boot_override {
        assert_eq!(k["taskStatus"], "succeeded", "{x}: {k}");
        assert_eq!(lab.power(0), "On", "{x}");
        let c = bmc.counters();
        assert_eq!(
            (c.patches - before.patches, c.resets - before.resets),
            (1, 1)
        );
        // The one-shot override was set to Pxe and taken by that power-on.
        assert_eq!(bmc.boot_override(system).1, "Pxe", "{x}");
    } else {
        assert_eq!(k["taskStatus"], "unsupported", "{x}: {k}");
        assert!(
            err.contains("no Boot override properties") && err.contains("PowerState Off"),
            "{err}"
        );
        assert_eq!(
            bmc.counters().resets,
            before.resets,
            "{x}: a reset was sent"
        );
        assert_eq!(
            bmc.counters().patches,
            before.patches,
            "{x}: a PATCH was sent"
        );
        let k = on_first(lab, "On", json!({})).await;
        assert_eq!(k["taskStatus"], "succeeded", "{x}: {k}");
    }
    let before = bmc.counters();
    let k = on_first(lab, "On", json!({"bootTarget": "Pxe"})).await;
    assert_ne!(k["taskStatus"], "succeeded", "{x}: {k}");
    let err = k["error"].as_str().unwrap_or_default();
    let path = &bmc.system_paths()[system];
    assert!(
        err.starts_with(&format!("x3000c0s0b0 {path}: ")) && err.contains("PowerState On"),
        "{err}"
    );
    let c = bmc.counters();
    assert_eq!(
        (c.resets, c.patches),
        (before.resets, before.patches),
        "{x}"
    );
}

/// A BOS Boot → Reboot → Shutdown over every node of the BMC: each completes for every node
/// with the artifacts asked for, and the shutdown is graceful, never forced.
async fn bos_boot_reboot_shutdown(lab: &Lab) {
    let img = put_image(&lab.s, "img-tree");
    lab.template("tree", &img, &lab.xnames).await;
    for op in ["boot", "reboot", "shutdown"] {
        let done = lab.run("tree", op, None).await;
        assert_eq!(
            done["status"]["percent_successful"], 100.0,
            "{op}: {done:#}"
        );
        assert_eq!(done["status"]["error_summary"], json!({}), "{op}: {done:#}");
        assert_eq!(
            done["status"]["managed_components_count"],
            lab.xnames.len(),
            "{op}"
        );
        if op == "reboot" {
            for (i, x) in lab.xnames.iter().enumerate() {
                assert_eq!(lab.power(i), "On", "{x}");
                let c = lab.component(x).await;
                assert_eq!(
                    c["actual_state"]["boot_artifacts"]["kernel"],
                    "s3://boot-images/img-tree/kernel",
                    "{x}: {c:#}"
                );
            }
        }
    }
    for (i, x) in lab.xnames.iter().enumerate() {
        assert_eq!(lab.power(i), "Off", "{x}");
        let c = lab.component(x).await;
        assert_eq!(
            c["last_action"]["action"], "powering_off_gracefully",
            "{x}: {c:#}"
        );
        assert_eq!(
            c["event_stats"]["power_off_forceful_attempts"], 0,
            "{x}: {c:#}"
        );
    }
}
