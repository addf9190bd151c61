//! Sessions: creation with BOS's validation order (docs/bos.md, "Sessions"), listing and
//! deletion with the age and status filters, and the extended status (docs/bos.md, "Sessions").
//! Creating a session only records it as `pending`; the session-setup operator does the rest.

use chrono::Utc;

use super::Scope;
use crate::app::{App, AppError, AppResult};
use crate::model::boot_component::timestamp;
use crate::model::session::{self, SessionPatch, SessionState};
use crate::model::{
    ExtendedStatus, NewSession, Operation, Session, SessionStatus, limit, options, template,
};

/// The list and bulk-delete filters.
#[derive(Debug, Default, Clone)]
pub struct SessionFilter {
    pub min_age: Option<String>,
    pub max_age: Option<String>,
    pub status: Option<SessionStatus>,
}

impl App {
    pub async fn create_session(&self, scope: &Scope, req: NewSession) -> AppResult<Session> {
        let (s, _) = self.checked_session(scope, req).await?;
        let name = s.name.clone();
        match self.store.insert_session(&s).await {
            Err(crate::store::StoreError::Conflict { .. }) => {
                return Err(AppError::Conflict(format!(
                    "Session '{name}' already exists{}",
                    scope.suffix()
                )));
            }
            r => r?,
        }
        self.bos_pokes.setup.poke();
        Ok(s)
    }

    /// The session `req` asks for, checked as creation checks it, with its template; not
    /// recorded (creation records it; the console's dry run plans it).
    pub(crate) async fn checked_session(
        &self,
        scope: &Scope,
        req: NewSession,
    ) -> AppResult<(Session, crate::model::SessionTemplate)> {
        let op = req.operation;
        let name = req
            .name
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if !template::valid_name(&name) {
            return Err(AppError::bad(format!(
                "invalid session name '{name}': use 1-127 letters, digits, '.', '-' or '_', starting and ending with a letter or digit"
            )));
        }
        let lim = req.limit.clone().unwrap_or_default();
        if lim.len() > 524_288 {
            return Err(AppError::bad("limit is longer than 524288 characters"));
        }
        let opts = self.options().await?;
        if opts.session_limit_required && lim.trim().is_empty() {
            return Err(AppError::bad(
                "session_limit_required is set: a session must have a limit",
            ));
        }
        let nids = limit::nid_items(&lim);
        if !nids.is_empty() {
            if opts.reject_nids {
                return Err(AppError::bad(format!(
                    "reject_nids is set and the limit names NIDs: {}",
                    nids.join(", ")
                )));
            }
            tracing::warn!(session = %name, "limit names NIDs, which BOS does not resolve: {}", nids.join(", "));
        }
        let t = self
            .store
            .get_session_template(scope.key(), &req.template_name)
            .await?
            .ok_or_else(|| {
                AppError::bad(format!(
                    "Session Template Name invalid: {}",
                    req.template_name
                ))
            })?;
        // A v1 configure boots nothing, so its artifacts are not checked (as for a shutdown).
        let configure = req
            .v1
            .as_ref()
            .is_some_and(|r| r.operation == crate::model::bos_v1::V1Operation::Configure);
        let check = if configure { Operation::Shutdown } else { op };
        let findings = self.validate_boot_sets(&t, check).await;
        if !findings.errors.is_empty() {
            return Err(AppError::bad(format!(
                "Session template fails check: {}",
                findings.errors.join("; ")
            )));
        }
        let s = Session {
            name: name.clone(),
            tenant: scope.name(),
            operation: op,
            template_name: req.template_name,
            limit: lim,
            stage: req.stage,
            components: String::new(),
            include_disabled: req.include_disabled,
            status: SessionState {
                status: SessionStatus::Pending,
                start_time: Some(timestamp(Utc::now())),
                end_time: None,
                error: None,
            },
            v1: req.v1,
        };
        Ok((s, t))
    }

    fn session_matches(
        &self,
        s: &Session,
        scope: &Scope,
        f: &SessionFilter,
        now: chrono::DateTime<Utc>,
    ) -> bool {
        if let Some(t) = &scope.tenant
            && s.tenant.as_deref() != Some(t.name.as_str())
        {
            return false;
        }
        if let Some(st) = f.status
            && s.status.status != st
        {
            return false;
        }
        let started = s.started();
        if let Some(a) = f.min_age.as_deref().and_then(options::parse_age) {
            let cutoff = now - chrono::Duration::from_std(a).unwrap_or_default();
            if started.is_none_or(|t| t > cutoff) {
                return false;
            }
        }
        if let Some(a) = f.max_age.as_deref().and_then(options::parse_age) {
            let cutoff = now - chrono::Duration::from_std(a).unwrap_or_default();
            if started.is_none_or(|t| t < cutoff) {
                return false;
            }
        }
        true
    }

    fn check_filter(f: &SessionFilter) -> AppResult<()> {
        for (k, v) in [("min_age", &f.min_age), ("max_age", &f.max_age)] {
            if let Some(v) = v
                && options::parse_age(v).is_none()
            {
                return Err(AppError::bad(format!(
                    "{k} '{v}' is not an age such as 30m, 12h, 7d or 2w"
                )));
            }
        }
        Ok(())
    }

    pub async fn list_sessions(&self, scope: &Scope, f: &SessionFilter) -> AppResult<Vec<Session>> {
        Self::check_filter(f)?;
        let now = Utc::now();
        Ok(self
            .store
            .list_sessions()
            .await?
            .into_iter()
            .filter(|s| self.session_matches(s, scope, f, now))
            .collect())
    }

    /// Bulk delete. Unlike BOS (docs/bos.md, "Sessions") a call without a tenant deletes matching
    /// sessions of every tenant, the same set it lists.
    pub async fn delete_sessions(&self, scope: &Scope, f: &SessionFilter) -> AppResult<u64> {
        let gone: Vec<(String, String)> = self
            .list_sessions(scope, f)
            .await?
            .into_iter()
            .map(|s| (s.tenant.unwrap_or_default(), s.name))
            .collect();
        Ok(self.store.delete_sessions(&gone).await?)
    }

    pub async fn get_session(&self, scope: &Scope, name: &str) -> AppResult<Session> {
        self.store
            .get_session(scope.key(), name)
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!("Session '{name}' does not exist{}", scope.suffix()))
            })
    }

    pub async fn delete_session(&self, scope: &Scope, name: &str) -> AppResult<()> {
        let n = self
            .store
            .delete_sessions(&[(scope.key().to_string(), name.to_string())])
            .await?;
        if n == 0 {
            return Err(AppError::not_found(format!(
                "Session '{name}' does not exist{}",
                scope.suffix()
            )));
        }
        Ok(())
    }

    /// The internal session PATCH: `status` merged, `components` replaced.
    pub async fn patch_session(
        &self,
        scope: &Scope,
        name: &str,
        patch: SessionPatch,
    ) -> AppResult<Session> {
        let mut s = self.get_session(scope, name).await?;
        patch.apply(&mut s);
        self.store.update_session(&s).await?;
        self.bos_pokes.all();
        Ok(s)
    }

    /// Stop a session (the console's Stop; BOS has none): its nodes are disabled, so no
    /// operator acts on them again, and it is complete with an error that says who stopped
    /// it. A node keeps the power state it has; what it was doing is not undone.
    pub async fn stop_session(&self, scope: &Scope, name: &str, who: &str) -> AppResult<Session> {
        let s = self.get_session(scope, name).await?;
        if s.is(SessionStatus::Complete) {
            return Err(AppError::Conflict(format!(
                "Session '{name}' is already complete"
            )));
        }
        let disable = crate::model::component_patch::ComponentPatch {
            enabled: Some(false),
            ..Default::default()
        };
        self.patch_boot_components(
            scope,
            super::components::BulkPatch::Filter {
                patch: Box::new(disable),
                ids: None,
                session: Some(name.to_string()),
            },
            true,
        )
        .await?;
        let now = timestamp(Utc::now());
        let patch = SessionPatch {
            components: None,
            status: Some(session::SessionStatePatch {
                status: Some(SessionStatus::Complete),
                start_time: None,
                end_time: Some(Some(now)),
                error: Some(Some(format!("stopped by {who}"))),
            }),
        };
        let s = self.patch_session(scope, name, patch).await?;
        let _ = self.save_session_status_of(&s).await;
        Ok(s)
    }

    /// The extended status: the saved copy of a completed session, else computed now.
    pub async fn session_status(&self, scope: &Scope, name: &str) -> AppResult<ExtendedStatus> {
        let s = self.get_session(scope, name).await?;
        if s.is(SessionStatus::Complete)
            && let Some(saved) = self.store.saved_session_status(scope.key(), name).await?
        {
            return Ok(saved);
        }
        self.compute_session_status(&s).await
    }

    /// Compute and save the extended status (`POST .../status`).
    pub async fn save_session_status(
        &self,
        scope: &Scope,
        name: &str,
    ) -> AppResult<ExtendedStatus> {
        let s = self.get_session(scope, name).await?;
        let st = self.compute_session_status(&s).await?;
        self.store
            .save_session_status(scope.key(), name, &st)
            .await?;
        Ok(st)
    }

    /// Compute and save the status of a session the caller already holds (operators).
    pub async fn save_session_status_of(&self, s: &Session) -> AppResult<ExtendedStatus> {
        let st = self.compute_session_status(s).await?;
        self.store
            .save_session_status(s.tenant.as_deref().unwrap_or(""), &s.name, &st)
            .await?;
        Ok(st)
    }

    pub async fn compute_session_status(&self, s: &Session) -> AppResult<ExtendedStatus> {
        let comps = self.store.list_boot_components(false).await?;
        let owned: Option<std::collections::HashSet<String>> = match &s.tenant {
            Some(t) => self
                .store
                .get_tenant(t)
                .await?
                .map(|t| t.xnames.into_iter().collect()),
            None => None,
        };
        let in_scope = |id: &str| owned.as_ref().is_none_or(|o| o.contains(id));
        let active: Vec<&crate::model::BootComponent> = comps
            .iter()
            .map(|v| &v.value)
            .filter(|c| c.session == s.name && in_scope(&c.id))
            .collect();
        let staged = comps
            .iter()
            .filter(|v| v.value.staged_state.session == s.name && in_scope(&v.value.id))
            .count();
        Ok(session::extended_status(s, &active, staged, Utc::now()))
    }
}
