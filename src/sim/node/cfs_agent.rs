//! The node as its own configuration agent (the [`ConfigAgent`] knob), after it has booted
//! and reported: like cfs-state-reporter it PATCHes its CFS component
//! (`/apis/cfs/v3/components/{xname}`) to `enabled: true`, then, standing in for the CFS
//! batcher and its Ansible run, reads its desired layers (`config_details=true`) and
//! reports each pending one with `state_append`: `applied`, or `failed` with the error
//! count raised as a failed CFS session would, until CFS says `configured` or `failed`.
//!
//! It goes round every `config_retry`, at most `config_tries` times. A 404 (no CFS
//! component, or no built-in CFS) ends it quietly: there is nothing to configure.

use crate::model::cfs::{ConfigurationStatus, LayerStatus};
use reqwest::StatusCode;

use super::config::ConfigAgent;
use super::retry::{Attempts, Backoff};
use super::{Node, snippet};

impl Node {
    /// The configuration agent: enable the component, then report pending layers until
    /// CFS's status is final. Every failure is status; a 404 ends it quietly.
    pub(super) async fn configure(&self, xname: &str, agent: ConfigAgent) {
        let path = format!("/apis/cfs/v3/components/{xname}");
        let mut enabled = false;
        let pace = Backoff::steady(self.pacing.config_retry);
        let mut rounds = Attempts::new(self.pacing.config_tries, pace);
        while rounds.next().await {
            if !enabled {
                match self
                    .cfs_patch(&path, serde_json::json!({"enabled": true}))
                    .await
                {
                    Ok(Some(_)) => enabled = true,
                    Ok(None) => return,
                    Err(e) => {
                        self.shared.fail(format!("cfs enable {xname}: {e}"));
                        continue;
                    }
                }
            }
            let comp = match self.cfs_get(&format!("{path}?config_details=true")).await {
                Ok(Some(c)) => c,
                Ok(None) => return,
                Err(e) => {
                    self.shared.fail(format!("cfs read {xname}: {e}"));
                    continue;
                }
            };
            let status = comp["configuration_status"]
                .as_str()
                .unwrap_or("")
                .to_string();
            self.shared
                .update(|s| s.configuration_status = Some(status.clone()));
            let pending =
                |s: &str| ConfigurationStatus::parse(s) == Some(ConfigurationStatus::Pending);
            if !pending(&status) {
                return;
            }
            if comp["enabled"] == serde_json::json!(false) {
                continue;
            }
            let pending = comp["desired_state"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|l| l["status"].as_str().is_some_and(pending))
                .cloned();
            let Some(layer) = pending else {
                continue;
            };
            let failed = agent == ConfigAgent::Fail;
            let mut body = serde_json::json!({"state_append": {
                "clone_url": layer["clone_url"], "playbook": layer["playbook"],
                "commit": layer["commit"], "session_name": "sim-node-agent",
                "status": if failed { LayerStatus::Failed } else { LayerStatus::Applied },
            }});
            if failed {
                body["error_count"] =
                    serde_json::json!(comp["error_count"].as_i64().unwrap_or(0) + 1);
            }
            match self.cfs_patch(&path, body).await {
                Ok(Some(_)) => self.shared.update(|s| {
                    if failed {
                        s.layers_failed += 1;
                    } else {
                        s.layers_applied += 1;
                    }
                }),
                Ok(None) => return,
                Err(e) => self.shared.fail(format!("cfs report {xname}: {e}")),
            }
        }
        self.shared.fail(format!(
            "configuration agent gave up after {} rounds",
            self.pacing.config_tries
        ));
    }

    /// A CFS PATCH: the answer's JSON, `None` on a 404, else an error naming the status.
    async fn cfs_patch(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<Option<serde_json::Value>, String> {
        let req = self.cfs_request(reqwest::Method::PATCH, path).json(&body);
        self.cfs_call(req).await
    }

    async fn cfs_get(&self, path: &str) -> Result<Option<serde_json::Value>, String> {
        let req = self.cfs_request(reqwest::Method::GET, path);
        self.cfs_call(req).await
    }

    /// CFS over the control plane when a [`ConfigService`] is set, else at `base`.
    fn cfs_request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        match &self.config_service {
            Some(c) => c
                .http
                .request(method, format!("{}{path}", c.base.trim_end_matches('/')))
                .bearer_auth(&c.token),
            None => self.http.request(method, self.url(path)),
        }
    }

    async fn cfs_call(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<Option<serde_json::Value>, String> {
        let resp = self.send(req).await?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| crate::errors::chain(&e))?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(format!("{status}: {}", snippet(&text)));
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("unreadable answer: {e}"))
    }
}
