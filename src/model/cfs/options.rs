//! CFS's service options (CFS's `/options`), with CFS's defaults: a domain value the app
//! checks and patches and the store keeps (one row).

use super::DEFAULT_RETRY_POLICY;

/// CFS's options, with CFS's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfsOptions {
    pub hardware_sync_interval: i64,
    pub batcher_check_interval: i64,
    pub batch_size: i64,
    pub batch_window: i64,
    pub default_batcher_retry_policy: i64,
    pub default_playbook: String,
    pub default_ansible_config: String,
    pub session_ttl: String,
    pub additional_inventory_url: String,
    pub batcher_max_backoff: i64,
    pub batcher_disable: bool,
    pub batcher_pending_timeout: i64,
    pub logging_level: String,
}

impl Default for CfsOptions {
    fn default() -> Self {
        CfsOptions {
            hardware_sync_interval: 5,
            batcher_check_interval: 10,
            batch_size: 25,
            batch_window: 60,
            default_batcher_retry_policy: DEFAULT_RETRY_POLICY,
            default_playbook: "site.yml".into(),
            default_ansible_config: "cfs-default-ansible-cfg".into(),
            session_ttl: "7d".into(),
            additional_inventory_url: String::new(),
            batcher_max_backoff: 3600,
            batcher_disable: false,
            batcher_pending_timeout: 300,
            logging_level: "INFO".into(),
        }
    }
}
