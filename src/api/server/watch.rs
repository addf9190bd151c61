//! A connection's clock: when it last read or wrote, and whether it is between requests,
//! reading a request's headers, or serving a request. The accept loop sleeps until the
//! next moment the connection could be overdue and cuts it off if it is:
//! - **headers**: the first byte of a request arrived more than `header_timeout` ago, the
//!   request is still not complete, and nothing was written since (a client sending one
//!   byte a second stays busy, but never finishes);
//! - **idle**: nothing read or written for `idle_timeout` between requests.
//!
//! A request being served is never cut here: a long artifact download writes all the time,
//! and a slow upstream is the handler's to time out. The bookkeeping is a few relaxed
//! atomic stores per read or write, and one timer per connection (waking every quarter of
//! the header timeout), not one per request; a connection is cut between one and one and a
//! quarter timeouts after it became overdue.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    Idle = 0,
    Headers = 1,
    InRequest = 2,
}

pub struct Watch {
    origin: Instant,
    phase: AtomicU8,
    /// Milliseconds since `origin`.
    headers_since: AtomicU64,
    last_read: AtomicU64,
    last_write: AtomicU64,
}

impl Watch {
    pub fn new() -> Watch {
        Watch {
            origin: Instant::now(),
            phase: AtomicU8::new(Phase::Idle as u8),
            headers_since: AtomicU64::new(0),
            last_read: AtomicU64::new(0),
            last_write: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    pub fn set(&self, p: Phase) {
        self.phase.store(p as u8, Relaxed);
    }

    fn phase(&self) -> Phase {
        match self.phase.load(Relaxed) {
            1 => Phase::Headers,
            2 => Phase::InRequest,
            _ => Phase::Idle,
        }
    }

    fn read(&self) {
        let now = self.now();
        self.last_read.store(now, Relaxed);
        if self.phase() == Phase::Idle {
            self.headers_since.store(now, Relaxed);
            self.set(Phase::Headers);
        }
    }

    fn wrote(&self) {
        self.last_write.store(self.now(), Relaxed);
    }

    /// When to look at the connection next: when it could next be overdue, or a quarter of
    /// the header timeout from now, whichever is sooner (a read between looks can start a
    /// request's headers, whose clock the previous look did not know of).
    pub fn deadline(&self, header: Duration, idle: Duration) -> Instant {
        self.overdue_at(header, idle)
            .min(Instant::now() + header / 4)
    }

    fn overdue_at(&self, header: Duration, idle: Duration) -> Instant {
        let ms = |d: Duration| d.as_millis() as u64;
        let last = self
            .last_read
            .load(Relaxed)
            .max(self.last_write.load(Relaxed));
        let at = match self.phase() {
            Phase::Headers => {
                self.headers_since
                    .load(Relaxed)
                    .max(self.last_write.load(Relaxed))
                    + ms(header)
            }
            Phase::Idle => last + ms(idle),
            Phase::InRequest => self.now() + ms(idle.min(header)),
        };
        self.origin + Duration::from_millis(at.max(self.now() + 10))
    }

    /// Why the connection is overdue, if it is.
    pub fn expired(&self, header: Duration, idle: Duration) -> Option<&'static str> {
        let now = self.now();
        let ms = |d: Duration| d.as_millis() as u64;
        match self.phase() {
            Phase::Headers => {
                let since = self
                    .headers_since
                    .load(Relaxed)
                    .max(self.last_write.load(Relaxed));
                (now.saturating_sub(since) >= ms(header)).then_some("header_timeout")
            }
            Phase::Idle => {
                let last = self
                    .last_read
                    .load(Relaxed)
                    .max(self.last_write.load(Relaxed));
                (now.saturating_sub(last) >= ms(idle)).then_some("idle_timeout")
            }
            Phase::InRequest => None,
        }
    }
}

/// An I/O stream that tells its [`Watch`] about every read and write.
pub struct Watched<I> {
    inner: I,
    watch: Arc<Watch>,
}

impl<I> Watched<I> {
    pub fn new(inner: I, watch: Arc<Watch>) -> Watched<I> {
        Watched { inner, watch }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.watch.read();
        }
        r
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.watch.wrote();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.watch.wrote();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_that_never_finish_expire_and_served_requests_do_not() {
        let w = Watch::new();
        let (h, i) = (Duration::ZERO, Duration::from_secs(3600));
        assert_eq!(
            w.expired(h, i),
            None,
            "a fresh connection is within its idle time"
        );
        w.read();
        assert_eq!(w.expired(h, i), Some("header_timeout"));
        w.set(Phase::InRequest);
        assert_eq!(w.expired(h, i), None);
        w.set(Phase::Idle);
        assert_eq!(
            w.expired(Duration::from_secs(3600), Duration::ZERO),
            Some("idle_timeout")
        );
    }
}
