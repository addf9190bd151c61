//! The embedded store: one SQLite file in the data directory (WAL, foreign keys on).
//!
//! Records are JSON documents (`store::records` for BOS and CFS, the domain types'
//! storage form for the rest) with their keys as real columns, one file per table family
//! (each implements that family's trait); the helpers every family uses live here. The
//! schema is created by the embedded migrations in `migrations/sqlite/`, applied in order at
//! open time and recorded in `schema_migrations`, so an old data directory is upgraded in
//! place and a new one needs nothing installed.

mod boot;
mod bos;
mod cfs;
mod dhcp;
mod identity;
mod inventory;
mod power;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{StoreError, StoreResult, Versioned};

/// Embedded migrations, in order. Never edit one that has shipped; add a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../../migrations/sqlite/0001_inventory_and_boot.sql"),
    ),
    (2, include_str!("../../../migrations/sqlite/0002_power.sql")),
    (3, include_str!("../../../migrations/sqlite/0003_bos.sql")),
    (4, include_str!("../../../migrations/sqlite/0004_cfs.sql")),
    (5, include_str!("../../../migrations/sqlite/0005_dhcp.sql")),
    (
        6,
        include_str!("../../../migrations/sqlite/0006_cfs_options.sql"),
    ),
    (
        7,
        include_str!("../../../migrations/sqlite/0007_identity.sql"),
    ),
    (
        8,
        include_str!("../../../migrations/sqlite/0008_artifact_pins.sql"),
    ),
];

/// Connections to the database file.
const POOL_SIZE: u32 = 4;

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Seals secrets (BMC passwords) in the documents it writes.
    sealer: crate::security::seal::Sealer,
}

fn backend(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Backend { op, source }
}

use super::codec::{decode, encode, with_abort};

impl SqliteStore {
    /// Open (creating if needed) the database file and bring its schema up to date, with
    /// secrets sealed under `seal.key` beside it (made 0600 at first open). The file and
    /// its WAL companions are made 0600.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        let key_path = path.with_file_name("seal.key");
        let key = crate::security::keyfile::load_or_create::<{ crate::security::seal::KEY_LEN }>(
            &key_path,
        )
        .map_err(|e| StoreError::Sealed(e.to_string()))?;
        let sealer = crate::security::seal::Sealer::new(&key);
        let store = SqliteStore::open_sealed(path, sealer).await?;
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            crate::security::keyfile::private_file(Path::new(&p))
                .map_err(|e| StoreError::Sealed(e.to_string()))?;
        }
        Ok(store)
    }

    /// [`SqliteStore::open`] with a given sealing key.
    pub async fn open_sealed(
        path: &Path,
        sealer: crate::security::seal::Sealer,
    ) -> StoreResult<SqliteStore> {
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(backend("open"))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Sorts and temporary tables in memory, not in temp files: a file needs a
            // descriptor, and under a boot storm client sockets can take them all (seen at
            // 10,000 nodes: "unable to open database file" from large sorted reads).
            .pragma("temp_store", "memory");
        // For the same reason connections are kept for the store's life, rather than
        // closed when idle and reopened on demand.
        let pool = SqlitePoolOptions::new()
            .max_connections(POOL_SIZE)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await
            .map_err(backend("open"))?;
        let store = SqliteStore { pool, sealer };
        store.migrate().await?;
        // Open them all now, one after the other (several connections switching a new file
        // to WAL at once get "database is locked").
        let mut held = Vec::new();
        for _ in 0..POOL_SIZE {
            held.push(store.pool.acquire().await.map_err(backend("open"))?);
        }
        drop(held);
        Ok(store)
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
            .execute(&self.pool)
            .await
            .map_err(backend("migrate"))?;
        // Forward only: a newer schema is refused before anything is applied.
        let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&self.pool)
            .await
            .map_err(backend("migrate"))?;
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if let Some(found) = found.filter(|&f| f > known) {
            return Err(StoreError::SchemaTooNew { found, known });
        }
        for (version, sql) in MIGRATIONS {
            let mut tx = self.pool.begin().await.map_err(backend("migrate"))?;
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = ?")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend("migrate"))?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql(*sql)
                .execute(&mut *tx)
                .await
                .map_err(|source| StoreError::Migration {
                    version: *version,
                    source,
                })?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
                .bind(version)
                .bind(chrono::Utc::now().to_rfc3339())
                .execute(&mut *tx)
                .await
                .map_err(backend("migrate"))?;
            tx.commit().await.map_err(backend("migrate"))?;
        }
        Ok(())
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

    /// The rows of a versioned table with these ids (`sql` binds a JSON array of ids),
    /// in id order.
    async fn versioned_by_ids<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &'static str,
        ids: &[String],
        id_of: impl Fn(&T) -> &str,
    ) -> StoreResult<Vec<Versioned<T>>> {
        let mut out: Vec<Versioned<T>> = Vec::new();
        for chunk in ids.chunks(5000) {
            let rows = sqlx::query(sql)
                .bind(encode(&chunk))
                .fetch_all(&self.pool)
                .await
                .map_err(backend(what))?;
            for r in rows {
                out.push(Versioned {
                    value: decode(what, &r.get::<String, _>(0))?,
                    generation: r.get(1),
                });
            }
        }
        out.sort_by(|a, b| id_of(&a.value).cmp(id_of(&b.value)));
        Ok(out)
    }

    /// Compare-and-set through `sql`, an upsert over a JSON array of `{gen, doc}` that
    /// writes only where the generation still matches and returns the ids it wrote.
    /// Returns the ids that were not written.
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

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod upgrade_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Component, Xname};
    use crate::store::prelude::*;

    #[tokio::test]
    async fn sqlite_passes_the_store_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("rackboot.db"))
            .await
            .unwrap();
        crate::store::conformance::run_all(&store).await;
    }

    #[tokio::test]
    async fn reopening_keeps_records_and_does_not_reapply_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rackboot.db");
        {
            let s = SqliteStore::open(&path).await.unwrap();
            s.put_components(&[Component::new(Xname::parse("x1c0s0b0n0").unwrap())])
                .await
                .unwrap();
            s.pool.close().await;
        }
        let s = SqliteStore::open(&path).await.unwrap();
        assert_eq!(s.list_components().await.unwrap().len(), 1);
    }
}
