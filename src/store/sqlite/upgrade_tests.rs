//! Upgrades from every earlier schema version, with data in it; and a newer schema refused.
//!
//! The data is what the store conformance suite leaves behind (real records of every table
//! family), dumped as SQL literals. For each earlier version `k`, a database is built at
//! exactly `k` (its migrations applied by hand), filled with those rows in the tables and
//! columns that exist at `k`, then opened by the store, which applies the rest: every row
//! must still be there, unchanged, and the store must read its records back.

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, Row, SqlitePool};

use super::{MIGRATIONS, SqliteStore};
use crate::store::StoreError;
use crate::store::prelude::*;

/// Tables in creation order, each with its columns.
async fn tables(pool: &SqlitePool) -> Vec<(String, Vec<String>)> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY rowid",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for t in names {
        let cols: Vec<String> = sqlx::query(AssertSqlSafe(format!("PRAGMA table_info({t})")))
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("name"))
            .collect();
        out.push((t, cols));
    }
    out
}

/// Every row of `table`, as a list of SQL literals of `cols`, sorted.
async fn rows(pool: &SqlitePool, table: &str, cols: &[String]) -> Vec<String> {
    let expr = cols
        .iter()
        .map(|c| format!("quote({c})"))
        .collect::<Vec<_>>()
        .join(" || ',' || ");
    let mut r: Vec<String> =
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT {expr} FROM {table}")))
            .fetch_all(pool)
            .await
            .unwrap();
    r.sort();
    r
}

async fn pool(path: &std::path::Path) -> SqlitePool {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true);
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_earlier_schema_with_data_upgrades_keeping_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.db");
    let sealer = crate::security::seal::Sealer::new(&[9u8; crate::security::seal::KEY_LEN]);
    let store = SqliteStore::open_sealed(&reference, sealer.clone())
        .await
        .unwrap();
    crate::store::conformance::run_all(&store).await;
    crate::store::conformance::fill(&store).await;
    let all = tables(&store.pool).await;
    let mut dump: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (t, cols) in &all {
        dump.insert(t.clone(), rows(&store.pool, t, cols).await);
    }
    store.pool.close().await;
    let filled = dump.values().filter(|r| !r.is_empty()).count();
    let counts: Vec<String> = dump
        .iter()
        .map(|(t, r)| format!("{t}={}", r.len()))
        .collect();
    assert!(
        filled >= 10,
        "the reference holds data in {filled} tables: {counts:?}"
    );

    for k in 1..MIGRATIONS.len() {
        let path = dir.path().join(format!("v{k}.db"));
        let p = pool(&path).await;
        sqlx::raw_sql("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
            .execute(&p)
            .await
            .unwrap();
        for (version, sql) in &MIGRATIONS[..k] {
            sqlx::raw_sql(*sql).execute(&p).await.unwrap();
            sqlx::query("INSERT INTO schema_migrations VALUES (?, 'then')")
                .bind(version)
                .execute(&p)
                .await
                .unwrap();
        }
        let at_k = tables(&p).await;
        let mut inserted = 0;
        for (t, cols) in &at_k {
            // The reference's rows, restricted to the columns this version has.
            let full = &all.iter().find(|(n, _)| n == t).unwrap().1;
            for row in &dump[t] {
                let values: Vec<&str> = split_literals(row);
                let picked: Vec<&str> = cols
                    .iter()
                    .map(|c| values[full.iter().position(|f| f == c).unwrap()])
                    .collect();
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {t} ({}) VALUES ({})",
                    cols.join(", "),
                    picked.join(", ")
                )))
                .execute(&p)
                .await
                .unwrap_or_else(|e| panic!("v{k}: inserting into {t}: {e}"));
                inserted += 1;
            }
        }
        let before: Vec<(String, Vec<String>, Vec<String>)> = {
            let mut v = Vec::new();
            for (t, cols) in &at_k {
                v.push((t.clone(), cols.clone(), rows(&p, t, cols).await));
            }
            v
        };
        p.close().await;
        let upgraded = SqliteStore::open_sealed(&path, sealer.clone())
            .await
            .unwrap_or_else(|e| panic!("upgrading from v{k}: {}", crate::errors::chain(&e)));
        for (t, cols, was) in &before {
            assert_eq!(
                &rows(&upgraded.pool, t, cols).await,
                was,
                "v{k} → v{}: rows of {t} changed",
                MIGRATIONS.len()
            );
        }
        // And the store reads its records back.
        upgraded.list_components().await.unwrap();
        upgraded.list_boot_components(false).await.unwrap();
        upgraded.list_transitions().await.unwrap();
        upgraded.list_boot_params().await.unwrap();
        upgraded.pool.close().await;
        assert!(inserted > 0 || k == 0, "v{k}: no data inserted");
    }
}

/// Split `quote(a) || ',' || quote(b)` back into its literals (commas inside quoted text
/// or blobs are kept).
fn split_literals(row: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    let bytes = row.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' => quoted = !quoted,
            b',' if !quoted => {
                out.push(&row[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&row[start..]);
    out
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rackboot.db");
    let sealer = crate::security::seal::Sealer::new(&[9u8; crate::security::seal::KEY_LEN]);
    let store = SqliteStore::open_sealed(&path, sealer.clone())
        .await
        .unwrap();
    sqlx::query("INSERT INTO schema_migrations VALUES (1000, 'later')")
        .execute(&store.pool)
        .await
        .unwrap();
    store.pool.close().await;
    match SqliteStore::open_sealed(&path, sealer).await {
        Err(StoreError::SchemaTooNew { found: 1000, known }) => {
            assert_eq!(known, MIGRATIONS.len() as i64)
        }
        Err(e) => panic!("{}", crate::errors::chain(&e)),
        Ok(_) => panic!("a newer schema was opened"),
    }
}
