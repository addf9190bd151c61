//! The external handoff: a CSM Configuration Framework Service over HTTP, called exactly as
//! BOS calls it (docs/cfs.md, "Handoff"):
//! - before power-on, `PATCH /v3/components` with `{patch: {enabled: false, desired_config,
//!   tags: {bos_session}, state: []}, filters: {ids}}`, at most 1,000 ids per request;
//! - the configuration operator, the same PATCH with `enabled: true` and no state wipe;
//! - the status operator, `GET /v3/components?ids=…` at most 200 ids per request (long id
//!   lists once broke URL limits), following `next` until it is null.
//!
//! Every error names the call (method and URL) and the cause, and is returned, never
//! panicked on: the BOS operators put it on the components concerned and retry.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ConfigHandoff, HandoffError};
use crate::model::boot_plan::ConfigView;

/// Ids per PATCH, as BOS (`max_component_batch_size`).
pub const PATCH_BATCH: usize = 1000;
/// Ids per GET query.
pub const GET_BATCH: usize = 200;

#[derive(Debug, Clone)]
pub struct ExternalSettings {
    /// The CFS base, e.g. `https://api-gw-service-nmn.local/apis/cfs` (calls go to
    /// `<base>/v3/components`).
    pub url: url::Url,
    /// Sent as `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// PEM bundle of the CAs to trust instead of the system roots.
    pub ca_pem: Option<String>,
    pub timeout: Duration,
}

pub struct ExternalCfs {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    components: Vec<Component>,
    #[serde(default)]
    next: Option<serde_json::Map<String, Value>>,
}

#[derive(Deserialize)]
struct Component {
    id: String,
    #[serde(default)]
    desired_config: String,
    #[serde(default)]
    configuration_status: String,
}

impl ExternalCfs {
    pub fn new(s: ExternalSettings) -> Result<ExternalCfs, HandoffError> {
        let mut b = reqwest::Client::builder()
            .timeout(s.timeout)
            .connect_timeout(s.timeout.min(Duration::from_secs(10)));
        if let Some(pem) = &s.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| HandoffError(format!("the CFS CA bundle is not PEM: {e}")))?;
            b = b.tls_certs_only(certs);
        }
        let http = b
            .build()
            .map_err(|e| HandoffError(format!("cannot build the CFS client: {e}")))?;
        Ok(ExternalCfs {
            base: s.url.as_str().trim_end_matches('/').to_string(),
            token: s.token,
            http,
        })
    }

    fn components_url(&self) -> String {
        format!("{}/v3/components", self.base)
    }

    fn authorize(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    async fn send(
        &self,
        call: &str,
        r: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, HandoffError> {
        let resp = self
            .authorize(r)
            .send()
            .await
            .map_err(|e| HandoffError(format!("CFS {call}: {}", crate::errors::chain(&e))))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.text().await.unwrap_or_default();
        let detail = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("detail").and_then(Value::as_str).map(String::from))
            .unwrap_or_else(|| body.chars().take(300).collect());
        Err(HandoffError(format!("CFS {call}: HTTP {status}: {detail}")))
    }

    async fn patch(&self, ids: &[String], patch: Value) -> Result<(), HandoffError> {
        let url = self.components_url();
        for chunk in ids.chunks(PATCH_BATCH) {
            let body = json!({"patch": patch, "filters": {"ids": chunk.join(",")}});
            self.send(&format!("PATCH {url}"), self.http.patch(&url).json(&body))
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl ConfigHandoff for ExternalCfs {
    fn describe(&self) -> String {
        format!("CFS at {}", self.base)
    }

    async fn prepare(
        &self,
        ids: &[String],
        configuration: &str,
        session: &str,
    ) -> Result<(), HandoffError> {
        self.patch(ids, super::handoff_patch(configuration, session, true))
            .await
    }

    async fn configure(
        &self,
        ids: &[String],
        configuration: &str,
        session: &str,
    ) -> Result<(), HandoffError> {
        self.patch(ids, super::handoff_patch(configuration, session, false))
            .await
    }

    async fn status(
        &self,
        desired: &[(String, String)],
    ) -> Result<HashMap<String, ConfigView>, HandoffError> {
        let url = self.components_url();
        let mut out = HashMap::new();
        let ids: Vec<&str> = desired.iter().map(|(id, _)| id.as_str()).collect();
        for chunk in ids.chunks(GET_BATCH) {
            let mut query: Vec<(String, String)> = vec![("ids".into(), chunk.join(","))];
            // A page loop bounded by the ids asked for (each page holds at least one).
            for _ in 0..=chunk.len() {
                let call = format!("GET {url}");
                let resp = self.send(&call, self.http.get(&url).query(&query)).await?;
                let page: Page = resp
                    .json()
                    .await
                    .map_err(|e| HandoffError(format!("CFS {call}: unreadable answer: {e}")))?;
                for c in page.components {
                    out.insert(
                        c.id,
                        ConfigView {
                            desired_config: c.desired_config,
                            status: crate::model::cfs::reported(c.configuration_status),
                        },
                    );
                }
                let Some(next) = page.next.filter(|n| !n.is_empty()) else {
                    break;
                };
                query = crate::model::cfs::next_query(&next);
            }
        }
        Ok(out)
    }

    async fn configuration_exists(&self, name: &str) -> Result<Option<bool>, HandoffError> {
        let mut u = url::Url::parse(&self.base)
            .map_err(|e| HandoffError(format!("CFS base URL {}: {e}", self.base)))?;
        u.path_segments_mut()
            .map_err(|_| HandoffError(format!("CFS base URL {} cannot take a path", self.base)))?
            .extend(["v3", "configurations", name]);
        let url = u.to_string();
        let call = format!("GET {url}");
        let r = self
            .authorize(self.http.get(&url))
            .send()
            .await
            .map_err(|e| HandoffError(format!("CFS {call}: {}", crate::errors::chain(&e))))?;
        match r.status().as_u16() {
            200 => Ok(Some(true)),
            404 => Ok(Some(false)),
            s => Err(HandoffError(format!("CFS {call}: HTTP {s}"))),
        }
    }
}
