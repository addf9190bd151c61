//! BOS v1 use cases (docs/bos.md, "BOS v1"): v1 templates go into the one template store, and
//! a v1 session is created through the v2 session use case with a [`V1Run`] attached, so
//! session setup writes the same desired states a v2 session would and the engine runs it.
//! The v1 status tree is derived from the components on every read
//! (`model::bos_v1_status`); nothing v1-specific is written after creation except by the
//! engine. v1 has no tenancy: every call here acts without a tenant.

use std::collections::HashMap;

use super::Scope;
use crate::app::{App, AppError, AppResult};
use crate::model::bos_v1::{NewV1Session, V1Run};
use crate::model::bos_v1_status::{SessionTree, session_tree};
use crate::model::{BootComponent, NewSession, Session, SessionTemplate};

impl App {
    /// `POST /v1/sessiontemplate`: saved exactly as a v2 PUT of the same name saves it.
    pub async fn create_v1_session_template(
        &self,
        t: SessionTemplate,
    ) -> AppResult<SessionTemplate> {
        let name = t.name.clone();
        self.save_template(&Scope::default(), &name, t, "created")
            .await
    }

    /// `POST /v1/session`: an unknown template is 404 (v1's answer; v2 says 400).
    pub async fn create_v1_session(&self, req: NewV1Session) -> AppResult<Session> {
        let t = self
            .store
            .get_session_template("", &req.template_name)
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "Session template '{}' does not exist",
                    req.template_name
                ))
            })?;
        let run = V1Run::plan(req.operation, &t);
        let new = NewSession {
            name: Some(uuid::Uuid::new_v4().to_string()),
            operation: req.operation.engine(),
            template_name: req.template_name,
            limit: req.limit,
            stage: false,
            include_disabled: false,
            v1: Some(run),
        };
        self.create_session(&Scope::default(), new).await
    }

    /// The sessions created through v1, oldest first.
    pub async fn list_v1_sessions(&self) -> AppResult<Vec<Session>> {
        let mut all: Vec<Session> = self
            .store
            .list_sessions()
            .await?
            .into_iter()
            .filter(|s| s.v1.is_some() && s.tenant.is_none())
            .collect();
        all.sort_by(|a, b| a.status.start_time.cmp(&b.status.start_time));
        Ok(all)
    }

    pub async fn get_v1_session(&self, id: &str) -> AppResult<Session> {
        match self.store.get_session("", id).await? {
            Some(s) if s.v1.is_some() => Ok(s),
            _ => Err(AppError::not_found(format!(
                "Session '{id}' does not exist"
            ))),
        }
    }

    pub async fn delete_v1_session(&self, id: &str) -> AppResult<()> {
        self.get_v1_session(id).await?;
        self.delete_session(&Scope::default(), id).await
    }

    /// The session and its v1 status tree, derived from the components now.
    pub async fn v1_session_tree(&self, id: &str) -> AppResult<(Session, SessionTree)> {
        let s = self.get_v1_session(id).await?;
        let comps = self.store.list_boot_components(false).await?;
        let by_id: HashMap<&str, &BootComponent> = comps
            .iter()
            .map(|v| (v.value.id.as_str(), &v.value))
            .collect();
        let run = s.v1.as_ref().expect("a v1 session");
        let tree = session_tree(&s, run, &by_id);
        Ok((s, tree))
    }
}
