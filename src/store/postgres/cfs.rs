//! Built-in CFS tables in PostgreSQL: components (compare-and-set) and configurations, as
//! `store::records::cfs` documents, written the way `bos.rs` writes BOS components.

use async_trait::async_trait;

use super::bos::{first_by_id, last_by_key};
use super::{PostgresStore, backend, decode, encode};
use crate::model::cfs::{CfsComponent, CfsConfiguration, CfsOptions};
use crate::store::records::cfs::{CfsComponentRecord, CfsConfigurationRecord, CfsOptionsRecord};
use crate::store::{CfsStore, StoreResult, Versioned};

#[async_trait]
impl CfsStore for PostgresStore {
    async fn list_cfs_components(&self) -> StoreResult<Vec<Versioned<CfsComponent>>> {
        let rows = self
            .versioned::<CfsComponentRecord>(
                "CFS components",
                "SELECT doc, gen FROM cfs_components ORDER BY id",
            )
            .await?;
        Ok(rows.into_iter().map(|v| v.map(Into::into)).collect())
    }

    async fn get_cfs_components(
        &self,
        ids: &[String],
    ) -> StoreResult<Vec<Versioned<CfsComponent>>> {
        let rows = self
            .versioned_by_ids::<CfsComponentRecord>(
                "CFS components",
                "SELECT doc, gen FROM cfs_components WHERE id = ANY($1) ORDER BY id",
                ids,
            )
            .await?;
        Ok(rows.into_iter().map(|v| v.map(Into::into)).collect())
    }

    async fn put_cfs_components(&self, components: &[CfsComponent]) -> StoreResult<()> {
        let op = "put CFS components";
        if components.is_empty() {
            return Ok(());
        }
        let rows: Vec<CfsComponentRecord> =
            last_by_key(components.iter().map(CfsComponentRecord::from), |r| {
                r.id().to_string()
            });
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        for chunk in rows.chunks(5000) {
            sqlx::query("INSERT INTO cfs_components (id, gen, doc) SELECT e.value->>'id', 1, e.value::text FROM json_array_elements($1::json) AS e(value) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, gen = cfs_components.gen + 1")
                .bind(encode(&chunk))
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        tx.commit().await.map_err(backend(op))
    }

    async fn update_cfs_components(
        &self,
        components: &[Versioned<CfsComponent>],
    ) -> StoreResult<Vec<String>> {
        let rows: Vec<Versioned<CfsComponentRecord>> = components
            .iter()
            .map(|v| v.clone().map(|c| CfsComponentRecord::from(&c)))
            .collect();
        let rows = first_by_id(rows, CfsComponentRecord::id);
        // As for BOS components; a new row is generation 0 + 1, and an existing row (whose
        // generation is at least 1) never matches generation 0, so 0 means "create only".
        self.compare_and_set(
            "update CFS components",
            "INSERT INTO cfs_components (id, gen, doc) SELECT e.value->'doc'->>'id', (e.value->>'gen')::bigint + 1, (e.value->'doc')::text FROM json_array_elements($1::json) AS e(value) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, gen = cfs_components.gen + 1 WHERE cfs_components.gen + 1 = excluded.gen RETURNING id",
            &rows,
            CfsComponentRecord::id,
        )
        .await
    }

    async fn delete_cfs_component(&self, id: &str) -> StoreResult<bool> {
        self.delete_by_key(
            "delete CFS component",
            "DELETE FROM cfs_components WHERE id = $1",
            id,
        )
        .await
    }

    async fn list_cfs_configurations(&self) -> StoreResult<Vec<CfsConfiguration>> {
        let rows = self
            .docs::<CfsConfigurationRecord>(
                "CFS configurations",
                "SELECT doc FROM cfs_configurations ORDER BY name",
            )
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn get_cfs_configuration(&self, name: &str) -> StoreResult<Option<CfsConfiguration>> {
        let row = self
            .doc::<CfsConfigurationRecord>(
                "CFS configuration",
                "SELECT doc FROM cfs_configurations WHERE name = $1",
                name,
            )
            .await?;
        Ok(row.map(Into::into))
    }

    async fn put_cfs_configuration(&self, c: &CfsConfiguration) -> StoreResult<()> {
        sqlx::query("INSERT INTO cfs_configurations (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc")
            .bind(&c.name)
            .bind(encode(&CfsConfigurationRecord::from(c)))
            .execute(&self.pool)
            .await
            .map_err(backend("put CFS configuration"))?;
        Ok(())
    }

    async fn delete_cfs_configuration(&self, name: &str) -> StoreResult<bool> {
        self.delete_by_key(
            "delete CFS configuration",
            "DELETE FROM cfs_configurations WHERE name = $1",
            name,
        )
        .await
    }

    async fn get_cfs_options(&self) -> StoreResult<Option<CfsOptions>> {
        let what = "CFS options";
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM cfs_options WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        doc.map(|d| decode::<CfsOptionsRecord>(what, &d).map(Into::into))
            .transpose()
    }

    async fn put_cfs_options(&self, o: &CfsOptions) -> StoreResult<()> {
        sqlx::query("INSERT INTO cfs_options (id, doc) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc")
            .bind(encode(&CfsOptionsRecord::from(o)))
            .execute(&self.pool)
            .await
            .map_err(backend("put CFS options"))?;
        Ok(())
    }
}
