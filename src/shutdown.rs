//! The stop signal every long-running task of the appliance obeys.
//!
//! One [`Stop`] (a `tokio_util` cancellation token) is made by [`crate::start`] and cloned
//! into the HTTP server, the TFTP and DHCP servers, every operator and the periodic flusher;
//! cancelling it is how the appliance shuts down, and each task decides how to finish (the
//! HTTP server drains requests in flight, an operator lets its activation end). A leaf
//! module so that every server and loop can depend on it without depending on each other.

/// Cancelled once, when the appliance stops; clones see the same signal.
pub type Stop = tokio_util::sync::CancellationToken;

/// Resolves on Ctrl-C or SIGTERM: what `rackboot serve` stops on.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
