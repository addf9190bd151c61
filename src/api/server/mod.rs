//! The HTTP listeners: accept TCP (and TLS on the control plane), serve HTTP/1.1 with
//! keep-alive through hyper, and give every request the client's address (`ConnectInfo`,
//! which the boot timelines and the boot-plane checks use).
//!
//! Our own loop rather than `axum::serve`, for three reasons:
//! - a client that half-closes its side once it has sent its request (busybox `nc` in an
//!   initramfs, some HTTP/1.0 tools) must still get the answer: hyper drops it unless
//!   `half_close` is on, which `axum::serve` cannot turn on (measured before this loop: 0 of
//!   200 such requests for a boot script were answered);
//! - slow and idle clients are cut off here (see [`watch`]) without hyper's per-request
//!   header timer, which cost about 5 % of bootscript throughput (bench/bootscript.sh);
//! - one client address may hold only so many connections ([`ConnectionLimit`]).
//!
//! Stopping: no new connections; idle keep-alive connections close at once; requests in
//! flight get up to [`GRACE`] to finish, then their connections are dropped.

mod watch;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tower_service::Service;

use crate::security::limits::{ConnectionLimit, Slot};
use crate::shutdown::Stop;
use watch::{Phase, Watch, Watched};

/// How long requests in flight may take to finish once the appliance stops.
pub const GRACE: Duration = Duration::from_secs(15);

/// How one listener treats its connections.
#[derive(Clone)]
pub struct ListenerPolicy {
    /// TLS for every connection (the control plane), or plain HTTP.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Time a client has to finish a TLS handshake and each request's headers.
    pub header_timeout: Duration,
    /// Time a connection may stay silent between requests.
    pub idle_timeout: Duration,
    pub limit: ConnectionLimit,
}

impl ListenerPolicy {
    /// Plain HTTP with the default limits (tests and embedding).
    pub fn plain() -> ListenerPolicy {
        ListenerPolicy {
            tls: None,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            limit: ConnectionLimit::new(512),
        }
    }
}

/// Serve `router` on `listener` until `stop` is cancelled.
pub async fn serve(listener: TcpListener, router: Router, stop: Stop, policy: ListenerPolicy) {
    let policy = Arc::new(policy);
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            // Reap finished connections so the set does not grow without bound.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => match policy.limit.admit(peer.ip()) {
                    Some(slot) => {
                        conns.spawn(connection(tcp, peer, slot, router.clone(), stop.clone(), policy.clone()));
                    }
                    None => {
                        metrics::counter!("rackboot_http_connections_refused_total", "why" => "per_address_limit").increment(1);
                        tracing::debug!(%peer, "connection refused: the address holds its share of connections");
                        drop(tcp);
                    }
                },
                Err(e) => {
                    // Typically EMFILE under a boot storm: back off instead of spinning.
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    let drained =
        tokio::time::timeout(GRACE, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            connections = conns.len(),
            "HTTP requests still running after {GRACE:?}; dropping them"
        );
        conns.shutdown().await;
    }
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    _slot: Slot,
    router: Router,
    stop: Stop,
    policy: Arc<ListenerPolicy>,
) {
    match &policy.tls {
        None => http(tcp, peer, Transport::Plain, router, stop, &policy).await,
        Some(acceptor) => {
            match tokio::time::timeout(policy.header_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => http(tls, peer, Transport::Tls, router, stop, &policy).await,
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
    }
}

/// How a request reached this listener (a request extension): the console marks its
/// cookie `Secure` over TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Plain,
    Tls,
}

/// Every request carries its connection's [`Transport`] and the listener's [`Stop`], so a
/// stream that never ends by itself (the console's live updates) ends when the appliance
/// stops instead of holding the shutdown for the whole [`GRACE`].
async fn http<I>(
    io: I,
    peer: SocketAddr,
    transport: Transport,
    router: Router,
    stop: Stop,
    policy: &ListenerPolicy,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let watch = Arc::new(Watch::new());
    let w = watch.clone();
    let stop_for_requests = stop.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(transport);
        req.extensions_mut().insert(stop_for_requests.clone());
        w.set(Phase::InRequest);
        let mut router = router.clone();
        let w = w.clone();
        async move {
            let resp = router.call(req).await.unwrap_or_else(|e| match e {});
            w.set(Phase::Idle);
            Ok::<_, Infallible>(resp)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .half_close(true)
        .serve_connection(TokioIo::new(Watched::new(io, watch.clone())), service);
    tokio::pin!(conn);
    let result = loop {
        let deadline = watch.deadline(policy.header_timeout, policy.idle_timeout);
        tokio::select! {
            r = conn.as_mut() => break r,
            () = stop.cancelled() => {
                conn.as_mut().graceful_shutdown();
                break conn.await;
            }
            () = tokio::time::sleep_until(deadline.into()) => {
                if let Some(why) = watch.expired(policy.header_timeout, policy.idle_timeout) {
                    metrics::counter!("rackboot_http_connections_cut_total", "why" => why).increment(1);
                    tracing::debug!(%peer, why, "HTTP connection cut off");
                    return;
                }
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
    }
}
