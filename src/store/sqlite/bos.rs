//! BOS tables: components (with a generation for compare-and-set), session templates and
//! sessions keyed by (tenant, name) with the saved extended status, options and tenants.
//! Rows are `store::records::bos` documents.

use async_trait::async_trait;
use sqlx::Row;

use super::is_unique_violation;
use super::{SqliteStore, backend, decode, encode};
use crate::model::{BootComponent, ExtendedStatus, Session, SessionTemplate, Tenant};
use crate::store::records::bos::BootComponentRecord;
use crate::store::records::sessions::{ExtendedStatusRecord, SessionRecord, SessionTemplateRecord};
use crate::store::{BosStore, StoreError, StoreResult, Versioned};

#[async_trait]
impl BosStore for SqliteStore {
    async fn list_boot_components(
        &self,
        enabled_only: bool,
    ) -> StoreResult<Vec<Versioned<BootComponent>>> {
        let sql = if enabled_only {
            "SELECT doc, gen FROM boot_components WHERE enabled = 1 ORDER BY id"
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
        let row = sqlx::query("SELECT doc, gen FROM boot_components WHERE id = ?")
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
            .versioned_by_ids(
                "BOS components",
                "SELECT doc, gen FROM boot_components WHERE id IN (SELECT value FROM json_each(?))",
                ids,
                BootComponentRecord::id,
            )
            .await?;
        Ok(rows.into_iter().map(|v| v.map(Into::into)).collect())
    }

    async fn put_boot_components(&self, components: &[BootComponent]) -> StoreResult<()> {
        let op = "put BOS components";
        for chunk in components.chunks(5000) {
            let chunk: Vec<BootComponentRecord> = chunk.iter().map(Into::into).collect();
            sqlx::query("INSERT INTO boot_components (id, gen, enabled, doc) SELECT json_extract(value, '$.id'), 1, json_extract(value, '$.enabled'), value FROM json_each(?1) WHERE true ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, enabled = excluded.enabled, gen = boot_components.gen + 1")
                .bind(encode(&chunk))
                .execute(&self.pool)
                .await
                .map_err(backend(op))?;
        }
        Ok(())
    }

    async fn update_boot_components(
        &self,
        components: &[Versioned<BootComponent>],
    ) -> StoreResult<Vec<String>> {
        let rows: Vec<Versioned<BootComponentRecord>> = components
            .iter()
            .map(|v| v.clone().map(|c| BootComponentRecord::from(&c)))
            .collect();
        // One upsert whose update only fires where the generation still matches; the rows
        // it wrote come back, so the rest are the conflicts.
        self.compare_and_set(
            "update BOS components",
            "INSERT INTO boot_components (id, gen, enabled, doc) SELECT json_extract(value, '$.doc.id'), json_extract(value, '$.gen') + 1, json_extract(value, '$.doc.enabled'), json_extract(value, '$.doc') FROM json_each(?1) WHERE true ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, enabled = excluded.enabled, gen = boot_components.gen + 1 WHERE boot_components.gen + 1 = excluded.gen RETURNING id",
            &rows,
            BootComponentRecord::id,
        )
        .await
    }

    async fn delete_boot_component(&self, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM boot_components WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend("delete BOS component"))?;
        Ok(r.rows_affected() > 0)
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
                "SELECT doc FROM session_templates WHERE tenant = ? AND name = ?",
                tenant,
                name,
            )
            .await?;
        Ok(row.map(Into::into))
    }

    async fn put_session_template(&self, t: &SessionTemplate) -> StoreResult<()> {
        sqlx::query("INSERT INTO session_templates (tenant, name, doc) VALUES (?, ?, ?) ON CONFLICT (tenant, name) DO UPDATE SET doc = excluded.doc")
            .bind(t.tenant.as_deref().unwrap_or(""))
            .bind(&t.name)
            .bind(encode(&SessionTemplateRecord::from(t)))
            .execute(&self.pool)
            .await
            .map_err(backend("put session template"))?;
        Ok(())
    }

    async fn delete_session_template(&self, tenant: &str, name: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM session_templates WHERE tenant = ? AND name = ?")
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
                "SELECT doc FROM sessions WHERE tenant = ? AND name = ?",
                tenant,
                name,
            )
            .await?;
        Ok(row.map(Into::into))
    }

    async fn insert_session(&self, s: &Session) -> StoreResult<()> {
        let r = sqlx::query("INSERT INTO sessions (tenant, name, doc) VALUES (?, ?, ?)")
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
        let r = sqlx::query("UPDATE sessions SET doc = ? WHERE tenant = ? AND name = ?")
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
            "UPDATE sessions SET doc = ? WHERE tenant = ? AND name = ? AND json_extract(doc, '$.status.status') = ?",
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
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        let mut n = 0;
        for (tenant, name) in keys {
            n += sqlx::query("DELETE FROM sessions WHERE tenant = ? AND name = ?")
                .bind(tenant)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?
                .rows_affected();
        }
        tx.commit().await.map_err(backend(op))?;
        Ok(n)
    }

    async fn save_session_status(
        &self,
        tenant: &str,
        name: &str,
        status: &ExtendedStatus,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET saved_status = ? WHERE tenant = ? AND name = ?")
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
            sqlx::query_scalar("SELECT saved_status FROM sessions WHERE tenant = ? AND name = ?")
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
        sqlx::query("INSERT INTO bos_options (id, doc) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc")
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
        let what = "tenant";
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM tenants WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        doc.map(|d| decode(what, &d)).transpose()
    }

    async fn put_tenant(&self, t: &Tenant) -> StoreResult<()> {
        sqlx::query("INSERT INTO tenants (name, doc) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc")
            .bind(&t.name)
            .bind(encode(t))
            .execute(&self.pool)
            .await
            .map_err(backend("put tenant"))?;
        Ok(())
    }

    async fn delete_tenant(&self, name: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM tenants WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(backend("delete tenant"))?;
        Ok(r.rows_affected() > 0)
    }
}
