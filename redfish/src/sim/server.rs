//! The accept loop: one task per BMC listener, one task per connection.
//!
//! Plain HTTP and HTTPS share one path: accept TCP, optionally run the rustls handshake in the
//! connection's own task (so a slow handshake never stalls accepting), then serve HTTP/1.1
//! with keep-alive through hyper.
//!
//! Why a loop of its own: `axum::serve` cannot do TLS, and one code path for both keeps the
//! two modes behaving alike; a TLS wrapper crate (axum-server) would add a second server
//! stack for what is a few lines of accept and spawn. Stopping is not graceful on purpose:
//! when the stop token is cancelled the listener is dropped and every connection task is
//! aborted, which closes the sockets, so a stopped BMC looks like a BMC that went away
//! (requests held by the unresponsive knob are dropped, not answered).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::http;
use super::state::SimState;

/// A client that connects and never finishes the handshake gets this long.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serve until `state.stop` is cancelled.
pub(crate) async fn run(listener: TcpListener, state: Arc<SimState>, tls: Option<TlsAcceptor>) {
    let router = http::router(state.clone());
    let stop = state.stop.clone();
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            // Reap finished connections so the set does not grow without bound.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, _peer)) => {
                    conns.spawn(serve_connection(tcp, tls.clone(), router.clone()));
                }
                Err(e) => {
                    // Typically EMFILE; back off instead of spinning.
                    tracing::warn!(error = %e, "SimBmc accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    conns.shutdown().await;
}

async fn serve_connection(tcp: TcpStream, tls: Option<TlsAcceptor>, router: Router) {
    let _ = tcp.set_nodelay(true);
    let service = TowerToHyperService::new(router);
    let builder = hyper::server::conn::http1::Builder::new();
    let result = match tls {
        None => builder.serve_connection(TokioIo::new(tcp), service).await,
        Some(acceptor) => {
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                }
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "SimBmc TLS handshake failed");
                    return;
                }
                Err(_) => return,
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "SimBmc connection ended with an error");
    }
}
