//! Simulated nodes (`rackboot::sim`) booting from a real appliance: a SimBmc system powers
//! on, its SimNode fetches the script and artifacts over HTTP and reports its token, and the
//! appliance's own records (the boot timeline) show it. Also proves the node's knobs and
//! its reaction to restarts and power-offs.

use std::time::Duration;

use rackboot::sim::{
    Behaviour, NodePhase, Pacing, SimLab, SimLabConfig, SimNode, SimNodeConfig, SimNodeStatus,
};
use redfish::sim::{SimBmc, SimConfig, SimFleet};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Server, wait_until};

const KERNEL_LEN: usize = 300_000;
const INITRD_LEN: usize = 1_000_000;
const WAIT: Duration = Duration::from_secs(20);

/// Quick retries, so a test that waits on a retry waits milliseconds.
fn pacing() -> Pacing {
    Pacing {
        script_retry: Duration::from_millis(50),
        report_backoff: Duration::from_millis(20),
        report_retry: Duration::from_millis(100),
        ..Pacing::default()
    }
}

/// An image `img` in the local artifact source, as `images import` would leave it.
fn put_image(s: &Server, img: &str) {
    for (name, len) in [("kernel", KERNEL_LEN), ("initrd", INITRD_LEN)] {
        let path = s
            .data_dir
            .join("artifacts/boot-images")
            .join(img)
            .join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, vec![7u8; len]).unwrap();
    }
}

/// Boot `xname` from image `img`; returns the referral token BSS minted.
async fn boot_params(s: &Server, xname: &str, img: &str) -> String {
    let (st, h, v) = s
        .call(
            Method::PUT,
            "/boot/v1/bootparameters",
            Some(json!({"hosts": [xname],
                "kernel": format!("s3://boot-images/{img}/kernel"),
                "initrd": format!("s3://boot-images/{img}/initrd"),
                "params": "console=ttyS0"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    h["bss-referral-token"].to_str().unwrap().to_string()
}

/// A Redfish reset, as the appliance's power operator (or an admin) would send it.
async fn reset(bmc: &SimBmc, system: usize, reset_type: &str) {
    let resp = reqwest::Client::new()
        .post(format!(
            "{}{}/Actions/ComputerSystem.Reset",
            bmc.url(),
            bmc.system_paths()[system]
        ))
        .basic_auth("admin", Some("password"))
        .json(&json!({ "ResetType": reset_type }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{reset_type}");
}

async fn wait_status(node: &SimNode, what: &str, pred: impl FnMut(&SimNodeStatus) -> bool) {
    tokio::time::timeout(WAIT, node.wait_for(pred))
        .await
        .unwrap_or_else(|_| panic!("node {}: {what}; status {:#?}", node.mac(), node.status()));
}

/// Poll the node's boot timeline until `pred` holds for its events.
async fn wait_timeline(s: &Server, xname: &str, mut pred: impl FnMut(&[Value]) -> bool) -> Value {
    let what = format!("the timeline of {xname}");
    wait_until(&what, WAIT, async || {
        let (st, tl) = s
            .get(&format!("/apis/rackboot/v1/nodes/{xname}/timeline"))
            .await;
        assert_eq!(st, StatusCode::OK, "{tl}");
        if pred(tl["events"].as_array().unwrap()) {
            Ok(tl)
        } else {
            Err(format!("{tl:#}"))
        }
    })
    .await
}

fn count(events: &[Value], what: &str) -> usize {
    events
        .iter()
        .filter(|e| e["what"] == what && e["outcome"] == "complete")
        .count()
}

#[tokio::test]
async fn sim_node_boots_from_the_appliance_and_reports_its_token() {
    let s = Server::start().await;
    put_image(&s, "img1");
    // A BMC whose power-on takes a while: the node must see PoweringOn land by itself.
    let bmc = SimBmc::start(SimConfig {
        power_delay: Duration::from_millis(150),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mac = bmc.macs(0)[0].clone();
    s.add_node("x1c0s0b0n0", 1, "Compute", &mac).await;
    let token = boot_params(&s, "x1c0s0b0n0", "img1").await;
    let node = SimNode::spawn(SimNodeConfig {
        pacing: pacing(),
        ..SimNodeConfig::new(&s.base, &mac, bmc.clone(), 0, reqwest::Client::new())
    });
    // Nothing may happen while the power is off: give it the time to go wrong (a sleep on
    // purpose, there is no event to wait for).
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(node.status().phase, NodePhase::Off);
    assert_eq!(node.status().boots_started, 0, "nothing happens while off");

    reset(&bmc, 0, "On").await;
    wait_status(&node, "boot and report", |s| {
        s.boots_completed == 1 && s.last_report_status.is_some()
    })
    .await;
    let st = node.status();
    assert_eq!(st.phase, NodePhase::Up);
    assert_eq!(st.boots_started, 1);
    assert_eq!(st.scripts_fetched, 1);
    assert_eq!(st.artifacts_fetched, 2);
    assert_eq!(st.bytes_fetched, (KERNEL_LEN + INITRD_LEN) as u64);
    assert_eq!(st.xname.as_deref(), Some("x1c0s0b0n0"));
    assert_eq!(
        st.token.as_deref(),
        Some(token.as_str()),
        "the token BSS minted"
    );
    assert_eq!(st.last_reported_token.as_deref(), Some(token.as_str()));

    // The appliance saw the whole boot: script, kernel and initrd, read to the end from
    // this process, under one artifact token.
    let tl = wait_timeline(&s, "x1c0s0b0n0", |ev| {
        count(ev, "kernel") == 1 && count(ev, "initrd") == 1
    })
    .await;
    let events = tl["events"].as_array().unwrap();
    let script = events.iter().find(|e| e["what"] == "bootscript").unwrap();
    assert_eq!(script["client"], "127.0.0.1", "{tl}");
    let kernel = events.iter().find(|e| e["what"] == "kernel").unwrap();
    let initrd = events.iter().find(|e| e["what"] == "initrd").unwrap();
    assert_eq!(kernel["bytes"], KERNEL_LEN as u64, "{tl}");
    assert_eq!(initrd["bytes"], INITRD_LEN as u64, "{tl}");
    assert_eq!(kernel["token"], script["token"], "{tl}");
    assert_eq!(initrd["token"], script["token"], "{tl}");

    // The report: whatever BOS answered, the node sent bos-reporter's PATCH with the minted
    // token; if BOS took it, BOS holds that token as the node's actual state. A refusal is
    // retried while the node stays up.
    let status = st.last_report_status.unwrap();
    if (200..300).contains(&status) {
        assert_eq!(st.reports_ok, 1);
        let (code, c) = s.get("/apis/bos/v2/components/x1c0s0b0n0").await;
        assert_eq!(code, StatusCode::OK, "{c}");
        assert_eq!(c["actual_state"]["bss_token"], token.as_str(), "{c}");
    } else {
        assert!((400..500).contains(&status), "report answered {status}");
        assert_eq!(st.reports_ok, 0);
        assert!(st.last_error.unwrap().contains("report x1c0s0b0n0"));
        wait_status(&node, "report retried", |s| s.reports_sent >= 3).await;
    }

    // Off stops it; the boot is over, so nothing counts as cancelled.
    bmc.set_power_state(0, "Off");
    wait_status(&node, "off", |s| s.phase == NodePhase::Off).await;
    assert_eq!(node.status().boots_cancelled, 0);
    bmc.shutdown().await;
    s.stop().await;
}

#[tokio::test]
async fn sim_node_follows_restarts_and_power_off_cancels_a_boot() {
    let s = Server::start().await;
    put_image(&s, "img1");
    let bmc = SimBmc::start(SimConfig {
        systems: 2,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let lab = SimLab::spawn(
        &SimLabConfig {
            report: false,
            pacing: pacing(),
            ..SimLabConfig::new(&s.base, reqwest::Client::new())
        },
        std::slice::from_ref(&bmc),
    );
    assert_eq!(lab.len(), 2, "one node per system");
    let (n0, n1) = (lab.nodes()[0].clone(), lab.nodes()[1].clone());
    assert_eq!(n1.mac(), bmc.macs(1)[0]);
    s.add_node("x1c0s0b0n0", 1, "Compute", n0.mac()).await;
    boot_params(&s, "x1c0s0b0n0", "img1").await;

    // Restarts are new boots, whether or not an Off is ever visible.
    bmc.set_power_state(0, "On");
    wait_status(&n0, "first boot", |s| s.boots_completed == 1).await;
    reset(&bmc, 0, "ForceRestart").await;
    wait_status(&n0, "second boot", |s| s.boots_completed == 2).await;
    reset(&bmc, 0, "GracefulRestart").await;
    wait_status(&n0, "third boot", |s| s.boots_completed == 3).await;
    // An OS that ignores ACPI does not restart.
    n0.set_ignore_graceful(true);
    reset(&bmc, 0, "GracefulRestart").await;
    // The absence of a restart is the behaviour under test: a sleep on purpose.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(n0.status().boots_started, 3);
    n0.set_ignore_graceful(false);
    let tl = wait_timeline(&s, "x1c0s0b0n0", |ev| count(ev, "initrd") == 3).await;
    assert_eq!(count(tl["events"].as_array().unwrap(), "bootscript"), 3);
    let st = n0.status();
    assert_eq!(st.reports_sent, 0, "report=false leaves only boot evidence");
    assert_eq!(st.boots_cancelled, 0);

    // Node 1 is not in the inventory: it keeps asking, until its power goes off.
    bmc.set_power_state(1, "On");
    wait_status(&n1, "retrying", |s| s.script_retries >= 2).await;
    let st = n1.status();
    assert_eq!(st.phase, NodePhase::Booting);
    assert_eq!(st.boots_completed, 0);
    assert!(st.last_error.is_some());
    bmc.set_power_state(1, "Off");
    wait_status(&n1, "cancelled", |s| s.phase == NodePhase::Off).await;
    assert_eq!(n1.status().boots_cancelled, 1);
    let asked = n1.status().scripts_fetched + n1.status().errors;
    // Silence after power-off is the behaviour under test: a sleep on purpose.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        n1.status().scripts_fetched + n1.status().errors,
        asked,
        "nothing after power-off"
    );
    // Known now: the next power-on boots it.
    s.add_node("x1c0s0b0n1", 2, "Compute", n1.mac()).await;
    boot_params(&s, "x1c0s0b0n1", "img1").await;
    bmc.set_power_state(1, "On");
    wait_status(&n1, "boot once known", |s| s.boots_completed == 1).await;

    let t = lab.totals();
    assert_eq!(t.nodes, 2);
    assert_eq!(t.up, 2);
    assert_eq!(t.boots_completed, 4);
    assert_eq!(t.boots_cancelled, 1);
    assert_eq!(t.bytes_fetched, 4 * (KERNEL_LEN + INITRD_LEN) as u64);
    bmc.shutdown().await;
    s.stop().await;
}

#[tokio::test]
async fn sim_node_behaviours_never_boots_and_wrong_artifacts() {
    let s = Server::start().await;
    put_image(&s, "img1");
    let fleet = SimFleet::start(2, SimConfig::default()).await.unwrap();
    let lab = SimLab::for_fleet(
        &SimLabConfig {
            pacing: pacing(),
            ..SimLabConfig::new(&s.base, reqwest::Client::new())
        },
        &fleet,
    );
    let (hung, wrong) = (&lab.nodes()[0], &lab.nodes()[1]);
    s.add_node("x1c0s0b0n0", 1, "Compute", hung.mac()).await;
    s.add_node("x1c0s1b0n0", 2, "Compute", wrong.mac()).await;
    boot_params(&s, "x1c0s0b0n0", "img1").await;
    let token = boot_params(&s, "x1c0s1b0n0", "img1").await;
    hung.set_behaviour(Behaviour::NeverBoots);
    wrong.set_behaviour(Behaviour::WrongArtifacts);
    assert_eq!(wrong.behaviour(), Behaviour::WrongArtifacts);

    fleet.bmcs()[0].set_power_state(0, "On");
    fleet.bmcs()[1].set_power_state(0, "On");
    wait_status(hung, "hung", |s| s.phase == NodePhase::Hung).await;
    wait_status(wrong, "wrong boot reported", |s| {
        s.boots_completed == 1 && s.reports_sent >= 1
    })
    .await;

    // The hung node never asked for anything.
    let st = hung.status();
    assert_eq!(
        (st.power_ons, st.boots_started, st.scripts_fetched),
        (1, 0, 0)
    );
    // The wrong one got its script and kernel but never the initrd, and reported a token
    // the appliance did not mint.
    let st = wrong.status();
    assert_eq!(st.token.as_deref(), Some(token.as_str()));
    assert_eq!(
        st.last_reported_token.as_deref(),
        Some(format!("{token}-wrong").as_str())
    );
    assert_eq!(st.artifacts_fetched, 1);
    let tl = wait_timeline(&s, "x1c0s1b0n0", |ev| count(ev, "kernel") == 1).await;
    assert_eq!(count(tl["events"].as_array().unwrap(), "initrd"), 0, "{tl}");
    let (_, tl) = s.get("/apis/rackboot/v1/nodes/x1c0s0b0n0/timeline").await;
    assert_eq!(tl["events"], json!([]), "{tl}");

    // Knobs act at the next power-on: fixed, the hung node boots.
    hung.set_behaviour(Behaviour::Normal);
    hung.set_report(false);
    fleet.bmcs()[0].set_power_state(0, "Off");
    fleet.bmcs()[0].set_power_state(0, "On");
    wait_status(hung, "booted once fixed", |s| s.boots_completed == 1).await;
    assert_eq!(hung.status().reports_sent, 0);
    let t = lab.totals();
    assert_eq!((t.nodes, t.up, t.hung), (2, 2, 0));
    lab.stop();
    fleet.shutdown().await;
    s.stop().await;
}

#[tokio::test]
async fn sim_node_lab_boots_a_fleet_with_several_systems_per_bmc() {
    const BMCS: usize = 20;
    const SYSTEMS: usize = 10;
    let s = Server::start().await;
    for name in ["kernel", "initrd"] {
        let path = s.data_dir.join("artifacts/boot-images/tiny").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, vec![1u8; 4096]).unwrap();
    }
    let fleet = SimFleet::start(
        BMCS,
        SimConfig {
            systems: SYSTEMS,
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    let xname = |b: usize, n: usize| format!("x1c0s{b}b0n{n}");
    let components: Vec<Value> = (0..BMCS * SYSTEMS)
        .map(|i| {
            json!({"ID": xname(i / SYSTEMS, i % SYSTEMS), "State": "Off",
                   "NID": i + 1, "Role": "Compute"})
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
    for (b, bmc) in fleet.bmcs().iter().enumerate() {
        for n in 0..SYSTEMS {
            let (st, v) = s
                .send(
                    Method::POST,
                    "/apis/smd/hsm/v2/Inventory/EthernetInterfaces",
                    json!({"MACAddress": bmc.macs(n)[0], "ComponentID": xname(b, n)}),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
        }
    }
    let hosts: Vec<String> = (0..BMCS * SYSTEMS)
        .map(|i| xname(i / SYSTEMS, i % SYSTEMS))
        .collect();
    let (st, v) = s
        .send(
            Method::PUT,
            "/boot/v1/bootparameters",
            json!({"hosts": hosts, "kernel": "s3://boot-images/tiny/kernel",
                   "initrd": "s3://boot-images/tiny/initrd"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    let lab = SimLab::for_fleet(
        &SimLabConfig {
            report: false,
            pacing: pacing(),
            ..SimLabConfig::new(&s.base, reqwest::Client::new())
        },
        &fleet,
    );
    assert_eq!(lab.len(), BMCS * SYSTEMS);
    for bmc in fleet.bmcs() {
        for n in 0..SYSTEMS {
            bmc.set_power_state(n, "On");
        }
    }
    tokio::time::timeout(Duration::from_secs(60), lab.wait_booted(1))
        .await
        .unwrap_or_else(|_| panic!("not all booted: {:#?}", lab.totals()));
    let t = lab.totals();
    assert_eq!(
        (t.nodes, t.up, t.boots_completed),
        (200, 200, 200),
        "{t:#?}"
    );
    assert_eq!(t.artifacts_fetched, 400);
    assert_eq!(t.bytes_fetched, 200 * 2 * 4096);
    // Each node asked with its own system's MAC and got its own script.
    let last = &fleet.bmcs()[BMCS - 1];
    let node = lab.node(&last.macs(SYSTEMS - 1)[0].to_uppercase()).unwrap();
    assert_eq!(
        node.status().xname.as_deref(),
        Some(xname(BMCS - 1, SYSTEMS - 1).as_str())
    );
    lab.stop();
    fleet.shutdown().await;
    s.stop().await;
}
