//! Session templates: save-time sanitising (model::template) plus the checks that need the
//! artifact source, and the boot-set validation sessions and `sessiontemplatesvalid` run
//! (docs/bos.md, "Session templates" and "Boot-set validation").

use super::Scope;
use crate::app::{App, AppError, AppResult};
use crate::model::Operation;
use crate::model::template::{self, SessionTemplate};
use crate::model::template_patch::TemplatePatch;

/// What validation found: errors stop a session; warnings do not.
#[derive(Debug, Default)]
pub struct Findings {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl Findings {
    /// BOS's message: errors if any, else warnings, else `Valid`.
    pub fn message(&self) -> String {
        if !self.errors.is_empty() {
            self.errors.join("; ")
        } else if !self.warnings.is_empty() {
            self.warnings.join("; ")
        } else {
            "Valid".into()
        }
    }
}

impl App {
    pub async fn list_session_templates(&self, scope: &Scope) -> AppResult<Vec<SessionTemplate>> {
        let all = self.store.list_session_templates().await?;
        Ok(match &scope.tenant {
            None => all,
            Some(t) => all
                .into_iter()
                .filter(|x| x.tenant.as_deref() == Some(t.name.as_str()))
                .collect(),
        })
    }

    pub async fn get_session_template(
        &self,
        scope: &Scope,
        name: &str,
    ) -> AppResult<SessionTemplate> {
        self.store
            .get_session_template(scope.key(), name)
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "Session template '{name}' does not exist{}",
                    scope.suffix()
                ))
            })
    }

    pub async fn put_session_template(
        &self,
        scope: &Scope,
        name: &str,
        t: SessionTemplate,
    ) -> AppResult<SessionTemplate> {
        self.save_template(scope, name, t, "created").await
    }

    /// BOS's PATCH: `patch` merged into the stored template, which is then saved as a PUT
    /// would save it.
    pub async fn patch_session_template(
        &self,
        scope: &Scope,
        name: &str,
        patch: TemplatePatch,
    ) -> AppResult<SessionTemplate> {
        let stored = self.get_session_template(scope, name).await?;
        let t = patch.apply(stored).map_err(|e| {
            AppError::bad(format!("The session template could not be patched: {e}"))
        })?;
        self.save_template(scope, name, t, "patched").await
    }

    pub(super) async fn save_template(
        &self,
        scope: &Scope,
        name: &str,
        t: SessionTemplate,
        what: &str,
    ) -> AppResult<SessionTemplate> {
        let opts = self.options().await?;
        let (mut t, warnings) = template::sanitize(name, t, opts.reject_nids)
            .map_err(|e| AppError::bad(format!("The session template could not be {what}: {e}")))?;
        t.tenant = scope.name();
        // Artifacts are checked at save time for warnings only, as BOS does.
        let findings = self.validate_boot_sets(&t, Operation::Boot).await;
        for w in warnings
            .iter()
            .chain(&findings.errors)
            .chain(&findings.warnings)
        {
            tracing::warn!(template = name, "{w}");
        }
        self.store.put_session_template(&t).await?;
        Ok(t)
    }

    pub async fn delete_session_template(&self, scope: &Scope, name: &str) -> AppResult<()> {
        if self
            .store
            .delete_session_template(scope.key(), name)
            .await?
        {
            Ok(())
        } else {
            Err(AppError::not_found(format!(
                "Session template '{name}' does not exist{}",
                scope.suffix()
            )))
        }
    }

    /// `GET /v2/sessiontemplatesvalid/{id}`: validate as for a boot.
    pub async fn validate_session_template(&self, scope: &Scope, name: &str) -> AppResult<String> {
        let t = self.get_session_template(scope, name).await?;
        Ok(self.validate_boot_sets(&t, Operation::Boot).await.message())
    }

    /// Boot-set validation for an operation (docs/bos.md, "Boot-set validation"; there is no IMS
    /// here, so its checks are left out).
    pub async fn validate_boot_sets(&self, t: &SessionTemplate, operation: Operation) -> Findings {
        let mut f = Findings::default();
        let reject_nids = self.options().await.map(|o| o.reject_nids).unwrap_or(false);
        for (bs_name, bs) in &t.boot_sets {
            let at =
                |m: String| format!("Session template: '{}' boot set: '{bs_name}': {m}", t.name);
            let present = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|l| !l.is_empty());
            if !present(&bs.node_list)
                && !present(&bs.node_groups)
                && !present(&bs.node_roles_groups)
            {
                f.errors
                    .push(at("No non-empty hardware specifier field".into()));
            }
            if let Some(p) = bs.rootfs_provider.as_deref()
                && p != "sbps"
            {
                f.warnings
                    .push(at(format!("Unsupported rootfs_provider '{p}'")));
            }
            let nids: Vec<&str> = bs
                .node_list
                .iter()
                .flatten()
                .filter(|x| x.starts_with("nid"))
                .map(String::as_str)
                .collect();
            if !nids.is_empty() {
                let m = at(format!("node_list contains NIDs: {}", nids.join(", ")));
                if reject_nids {
                    f.errors.push(m);
                } else {
                    f.warnings.push(m);
                }
            }
            let cfg = t.configuration_for(bs);
            if !cfg.is_empty() && operation != Operation::Shutdown {
                let handoff = self.handoff();
                match handoff.configuration_exists(&cfg).await {
                    Ok(Some(true)) => {}
                    Ok(Some(false)) => f.warnings.push(at(format!(
                        "configuration '{cfg}' does not exist in {}; its nodes will fail configuration",
                        handoff.describe()
                    ))),
                    Ok(None) => f.warnings.push(at(format!(
                        "configuration '{cfg}' will not be applied: {}",
                        handoff.describe()
                    ))),
                    Err(e) => f.warnings.push(at(format!(
                        "cannot check configuration '{cfg}': {e}"
                    ))),
                }
            }
            if operation != Operation::Shutdown {
                if bs.kind != "s3" {
                    f.errors.push(at(format!(
                        "Can't find boot artifacts: boot set type '{}' is not supported (only s3)",
                        bs.kind
                    )));
                    continue;
                }
                match self.read_manifest(&bs.path).await {
                    Ok(m) => {
                        if m.initrd.is_none() {
                            f.warnings.push(at("the image has no initrd".into()));
                        }
                    }
                    Err(e) => f.errors.push(at(format!("Can't find boot artifacts: {e}"))),
                }
            }
        }
        f
    }
}
