//! The power-off operators on SimBmc configured like real vendors: each system's own graceful
//! reset type, force only where BOS allows it, and errors that name the target.

use redfish::sim::SimConfig;

use super::{Mode, PowerOff};
use crate::clock::Clock;
use crate::model::boot_component::{BootArtifacts, BootComponent};
use crate::model::{Action, Phase, Status};
use crate::operators::Operator;
use crate::operators::testkit::{BMC, Kit, mockup};

/// A kit whose first node is on and due for a power-off (a BOS shutdown).
async fn shutting_down(reset_types: &[&str]) -> Kit {
    on_and_due(SimConfig {
        action_info: true,
        reset_types: reset_types.iter().map(|s| s.to_string()).collect(),
        initial_power: "On".into(),
        ..SimConfig::default()
    })
    .await
}

async fn on_and_due(cfg: SimConfig) -> Kit {
    let kit = Kit::with(cfg).await;
    let mut c = BootComponent::discovered(kit.nodes[0].as_str(), kit.clock.now());
    c.enabled = true;
    c.session = "s".into();
    c.desired_state.boot_artifacts = BootArtifacts::default();
    c.status.phase = Phase::PoweringOff;
    c.act(Action::SessionSetup, kit.clock.now());
    kit.put(&c).await;
    assert_eq!(
        kit.component(&kit.nodes[0]).await.derived_status(),
        Status::PowerOffPending
    );
    kit
}

fn operator(kit: &Kit, mode: Mode) -> PowerOff {
    PowerOff {
        ctx: kit.bos(),
        mode,
    }
}

#[tokio::test]
async fn a_cray_ex_node_is_shut_down_gracefully_through_off() {
    // The recorded EX425 blade (its nodes are On; resets On, Off, ForceOff via ActionInfo).
    let kit = on_and_due(SimConfig {
        mockup: Some(mockup("EX425")),
        ..SimConfig::default()
    })
    .await;
    let report = operator(&kit, Mode::Graceful).activate().await.unwrap();
    assert_eq!(report["called"], 1, "{report}");
    assert_eq!(report["forced_without_graceful"], 0);
    assert_eq!(kit.bmc.power_state(0), "Off", "its Off is the graceful one");
    assert_eq!(kit.bmc.counters().resets, 1);
    let c = kit.component(&kit.nodes[0]).await;
    assert!(c.last_action.is(Action::PoweringOffGracefully));
    assert_eq!(c.event_stats.power_off_graceful_attempts, 1);
    assert!(c.error.is_empty(), "{}", c.error);
}

#[tokio::test]
async fn a_system_without_a_graceful_off_is_forced_at_once() {
    let kit = shutting_down(&["On", "ForceOff"]).await;
    let report = operator(&kit, Mode::Graceful).activate().await.unwrap();
    assert_eq!(report["forced_without_graceful"], 1, "{report}");
    assert_eq!(kit.bmc.power_state(0), "Off");
    let c = kit.component(&kit.nodes[0]).await;
    assert!(c.last_action.is(Action::PoweringOffForcefully));
    assert_eq!(c.event_stats.power_off_forceful_attempts, 1);
    assert_eq!(c.event_stats.power_off_graceful_attempts, 0);
}

#[tokio::test]
async fn a_system_allowing_no_off_fails_at_once_naming_what_it_allows() {
    let kit = shutting_down(&["On"]).await;
    let report = operator(&kit, Mode::Graceful).activate().await.unwrap();
    assert_eq!(report["failed"], 1, "{report}");
    assert_eq!(kit.bmc.counters().resets, 0, "nothing sent");
    let c = kit.component(&kit.nodes[0]).await;
    assert_eq!(
        c.error,
        format!(
            "{BMC} /redfish/v1/Systems/Node0: no reset type for a graceful off (one of GracefulShutdown, PushPowerButton, Off) or a forced off (ForceOff): the system allows On; nothing sent, PowerState On"
        )
    );
    // The forceful operator, after the wait, says the same of ForceOff.
    kit.clock.advance(chrono::Duration::seconds(301));
    operator(&kit, Mode::Forceful).activate().await.unwrap();
    let c = kit.component(&kit.nodes[0]).await;
    assert!(
        c.error
            .contains("no reset type for a forced off (ForceOff): the system allows On"),
        "{}",
        c.error
    );
}

#[tokio::test]
async fn a_refused_reset_names_the_bmc_the_system_what_was_sent_and_the_state() {
    let kit = shutting_down(&["On", "GracefulShutdown", "ForceOff"]).await;
    kit.bmc.fail_next(1, 500);
    let report = operator(&kit, Mode::Graceful).activate().await.unwrap();
    assert_eq!(report["failed"], 1, "{report}");
    let c = kit.component(&kit.nodes[0]).await;
    let bmc = kit.bmc.addr().to_string();
    assert!(
        c.error.starts_with(&format!(
            "{BMC} /redfish/v1/Systems/Node0: GracefulShutdown failed, PowerState On: BMC {bmc} answered reset GracefulShutdown"
        )) && c.error.contains("HTTP 500"),
        "{}",
        c.error
    );
}

#[tokio::test]
async fn a_power_button_is_pressed_only_on_a_node_that_is_on() {
    let kit = shutting_down(&["PushPowerButton"]).await;
    // Someone powered it off since the status pass: pressing would power it on.
    kit.bmc.set_power_state(0, "Off");
    operator(&kit, Mode::Graceful).activate().await.unwrap();
    assert_eq!(kit.bmc.counters().resets, 0);
    assert_eq!(kit.bmc.power_state(0), "Off");
    let c = kit.component(&kit.nodes[0]).await;
    assert!(
        c.error.contains("PushPowerButton, which toggles power")
            && c.error.contains("PowerState Off; nothing sent"),
        "{}",
        c.error
    );
}

/// A kit whose first node was sent its graceful off the wait ago and is still on: due to be
/// forced.
async fn graceful_called_and_waited(kit: &Kit) {
    let mut c = kit.component(&kit.nodes[0]).await;
    c.act(Action::PoweringOffGracefully, kit.clock.now());
    kit.put(&c).await;
    kit.clock.advance(chrono::Duration::seconds(301));
    assert_eq!(
        kit.component(&kit.nodes[0]).await.derived_status(),
        Status::PowerOffGracefullyCalled
    );
}

#[tokio::test]
async fn a_node_that_went_off_since_the_graceful_call_is_not_forced() {
    let kit = shutting_down(&["On", "GracefulShutdown", "ForceOff"]).await;
    graceful_called_and_waited(&kit).await;
    // It went off after the status operator's last reading.
    kit.bmc.set_power_state(0, "Off");
    let report = operator(&kit, Mode::Forceful).activate().await.unwrap();
    assert_eq!(report["already_off"], 1, "{report}");
    assert_eq!(kit.bmc.counters().resets, 0, "no ForceOff sent");
    let c = kit.component(&kit.nodes[0]).await;
    assert!(c.last_action.is(Action::PoweringOffGracefully));
    assert_eq!(c.event_stats.power_off_forceful_attempts, 0);
}

#[tokio::test]
async fn a_node_still_on_after_the_wait_is_forced() {
    let kit = shutting_down(&["On", "GracefulShutdown", "ForceOff"]).await;
    graceful_called_and_waited(&kit).await;
    let report = operator(&kit, Mode::Forceful).activate().await.unwrap();
    assert_eq!(report["called"], 1, "{report}");
    assert_eq!(report["already_off"], 0, "{report}");
    assert_eq!(kit.bmc.power_state(0), "Off");
    assert_eq!(kit.bmc.counters().resets, 1);
    let c = kit.component(&kit.nodes[0]).await;
    assert!(c.last_action.is(Action::PoweringOffForcefully));
    assert_eq!(c.event_stats.power_off_forceful_attempts, 1);
}

#[tokio::test]
async fn a_deposed_leader_records_no_outcome_and_the_next_leader_settles_it() {
    let kit = shutting_down(&["On", "GracefulShutdown", "ForceOff"]).await;
    // This replica lost the operator lock while its batch was under way.
    let mut deposed = PowerOff {
        ctx: crate::operators::bos::BosContext {
            leadership: crate::cluster::Leadership::standby(),
            ..kit.bos()
        },
        mode: Mode::Graceful,
    };
    deposed.activate().await.unwrap();
    let c = kit.component(&kit.nodes[0]).await;
    assert!(c.last_action.unsent, "no outcome recorded");
    assert_eq!(c.event_stats.power_off_graceful_attempts, 0);
    // The next leader settles it from the BMC, which took the call: nothing is sent again.
    operator(&kit, Mode::Graceful).activate().await.unwrap();
    let c = kit.component(&kit.nodes[0]).await;
    assert!(!c.last_action.unsent, "settled");
    assert!(c.last_action.is(Action::PoweringOffGracefully));
    assert_eq!(kit.bmc.counters().resets, 1, "one reset in all");
}
