//! PCS transitions interrupted at every step of every multi-step operation: killed while
//! confirming each step, aborted between an intent and its send and between a send and its
//! record, stopped by SIGTERM. After the restart the transition completes with every task
//! succeeded, every node where the operation leaves it, and each BMC took exactly the resets
//! the plan has (issue 19 finding 2: `on` cost 400 resets for 200 nodes; `hard-restart`
//! resumed as a new plan and failed "must be in the On state").

use std::time::Duration;

use redfish::sim::SimConfig;
use serde_json::{Value, json};

use super::{Appliance, checked, integrity};
use crate::bos::Lab;
use crate::common::{Server, wait_until};
use crate::power::{finished, task, transition};

const NODES: usize = 40;

/// Where a case interrupts the appliance.
enum Interrupt<'a> {
    /// SIGKILL once every task describes itself so (`Confirming successful transition, on`).
    KillWhenAll(&'a str),
    /// SIGTERM at the same point.
    TermWhenAll(&'a str),
    /// Armed at this crash point (`name:n`) from the start of the transition.
    CrashAt(&'a str),
}

async fn described_all(s: &Server, id: &str, xnames: &[String], what: &str) {
    let msg = format!("every task of {id} to read '{what}'");
    wait_until(&msg, Duration::from_secs(30), async || {
        let (_, t) = s
            .get(&format!("/apis/power-control/v1/transitions/{id}"))
            .await;
        let all = xnames.iter().all(|x| {
            task(&t, x)["taskStatusDescription"]
                .as_str()
                .is_some_and(|d| d == what)
        });
        if all { Ok(()) } else { Err(t) }
    })
    .await
}

/// Run `operation` over `NODES` nodes starting `initial`, interrupted as said; expect each
/// node to end `end` having taken exactly `resets` resets.
async fn pcs_case(
    name: &str,
    operation: &str,
    initial: &str,
    interrupt: Interrupt<'_>,
    end: &str,
    resets: u64,
) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut app = Appliance::start(&data, &[]).await;
    let cfg = SimConfig {
        initial_power: initial.into(),
        ..SimConfig::default()
    };
    let lab = Lab::around(app.server(), dir, NODES, cfg).await;
    for b in lab.fleet.bmcs() {
        // Each power change takes a while, so there is a confirming phase to interrupt.
        b.set_power_delay(Duration::from_millis(2500));
    }
    if let Interrupt::CrashAt(point) = interrupt {
        app.kill().await;
        app.restart(Some(point));
        app.ready().await;
    }
    let location: Vec<Value> = lab.xnames.iter().map(|x| json!({"xname": x})).collect();
    let id = transition(
        &lab.s,
        json!({"operation": operation, "location": location, "taskDeadlineMinutes": 2}),
    )
    .await;
    let how = match interrupt {
        Interrupt::KillWhenAll(what) => {
            described_all(&lab.s, &id, &lab.xnames, what).await;
            app.kill().await;
            format!("SIGKILL while every task read '{what}'")
        }
        Interrupt::TermWhenAll(what) => {
            described_all(&lab.s, &id, &lab.xnames, what).await;
            let st = app.terminate(Duration::from_secs(60)).await;
            assert!(st.success(), "{st}\n{}", app.log());
            format!("SIGTERM while every task read '{what}' (exit 0)")
        }
        Interrupt::CrashAt(point) => {
            let name = point.split(':').next().unwrap();
            app.crashed(name).await;
            format!("abort at crash point {point}")
        }
    };
    let sent_before = lab.fleet.counters().resets;
    app.restart(None);
    app.ready().await;
    let t = finished(&lab.s, &id, Duration::from_secs(60)).await;
    assert_eq!(t["transitionStatus"], "completed", "{t:#}\n{}", app.log());
    for (i, x) in lab.xnames.iter().enumerate() {
        assert_eq!(
            task(&t, x)["taskStatus"],
            "succeeded",
            "{x}: {t:#}\n{}",
            app.log()
        );
        assert_eq!(lab.power(i), end, "{x}");
        assert_eq!(lab.resets(i), resets, "{x}: resets\n{}", app.log());
    }
    assert_eq!(integrity(&app.data).await, "ok");
    checked(
        name,
        &[
            format!("{operation} of {NODES} nodes from {initial}, {how}"),
            format!("{sent_before} resets before the interruption"),
            format!(
                "after the restart: completed, every task succeeded, every node {end}, exactly {resets} reset(s) per node ({} in all)",
                lab.fleet.counters().resets
            ),
            "store integrity_check ok".into(),
        ],
    );
}

#[tokio::test]
async fn pcs_on_killed_while_confirming_sends_no_second_on() {
    pcs_case(
        "pcs on, kill -9 while confirming",
        "on",
        "Off",
        Interrupt::KillWhenAll("Confirming successful transition, on"),
        "On",
        1,
    )
    .await;
}

#[tokio::test]
async fn pcs_on_stopped_while_confirming_sends_no_second_on() {
    pcs_case(
        "pcs on, SIGTERM while confirming",
        "on",
        "Off",
        Interrupt::TermWhenAll("Confirming successful transition, on"),
        "On",
        1,
    )
    .await;
}

#[tokio::test]
async fn pcs_hard_restart_killed_confirming_its_off_resumes_at_its_step() {
    pcs_case(
        "pcs hard-restart, kill -9 while confirming the graceful off",
        "hard-restart",
        "On",
        Interrupt::KillWhenAll("Confirming successful transition, gracefulshutdown"),
        "On",
        2,
    )
    .await;
}

#[tokio::test]
async fn pcs_hard_restart_killed_confirming_its_on_resumes_at_its_step() {
    pcs_case(
        "pcs hard-restart, kill -9 while confirming the on",
        "hard-restart",
        "On",
        Interrupt::KillWhenAll("Confirming successful transition, on"),
        "On",
        2,
    )
    .await;
}

#[tokio::test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the fault-injection feature (crash points): cargo nextest run --all-features"
)]
async fn pcs_hard_restart_aborted_between_intent_and_send() {
    // The 50th reset is some node's On (the 40 graceful offs come first).
    pcs_case(
        "pcs hard-restart, abort after the 50th intent was written",
        "hard-restart",
        "On",
        Interrupt::CrashAt("pcs.reset.intent:50"),
        "On",
        2,
    )
    .await;
}

#[tokio::test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the fault-injection feature (crash points): cargo nextest run --all-features"
)]
async fn pcs_hard_restart_aborted_between_send_and_record() {
    pcs_case(
        "pcs hard-restart, abort after the 13th reset was sent",
        "hard-restart",
        "On",
        Interrupt::CrashAt("pcs.reset.sent:13"),
        "On",
        2,
    )
    .await;
}

#[tokio::test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the fault-injection feature (crash points): cargo nextest run --all-features"
)]
async fn pcs_soft_restart_aborted_between_send_and_record() {
    pcs_case(
        "pcs soft-restart, abort after the 20th restart was sent",
        "soft-restart",
        "On",
        Interrupt::CrashAt("pcs.reset.sent:20"),
        "On",
        1,
    )
    .await;
}

#[tokio::test]
async fn pcs_soft_off_killed_while_confirming() {
    pcs_case(
        "pcs soft-off, kill -9 while confirming",
        "soft-off",
        "On",
        Interrupt::KillWhenAll("Confirming successful transition, gracefulshutdown"),
        "Off",
        1,
    )
    .await;
}
