//! Reading a cached object: a byte range of the cached copy, or of the partial file while
//! its fill is still writing it, waiting for the fill to get past each chunk.
//!
//! The file was opened while the cache's lock was held, so neither the fill's rename nor an
//! eviction (an unlink) can take it away from a reader that already has it; a fill that
//! fails ends every read of it with the fill's error.

use std::io::SeekFrom;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::Cached;

/// Chunk size for reads from the cache file.
const CHUNK: usize = 256 * 1024;

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
