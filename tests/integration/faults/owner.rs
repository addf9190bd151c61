//! One owner per data directory, and a schema that only moves forward: a second appliance on
//! a data directory in use refuses to start and names the PID that holds it (issue 19
//! finding 4: both acted, 400 resets for 200 nodes); a database written by a newer release
//! refuses to open, and nothing in it is touched.

use std::time::Duration;

use redfish::sim::SimConfig;
use serde_json::{Value, json};

use super::{Appliance, checked, free_port, integrity};
use crate::bos::Lab;
use crate::power::{finished, task, transition};

#[tokio::test]
async fn a_second_appliance_on_a_data_dir_in_use_refuses_and_the_first_acts_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let app = Appliance::start(&data, &[]).await;
    let lab = Lab::around(app.server(), dir, 20, SimConfig::default()).await;
    let mut second = Appliance::spawn(&data, free_port(), None, &[]);
    let st = second.exit(Duration::from_secs(30)).await;
    assert!(!st.success(), "the second appliance started: {st}");
    let log = second.log();
    let pid = app_pid(&data);
    assert!(
        log.contains("is in use by another rackboot") && log.contains(&format!("PID {pid}")),
        "{log}"
    );
    let location: Vec<Value> = lab.xnames.iter().map(|x| json!({"xname": x})).collect();
    let id = transition(&lab.s, json!({"operation": "on", "location": location})).await;
    let t = finished(&lab.s, &id, Duration::from_secs(30)).await;
    for (i, x) in lab.xnames.iter().enumerate() {
        assert_eq!(task(&t, x)["taskStatus"], "succeeded", "{t:#}");
        assert_eq!(lab.resets(i), 1, "{x}");
    }
    checked(
        "second appliance on the same data dir",
        &[
            format!("refused to start ({st}), naming PID {pid}"),
            "PCS on of 20 nodes through the first: exactly 1 reset per node".into(),
        ],
    );
    drop(app);
}

/// The PID the data directory's lock file names.
fn app_pid(data: &std::path::Path) -> String {
    std::fs::read_to_string(data.join("rackboot.lock"))
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test]
async fn a_database_from_a_newer_release_refuses_to_open_untouched() {
    use sqlx::ConnectOptions;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut app = Appliance::start(&data, &[]).await;
    app.kill().await;
    let db = data.join("rackboot.db");
    {
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .connect()
            .await
            .unwrap();
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'later')")
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await
            .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    app.restart(None);
    let st = app.exit(Duration::from_secs(30)).await;
    assert!(!st.success(), "{st}");
    let log = app.log();
    assert!(
        log.contains("schema is version 999, newer than this rackboot knows"),
        "{log}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the database was changed"
    );
    assert_eq!(integrity(&data).await, "ok");
    checked(
        "database from a newer release",
        &[
            format!("refused to open ({st}), saying the schema version"),
            "the database file is byte-for-byte what it was".into(),
        ],
    );
}
