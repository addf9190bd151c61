//! A small typed HTTP client for the appliance's API, used by the CLI (and tests).
//!
//! Every failure names what was called; an API error carries the server's problem detail,
//! which the CLI prints as is, so the user sees exactly what the server objected to.

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

/// `base/<segments>`, each segment percent-encoded by `url`'s path-segment encoding (names
/// are user input, and a `/` or `?` in one must stay part of the name).
///
/// A `.` or `..` segment cannot name anything: every URL parser resolves it, encoded or
/// not. `url` leaves such segments out, which would turn `sessions/..` into `sessions` (and
/// a DELETE of one session into a DELETE of all); they are resolved here instead, as the
/// request's URL would resolve them, so `sessions/..` is the collection's parent.
pub fn api_path(base: &str, segments: &[&str]) -> String {
    // Only the path is kept; the origin is a placeholder that can hold one.
    let mut url = Url::parse("http://rackboot.invalid").expect("a valid URL");
    url.set_path(base);
    let mut after_dots = false;
    for s in segments {
        if matches!(*s, "." | "..") {
            let resolved = format!("{}/{s}", url.path());
            url.set_path(&resolved);
            after_dots = true;
            continue;
        }
        let mut path = url.path_segments_mut().expect("an http URL has a path");
        if after_dots {
            // A resolved dot segment leaves a trailing slash; the next segment replaces it.
            path.pop_if_empty();
        }
        path.push(s);
        after_dots = false;
    }
    url.path().to_string()
}

/// `path?query`, leaving out the `?` when there is no query.
pub fn with_query<K: AsRef<str>>(path: String, pairs: &[(K, String)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k.as_ref(), v);
    }
    let q = q.finish();
    if q.is_empty() {
        path
    } else {
        format!("{path}?{q}")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach rackboot at {url}: {cause}")]
    Unreachable { url: String, cause: String },
    #[error("{method} {path}: {status}: {detail}")]
    Api {
        method: Method,
        path: String,
        status: StatusCode,
        detail: String,
    },
    #[error("{method} {path}: unexpected answer: {cause}")]
    Decode {
        method: Method,
        path: String,
        cause: String,
    },
}

#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    /// Sent with every request (e.g. BOS's `Cray-Tenant-Name`); empty unless `with_header`.
    headers: reqwest::header::HeaderMap,
}

/// A response with its headers, for calls whose headers matter (the referral token).
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

/// An error answer: the server's problem detail, or its text.
fn api_error(method: Method, path: &str, status: StatusCode, body: &[u8]) -> ClientError {
    let detail = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
    ClientError::Api {
        method,
        path: path.to_string(),
        status,
        detail,
    }
}

/// How the client trusts the appliance's HTTPS certificate.
#[derive(Debug, Clone, Default)]
pub enum Trust {
    /// The system's roots.
    #[default]
    System,
    /// Only these CA certificates (PEM), e.g. the appliance's own `tls/cert.pem`.
    Ca(String),
    /// Exactly the certificate with this SHA-256 (what `rackboot serve` logs).
    Pin(String),
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client::trusting(base, &Trust::System).expect("HTTP client builds")
    }

    /// A client for `base` that trusts its certificate as `trust` says.
    pub fn trusting(base: &str, trust: &Trust) -> Result<Client, String> {
        let b = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(120));
        let b = match trust {
            Trust::System => b,
            Trust::Ca(pem) => {
                let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                    .map_err(|e| format!("the CA file is not PEM: {e}"))?;
                if certs.is_empty() {
                    return Err("the CA file holds no certificate".into());
                }
                b.tls_certs_only(certs)
            }
            Trust::Pin(pin) => {
                let pin = redfish::tls::normalise_pin(pin).ok_or_else(|| {
                    format!("--pin {pin:?} is not a SHA-256 fingerprint (64 hex digits)")
                })?;
                b.tls_backend_preconfigured(redfish::tls::pinned_config(&pin))
            }
        };
        Ok(Client {
            base: base.trim_end_matches('/').to_string(),
            http: b
                .build()
                .map_err(|e| format!("cannot build an HTTP client: {e}"))?,
            headers: reqwest::header::HeaderMap::new(),
        })
    }

    /// The same client, authenticating with `token` (`Authorization: Bearer`).
    pub fn with_bearer(self, token: &str) -> Result<Client, String> {
        let v = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.trim()))
            .map_err(|_| "the token holds characters a header cannot carry".to_string())?;
        Ok(self.with_header(reqwest::header::AUTHORIZATION, v))
    }

    /// The OAuth2 password grant `cray auth login` makes; returns the access token.
    pub async fn login(&self, username: &str, password: &str) -> Result<String, ClientError> {
        let path = "/keycloak/realms/shasta/protocol/openid-connect/token";
        let url = format!("{}{}", self.base, path);
        let resp = self
            .http
            .post(&url)
            .form(&[
                ("grant_type", "password"),
                ("client_id", "shasta"),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: url.clone(),
                cause: crate::errors::chain(&e),
            })?;
        let status = resp.status();
        let body = resp.bytes().await.unwrap_or_default();
        if !status.is_success() {
            return Err(api_error(Method::POST, path, status, &body));
        }
        serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("access_token")?.as_str().map(str::to_string))
            .ok_or_else(|| ClientError::Decode {
                method: Method::POST,
                path: path.into(),
                cause: "no access_token in the answer".into(),
            })
    }

    /// The same client, sending `name: value` with every request (replacing an earlier
    /// value for that name).
    pub fn with_header(
        mut self,
        name: reqwest::header::HeaderName,
        value: reqwest::header::HeaderValue,
    ) -> Client {
        self.headers.insert(name, value);
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Answer, ClientError> {
        let url = format!("{}{}", self.base, path);
        let mut req = self
            .http
            .request(method.clone(), &url)
            .headers(self.headers.clone());
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| ClientError::Unreachable {
            url: self.base.clone(),
            cause: crate::errors::chain(&e),
        })?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| ClientError::Decode {
                method: method.clone(),
                path: path.to_string(),
                cause: crate::errors::chain(&e),
            })?
            .to_vec();
        if !status.is_success() {
            return Err(api_error(method, path, status, &body));
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, ClientError> {
        let a = self.send(method.clone(), path, body).await?;
        serde_json::from_slice(&a.body).map_err(|e| ClientError::Decode {
            method,
            path: path.to_string(),
            cause: e.to_string(),
        })
    }

    /// PUT a (streamed) body; the answer is checked like any other call.
    pub async fn upload(&self, path: &str, body: reqwest::Body) -> Result<Answer, ClientError> {
        let url = format!("{}{}", self.base, path);
        let resp = self
            .http
            .put(&url)
            .headers(self.headers.clone())
            .timeout(std::time::Duration::from_secs(24 * 3600))
            .body(body)
            .send()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: self.base.clone(),
                cause: crate::errors::chain(&e),
            })?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        if !status.is_success() {
            return Err(api_error(Method::PUT, path, status, &body));
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.json(Method::GET, path, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_api_paths_encode_segments_and_resolve_dot_segments() {
        let p = |segs: &[&str]| api_path("/apis/bos/v2", segs);
        assert_eq!(p(&[]), "/apis/bos/v2");
        assert_eq!(p(&["sessions", "s1"]), "/apis/bos/v2/sessions/s1");
        assert_eq!(p(&["a b/c?d#e%f"]), "/apis/bos/v2/a%20b%2Fc%3Fd%23e%25f");
        assert_eq!(p(&["x", "é"]), "/apis/bos/v2/x/%C3%A9");
        // Dot segments resolve as the request URL's parser would, never to a sibling.
        assert_eq!(p(&["sessions", ".."]), "/apis/bos/v2/");
        assert_eq!(p(&["sessions", "."]), "/apis/bos/v2/sessions/");
        assert_eq!(p(&["sessions", "..", "status"]), "/apis/bos/v2/status");
        assert_eq!(p(&["sessions", ".", "s1"]), "/apis/bos/v2/sessions/s1");
        assert_eq!(p(&["sessions", ""]), "/apis/bos/v2/sessions/");
    }
}
