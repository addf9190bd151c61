//! Artifact use cases: resolve a node's token to one of its artifacts and open it through
//! the cache. Not an open proxy: a token opens only the artifacts named by the boot
//! parameters it was minted for, and a superseded token opens nothing. A token also stands
//! for the exact object it first served (ETag and size, pinned in the store): if the object
//! is replaced while the token lives (an image re-uploaded under the same name), the token
//! refuses the new bytes with a 409 rather than hand a booting node a different kernel than
//! its initrd, or an image nobody asked it to boot. Pins are cached here after their first
//! check, so range requests cost no store access.

use super::{App, AppError, AppResult};
use crate::artifacts::SourceError;
use crate::artifacts::cache::Cached;
use crate::model::Xname;

impl App {
    /// The node the token belongs to (`None` for an unknown node's discovery boot) and the
    /// opened artifact.
    pub async fn open_artifact(
        &self,
        token: &str,
        name: &str,
        client: Option<&str>,
    ) -> AppResult<(Option<Xname>, Cached)> {
        let idx = self.boot.get().await?;
        let unknown = || {
            AppError::not_found(format!(
                "no artifact '{name}' for this token (unknown or superseded token)"
            ))
        };
        let arts = idx.tokens.get(token).ok_or_else(unknown)?;
        let obj = arts.objects.get(name).ok_or_else(unknown)?;
        let node = arts.node.clone();
        if let Some(x) = &node {
            self.check_bound(&idx, x, client)?;
        }
        let whose = node
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_else(|| "unknown nodes".into());
        match self.artifacts.open_object(obj).await {
            Ok(c) => {
                self.check_pin(token, name, &whose, &c.meta).await?;
                Ok((node, c))
            }
            Err(e @ SourceError::NotFound { .. }) => Err(AppError::not_found(format!(
                "artifact '{name}' of {whose}: {e}"
            ))),
            Err(e) => Err(AppError::Upstream(format!(
                "artifact '{name}' of {whose}: {e}"
            ))),
        }
    }
}

impl App {
    /// Forget pins made before `before` (a token still in use is pinned again at its next
    /// fetch).
    pub async fn prune_artifact_pins(
        &self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<u64> {
        self.artifact_pins.lock().expect("pins lock").clear();
        Ok(self.store.prune_artifact_pins(before).await?)
    }

    /// Refuse `meta` unless it is the object `(token, name)` first served.
    async fn check_pin(
        &self,
        token: &str,
        name: &str,
        whose: &str,
        meta: &crate::artifacts::ObjectMeta,
    ) -> AppResult<()> {
        let etag = meta.etag.clone().unwrap_or_default();
        let key = (token.to_string(), name.to_string());
        let cached = self
            .artifact_pins
            .lock()
            .expect("pins lock")
            .get(&key)
            .cloned();
        let pin = match cached {
            Some(p) => p,
            None => {
                let p = self
                    .store
                    .pin_artifact(token, name, &etag, meta.size)
                    .await?;
                let mut pins = self.artifact_pins.lock().expect("pins lock");
                if pins.len() > 100_000 {
                    pins.clear();
                }
                pins.insert(key, p.clone());
                p
            }
        };
        if pin != (etag.clone(), meta.size) {
            return Err(AppError::Conflict(format!(
                "artifact '{name}' of {whose} changed after this boot's token first served it (ETag {:?}, {} bytes; now {:?}, {} bytes): a token serves only the object it began with; write the node's boot parameters again to boot the new one",
                pin.0, pin.1, etag, meta.size
            )));
        }
        Ok(())
    }
}
