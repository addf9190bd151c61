//! An in-memory [`ClusterBackend`]: one lock, heartbeats and a broadcast, shared by the
//! replicas of a test in one process, with a knife to cut the leader's session. A real
//! implementation of the trait (the election and the bus run on it unchanged), not a
//! script of answers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use tokio::sync::broadcast;

use super::{ClusterBackend, LeaderSession, ReplicaInfo, ReplicaRow, Subscription};
use crate::store::{StoreError, StoreResult};

#[derive(Clone)]
pub struct MemoryCluster {
    state: Arc<Mutex<State>>,
    tx: broadcast::Sender<String>,
}

#[derive(Default)]
struct State {
    /// The session holding the lock.
    holder: Option<u64>,
    next_session: u64,
    /// Sessions the server has dropped.
    cut: Vec<u64>,
    replicas: BTreeMap<String, ReplicaRow>,
    /// Subscriptions to tell of a lost connection.
    lost: Vec<Arc<Mutex<bool>>>,
}

impl Default for MemoryCluster {
    fn default() -> Self {
        MemoryCluster {
            state: Arc::default(),
            tx: broadcast::channel(1024).0,
        }
    }
}

impl MemoryCluster {
    /// The server drops the leader's session (as when its connection is cut): the lock
    /// is free at once, and the old leader finds out at its next confirmation.
    pub fn cut_leader(&self) {
        let mut s = self.state.lock().unwrap();
        if let Some(h) = s.holder.take() {
            s.cut.push(h);
        }
    }

    /// Every listener's connection drops and is re-made (messages meanwhile are lost).
    pub fn drop_listeners(&self) {
        for l in &self.state.lock().unwrap().lost {
            *l.lock().unwrap() = true;
        }
    }

    fn gone() -> StoreError {
        StoreError::Unreachable {
            op: "confirm the operator lock",
            source: sqlx::Error::Protocol("the server closed the session".into()),
        }
    }

    fn record(&self, me: &ReplicaInfo, leading: bool) {
        let now = Utc::now();
        let mut s = self.state.lock().unwrap();
        let since = s
            .replicas
            .get(&me.id)
            .and_then(|r| r.leader_since)
            .filter(|_| leading)
            .or(leading.then_some(now));
        s.replicas.insert(
            me.id.clone(),
            ReplicaRow {
                id: me.id.clone(),
                address: me.address.clone(),
                version: me.version.clone(),
                started: me.started,
                last_heartbeat: now,
                heartbeat_age_secs: 0.0,
                leader_since: since,
            },
        );
    }
}

struct MemorySession {
    id: u64,
    cluster: MemoryCluster,
}

#[async_trait]
impl LeaderSession for MemorySession {
    async fn confirm(&mut self, me: &ReplicaInfo, acts: bool) -> StoreResult<()> {
        if self.cluster.state.lock().unwrap().cut.contains(&self.id) {
            return Err(MemoryCluster::gone());
        }
        self.cluster.record(me, acts);
        Ok(())
    }
}

impl Drop for MemorySession {
    fn drop(&mut self) {
        let mut s = self.cluster.state.lock().unwrap();
        if s.holder == Some(self.id) {
            s.holder = None;
        }
    }
}

struct MemorySubscription {
    rx: broadcast::Receiver<String>,
    lost: Arc<Mutex<bool>>,
}

#[async_trait]
impl Subscription for MemorySubscription {
    async fn next(&mut self) -> StoreResult<Option<String>> {
        if std::mem::take(&mut *self.lost.lock().unwrap()) {
            return Ok(None);
        }
        match self.rx.recv().await {
            Ok(m) => Ok(Some(m)),
            Err(broadcast::error::RecvError::Lagged(_)) => Ok(None),
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }
}

#[async_trait]
impl ClusterBackend for MemoryCluster {
    async fn try_lead(&self, _drop_after: Duration) -> StoreResult<Option<Box<dyn LeaderSession>>> {
        let mut s = self.state.lock().unwrap();
        if s.holder.is_some() {
            return Ok(None);
        }
        s.next_session += 1;
        let id = s.next_session;
        s.holder = Some(id);
        Ok(Some(Box::new(MemorySession {
            id,
            cluster: self.clone(),
        })))
    }

    async fn heartbeat(&self, me: &ReplicaInfo) -> StoreResult<()> {
        self.record(me, false);
        Ok(())
    }

    async fn replicas(&self) -> StoreResult<Vec<ReplicaRow>> {
        let now = Utc::now();
        Ok(self
            .state
            .lock()
            .unwrap()
            .replicas
            .values()
            .map(|r| ReplicaRow {
                heartbeat_age_secs: (now - r.last_heartbeat).as_seconds_f64(),
                ..r.clone()
            })
            .collect())
    }

    async fn publish(&self, payload: &str) -> StoreResult<()> {
        let _ = self.tx.send(payload.to_string());
        Ok(())
    }

    async fn listen(&self) -> StoreResult<Box<dyn Subscription>> {
        let lost = Arc::new(Mutex::new(false));
        self.state.lock().unwrap().lost.push(lost.clone());
        Ok(Box::new(MemorySubscription {
            rx: self.tx.subscribe(),
            lost,
        }))
    }
}
