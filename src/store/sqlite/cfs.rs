//! Built-in CFS tables: components (compare-and-set) and configurations, as
//! `store::records::cfs` documents.

use async_trait::async_trait;

use super::{SqliteStore, backend, decode, encode};
use crate::model::cfs::{CfsComponent, CfsConfiguration, CfsOptions};
use crate::store::records::cfs::{CfsComponentRecord, CfsConfigurationRecord, CfsOptionsRecord};
use crate::store::{CfsStore, StoreResult, Versioned};

#[async_trait]
impl CfsStore for SqliteStore {
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
            .versioned_by_ids(
                "CFS components",
                "SELECT doc, gen FROM cfs_components WHERE id IN (SELECT value FROM json_each(?))",
                ids,
                CfsComponentRecord::id,
            )
            .await?;
        Ok(rows.into_iter().map(|v| v.map(Into::into)).collect())
    }

    async fn put_cfs_components(&self, components: &[CfsComponent]) -> StoreResult<()> {
        for chunk in components.chunks(5000) {
            let chunk: Vec<CfsComponentRecord> = chunk.iter().map(Into::into).collect();
            sqlx::query("INSERT INTO cfs_components (id, gen, doc) SELECT json_extract(value, '$.id'), 1, value FROM json_each(?1) WHERE true ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, gen = cfs_components.gen + 1")
                .bind(encode(&chunk))
                .execute(&self.pool)
                .await
                .map_err(backend("put CFS components"))?;
        }
        Ok(())
    }

    async fn update_cfs_components(
        &self,
        components: &[Versioned<CfsComponent>],
    ) -> StoreResult<Vec<String>> {
        let rows: Vec<Versioned<CfsComponentRecord>> = components
            .iter()
            .map(|v| v.clone().map(|c| CfsComponentRecord::from(&c)))
            .collect();
        // As for BOS components; a new row is generation 0 + 1.
        self.compare_and_set(
            "update CFS components",
            "INSERT INTO cfs_components (id, gen, doc) SELECT json_extract(value, '$.doc.id'), json_extract(value, '$.gen') + 1, json_extract(value, '$.doc') FROM json_each(?1) WHERE true ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, gen = cfs_components.gen + 1 WHERE cfs_components.gen + 1 = excluded.gen RETURNING id",
            &rows,
            CfsComponentRecord::id,
        )
        .await
    }

    async fn delete_cfs_component(&self, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM cfs_components WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend("delete CFS component"))?;
        Ok(r.rows_affected() > 0)
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
                "SELECT doc FROM cfs_configurations WHERE name = ?",
                name,
            )
            .await?;
        Ok(row.map(Into::into))
    }

    async fn put_cfs_configuration(&self, c: &CfsConfiguration) -> StoreResult<()> {
        sqlx::query("INSERT INTO cfs_configurations (name, doc) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc")
            .bind(&c.name)
            .bind(encode(&CfsConfigurationRecord::from(c)))
            .execute(&self.pool)
            .await
            .map_err(backend("put CFS configuration"))?;
        Ok(())
    }

    async fn delete_cfs_configuration(&self, name: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM cfs_configurations WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(backend("delete CFS configuration"))?;
        Ok(r.rows_affected() > 0)
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
        sqlx::query("INSERT INTO cfs_options (id, doc) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc")
            .bind(encode(&CfsOptionsRecord::from(o)))
            .execute(&self.pool)
            .await
            .map_err(backend("put CFS options"))?;
        Ok(())
    }
}
