//! One request to one BMC: the caps, the credentials, the retry loop and the error mapping.
//!
//! [`Bmc::call`] is the only way a Redfish operation reaches the wire. It takes the per-BMC
//! permit before the global one (a request waiting for its busy BMC must not hold a permit
//! an idle BMC could use), sends with the BMC's timeout and credentials, and runs the
//! attempt under [`Backoff::run`](super::retry::Backoff::run): connection resets and busy
//! answers are retried, a stale session is replaced once, anything else becomes an
//! [`Error`] that names the BMC, the operation and the BMC's own message. Transport errors
//! are reduced to their useful cause; an untrusted certificate is answered with its
//! fingerprint, so the message says exactly how to pin it.

use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::{Method, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::retry::{Step, Verdict, classify};
use super::session::Cred;
use super::{Bmc, ROOT};
use crate::error::{Error, Result};
use crate::model::ErrorBody;
use crate::tls::{self, TlsTrust};

/// A successful answer.
pub struct Reply {
    pub status: StatusCode,
    pub etag: Option<String>,
    pub location: Option<String>,
    pub token: Option<String>,
    pub body: Vec<u8>,
}

/// Which credentials a request carries.
#[derive(Clone, Copy)]
pub(super) enum Auth {
    /// None (the service root, which the standard lets anyone read).
    None,
    /// Basic, whatever the session state (the service root of a BMC that insists).
    Basic,
    /// The BMC's session or Basic credentials, logging in first if needed.
    Required,
}

impl Bmc {
    /// GET and decode.
    pub(super) async fn get<T: DeserializeOwned>(&self, path: &str, op: &str) -> Result<T> {
        let reply = self
            .call(Method::GET, path, None, None, Auth::Required, op)
            .await?;
        self.decode(&reply, op)
    }

    pub(super) fn decode<T: DeserializeOwned>(&self, reply: &Reply, op: &str) -> Result<T> {
        serde_json::from_slice(&reply.body).map_err(|e| Error::Decode {
            bmc: self.label.clone(),
            op: op.to_string(),
            cause: e.to_string(),
        })
    }

    pub(super) fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    /// One request with the caps, auth, retries and error mapping described above.
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
        auth: Auth,
        op: &str,
    ) -> Result<Reply> {
        // Per-BMC first: a request waiting for its busy BMC must not hold a global permit
        // that a request to an idle BMC could use (head-of-line blocking across BMCs).
        let _local = self
            .per_bmc
            .acquire()
            .await
            .expect("semaphore never closed");
        let _global = self.global.acquire().await.expect("semaphore never closed");
        let relogged = AtomicBool::new(false);
        let (method, relogged) = (&method, &relogged);
        self.backoff()
            .run(&self.label, op, move || async move {
                let cred = match auth {
                    Auth::None => Cred::None,
                    Auth::Basic => Cred::Basic,
                    Auth::Required => match self.credentials().await {
                        Ok(c) => c,
                        Err(e) => return Step::Done(Err(e)),
                    },
                };
                let mut req = self
                    .http
                    .request(method.clone(), self.url(path))
                    .timeout(self.cfg.timeout)
                    .header(header::ACCEPT, "application/json");
                req = match &cred {
                    Cred::None => req,
                    Cred::Basic => req.basic_auth(&self.cfg.username, Some(&self.cfg.password)),
                    Cred::Token(t) => req.header("X-Auth-Token", t),
                };
                if let Some(tag) = if_match {
                    req = req.header(header::IF_MATCH, tag);
                }
                if let Some(b) = body {
                    req = req.json(b);
                }
                let resp = match req.send().await {
                    Ok(r) => r,
                    Err(e) => return self.transport_step(e, op).await,
                };
                let status = resp.status();
                let etag = header_string(&resp, header::ETAG);
                let location = header_string(&resp, header::LOCATION);
                let token = header_string(&resp, "X-Auth-Token");
                let retry_after = header_string(&resp, header::RETRY_AFTER);
                let bytes = match resp.bytes().await {
                    Ok(b) => b.to_vec(),
                    Err(e) => return self.transport_step(e, op).await,
                };
                match classify(status, retry_after.as_deref(), &bytes) {
                    Verdict::Success => Step::Done(Ok(Reply {
                        status,
                        etag,
                        location,
                        token,
                        body: bytes,
                    })),
                    Verdict::Unauthorized => {
                        // A stale session: forget it and log in again, once per request.
                        if let Cred::Token(t) = &cred
                            && !relogged.swap(true, Ordering::Relaxed)
                        {
                            self.forget_session(t).await;
                            return Step::Again;
                        }
                        Step::Done(Err(Error::Auth {
                            bmc: self.label.clone(),
                        }))
                    }
                    Verdict::Busy { after } => Step::Retry {
                        error: self.http_error(op, status, &bytes),
                        after,
                    },
                    Verdict::Failed => Step::Done(Err(self.http_error(op, status, &bytes))),
                }
            })
            .await
    }

    /// An error answer as [`Error::Http`], with the BMC's own message.
    fn http_error(&self, op: &str, status: StatusCode, body: &[u8]) -> Error {
        Error::Http {
            bmc: self.label.clone(),
            op: op.to_string(),
            status: status.as_u16(),
            message: failure_message(status, body),
        }
    }

    /// A failed send or body read: a connection reset is worth another attempt, anything
    /// else is final.
    async fn transport_step<T>(&self, e: reqwest::Error, op: &str) -> Step<T> {
        let retry = is_reset(&e);
        let error = self.transport_error(e, op).await;
        if retry {
            Step::Retry { error, after: None }
        } else {
            Step::Done(Err(error))
        }
    }

    /// Turn a transport error into an [`Error`] naming the BMC and the cause. For an
    /// untrusted certificate, fetch the certificate's fingerprint so the message can say
    /// exactly how to pin it, or, when a pin was not matched, which certificate came instead.
    pub(super) async fn transport_error(&self, e: reqwest::Error, op: &str) -> Error {
        if e.is_timeout() {
            return Error::Timeout {
                bmc: self.label.clone(),
                op: op.to_string(),
                secs: self.cfg.timeout.as_secs().max(1),
            };
        }
        if let Some(cause) = tls_cause(&e) {
            let presented = self.probe_fingerprint().await;
            if let TlsTrust::Pin(pin) = &self.cfg.trust
                && let Some(pinned) = tls::normalise_pin(pin)
                && let Some(presented) = presented.as_ref().filter(|p| **p != pinned)
            {
                return Error::CertificateChanged {
                    bmc: self.label.clone(),
                    pinned,
                    presented: presented.clone(),
                };
            }
            return Error::Untrusted {
                bmc: self.label.clone(),
                cause,
                fingerprint: presented.unwrap_or_else(|| "<sha256>".to_string()),
            };
        }
        Error::Unreachable {
            bmc: self.label.clone(),
            cause: cause_text(&e),
        }
    }

    /// The SHA-256 of the certificate the BMC presents, read without trusting it and
    /// without sending credentials; `None` when it cannot be read.
    pub async fn probe_fingerprint(&self) -> Option<String> {
        self.peer_certificate().await.ok().flatten()
    }

    /// The SHA-256 (lower-case hex) of the certificate the BMC presents, read without
    /// trusting it and without sending credentials: what trust-on-first-use pins. `None`
    /// for a plain-HTTP BMC; an error when the BMC cannot be reached.
    pub async fn peer_certificate(&self) -> Result<Option<String>> {
        if self.base.scheme() != "https" {
            return Ok(None);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .tls_danger_accept_invalid_certs(true)
            .tls_info(true)
            .no_proxy()
            .build()
            .map_err(|e| Error::Config {
                bmc: self.label.clone(),
                what: format!("cannot build an HTTP client: {e}"),
            })?;
        let resp = client
            .get(self.url(ROOT))
            .timeout(self.cfg.timeout)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    Error::Timeout {
                        bmc: self.label.clone(),
                        op: "TLS handshake".into(),
                        secs: self.cfg.timeout.as_secs().max(1),
                    }
                } else {
                    Error::Unreachable {
                        bmc: self.label.clone(),
                        cause: cause_text(&e),
                    }
                }
            })?;
        Ok(resp
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|info| info.peer_certificate())
            .map(tls::fingerprint))
    }
}

/// The message of an error answer: the body's most specific message, else its text (first
/// 300 characters; an HTML page is summarised by its title, never pasted), else the status's
/// reason; with the first MessageId appended when the message does not already name it.
pub(super) fn failure_message(status: StatusCode, body: &[u8]) -> String {
    let err_body: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let mut message = err_body.summary().unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else if let Some(page) = html_summary(text) {
            page
        } else {
            text.chars().take(300).collect()
        }
    });
    if let Some(id) = err_body.message_ids().next()
        && !message.contains(id)
    {
        message = format!("{message} [{id}]");
    }
    message
}

/// `an HTML page titled '…'` for a body that is an HTML page (web servers and BMC web UIs
/// answer errors with one); `None` for anything else. The title is all that is kept: the
/// rest is markup, scripts and styles that would bury the status in an error message.
fn html_summary(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    if !(lower.starts_with("<!doctype html")
        || lower.starts_with("<html")
        || lower.starts_with('<') && lower.contains("<html"))
    {
        return None;
    }
    let title = lower.find("<title").and_then(|start| {
        let open_end = start + lower[start..].find('>')? + 1;
        let close = open_end + lower[open_end..].find("</title")?;
        let t = text.get(open_end..close)?;
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        (!t.is_empty()).then(|| t.chars().take(120).collect::<String>())
    });
    Some(match title {
        Some(t) => format!("an HTML page titled '{t}'"),
        None => "an HTML page".to_string(),
    })
}

pub(super) fn header_string(
    resp: &reqwest::Response,
    name: impl header::AsHeaderName,
) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Connection resets and closed connections: the request may simply be retried.
fn is_reset(e: &reqwest::Error) -> bool {
    if e.is_timeout() || e.is_connect() || tls_cause(e).is_some() {
        return false;
    }
    let text = cause_text(e).to_ascii_lowercase();
    text.contains("reset")
        || text.contains("connection closed")
        || text.contains("incomplete message")
        || text.contains("broken pipe")
        || text.contains("channel closed")
}

/// The TLS failure inside a transport error, if that is what it is.
fn tls_cause(e: &reqwest::Error) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r.to_string());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(r) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(r.to_string());
        }
        cur = err.source();
    }
    let text = cause_text(e);
    (text.contains("certificate") || text.contains("UnknownIssuer")).then_some(text)
}

/// The innermost two distinct messages of an error chain: the useful part, without the
/// URL-laden outer wrapper.
pub(super) fn cause_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msgs: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let m = err.to_string();
        if msgs.last() != Some(&m) {
            msgs.push(m);
        }
        cur = err.source();
    }
    let n = msgs.len();
    let keep = if n > 1 {
        &msgs[n.saturating_sub(2)..]
    } else {
        &msgs[..]
    };
    keep.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_messages_prefer_the_body_and_name_the_message_id() {
        let sim_500 = r#"{"error":{"code":"Base.1.8.GeneralError","message":"A general error has occurred.","@Message.ExtendedInfo":[{"MessageId":"Base.1.8.InternalError","Message":"Injected fault: the service answered 500 Internal Server Error."}]}}"#;
        assert_eq!(
            failure_message(StatusCode::INTERNAL_SERVER_ERROR, sim_500.as_bytes()),
            "Injected fault: the service answered 500 Internal Server Error. [Base.1.8.InternalError]"
        );
        assert_eq!(
            failure_message(StatusCode::BAD_GATEWAY, b"  upstream down \n"),
            "upstream down"
        );
        assert_eq!(failure_message(StatusCode::NOT_FOUND, b""), "Not Found");
        let python = "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\n<title>Error response</title></head>\n<body><h1>Error response</h1><p>Error code: 404</p></body></html>\n";
        assert_eq!(
            failure_message(StatusCode::NOT_FOUND, python.as_bytes()),
            "an HTML page titled 'Error response'"
        );
        assert_eq!(
            failure_message(
                StatusCode::BAD_GATEWAY,
                b"<html><body><h1>502</h1></body></html>"
            ),
            "an HTML page"
        );
        let long = "x".repeat(400);
        assert_eq!(
            failure_message(StatusCode::INTERNAL_SERVER_ERROR, long.as_bytes()).len(),
            300
        );
    }
}
