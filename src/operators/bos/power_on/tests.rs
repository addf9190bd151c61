//! The power-on operator's netboot intent on SimBmc configured like real vendors: a node
//! already on is refused with nothing sent, a system without Boot override properties boots by
//! its boot order (and says so), and errors name the target.

use redfish::sim::SimConfig;

use super::PowerOn;
use crate::clock::Clock;
use crate::model::boot_component::{BootArtifacts, BootComponent};
use crate::model::{Action, Phase};
use crate::operators::Operator;
use crate::operators::ports::BootEvents;
use crate::operators::testkit::{BMC, Kit, mockup};

async fn powering_on(cfg: SimConfig) -> Kit {
    let kit = Kit::with(cfg).await;
    let mut c = BootComponent::discovered(kit.nodes[0].as_str(), kit.clock.now());
    c.enabled = true;
    c.session = "s".into();
    c.desired_state.boot_artifacts = BootArtifacts {
        kernel: "s3://boot-images/a/kernel".into(),
        kernel_parameters: "console=ttyS0".into(),
        initrd: "s3://boot-images/a/initrd".into(),
    };
    c.status.phase = Phase::PoweringOn;
    kit.put(&c).await;
    kit
}

#[tokio::test]
async fn a_node_already_on_is_refused_with_nothing_sent() {
    let kit = powering_on(SimConfig::default()).await;
    // It came on between the status pass and the power-on.
    kit.bmc.set_power_state(0, "On");
    let before = kit.bmc.counters();
    let report = PowerOn(kit.bos()).activate().await.unwrap();
    assert_eq!(report["failed"], 1, "{report}");
    let after = kit.bmc.counters();
    assert_eq!(
        (after.resets, after.patches),
        (before.resets, before.patches)
    );
    assert_eq!(kit.bmc.boot_override(0).0, "Disabled", "no override set");
    let c = kit.component(&kit.nodes[0]).await;
    assert!(
        c.error.starts_with(&format!(
            "{BMC} /redfish/v1/Systems/Node0: PowerState On when BOS went to power it on, so nothing was sent"
        )),
        "{}",
        c.error
    );
    assert!(c.last_action.is(Action::PoweringOn));
}

#[tokio::test]
async fn a_cray_ex_node_powers_on_by_its_boot_order() {
    // The recorded EX425 blade: On, Off, ForceOff through ActionInfo, no Boot override.
    let kit = powering_on(SimConfig {
        mockup: Some(mockup("EX425")),
        ..SimConfig::default()
    })
    .await;
    kit.bmc.set_power_state(0, "Off");
    let report = PowerOn(kit.bos()).activate().await.unwrap();
    assert_eq!(report["powered_on"], 1, "{report}");
    assert_eq!(report["without_boot_override"], 1);
    assert_eq!(kit.bmc.power_state(0), "On");
    assert_eq!(kit.bmc.counters().patches, 0, "no PATCH that cannot stick");
    let c = kit.component(&kit.nodes[0]).await;
    assert!(c.error.is_empty(), "{}", c.error);
    let events = kit.app.events(&kit.nodes[0]);
    let e = events.iter().find(|e| e.what == "power-on").unwrap();
    assert!(
        e.outcome.contains("no Boot override properties"),
        "{}",
        e.outcome
    );
}

#[tokio::test]
async fn a_system_that_only_forces_on_is_powered_on_with_force_on() {
    let kit = powering_on(SimConfig {
        reset_types: ["ForceOn", "ForceOff"].map(String::from).to_vec(),
        ..SimConfig::default()
    })
    .await;
    let report = PowerOn(kit.bos()).activate().await.unwrap();
    assert_eq!(report["powered_on"], 1, "{report}");
    assert_eq!(kit.bmc.power_state(0), "On");
    assert_eq!(kit.bmc.boot_override(0).1, "Pxe");
}
