//! The accept loop: one task per BMC listener, one task per connection.
//!
//! Plain HTTP and HTTPS share one path: accept TCP, optionally run the rustls handshake in the
//! connection's own task (so a slow handshake never stalls accepting), then serve HTTP/1.1
//! with keep-alive through hyper. `axum::serve` cannot do TLS, and one code path for both
//! keeps the two modes behaving alike. Stopping drops the listener and aborts every
//! connection task, which closes the sockets.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::http;
use super::state::SimState;

/// A client that connects and never finishes the handshake gets this long.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serve until `state.stop` is set (or its sender is gone).
pub(crate) async fn run(listener: TcpListener, state: Arc<SimState>, tls: Option<TlsAcceptor>) {
    let router = http::router(state.clone());
    let mut stop = state.stop.subscribe();
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = wait_until(&mut stop, true) => break,
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

/// Resolves once the watched flag equals `value`, or its sender is gone. (Wrapping
/// `wait_for` keeps its non-`Send` borrow guard out of the caller's future.)
pub(crate) async fn wait_until(rx: &mut watch::Receiver<bool>, value: bool) {
    let _ = rx.wait_for(|v| *v == value).await;
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
