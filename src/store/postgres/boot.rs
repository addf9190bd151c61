//! What nodes boot, in PostgreSQL: BSS host and image boot parameters, endpoint history,
//! and the boot artifacts each BSS referral token stands for. Batches go in as arrays
//! (`unnest`), one statement each, with repeated keys folded first (an upsert may not touch
//! a row twice in PostgreSQL; SQLite's row-by-row writes let the last one win).

use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::Row;

use super::{PostgresStore, backend, decode, encode};
use crate::model::{BootArtifacts, BootParams, HostKey, ImageParams};
use crate::store::records::bos::ArtifactsRecord;
use crate::store::{BootStore, BootWrite, EndpointAccess, StoreError, StoreResult};

/// Pin times as sortable text (RFC 3339, UTC, fixed width), as SQLite keeps them.
fn pin_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[async_trait]
impl BootStore for PostgresStore {
    async fn list_boot_params(&self) -> StoreResult<Vec<(HostKey, BootParams)>> {
        let rows = sqlx::query("SELECT host, doc FROM boot_params ORDER BY host")
            .fetch_all(&self.pool)
            .await
            .map_err(backend("list boot params"))?;
        rows.into_iter()
            .map(|r| {
                let host: String = r.get(0);
                let doc: BootParams = decode("boot params", &r.get::<String, _>(1))?;
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
        // Deletes first, then puts, as SQLite does: a host both deleted and put is put.
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        if !w.delete_hosts.is_empty() {
            let hosts: Vec<String> = w.delete_hosts.iter().map(HostKey::key).collect();
            sqlx::query("DELETE FROM boot_params WHERE host = ANY($1)")
                .bind(hosts)
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        if !w.delete_images.is_empty() {
            let (kinds, paths): (Vec<String>, Vec<String>) = w
                .delete_images
                .iter()
                .map(|(kind, path)| (kind.as_str().to_string(), path.clone()))
                .unzip();
            sqlx::query("DELETE FROM image_params WHERE (kind, path) IN (SELECT k, p FROM unnest($1::text[], $2::text[]) AS d(k, p))")
                .bind(kinds)
                .bind(paths)
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        if !w.put_hosts.is_empty() {
            // The last put of a host wins (in key order, so concurrent writers lock alike).
            let last: BTreeMap<String, &BootParams> =
                w.put_hosts.iter().map(|(h, bp)| (h.key(), bp)).collect();
            let (hosts, docs): (Vec<String>, Vec<String>) =
                last.into_iter().map(|(h, bp)| (h, encode(bp))).unzip();
            let asked = hosts.clone();
            let sql = if w.create_only {
                "INSERT INTO boot_params (host, doc) SELECT h, d FROM unnest($1::text[], $2::text[]) AS p(h, d) ON CONFLICT (host) DO NOTHING RETURNING host"
            } else {
                "INSERT INTO boot_params (host, doc) SELECT h, d FROM unnest($1::text[], $2::text[]) AS p(h, d) ON CONFLICT (host) DO UPDATE SET doc = excluded.doc RETURNING host"
            };
            // A concurrent creator of the same host makes this wait for its commit, then
            // do nothing: the conflict is seen, whichever replica wrote first.
            let written: Vec<String> = sqlx::query_scalar(sql)
                .bind(hosts)
                .bind(docs)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend(op))?;
            if written.len() < asked.len() {
                let written: std::collections::HashSet<String> = written.into_iter().collect();
                let existing: Vec<String> =
                    asked.into_iter().filter(|h| !written.contains(h)).collect();
                return Err(StoreError::Conflict {
                    what: existing.join(", "),
                });
            }
        }
        if !w.put_images.is_empty() {
            let last: BTreeMap<(&'static str, &str), &ImageParams> = w
                .put_images
                .iter()
                .map(|img| ((img.kind.as_str(), img.path.as_str()), img))
                .collect();
            let mut kinds = Vec::with_capacity(last.len());
            let mut paths = Vec::with_capacity(last.len());
            let mut docs = Vec::with_capacity(last.len());
            for ((kind, path), img) in last {
                kinds.push(kind.to_string());
                paths.push(path.to_string());
                docs.push(encode(img));
            }
            let asked = kinds.len();
            let sql = if w.create_only {
                "INSERT INTO image_params (kind, path, doc) SELECT k, p, d FROM unnest($1::text[], $2::text[], $3::text[]) AS i(k, p, d) ON CONFLICT (kind, path) DO NOTHING"
            } else {
                "INSERT INTO image_params (kind, path, doc) SELECT k, p, d FROM unnest($1::text[], $2::text[], $3::text[]) AS i(k, p, d) ON CONFLICT (kind, path) DO UPDATE SET doc = excluded.doc"
            };
            let names: Vec<String> = kinds
                .iter()
                .zip(&paths)
                .map(|(k, p)| format!("{k} {p}"))
                .collect();
            let done = sqlx::query(sql)
                .bind(kinds)
                .bind(paths)
                .bind(docs)
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
            if (done.rows_affected() as usize) < asked {
                return Err(StoreError::Conflict {
                    what: format!("image parameters among {}", names.join(", ")),
                });
            }
        }
        tx.commit().await.map_err(backend(op))
    }

    async fn record_endpoint_access(&self, entries: &[EndpointAccess]) -> StoreResult<()> {
        let op = "record endpoint access";
        if entries.is_empty() {
            return Ok(());
        }
        // SQLite applies each entry in turn, keeping the latest time; folding repeats to
        // their latest time first gives the same rows.
        let mut latest: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        for e in entries {
            let t = latest
                .entry((e.name.as_str(), e.endpoint.as_str()))
                .or_insert(e.last_epoch);
            *t = (*t).max(e.last_epoch);
        }
        let mut names = Vec::with_capacity(latest.len());
        let mut endpoints = Vec::with_capacity(latest.len());
        let mut epochs: Vec<i64> = Vec::with_capacity(latest.len());
        for ((name, endpoint), epoch) in latest {
            names.push(name.to_string());
            endpoints.push(endpoint.to_string());
            epochs.push(epoch);
        }
        sqlx::query("INSERT INTO endpoint_access (name, endpoint, last_epoch) SELECT n, e, t FROM unnest($1::text[], $2::text[], $3::bigint[]) AS a(n, e, t) ON CONFLICT (name, endpoint) DO UPDATE SET last_epoch = GREATEST(endpoint_access.last_epoch, excluded.last_epoch)")
            .bind(names)
            .bind(endpoints)
            .bind(epochs)
            .execute(&self.pool)
            .await
            .map_err(backend(op))?;
        Ok(())
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
        sqlx::query("INSERT INTO boot_tokens (token, created, doc) VALUES ($1, $2, $3) ON CONFLICT (token) DO UPDATE SET doc = excluded.doc")
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
        let doc: Option<String> =
            sqlx::query_scalar("SELECT doc FROM boot_tokens WHERE token = $1")
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
        // Read the pin in force; if there is none, try to make ours. An insert that meets a
        // pin another writer is making waits for it to commit and then does nothing, and
        // the next read (a new snapshot) sees it: every caller gets the first pin. A pin
        // pruned between the two steps is simply made again.
        for _ in 0..3 {
            let found =
                sqlx::query("SELECT etag, size FROM artifact_pins WHERE token = $1 AND name = $2")
                    .bind(token)
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend(op))?;
            if let Some(r) = found {
                return Ok((r.get(0), r.get::<i64, _>(1) as u64));
            }
            let made = sqlx::query("INSERT INTO artifact_pins (token, name, etag, size, pinned_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token, name) DO NOTHING RETURNING etag, size")
                .bind(token)
                .bind(name)
                .bind(etag)
                .bind(size as i64)
                .bind(pin_time(chrono::Utc::now()))
                .fetch_optional(&self.pool)
                .await
                .map_err(backend(op))?;
            if let Some(r) = made {
                return Ok((r.get(0), r.get::<i64, _>(1) as u64));
            }
        }
        Err(backend(op)(sqlx::Error::RowNotFound))
    }

    async fn prune_artifact_pins(&self, before: chrono::DateTime<chrono::Utc>) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM artifact_pins WHERE pinned_at < $1")
            .bind(pin_time(before))
            .execute(&self.pool)
            .await
            .map_err(backend("prune artifact pins"))?;
        Ok(r.rows_affected())
    }
}
