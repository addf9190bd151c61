//! Hosts and endpoint history: `/hosts` and `/endpoint-history`.
//!
//! `/hosts` shows the inventory's nodes as BSS sees them (component plus MACs), from the
//! boot read model; a POST, which makes upstream re-read HSM, only drops that read model
//! here. The endpoint history says when each node last fetched its script or user-data.

use crate::app::{App, AppError, AppResult};
use crate::model::{Component, Mac, Xname};
use crate::store::EndpointAccess;

/// A node as `/boot/v1/hosts` shows it: its component plus MACs.
#[derive(Debug, Clone)]
pub struct HostView {
    pub component: Component,
    pub macs: Vec<Mac>,
}

impl App {
    /// GET /hosts: nodes as BSS sees them, optionally selected by name, MAC or NID.
    pub async fn hosts(
        &self,
        name: Option<&str>,
        mac: Option<&str>,
        nid: Option<i64>,
    ) -> AppResult<Vec<HostView>> {
        let idx = self.boot.get().await?;
        let view = |x: &Xname| {
            idx.components.get(x).map(|c| HostView {
                component: c.clone(),
                macs: idx.macs_of.get(x).cloned().unwrap_or_default(),
            })
        };
        if let Some(n) = name {
            let x = Xname::parse(n).ok();
            return x.as_ref().and_then(view).map(|v| vec![v]).ok_or_else(|| {
                AppError::not_found(format!("Not Found - Unknown host name '{n}'"))
            });
        }
        if let Some(m) = mac {
            let parsed = Mac::parse(m).map_err(|e| AppError::bad(e.to_string()))?;
            return idx
                .by_mac
                .get(&parsed)
                .and_then(view)
                .map(|v| vec![v])
                .ok_or_else(|| {
                    AppError::not_found(format!("Not Found - Unknown MAC address '{m}'"))
                });
        }
        if let Some(n) = nid {
            return idx
                .by_nid
                .get(&n)
                .and_then(view)
                .map(|v| vec![v])
                .ok_or_else(|| AppError::not_found(format!("Not Found - Unknown NID '{n}'")));
        }
        let mut all: Vec<HostView> = idx
            .components
            .keys()
            .filter(|x| idx.components[*x].kind == "Node")
            .filter_map(view)
            .collect();
        all.sort_by(|a, b| a.component.id.cmp(&b.component.id));
        Ok(all)
    }

    /// POST /hosts: upstream re-reads HSM; here it just drops the read model.
    pub fn refresh_hosts(&self) {
        self.changed();
    }

    pub async fn endpoint_history(
        &self,
        name: Option<&str>,
        endpoint: Option<&str>,
    ) -> AppResult<Vec<EndpointAccess>> {
        if let Some(e) = endpoint
            && e != "bootscript"
            && e != "user-data"
        {
            return Err(AppError::bad(format!(
                "invalid endpoint '{e}': expected bootscript or user-data"
            )));
        }
        let name = name.map(|n| {
            Xname::parse(n)
                .map(|x| x.to_string())
                .unwrap_or_else(|_| n.to_string())
        });
        let all = self.access.list().await?;
        let mut out: Vec<EndpointAccess> = all
            .into_iter()
            .filter(|a| {
                name.as_ref().is_none_or(|n| &a.name == n)
                    && endpoint.is_none_or(|e| a.endpoint == e)
            })
            .collect();
        if let (Some(n), Some(e), true) = (&name, endpoint, out.is_empty()) {
            out.push(EndpointAccess {
                name: n.clone(),
                endpoint: e.to_string(),
                last_epoch: 0,
            });
        }
        Ok(out)
    }
}
