//! Power transitions and their tasks (tasks in their own table, so progress writes touch
//! only the tasks that changed); an abort request is a column of its own.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqliteStore, backend, decode, encode};
use super::{is_unique_violation, with_abort};
use crate::model::power::{PowerTask, Transition};
use crate::store::{PowerStore, StoreError, StoreResult};

#[async_trait]
impl PowerStore for SqliteStore {
    async fn insert_transition(&self, t: &Transition, tasks: &[PowerTask]) -> StoreResult<()> {
        let op = "insert transition";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        let r =
            sqlx::query("INSERT INTO transitions (id, created, expires, doc) VALUES (?, ?, ?, ?)")
                .bind(t.id.to_string())
                .bind(t.created.to_rfc3339())
                .bind(t.expires.to_rfc3339())
                .bind(encode(t))
                .execute(&mut *tx)
                .await;
        match r {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict {
                    what: format!("transition {}", t.id),
                });
            }
            r => r.map_err(backend(op))?,
        };
        // One statement for all tasks (a transition may have tens of thousands): the
        // array index becomes the task's order.
        sqlx::query("INSERT INTO transition_tasks (transition_id, seq, xname, doc) SELECT ?1, key, json_extract(value, '$.xname'), value FROM json_each(?2)")
            .bind(t.id.to_string())
            .bind(encode(&tasks))
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        tx.commit().await.map_err(backend(op))
    }

    async fn update_transition(&self, t: &Transition, tasks: &[PowerTask]) -> StoreResult<bool> {
        let op = "update transition";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        let r = sqlx::query("UPDATE transitions SET doc = ? WHERE id = ?")
            .bind(encode(t))
            .bind(t.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        if !tasks.is_empty() {
            // One statement per batch of progress, however many tasks changed.
            // An upsert driven by the array: one primary-key lookup per changed task (an
            // UPDATE … FROM json_each makes SQLite scan the whole table per element). Tasks
            // always exist, so it only ever updates.
            sqlx::query("INSERT INTO transition_tasks (transition_id, seq, xname, doc) SELECT ?2, key, json_extract(value, '$.xname'), value FROM json_each(?1) WHERE true ON CONFLICT (transition_id, xname) DO UPDATE SET doc = excluded.doc")
                .bind(encode(&tasks))
                .bind(t.id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        tx.commit().await.map_err(backend(op))?;
        Ok(true)
    }

    async fn get_transition(
        &self,
        id: uuid::Uuid,
    ) -> StoreResult<Option<(Transition, Vec<PowerTask>)>> {
        let what = "transition";
        let row = sqlx::query("SELECT doc, abort_requested FROM transitions WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let t = with_abort(
            decode(what, &row.get::<String, _>(0))?,
            row.get::<i64, _>(1) != 0,
        );
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT doc FROM transition_tasks WHERE transition_id = ? ORDER BY seq",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend(what))?;
        let tasks = rows
            .iter()
            .map(|d| decode("transition task", d))
            .collect::<StoreResult<Vec<PowerTask>>>()?;
        Ok(Some((t, tasks)))
    }

    async fn list_transitions(&self) -> StoreResult<Vec<Transition>> {
        let what = "transition";
        let rows = sqlx::query("SELECT doc, abort_requested FROM transitions ORDER BY created, id")
            .fetch_all(&self.pool)
            .await
            .map_err(backend(what))?;
        rows.iter()
            .map(|r| {
                Ok(with_abort(
                    decode(what, &r.get::<String, _>(0))?,
                    r.get::<i64, _>(1) != 0,
                ))
            })
            .collect()
    }

    async fn request_transition_abort(&self, id: uuid::Uuid) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE transitions SET abort_requested = 1 WHERE id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend("request transition abort"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn transition_abort_requested(&self, id: uuid::Uuid) -> StoreResult<bool> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT abort_requested FROM transitions WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend("read transition abort"))?;
        Ok(v.unwrap_or(0) != 0)
    }

    async fn delete_expired_transitions(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM transitions WHERE expires < ?")
            .bind(now.to_rfc3339())
            .execute(&self.pool)
            .await
            .map_err(backend("delete expired transitions"))?;
        Ok(r.rows_affected())
    }
}
