//! CFS's `_get_status`: a component's configuration status, and each layer's, from what
//! has been applied to it and its retry policy.

use super::{
    CfsComponent, CfsConfiguration, ConfigurationStatus, DEFAULT_RETRY_POLICY, LayerStatus,
};

/// What a configuration layer needs applied, as CFS compares it with a node's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredLayer {
    pub name: Option<String>,
    pub clone_url: String,
    pub playbook: String,
    pub commit: String,
    /// This layer's status on the node.
    pub status: ConfigurationStatus,
}

use ConfigurationStatus as Level;

/// A component's configuration status and, per layer of its desired configuration, the
/// layer's status (CFS `_get_status`). `config` is the configuration named by
/// `desired_config`, `None` if it is unset or does not exist.
pub fn configuration_status(
    c: &CfsComponent,
    config: Option<&CfsConfiguration>,
) -> (ConfigurationStatus, Vec<DesiredLayer>) {
    let retries = c.retry_policy.unwrap_or(DEFAULT_RETRY_POLICY);
    let max_retries = retries != -1 && c.error_count >= retries;
    let Some(config) = config else {
        let s = if c.state.is_empty() {
            Level::Unconfigured
        } else {
            Level::Configured
        };
        return (s, Vec::new());
    };
    let mut overall = Level::Configured;
    let mut layers = Vec::new();
    for l in &config.layers {
        let clone_url = l.clone_url.clone().or(l.source.clone()).unwrap_or_default();
        let playbook = l.playbook.clone().unwrap_or_default();
        let commit = l.commit.clone().unwrap_or_default();
        let level =
            if clone_url.is_empty() || playbook.is_empty() || commit.is_empty() {
                Level::Unconfigured
            } else {
                match c.state.iter().find(|s| {
                    s.clone_url == clone_url && s.playbook == playbook && s.commit == commit
                }) {
                    None => Level::Pending,
                    Some(s) if s.status == LayerStatus::Failed => {
                        if max_retries {
                            Level::Failed
                        } else {
                            Level::Pending
                        }
                    }
                    Some(s) if s.status == LayerStatus::Incomplete => Level::Pending,
                    Some(_) => Level::Configured,
                }
            };
        overall = overall.min(level);
        layers.push(DesiredLayer {
            name: l.name.clone(),
            clone_url,
            playbook,
            commit,
            status: level,
        });
    }
    if overall == Level::Pending && max_retries {
        overall = Level::Failed;
    }
    (overall, layers)
}
