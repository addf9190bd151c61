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

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::sync::watch;

use super::{ArtifactSource, ObjectMeta, ObjectRef, SourceError};

/// How long origin metadata (size, ETag) is trusted before it is asked again.
const META_TTL: Duration = Duration::from_secs(60);
/// Chunk size for reads from the cache file.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Sidecar {
    object: String,
    size: u64,
    etag: Option<String>,
    last_modified: chrono::DateTime<chrono::Utc>,
}

struct Entry {
    meta: ObjectMeta,
    /// Logical clock of the last use, for LRU.
    used: u64,
}

/// Progress of one fill, watched by every reader of the object.
#[derive(Debug, Clone, Default)]
struct FillState {
    written: u64,
    done: Option<Result<(), String>>,
}

struct Fill {
    meta: ObjectMeta,
    progress: watch::Receiver<FillState>,
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
}

fn hash(obj: &ObjectRef) -> String {
    Sha256::digest(obj.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
        let mut found: Vec<(std::time::SystemTime, ObjectRef, ObjectMeta)> = Vec::new();
        for e in std::fs::read_dir(dir)? {
            let path = e?.path();
            match path.extension().and_then(|x| x.to_str()) {
                Some("partial") => {
                    let _ = std::fs::remove_file(&path);
                }
                Some("meta") => {
                    let data = path.with_extension("data");
                    let side = std::fs::read(&path)
                        .ok()
                        .and_then(|b| serde_json::from_slice::<Sidecar>(&b).ok());
                    let obj = side.as_ref().and_then(|s| ObjectRef::parse(&s.object).ok());
                    let len = std::fs::metadata(&data).ok().map(|m| m.len());
                    match (side, obj, len) {
                        (Some(s), Some(obj), Some(len))
                            if len == s.size && hash(&obj) == stem(&path) =>
                        {
                            let used = std::fs::metadata(&data)
                                .and_then(|m| m.accessed().or_else(|_| m.modified()))
                                .unwrap_or(std::time::UNIX_EPOCH);
                            found.push((
                                used,
                                obj,
                                ObjectMeta {
                                    size: s.size,
                                    etag: s.etag,
                                    last_modified: s.last_modified,
                                },
                            ));
                        }
                        _ => {
                            let _ = std::fs::remove_file(&path);
                            let _ = std::fs::remove_file(&data);
                        }
                    }
                }
                _ => {}
            }
        }
        found.sort_by_key(|(t, _, _)| *t);
        for (_, obj, meta) in found {
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

    fn data_path(&self, obj: &ObjectRef) -> PathBuf {
        self.dir.join(format!("{}.data", hash(obj)))
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
        })
    }

    fn partial_path(&self, obj: &ObjectRef) -> PathBuf {
        self.dir.join(format!("{}.partial", hash(obj)))
    }

    fn io_error(&self, obj: &ObjectRef, e: std::io::Error) -> SourceError {
        SourceError::Unavailable {
            source_name: format!("the cache in {}", self.dir.display()),
            object: obj.to_string(),
            cause: e.to_string(),
        }
    }

    /// Stream the object from the origin into the partial file.
    async fn fill(
        &self,
        obj: &ObjectRef,
        origin: &ObjectMeta,
        mut file: tokio::fs::File,
        tx: &watch::Sender<FillState>,
    ) -> Result<(), String> {
        self.stats.lock().expect("stats lock").origin_gets += 1;
        metrics::counter!("rackboot_artifact_origin_gets_total").increment(1);
        let (got, mut stream) = self.source.get(obj).await.map_err(|e| e.to_string())?;
        if got.etag.is_some() && origin.etag.is_some() && got.etag != origin.etag {
            return Err(format!(
                "{obj} changed while it was being fetched (ETag {:?}, expected {:?})",
                got.etag, origin.etag
            ));
        }
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            // tokio writes in the background: flush so the bytes are in the file before
            // readers are told they are.
            file.write_all(&chunk)
                .await
                .map_err(|e| format!("writing the cache: {e}"))?;
            file.flush()
                .await
                .map_err(|e| format!("writing the cache: {e}"))?;
            written += chunk.len() as u64;
            tx.send_modify(|s| s.written = written);
        }
        file.flush()
            .await
            .map_err(|e| format!("writing the cache: {e}"))?;
        if written != origin.size {
            return Err(format!(
                "{obj}: the origin sent {written} bytes, expected {}",
                origin.size
            ));
        }
        Ok(())
    }

    /// Publish a finished fill (rename into place, index, evict) or forget a failed one.
    fn finish(
        &self,
        obj: &ObjectRef,
        origin: &ObjectMeta,
        result: Result<(), String>,
        tx: &watch::Sender<FillState>,
    ) {
        let partial = self.partial_path(obj);
        let data = self.data_path(obj);
        // Publish under the lock, so a reader joining this fill opens the partial file
        // before it is renamed, or finds the entry after.
        let mut st = self.state.lock().expect("cache lock");
        let result = result.and_then(|()| {
            let side = Sidecar {
                object: obj.to_string(),
                size: origin.size,
                etag: origin.etag.clone(),
                last_modified: origin.last_modified,
            };
            std::fs::write(
                data.with_extension("meta"),
                serde_json::to_vec(&side).expect("sidecar serialises"),
            )
            .and_then(|()| std::fs::rename(&partial, &data))
            .map_err(|e| format!("publishing the cached copy: {e}"))
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
                tracing::warn!(object = %obj, error = %e, "artifact fill failed; the next request retries");
                let _ = std::fs::remove_file(&partial);
                st.metas.remove(obj);
                self.stats.lock().expect("stats lock").fills_failed += 1;
            }
        }
        drop(st);
        tx.send_modify(|s| s.done = Some(result));
        self.evict(Some(obj));
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

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string()
}

impl Cached {
    /// Stream `range` (end exclusive) of the object, waiting for a fill in progress to get
    /// there. The file is opened once, so eviction or the fill's rename cannot disturb it.
    pub async fn read(
        self,
        range: std::ops::Range<u64>,
    ) -> std::io::Result<BoxStream<'static, std::io::Result<Bytes>>> {
        let mut file = tokio::fs::File::from_std(self.file);
        file.seek(SeekFrom::Start(range.start)).await?;
        let state = (file, range.start, range.end, self.progress);
        Ok(
            futures::stream::unfold(state, |(mut file, pos, end, mut progress)| async move {
                if pos >= end {
                    return None;
                }
                // Wait until the fill has written past `pos` (or finished).
                if let Some(rx) = progress.as_mut() {
                    loop {
                        let s = rx.borrow_and_update().clone();
                        if let Some(Err(e)) = &s.done {
                            return Some((
                                Err(std::io::Error::other(e.clone())),
                                (file, end, end, None),
                            ));
                        }
                        if s.written > pos || s.done.is_some() {
                            break;
                        }
                        if rx.changed().await.is_err() {
                            break;
                        }
                    }
                }
                let available = match progress.as_ref() {
                    Some(rx) => {
                        let s = rx.borrow().clone();
                        match s.done {
                            Some(Ok(())) => end,
                            Some(Err(e)) => {
                                return Some((
                                    Err(std::io::Error::other(e)),
                                    (file, end, end, None),
                                ));
                            }
                            None => s.written.min(end),
                        }
                    }
                    None => end,
                };
                let want = ((available - pos) as usize).min(CHUNK);
                let mut buf = vec![0u8; want];
                match file.read(&mut buf).await {
                    Ok(0) => Some((
                        Err(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "the cached copy ended early",
                        )),
                        (file, end, end, None),
                    )),
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(Bytes::from(buf)), (file, pos + n as u64, end, progress)))
                    }
                    Err(e) => Some((Err(e), (file, end, end, None))),
                }
            })
            .boxed(),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    use async_trait::async_trait;
    use futures::TryStreamExt;

    use super::*;
    use crate::artifacts::source::{ByteStream, SourceConfig, open_source};

    /// A real local source that streams slowly in small chunks and can fail mid-stream:
    /// enough to make concurrent requests overlap a fill.
    struct Slow {
        inner: Arc<dyn ArtifactSource>,
        gets: AtomicU64,
        fail_mid_stream: AtomicBool,
    }

    #[async_trait]
    impl ArtifactSource for Slow {
        fn name(&self) -> &str {
            "slow local"
        }
        async fn head(&self, obj: &ObjectRef) -> Result<ObjectMeta, SourceError> {
            self.inner.head(obj).await
        }
        async fn get(&self, obj: &ObjectRef) -> Result<(ObjectMeta, ByteStream), SourceError> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            let (m, s) = self.inner.get(obj).await?;
            let all: Vec<Bytes> = s.try_collect().await?;
            let body = Bytes::from(all.concat());
            let fail = self.fail_mid_stream.load(Ordering::SeqCst);
            let chunks: Vec<Bytes> = body.chunks(64 * 1024).map(Bytes::copy_from_slice).collect();
            let n = chunks.len();
            let stream = futures::stream::iter(chunks.into_iter().enumerate())
                .then(move |(i, c)| async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    if fail && i == n / 2 {
                        return Err(SourceError::Unavailable {
                            source_name: "slow local".into(),
                            object: "x".into(),
                            cause: "connection reset".into(),
                        });
                    }
                    Ok(c)
                })
                .boxed();
            Ok((m, stream))
        }
        async fn put(&self, obj: &ObjectRef, data: Bytes) -> Result<ObjectMeta, SourceError> {
            self.inner.put(obj, data).await
        }
        async fn put_stream(
            &self,
            obj: &ObjectRef,
            data: BoxStream<'static, Result<Bytes, String>>,
        ) -> Result<ObjectMeta, SourceError> {
            self.inner.put_stream(obj, data).await
        }
        async fn delete(&self, obj: &ObjectRef) -> Result<(), SourceError> {
            self.inner.delete(obj).await
        }
        async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
            self.inner.list(bucket, prefix).await
        }
    }

    fn body(n: usize, seed: u8) -> Bytes {
        Bytes::from(
            (0..n)
                .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
                .collect::<Vec<_>>(),
        )
    }

    async fn setup(limit: u64) -> (tempfile::TempDir, Arc<Slow>, Arc<ArtifactCache>) {
        let dir = tempfile::tempdir().unwrap();
        let inner = open_source(&SourceConfig::Local {
            root: dir.path().join("origin"),
        })
        .unwrap();
        let slow = Arc::new(Slow {
            inner,
            gets: AtomicU64::new(0),
            fail_mid_stream: AtomicBool::new(false),
        });
        let cache =
            Arc::new(ArtifactCache::open(&dir.path().join("cache"), limit, slow.clone()).unwrap());
        (dir, slow, cache)
    }

    async fn read_all(cache: &Arc<ArtifactCache>, obj: &ObjectRef) -> std::io::Result<Vec<u8>> {
        let c = cache
            .open_object(obj)
            .await
            .map_err(std::io::Error::other)?;
        let size = c.meta.size;
        let parts: Vec<Bytes> = c.read(0..size).await?.try_collect().await?;
        Ok(parts.concat())
    }

    #[tokio::test]
    async fn concurrent_readers_of_an_uncached_object_cause_one_origin_get() {
        let (_d, slow, cache) = setup(1 << 30).await;
        let obj = ObjectRef::parse("s3://b/img/kernel").unwrap();
        let data = body(3 << 20, 7);
        slow.put(&obj, data.clone()).await.unwrap();
        let reads = (0..50).map(|_| read_all(&cache, &obj));
        for r in futures::future::join_all(reads).await {
            assert!(r.unwrap() == data, "a reader got different bytes");
        }
        assert_eq!(slow.gets.load(Ordering::SeqCst), 1);
        // Cached now: another read is a hit.
        assert_eq!(read_all(&cache, &obj).await.unwrap(), data);
        assert_eq!(cache.stats().origin_gets, 1);
        assert!(cache.stats().hits >= 1);
    }

    #[tokio::test]
    async fn ranges_and_a_cache_that_survives_a_restart() {
        let (dir, slow, cache) = setup(1 << 30).await;
        let obj = ObjectRef::parse("s3://b/img/initrd").unwrap();
        let data = body(1 << 20, 3);
        slow.put(&obj, data.clone()).await.unwrap();
        let c = cache.open_object(&obj).await.unwrap();
        let part: Vec<Bytes> = c
            .read(1000..5000)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(part.concat(), data[1000..5000]);
        // Wait for the fill to land, then reopen the cache from disk.
        assert_eq!(read_all(&cache, &obj).await.unwrap(), data);
        drop(cache);
        let again = Arc::new(
            ArtifactCache::open(&dir.path().join("cache"), 1 << 30, slow.clone()).unwrap(),
        );
        assert_eq!(read_all(&again, &obj).await.unwrap(), data);
        assert_eq!(
            slow.gets.load(Ordering::SeqCst),
            1,
            "served from disk after the restart"
        );
        assert_eq!(again.stats().bytes, 1 << 20);
    }

    #[tokio::test]
    async fn a_failed_fill_is_not_cached_and_the_next_request_retries() {
        let (_d, slow, cache) = setup(1 << 30).await;
        let obj = ObjectRef::parse("s3://b/img/rootfs").unwrap();
        let data = body(1 << 20, 9);
        slow.put(&obj, data.clone()).await.unwrap();
        slow.fail_mid_stream.store(true, Ordering::SeqCst);
        let e = read_all(&cache, &obj).await.unwrap_err();
        assert!(e.to_string().contains("connection reset"), "{e}");
        assert_eq!(cache.stats().fills_failed, 1);
        slow.fail_mid_stream.store(false, Ordering::SeqCst);
        assert_eq!(read_all(&cache, &obj).await.unwrap(), data);
        assert_eq!(slow.gets.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_client_that_goes_away_does_not_stop_the_fill() {
        let (_d, slow, cache) = setup(1 << 30).await;
        let obj = ObjectRef::parse("s3://b/img/kernel").unwrap();
        let data = body(1 << 20, 1);
        slow.put(&obj, data.clone()).await.unwrap();
        let c = cache.open_object(&obj).await.unwrap();
        let mut s = c.read(0..data.len() as u64).await.unwrap();
        let _first = s.next().await.unwrap().unwrap();
        drop(s);
        // The fill goes on; the next reader gets the whole object, with no new origin GET.
        assert_eq!(read_all(&cache, &obj).await.unwrap(), data);
        assert_eq!(slow.gets.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn least_recently_used_objects_are_evicted_without_breaking_open_readers() {
        let (_d, slow, cache) = setup(2_500_000).await;
        let objs: Vec<ObjectRef> = (0..3)
            .map(|i| ObjectRef::parse(&format!("s3://b/img{i}/kernel")).unwrap())
            .collect();
        let datas: Vec<Bytes> = (0..3).map(|i| body(1 << 20, i as u8)).collect();
        for (o, d) in objs.iter().zip(&datas) {
            slow.put(o, d.clone()).await.unwrap();
        }
        assert_eq!(read_all(&cache, &objs[0]).await.unwrap(), datas[0]);
        assert_eq!(read_all(&cache, &objs[1]).await.unwrap(), datas[1]);
        // Hold a reader of 1 open, then touch 0, so 1 is the least recently used.
        let held = cache.open_object(&objs[1]).await.unwrap();
        assert_eq!(read_all(&cache, &objs[0]).await.unwrap(), datas[0]);
        // A third object does not fit: 1 goes.
        assert_eq!(read_all(&cache, &objs[2]).await.unwrap(), datas[2]);
        assert_eq!(cache.stats().evictions, 1);
        assert!(cache.stats().bytes <= 2_500_000);
        // The reader opened before the eviction still reads all of it.
        let parts: Vec<Bytes> = held
            .read(0..1 << 20)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(parts.concat(), datas[1]);
        // And 0 is still cached; 1 needs the origin again.
        let before = slow.gets.load(Ordering::SeqCst);
        read_all(&cache, &objs[0]).await.unwrap();
        assert_eq!(slow.gets.load(Ordering::SeqCst), before);
        read_all(&cache, &objs[1]).await.unwrap();
        assert_eq!(slow.gets.load(Ordering::SeqCst), before + 1);
    }
}
