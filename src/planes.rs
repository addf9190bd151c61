//! The HTTPS listeners `start` adds beside the boot plane's plain one: the control plane's
//! (its own listener, unless it shares the boot listener) and, when asked, the boot plane's
//! HTTPS one with an RSA certificate for iPXE; and the names a generated certificate is for.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::config::Config;
use crate::shutdown::Stop;
use crate::{api, config, security, telemetry};

/// The control plane's own HTTPS listener, unless it shares the boot listener: its task,
/// address and certificate fingerprint.
pub(crate) async fn start_control_plane(
    config: &Config,
    app: &Arc<App>,
    given: Option<TcpListener>,
    policy: &api::server::ListenerPolicy,
    stop: &Stop,
) -> anyhow::Result<Option<(JoinHandle<()>, SocketAddr, String)>> {
    use config::security::ControlPlane;
    let ControlPlane::Https { listen, cert } = &config.security.control else {
        return Ok(None);
    };
    let listener = match given {
        Some(l) => l,
        None => TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen} (control_listen)"))?,
    };
    let router = api::control_router(
        app.clone(),
        telemetry::metrics_handle(),
        api::BodyLimits {
            max_body_bytes: config.max_body_bytes,
        },
    );
    let (task, addr, fingerprint) = serve_tls(
        config,
        listener,
        cert,
        security::tls::KeyKind::Ecdsa,
        router,
        policy,
        stop,
        "control plane certificate (trust it with --ca FILE or --pin SHA256)",
    )?;
    Ok(Some((task, addr, fingerprint)))
}

/// The boot plane over HTTPS too (`boot_https_listen`), with an RSA certificate for iPXE.
pub(crate) async fn start_boot_https(
    config: &Config,
    listen: SocketAddr,
    cert: &config::security::CertFiles,
    router: axum::Router,
    policy: &api::server::ListenerPolicy,
    stop: &Stop,
) -> anyhow::Result<(JoinHandle<()>, SocketAddr, String)> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (boot_https_listen)"))?;
    serve_tls(
        config,
        listener,
        cert,
        security::tls::KeyKind::Rsa,
        router,
        policy,
        stop,
        "boot plane over HTTPS (RSA, for iPXE built with TLS)",
    )
}

/// Serve `router` over TLS on `listener` with the certificate `cert` (generated with a `kind`
/// key when none is given), logging its SHA-256 with `what`.
#[allow(clippy::too_many_arguments)]
fn serve_tls(
    config: &Config,
    listener: TcpListener,
    cert: &config::security::CertFiles,
    kind: security::tls::KeyKind,
    router: axum::Router,
    policy: &api::server::ListenerPolicy,
    stop: &Stop,
    what: &'static str,
) -> anyhow::Result<(JoinHandle<()>, SocketAddr, String)> {
    let addr = listener
        .local_addr()
        .context("listener has no local address")?;
    let source = match cert {
        config::security::CertFiles::Given { cert, key } => security::tls::CertSource::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        config::security::CertFiles::Generated(dir) => security::tls::CertSource::Generated {
            dir: dir.clone(),
            names: certificate_names(config, addr),
            kind,
        },
    };
    let tls = security::tls::load(&source)?;
    tracing::info!(
        listener = %format!("https://{addr}"),
        sha256 = %tls.fingerprint,
        cert = %tls.cert_path.display(),
        "{what}"
    );
    let policy = api::server::ListenerPolicy {
        tls: Some(tls.acceptor),
        ..policy.clone()
    };
    let task = tokio::spawn(api::server::serve(listener, router, stop.clone(), policy));
    Ok((task, addr, tls.fingerprint))
}

/// The names a generated certificate is made for: localhost, this host, the advertise
/// URL's host and the control plane's own address.
fn certificate_names(config: &Config, addr: SocketAddr) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    if let Ok(h) = nix::unistd::gethostname()
        && let Some(h) = h.to_str()
    {
        names.push(h.to_string());
    }
    if let Some(h) = url::Url::parse(&config.advertise_url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
    {
        names.push(h);
    }
    if !addr.ip().is_unspecified() {
        names.push(addr.ip().to_string());
    }
    names.sort();
    names.dedup();
    names
}
