//! A fresh database on the tests' PostgreSQL server, for the PostgreSQL store's tests (unit
//! and integration): `scripts/pg.sh` starts the server (Debian's binaries, loopback, a free
//! port) or finds it running, so every test process shares one server and each test gets a
//! database of its own. `RACKBOOT_TEST_PG_URL` names another server instead.

use std::path::Path;
use std::process::Command;

/// The server's URL (to its `postgres` database), starting it if needed.
pub fn server_url() -> String {
    if let Ok(url) = std::env::var("RACKBOOT_TEST_PG_URL") {
        return url;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Create an empty database and return its URL.
pub async fn fresh_database() -> String {
    let server = server_url();
    let name = format!("rb_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&server)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {server}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}
