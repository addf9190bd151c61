//! The cache against a real local source made slow (and, on request, failing mid-stream):
//! single flight under concurrent readers, ranges, restarts, failed fills, clients that go
//! away, and eviction that never breaks an open reader.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

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
    let again =
        Arc::new(ArtifactCache::open(&dir.path().join("cache"), 1 << 30, slow.clone()).unwrap());
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
