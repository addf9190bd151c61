//! What appliances on one PostgreSQL database share: the store itself, one leader for the
//! operators ([`leader`]), the pokes and invalidations that cross replicas ([`bus`]), the
//! replicas' heartbeats behind `GET /apis/rackboot/v1/cluster` ([`status`]), and the keys
//! every replica signs and checks tokens with. With SQLite, the one appliance of a data
//! directory leads for good and none of the rest runs.

pub mod bus;
pub mod leader;
#[cfg(test)]
pub(crate) mod memory;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::store::StoreResult;

pub use leader::{Leadership, LeaseTimings};

/// Who this replica is, as the others see it in the replicas table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaInfo {
    /// Unique per process start.
    pub id: String,
    /// Where admins reach it (its advertise URL).
    pub address: String,
    pub version: String,
    pub started: DateTime<Utc>,
}

impl ReplicaInfo {
    /// This process: a fresh id (host name and a random suffix), the advertise URL.
    pub fn this_process(address: &str) -> ReplicaInfo {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "replica".into());
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        ReplicaInfo {
            id: format!("{host}-{}", &suffix[..8]),
            address: address.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            started: Utc::now(),
        }
    }
}

/// One replica as the database last heard of it (times are the database's clock).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaRow {
    pub id: String,
    pub address: String,
    pub version: String,
    pub started: DateTime<Utc>,
    pub last_heartbeat: DateTime<Utc>,
    /// Seconds since its last heartbeat, by the database's clock.
    pub heartbeat_age_secs: f64,
    /// Since when it has held the operator lock, as it last said.
    pub leader_since: Option<DateTime<Utc>>,
}

/// The database side of several replicas (PostgreSQL): the operator lock, heartbeats, and
/// messages between replicas. A small trait so the election and the bus are tested on an
/// in-memory implementation and run on [`crate::store::PostgresStore`].
#[async_trait]
pub trait ClusterBackend: Send + Sync + 'static {
    /// Try to take the operator lock on a session of its own, telling the server to drop
    /// that session after `drop_after` of silence: `None` while another replica holds it.
    async fn try_lead(&self, drop_after: Duration) -> StoreResult<Option<Box<dyn LeaderSession>>>;
    /// Record this replica as running, not leading; forget replicas silent for an hour.
    async fn heartbeat(&self, me: &ReplicaInfo) -> StoreResult<()>;
    /// Every replica heard of in the last hour.
    async fn replicas(&self) -> StoreResult<Vec<ReplicaRow>>;
    /// Send a message to every replica listening (this one included).
    async fn publish(&self, payload: &str) -> StoreResult<()>;
    /// Start listening for messages.
    async fn listen(&self) -> StoreResult<Box<dyn Subscription>>;
}

/// The operator lock, held while this lives.
#[async_trait]
pub trait LeaderSession: Send {
    /// One round trip on the lock's own session, recording this replica's heartbeat (as
    /// the leader's once it `acts`; before, it is still waiting out the previous leader's
    /// lease): `Ok` proves the lock is still held.
    async fn confirm(&mut self, me: &ReplicaInfo, acts: bool) -> StoreResult<()>;
}

/// Messages from [`ClusterBackend::publish`].
#[async_trait]
pub trait Subscription: Send {
    /// The next message; `Ok(None)` when the connection was lost and re-made, so messages
    /// may have been missed (the caller treats everything as changed).
    async fn next(&mut self) -> StoreResult<Option<String>>;
}

/// The keys replicas on one database must agree on.
#[derive(Clone)]
pub struct SharedKeys {
    /// Signs artifact tokens.
    pub artifact: Arc<[u8]>,
    /// Signs `cray auth login` tokens.
    pub jwt: [u8; 32],
}

/// The PostgreSQL store and the shared keys (this data directory's key files offered as
/// the first, or the database's taken).
pub(crate) async fn open_postgres(
    config: &Config,
    url: &str,
) -> anyhow::Result<(crate::store::PostgresStore, SharedKeys)> {
    let shown = crate::store::postgres::redacted(url);
    let key = crate::security::keyfile::load_or_create::<{ crate::security::seal::KEY_LEN }>(
        &config.data_dir.join("seal.key"),
    )?;
    let store = crate::store::PostgresStore::open(
        &crate::store::postgres::PgSettings::new(url),
        crate::security::seal::Sealer::new(&key),
        Duration::from_secs(30),
    )
    .await
    .with_context(|| format!("cannot open the store at {shown}"))?;
    let artifact = store
        .shared_secret(
            "artifact-token-key",
            &crate::artifacts::token_key::load_or_create(&config.data_dir)?,
        )
        .await?;
    let jwt_local =
        crate::security::keyfile::load_or_create::<32>(&config.data_dir.join("jwt.key"))?;
    let jwt: [u8; 32] = store
        .shared_secret("jwt-key", &jwt_local)
        .await?
        .try_into()
        .map_err(|_| anyhow::anyhow!("the database's jwt-key is not 32 bytes"))?;
    tracing::info!(store = %shown, "store: PostgreSQL (replicas elect one operator leader)");
    Ok((
        store,
        SharedKeys {
            artifact: artifact.into(),
            jwt,
        },
    ))
}

/// A starting appliance's place among replicas: what the use cases are built with, and
/// what [`Replica::start`] runs.
pub(crate) struct Replica {
    pub membership: status::Membership,
    pub bus: bus::Bus,
    outbox: Option<bus::Outbox>,
}

impl Replica {
    /// With a cluster backend, a follower until elected; without, the one appliance.
    pub(crate) fn new(config: &Config, backend: Option<Arc<dyn ClusterBackend>>) -> Replica {
        let Some(backend) = backend else {
            return Replica {
                membership: status::Membership::single(&config.advertise_url),
                bus: bus::Bus::default(),
                outbox: None,
            };
        };
        let leadership = Leadership::standby();
        let (bus, outbox) = bus::Bus::new(leadership.clone());
        Replica {
            membership: status::Membership {
                me: ReplicaInfo::this_process(&config.advertise_url),
                leadership,
                timings: LeaseTimings::from_lease(config.leader_lease),
                backend: Some(backend),
            },
            bus,
            outbox: Some(outbox),
        }
    }

    /// Relay `app`'s pokes, run the election (until `release`), the bus and the metrics
    /// (until `stop`). Nothing runs for the one appliance of a SQLite data directory.
    pub(crate) fn start(
        self,
        app: &Arc<crate::app::App>,
        stop: &crate::shutdown::Stop,
        release: &crate::shutdown::Stop,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let (Some(outbox), Some(backend)) = (self.outbox, self.membership.backend.clone()) else {
            return Vec::new();
        };
        let m = self.membership;
        let named: Vec<_> = app
            .pokes()
            .named()
            .into_iter()
            .chain(app.bos_pokes().named())
            .collect();
        self.bus.relay(&named);
        let receivers = bus::Receivers {
            pokes: named.into_iter().collect(),
            changed: Box::new({
                let app = app.clone();
                move |t| app.changed_elsewhere(t)
            }),
            event: Box::new({
                let app = app.clone();
                move |n, e| app.record_boot_event_elsewhere(n, e)
            }),
            sample: Box::new({
                let cache = app.power_cache();
                move |s| cache.put_here(s)
            }),
        };
        app.power_cache().relay_to({
            let bus = self.bus.clone();
            move |s| bus.sample(s)
        });
        tracing::info!(replica = %m.me.id, lease_secs = m.timings.lease.as_secs_f64(), "replica: following until elected");
        vec![
            tokio::spawn(leader::run_election(
                backend.clone(),
                m.me.clone(),
                m.leadership.clone(),
                m.timings,
                release.clone(),
            )),
            tokio::spawn(bus::send_loop(
                outbox,
                backend.clone(),
                m.me.clone(),
                stop.clone(),
            )),
            tokio::spawn(bus::receive_loop(
                backend,
                m.me.clone(),
                receivers,
                m.timings.beat,
                stop.clone(),
            )),
            tokio::spawn(m.publish_metrics(Duration::from_secs(5), stop.clone())),
        ]
    }
}

/// Run `task` while this replica leads: started when it becomes the leader, stopped when
/// it is deposed, until `stop` (for work only the leader does that is not an operator,
/// such as following BMC event streams).
pub async fn while_leading<F, Fut>(leadership: Leadership, stop: crate::shutdown::Stop, task: F)
where
    F: Fn(crate::shutdown::Stop) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        tokio::select! {
            _ = leadership.until_leading() => {}
            _ = stop.cancelled() => return,
        }
        let term = stop.child_token();
        let run = task(term.clone());
        tokio::pin!(run);
        tokio::select! {
            _ = &mut run => return,
            _ = leadership.until_deposed() => {
                term.cancel();
                run.await;
            }
        }
    }
}
