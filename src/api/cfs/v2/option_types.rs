//! CFS v2 options (`V2Options`): every option in camelCase, and how a v3 option name is
//! spelled in v2.

use serde::{Deserialize, Serialize};

use crate::app::cfs::{CfsOptions, OptionsPatch};

/// `V2Options`: every option, camelCase.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct V2Options {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub hardware_sync_interval: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub batcher_check_interval: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub batch_size: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub batch_window: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub default_batcher_retry_policy: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub default_playbook: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub default_ansible_config: Option<String>,
    #[serde(
        rename = "sessionTTL",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub session_ttl: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub additional_inventory_url: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub batcher_max_backoff: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub batcher_disable: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub batcher_pending_timeout: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub logging_level: Option<String>,
}

/// An option's v2 name (`batch_size` → `batchSize`, `session_ttl` → `sessionTTL`).
pub fn option_name(v3: &str) -> String {
    if v3 == "session_ttl" {
        return "sessionTTL".into();
    }
    let mut out = String::new();
    let mut up = false;
    for ch in v3.chars() {
        if ch == '_' {
            up = true;
        } else if up {
            out.extend(ch.to_uppercase());
            up = false;
        } else {
            out.push(ch);
        }
    }
    out
}

impl From<V2Options> for OptionsPatch {
    fn from(o: V2Options) -> Self {
        OptionsPatch {
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

impl From<CfsOptions> for V2Options {
    fn from(o: CfsOptions) -> Self {
        V2Options {
            hardware_sync_interval: Some(o.hardware_sync_interval),
            batcher_check_interval: Some(o.batcher_check_interval),
            batch_size: Some(o.batch_size),
            batch_window: Some(o.batch_window),
            default_batcher_retry_policy: Some(o.default_batcher_retry_policy),
            default_playbook: Some(o.default_playbook),
            default_ansible_config: Some(o.default_ansible_config),
            session_ttl: Some(o.session_ttl),
            additional_inventory_url: Some(o.additional_inventory_url),
            batcher_max_backoff: Some(o.batcher_max_backoff),
            batcher_disable: Some(o.batcher_disable),
            batcher_pending_timeout: Some(o.batcher_pending_timeout),
            logging_level: Some(o.logging_level),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_names_are_v2s() {
        assert_eq!(
            option_name("default_batcher_retry_policy"),
            "defaultBatcherRetryPolicy"
        );
        assert_eq!(option_name("session_ttl"), "sessionTTL");
        let all = serde_json::to_value(V2Options::from(CfsOptions::default())).unwrap();
        assert_eq!(all.as_object().unwrap().len(), 13);
        assert!(all.get("sessionTTL").is_some());
    }
}
