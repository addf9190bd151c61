//! The built-in handoff: BOS talks to rackboot's own CFS in-process, with the same writes
//! BOS makes to a CSM CFS (docs/cfs.md, "Handoff"). Handing a node over creates its CFS
//! component if needed, standing in for CFS's hardware sync. It lives with the built-in
//! CFS it drives, so the handoff seam (`crate::handoff`) knows nothing of the use cases.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::Cfs;
use crate::handoff::{ConfigHandoff, HandoffError};
use crate::model::boot_plan::ConfigView;
use crate::model::cfs::{ComponentFilter, ComponentPatch};
use crate::model::names::OrOther;

pub struct BuiltinHandoff(pub Arc<Cfs>);

fn failed(call: &str) -> impl FnOnce(crate::app::AppError) -> HandoffError + '_ {
    move |e| HandoffError(format!("built-in CFS {call}: {e}"))
}

impl BuiltinHandoff {
    async fn hand(
        &self,
        ids: &[String],
        configuration: &str,
        session: &str,
        prepare: bool,
    ) -> Result<(), HandoffError> {
        let patch = ComponentPatch::handoff(configuration, session, prepare);
        let filter = ComponentFilter {
            ids: Some(ids.to_vec()),
            ..Default::default()
        };
        self.0
            .patch_where(&patch, &filter, true)
            .await
            .map_err(failed("update of components"))?;
        Ok(())
    }
}

#[async_trait]
impl ConfigHandoff for BuiltinHandoff {
    fn describe(&self) -> String {
        "the built-in CFS".into()
    }

    async fn prepare(
        &self,
        ids: &[String],
        configuration: &str,
        session: &str,
    ) -> Result<(), HandoffError> {
        self.hand(ids, configuration, session, true).await
    }

    async fn configure(
        &self,
        ids: &[String],
        configuration: &str,
        session: &str,
    ) -> Result<(), HandoffError> {
        self.hand(ids, configuration, session, false).await
    }

    async fn status(
        &self,
        desired: &[(String, String)],
    ) -> Result<HashMap<String, ConfigView>, HandoffError> {
        let ids: Vec<String> = desired.iter().map(|(id, _)| id.clone()).collect();
        let views = self
            .0
            .views(&ids)
            .await
            .map_err(failed("read of components"))?;
        Ok(views
            .into_iter()
            .map(|(id, v)| {
                (
                    id,
                    ConfigView {
                        desired_config: v.desired_config,
                        status: OrOther::Known(v.status),
                    },
                )
            })
            .collect())
    }

    async fn configuration_exists(&self, name: &str) -> Result<Option<bool>, HandoffError> {
        self.0
            .configuration_exists(name)
            .await
            .map(Some)
            .map_err(failed("read of configurations"))
    }
}
