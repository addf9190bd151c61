//! What nodes boot: BSS host and image boot parameters, endpoint history, and the boot
//! artifacts each BSS referral token stands for.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqliteStore, backend, decode, encode};
use crate::model::{BootArtifacts, BootParams, HostKey, ImageParams};
use crate::store::records::bos::ArtifactsRecord;
use crate::store::{BootStore, BootWrite, EndpointAccess, StoreError, StoreResult};

#[async_trait]
impl BootStore for SqliteStore {
    async fn list_boot_params(&self) -> StoreResult<Vec<(HostKey, BootParams)>> {
        let rows = sqlx::query("SELECT host, doc FROM boot_params ORDER BY host")
            .fetch_all(&self.pool)
            .await
            .map_err(backend("list boot params"))?;
        rows.into_iter()
            .map(|r| {
                let host: String = r.get(0);
                let doc: BootParams = decode("boot params", r.get::<&str, _>(1))?;
                Ok((HostKey::from_key(&host), doc))
            })
            .collect()
    }

    async fn list_image_params(&self) -> StoreResult<Vec<ImageParams>> {
        self.docs(
            "image params",
            "SELECT doc FROM image_params ORDER BY kind, path",
        )
        .await
    }

    async fn write_boot(&self, w: &BootWrite) -> StoreResult<()> {
        let op = "write boot params";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        for h in &w.delete_hosts {
            sqlx::query("DELETE FROM boot_params WHERE host = ?")
                .bind(h.key())
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        for (kind, path) in &w.delete_images {
            sqlx::query("DELETE FROM image_params WHERE kind = ? AND path = ?")
                .bind(kind.as_str())
                .bind(path)
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        let (host_sql, image_sql) = if w.create_only {
            (
                "INSERT INTO boot_params (host, doc) VALUES (?, ?) ON CONFLICT (host) DO NOTHING",
                "INSERT INTO image_params (kind, path, doc) VALUES (?, ?, ?) ON CONFLICT (kind, path) DO NOTHING",
            )
        } else {
            (
                "INSERT INTO boot_params (host, doc) VALUES (?, ?) ON CONFLICT (host) DO UPDATE SET doc = excluded.doc",
                "INSERT INTO image_params (kind, path, doc) VALUES (?, ?, ?) ON CONFLICT (kind, path) DO UPDATE SET doc = excluded.doc",
            )
        };
        let mut existing = Vec::new();
        for (h, bp) in &w.put_hosts {
            let done = sqlx::query(host_sql)
                .bind(h.key())
                .bind(encode(bp))
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
            if done.rows_affected() == 0 {
                existing.push(h.key());
            }
        }
        for img in &w.put_images {
            let done = sqlx::query(image_sql)
                .bind(img.kind.as_str())
                .bind(&img.path)
                .bind(encode(img))
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
            if done.rows_affected() == 0 {
                existing.push(format!("{} {}", img.kind.as_str(), img.path));
            }
        }
        if !existing.is_empty() {
            // Dropping the transaction rolls it back: nothing is written.
            return Err(StoreError::Conflict {
                what: existing.join(", "),
            });
        }
        tx.commit().await.map_err(backend(op))
    }

    async fn record_endpoint_access(&self, entries: &[EndpointAccess]) -> StoreResult<()> {
        let op = "record endpoint access";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        for e in entries {
            sqlx::query("INSERT INTO endpoint_access (name, endpoint, last_epoch) VALUES (?, ?, ?) ON CONFLICT (name, endpoint) DO UPDATE SET last_epoch = max(last_epoch, excluded.last_epoch)")
                .bind(&e.name)
                .bind(&e.endpoint)
                .bind(e.last_epoch)
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        tx.commit().await.map_err(backend(op))
    }

    async fn list_endpoint_access(&self) -> StoreResult<Vec<EndpointAccess>> {
        let rows = sqlx::query(
            "SELECT name, endpoint, last_epoch FROM endpoint_access ORDER BY name, endpoint",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend("list endpoint access"))?;
        Ok(rows
            .into_iter()
            .map(|r| EndpointAccess {
                name: r.get(0),
                endpoint: r.get(1),
                last_epoch: r.get(2),
            })
            .collect())
    }

    async fn put_boot_token(&self, token: &str, artifacts: &BootArtifacts) -> StoreResult<()> {
        sqlx::query("INSERT INTO boot_tokens (token, created, doc) VALUES (?, ?, ?) ON CONFLICT (token) DO UPDATE SET doc = excluded.doc")
            .bind(token)
            .bind(chrono::Utc::now().to_rfc3339())
            .bind(encode(&ArtifactsRecord::from(artifacts)))
            .execute(&self.pool)
            .await
            .map_err(backend("put boot token"))?;
        Ok(())
    }

    async fn get_boot_token(&self, token: &str) -> StoreResult<Option<BootArtifacts>> {
        let what = "boot token";
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM boot_tokens WHERE token = ?")
            .bind(token)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        doc.map(|d| decode::<ArtifactsRecord>(what, &d).map(Into::into))
            .transpose()
    }

    async fn pin_artifact(
        &self,
        token: &str,
        name: &str,
        etag: &str,
        size: u64,
    ) -> StoreResult<(String, u64)> {
        let op = "pin artifact";
        sqlx::query("INSERT INTO artifact_pins (token, name, etag, size, pinned_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (token, name) DO NOTHING")
            .bind(token)
            .bind(name)
            .bind(etag)
            .bind(size as i64)
            .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .execute(&self.pool)
            .await
            .map_err(backend(op))?;
        let r = sqlx::query("SELECT etag, size FROM artifact_pins WHERE token = ? AND name = ?")
            .bind(token)
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(backend(op))?;
        Ok((r.get(0), r.get::<i64, _>(1) as u64))
    }

    async fn prune_artifact_pins(&self, before: chrono::DateTime<chrono::Utc>) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM artifact_pins WHERE pinned_at < ?")
            .bind(before.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .execute(&self.pool)
            .await
            .map_err(backend("prune artifact pins"))?;
        Ok(r.rows_affected())
    }
}
