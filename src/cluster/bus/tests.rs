//! The bus between two replicas on the in-memory backend: a follower's pokes reach the
//! leader's operators, invalidations and boot events reach every other replica, a lost
//! connection makes everything stale, and batches stay under PostgreSQL's payload cap.

use std::sync::Mutex;

use chrono::Utc;

use super::*;
use crate::cluster::memory::MemoryCluster;

fn me(id: &str) -> ReplicaInfo {
    ReplicaInfo {
        id: id.into(),
        address: String::new(),
        version: "test".into(),
        started: Utc::now(),
    }
}

fn event(what: &str) -> BootEvent {
    BootEvent {
        time: Utc::now(),
        what: what.into(),
        bytes: 1 << 20,
        duration_ms: 12,
        client: Some("10.0.0.7".into()),
        outcome: "complete".into(),
        token: Some("t".repeat(43)),
        file: None,
        repeats: 0,
        last_time: None,
    }
}

fn sample(node: &Xname) -> PowerSample {
    PowerSample {
        xname: node.clone(),
        state: crate::model::power::PowerState::On,
        available: true,
        error: None,
        supported: Vec::new(),
        updated: Utc::now(),
    }
}

/// A replica's side: its activator, what it was told.
struct Side {
    poked: Activator,
    changed: Arc<Mutex<Vec<Topic>>>,
    events: Arc<Mutex<Vec<(Xname, BootEvent)>>>,
    samples: Arc<Mutex<Vec<PowerSample>>>,
    bus: Bus,
}

async fn side(cluster: &MemoryCluster, id: &str, leadership: Leadership, stop: &Stop) -> Side {
    let (bus, outbox) = Bus::new(leadership);
    let poked = Activator::default();
    bus.relay(&[("bos.setup", poked.clone())]);
    let changed = Arc::new(Mutex::new(Vec::new()));
    let events = Arc::new(Mutex::new(Vec::new()));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let backend: Arc<dyn ClusterBackend> = Arc::new(cluster.clone());
    let receivers = Receivers {
        pokes: HashMap::from([("bos.setup", poked.clone())]),
        changed: Box::new({
            let c = changed.clone();
            move |t| c.lock().unwrap().push(t)
        }),
        event: Box::new({
            let e = events.clone();
            move |n, ev| e.lock().unwrap().push((n.clone(), ev))
        }),
        sample: Box::new({
            let p = samples.clone();
            move |s| p.lock().unwrap().push(s)
        }),
    };
    tokio::spawn(send_loop(outbox, backend.clone(), me(id), stop.clone()));
    tokio::spawn(receive_loop(
        backend,
        me(id),
        receivers,
        Duration::from_millis(50),
        stop.clone(),
    ));
    Side {
        poked,
        changed,
        events,
        samples,
        bus,
    }
}

async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(3), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within 3 s"))
}

async fn eventually(what: &str, check: impl Fn() -> bool) {
    within(what, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

#[tokio::test]
async fn a_followers_writes_reach_the_leader_and_the_leaders_pokes_stay_home() {
    let cluster = MemoryCluster::default();
    let stop = Stop::new();
    let leader = side(&cluster, "leader", Leadership::always(), &stop).await;
    let follower = side(&cluster, "follower", Leadership::standby(), &stop).await;
    // Both listeners start by treating everything as stale.
    eventually("first listen", || {
        leader.changed.lock().unwrap().len() == 3 && follower.changed.lock().unwrap().len() == 3
    })
    .await;
    within("the start-up pokes", leader.poked.poked()).await;
    within("the start-up pokes", follower.poked.poked()).await;
    leader.changed.lock().unwrap().clear();
    follower.changed.lock().unwrap().clear();

    // A poke on the follower wakes the leader's operator.
    follower.poked.poke();
    within("the relayed poke", leader.poked.poked()).await;
    within("the local poke", follower.poked.poked()).await;

    // An invalidation and a boot event on the follower reach the leader, not itself.
    let node = Xname::parse("x3000c0s1b0n0").unwrap();
    follower.bus.changed(Topic::Boot);
    follower.bus.event(&node, &event("initrd"));
    eventually("the invalidation", || {
        *leader.changed.lock().unwrap() == vec![Topic::Boot]
    })
    .await;
    eventually("the event", || leader.events.lock().unwrap().len() == 1).await;
    assert_eq!(leader.events.lock().unwrap()[0].0, node);
    assert_eq!(leader.events.lock().unwrap()[0].1.what, "initrd");

    // The leader's own pokes are not relayed (its operators are the ones that run), but its
    // invalidations are.
    leader.poked.poke();
    within("the leader's own poke", leader.poked.poked()).await;
    leader.bus.changed(Topic::Identity);
    eventually("the leader's invalidation", || {
        *follower.changed.lock().unwrap() == vec![Topic::Identity]
    })
    .await;
    assert!(
        tokio::time::timeout(Duration::from_millis(100), follower.poked.poked())
            .await
            .is_err(),
        "a leader's poke reached a follower"
    );
    assert!(follower.events.lock().unwrap().is_empty());
    // The leader's power samples reach the follower; a follower's are not relayed.
    let taken = sample(&node);
    follower.bus.sample(&taken);
    leader.bus.sample(&taken);
    eventually("the sample", || follower.samples.lock().unwrap().len() == 1).await;
    assert_eq!(follower.samples.lock().unwrap()[0], taken);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(leader.samples.lock().unwrap().is_empty());
    stop.cancel();
}

#[tokio::test]
async fn a_lost_connection_makes_everything_stale() {
    let cluster = MemoryCluster::default();
    let stop = Stop::new();
    let a = side(&cluster, "a", Leadership::always(), &stop).await;
    eventually("first listen", || a.changed.lock().unwrap().len() == 3).await;
    a.changed.lock().unwrap().clear();
    cluster.drop_listeners();
    // The drop is seen at the next message, whoever sends it.
    cluster.publish(r#"{"from":"other"}"#).await.unwrap();
    eventually("the reconnect", || {
        *a.changed.lock().unwrap() == vec![Topic::Boot, Topic::Identity, Topic::CfsOptions]
    })
    .await;
    stop.cancel();
}

#[test]
fn batches_stay_under_the_payload_cap_and_lose_nothing() {
    let node = Xname::parse("x3000c0s1b0n0").unwrap();
    let mut queued = vec![Outgoing::Poke("bos.status"), Outgoing::Changed(Topic::Boot)];
    for i in 0..200 {
        queued.push(Outgoing::Event(node.clone(), event(&format!("initrd-{i}"))));
        queued.push(Outgoing::Sample(sample(&node)));
    }
    queued.push(Outgoing::Poke("bos.status"));
    let payloads = batch("me", queued);
    assert!(payloads.len() > 1, "200 events need several payloads");
    let (mut events, mut samples, mut pokes) = (0, 0, 0);
    for p in &payloads {
        assert!(p.len() <= MAX_PAYLOAD, "{} bytes", p.len());
        let m: Message = serde_json::from_str(p).unwrap();
        assert_eq!(m.from, "me");
        events += m.events.len();
        samples += m.samples.len();
        pokes += m.pokes.len();
    }
    assert_eq!(events, 200);
    assert_eq!(samples, 200);
    assert_eq!(pokes, 1, "pokes are deduplicated into the first payload");
    assert!(batch("me", Vec::new()).is_empty());
}
