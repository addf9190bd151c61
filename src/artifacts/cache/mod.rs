//! The on-disk artifact cache: a boot storm costs one origin read per object.
//!
//! Objects are cached whole, by reference, in files under the cache directory
//! (`<sha256>.data` with a `<sha256>.meta` sidecar, so the cache survives a restart). The
//! first request for an uncached object starts one *fill* — a background task that streams
//! the object from the origin into `<sha256>.partial` and checks its size (and ETag when
//! known) before renaming it into place — and every request, first or not, reads the
//! partial file as it grows (single flight). A fill belongs to no client, so a client that
//! disconnects changes nothing; a failed fill is forgotten and the next request starts
//! another. The total size is bounded: least-recently-used objects are evicted by unlinking
//! their file, which never disturbs a reader that already has it open.
//!
//! This file is the index (what is cached, what is being filled, LRU and the size bound)
//! and the one entry point, [`ArtifactCache::open_object`]; `disk` is the directory's
//! layout, `fill` the background fill, `read` the reader side.

mod disk;
mod fill;
mod read;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{ArtifactSource, ObjectMeta, ObjectRef, SourceError};
use fill::{Fill, FillState};

/// How long origin metadata (size, ETag) is trusted before it is asked again.
const META_TTL: Duration = Duration::from_secs(60);

struct Entry {
    meta: ObjectMeta,
    /// Logical clock of the last use, for LRU.
    used: u64,
}

#[derive(Default)]
struct State {
    entries: HashMap<ObjectRef, Entry>,
    fills: HashMap<ObjectRef, Arc<Fill>>,
    metas: HashMap<ObjectRef, (Instant, ObjectMeta)>,
    total: u64,
    clock: u64,
}

/// Counters, for tests, benchmarks and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub origin_gets: u64,
    pub hits: u64,
    pub fills_failed: u64,
    pub evictions: u64,
    pub bytes: u64,
}

pub struct ArtifactCache {
    dir: PathBuf,
    limit: u64,
    source: Arc<dyn ArtifactSource>,
    state: Mutex<State>,
    stats: Mutex<CacheStats>,
}

/// An object ready to be read from the cache.
pub struct Cached {
    pub meta: ObjectMeta,
    /// The cached copy (or the partial file being filled), opened while the cache's lock
    /// was held, so a concurrent rename or eviction cannot take it away.
    file: std::fs::File,
    progress: Option<watch::Receiver<FillState>>,
    /// Where to read on from if the fill fails on the cache's side (`read`).
    origin: Option<(Arc<dyn ArtifactSource>, ObjectRef)>,
}

impl ArtifactCache {
    /// Open (creating if needed) the cache directory, keeping what earlier runs cached.
    pub fn open(
        dir: &Path,
        limit: u64,
        source: Arc<dyn ArtifactSource>,
    ) -> std::io::Result<ArtifactCache> {
        std::fs::create_dir_all(dir)?;
        let mut state = State::default();
        for (obj, meta) in disk::scan(dir)? {
            state.clock += 1;
            state.total += meta.size;
            state.entries.insert(
                obj,
                Entry {
                    meta,
                    used: state.clock,
                },
            );
        }
        let cache = ArtifactCache {
            dir: dir.to_path_buf(),
            limit,
            source,
            state: Mutex::new(state),
            stats: Mutex::new(CacheStats::default()),
        };
        cache.evict(None);
        Ok(cache)
    }

    pub fn stats(&self) -> CacheStats {
        let mut s = *self.stats.lock().expect("stats lock");
        s.bytes = self.state.lock().expect("cache lock").total;
        s
    }

    pub fn source(&self) -> &Arc<dyn ArtifactSource> {
        &self.source
    }

    /// Origin metadata, trusted for a minute.
    async fn origin_meta(&self, obj: &ObjectRef) -> Result<ObjectMeta, SourceError> {
        if let Some((at, m)) = self.state.lock().expect("cache lock").metas.get(obj)
            && at.elapsed() < META_TTL
        {
            return Ok(m.clone());
        }
        let m = self.source.head(obj).await?;
        self.state
            .lock()
            .expect("cache lock")
            .metas
            .insert(obj.clone(), (Instant::now(), m.clone()));
        Ok(m)
    }

    /// Make `obj` readable from the cache: already there, being filled, or a fill started now.
    pub async fn open_object(self: &Arc<Self>, obj: &ObjectRef) -> Result<Cached, SourceError> {
        let origin = self.origin_meta(obj).await?;
        let io = |e| self.io_error(obj, e);
        let mut st = self.state.lock().expect("cache lock");
        st.clock += 1;
        let clock = st.clock;
        let stale = match st.entries.get_mut(obj) {
            Some(e) if e.meta.size == origin.size && e.meta.etag == origin.etag => {
                e.used = clock;
                let meta = e.meta.clone();
                let file = std::fs::File::open(self.data_path(obj)).map_err(io)?;
                drop(st);
                self.stats.lock().expect("stats lock").hits += 1;
                metrics::counter!("rackboot_artifact_cache_hits_total").increment(1);
                return Ok(Cached {
                    meta,
                    file,
                    progress: None,
                    origin: None,
                });
            }
            Some(_) => true,
            None => false,
        };
        if stale {
            // The origin changed the object: drop the old copy (open readers keep theirs).
            if let Some(e) = st.entries.remove(obj) {
                st.total -= e.meta.size;
            }
            let _ = std::fs::remove_file(self.data_path(obj));
        }
        if let Some(f) = st.fills.get(obj) {
            let file = std::fs::File::open(self.partial_path(obj)).map_err(io)?;
            return Ok(Cached {
                meta: f.meta.clone(),
                file,
                progress: Some(f.progress.clone()),
                origin: Some((self.source.clone(), obj.clone())),
            });
        }
        let file = std::fs::File::create(self.partial_path(obj)).map_err(io)?;
        // Its own open file (not a dup): readers seek without moving the writer.
        let reader = std::fs::File::open(self.partial_path(obj)).map_err(io)?;
        let (tx, rx) = watch::channel(FillState::default());
        st.fills.insert(
            obj.clone(),
            Arc::new(Fill {
                meta: origin.clone(),
                progress: rx.clone(),
            }),
        );
        drop(st);
        let this = self.clone();
        let (obj2, origin2) = (obj.clone(), origin.clone());
        tokio::spawn(async move {
            let result = this
                .fill(&obj2, &origin2, tokio::fs::File::from_std(file), &tx)
                .await;
            this.finish(&obj2, &origin2, result, &tx);
        });
        Ok(Cached {
            meta: origin,
            file: reader,
            progress: Some(rx),
            origin: Some((self.source.clone(), obj.clone())),
        })
    }

    fn io_error(&self, obj: &ObjectRef, e: std::io::Error) -> SourceError {
        SourceError::Unavailable {
            source_name: format!("the cache in {}", self.dir.display()),
            object: obj.to_string(),
            cause: e.to_string(),
        }
    }

    /// Evict least-recently-used objects until the total fits (never `keep`).
    fn evict(&self, keep: Option<&ObjectRef>) {
        let mut st = self.state.lock().expect("cache lock");
        while st.total > self.limit {
            let victim = st
                .entries
                .iter()
                .filter(|(k, _)| Some(*k) != keep)
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            let Some(v) = victim else { break };
            let e = st.entries.remove(&v).expect("victim exists");
            st.total -= e.meta.size;
            let data = self.data_path(&v);
            let _ = std::fs::remove_file(data.with_extension("meta"));
            let _ = std::fs::remove_file(&data);
            self.stats.lock().expect("stats lock").evictions += 1;
        }
    }
}
