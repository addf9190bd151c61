//! One test per BOS operator, each calling `activate()` directly on a temporary store with
//! a SimBmc and a fixed clock (`operators::testkit`), and asserting on the records, the
//! BMC and the report.

use chrono::Duration;

use super::configuration::Configuration;
use super::discovery::Discovery;
use super::evidence::Evidence;
use super::lifecycle::{ActualStateCleanup, SessionCleanup, SessionCompletion};
use super::power_off::{Mode, PowerOff};
use super::power_on::PowerOn;
use super::session_setup::SessionSetup;
use super::status::Status as StatusOperator;
use crate::clock::Clock;
use crate::model::boot_component::{BootArtifacts, BootComponent, timestamp};
use crate::model::{Action, BootEvent, Operation, Phase, SessionStatus, Status};
use crate::operators::Operator;
use crate::operators::ports::BootEvents;
use crate::operators::testkit::Kit;

fn artifacts() -> BootArtifacts {
    BootArtifacts {
        kernel: "s3://boot-images/a/kernel".into(),
        kernel_parameters: "console=ttyS0 bos_update_frequency=4h".into(),
        initrd: "s3://boot-images/a/initrd".into(),
    }
}

/// A component of the kit in the middle of a boot, as a test arranges it.
fn booting(kit: &Kit, node: usize) -> BootComponent {
    let mut c = BootComponent::discovered(kit.nodes[node].as_str(), kit.clock.now());
    c.enabled = true;
    c.session = "s".into();
    c.desired_state.boot_artifacts = artifacts();
    c
}

#[tokio::test]
async fn discovery_gives_every_inventory_node_a_disabled_component() {
    let kit = Kit::new(2).await;
    let report = Discovery(kit.bos()).activate().await.unwrap();
    assert_eq!(report["added"], 2);
    for x in &kit.nodes {
        let c = kit.component(x).await;
        assert!(!c.enabled);
        assert!(c.last_action.is(Action::NewlyDiscovered));
        assert_eq!(
            c.last_action.last_updated.as_deref(),
            Some(timestamp(kit.clock.now()).as_str())
        );
    }
    let again = Discovery(kit.bos()).activate().await.unwrap();
    assert_eq!(again["added"], 0, "components are created once");
}

#[tokio::test]
async fn session_setup_writes_desired_state_and_runs_the_session() {
    let kit = Kit::new(2).await;
    let image = kit.image("a");
    kit.template("t", &image, Some("site")).await;
    kit.store
        .insert_session(&kit.session("s", Operation::Boot, SessionStatus::Pending))
        .await
        .unwrap();
    let report = SessionSetup(kit.bos()).activate().await.unwrap();
    assert_eq!(report["sessions"][0]["nodes"], 2, "{report}");
    let s = kit.store.get_session("", "s").await.unwrap().unwrap();
    assert_eq!(s.status.status, SessionStatus::Running);
    assert_eq!(s.components.split(',').count(), 2);
    for x in &kit.nodes {
        let c = kit.component(x).await;
        assert!(c.enabled);
        assert_eq!(c.session, "s");
        assert_eq!(c.desired_state.configuration, "site");
        assert_eq!(
            c.desired_state.boot_artifacts.kernel,
            "s3://boot-images/a/kernel"
        );
        assert!(c.overridden(Status::OnHold));
        assert!(c.last_action.is(Action::SessionSetup));
    }
}

#[tokio::test]
async fn status_moves_an_off_node_that_should_boot_to_powering_on() {
    let kit = Kit::new(1).await;
    let mut c = booting(&kit, 0);
    c.set_override(Some(Status::OnHold));
    c.act(Action::SessionSetup, kit.clock.now());
    kit.put(&c).await;
    let report = StatusOperator::new(kit.bos()).activate().await.unwrap();
    assert_eq!(report["changed"], 1, "{report}");
    let c = kit.component(&kit.nodes[0]).await;
    assert_eq!(c.status.phase, Phase::PoweringOn);
    assert_eq!(c.derived_status(), Status::PowerOnPending);
}

#[tokio::test]
async fn a_node_on_hold_behind_a_bmc_slower_than_a_pass_leaves_the_hold() {
    // Issue 19's fault suite found it: a 5 s BMC's node stayed on hold for good, because
    // each pass wanted a reading newer than its own start and the BMC answered after it.
    let kit = Kit::new(1).await;
    let mut c = booting(&kit, 0);
    c.set_override(Some(Status::OnHold));
    c.act(Action::SessionSetup, kit.clock.now());
    kit.put(&c).await;
    kit.clock.advance(Duration::seconds(1));
    kit.bmc.set_latency(std::time::Duration::from_millis(300));
    let quick = super::BosContext {
        act_wait: std::time::Duration::from_millis(20),
        ..kit.bos()
    };
    let mut status = StatusOperator::new(quick);
    let first = status.activate().await.unwrap();
    assert_eq!(first["changed"], 0, "no reading within the pass: {first}");
    // The read lands after the pass; a later pass takes it (it is newer than the hold).
    kit.clock.advance(Duration::seconds(1));
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let later = status.activate().await.unwrap();
    assert_eq!(later["changed"], 1, "{later}");
    let c = kit.component(&kit.nodes[0]).await;
    assert!(!c.overridden(Status::OnHold), "still on hold");
    assert_eq!(c.status.phase, Phase::PoweringOn);
}

#[tokio::test]
async fn power_on_writes_boot_parameters_sets_a_network_boot_and_powers_on() {
    let kit = Kit::new(1).await;
    let mut c = booting(&kit, 0);
    c.status.phase = Phase::PoweringOn;
    kit.put(&c).await;
    let report = PowerOn(kit.bos()).activate().await.unwrap();
    assert_eq!(report["powered_on"], 1, "{report}");
    assert_eq!(report["bss_writes"], 1);
    assert_eq!(kit.bmc.power_state(0), "On");
    assert_eq!(kit.bmc.boot_override(0).1, "Pxe");
    let c = kit.component(&kit.nodes[0]).await;
    assert!(c.last_action.is(Action::PoweringOn));
    assert_eq!(c.event_stats.power_on_attempts, 1);
    assert_eq!(c.derived_status(), Status::PowerOnCalled);
    let token = c.desired_state.bss_token.clone();
    assert!(!token.is_empty(), "the referral token is recorded");
    assert_eq!(
        kit.store.get_boot_token(&token).await.unwrap(),
        Some(artifacts())
    );
    let events = kit.app.events(&kit.nodes[0]);
    assert!(events.iter().any(|e| e.what == "power-on"), "{events:?}");
}

#[tokio::test]
async fn power_off_is_graceful_first_and_forceful_after_the_wait() {
    let kit = Kit::new(1).await;
    kit.bmc.set_power_state(0, "On");
    kit.bmc.set_ignore_graceful(true);
    let mut c = booting(&kit, 0);
    c.desired_state.boot_artifacts = BootArtifacts::default();
    c.status.phase = Phase::PoweringOff;
    c.act(Action::SessionSetup, kit.clock.now());
    kit.put(&c).await;
    let graceful = PowerOff {
        ctx: kit.bos(),
        mode: Mode::Graceful,
    };
    let mut forceful = PowerOff {
        ctx: kit.bos(),
        mode: Mode::Forceful,
    };
    let mut graceful = graceful;
    let report = graceful.activate().await.unwrap();
    assert_eq!(report["called"], 1, "{report}");
    let c = kit.component(&kit.nodes[0]).await;
    assert_eq!(c.derived_status(), Status::PowerOffGracefullyCalled);
    assert_eq!(
        kit.bmc.power_state(0),
        "On",
        "the node ignores the graceful call"
    );
    let early = forceful.activate().await.unwrap();
    assert_eq!(
        early["selected"], 0,
        "max_power_off_wait_time has not passed"
    );
    kit.clock.advance(Duration::seconds(301));
    let report = forceful.activate().await.unwrap();
    assert_eq!(report["called"], 1, "{report}");
    assert_eq!(kit.bmc.power_state(0), "Off");
    let c = kit.component(&kit.nodes[0]).await;
    assert!(c.last_action.is(Action::PoweringOffForcefully));
    assert_eq!(c.event_stats.power_off_forceful_attempts, 1);
}

#[tokio::test]
async fn configuration_hands_the_desired_configuration_to_the_builtin_cfs() {
    let kit = Kit::new(1).await;
    let mut c = booting(&kit, 0);
    c.status.phase = Phase::Configuring;
    c.desired_state.configuration = "site".into();
    kit.put(&c).await;
    let report = Configuration(kit.bos()).activate().await.unwrap();
    assert_eq!(report["handed_off"], 1, "{report}");
    let cfs = kit.app.builtin_cfs().unwrap();
    let view = cfs.get_component(kit.nodes[0].as_str()).await.unwrap();
    assert_eq!(view.component.desired_config, "site");
    assert!(view.component.enabled);
    assert_eq!(view.component.tags["bos_session"], "s");
}

#[tokio::test]
async fn completion_ends_a_running_session_whose_nodes_are_done() {
    let kit = Kit::new(1).await;
    let mut c = booting(&kit, 0);
    c.enabled = false;
    kit.put(&c).await;
    kit.store
        .insert_session(&kit.session("s", Operation::Boot, SessionStatus::Running))
        .await
        .unwrap();
    let report = SessionCompletion(kit.bos()).activate().await.unwrap();
    assert_eq!(report["completed"][0], "s", "{report}");
    let s = kit.store.get_session("", "s").await.unwrap().unwrap();
    assert_eq!(s.status.status, SessionStatus::Complete);
    assert_eq!(s.status.end_time, Some(timestamp(kit.clock.now())));
    let saved = kit.store.saved_session_status("", "s").await.unwrap();
    assert_eq!(saved.map(|st| st.managed_components_count), Some(1));
}

#[tokio::test]
async fn cleanup_deletes_completed_sessions_older_than_the_ttl() {
    let kit = Kit::new(1).await;
    let old = kit.session("old", Operation::Boot, SessionStatus::Complete);
    kit.store.insert_session(&old).await.unwrap();
    kit.clock.advance(Duration::days(6));
    kit.store
        .insert_session(&kit.session("new", Operation::Boot, SessionStatus::Complete))
        .await
        .unwrap();
    kit.clock.advance(Duration::days(2));
    let report = SessionCleanup(kit.bos()).activate().await.unwrap();
    assert_eq!(report["deleted"], 1, "{report}");
    assert!(kit.store.get_session("", "old").await.unwrap().is_none());
    assert!(kit.store.get_session("", "new").await.unwrap().is_some());
}

#[tokio::test]
async fn actual_state_not_reported_within_the_ttl_is_forgotten() {
    let kit = Kit::new(2).await;
    for (i, hours) in [(0, 5), (1, 1)] {
        let mut c = booting(&kit, i);
        c.actual_state.boot_artifacts = artifacts();
        c.actual_state.last_updated = Some(timestamp(kit.clock.now() - Duration::hours(hours)));
        kit.put(&c).await;
    }
    let report = ActualStateCleanup(kit.bos()).activate().await.unwrap();
    assert_eq!(report["cleared"], 1, "{report}");
    let stale = kit.component(&kit.nodes[0]).await;
    assert!(stale.actual_state.boot_artifacts.is_empty());
    assert!(stale.last_action.is(Action::ActualStateCleanup));
    let fresh = kit.component(&kit.nodes[1]).await;
    assert_eq!(fresh.actual_state.boot_artifacts, artifacts());
}

#[tokio::test]
async fn boot_evidence_proves_a_boot_from_a_complete_initrd_fetch() {
    let kit = Kit::new(1).await;
    let x = kit.nodes[0].clone();
    kit.bmc.set_power_state(0, "On");
    let mut c = booting(&kit, 0);
    c.status.phase = Phase::PoweringOn;
    c.act(Action::PoweringOn, kit.clock.now());
    c.desired_state.bss_token = "tok".into();
    kit.put(&c).await;
    kit.store.put_boot_token("tok", &artifacts()).await.unwrap();
    let fetched = kit.clock.now() + Duration::seconds(3);
    kit.app.record(
        &x,
        BootEvent {
            time: fetched,
            what: "initrd".into(),
            bytes: 6,
            duration_ms: 1,
            client: Some("10.0.0.5".into()),
            outcome: "complete".into(),
            token: Some(kit.app.artifact_token(&x, "tok")),
            file: None,
            repeats: 0,
            last_time: None,
        },
    );
    kit.clock.advance(Duration::seconds(5));
    let waiting = Evidence(kit.bos()).activate().await.unwrap();
    assert_eq!(
        waiting["waiting"], 1,
        "boot_evidence_wait (10 s) has not passed: {waiting}"
    );
    kit.clock.advance(Duration::seconds(10));
    let report = Evidence(kit.bos()).activate().await.unwrap();
    assert_eq!(report["proven"], 1, "{report}");
    let c = kit.component(&x).await;
    assert_eq!(c.actual_state.boot_artifacts, artifacts());
    assert_eq!(c.actual_state.bss_token, "tok");
}

#[tokio::test]
async fn status_reads_power_from_a_sample_taken_since_the_last_reset_else_from_the_bmc() {
    use crate::power::samples::sample;
    let kit = Kit::new(1).await;
    let ctx = kit.bos();
    let systems = ctx.systems().await.unwrap();
    let sys = systems[kit.nodes[0].as_str()].clone();
    let mut c = booting(&kit, 0);
    c.status.phase = Phase::PoweringOn;
    c.act(Action::PoweringOn, kit.clock.now());
    kit.put(&c).await;
    // The BMC says Off; a sample from before the power-on call must not be believed...
    let old = sample(
        &kit.nodes[0],
        &sys,
        Ok(crate::model::power::PowerState::On),
        kit.clock.now() - Duration::seconds(5),
    );
    ctx.power_cache.put(old);
    ctx.acted_on([&c.id]);
    let asked = kit.bmc.counters().requests;
    StatusOperator::new(kit.bos()).activate().await.unwrap();
    assert!(kit.bmc.counters().requests > asked, "the BMC was asked");
    let read = ctx.power_cache.get(&kit.nodes[0]).unwrap();
    assert_eq!(
        read.state,
        crate::model::power::PowerState::Off,
        "and its answer cached"
    );
    // ...but one taken after it is, and the BMC is not asked again.
    kit.bmc.set_power_state(0, "On");
    kit.clock.advance(Duration::seconds(2));
    ctx.power_cache.put(sample(
        &kit.nodes[0],
        &sys,
        Ok(crate::model::power::PowerState::On),
        kit.clock.now(),
    ));
    let asked = kit.bmc.counters().requests;
    StatusOperator::new(kit.bos()).activate().await.unwrap();
    assert_eq!(kit.bmc.counters().requests, asked, "served from the sample");
    let c = kit.component(&kit.nodes[0]).await;
    assert_eq!(
        c.status.phase,
        Phase::PoweringOn,
        "on, booting: waiting for its report"
    );
}

/// A BOS v1 session (docs/bos.md, "BOS v1") over the kit's two nodes, one boot set each:
/// `first` (node 0, boot_ordinal 1) and `second` (node 1, boot_ordinal 2).
async fn v1_session(kit: &Kit, op: crate::model::bos_v1::V1Operation) {
    let image = kit.image("a");
    kit.template("t", &image, Some("site")).await;
    let mut t = kit
        .store
        .get_session_template("", "t")
        .await
        .unwrap()
        .unwrap();
    let bs = t.boot_sets.remove("compute").unwrap();
    for (i, name) in ["first", "second"].into_iter().enumerate() {
        let mut b = bs.clone();
        b.node_list = Some(vec![kit.nodes[i].to_string()]);
        b.ordinals.boot = Some(i as u32 + 1);
        t.boot_sets.insert(name.into(), b);
    }
    kit.store.put_session_template(&t).await.unwrap();
    let mut s = kit.session("s", op.engine(), SessionStatus::Pending);
    s.v1 = Some(crate::model::bos_v1::V1Run::plan(op, &t));
    kit.store.insert_session(&s).await.unwrap();
}

/// No component yet, or one no session has touched.
async fn untouched(kit: &Kit, node: usize) -> bool {
    let c = kit
        .store
        .get_boot_component(kit.nodes[node].as_str())
        .await
        .unwrap();
    c.is_none_or(|v| !v.value.enabled && v.value.session.is_empty())
}

async fn finish(kit: &Kit, node: usize) {
    let mut c = kit.component(&kit.nodes[node]).await;
    c.enabled = false;
    c.set_override(None);
    kit.put(&c).await;
}

#[tokio::test]
async fn session_setup_and_completion_run_a_v1_session_stage_by_stage() {
    let kit = Kit::new(2).await;
    v1_session(&kit, crate::model::bos_v1::V1Operation::Boot).await;
    SessionSetup(kit.bos()).activate().await.unwrap();
    let s = kit.store.get_session("", "s").await.unwrap().unwrap();
    let run = s.v1.as_ref().unwrap();
    assert_eq!(s.status.status, SessionStatus::Running);
    assert_eq!(s.components, kit.nodes[0].as_str());
    assert_eq!(
        run.boot_sets["first"].nodes.as_deref(),
        Some(&[kit.nodes[0].to_string()][..])
    );
    assert_eq!(run.boot_sets["second"].nodes, None);
    assert!(run.stages[0].start.is_some() && run.stages[1].start.is_none());
    assert!(kit.component(&kit.nodes[0]).await.enabled);
    assert!(untouched(&kit, 1).await);
    // While the first boot set is busy, nothing moves on.
    let r = SessionCompletion(kit.bos()).activate().await.unwrap();
    assert_eq!(r["completed"], serde_json::json!([]), "{r}");
    // The first boot set done: the session goes back to pending for the second stage.
    finish(&kit, 0).await;
    SessionCompletion(kit.bos()).activate().await.unwrap();
    let s = kit.store.get_session("", "s").await.unwrap().unwrap();
    let run = s.v1.as_ref().unwrap();
    assert_eq!((s.status.status, run.stage), (SessionStatus::Pending, 1));
    assert!(run.stages[0].end.is_some());
    SessionSetup(kit.bos()).activate().await.unwrap();
    let s = kit.store.get_session("", "s").await.unwrap().unwrap();
    assert_eq!(s.status.status, SessionStatus::Running);
    assert_eq!(s.components.split(',').count(), 2, "{}", s.components);
    let second = kit.component(&kit.nodes[1]).await;
    assert!(second.enabled && second.session == "s");
    finish(&kit, 1).await;
    SessionCompletion(kit.bos()).activate().await.unwrap();
    let s = kit.store.get_session("", "s").await.unwrap().unwrap();
    assert_eq!(s.status.status, SessionStatus::Complete);
    assert!(s.v1.unwrap().stages[1].end.is_some());
}

#[tokio::test]
async fn session_setup_v1_configure_keeps_what_each_node_runs() {
    let kit = Kit::new(2).await;
    // Node 0 runs an image BOS knows about; node 1 has never reported one.
    let mut c = BootComponent::discovered(kit.nodes[0].as_str(), kit.clock.now());
    c.actual_state.boot_artifacts = BootArtifacts {
        kernel: "s3://boot-images/old/kernel".into(),
        ..artifacts()
    };
    kit.put(&c).await;
    v1_session(&kit, crate::model::bos_v1::V1Operation::Configure).await;
    // One stage for configure here too: put both boot sets at the same ordinal.
    let mut s = kit.store.get_session("", "s").await.unwrap().unwrap();
    let mut t = kit
        .store
        .get_session_template("", "t")
        .await
        .unwrap()
        .unwrap();
    for b in t.boot_sets.values_mut() {
        b.ordinals.boot = None;
    }
    s.v1 = Some(crate::model::bos_v1::V1Run::plan(
        crate::model::bos_v1::V1Operation::Configure,
        &t,
    ));
    kit.store.update_session(&s).await.unwrap();
    SessionSetup(kit.bos()).activate().await.unwrap();
    let s = kit.store.get_session("", "s").await.unwrap().unwrap();
    assert_eq!(s.status.status, SessionStatus::Running, "{s:?}");
    assert_eq!(s.components, kit.nodes[0].as_str());
    let c = kit.component(&kit.nodes[0]).await;
    assert_eq!(
        c.desired_state.boot_artifacts.kernel,
        "s3://boot-images/old/kernel"
    );
    assert_eq!(c.desired_state.configuration, "site");
    assert!(c.enabled);
    assert!(untouched(&kit, 1).await);
    // Still listed under its boot set (the tree shows it excluded).
    assert!(s.v1.unwrap().boot_sets["second"].nodes.is_some());
}

#[tokio::test]
async fn a_v1_stage_the_limit_leaves_empty_is_skipped() {
    let kit = Kit::new(2).await;
    v1_session(&kit, crate::model::bos_v1::V1Operation::Boot).await;
    let mut s = kit.store.get_session("", "s").await.unwrap().unwrap();
    s.limit = kit.nodes[0].to_string();
    kit.store.update_session(&s).await.unwrap();
    SessionSetup(kit.bos()).activate().await.unwrap();
    finish(&kit, 0).await;
    SessionCompletion(kit.bos()).activate().await.unwrap();
    SessionSetup(kit.bos()).activate().await.unwrap();
    let s = kit.store.get_session("", "s").await.unwrap().unwrap();
    assert_eq!(s.status.status, SessionStatus::Running, "{s:?}");
    assert_eq!(s.status.error, None);
    assert!(untouched(&kit, 1).await);
    SessionCompletion(kit.bos()).activate().await.unwrap();
    let s = kit.store.get_session("", "s").await.unwrap().unwrap();
    assert_eq!(
        (s.status.status, s.status.error),
        (SessionStatus::Complete, None)
    );
}
