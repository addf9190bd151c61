//! A fill: one background task that streams an object from the origin into its partial
//! file, telling every reader how far it has got, then publishes the copy or forgets it.
//!
//! A fill belongs to no client (it is spawned, not awaited by a request), so a client that
//! disconnects changes nothing, and every concurrent request reads the one partial file as
//! it grows (single flight: one origin read per object, however many nodes boot at once).
//! The size, and the ETag when the origin gives one, are checked before the copy is
//! published; a failed fill is forgotten under the lock and the next request starts
//! another.

use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use super::{ArtifactCache, Entry, disk};
use crate::artifacts::{ObjectMeta, ObjectRef};

/// Progress of one fill, watched by every reader of the object.
#[derive(Debug, Clone, Default)]
pub(super) struct FillState {
    pub(super) written: u64,
    pub(super) done: Option<Result<(), FillError>>,
}

/// Why a fill failed, and whose fault it was: a cache that cannot be written (disk full,
/// read-only) leaves the origin's bytes good, so readers go on from the origin directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FillError {
    pub(super) message: String,
    pub(super) cache_side: bool,
}

impl FillError {
    fn origin(message: String) -> FillError {
        FillError {
            message,
            cache_side: false,
        }
    }

    fn cache(e: std::io::Error) -> FillError {
        FillError {
            message: format!("writing the cache: {e}"),
            cache_side: true,
        }
    }
}

pub(super) struct Fill {
    pub(super) meta: ObjectMeta,
    pub(super) progress: watch::Receiver<FillState>,
}

impl ArtifactCache {
    /// Stream the object from the origin into the partial file.
    pub(super) async fn fill(
        &self,
        obj: &ObjectRef,
        origin: &ObjectMeta,
        mut file: tokio::fs::File,
        tx: &watch::Sender<FillState>,
    ) -> Result<(), FillError> {
        self.stats.lock().expect("stats lock").origin_gets += 1;
        metrics::counter!("rackboot_artifact_origin_gets_total").increment(1);
        let (got, mut stream) = self
            .source
            .get(obj)
            .await
            .map_err(|e| FillError::origin(e.to_string()))?;
        if got.etag.is_some() && origin.etag.is_some() && got.etag != origin.etag {
            return Err(FillError::origin(format!(
                "{obj} changed while it was being fetched (ETag {:?}, expected {:?})",
                got.etag, origin.etag
            )));
        }
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| FillError::origin(e.to_string()))?;
            // tokio writes in the background: flush so the bytes are in the file before
            // readers are told they are.
            file.write_all(&chunk).await.map_err(FillError::cache)?;
            file.flush().await.map_err(FillError::cache)?;
            written += chunk.len() as u64;
            tx.send_modify(|s| s.written = written);
        }
        file.flush().await.map_err(FillError::cache)?;
        if written != origin.size {
            return Err(FillError::origin(format!(
                "{obj}: the origin sent {written} bytes, expected {}",
                origin.size
            )));
        }
        Ok(())
    }

    /// Publish a finished fill (rename into place, index, evict) or forget a failed one.
    pub(super) fn finish(
        &self,
        obj: &ObjectRef,
        origin: &ObjectMeta,
        result: Result<(), FillError>,
        tx: &watch::Sender<FillState>,
    ) {
        let partial = self.partial_path(obj);
        let data = self.data_path(obj);
        // Publish under the lock, so a reader joining this fill opens the partial file
        // before it is renamed, or finds the entry after.
        let mut st = self.state.lock().expect("cache lock");
        let result = result.and_then(|()| {
            disk::publish(&partial, &data, obj, origin).map_err(|e| FillError {
                message: format!("publishing the cached copy: {e}"),
                cache_side: true,
            })
        });
        st.fills.remove(obj);
        match &result {
            Ok(()) => {
                st.clock += 1;
                let used = st.clock;
                st.total += origin.size;
                st.entries.insert(
                    obj.clone(),
                    Entry {
                        meta: origin.clone(),
                        used,
                    },
                );
            }
            Err(e) => {
                tracing::warn!(object = %obj, error = %e.message, "artifact fill failed; the next request retries");
                let _ = std::fs::remove_file(&partial);
                st.metas.remove(obj);
                self.stats.lock().expect("stats lock").fills_failed += 1;
            }
        }
        drop(st);
        tx.send_modify(|s| s.done = Some(result));
        self.evict(Some(obj));
    }
}
