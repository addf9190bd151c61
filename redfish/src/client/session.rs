//! Authentication: Basic credentials or an `X-Auth-Token` session, decided once per BMC.
//!
//! The first authenticated request decides: [`AuthMode::Basic`] means Basic;
//! [`AuthMode::Session`] logs in at the standard Sessions URI; [`AuthMode::Auto`] reads the
//! service root and logs in where `Links.Sessions` points, falling back to Basic when there
//! is none or the BMC cannot create one (missing, broken, or a full session table even
//! after the busy retries). Wrong credentials are never retried another way. The token is
//! reused by every request, forgotten when the BMC refuses it (the transport then logs in
//! again, once), and deleted on [`Bmc::logout`].
//!
//! These requests run while `transport` holds the caps, so they go to the HTTP client
//! directly rather than through [`Bmc::call`].

use reqwest::{StatusCode, header};

use super::retry::{Step, Verdict, classify};
use super::transport::{cause_text, header_string};
use super::{AuthMode, Bmc, ROOT};
use crate::error::{Error, Result};
use crate::model::{ErrorBody, ServiceRoot};

/// Where sessions live when the service root is not asked ([`AuthMode::Session`]).
const DEFAULT_SESSIONS: &str = "/redfish/v1/SessionService/Sessions";

/// What this client knows about how to authenticate to its BMC.
pub(super) enum AuthState {
    Undecided,
    Basic,
    Session {
        token: String,
        location: Option<String>,
    },
}

/// The credentials one request carries.
pub(super) enum Cred {
    None,
    Basic,
    Token(String),
}

impl Bmc {
    /// The credentials for an authenticated request, logging in first if needed.
    pub(super) async fn credentials(&self) -> Result<Cred> {
        let mut auth = self.auth.lock().await;
        match &*auth {
            AuthState::Basic => return Ok(Cred::Basic),
            AuthState::Session { token, .. } => return Ok(Cred::Token(token.clone())),
            AuthState::Undecided => {}
        }
        let sessions = match self.cfg.auth {
            AuthMode::Basic => None,
            AuthMode::Session => Some(DEFAULT_SESSIONS.to_string()),
            AuthMode::Auto => {
                let reply = self.raw_root().await?;
                reply.links.sessions.map(|l| l.odata_id)
            }
        };
        let Some(sessions) = sessions else {
            *auth = AuthState::Basic;
            return Ok(Cred::Basic);
        };
        match self.login(&sessions).await {
            Ok((token, location)) => {
                *auth = AuthState::Session {
                    token: token.clone(),
                    location,
                };
                Ok(Cred::Token(token))
            }
            // Advertised but missing, broken, or full (session limit reached, still after
            // the busy retries): Basic auth works on such BMCs. Wrong credentials are not
            // retried another way.
            Err(Error::Http {
                status, message, ..
            }) if self.cfg.auth == AuthMode::Auto => {
                tracing::info!(bmc = %self.label, status, message, "cannot create a session; using Basic auth");
                *auth = AuthState::Basic;
                Ok(Cred::Basic)
            }
            Err(e) => Err(e),
        }
    }

    /// The service root without taking the caps again (called while holding them).
    async fn raw_root(&self) -> Result<ServiceRoot> {
        let send = |basic: bool| {
            let mut req = self
                .http
                .get(self.url(ROOT))
                .timeout(self.cfg.timeout)
                .header(header::ACCEPT, "application/json");
            if basic {
                req = req.basic_auth(&self.cfg.username, Some(&self.cfg.password));
            }
            req.send()
        };
        let mut resp = match send(false).await {
            Ok(r) => r,
            Err(e) => return Err(self.transport_error(e, "GET service root").await),
        };
        if resp.status() == StatusCode::UNAUTHORIZED {
            resp = match send(true).await {
                Ok(r) => r,
                Err(e) => return Err(self.transport_error(e, "GET service root").await),
            };
        }
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(Error::Auth {
                bmc: self.label.clone(),
            });
        }
        let bytes = resp.bytes().await.map_err(|e| Error::Unreachable {
            bmc: self.label.clone(),
            cause: cause_text(&e),
        })?;
        Ok(serde_json::from_slice(&bytes).unwrap_or_default())
    }

    /// Create a session; returns the token and the session's URI. Busy answers are retried
    /// with the backoff; unlike other requests, session creation does not read
    /// `Retry-After` and does not retry a connection reset.
    async fn login(&self, sessions: &str) -> Result<(String, Option<String>)> {
        const OP: &str = "create session";
        let body =
            serde_json::json!({"UserName": self.cfg.username, "Password": self.cfg.password});
        let body = &body;
        self.backoff()
            .run(&self.label, OP, move || async move {
                let resp = self
                    .http
                    .post(self.url(sessions))
                    .timeout(self.cfg.timeout)
                    .json(body)
                    .send()
                    .await;
                let resp = match resp {
                    Ok(r) => r,
                    Err(e) => return Step::Done(Err(self.transport_error(e, OP).await)),
                };
                let status = resp.status();
                let token = header_string(&resp, "X-Auth-Token");
                let location = header_string(&resp, header::LOCATION);
                let bytes = resp.bytes().await.unwrap_or_default();
                let failed = || {
                    let err_body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
                    Error::Http {
                        bmc: self.label.clone(),
                        op: OP.into(),
                        status: status.as_u16(),
                        message: err_body
                            .summary()
                            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").into()),
                    }
                };
                match classify(status, None, &bytes) {
                    Verdict::Success => {
                        let location = location.or_else(|| {
                            serde_json::from_slice::<crate::model::Identity>(&bytes)
                                .ok()
                                .and_then(|i| i.odata_id)
                        });
                        Step::Done(match token {
                            Some(t) => Ok((t, location.map(|l| path_of(&l)))),
                            None => Err(Error::Http {
                                bmc: self.label.clone(),
                                op: OP.into(),
                                status: status.as_u16(),
                                message: "no X-Auth-Token in the answer".into(),
                            }),
                        })
                    }
                    Verdict::Unauthorized => Step::Done(Err(Error::Auth {
                        bmc: self.label.clone(),
                    })),
                    _ if status == StatusCode::FORBIDDEN => Step::Done(Err(Error::Auth {
                        bmc: self.label.clone(),
                    })),
                    Verdict::Busy { after } => Step::Retry {
                        error: failed(),
                        after,
                    },
                    Verdict::Failed => Step::Done(Err(failed())),
                }
            })
            .await
    }

    /// Forget the session `used`, unless another request has already replaced it.
    pub(super) async fn forget_session(&self, used: &str) {
        let mut auth = self.auth.lock().await;
        if matches!(&*auth, AuthState::Session { token, .. } if token == used) {
            *auth = AuthState::Undecided;
        }
    }

    /// Delete the session, if there is one. Called at shutdown.
    pub async fn logout(&self) {
        let mut auth = self.auth.lock().await;
        if let AuthState::Session {
            token,
            location: Some(location),
        } = &*auth
        {
            let url = self.url(location);
            let res = self
                .http
                .delete(url)
                .header("X-Auth-Token", token)
                .timeout(self.cfg.timeout)
                .send()
                .await;
            if let Err(e) = res {
                tracing::debug!(bmc = %self.label, error = %e, "session logout failed");
            }
        }
        *auth = AuthState::Undecided;
    }
}

/// A Location header may be absolute; keep only the path.
fn path_of(location: &str) -> String {
    match url::Url::parse(location) {
        Ok(u) => u.path().to_string(),
        Err(_) => location.to_string(),
    }
}
