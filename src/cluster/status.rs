//! Who runs and who leads, for `GET /apis/rackboot/v1/cluster`, `rackboot cluster status`
//! and the `rackboot_cluster_*` metrics: the replicas table read through the backend (the
//! database's clock for every age), or, with SQLite, this appliance alone.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{ClusterBackend, Leadership, LeaseTimings, ReplicaInfo, ReplicaRow};
use crate::shutdown::Stop;
use crate::store::StoreResult;

/// This replica's place in the cluster: who it is, whether it leads, where the others are.
#[derive(Clone)]
pub struct Membership {
    pub me: ReplicaInfo,
    pub leadership: Leadership,
    pub timings: LeaseTimings,
    /// `None`: SQLite, one appliance.
    pub backend: Option<Arc<dyn ClusterBackend>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterView {
    /// `sqlite` (one appliance) or `postgresql` (replicas).
    pub store: &'static str,
    pub this_replica: String,
    /// The replica running the operators, if one is alive and says so.
    pub leader: Option<String>,
    pub lease_secs: f64,
    pub replicas: Vec<ReplicaView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaView {
    pub id: String,
    pub address: String,
    pub version: String,
    pub started: DateTime<Utc>,
    pub last_heartbeat: DateTime<Utc>,
    pub heartbeat_age_secs: f64,
    /// Heard from within the lease.
    pub alive: bool,
    pub leader: bool,
    pub leader_since: Option<DateTime<Utc>>,
    /// How long it has held the operator lock.
    pub lock_age_secs: Option<f64>,
    /// The replica that answered.
    pub this: bool,
}

/// The view from the replicas' rows (pure): alive within the lease, the leader the alive
/// replica that says it leads (the latest to take the lock, should two rows say so).
pub fn view(
    store: &'static str,
    me: &str,
    rows: Vec<ReplicaRow>,
    timings: LeaseTimings,
    now: DateTime<Utc>,
) -> ClusterView {
    let lease = timings.lease.as_secs_f64();
    let alive = |r: &ReplicaRow| r.heartbeat_age_secs <= lease;
    let leader = rows
        .iter()
        .filter(|r| alive(r) && r.leader_since.is_some())
        .max_by_key(|r| r.leader_since)
        .map(|r| r.id.clone());
    let mut replicas: Vec<ReplicaView> = rows
        .into_iter()
        .map(|r| ReplicaView {
            alive: alive(&r),
            leader: leader.as_deref() == Some(r.id.as_str()),
            lock_age_secs: r
                .leader_since
                .filter(|_| leader.as_deref() == Some(r.id.as_str()))
                .map(|s| (now - s).as_seconds_f64().max(0.0)),
            this: r.id == me,
            id: r.id,
            address: r.address,
            version: r.version,
            started: r.started,
            last_heartbeat: r.last_heartbeat,
            heartbeat_age_secs: r.heartbeat_age_secs,
            leader_since: r.leader_since,
        })
        .collect();
    replicas.sort_by(|a, b| (!a.alive, &a.id).cmp(&(!b.alive, &b.id)));
    ClusterView {
        store,
        this_replica: me.to_string(),
        leader,
        lease_secs: lease,
        replicas,
    }
}

impl Membership {
    /// The one appliance of a SQLite data directory: it leads for good.
    pub fn single(address: &str) -> Membership {
        Membership {
            me: ReplicaInfo::this_process(address),
            leadership: Leadership::always(),
            timings: LeaseTimings::from_lease(Duration::from_secs(10)),
            backend: None,
        }
    }

    pub async fn status(&self) -> StoreResult<ClusterView> {
        let now = Utc::now();
        match &self.backend {
            None => {
                let row = ReplicaRow {
                    id: self.me.id.clone(),
                    address: self.me.address.clone(),
                    version: self.me.version.clone(),
                    started: self.me.started,
                    last_heartbeat: now,
                    heartbeat_age_secs: 0.0,
                    leader_since: self.leadership.since(),
                };
                Ok(view("sqlite", &self.me.id, vec![row], self.timings, now))
            }
            Some(b) => Ok(view(
                "postgresql",
                &self.me.id,
                b.replicas().await?,
                self.timings,
                now,
            )),
        }
    }

    /// Keep the `rackboot_cluster_*` gauges current until `stop`.
    pub async fn publish_metrics(self, every: Duration, stop: Stop) {
        loop {
            if let Ok(v) = self.status().await {
                let alive = v.replicas.iter().filter(|r| r.alive).count();
                metrics::gauge!("rackboot_cluster_replicas_alive").set(alive as f64);
                metrics::gauge!("rackboot_cluster_replicas_known").set(v.replicas.len() as f64);
                metrics::gauge!("rackboot_cluster_has_leader").set(if v.leader.is_some() {
                    1.0
                } else {
                    0.0
                });
                if let Some(r) = v.replicas.iter().find(|r| r.leader) {
                    metrics::gauge!("rackboot_cluster_leader_lock_age_seconds")
                        .set(r.lock_age_secs.unwrap_or(0.0));
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.cancelled() => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, age: f64, leader_since: Option<DateTime<Utc>>) -> ReplicaRow {
        let now = Utc::now();
        ReplicaRow {
            id: id.into(),
            address: format!("https://{id}:8443"),
            version: "0.1.0".into(),
            started: now,
            last_heartbeat: now,
            heartbeat_age_secs: age,
            leader_since,
        }
    }

    #[test]
    fn the_leader_is_the_alive_replica_that_says_it_leads() {
        let now = Utc::now();
        let t = LeaseTimings::from_lease(Duration::from_secs(10));
        let long_ago = now - chrono::Duration::seconds(600);
        let rows = vec![
            row("b", 0.5, Some(now - chrono::Duration::seconds(30))),
            // Died while leading: its row still says so, but it is silent.
            row("a", 45.0, Some(long_ago)),
            row("c", 1.0, None),
        ];
        let v = view("postgresql", "c", rows, t, now);
        assert_eq!(v.leader.as_deref(), Some("b"));
        let ids: Vec<_> = v.replicas.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["b", "c", "a"], "alive first");
        assert!(v.replicas[0].leader && !v.replicas[2].leader);
        assert!(!v.replicas[2].alive && v.replicas[2].lock_age_secs.is_none());
        let age = v.replicas[0].lock_age_secs.unwrap();
        assert!((29.0..31.0).contains(&age), "{age}");
        assert!(v.replicas[1].this);
    }

    #[test]
    fn no_leader_when_none_alive_says_so() {
        let now = Utc::now();
        let t = LeaseTimings::from_lease(Duration::from_secs(10));
        let v = view("postgresql", "a", vec![row("a", 1.0, None)], t, now);
        assert_eq!(v.leader, None);
    }
}
