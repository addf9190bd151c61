//! BOS v2 use cases: session templates, sessions, components, options, tenants.
//!
//! Handlers call these; they validate, record desired state in the store and poke the BOS
//! operators, which do the rest (docs/architecture.md, "Operators"). Tenancy (docs/bos.md,
//! "Tenancy"): a `Cray-Tenant-Name` header scopes templates and sessions to the tenant and
//! components to its nodes; an unknown tenant is refused with "Invalid tenant".

pub mod components;
pub mod reports;
pub mod sessions;
pub mod templates;
pub mod v1;

use std::collections::HashSet;

use super::{App, AppError, AppResult};
use crate::artifacts::manifest;
use crate::model::options::{self, Options};
use crate::model::template::BootSet;
use crate::model::{BootArtifacts, Tenant};

/// Which tenant a request acts for, once checked.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub tenant: Option<Tenant>,
}

impl Scope {
    /// The store key of the tenant ("" for none).
    pub fn key(&self) -> &str {
        self.tenant.as_ref().map(|t| t.name.as_str()).unwrap_or("")
    }

    pub fn name(&self) -> Option<String> {
        self.tenant.as_ref().map(|t| t.name.clone())
    }

    /// " for tenant 't'" when there is one (BOS's message suffix).
    pub fn suffix(&self) -> String {
        match &self.tenant {
            Some(t) => format!(" for tenant '{}'", t.name),
            None => String::new(),
        }
    }

    /// Whether the scope may touch this node (no tenant: every node).
    pub fn owns(&self, id: &str) -> bool {
        self.tenant
            .as_ref()
            .is_none_or(|t| t.xnames.iter().any(|x| x == id))
    }

    pub fn owned(&self) -> Option<HashSet<&str>> {
        self.tenant
            .as_ref()
            .map(|t| t.xnames.iter().map(String::as_str).collect())
    }
}

impl App {
    /// Resolve the tenant header: empty or absent is no tenant; an unknown one is refused.
    pub async fn scope(&self, header: Option<&str>) -> AppResult<Scope> {
        let Some(name) = header.map(str::trim).filter(|h| !h.is_empty()) else {
            return Ok(Scope::default());
        };
        match self.store.get_tenant(name).await? {
            Some(t) => Ok(Scope { tenant: Some(t) }),
            None => Err(AppError::bad(format!(
                "Invalid tenant: tenant '{name}' does not exist (manage tenants at /apis/rackboot/v1/tenants)"
            ))),
        }
    }

    /// The stored options with every default filled in and unknown keys dropped.
    pub async fn bos_options(&self) -> AppResult<serde_json::Map<String, serde_json::Value>> {
        Ok(options::resolve(self.store.get_bos_options().await?))
    }

    pub async fn options(&self) -> AppResult<Options> {
        Ok(Options::from_json(&self.bos_options().await?))
    }

    pub async fn patch_bos_options(
        &self,
        body: &serde_json::Value,
    ) -> AppResult<serde_json::Map<String, serde_json::Value>> {
        let stored = self.bos_options().await?;
        let merged = options::patch(&stored, body).map_err(AppError::bad)?;
        self.store.put_bos_options(&merged).await?;
        self.bos_pokes.all();
        Ok(merged)
    }

    pub async fn list_tenants(&self) -> AppResult<Vec<Tenant>> {
        Ok(self.store.list_tenants().await?)
    }

    pub async fn get_tenant(&self, name: &str) -> AppResult<Tenant> {
        self.store
            .get_tenant(name)
            .await?
            .ok_or_else(|| AppError::not_found(format!("Tenant '{name}' does not exist")))
    }

    /// Create or replace a tenant; its nodes must be known to the inventory.
    pub async fn put_tenant(&self, name: &str, mut t: Tenant) -> AppResult<Tenant> {
        if !crate::model::template::valid_name(name) {
            return Err(AppError::bad(format!(
                "invalid tenant name '{name}': use 1-127 letters, digits, '.', '-' or '_'"
            )));
        }
        t.name = name.to_string();
        let mut xnames = Vec::new();
        for x in &t.xnames {
            let id = crate::model::Xname::parse(x)
                .map_err(|e| AppError::bad(format!("tenant node '{x}': {e}")))?;
            if self.store.get_component(&id).await?.is_none() {
                return Err(AppError::bad(format!(
                    "tenant node '{id}' is not in the inventory"
                )));
            }
            xnames.push(id.to_string());
        }
        xnames.sort();
        xnames.dedup();
        t.xnames = xnames;
        self.store.put_tenant(&t).await?;
        Ok(t)
    }

    pub async fn delete_tenant(&self, name: &str) -> AppResult<()> {
        if self.store.delete_tenant(name).await? {
            Ok(())
        } else {
            Err(AppError::not_found(format!(
                "Tenant '{name}' does not exist"
            )))
        }
    }

    /// The boot artifacts of a boot set (docs/bos.md, "Boot artifacts"): its manifest's kernel
    /// and initrd and the kernel parameters assembled in BOS's order.
    pub async fn boot_set_artifacts(
        &self,
        bs: &BootSet,
        update_frequency: &str,
    ) -> AppResult<BootArtifacts> {
        if bs.kind != "s3" {
            return Err(AppError::bad(format!(
                "boot set type '{}' is not supported; only s3 is",
                bs.kind
            )));
        }
        let m = self.read_manifest(&bs.path).await?;
        let mut params: Vec<String> = Vec::new();
        if let Some(bp) = &m.boot_parameters {
            let text = self.read_small_object(&bp.path).await?;
            params.extend(text.split_whitespace().map(str::to_string));
        }
        if let Some(k) = bs.kernel_parameters.as_deref().filter(|k| !k.is_empty()) {
            params.push(k.to_string());
        }
        match bs.rootfs_provider.as_deref() {
            None | Some("") => {
                if let Some(p) = bs
                    .rootfs_provider_passthrough
                    .as_deref()
                    .filter(|p| !p.is_empty())
                {
                    params.push(format!("root=::{p}"));
                }
            }
            Some("sbps") => {
                let rootfs = m.rootfs.as_ref().ok_or_else(|| {
                    AppError::bad(format!(
                        "manifest {} has no rootfs ({}), which rootfs_provider sbps needs",
                        bs.path,
                        manifest::ROOTFS
                    ))
                })?;
                let etag = rootfs.etag.clone().unwrap_or_default();
                let mut root = format!("root=sbps-s3:{}:{}", rootfs.path, etag);
                if let Some(p) = bs
                    .rootfs_provider_passthrough
                    .as_deref()
                    .filter(|p| !p.is_empty())
                {
                    root.push(':');
                    root.push_str(p);
                }
                params.push(root);
                params.push(format!("nmd_data=url={},etag={}", rootfs.path, etag));
            }
            Some(other) => {
                return Err(AppError::bad(format!(
                    "Unsupported rootfs_provider '{other}'; only sbps is supported"
                )));
            }
        }
        params.push(format!("bos_update_frequency={update_frequency}"));
        Ok(BootArtifacts {
            kernel: m.kernel.path.to_string(),
            kernel_parameters: params.join(" "),
            initrd: m.initrd.map(|i| i.path.to_string()).unwrap_or_default(),
        })
    }

    pub fn bos_pokes(&self) -> &crate::activation::BosPokes {
        &self.bos_pokes
    }
}
