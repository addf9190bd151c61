//! Reads: the service root, systems, power state, reset types, and discovery.
//!
//! Each operation is a few GETs through the transport and a decode into the tolerant read
//! models of [`crate::model`]. Links are followed as the BMC gives them; where a BMC leaves
//! one out, the standard path is assumed (`/redfish/v1/Systems`, the `Id` from the last path
//! segment, `…/Actions/ComputerSystem.Reset`).
//!
//! Discovery is partial by design: real BMCs have resources that do not answer (a NIC the
//! firmware cannot read, a Manager behind a broken service, an ActionInfo that 404s), and
//! one of them must not hide the rest. Only the service root and the Systems collection are
//! required; every other read that fails becomes a [`Problem`] naming the resource, and
//! discovery carries on with what answered.

use reqwest::Method;
use serde::de::DeserializeOwned;

use super::transport::Auth;
use super::{Bmc, ROOT};
use crate::error::{Error, Result};
use crate::model::{
    ActionInfo, Boot, Collection, ComputerSystem, EthernetInterface, Manager, PowerState,
    ServiceRoot,
};

/// What the client found on a BMC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub redfish_version: Option<String>,
    /// The service root's UUID (the BMC's own).
    pub uuid: Option<String>,
    /// Every member of the Systems collection, in the order the BMC listed them.
    pub members: Vec<String>,
    /// The members that could be read, in the same order.
    pub systems: Vec<SystemInfo>,
    pub managers: Vec<ManagerInfo>,
    /// Resources that did not answer; what they would have said is missing above.
    pub problems: Vec<Problem>,
}

/// A resource discovery could not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Its `@odata.id`.
    pub resource: String,
    pub error: Error,
}

/// One ComputerSystem, as far as power and boot are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemInfo {
    /// `@odata.id`, e.g. `/redfish/v1/Systems/1`.
    pub path: String,
    pub id: String,
    pub name: String,
    pub uuid: Option<String>,
    pub power_state: PowerState,
    /// Reset types the BMC allows (inline or via ActionInfo); empty if it did not say.
    pub reset_types: Vec<String>,
    /// Where to POST a reset.
    pub reset_target: String,
    pub boot: Boot,
    /// MACs of the system's own network ports, as the BMC printed them, each once: ports
    /// without a readable MAC, host interfaces and VLAN or other virtual interfaces are
    /// left out (see [`EthernetInterface::not_a_host_port`]).
    pub macs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerInfo {
    pub path: String,
    pub id: String,
    pub manager_type: Option<String>,
    pub firmware_version: Option<String>,
}

impl Bmc {
    /// The service root. Read without credentials (as the standard allows) and, if the
    /// BMC insists, again with Basic credentials.
    pub async fn service_root(&self) -> Result<ServiceRoot> {
        const OP: &str = "GET service root";
        let reply = self
            .call(Method::GET, ROOT, None, None, Auth::None, OP)
            .await;
        let reply = match reply {
            Err(Error::Auth { .. }) => {
                self.call(Method::GET, ROOT, None, None, Auth::Basic, OP)
                    .await?
            }
            other => other?,
        };
        self.decode(&reply, OP)
    }

    /// `@odata.id` of every ComputerSystem, in collection order.
    pub async fn system_paths(&self) -> Result<Vec<String>> {
        let root = self.service_root().await?;
        let c: Collection = self.get(&systems_path(&root), "GET Systems").await?;
        Ok(c.members.into_iter().map(|l| l.odata_id).collect())
    }

    /// A ComputerSystem and its ETag (if the BMC gives one).
    pub async fn system(&self, path: &str) -> Result<(ComputerSystem, Option<String>)> {
        let op = format!("GET {path}");
        let reply = self
            .call(Method::GET, path, None, None, Auth::Required, &op)
            .await?;
        let sys = self.decode(&reply, &op)?;
        Ok((sys, reply.etag))
    }

    /// Power state of a system. Decodes only `PowerState` (the hot path of power
    /// operations: confirmation polls read it thousands of times).
    pub async fn power_state(&self, path: &str) -> Result<PowerState> {
        let op = format!("GET {path}");
        let reply = self
            .call(Method::GET, path, None, None, Auth::Required, &op)
            .await?;
        let only: crate::model::PowerOnly = self.decode(&reply, &op)?;
        Ok(only.power_state())
    }

    /// The reset types a system allows: inline AllowableValues, else its ActionInfo.
    pub async fn reset_types(&self, sys: &ComputerSystem) -> Result<Vec<String>> {
        let Some(reset) = &sys.actions.reset else {
            return Ok(Vec::new());
        };
        if !reset.allowed.is_empty() {
            return Ok(reset.allowed.clone());
        }
        let Some(info) = &reset.action_info else {
            return Ok(Vec::new());
        };
        let info: ActionInfo = self.get(info, "GET ResetActionInfo").await?;
        Ok(info
            .parameters
            .into_iter()
            .find(|p| p.name.as_deref() == Some("ResetType"))
            .map(|p| p.allowable_values)
            .unwrap_or_default())
    }

    /// Everything discovery needs from this BMC. Fails only when the service root or the
    /// Systems collection cannot be read; any other unreadable resource is a [`Problem`].
    /// A BMC whose root links no Systems and that has none at the standard path (a chassis
    /// or switch controller) has no systems.
    pub async fn discover(&self) -> Result<Discovery> {
        let root = self.service_root().await?;
        let members: Vec<String> = match self
            .get::<Collection>(&systems_path(&root), "GET Systems")
            .await
        {
            Ok(c) => c.members.into_iter().map(|l| l.odata_id).collect(),
            Err(Error::Http { status: 404, .. }) if root.systems.is_none() => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut problems = Vec::new();
        // Systems are read concurrently; the per-BMC cap still bounds what the BMC sees.
        let read = futures::future::join_all(members.iter().map(|path| async move {
            let mut problems = Vec::new();
            let sys = self.system_info_with(path, &mut problems).await;
            (path, sys, problems)
        }))
        .await;
        let mut systems = Vec::new();
        for (path, sys, mut found) in read {
            match sys {
                Ok(sys) => systems.push(sys),
                Err(error) => problems.push(Problem {
                    resource: path.clone(),
                    error,
                }),
            }
            problems.append(&mut found);
        }
        let mut managers = Vec::new();
        if let Some(mp) = &root.managers {
            for (path, man) in self
                .members_partial::<Manager>(&mp.odata_id, "GET Managers", &mut problems)
                .await
            {
                managers.push(ManagerInfo {
                    id: man.ident.id.clone().unwrap_or_else(|| last_segment(&path)),
                    path,
                    manager_type: man.manager_type,
                    firmware_version: man.firmware_version,
                });
            }
        }
        Ok(Discovery {
            redfish_version: root.redfish_version,
            uuid: root.uuid.filter(|u| !u.trim().is_empty()),
            members,
            systems,
            managers,
            problems,
        })
    }

    /// One system with its reset types and MACs; fails if any of them cannot be read.
    pub async fn system_info(&self, path: &str) -> Result<SystemInfo> {
        let mut problems = Vec::new();
        let sys = self.system_info_with(path, &mut problems).await?;
        match problems.into_iter().next() {
            Some(p) => Err(p.error),
            None => Ok(sys),
        }
    }

    /// One system with what of its reset types and MACs answered; the ActionInfo or NIC
    /// reads that failed are added to `problems`. Fails only when the system itself cannot
    /// be read.
    async fn system_info_with(
        &self,
        path: &str,
        problems: &mut Vec<Problem>,
    ) -> Result<SystemInfo> {
        let (sys, _) = self.system(path).await?;
        let reset_types = match self.reset_types(&sys).await {
            Ok(t) => t,
            Err(error) => {
                let resource = sys
                    .actions
                    .reset
                    .as_ref()
                    .and_then(|r| r.action_info.clone())
                    .unwrap_or_else(|| path.to_string());
                problems.push(Problem { resource, error });
                Vec::new()
            }
        };
        let mut macs: Vec<String> = Vec::new();
        if let Some(nics) = &sys.ethernet_interfaces {
            let nics = self
                .members_partial::<EthernetInterface>(
                    &nics.odata_id,
                    "GET EthernetInterfaces",
                    problems,
                )
                .await;
            for (_, nic) in nics {
                if nic.not_a_host_port().is_some() {
                    continue;
                }
                if let Some(mac) = nic.mac()
                    && !macs.iter().any(|m| same_mac(m, mac))
                {
                    macs.push(mac.to_string());
                }
            }
        }
        Ok(SystemInfo {
            path: sys
                .ident
                .odata_id
                .clone()
                .unwrap_or_else(|| path.to_string()),
            id: sys.ident.id.clone().unwrap_or_else(|| last_segment(path)),
            name: sys.ident.name.clone().unwrap_or_default(),
            uuid: sys.uuid.clone().filter(|u| !u.trim().is_empty()),
            power_state: sys.power_state(),
            reset_target: reset_target(&sys, path),
            reset_types,
            boot: sys.boot.clone(),
            macs,
        })
    }
}

impl Bmc {
    /// Every member of a collection that answers, with its path, read one after another
    /// (`op` names the collection read; each member read is named by its path). An
    /// unreadable collection or member is added to `problems` and left out.
    async fn members_partial<T: DeserializeOwned>(
        &self,
        collection: &str,
        op: &str,
        problems: &mut Vec<Problem>,
    ) -> Vec<(String, T)> {
        let c: Collection = match self.get(collection, op).await {
            Ok(c) => c,
            Err(error) => {
                problems.push(Problem {
                    resource: collection.to_string(),
                    error,
                });
                return Vec::new();
            }
        };
        let mut out = Vec::with_capacity(c.members.len());
        for m in c.members {
            match self.get(&m.odata_id, &format!("GET {}", m.odata_id)).await {
                Ok(member) => out.push((m.odata_id, member)),
                Err(error) => problems.push(Problem {
                    resource: m.odata_id,
                    error,
                }),
            }
        }
        out
    }
}

/// Whether two MACs as BMCs print them are the same address (case and separators aside).
fn same_mac(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_hexdigit)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    norm(a) == norm(b)
}

/// The Systems collection the root links to, or the standard one.
fn systems_path(root: &ServiceRoot) -> String {
    root.systems
        .as_ref()
        .map(|l| l.odata_id.clone())
        .unwrap_or_else(|| "/redfish/v1/Systems".to_string())
}

/// Where to POST a reset: the action's `target`, or the standard action URI.
pub(super) fn reset_target(sys: &ComputerSystem, path: &str) -> String {
    sys.actions
        .reset
        .as_ref()
        .and_then(|r| r.target.clone())
        .unwrap_or_else(|| {
            format!(
                "{}/Actions/ComputerSystem.Reset",
                path.trim_end_matches('/')
            )
        })
}

fn last_segment(path: &str) -> String {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .to_string()
}
