//! What all BMC clients share: the global concurrency cap and one HTTP client per TLS
//! trust mode.
//!
//! A `reqwest::Client` owns a connection pool, so a thousand BMCs trusted the same way share
//! one pool and one TLS configuration instead of building a client each. This module turns
//! a [`BmcConfig`] into a [`Bmc`]: it validates the URL, picks (or builds) the client for its
//! trust mode and hands out the caps. It sends no request; that is `transport`'s job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use url::Url;

use super::session::AuthState;
use super::{Bmc, BmcConfig};
use crate::error::{Error, Result};
use crate::tls::{self, TlsTrust};

/// Shared by all BMC clients: the global concurrency cap and HTTP clients per trust mode
/// (so a thousand BMCs trusted the same way share one connection pool).
pub struct Pool {
    global: Arc<Semaphore>,
    connect_timeout: Duration,
    clients: Mutex<HashMap<TrustKey, reqwest::Client>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum TrustKey {
    System,
    Ca(String),
    Pin(String),
    Insecure,
}

impl Pool {
    /// `global_cap`: requests in flight to all BMCs together.
    pub fn new(global_cap: usize, connect_timeout: Duration) -> Pool {
        Pool {
            global: Arc::new(Semaphore::new(global_cap.max(1))),
            connect_timeout,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// A client for one BMC. Fails only on an unusable configuration (bad URL, CA, pin).
    pub fn bmc(&self, cfg: BmcConfig) -> Result<Bmc> {
        let base = parse_base(&cfg.url).map_err(|what| Error::Config {
            bmc: cfg.url.clone(),
            what,
        })?;
        let label = label(&base);
        let http = self.http_for(&cfg.trust).map_err(|what| Error::Config {
            bmc: label.clone(),
            what,
        })?;
        Ok(Bmc {
            per_bmc: Semaphore::new(cfg.max_concurrency.max(1)),
            global: self.global.clone(),
            auth: tokio::sync::Mutex::new(AuthState::Undecided),
            connect_timeout: self.connect_timeout,
            http,
            base,
            label,
            cfg,
        })
    }

    fn http_for(&self, trust: &TlsTrust) -> std::result::Result<reqwest::Client, String> {
        let key = match trust {
            TlsTrust::System => TrustKey::System,
            TlsTrust::Ca(pem) => TrustKey::Ca(pem.clone()),
            TlsTrust::Pin(pin) => TrustKey::Pin(tls::normalise_pin(pin).ok_or_else(|| {
                format!("certificate pin '{pin}' is not a SHA-256 fingerprint (64 hex digits)")
            })?),
            TlsTrust::Insecure => TrustKey::Insecure,
        };
        let mut clients = self.clients.lock().expect("client cache lock");
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .no_proxy()
            .user_agent(concat!("rackboot-redfish/", env!("CARGO_PKG_VERSION")));
        let builder = match &key {
            TrustKey::System => builder,
            TrustKey::Ca(pem) => {
                let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                    .map_err(|e| format!("CA certificate is not valid PEM: {e}"))?;
                if certs.is_empty() {
                    return Err("CA file holds no certificate".into());
                }
                builder.tls_certs_only(certs)
            }
            TrustKey::Pin(pin) => builder.tls_backend_preconfigured(tls::pinned_config(pin)),
            TrustKey::Insecure => builder.tls_danger_accept_invalid_certs(true),
        };
        let client = builder
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        clients.insert(key, client.clone());
        Ok(client)
    }
}

fn parse_base(raw: &str) -> std::result::Result<Url, String> {
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| format!("'{raw}' is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("'{raw}' must be http(s)"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{raw}' has no host"));
    }
    url.set_path("/");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

fn label(base: &Url) -> String {
    let host = base.host_str().unwrap_or("?");
    match base.port_or_known_default() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_parse() {
        assert_eq!(
            parse_base("10.0.0.1").unwrap().as_str(),
            "https://10.0.0.1/"
        );
        assert_eq!(
            parse_base("http://127.0.0.1:8000/redfish/v1")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8000/"
        );
        assert!(parse_base("ftp://x").is_err());
        assert_eq!(label(&parse_base("bmc1").unwrap()), "bmc1:443");
    }
}
