//! Built-in CFS rows: components (with the layers applied to them) and configurations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::cfs::{
    CfsComponent, CfsConfiguration, CfsOptions, ConfigLayer, InventoryLayer, LayerStatus,
    SpecialParameters, StateLayer,
};

fn yes() -> bool {
    true
}

fn applied() -> LayerStatus {
    LayerStatus::Applied
}

#[derive(Debug, Serialize, Deserialize)]
struct StateLayerRecord {
    #[serde(default)]
    clone_url: String,
    #[serde(default)]
    playbook: String,
    #[serde(default)]
    commit: String,
    #[serde(default = "applied")]
    status: LayerStatus,
    #[serde(default)]
    last_updated: String,
    #[serde(default)]
    session_name: String,
}

/// A CFS component row.
#[derive(Debug, Serialize, Deserialize)]
pub struct CfsComponentRecord {
    id: String,
    #[serde(default)]
    desired_config: String,
    #[serde(default)]
    state: Vec<StateLayerRecord>,
    #[serde(default)]
    error_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_policy: Option<i64>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

impl CfsComponentRecord {
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl From<&CfsComponent> for CfsComponentRecord {
    fn from(c: &CfsComponent) -> Self {
        CfsComponentRecord {
            id: c.id.clone(),
            desired_config: c.desired_config.clone(),
            state: c
                .state
                .iter()
                .map(|l| StateLayerRecord {
                    clone_url: l.clone_url.clone(),
                    playbook: l.playbook.clone(),
                    commit: l.commit.clone(),
                    status: l.status,
                    last_updated: l.last_updated.clone(),
                    session_name: l.session_name.clone(),
                })
                .collect(),
            error_count: c.error_count,
            retry_policy: c.retry_policy,
            enabled: c.enabled,
            tags: c.tags.clone(),
        }
    }
}

impl From<CfsComponentRecord> for CfsComponent {
    fn from(r: CfsComponentRecord) -> Self {
        CfsComponent {
            id: r.id,
            desired_config: r.desired_config,
            state: r
                .state
                .into_iter()
                .map(|l| StateLayer {
                    clone_url: l.clone_url,
                    playbook: l.playbook,
                    commit: l.commit,
                    status: l.status,
                    last_updated: l.last_updated,
                    session_name: l.session_name,
                })
                .collect(),
            error_count: r.error_count,
            retry_policy: r.retry_policy,
            enabled: r.enabled,
            tags: r.tags,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct SpecialParametersRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ims_require_dkms: Option<bool>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ConfigLayerRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clone_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    playbook: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    special_parameters: Option<SpecialParametersRecord>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct InventoryLayerRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clone_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    branch: Option<String>,
}

/// A CFS configuration row.
#[derive(Debug, Serialize, Deserialize)]
pub struct CfsConfigurationRecord {
    #[serde(default)]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant_name: Option<String>,
    #[serde(default)]
    last_updated: String,
    #[serde(default)]
    layers: Vec<ConfigLayerRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    additional_inventory: Option<InventoryLayerRecord>,
}

impl From<&CfsConfiguration> for CfsConfigurationRecord {
    fn from(c: &CfsConfiguration) -> Self {
        CfsConfigurationRecord {
            name: c.name.clone(),
            description: c.description.clone(),
            tenant_name: c.tenant_name.clone(),
            last_updated: c.last_updated.clone(),
            layers: c
                .layers
                .iter()
                .map(|l| ConfigLayerRecord {
                    name: l.name.clone(),
                    clone_url: l.clone_url.clone(),
                    source: l.source.clone(),
                    playbook: l.playbook.clone(),
                    commit: l.commit.clone(),
                    branch: l.branch.clone(),
                    special_parameters: l.special_parameters.as_ref().map(|s| {
                        SpecialParametersRecord {
                            ims_require_dkms: s.ims_require_dkms,
                        }
                    }),
                })
                .collect(),
            additional_inventory: c
                .additional_inventory
                .as_ref()
                .map(|i| InventoryLayerRecord {
                    name: i.name.clone(),
                    clone_url: i.clone_url.clone(),
                    source: i.source.clone(),
                    commit: i.commit.clone(),
                    branch: i.branch.clone(),
                }),
        }
    }
}

impl From<CfsConfigurationRecord> for CfsConfiguration {
    fn from(r: CfsConfigurationRecord) -> Self {
        CfsConfiguration {
            name: r.name,
            description: r.description,
            tenant_name: r.tenant_name,
            last_updated: r.last_updated,
            layers: r
                .layers
                .into_iter()
                .map(|l| ConfigLayer {
                    name: l.name,
                    clone_url: l.clone_url,
                    source: l.source,
                    playbook: l.playbook,
                    commit: l.commit,
                    branch: l.branch,
                    special_parameters: l.special_parameters.map(|s| SpecialParameters {
                        ims_require_dkms: s.ims_require_dkms,
                    }),
                })
                .collect(),
            additional_inventory: r.additional_inventory.map(|i| InventoryLayer {
                name: i.name,
                clone_url: i.clone_url,
                source: i.source,
                commit: i.commit,
                branch: i.branch,
            }),
        }
    }
}

/// The service options row. Every field defaults to CFS's default, so a row written by an
/// older rackboot (or missing an option added later) still reads.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct CfsOptionsRecord {
    hardware_sync_interval: i64,
    batcher_check_interval: i64,
    batch_size: i64,
    batch_window: i64,
    default_batcher_retry_policy: i64,
    default_playbook: String,
    default_ansible_config: String,
    session_ttl: String,
    additional_inventory_url: String,
    batcher_max_backoff: i64,
    batcher_disable: bool,
    batcher_pending_timeout: i64,
    logging_level: String,
}

impl Default for CfsOptionsRecord {
    fn default() -> Self {
        (&CfsOptions::default()).into()
    }
}

impl From<&CfsOptions> for CfsOptionsRecord {
    fn from(o: &CfsOptions) -> Self {
        let o = o.clone();
        CfsOptionsRecord {
            hardware_sync_interval: o.hardware_sync_interval,
            batcher_check_interval: o.batcher_check_interval,
            batch_size: o.batch_size,
            batch_window: o.batch_window,
            default_batcher_retry_policy: o.default_batcher_retry_policy,
            default_playbook: o.default_playbook,
            default_ansible_config: o.default_ansible_config,
            session_ttl: o.session_ttl,
            additional_inventory_url: o.additional_inventory_url,
            batcher_max_backoff: o.batcher_max_backoff,
            batcher_disable: o.batcher_disable,
            batcher_pending_timeout: o.batcher_pending_timeout,
            logging_level: o.logging_level,
        }
    }
}

impl From<CfsOptionsRecord> for CfsOptions {
    fn from(r: CfsOptionsRecord) -> Self {
        CfsOptions {
            hardware_sync_interval: r.hardware_sync_interval,
            batcher_check_interval: r.batcher_check_interval,
            batch_size: r.batch_size,
            batch_window: r.batch_window,
            default_batcher_retry_policy: r.default_batcher_retry_policy,
            default_playbook: r.default_playbook,
            default_ansible_config: r.default_ansible_config,
            session_ttl: r.session_ttl,
            additional_inventory_url: r.additional_inventory_url,
            batcher_max_backoff: r.batcher_max_backoff,
            batcher_disable: r.batcher_disable,
            batcher_pending_timeout: r.batcher_pending_timeout,
            logging_level: r.logging_level,
        }
    }
}
