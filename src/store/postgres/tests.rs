//! The PostgreSQL store against a real server: the conformance suite both stores pass, and
//! what only several writers can show.

use super::testdb;
use super::*;
use crate::model::{Component, Xname};
use crate::store::prelude::*;

fn sealer() -> crate::security::seal::Sealer {
    crate::security::seal::Sealer::new(&[7u8; crate::security::seal::KEY_LEN])
}

async fn open(url: &str) -> StoreResult<PostgresStore> {
    PostgresStore::open(&PgSettings::new(url), sealer(), Duration::from_secs(30)).await
}

async fn store() -> PostgresStore {
    open(&testdb::fresh_database().await).await.unwrap()
}

#[tokio::test]
#[ignore = "tier peer: PostgreSQL (scripts/pg.sh)"]
async fn postgres_passes_the_store_conformance_suite() {
    let store = store().await;
    crate::store::conformance::run_all(&store).await;
    println!("conformance on PostgreSQL: checked");
}

#[tokio::test]
#[ignore = "tier peer: PostgreSQL (scripts/pg.sh)"]
async fn two_replicas_migrating_at_once_apply_each_migration_once() {
    let url = testdb::fresh_database().await;
    let (a, b) = tokio::join!(open(&url), open(&url));
    let (a, b) = (a.unwrap(), b.unwrap());
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(a.pool())
        .await
        .unwrap();
    assert_eq!(applied, MIGRATIONS.len() as i64);
    assert_eq!(
        b.schema_version().await.unwrap(),
        MIGRATIONS.last().unwrap().0
    );
    // What one replica writes the other reads.
    a.put_components(&[Component::new(Xname::parse("x1c0s0b0n0").unwrap())])
        .await
        .unwrap();
    assert_eq!(b.list_components().await.unwrap().len(), 1);
}

#[tokio::test]
#[ignore = "tier peer: PostgreSQL (scripts/pg.sh)"]
async fn a_newer_schema_is_refused_and_left_alone() {
    let url = testdb::fresh_database().await;
    let store = open(&url).await.unwrap();
    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'later')")
        .execute(store.pool())
        .await
        .unwrap();
    let before = list_tables(&store).await;
    let e = open(&url)
        .await
        .err()
        .expect("a newer schema must be refused");
    assert!(
        matches!(e, StoreError::SchemaTooNew { found: 999, .. }),
        "{e}"
    );
    assert_eq!(list_tables(&store).await, before, "nothing was touched");
}

async fn list_tables(store: &PostgresStore) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn an_unreachable_database_names_it_without_the_password() {
    // A closed loopback port: nothing listens on port 1.
    let url = "postgres://rackboot:s3cret@127.0.0.1:1/nowhere";
    let settings = PgSettings {
        acquire_timeout: Duration::from_millis(200),
        ..PgSettings::new(url)
    };
    let e = PostgresStore::open(&settings, sealer(), Duration::from_millis(300))
        .await
        .err()
        .expect("nothing listens there");
    let msg = crate::errors::chain(&e);
    assert!(msg.contains("reach the database"), "{msg}");
    assert_eq!(
        e.condition(),
        Some(crate::store::StoreCondition::Unreachable),
        "{msg}"
    );
    assert_eq!(redacted(url), "postgres://rackboot:***@127.0.0.1:1/nowhere");
    assert!(!redacted(url).contains("s3cret"));
}

#[tokio::test]
#[ignore = "tier peer: PostgreSQL (scripts/pg.sh)"]
async fn one_replica_holds_the_operator_lock_until_its_session_ends() {
    use crate::cluster::{ClusterBackend, ReplicaInfo};
    let url = testdb::fresh_database().await;
    let (a, b) = (open(&url).await.unwrap(), open(&url).await.unwrap());
    let me = |id: &str| ReplicaInfo {
        id: id.into(),
        address: format!("https://{id}:8443"),
        version: "test".into(),
        started: chrono::Utc::now(),
    };
    let drop_after = Duration::from_secs(5);
    let mut held = a.try_lead(drop_after).await.unwrap().expect("a free lock");
    held.confirm(&me("a"), true).await.unwrap();
    assert!(b.try_lead(drop_after).await.unwrap().is_none(), "held by a");
    b.heartbeat(&me("b")).await.unwrap();
    let rows = b.replicas().await.unwrap();
    let ids: Vec<_> = rows
        .iter()
        .map(|r| (r.id.as_str(), r.leader_since.is_some()))
        .collect();
    assert_eq!(ids, [("a", true), ("b", false)]);
    assert!(rows.iter().all(|r| r.heartbeat_age_secs < 5.0), "{rows:?}");
    // The server ends a's session (as when its connection is cut): the lock is free at
    // once, and a's next confirmation fails.
    let killed: bool = sqlx::query_scalar(
        "SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = $1",
    )
    .bind(super::cluster::OPERATOR_LOCK)
    .fetch_one(&b.pool)
    .await
    .unwrap();
    assert!(killed);
    let mut taken = None;
    for _ in 0..50 {
        if let Some(l) = b.try_lead(drop_after).await.unwrap() {
            taken = Some(l);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut taken = taken.expect("the lock is free once its session is gone");
    assert!(
        held.confirm(&me("a"), true).await.is_err(),
        "a no longer holds it"
    );
    taken.confirm(&me("b"), true).await.unwrap();
    let leaders: Vec<_> = b
        .replicas()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.leader_since.is_some())
        .map(|r| r.id)
        .collect();
    assert_eq!(leaders, ["b"]);
}

#[tokio::test]
#[ignore = "tier peer: PostgreSQL (scripts/pg.sh)"]
async fn replicas_hear_each_others_notifications() {
    use crate::cluster::ClusterBackend;
    let url = testdb::fresh_database().await;
    let (a, b) = (open(&url).await.unwrap(), open(&url).await.unwrap());
    let mut sub = a.listen().await.unwrap();
    b.publish(r#"{"from":"b","changed":["boot"]}"#)
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("a notification within 5 s")
        .unwrap();
    assert_eq!(got.as_deref(), Some(r#"{"from":"b","changed":["boot"]}"#));
}

#[tokio::test]
#[ignore = "tier peer: PostgreSQL (scripts/pg.sh)"]
async fn replicas_share_the_first_ones_keys_and_a_foreign_seal_key_is_refused() {
    let url = testdb::fresh_database().await;
    let a = open(&url).await.unwrap();
    let first = a.shared_secret("jwt-key", &[1u8; 32]).await.unwrap();
    assert_eq!(first, vec![1u8; 32]);
    // A second replica with the same seal.key gets the first one's key, not its own.
    let b = open(&url).await.unwrap();
    assert_eq!(b.shared_secret("jwt-key", &[2u8; 32]).await.unwrap(), first);
    // Stored sealed, not in the clear.
    let stored: String =
        sqlx::query_scalar("SELECT sealed FROM cluster_secrets WHERE name = 'jwt-key'")
            .fetch_one(a.pool())
            .await
            .unwrap();
    assert!(crate::security::seal::is_sealed(&stored));
    // Another seal.key cannot open it: refused, naming the fix.
    let other = crate::security::seal::Sealer::new(&[9u8; crate::security::seal::KEY_LEN]);
    let c = PostgresStore::open(&PgSettings::new(&url), other, Duration::from_secs(30))
        .await
        .unwrap();
    let e = c
        .shared_secret("jwt-key", &[3u8; 32])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("same seal.key"), "{e}");
}
