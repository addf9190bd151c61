//! BOS tables in PostgreSQL: components (with a generation for compare-and-set), session
//! templates and sessions keyed by (tenant, name) with the saved extended status, options
//! and tenants. Rows are `store::records::bos` documents, as in SQLite; bulk writes take a
//! JSON array (`json_array_elements`, which keeps each element's text as written).

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use sqlx::Row;

use super::{PostgresStore, backend, decode, encode, is_unique_violation};
use crate::model::{BootComponent, ExtendedStatus, Session, SessionTemplate, Tenant};
use crate::store::records::bos::BootComponentRecord;
use crate::store::records::sessions::{ExtendedStatusRecord, SessionRecord, SessionTemplateRecord};
use crate::store::{BosStore, StoreError, StoreResult, Versioned};

/// The last occurrence of each key, in key order. An upsert in PostgreSQL may not touch a
/// row twice ("cannot affect row a second time"); SQLite's lets the last one win.
pub(super) fn last_by_key<T, K: Ord>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> Vec<T> {
    let mut last = BTreeMap::new();
    for item in items {
        last.insert(key(&item), item);
    }
    last.into_values().collect()
}

/// The first occurrence of each id, in id order (one lock order for concurrent writers),
/// for a compare-and-set batch: in
/// SQLite's upsert the first write at the generation read bumps it, so a repeat at the same
/// generation is skipped without being reported as a conflict; leaving it out does the same.
pub(super) fn first_by_id<T>(
    items: Vec<Versioned<T>>,
    id_of: impl Fn(&T) -> &str,
) -> Vec<Versioned<T>> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out: Vec<Versioned<T>> = items
        .into_iter()
        .filter(|v| seen.insert(id_of(&v.value).to_string()))
        .collect();
    out.sort_by(|a, b| id_of(&a.value).cmp(id_of(&b.value)));
    out
}

#[async_trait]
impl BosStore for PostgresStore {
    async fn list_boot_components(
        &self,
        enabled_only: bool,
    ) -> StoreResult<Vec<Versioned<BootComponent>>> {
        let sql = if enabled_only {
            "SELECT doc, gen FROM boot_components WHERE enabled ORDER BY id"
        } else {
            "SELECT doc, gen FROM boot_components ORDER BY id"
        };
        let rows = self
            .versioned::<BootComponentRecord>("BOS components", sql)
            .await?;
        Ok(rows.into_iter().map(|v| v.map(Into::into)).collect())
    }

    async fn get_boot_component(&self, id: &str) -> StoreResult<Option<Versioned<BootComponent>>> {
        let what = "BOS component";
        let row = sqlx::query("SELECT doc, gen FROM boot_components WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        row.map(|r| {
            Ok(Versioned {
                value: decode::<BootComponentRecord>(what, &r.get::<String, _>(0))?.into(),
                generation: r.get(1),
            })
        })
        .transpose()
    }

    async fn get_boot_components(
        &self,
        ids: &[String],
    ) -> StoreResult<Vec<Versioned<BootComponent>>> {
        let rows = self
            .versioned_by_ids::<BootComponentRecord>(
                "BOS components",
                "SELECT doc, gen FROM boot_components WHERE id = ANY($1) ORDER BY id",
                ids,
            )
            .await?;
        Ok(rows.into_iter().map(|v| v.map(Into::into)).collect())
    }

    async fn put_boot_components(&self, components: &[BootComponent]) -> StoreResult<()> {
        let op = "put BOS components";
        if components.is_empty() {
            return Ok(());
        }
        let rows: Vec<BootComponentRecord> =
            last_by_key(components.iter().map(BootComponentRecord::from), |r| {
                r.id().to_string()
            });
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        for chunk in rows.chunks(5000) {
            sqlx::query("INSERT INTO boot_components (id, gen, enabled, doc) SELECT e.value->>'id', 1, (e.value->>'enabled')::boolean, e.value::text FROM json_array_elements($1::json) AS e(value) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, enabled = excluded.enabled, gen = boot_components.gen + 1")
                .bind(encode(&chunk))
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        tx.commit().await.map_err(backend(op))
    }

    async fn update_boot_components(
        &self,
        components: &[Versioned<BootComponent>],
    ) -> StoreResult<Vec<String>> {
        let rows: Vec<Versioned<BootComponentRecord>> = components
            .iter()
            .map(|v| v.clone().map(|c| BootComponentRecord::from(&c)))
            .collect();
        let rows = first_by_id(rows, BootComponentRecord::id);
        // One upsert whose update only fires where the generation still matches; the rows
        // it wrote come back, so the rest are the conflicts. A concurrent writer's commit is
        // waited for and the condition checked against its row.
        self.compare_and_set(
            "update BOS components",
            "INSERT INTO boot_components (id, gen, enabled, doc) SELECT e.value->'doc'->>'id', (e.value->>'gen')::bigint + 1, (e.value->'doc'->>'enabled')::boolean, (e.value->'doc')::text FROM json_array_elements($1::json) AS e(value) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, enabled = excluded.enabled, gen = boot_components.gen + 1 WHERE boot_components.gen + 1 = excluded.gen RETURNING id",
            &rows,
            BootComponentRecord::id,
        )
        .await
    }

    async fn delete_boot_component(&self, id: &str) -> StoreResult<bool> {
        self.delete_by_key(
            "delete BOS component",
            "DELETE FROM boot_components WHERE id = $1",
            id,
        )
        .await
    }

    async fn list_session_templates(&self) -> StoreResult<Vec<SessionTemplate>> {
        let rows = self
            .docs::<SessionTemplateRecord>(
                "session templates",
                "SELECT doc FROM session_templates ORDER BY tenant, name",
            )
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn get_session_template(
        &self,
        tenant: &str,
        name: &str,
    ) -> StoreResult<Option<SessionTemplate>> {
        let row = self
            .keyed_doc::<SessionTemplateRecord>(
                "session template",
                "SELECT doc FROM session_templates WHERE tenant = $1 AND name = $2",
                tenant,
                name,
            )
            .await?;
        Ok(row.map(Into::into))
    }

    async fn put_session_template(&self, t: &SessionTemplate) -> StoreResult<()> {
        sqlx::query("INSERT INTO session_templates (tenant, name, doc) VALUES ($1, $2, $3) ON CONFLICT (tenant, name) DO UPDATE SET doc = excluded.doc")
            .bind(t.tenant.as_deref().unwrap_or(""))
            .bind(&t.name)
            .bind(encode(&SessionTemplateRecord::from(t)))
            .execute(&self.pool)
            .await
            .map_err(backend("put session template"))?;
        Ok(())
    }

    async fn delete_session_template(&self, tenant: &str, name: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM session_templates WHERE tenant = $1 AND name = $2")
            .bind(tenant)
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(backend("delete session template"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_sessions(&self) -> StoreResult<Vec<Session>> {
        let rows = self
            .docs::<SessionRecord>("sessions", "SELECT doc FROM sessions ORDER BY tenant, name")
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn get_session(&self, tenant: &str, name: &str) -> StoreResult<Option<Session>> {
        let row = self
            .keyed_doc::<SessionRecord>(
                "session",
                "SELECT doc FROM sessions WHERE tenant = $1 AND name = $2",
                tenant,
                name,
            )
            .await?;
        Ok(row.map(Into::into))
    }

    async fn insert_session(&self, s: &Session) -> StoreResult<()> {
        let r = sqlx::query("INSERT INTO sessions (tenant, name, doc) VALUES ($1, $2, $3)")
            .bind(s.tenant.as_deref().unwrap_or(""))
            .bind(&s.name)
            .bind(encode(&SessionRecord::from(s)))
            .execute(&self.pool)
            .await;
        match r {
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                what: format!("session {}", s.name),
            }),
            r => r.map(|_| ()).map_err(backend("insert session")),
        }
    }

    async fn update_session(&self, s: &Session) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE sessions SET doc = $1 WHERE tenant = $2 AND name = $3")
            .bind(encode(&SessionRecord::from(s)))
            .bind(s.tenant.as_deref().unwrap_or(""))
            .bind(&s.name)
            .execute(&self.pool)
            .await
            .map_err(backend("update session"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn update_session_if(
        &self,
        s: &Session,
        was: crate::model::SessionStatus,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE sessions SET doc = $1 WHERE tenant = $2 AND name = $3 AND (doc::jsonb)->'status'->>'status' = $4",
        )
        .bind(encode(&SessionRecord::from(s)))
        .bind(s.tenant.as_deref().unwrap_or(""))
        .bind(&s.name)
        .bind(was.as_str())
        .execute(&self.pool)
        .await
        .map_err(backend("update session"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_sessions(&self, keys: &[(String, String)]) -> StoreResult<u64> {
        let op = "delete sessions";
        if keys.is_empty() {
            return Ok(0);
        }
        // One statement (so one transaction); a key given twice is counted once, as
        // SQLite's second delete of it finds nothing.
        let (tenants, names): (Vec<String>, Vec<String>) = keys.iter().cloned().unzip();
        let r = sqlx::query("DELETE FROM sessions WHERE (tenant, name) IN (SELECT t, n FROM unnest($1::text[], $2::text[]) AS k(t, n))")
            .bind(tenants)
            .bind(names)
            .execute(&self.pool)
            .await
            .map_err(backend(op))?;
        Ok(r.rows_affected())
    }

    async fn save_session_status(
        &self,
        tenant: &str,
        name: &str,
        status: &ExtendedStatus,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET saved_status = $1 WHERE tenant = $2 AND name = $3")
            .bind(encode(&ExtendedStatusRecord::from(status)))
            .bind(tenant)
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(backend("save session status"))?;
        Ok(())
    }

    async fn saved_session_status(
        &self,
        tenant: &str,
        name: &str,
    ) -> StoreResult<Option<ExtendedStatus>> {
        let what = "saved session status";
        let doc: Option<Option<String>> =
            sqlx::query_scalar("SELECT saved_status FROM sessions WHERE tenant = $1 AND name = $2")
                .bind(tenant)
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend(what))?;
        doc.flatten()
            .map(|d| decode::<ExtendedStatusRecord>(what, &d).map(Into::into))
            .transpose()
    }

    async fn get_bos_options(
        &self,
    ) -> StoreResult<Option<serde_json::Map<String, serde_json::Value>>> {
        let what = "BOS options";
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM bos_options WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        doc.map(|d| decode(what, &d)).transpose()
    }

    async fn put_bos_options(
        &self,
        options: &serde_json::Map<String, serde_json::Value>,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO bos_options (id, doc) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc")
            .bind(encode(options))
            .execute(&self.pool)
            .await
            .map_err(backend("put BOS options"))?;
        Ok(())
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.docs("tenants", "SELECT doc FROM tenants ORDER BY name")
            .await
    }

    async fn get_tenant(&self, name: &str) -> StoreResult<Option<Tenant>> {
        self.doc("tenant", "SELECT doc FROM tenants WHERE name = $1", name)
            .await
    }

    async fn put_tenant(&self, t: &Tenant) -> StoreResult<()> {
        sqlx::query("INSERT INTO tenants (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc")
            .bind(&t.name)
            .bind(encode(t))
            .execute(&self.pool)
            .await
            .map_err(backend("put tenant"))?;
        Ok(())
    }

    async fn delete_tenant(&self, name: &str) -> StoreResult<bool> {
        self.delete_by_key("delete tenant", "DELETE FROM tenants WHERE name = $1", name)
            .await
    }
}
