//! Users, API tokens and the audit trail in PostgreSQL, as SQLite keeps them (audit times
//! as sortable text, `seq` an identity column giving the order records were appended in).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{PostgresStore, backend, decode, encode, is_unique_violation};
use crate::model::identity::{ApiToken, AuditRecord, User};
use crate::store::{IdentityStore, StoreError, StoreResult};

/// Audit times as sortable text (RFC 3339, UTC, fixed width).
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[async_trait]
impl IdentityStore for PostgresStore {
    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.docs("users", "SELECT doc FROM users ORDER BY name")
            .await
    }

    async fn get_user(&self, name: &str) -> StoreResult<Option<User>> {
        self.doc("user", "SELECT doc FROM users WHERE name = $1", name)
            .await
    }

    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        match sqlx::query("INSERT INTO users (name, doc) VALUES ($1, $2)")
            .bind(&user.name)
            .bind(encode(user))
            .execute(&self.pool)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                what: format!("user '{}'", user.name),
            }),
            Err(e) => Err(backend("insert user")(e)),
        }
    }

    async fn update_user(&self, user: &User) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE users SET doc = $1 WHERE name = $2")
            .bind(encode(user))
            .bind(&user.name)
            .execute(&self.pool)
            .await
            .map_err(backend("update user"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_user(&self, name: &str) -> StoreResult<bool> {
        // Tokens go with their owner (ON DELETE CASCADE).
        self.delete_by_key("delete user", "DELETE FROM users WHERE name = $1", name)
            .await
    }

    async fn insert_api_token(&self, token: &ApiToken) -> StoreResult<()> {
        match sqlx::query("INSERT INTO api_tokens (id, owner, doc) VALUES ($1, $2, $3)")
            .bind(&token.id)
            .bind(&token.owner)
            .bind(encode(token))
            .execute(&self.pool)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                what: format!("token '{}'", token.id),
            }),
            Err(e) => Err(backend("insert API token")(e)),
        }
    }

    async fn get_api_token(&self, id: &str) -> StoreResult<Option<ApiToken>> {
        self.doc("API token", "SELECT doc FROM api_tokens WHERE id = $1", id)
            .await
    }

    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        self.docs(
            "API tokens",
            "SELECT doc FROM api_tokens ORDER BY owner, id",
        )
        .await
    }

    async fn delete_api_token(&self, id: &str) -> StoreResult<bool> {
        self.delete_by_key(
            "delete API token",
            "DELETE FROM api_tokens WHERE id = $1",
            id,
        )
        .await
    }

    async fn append_audit(&self, records: &[AuditRecord]) -> StoreResult<()> {
        let op = "append audit records";
        if records.is_empty() {
            return Ok(());
        }
        // One statement (so one transaction), inserting in the order given so `seq`
        // follows it.
        let (times, docs): (Vec<String>, Vec<String>) =
            records.iter().map(|r| (ts(r.time), encode(r))).unzip();
        sqlx::query("INSERT INTO audit (\"time\", doc) SELECT t, d FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS a(t, d, i) ORDER BY i")
            .bind(times)
            .bind(docs)
            .execute(&self.pool)
            .await
            .map_err(backend(op))?;
        Ok(())
    }

    async fn list_audit(&self, since: DateTime<Utc>, limit: u32) -> StoreResult<Vec<AuditRecord>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT doc FROM (SELECT seq, doc FROM audit WHERE \"time\" >= $1 ORDER BY seq DESC LIMIT $2) AS newest ORDER BY seq",
        )
        .bind(ts(since))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend("list audit records"))?;
        rows.iter().map(|d| decode("audit record", d)).collect()
    }

    async fn prune_audit(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM audit WHERE \"time\" < $1")
            .bind(ts(before))
            .execute(&self.pool)
            .await
            .map_err(backend("prune audit records"))?;
        Ok(r.rows_affected())
    }
}
