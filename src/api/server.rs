//! The HTTP listener: accept TCP, serve HTTP/1.1 with keep-alive through hyper, and give every
//! request the client's address (`ConnectInfo`, which the boot timelines use).
//!
//! Our own loop rather than `axum::serve`, for one reason: a client that half-closes its side
//! once it has sent its request (busybox `nc` in an initramfs, some HTTP/1.0 tools) must still
//! get the answer. hyper drops it unless `half_close` is on, and `axum::serve` cannot turn it
//! on; measured before this loop, 0 of 200 such requests for a boot script were answered.
//! Like `axum::serve`, no header-read timeout: hyper's needs a timer, which cost about 5 % of
//! bootscript throughput (bench/bootscript.sh: 37–39k req/s with it, 39–40k without).
//!
//! Stopping: no new connections; idle keep-alive connections close at once; requests in
//! flight get up to [`GRACE`] to finish, then their connections are dropped.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tower_service::Service;

use crate::shutdown::Stop;

/// How long requests in flight may take to finish once the appliance stops.
pub const GRACE: Duration = Duration::from_secs(15);

/// Serve `router` on `listener` until `stop` is cancelled.
pub async fn serve(listener: TcpListener, router: Router, stop: Stop) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            // Reap finished connections so the set does not grow without bound.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    conns.spawn(connection(tcp, peer, router.clone(), stop.clone()));
                }
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

async fn connection(tcp: TcpStream, peer: SocketAddr, router: Router, stop: Stop) {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let mut router = router.clone();
        async move { Ok::<_, Infallible>(router.call(req).await.unwrap_or_else(|e| match e {})) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .half_close(true)
        .serve_connection(TokioIo::new(tcp), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        () = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
    }
}
