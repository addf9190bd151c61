//! Redfish endpoints: the BMCs the appliance may reach, and how.
//!
//! Registering or changing an endpoint records intent only: it fills HSM's derived fields,
//! marks the endpoint for discovery when its address, credentials or trust changed, and
//! pokes the discovery operator, which is the one thing that talks to the BMC. Passwords
//! are kept in the store and leave the app only in [`without_password`] copies. A
//! renumbering (nodes renamed as HSM would name them, moving those whose name differs) is
//! intent too: a flag the next discovery of the BMC acts on and clears.

use std::collections::HashSet;

use super::conflict_as;
use crate::app::{App, AppError, AppResult};
use crate::model::redfish_endpoint::{Secret, discovery_status, split_fqdn};
use crate::model::{RedfishEndpoint, Xname};

impl App {
    pub async fn list_redfish_endpoints(&self) -> AppResult<Vec<RedfishEndpoint>> {
        Ok(self.store.list_redfish_endpoints().await?)
    }

    pub async fn get_redfish_endpoint(&self, id: &Xname) -> AppResult<RedfishEndpoint> {
        self.store
            .get_redfish_endpoint(id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no such redfish endpoint: {id}")))
    }

    pub async fn create_redfish_endpoints(
        &self,
        eps: Vec<RedfishEndpoint>,
    ) -> AppResult<Vec<RedfishEndpoint>> {
        let eps: Vec<RedfishEndpoint> = eps.into_iter().map(fill_endpoint_defaults).collect();
        let mut seen = HashSet::new();
        if let Some(dup) = eps.iter().find(|e| !seen.insert(e.id.clone())) {
            return Err(AppError::bad(format!(
                "redfish endpoint {} appears more than once in the request",
                dup.id
            )));
        }
        self.store
            .insert_redfish_endpoints(&eps)
            .await
            .map_err(|e| conflict_as(e, |what| format!("{what} already exists")))?;
        self.pokes.discovery.poke();
        Ok(eps)
    }

    /// Replace an endpoint; an empty password in the new record keeps the stored one, so a
    /// client that read the endpoint (without its password) can write it back, but only
    /// while the endpoint points where it did: credentials never follow a new address
    /// unless they are given again ([`drop_secret_if_repointed`]).
    /// With `keep_trust` (the new record named no trust), the stored trust stays too, so
    /// a client that knows nothing of pins does not drop one.
    pub async fn replace_redfish_endpoint(
        &self,
        mut ep: RedfishEndpoint,
        keep_trust: bool,
    ) -> AppResult<RedfishEndpoint> {
        let old = self.get_redfish_endpoint(&ep.id).await?;
        if ep.password.0.is_empty() {
            ep.password = old.password.clone();
        }
        if keep_trust {
            ep.trust = old.trust.clone();
        }
        ep.discovery_info = old.discovery_info.clone();
        let ep = drop_secret_if_repointed(&old, fill_endpoint_defaults(ep));
        let ep = requeue_if_access_changed(&old, ep);
        self.store.update_redfish_endpoint(&ep).await?;
        self.pokes.discovery.poke();
        Ok(ep)
    }

    pub async fn update_redfish_endpoint_with(
        &self,
        id: &Xname,
        f: impl FnOnce(&mut RedfishEndpoint),
    ) -> AppResult<RedfishEndpoint> {
        let old = self.get_redfish_endpoint(id).await?;
        let mut ep = old.clone();
        f(&mut ep);
        let ep = drop_secret_if_repointed(&old, fill_endpoint_defaults(ep));
        let ep = requeue_if_access_changed(&old, ep);
        self.store.update_redfish_endpoint(&ep).await?;
        self.pokes.discovery.poke();
        Ok(ep)
    }

    /// Queue rediscovery of the given BMCs (all when empty) with their nodes renamed as
    /// HSM would name them: the flag is set first, so the discovery that the request
    /// pokes sees it.
    pub async fn request_renumbering(&self, ids: &[Xname]) -> AppResult<Vec<Xname>> {
        let all = self.store.list_redfish_endpoints().await?;
        if let Some(missing) = ids.iter().find(|id| !all.iter().any(|e| &e.id == *id)) {
            return Err(AppError::not_found(format!(
                "no such redfish endpoint: {missing}"
            )));
        }
        for mut ep in all {
            if ids.is_empty() || ids.contains(&ep.id) {
                ep.discovery_info.renumber = true;
                self.store.update_redfish_endpoint(&ep).await?;
            }
        }
        self.request_discovery(ids).await
    }

    pub async fn delete_redfish_endpoint(&self, id: &Xname) -> AppResult<()> {
        if !self.store.delete_redfish_endpoint(id).await? {
            return Err(AppError::not_found(format!(
                "no such redfish endpoint: {id}"
            )));
        }
        Ok(())
    }

    pub async fn delete_all_redfish_endpoints(&self) -> AppResult<u64> {
        let n = self.store.delete_all_redfish_endpoints().await?;
        if n == 0 {
            return Err(AppError::not_found(
                "there are no redfish endpoints to delete",
            ));
        }
        Ok(n)
    }
}

/// HSM's derivations: Hostname defaults to the ID, FQDN to Hostname(.Domain) and Hostname
/// and Domain to the FQDN's parts (an IP address has no domain), Type from the xname; a
/// never-discovered endpoint says `NotYetQueried`.
fn fill_endpoint_defaults(mut ep: RedfishEndpoint) -> RedfishEndpoint {
    if ep.kind.is_empty() {
        ep.kind = ep.id.kind().hms_type().to_string();
    }
    if ep.hostname.is_empty() && ep.fqdn.is_empty() {
        ep.hostname = ep.id.to_string();
    }
    if ep.fqdn.is_empty() {
        ep.fqdn = if ep.domain.is_empty() {
            ep.hostname.clone()
        } else {
            format!("{}.{}", ep.hostname, ep.domain)
        };
    } else if ep.hostname.is_empty() {
        (ep.hostname, ep.domain) = split_fqdn(&ep.fqdn);
    }
    if ep.discovery_info.last_status.is_empty() {
        ep.discovery_info.last_status = discovery_status::NOT_YET_QUERIED.into();
    }
    ep
}

/// An endpoint that now points somewhere else (another host, port or scheme) keeps no
/// password it was not given again: the stored one was meant for the old BMC, and sending it
/// to the new address would hand it to whoever answers there.
fn drop_secret_if_repointed(old: &RedfishEndpoint, mut ep: RedfishEndpoint) -> RedfishEndpoint {
    if old.base_url() != ep.base_url() && ep.password == old.password {
        if !ep.password.0.is_empty() {
            tracing::info!(
                endpoint = %ep.id,
                "the endpoint's address changed without a new password; its stored password is dropped"
            );
        }
        ep.password = Secret::default();
    }
    ep
}

/// A BMC whose address, credentials or trust changed (or that asks for it) is discovered
/// again.
fn requeue_if_access_changed(old: &RedfishEndpoint, mut ep: RedfishEndpoint) -> RedfishEndpoint {
    let changed = old.base_url() != ep.base_url()
        || old.user != ep.user
        || old.password != ep.password
        || old.trust != ep.trust
        || old.node_xnames != ep.node_xnames
        || (ep.enabled && !old.enabled);
    if changed || ep.rediscover_on_update {
        ep.discovery_info.last_status = discovery_status::NOT_YET_QUERIED.into();
        ep.discovery_info.error = None;
    }
    ep
}

/// A password-less copy of an endpoint, for logs and API output.
pub fn without_password(mut ep: RedfishEndpoint) -> RedfishEndpoint {
    ep.password = Secret::default();
    ep
}
