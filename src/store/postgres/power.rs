//! Power transitions and their tasks in PostgreSQL, as in SQLite: tasks in their own table
//! (so progress writes touch only the tasks that changed, all in one statement as arrays),
//! and an abort request is a column of its own.

use async_trait::async_trait;
use sqlx::Row;

use super::inventory::last_wins;
use super::{PostgresStore, backend, decode, encode, is_unique_violation, with_abort};
use crate::model::power::{PowerTask, Transition};
use crate::store::{PowerStore, StoreError, StoreResult};

#[async_trait]
impl PowerStore for PostgresStore {
    async fn insert_transition(&self, t: &Transition, tasks: &[PowerTask]) -> StoreResult<()> {
        let op = "insert transition";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        let r = sqlx::query(
            "INSERT INTO transitions (id, created, expires, doc) VALUES ($1, $2, $3, $4)",
        )
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
        // array index (from 0) becomes the task's order. An xname given twice is a
        // primary-key violation, a backend error, as in SQLite.
        let mut seqs: Vec<i64> = Vec::with_capacity(tasks.len());
        let mut xnames: Vec<String> = Vec::with_capacity(tasks.len());
        let mut docs: Vec<String> = Vec::with_capacity(tasks.len());
        for (i, task) in tasks.iter().enumerate() {
            seqs.push(i as i64);
            xnames.push(task.xname.clone());
            docs.push(encode(task));
        }
        sqlx::query("INSERT INTO transition_tasks (transition_id, seq, xname, doc) SELECT $1::text, s, x, d FROM unnest($2::bigint[], $3::text[], $4::text[]) AS k(s, x, d)")
            .bind(t.id.to_string())
            .bind(seqs)
            .bind(xnames)
            .bind(docs)
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        tx.commit().await.map_err(backend(op))
    }

    async fn update_transition(&self, t: &Transition, tasks: &[PowerTask]) -> StoreResult<bool> {
        let op = "update transition";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        let r = sqlx::query("UPDATE transitions SET doc = $1 WHERE id = $2")
            .bind(encode(t))
            .bind(t.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        if !tasks.is_empty() {
            // One statement per batch of progress, however many tasks changed: an upsert
            // driven by the arrays, one primary-key lookup per changed task. Tasks always
            // exist, so it only ever updates the doc. A task given twice is folded first
            // (an upsert may not touch a row twice here): its last doc, at the index it
            // first appeared at, which is what SQLite's upsert leaves.
            let batch = last_wins(tasks, |task| task.xname.as_str());
            let mut seqs: Vec<i64> = Vec::with_capacity(batch.len());
            let mut xnames: Vec<String> = Vec::with_capacity(batch.len());
            let mut docs: Vec<String> = Vec::with_capacity(batch.len());
            for (i, task) in batch {
                seqs.push(i as i64);
                xnames.push(task.xname.clone());
                docs.push(encode(task));
            }
            sqlx::query("INSERT INTO transition_tasks (transition_id, seq, xname, doc) SELECT $1::text, s, x, d FROM unnest($2::bigint[], $3::text[], $4::text[]) AS k(s, x, d) ON CONFLICT (transition_id, xname) DO UPDATE SET doc = excluded.doc")
                .bind(t.id.to_string())
                .bind(seqs)
                .bind(xnames)
                .bind(docs)
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
        let row = sqlx::query("SELECT doc, abort_requested FROM transitions WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let t = with_abort(
            decode(what, &row.get::<String, _>(0))?,
            row.get::<bool, _>(1),
        );
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT doc FROM transition_tasks WHERE transition_id = $1 ORDER BY seq",
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
                    r.get::<bool, _>(1),
                ))
            })
            .collect()
    }

    async fn request_transition_abort(&self, id: uuid::Uuid) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE transitions SET abort_requested = true WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend("request transition abort"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn transition_abort_requested(&self, id: uuid::Uuid) -> StoreResult<bool> {
        let v: Option<bool> =
            sqlx::query_scalar("SELECT abort_requested FROM transitions WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend("read transition abort"))?;
        Ok(v.unwrap_or(false))
    }

    async fn delete_expired_transitions(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM transitions WHERE expires < $1")
            .bind(now.to_rfc3339())
            .execute(&self.pool)
            .await
            .map_err(backend("delete expired transitions"))?;
        Ok(r.rows_affected())
    }
}
