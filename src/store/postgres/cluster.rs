//! What replicas on one database share beyond the records: the keys every replica must
//! agree on (artifact tokens, logins), kept in the database sealed under `seal.key`, and
//! the lock that lets one appliance at a time act on the rack.
//!
//! Until leader election lands, the lock makes a second appliance on the same database
//! refuse to start (naming the holder), as the data-dir lock does for SQLite: two
//! appliances driving the same BMCs would repeat every action.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use super::{PostgresStore, backend};
use crate::store::{StoreError, StoreResult};

/// The advisory lock key the acting appliance holds ("rackbtop" in ASCII).
const OPERATOR_LOCK: i64 = 0x7261_636b_6274_6f70;

/// The database's acting lock, held on a connection of its own for the process's life.
pub struct DatabaseLock {
    _conn: PgConnection,
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

    /// Take the acting lock, or say who holds it.
    pub async fn lock_for_acting(&self) -> StoreResult<DatabaseLock> {
        let opts = self.pool.connect_options();
        let mut conn = PgConnection::connect_with(&opts)
            .await
            .map_err(backend("connect for the acting lock"))?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(OPERATOR_LOCK)
            .fetch_one(&mut conn)
            .await
            .map_err(backend("take the acting lock"))?;
        if got {
            return Ok(DatabaseLock { _conn: conn });
        }
        let holder: Option<String> = sqlx::query_scalar(
            "SELECT COALESCE(a.client_addr::text, 'local socket') || ' (backend PID ' || a.pid || ')' FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = $1 LIMIT 1",
        )
        .bind(OPERATOR_LOCK)
        .fetch_optional(&mut conn)
        .await
        .map_err(backend("find the acting lock's holder"))?;
        Err(StoreError::InUse(format!(
            "another rackboot is acting on database {} (its connection: {}): one appliance per database until leader election lands; stop that one first",
            self.target,
            holder.as_deref().unwrap_or("unknown"),
        )))
    }
}
