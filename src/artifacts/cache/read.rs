//! Reading a cached object: a byte range of the cached copy, or of the partial file while
//! its fill is still writing it, waiting for the fill to get past each chunk.
//!
//! The file was opened while the cache's lock was held, so neither the fill's rename nor an
//! eviction (an unlink) can take it away from a reader that already has it. A fill that fails
//! at the origin ends every read of it with the fill's error; one that fails on the cache's
//! side (disk full, read-only) leaves the origin good, so each reader goes on from the origin
//! directly, from where it was: a node is never sent a cut artifact because the cache's disk
//! filled up.

use std::io::SeekFrom;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::Cached;
use super::fill::FillState;
use crate::artifacts::source::ByteStream;
use crate::artifacts::{ArtifactSource, ObjectRef};

/// Chunk size for reads from the cache file.
const CHUNK: usize = 256 * 1024;

/// Where a reader is: in the cache file, or (after a cache-side failure) in the origin's
/// stream, `at` bytes into the object.
struct Reader {
    file: tokio::fs::File,
    pos: u64,
    end: u64,
    progress: Option<tokio::sync::watch::Receiver<FillState>>,
    origin: Option<(Arc<dyn ArtifactSource>, ObjectRef)>,
    direct: Option<(ByteStream, u64)>,
}

type Step = Option<(std::io::Result<Bytes>, Reader)>;

impl Reader {
    fn fail(mut self, e: std::io::Error) -> Step {
        self.pos = self.end;
        self.progress = None;
        self.direct = None;
        Some((Err(e), self))
    }

    /// The next chunk from the origin's own stream, skipping what was already sent.
    async fn read_origin(mut self) -> Step {
        if self.direct.is_none() {
            let Some((source, obj)) = self.origin.take() else {
                return self.fail(std::io::Error::other("the cache failed"));
            };
            tracing::info!(object = %obj, at = self.pos, "the cache cannot be written; serving the rest from the origin");
            match source.get(&obj).await {
                Ok((_, stream)) => self.direct = Some((stream, 0)),
                Err(e) => return self.fail(std::io::Error::other(e.to_string())),
            }
        }
        loop {
            let (stream, at) = self.direct.as_mut().expect("set above");
            match stream.next().await {
                None => {
                    return self.fail(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the origin ended early",
                    ));
                }
                Some(Err(e)) => return self.fail(std::io::Error::other(e.to_string())),
                Some(Ok(chunk)) => {
                    let (from, to) = (*at, *at + chunk.len() as u64);
                    *at = to;
                    if to <= self.pos {
                        continue;
                    }
                    let skip = (self.pos - from) as usize;
                    let take = (to.min(self.end) - self.pos) as usize;
                    let out = chunk.slice(skip..skip + take);
                    self.pos += take as u64;
                    return Some((Ok(out), self));
                }
            }
        }
    }

    async fn next(mut self) -> Step {
        if self.pos >= self.end {
            return None;
        }
        if self.direct.is_some() {
            return self.read_origin().await;
        }
        // Wait until the fill has written past `pos` (or finished).
        if let Some(rx) = self.progress.as_mut() {
            loop {
                let s = rx.borrow_and_update().clone();
                if let Some(Err(e)) = &s.done {
                    if e.cache_side && self.origin.is_some() {
                        return self.read_origin().await;
                    }
                    return self.fail(std::io::Error::other(e.message.clone()));
                }
                if s.written > self.pos || s.done.is_some() {
                    break;
                }
                if rx.changed().await.is_err() {
                    break;
                }
            }
        }
        let available = match self.progress.as_ref() {
            Some(rx) => {
                let s = rx.borrow().clone();
                match s.done {
                    Some(Ok(())) => self.end,
                    Some(Err(e)) if e.cache_side && self.origin.is_some() => {
                        return self.read_origin().await;
                    }
                    Some(Err(e)) => return self.fail(std::io::Error::other(e.message)),
                    None => s.written.min(self.end),
                }
            }
            None => self.end,
        };
        let want = ((available - self.pos) as usize).min(CHUNK);
        let mut buf = vec![0u8; want];
        match self.file.read(&mut buf).await {
            Ok(0) => self.fail(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the cached copy ended early",
            )),
            Ok(n) => {
                buf.truncate(n);
                self.pos += n as u64;
                Some((Ok(Bytes::from(buf)), self))
            }
            Err(e) => self.fail(e),
        }
    }
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
        let reader = Reader {
            file,
            pos: range.start,
            end: range.end,
            progress: self.progress,
            origin: self.origin,
            direct: None,
        };
        Ok(futures::stream::unfold(reader, Reader::next).boxed())
    }
}
