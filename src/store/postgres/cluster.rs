//! What replicas on one database share beyond the records: the keys every replica must
//! agree on (artifact tokens, logins), kept in the database sealed under `seal.key`; the
//! operator lock (a session advisory lock on a connection of its own) and the replicas'
//! heartbeats; and the messages between replicas (`NOTIFY rackboot`). The election and the
//! bus that use them are `crate::cluster`'s.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgListener};

use super::{PostgresStore, backend};
use crate::cluster::{ClusterBackend, LeaderSession, ReplicaInfo, ReplicaRow, Subscription};
use crate::store::{StoreError, StoreResult};

/// The advisory lock key the leader holds ("rackbtop" in ASCII).
pub(super) const OPERATOR_LOCK: i64 = 0x7261_636b_6274_6f70;

/// The notification channel replicas talk on.
const CHANNEL: &str = "rackboot";

/// Replicas silent this long are forgotten.
const FORGET_AFTER: &str = "1 hour";

fn epoch(t: chrono::DateTime<chrono::Utc>) -> f64 {
    t.timestamp_micros() as f64 / 1e6
}

fn from_epoch(secs: f64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros((secs * 1e6) as i64).unwrap_or_default()
}

/// The operator lock, held on its session until this is dropped.
struct PgLeaderSession {
    conn: PgConnection,
}

#[async_trait]
impl LeaderSession for PgLeaderSession {
    async fn confirm(&mut self, me: &ReplicaInfo, acts: bool) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO replicas (id, address, version, started, heartbeat, leader_since) VALUES ($1, $2, $3, to_timestamp($4), now(), CASE WHEN $5 THEN now() END) \
             ON CONFLICT (id) DO UPDATE SET heartbeat = now(), address = EXCLUDED.address, leader_since = CASE WHEN $5 THEN COALESCE(replicas.leader_since, now()) END",
        )
        .bind(&me.id)
        .bind(&me.address)
        .bind(&me.version)
        .bind(epoch(me.started))
        .bind(acts)
        .execute(&mut self.conn)
        .await
        .map_err(backend("confirm the operator lock"))?;
        Ok(())
    }
}

struct PgSubscription {
    listener: PgListener,
}

#[async_trait]
impl Subscription for PgSubscription {
    async fn next(&mut self) -> StoreResult<Option<String>> {
        // `None`: the connection was lost; the next call reconnects and listens again.
        match self
            .listener
            .try_recv()
            .await
            .map_err(backend("receive the other replicas' messages"))?
        {
            Some(n) => Ok(Some(n.payload().to_string())),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl ClusterBackend for PostgresStore {
    async fn try_lead(&self, drop_after: Duration) -> StoreResult<Option<Box<dyn LeaderSession>>> {
        let mut slot = self.contender.lock().await;
        let mut conn = match slot.take() {
            Some(c) => c,
            None => {
                let mut c = PgConnection::connect_with(&self.pool.connect_options())
                    .await
                    .map_err(backend("connect for the operator lock"))?;
                // The server drops this session (and so the lock) once its peer has been
                // silent for `drop_after`, however the network failed.
                let idle = (drop_after.as_secs() / 2).max(1);
                let ms = drop_after.as_millis().max(1000);
                for set in [
                    format!("SET tcp_keepalives_idle = {idle}"),
                    "SET tcp_keepalives_interval = 1".to_string(),
                    format!(
                        "SET tcp_keepalives_count = {}",
                        (drop_after.as_secs() - idle).max(1)
                    ),
                    format!("SET tcp_user_timeout = {ms}"),
                ] {
                    sqlx::query(sqlx::AssertSqlSafe(set))
                        .execute(&mut c)
                        .await
                        .map_err(backend("set the operator lock's session timeouts"))?;
                }
                c
            }
        };
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(OPERATOR_LOCK)
            .fetch_one(&mut conn)
            .await
            .map_err(backend("take the operator lock"))?;
        if !got {
            *slot = Some(conn);
            return Ok(None);
        }
        // Whoever led before says so no longer.
        sqlx::query("UPDATE replicas SET leader_since = NULL WHERE leader_since IS NOT NULL")
            .execute(&mut conn)
            .await
            .map_err(backend("take the operator lock"))?;
        Ok(Some(Box::new(PgLeaderSession { conn })))
    }

    async fn heartbeat(&self, me: &ReplicaInfo) -> StoreResult<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(backend("record a heartbeat"))?;
        sqlx::query(
            "INSERT INTO replicas (id, address, version, started, heartbeat, leader_since) VALUES ($1, $2, $3, to_timestamp($4), now(), NULL) \
             ON CONFLICT (id) DO UPDATE SET heartbeat = now(), address = EXCLUDED.address, leader_since = NULL",
        )
        .bind(&me.id)
        .bind(&me.address)
        .bind(&me.version)
        .bind(epoch(me.started))
        .execute(&mut *tx)
        .await
        .map_err(backend("record a heartbeat"))?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM replicas WHERE heartbeat < now() - interval '{FORGET_AFTER}'"
        )))
        .execute(&mut *tx)
        .await
        .map_err(backend("record a heartbeat"))?;
        tx.commit().await.map_err(backend("record a heartbeat"))
    }

    async fn replicas(&self) -> StoreResult<Vec<ReplicaRow>> {
        use sqlx::Row;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, address, version, EXTRACT(EPOCH FROM started)::float8 AS started, \
             EXTRACT(EPOCH FROM heartbeat)::float8 AS heartbeat, \
             EXTRACT(EPOCH FROM leader_since)::float8 AS leader_since, \
             EXTRACT(EPOCH FROM (now() - heartbeat))::float8 AS age \
             FROM replicas WHERE heartbeat >= now() - interval '{FORGET_AFTER}' ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(backend("list the replicas"))?;
        let read = |r: &sqlx::postgres::PgRow| -> Result<ReplicaRow, sqlx::Error> {
            Ok(ReplicaRow {
                id: r.try_get("id")?,
                address: r.try_get("address")?,
                version: r.try_get("version")?,
                started: from_epoch(r.try_get("started")?),
                last_heartbeat: from_epoch(r.try_get("heartbeat")?),
                heartbeat_age_secs: r.try_get("age")?,
                leader_since: r.try_get::<Option<f64>, _>("leader_since")?.map(from_epoch),
            })
        };
        rows.iter()
            .map(|r| read(r).map_err(backend("list the replicas")))
            .collect()
    }

    async fn publish(&self, payload: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await
            .map_err(backend("notify the other replicas"))?;
        Ok(())
    }

    async fn listen(&self) -> StoreResult<Box<dyn Subscription>> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(backend("listen to the other replicas"))?;
        listener
            .listen(CHANNEL)
            .await
            .map_err(backend("listen to the other replicas"))?;
        Ok(Box::new(PgSubscription { listener }))
    }
}

impl PostgresStore {
    /// The key named `name` that every replica uses: the one in the database when there is
    /// one, else `candidate` (this replica's), stored for the others. A key sealed under
    /// another `seal.key` is refused, naming the fix.
    pub async fn shared_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        sqlx::query(
            "INSERT INTO cluster_secrets (name, sealed) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(self.sealer.seal(&b64.encode(candidate)))
        .execute(&self.pool)
        .await
        .map_err(backend("store a shared key"))?;
        let sealed: String =
            sqlx::query_scalar("SELECT sealed FROM cluster_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await
                .map_err(backend("read a shared key"))?;
        let mismatch = || {
            StoreError::Sealed(format!(
                "the database's {name} is sealed under another seal.key than this replica's: every replica on one database needs the same seal.key (copy it from the data directory of the first replica, 0600)"
            ))
        };
        let plain = self.sealer.open(name, &sealed).map_err(|_| mismatch())?;
        b64.decode(plain).map_err(|_| mismatch())
    }
}
