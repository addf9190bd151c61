//! The shared store: a PostgreSQL database several rackboot replicas use at once.
//!
//! The same tables, keys and JSON documents as the SQLite store (`migrations/postgres/`
//! holds the same schema), so the two pass one conformance suite and the code that turns
//! rows into records is shared (`store::records`, the domain types' storage forms). What
//! differs is the SQL dialect (`$n` parameters, `jsonb_array_elements` for bulk writes,
//! `= ANY($1)` for id lists) and what several writers need: every multi-record write is a
//! transaction, compare-and-set is a conditional upsert on the generation column, and
//! migrations take an advisory lock so two replicas starting together apply each one once.
//! The pool reconnects by itself; a lost connection fails the calls made meanwhile with a
//! backend error naming the operation, and `ping` is what `/readyz` asks.

mod boot;
mod bos;
mod cfs;
mod cluster;
mod dhcp;
mod identity;
mod inventory;
mod power;
#[doc(hidden)]
pub mod testdb;
#[cfg(test)]
mod tests;

use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::{StoreError, StoreResult, Versioned};

pub(super) use crate::store::codec::{decode, encode, with_abort};

/// Embedded migrations, in order. Never edit one that has shipped; add a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../../migrations/postgres/0001_schema.sql"),
    ),
    (
        2,
        include_str!("../../../migrations/postgres/0002_cluster.sql"),
    ),
];

/// The advisory lock key migrations serialise on (any constant; "rackboot" in ASCII).
const MIGRATION_LOCK: i64 = 0x7261_636b_626f_6f74;

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Seals secrets (BMC passwords) in the documents it writes.
    sealer: crate::security::seal::Sealer,
    /// Where the database is, without its password (for messages).
    target: String,
    /// The connection a follower contends for the operator lock on, kept between tries.
    contender: std::sync::Arc<tokio::sync::Mutex<Option<sqlx::postgres::PgConnection>>>,
}

/// How to reach the database and how many connections to keep.
#[derive(Debug, Clone)]
pub struct PgSettings {
    pub url: String,
    pub max_connections: u32,
    /// How long a call waits for a free (or re-made) connection before it fails.
    pub acquire_timeout: Duration,
}

impl PgSettings {
    pub fn new(url: impl Into<String>) -> PgSettings {
        PgSettings {
            url: url.into(),
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

pub(super) fn backend(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| {
        if is_connection_failure(&source) {
            StoreError::Unreachable { op, source }
        } else {
            StoreError::Backend { op, source }
        }
    }
}

/// A failure to reach the server rather than of the statement: the socket (refused, reset,
/// TLS), the pool (no connection in time), or SQLSTATE class 08 (connection exception) and
/// 57P0x (the server shutting down).
fn is_connection_failure(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P0")),
        _ => false,
    }
}

/// `postgres://user@host:port/db` with any password left out: what messages may show.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "(an unparsable PostgreSQL URL)".to_string(),
    }
}

impl PostgresStore {
    /// Connect (retrying with backoff for up to `patience`: a database that starts with
    /// the appliance may not be up yet) and bring the schema up to date.
    pub async fn open(
        settings: &PgSettings,
        sealer: crate::security::seal::Sealer,
        patience: Duration,
    ) -> StoreResult<PostgresStore> {
        let opts = PgConnectOptions::from_str(&settings.url)
            .map_err(backend("parse the PostgreSQL URL"))?
            .application_name("rackboot");
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy_with(opts);
        let store = PostgresStore {
            pool,
            sealer,
            target: redacted(&settings.url),
            contender: Default::default(),
        };
        let started = std::time::Instant::now();
        let mut wait = Duration::from_millis(100);
        loop {
            match store.ping().await {
                Ok(()) => break,
                Err(e) if started.elapsed() + wait < patience => {
                    tracing::warn!(database = %store.target, error = %crate::errors::chain(&e), retry_in = ?wait, "cannot reach PostgreSQL yet");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e),
            }
        }
        store.migrate().await?;
        Ok(store)
    }

    /// Where the database is (no password).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The pool, for what lives beside the store (leadership, notifications).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend("reach the database"))?;
        Ok(())
    }

    /// The highest schema version applied.
    pub async fn schema_version(&self) -> StoreResult<i64> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&self.pool)
            .await
            .map_err(backend("read the schema version"))?;
        Ok(v.unwrap_or(0))
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(backend("migrate"))?;
        // One replica at a time; the others wait here and then find nothing left to do.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(backend("migrate"))?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(backend("migrate"))?;
        // Forward only: a newer schema is refused before anything is applied.
        let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&mut *tx)
            .await
            .map_err(backend("migrate"))?;
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if let Some(found) = found.filter(|&f| f > known) {
            return Err(StoreError::SchemaTooNew { found, known });
        }
        for (version, sql) in MIGRATIONS {
            if found.is_some_and(|f| f >= *version) {
                continue;
            }
            sqlx::raw_sql(*sql)
                .execute(&mut *tx)
                .await
                .map_err(|source| StoreError::Migration {
                    version: *version,
                    source,
                })?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(version)
                .bind(chrono::Utc::now().to_rfc3339())
                .execute(&mut *tx)
                .await
                .map_err(backend("migrate"))?;
        }
        tx.commit().await.map_err(backend("migrate"))
    }

    async fn keyed_doc<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &'static str,
        tenant: &str,
        name: &str,
    ) -> StoreResult<Option<T>> {
        let doc: Option<String> = sqlx::query_scalar(sql)
            .bind(tenant)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        doc.map(|d| decode(what, &d)).transpose()
    }

    /// Every row of a versioned table (`doc`, `gen`), optionally filtered, in id order.
    async fn versioned<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &'static str,
    ) -> StoreResult<Vec<Versioned<T>>> {
        let rows = sqlx::query(sql)
            .fetch_all(&self.pool)
            .await
            .map_err(backend(what))?;
        rows.iter()
            .map(|r| {
                Ok(Versioned {
                    value: decode(what, &r.get::<String, _>(0))?,
                    generation: r.get(1),
                })
            })
            .collect()
    }

    /// The rows of a versioned table with these ids (`sql` binds the ids as a `text[]`,
    /// `WHERE id = ANY($1)`), in id order.
    async fn versioned_by_ids<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &'static str,
        ids: &[String],
    ) -> StoreResult<Vec<Versioned<T>>> {
        let rows = sqlx::query(sql)
            .bind(ids)
            .fetch_all(&self.pool)
            .await
            .map_err(backend(what))?;
        rows.iter()
            .map(|r| {
                Ok(Versioned {
                    value: decode(what, &r.get::<String, _>(0))?,
                    generation: r.get(1),
                })
            })
            .collect()
    }

    /// Compare-and-set through `sql`, an upsert over a JSON array of `{gen, doc}` (bound as
    /// `$1::jsonb`) that writes only where the generation still matches and returns the
    /// ids it wrote. Returns the ids that were not written.
    async fn compare_and_set<T: Serialize>(
        &self,
        op: &'static str,
        sql: &'static str,
        items: &[Versioned<T>],
        id_of: impl Fn(&T) -> &str,
    ) -> StoreResult<Vec<String>> {
        let mut conflicts = Vec::new();
        for chunk in items.chunks(5000) {
            let docs: Vec<serde_json::Value> = chunk
                .iter()
                .map(|v| serde_json::json!({"gen": v.generation, "doc": v.value}))
                .collect();
            let written: Vec<String> = sqlx::query_scalar(sql)
                .bind(serde_json::Value::Array(docs).to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(backend(op))?;
            let written: std::collections::HashSet<String> = written.into_iter().collect();
            conflicts.extend(
                chunk
                    .iter()
                    .map(|v| id_of(&v.value))
                    .filter(|id| !written.contains(*id))
                    .map(String::from),
            );
        }
        Ok(conflicts)
    }

    async fn docs<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &'static str,
    ) -> StoreResult<Vec<T>> {
        let rows: Vec<String> = sqlx::query_scalar(sql)
            .fetch_all(&self.pool)
            .await
            .map_err(backend(what))?;
        rows.iter().map(|d| decode(what, d)).collect()
    }

    async fn doc<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &'static str,
        key: &str,
    ) -> StoreResult<Option<T>> {
        let row: Option<String> = sqlx::query_scalar(sql)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        row.map(|d| decode(what, &d)).transpose()
    }

    async fn delete_by_key(
        &self,
        what: &'static str,
        sql: &'static str,
        key: &str,
    ) -> StoreResult<bool> {
        let r = sqlx::query(sql)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(backend(what))?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_all(&self, what: &'static str, sql: &'static str) -> StoreResult<u64> {
        let r = sqlx::query(sql)
            .execute(&self.pool)
            .await
            .map_err(backend(what))?;
        Ok(r.rows_affected())
    }
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
