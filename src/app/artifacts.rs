//! Artifact use cases: resolve a node's token to one of its artifacts and open it through
//! the cache. Not an open proxy: a token opens only the artifacts named by the boot
//! parameters it was minted for, and a superseded token opens nothing.

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
        let whose = node
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_else(|| "unknown nodes".into());
        match self.artifacts.open_object(obj).await {
            Ok(c) => Ok((node, c)),
            Err(e @ SourceError::NotFound { .. }) => Err(AppError::not_found(format!(
                "artifact '{name}' of {whose}: {e}"
            ))),
            Err(e) => Err(AppError::Upstream(format!(
                "artifact '{name}' of {whose}: {e}"
            ))),
        }
    }
}
