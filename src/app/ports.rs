//! The application as the operators' ports (`operators::ports`): the BOS operators write
//! boot parameters, resolve boot sets, keep node timelines and save session status through
//! these small traits, never through `App` itself, so they depend on nothing in `app`.

use async_trait::async_trait;

use super::App;
use super::bss::BootParamsRequest;
use crate::model::template::BootSet;
use crate::model::{BootArtifacts, BootEvent, Session, Xname};
use crate::operators::ports::{BootEvents, BootParamsWriter, SessionStatusSaver};

#[async_trait]
impl BootParamsWriter for App {
    async fn write_boot_params(
        &self,
        hosts: &[String],
        artifacts: &BootArtifacts,
    ) -> Result<String, String> {
        let req = BootParamsRequest {
            hosts: hosts.to_vec(),
            params: artifacts.kernel_parameters.clone(),
            kernel: artifacts.kernel.clone(),
            initrd: artifacts.initrd.clone(),
            ..Default::default()
        };
        match App::write_boot_params(self, req, false).await {
            Ok(Some(token)) => Ok(token),
            Ok(None) => Err("the Boot Script Service minted no referral token".into()),
            Err(e) => Err(format!("writing boot parameters: {e}")),
        }
    }

    async fn boot_set_artifacts(
        &self,
        boot_set: &BootSet,
        update_frequency: &str,
    ) -> Result<BootArtifacts, String> {
        App::boot_set_artifacts(self, boot_set, update_frequency)
            .await
            .map_err(|e| e.to_string())
    }
}

impl BootEvents for App {
    fn record(&self, node: &Xname, event: BootEvent) {
        self.record_boot_event(node, event);
    }

    fn events(&self, node: &Xname) -> Vec<BootEvent> {
        self.timeline.events(node)
    }

    fn artifact_token(&self, node: &Xname, referral: &str) -> String {
        crate::artifacts::links::token(&self.artifact_secret, node.as_str(), referral)
    }
}

#[async_trait]
impl SessionStatusSaver for App {
    async fn save_session_status(&self, session: &Session) -> Result<(), String> {
        self.save_session_status_of(session)
            .await
            .map(|_| ())
            .map_err(|e| crate::errors::chain(&e))
    }
}
