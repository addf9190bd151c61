//! ComputerSystem.Reset: reset types and bodies validated, transitional power states, power
//! events, a host ignoring graceful shutdown, and reset types given by ActionInfo.

use std::time::Duration;

use redfish::sim::{PowerEvent, SimConfig};
use reqwest::Method;
use serde_json::json;

use super::{call, client, get, message_id, reset, start, wait_for};

#[tokio::test]
async fn reset_validates_type_and_body() {
    let cfg = SimConfig {
        reset_types: vec!["On".into(), "ForceOff".into()],
        ..SimConfig::default()
    };
    let bmc = start(cfg).await;
    let c = client();
    let (s, body) = reset(&c, &bmc, 0, "GracefulRestart").await;
    assert_eq!(s, 400);
    assert_eq!(message_id(&body), "Base.1.8.ActionParameterNotSupported");
    let msg = body["error"]["@Message.ExtendedInfo"][0]["Message"]
        .as_str()
        .unwrap();
    assert!(msg.contains("On, ForceOff"), "{msg}");

    let path = format!("{}/Actions/ComputerSystem.Reset", bmc.system_paths()[0]);
    let (s, _, _) = call(&c, &bmc, Method::POST, &path, Some(json!({})), &[]).await;
    assert_eq!(s, 400);
    let (s, _, _) = call(&c, &bmc, Method::POST, &path, None, &[]).await;
    assert_eq!(s, 400);
    let (s, _, _) = call(
        &c,
        &bmc,
        Method::POST,
        &path,
        Some(json!({"ResetType": 3})),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(bmc.counters().resets, 0);

    let (s, _) = reset(&c, &bmc, 0, "On").await;
    assert_eq!(s, 204);
    assert_eq!(bmc.power_state(0), "On");
    let (s, _) = reset(&c, &bmc, 0, "On").await;
    assert_eq!(s, 204, "On when already On is accepted");
    let (s, _) = reset(&c, &bmc, 0, "ForceOff").await;
    assert_eq!(s, 204);
    assert_eq!(bmc.power_state(0), "Off");
    assert_eq!(bmc.counters().resets, 3);
    bmc.shutdown().await;
}

#[tokio::test]
async fn power_delay_shows_transitional_states() {
    let bmc = start(SimConfig {
        power_delay: Duration::from_millis(400),
        ..SimConfig::default()
    })
    .await;
    let c = client();
    let (s, _) = reset(&c, &bmc, 0, "On").await;
    assert_eq!(s, 204);
    let (_, sys) = get(&c, &bmc, &bmc.system_paths()[0]).await;
    assert_eq!(sys["PowerState"], "PoweringOn");
    assert!(wait_for(Duration::from_secs(10), || bmc.power_state(0) == "On").await);
    let (_, sys) = get(&c, &bmc, &bmc.system_paths()[0]).await;
    assert_eq!(sys["PowerState"], "On");

    let (s, _) = reset(&c, &bmc, 0, "GracefulShutdown").await;
    assert_eq!(s, 204);
    assert_eq!(bmc.power_state(0), "PoweringOff");
    assert!(wait_for(Duration::from_secs(10), || bmc.power_state(0) == "Off").await);

    // ForceOff is immediate even with a delay, and cancels a transition in flight.
    reset(&c, &bmc, 0, "On").await;
    assert_eq!(bmc.power_state(0), "PoweringOn");
    reset(&c, &bmc, 0, "ForceOff").await;
    assert_eq!(bmc.power_state(0), "Off");

    // The setter's Powering* states are sticky.
    bmc.set_power_state(0, "PoweringOn");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(bmc.power_state(0), "PoweringOn");
    bmc.shutdown().await;
}

#[tokio::test]
async fn power_events_show_every_change_and_count_restarts() {
    let bmc = start(SimConfig {
        power_delay: Duration::from_millis(200),
        ..SimConfig::default()
    })
    .await;
    let c = client();
    let ev = |state, power_ons| PowerEvent { state, power_ons };
    let mut rx = bmc.power_events(0);
    assert_eq!(*rx.borrow_and_update(), ev("Off", 0));
    let next = async |rx: &mut tokio::sync::watch::Receiver<PowerEvent>| {
        tokio::time::timeout(Duration::from_secs(10), rx.changed())
            .await
            .expect("a power event in time")
            .unwrap();
        *rx.borrow_and_update()
    };

    // A delayed power-on is seen twice, and lands by itself: nobody reads the system here.
    reset(&c, &bmc, 0, "On").await;
    assert_eq!(next(&mut rx).await, ev("PoweringOn", 0));
    assert_eq!(next(&mut rx).await, ev("On", 1));

    // Restarts pass through Off and come back On.
    reset(&c, &bmc, 0, "ForceRestart").await;
    assert_eq!(next(&mut rx).await, ev("Off", 1));
    assert_eq!(next(&mut rx).await, ev("On", 2));
    // A restart with no visible Off (no delay) still counts.
    bmc.set_power_delay(Duration::ZERO);
    reset(&c, &bmc, 0, "PowerCycle").await;
    assert_eq!(next(&mut rx).await, ev("On", 3));
    bmc.set_power_delay(Duration::from_millis(200));
    // A graceful restart goes through PoweringOff and Off and lands On again.
    reset(&c, &bmc, 0, "GracefulRestart").await;
    assert_eq!(next(&mut rx).await, ev("PoweringOff", 3));
    assert_eq!(next(&mut rx).await, ev("Off", 3));
    assert_eq!(next(&mut rx).await, ev("On", 4));
    // ...unless the OS ignores it.
    bmc.set_ignore_graceful(true);
    reset(&c, &bmc, 0, "GracefulRestart").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!rx.has_changed().unwrap());
    bmc.set_ignore_graceful(false);

    // The test-facing setter is published too; a second watcher starts from the present.
    bmc.set_power_state(0, "Off");
    assert_eq!(next(&mut rx).await, ev("Off", 4));
    let mut late = bmc.power_events(0);
    assert_eq!(*late.borrow_and_update(), ev("Off", 4));
    bmc.set_power_state(0, "On");
    assert_eq!(next(&mut rx).await, ev("On", 5));
    assert_eq!(next(&mut late).await, ev("On", 5));

    // A watcher that looks only now and then misses the states in between, never the count.
    reset(&c, &bmc, 0, "ForceOff").await;
    reset(&c, &bmc, 0, "On").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(*rx.borrow_and_update(), ev("On", 6));
    bmc.shutdown().await;
}

#[tokio::test]
async fn ignore_graceful_keeps_the_host_up() {
    let bmc = start(SimConfig {
        initial_power: "On".into(),
        ..SimConfig::default()
    })
    .await;
    let c = client();
    bmc.set_ignore_graceful(true);
    for t in ["GracefulShutdown", "GracefulRestart"] {
        let (s, _) = reset(&c, &bmc, 0, t).await;
        assert_eq!(s, 204);
        assert_eq!(bmc.power_state(0), "On");
    }
    let (s, _) = reset(&c, &bmc, 0, "ForceOff").await;
    assert_eq!(s, 204);
    assert_eq!(bmc.power_state(0), "Off");
    bmc.set_ignore_graceful(false);
    reset(&c, &bmc, 0, "On").await;
    reset(&c, &bmc, 0, "GracefulShutdown").await;
    assert_eq!(bmc.power_state(0), "Off");
    assert_eq!(bmc.counters().resets, 5);
    bmc.shutdown().await;
}

#[tokio::test]
async fn action_info_mode() {
    let cfg = SimConfig {
        action_info: true,
        reset_types: vec!["On".into(), "ForceOff".into(), "Nmi".into()],
        ..SimConfig::default()
    };
    let bmc = start(cfg).await;
    let c = client();
    let (_, sys) = get(&c, &bmc, &bmc.system_paths()[0]).await;
    let action = &sys["Actions"]["#ComputerSystem.Reset"];
    assert!(action.get("ResetType@Redfish.AllowableValues").is_none());
    let info_path = action["@Redfish.ActionInfo"].as_str().unwrap();
    assert_eq!(info_path, "/redfish/v1/Systems/Node0/ResetActionInfo");
    let (s, info) = get(&c, &bmc, info_path).await;
    assert_eq!(s, 200);
    let p = &info["Parameters"][0];
    assert_eq!(p["Name"], "ResetType");
    assert_eq!(p["Required"], true);
    assert_eq!(p["DataType"], "String");
    assert_eq!(p["AllowableValues"], json!(["On", "ForceOff", "Nmi"]));
    let (s, _) = reset(&c, &bmc, 0, "Nmi").await;
    assert_eq!(s, 204);
    assert_eq!(bmc.power_state(0), "Off");
    bmc.shutdown().await;
}
