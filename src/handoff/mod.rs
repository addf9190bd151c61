//! The configuration handoff seam: after a node boots, BOS hands it to a Configuration
//! Framework Service and waits until it is configured (docs/bos.md, "Operators": power-on
//! step 5, the configuration operator and the status state machine).
//!
//! [`ConfigHandoff`] is what the BOS operators need from CFS: prepare nodes before power-on,
//! ask for their desired configuration to be applied, and read back each node's view.
//! Three implementations, chosen by the `cfs` setting:
//! - [`NoHandoff`] (`none`): no configuration service, so a node that booted the right
//!   artifacts is configured by definition;
//! - `app::cfs::handoff::BuiltinHandoff` (`builtin`, the default): rackboot's own
//!   `/apis/cfs/v3`, which lives with the built-in CFS it drives;
//! - [`external::ExternalCfs`] (`external`): a CSM CFS over HTTP, called exactly as BOS does.

use std::collections::HashMap;

use async_trait::async_trait;

use std::sync::Arc;

use crate::model::boot_plan::ConfigView;
use crate::model::cfs::ComponentPatch;
use crate::model::names::OrOther;

/// Which configuration handoff the appliance is built with (`cfs` setting).
#[derive(Clone)]
pub enum Handoff {
    /// rackboot's own CFS, served at `/apis/cfs/v3` (the default); made by the appliance.
    Builtin,
    /// No configuration service (`cfs = none`): a node that booted is configured.
    None,
    /// Another service: a CSM CFS over HTTP (`cfs = external`), or a test's own.
    Service(Arc<dyn ConfigHandoff>),
}

pub mod external;

/// The component patch BOS sends CFS when it hands nodes over
/// ([`ComponentPatch::handoff`]), as CFS's JSON: what the external handoff sends; the
/// built-in one applies the same patch in-process.
pub fn handoff_patch(configuration: &str, session: &str, prepare: bool) -> serde_json::Value {
    let p = ComponentPatch::handoff(configuration, session, prepare);
    let mut doc = serde_json::json!({
        "enabled": p.enabled,
        "desired_config": p.desired_config,
        "tags": p.tags,
    });
    if let Some(state) = p.state {
        debug_assert!(state.is_empty(), "a handoff only ever clears the state");
        doc["state"] = serde_json::json!([]);
    }
    doc
}

/// A CFS call that failed; the message names the endpoint and the cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HandoffError(pub String);

#[async_trait]
pub trait ConfigHandoff: Send + Sync + 'static {
    /// Before power-on: disable configuration of `ids` and clear their state, recording the
    /// configuration they should get and the session asking (CFS `PATCH /v3/components`).
    async fn prepare(
        &self,
        ids: &[String],
        configuration: &str,
        session: &str,
    ) -> Result<(), HandoffError>;
    /// Ask for `configuration` to be applied to `ids` (the configuration operator).
    async fn configure(
        &self,
        ids: &[String],
        configuration: &str,
        session: &str,
    ) -> Result<(), HandoffError>;
    /// Each node's desired configuration and configuration status. `desired` is what BOS
    /// wants per node (used by handoffs without a service of their own). A node missing
    /// from the answer is one the service does not know.
    async fn status(
        &self,
        desired: &[(String, String)],
    ) -> Result<HashMap<String, ConfigView>, HandoffError>;
    /// Whether the service knows the configuration `name` (`None`: it cannot say).
    async fn configuration_exists(&self, _name: &str) -> Result<Option<bool>, HandoffError> {
        Ok(None)
    }
    /// What this handoff is, for messages ("the built-in CFS", "CFS at https://…").
    fn describe(&self) -> String;
}

/// No configuration service: every node reports exactly the configuration BOS wants, and
/// reports it applied, so booted means stable.
pub struct NoHandoff;

#[async_trait]
impl ConfigHandoff for NoHandoff {
    fn describe(&self) -> String {
        "no configuration service (cfs = none)".into()
    }

    async fn prepare(&self, _: &[String], _: &str, _: &str) -> Result<(), HandoffError> {
        Ok(())
    }

    async fn configure(&self, _: &[String], _: &str, _: &str) -> Result<(), HandoffError> {
        Ok(())
    }

    async fn status(
        &self,
        desired: &[(String, String)],
    ) -> Result<HashMap<String, ConfigView>, HandoffError> {
        Ok(desired
            .iter()
            .map(|(id, cfg)| {
                (
                    id.clone(),
                    ConfigView {
                        desired_config: cfg.clone(),
                        status: OrOther::Known(crate::model::cfs::ConfigurationStatus::Configured),
                    },
                )
            })
            .collect())
    }
}
