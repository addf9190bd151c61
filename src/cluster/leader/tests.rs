//! The election on the in-memory backend with real (short) timings: one leader at a time,
//! a new one only after the old one's lease ran out, and failover when the leader's
//! session is cut or the leader stops.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::cluster::memory::MemoryCluster;

fn timings() -> LeaseTimings {
    LeaseTimings::from_lease(Duration::from_millis(1000))
}

struct Replica {
    leadership: Leadership,
    stop: Stop,
    task: tokio::task::JoinHandle<()>,
}

fn replica(cluster: &MemoryCluster, name: &str) -> Replica {
    let leadership = Leadership::standby();
    let stop = Stop::new();
    let me = ReplicaInfo {
        id: name.into(),
        address: format!("https://{name}"),
        version: "test".into(),
        started: Utc::now(),
    };
    let task = tokio::spawn(run_election(
        Arc::new(cluster.clone()),
        me,
        leadership.clone(),
        timings(),
        stop.clone(),
    ));
    Replica {
        leadership,
        stop,
        task,
    }
}

async fn leader_within(rs: &[&Replica], within: Duration) -> usize {
    let t0 = Instant::now();
    loop {
        let leading: Vec<usize> = (0..rs.len())
            .filter(|i| rs[*i].leadership.may_act())
            .collect();
        assert!(leading.len() <= 1, "two replicas may act at once");
        if let [one] = leading[..] {
            return one;
        }
        assert!(t0.elapsed() <= within, "no leader within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn the_timings_follow_the_lease() {
    let t = LeaseTimings::from_lease(Duration::from_secs(10));
    assert_eq!(t.hold, Duration::from_secs(3));
    assert_eq!(t.beat, Duration::from_secs(1));
    assert_eq!(t.server_drop_after(), Duration::from_secs(5));
}

#[test]
fn the_single_appliance_always_leads() {
    let l = Leadership::always();
    assert!(l.may_act() && l.leading());
    assert_eq!(l.terms(), 1);
    assert!(!Leadership::standby().may_act());
}

#[tokio::test]
async fn one_replica_leads_and_only_after_waiting_out_the_hold() {
    let cluster = MemoryCluster::default();
    let t0 = Instant::now();
    let a = replica(&cluster, "a");
    let b = replica(&cluster, "b");
    let first = leader_within(&[&a, &b], Duration::from_secs(3)).await;
    assert!(
        t0.elapsed() >= timings().hold,
        "a new leader waits out the hold"
    );
    // It stays the only leader while it confirms.
    for _ in 0..30 {
        assert_eq!(leader_within(&[&a, &b], Duration::ZERO).await, first);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rows = cluster.replicas().await.unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let leaders: Vec<_> = rows.iter().filter(|r| r.leader_since.is_some()).collect();
    assert_eq!(leaders.len(), 1, "{rows:?}");
    assert_eq!(leaders[0].id, ["a", "b"][first]);
}

#[tokio::test]
async fn a_cut_leader_stops_acting_before_the_next_one_starts() {
    let cluster = MemoryCluster::default();
    let a = replica(&cluster, "a");
    let b = replica(&cluster, "b");
    let rs = [&a, &b];
    let first = leader_within(&rs, Duration::from_secs(3)).await;
    cluster.cut_leader();
    let cut_at = Instant::now();
    // leader_within asserts at every step that the two never act at once.
    let next = loop {
        match leader_within(&rs, Duration::from_secs(3)).await {
            i if i != first => break i,
            _ => {
                assert!(cut_at.elapsed() < Duration::from_secs(3), "no failover");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    assert!(!rs[first].leadership.may_act());
    assert_eq!(rs[next].leadership.terms(), 1);
    let gap = cut_at.elapsed();
    assert!(gap <= timings().lease, "failover took {gap:?}");
}

#[tokio::test]
async fn a_stopped_leader_hands_over_and_a_deposed_one_contends_again() {
    let cluster = MemoryCluster::default();
    let a = replica(&cluster, "a");
    assert_eq!(leader_within(&[&a], Duration::from_secs(3)).await, 0);
    let b = replica(&cluster, "b");
    let a_leadership = a.leadership.clone();
    a.stop.cancel();
    a.task.await.unwrap();
    assert!(!a_leadership.leading(), "a stopped replica does not lead");
    assert_eq!(leader_within(&[&b], Duration::from_secs(3)).await, 0);
    assert!(!a_leadership.may_act());
    // Cut b: with no one else contending, b takes the lock again for a second term.
    cluster.cut_leader();
    b.leadership.until_deposed().await;
    b.leadership.until_leading().await;
    assert_eq!(b.leadership.terms(), 2);
    b.stop.cancel();
}
