//! One test each for the inventory and power operators, calling `activate()` directly on a
//! temporary store with a SimBmc and a fixed clock (`testkit`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::power::{PowerContext, PowerTransitions};
use super::power_monitor::PowerMonitor;
use super::testkit::{BMC, Kit, wait_until};
use super::{
    Activator, Operator, OperatorError, OperatorResult, Registration, Reports, Schedule, spawn,
};
use crate::app::power::TransitionRequest;
use crate::clock::Clock;
use crate::model::Xname;
use crate::model::power::{PowerOperation, PowerState, TransitionStatus};
use crate::model::redfish_endpoint::discovery_status;
use crate::shutdown::Stop;
use crate::store::StoreError;

#[tokio::test]
async fn discovery_records_each_system_its_macs_and_reset_types() {
    // Kit::new runs the discovery operator once against the SimBmc.
    let kit = Kit::new(2).await;
    let ep = kit
        .store
        .get_redfish_endpoint(&Xname::parse(BMC).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ep.discovery_info.last_status, discovery_status::OK);
    assert_eq!(ep.discovery_info.last_attempt, Some(kit.clock.now()));
    assert_eq!(
        kit.nodes,
        vec![
            Xname::parse("x3000c0s1b0n0").unwrap(),
            Xname::parse("x3000c0s1b0n1").unwrap()
        ]
    );
    let ifaces = kit.store.list_ethernet_interfaces().await.unwrap();
    for (i, node) in kit.nodes.iter().enumerate() {
        let mac = &kit.bmc.macs(i)[0];
        let nic = ifaces
            .iter()
            .find(|n| n.mac.to_string().eq_ignore_ascii_case(mac))
            .unwrap_or_else(|| panic!("no interface for {mac}: {ifaces:?}"));
        assert_eq!(nic.component_id.as_ref(), Some(node));
        let ce = kit
            .store
            .get_component_endpoint(node)
            .await
            .unwrap()
            .unwrap();
        assert!(ce.reset_types.iter().any(|r| r == "ForceOff"), "{ce:?}");
    }
    let again = kit.discovery().activate().await.unwrap();
    assert_eq!(
        again["discovered"], 0,
        "discovery runs only when asked: {again}"
    );
}

#[tokio::test]
async fn the_power_monitor_samples_every_node_from_its_bmc() {
    let kit = Kit::new(2).await;
    kit.bmc.set_power_state(1, "On");
    let cache = kit.app.power_cache();
    let mut monitor = PowerMonitor {
        store: kit.store.clone(),
        driver: kit.driver.clone(),
        cache: cache.clone(),
        clock: Arc::new(kit.clock.clone()),
        period: chrono::Duration::seconds(30),
    };
    let report = monitor.activate().await.unwrap();
    assert_eq!(report["sampled"], 2, "{report}");
    assert_eq!(report["on"], 1);
    let on = cache.get(&kit.nodes[1]).unwrap();
    assert_eq!(on.state, PowerState::On);
    assert_eq!(on.updated, kit.clock.now());
    assert_eq!(cache.get(&kit.nodes[0]).unwrap().state, PowerState::Off);
    // A pass within half a period of those samples leaves the BMCs alone.
    let asked = kit.bmc.counters().requests;
    let again = monitor.activate().await.unwrap();
    assert_eq!(
        (again["sampled"].as_u64(), again["fresh"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(kit.bmc.counters().requests, asked);
    kit.clock.advance(chrono::Duration::seconds(16));
    let later = monitor.activate().await.unwrap();
    assert_eq!(later["sampled"], 2, "{later}");
}

#[tokio::test]
async fn a_power_transition_is_carried_out_and_confirmed() {
    let kit = Kit::new(2).await;
    let t = kit
        .app
        .request_transition(TransitionRequest {
            operation: PowerOperation::On,
            deadline_minutes: 1,
            deadline_seconds: None,
            xnames: vec![kit.nodes[0].to_string()],
            boot_target: Some("Pxe".into()),
        })
        .await
        .unwrap();
    let mut op = PowerTransitions::new(PowerContext {
        store: kit.store.clone(),
        driver: kit.driver.clone(),
        cache: kit.app.power_cache(),
        clock: Arc::new(kit.clock.clone()),
        confirm_interval: Duration::from_millis(20),
        flush_interval: Duration::from_millis(20),
        leadership: crate::cluster::Leadership::always(),
    });
    let report = op.activate().await.unwrap();
    assert_eq!(report["started"], 1, "{report}");
    let store = kit.store.clone();
    wait_until("the transition is done", || {
        let store = store.clone();
        async move {
            let (t, _) = store.get_transition(t.id).await.unwrap().unwrap();
            t.status.is_done()
        }
    })
    .await;
    let (done, tasks) = kit.store.get_transition(t.id).await.unwrap().unwrap();
    assert_eq!(tasks.len(), 1);
    assert!(tasks[0].error.is_none(), "{tasks:?}");
    assert_eq!(done.status, TransitionStatus::Completed);
    assert_eq!(kit.bmc.power_state(0), "On");
    assert_eq!(kit.bmc.power_state(1), "Off", "only the named node");
    assert_eq!(kit.bmc.boot_override(0).1, "Pxe");
}

struct Counting {
    runs: std::sync::Arc<std::sync::atomic::AtomicU32>,
    fail: bool,
}

#[async_trait]
impl Operator for Counting {
    async fn activate(&mut self) -> OperatorResult {
        let n = self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if self.fail {
            return Err(OperatorError::Store(StoreError::Conflict {
                what: "run".into(),
            }));
        }
        Ok(serde_json::json!({ "run": n }))
    }
}

/// The driver activates on a poke, records the report, turns an error into an error
/// report, and stops when asked.
#[tokio::test(start_paused = true)]
async fn driver_runs_on_pokes_reports_and_stops() {
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let reports = Reports::default();
    let stop = Stop::new();
    let poke = Activator::default();
    let ok = spawn(
        Registration::new(
            Schedule::every("ok", Duration::from_secs(3600)),
            Counting {
                runs: runs.clone(),
                fail: false,
            },
            &poke,
        ),
        reports.clone(),
        crate::cluster::Leadership::always(),
        stop.clone(),
    );
    let bad = spawn(
        Registration::new(
            Schedule::every("bad", Duration::from_secs(3600)),
            Counting {
                runs: std::sync::Arc::default(),
                fail: true,
            },
            &Activator::default(),
        ),
        reports.clone(),
        crate::cluster::Leadership::always(),
        stop.clone(),
    );
    // The first tick of an interval fires at once: one activation each.
    let settle = || tokio::time::sleep(Duration::from_millis(10));
    settle().await;
    poke.poke();
    settle().await;
    let all = reports.all();
    let ok_report = all.iter().find(|r| r.name == "ok").unwrap();
    assert_eq!(ok_report.activations, 2);
    assert_eq!(ok_report.last_report["run"], 1);
    let bad_report = all.iter().find(|r| r.name == "bad").unwrap();
    assert_eq!(bad_report.last_report["error"], "run already exists");
    stop.cancel();
    ok.await.unwrap();
    bad.await.unwrap();
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn bmc_events_keep_power_samples_current_without_polling() {
    use crate::operators::bmc_events::BmcEvents;
    let kit = Kit::new(2).await;
    let cache = kit.app.power_cache();
    let changed = Activator::default();
    let stop = Stop::new();
    let events = BmcEvents {
        store: kit.store.clone(),
        driver: kit.driver.clone(),
        cache: cache.clone(),
        clock: Arc::new(kit.clock.clone()),
        changed: changed.clone(),
        idle: Duration::from_secs(30),
        rescan: Duration::from_secs(3600),
        wake: Activator::default(),
        recheck: Duration::from_secs(3600),
        max_streams: 10,
    };
    let task = tokio::spawn(events.run(stop.clone()));
    let nodes = kit.nodes.clone();
    wait_until("both nodes are watched and read once", || {
        let (cache, nodes) = (cache.clone(), nodes.clone());
        async move {
            nodes
                .iter()
                .all(|x| cache.is_watched(x) && cache.get(x).is_some())
        }
    })
    .await;
    assert_eq!(cache.get(&kit.nodes[0]).unwrap().state, PowerState::Off);
    // A change at the BMC reaches the samples through its event, and pokes the status pass.
    kit.bmc.set_power_state(0, "On");
    wait_until("the event updated node 0", || {
        let (cache, x) = (cache.clone(), kit.nodes[0].clone());
        async move { cache.get(&x).is_some_and(|s| s.state == PowerState::On) }
    })
    .await;
    tokio::time::timeout(Duration::from_secs(5), changed.poked())
        .await
        .expect("the status operator was poked");
    assert_eq!(cache.get(&kit.nodes[1]).unwrap().state, PowerState::Off);
    // The monitor leaves watched nodes to their events.
    let mut monitor = PowerMonitor {
        store: kit.store.clone(),
        driver: kit.driver.clone(),
        cache: cache.clone(),
        clock: Arc::new(kit.clock.clone()),
        period: chrono::Duration::seconds(30),
    };
    let report = monitor.activate().await.unwrap();
    assert_eq!(report["sampled"], 0, "{report}");
    stop.cancel();
    task.await.unwrap();
    assert!(
        !cache.is_watched(&kit.nodes[0]),
        "a closed stream is no longer watched"
    );
}

/// Operators run only on the replica that leads: a follower's pokes do nothing, and the
/// moment it is elected every operator activates at once (it resumes from the store).
#[tokio::test]
async fn operators_run_only_while_this_replica_leads() {
    use crate::cluster::memory::MemoryCluster;
    use crate::cluster::{Leadership, LeaseTimings, ReplicaInfo, leader};
    let cluster = MemoryCluster::default();
    // Someone else holds the lock first.
    let other = {
        use crate::cluster::ClusterBackend;
        cluster
            .try_lead(Duration::from_secs(1))
            .await
            .unwrap()
            .unwrap()
    };
    let leadership = Leadership::standby();
    let stop = Stop::new();
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let poke = Activator::default();
    let reports = Reports::default();
    let task = spawn(
        Registration::new(
            Schedule::every("follower", Duration::from_secs(3600)),
            Counting {
                runs: runs.clone(),
                fail: false,
            },
            &poke,
        ),
        reports.clone(),
        leadership.clone(),
        stop.clone(),
    );
    let election = tokio::spawn(leader::run_election(
        std::sync::Arc::new(cluster.clone()),
        ReplicaInfo {
            id: "me".into(),
            address: String::new(),
            version: "test".into(),
            started: chrono::Utc::now(),
        },
        leadership.clone(),
        LeaseTimings::from_lease(Duration::from_secs(1)),
        stop.clone(),
    ));
    poke.poke();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        runs.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a follower's operator ran"
    );
    drop(other);
    tokio::time::timeout(Duration::from_secs(3), leadership.until_leading())
        .await
        .expect("elected once the lock is free");
    let t0 = std::time::Instant::now();
    while runs.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "no activation on election"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.cancel();
    task.await.unwrap();
    election.await.unwrap();
    assert!(!leadership.leading(), "stopped: the lock is released");
}
