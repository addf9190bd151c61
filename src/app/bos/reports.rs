//! A node's own boot report over the boot plane (what bos-reporter PATCHes), where there
//! are no credentials: accepted only as a report (nothing but `actual_state`), only for the
//! node it names, only with that node's current referral token — the one BSS minted for
//! the boot BOS asked for — and, under `boot_plane_bind`, only from the node's own
//! addresses. Anything else is refused and changes nothing.
//!
//! BSS mints one referral token per write, and BOS writes a boot set's nodes together, so
//! nodes booted by the same write share a token: the token alone tells a node's report from
//! a stranger's, not from its neighbour's. The address binding does (docs/security.md).

use crate::app::bos::Scope;
use crate::app::{App, AppError, AppResult};
use crate::model::BootComponent;
use crate::model::component_patch::ComponentPatch;

impl App {
    pub async fn accept_boot_report(
        &self,
        id: &str,
        p: ComponentPatch,
        client: Option<&str>,
    ) -> AppResult<BootComponent> {
        let refuse =
            |why: String| AppError::Forbidden(format!("boot report for {id} refused: {why}"));
        let only_actual = ComponentPatch {
            id: None,
            actual_state: p.actual_state.clone(),
            ..Default::default()
        };
        let p_named = ComponentPatch {
            id: None,
            ..p.clone()
        };
        if p.id.as_deref().is_some_and(|named| named != id) {
            return Err(refuse(format!(
                "the body names another node ({})",
                p.id.unwrap_or_default()
            )));
        }
        if p_named != only_actual {
            return Err(refuse(
                "over the boot plane a node may only report its actual_state (everything else is the control plane's)".into(),
            ));
        }
        let Some(token) = p
            .actual_state
            .as_ref()
            .and_then(|a| a.bss_token.clone())
            .filter(|t| !t.is_empty())
        else {
            return Err(refuse("the report carries no bss_token".into()));
        };
        let current = self
            .store
            .get_boot_component(id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no such component: {id}")))?
            .value;
        if current.desired_state.bss_token.is_empty() || current.desired_state.bss_token != token {
            return Err(refuse(
                "its bss_token is not the node's current referral token".into(),
            ));
        }
        if let Ok(x) = crate::model::Xname::parse(id) {
            let idx = self.boot.get().await?;
            self.check_bound(&idx, &x, client)
                .map_err(|e| refuse(e.to_string()))?;
        }
        self.patch_boot_component(&Scope::default(), id, only_actual)
            .await
    }
}
