//! BOS v1 wire types (`specs/bos-openapi-with-v1.yaml`): the v1 template and session bodies
//! clients send, and the v1 session and status documents, converted at this edge.
//!
//! What a v1 template may hold: the fields of `V1SessionTemplate` and `V1BootSet`, plus the
//! boot-set fields the stored (v2) template keeps and v1 never listed, `arch` and `cfs`
//! (the last `cray` CLI with v1 commands sends `arch`, and upstream's v1 endpoint stored the
//! body through its v2 PUT). Anything else, at any level, is a field v1 never had and is
//! refused with a 400 naming it. v1-only fields are handled as BOS 2.x did: `cfs_url`,
//! `cfs_branch`, `partition`, `cfs.clone_url/branch/commit/playbook` and boot-set `network`
//! are dropped (`network` must still be `NMN`); `boot_ordinal` and `shutdown_ordinal` are
//! dropped from the v2 document too but kept beside it, since v1 sessions run boot sets in
//! their order.

use std::collections::BTreeMap;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};

use crate::model::bos_v1::{NewV1Session, Ordinals, V1Category, V1Operation, V1Phase};
use crate::model::bos_v1_status::{BootSetStatus, Metadata, PhaseStatus, SessionTree};
use crate::model::template as tpl;

fn yes() -> bool {
    true
}

/// Decode with the path of what failed (`boot_sets.compute: unknown field ...`).
fn decode<T: DeserializeOwned>(v: serde_json::Value, what: &str) -> Result<T, String> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        if path.is_empty() || path == "." {
            format!("{what}: {}", e.inner())
        } else {
            format!("{what}: {path}: {}", e.inner())
        }
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "V1CfsParameters")]
pub struct V1CfsIn {
    #[serde(default)]
    pub clone_url: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub commit: Option<String>,
    #[serde(default)]
    pub playbook: Option<String>,
    #[serde(default)]
    pub configuration: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "V2CfsParameters")]
pub struct BootSetCfsIn {
    #[serde(default)]
    pub configuration: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "V1BootSet")]
pub struct V1BootSetIn {
    #[serde(default)]
    pub name: Option<String>,
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub kernel_parameters: Option<String>,
    #[serde(default)]
    pub node_list: Option<Vec<String>>,
    #[serde(default)]
    pub node_roles_groups: Option<Vec<String>>,
    #[serde(default)]
    pub node_groups: Option<Vec<String>>,
    #[serde(default)]
    pub rootfs_provider: Option<String>,
    #[serde(default)]
    pub rootfs_provider_passthrough: Option<String>,
    #[serde(default)]
    pub network: Option<String>,
    #[serde(default)]
    pub boot_ordinal: Option<u32>,
    #[serde(default)]
    pub shutdown_ordinal: Option<u32>,
    #[serde(default)]
    pub arch: Option<String>,
    #[serde(default)]
    pub cfs: Option<BootSetCfsIn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "V1SessionTemplate")]
pub struct V1TemplateIn {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub cfs_url: Option<String>,
    #[serde(default)]
    pub cfs_branch: Option<String>,
    #[serde(default = "yes")]
    pub enable_cfs: bool,
    #[serde(default)]
    pub cfs: Option<V1CfsIn>,
    #[serde(default)]
    pub partition: Option<String>,
    #[serde(default)]
    pub boot_sets: BTreeMap<String, V1BootSetIn>,
    /// Echoed from a GET (which shows the v2 document): must be empty, v1 has no tenants.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Echoed from a GET; ignored.
    #[serde(default)]
    pub links: Option<IgnoredAny>,
}

const CREATE: &str = "The session template could not be created";

/// Decode a v1 template body into the domain template it is stored as.
pub fn template_in(v: serde_json::Value) -> Result<tpl::SessionTemplate, String> {
    let t: V1TemplateIn = decode(v, CREATE)?;
    if t.tenant.as_deref().is_some_and(|x| !x.is_empty()) {
        return Err(format!(
            "{CREATE}: tenant: Multi-tenancy not supported by BOS v1"
        ));
    }
    let mut dropped: Vec<&str> = Vec::new();
    for (f, v) in [
        ("cfs_url", t.cfs_url.is_some()),
        ("cfs_branch", t.cfs_branch.is_some()),
        ("partition", t.partition.is_some()),
    ] {
        if v {
            dropped.push(f);
        }
    }
    if let Some(c) = &t.cfs {
        for (f, v) in [
            ("cfs.clone_url", c.clone_url.is_some()),
            ("cfs.branch", c.branch.is_some()),
            ("cfs.commit", c.commit.is_some()),
            ("cfs.playbook", c.playbook.is_some()),
        ] {
            if v {
                dropped.push(f);
            }
        }
    }
    let mut boot_sets = BTreeMap::new();
    for (k, b) in t.boot_sets {
        if let Some(n) = b.network.as_deref()
            && !n.eq_ignore_ascii_case("nmn")
        {
            return Err(format!(
                "{CREATE}: boot_sets.{k}.network: '{n}' is not NMN, the only network v1 boots over"
            ));
        }
        if b.network.is_some() {
            dropped.push("network");
        }
        boot_sets.insert(
            k,
            tpl::BootSet {
                name: b.name,
                path: b.path,
                kind: b.kind,
                etag: b.etag,
                kernel_parameters: b.kernel_parameters,
                node_list: b.node_list,
                node_groups: b.node_groups,
                node_roles_groups: b.node_roles_groups,
                arch: b.arch,
                rootfs_provider: b.rootfs_provider,
                rootfs_provider_passthrough: b.rootfs_provider_passthrough,
                cfs: b.cfs.map(|c| tpl::Cfs {
                    configuration: c.configuration,
                }),
                ordinals: Ordinals {
                    boot: b.boot_ordinal,
                    shutdown: b.shutdown_ordinal,
                },
            },
        );
    }
    if !dropped.is_empty() {
        dropped.dedup();
        tracing::info!(template = %t.name, "v1 fields dropped as BOS does: {}", dropped.join(", "));
    }
    Ok(tpl::SessionTemplate {
        name: t.name,
        tenant: None,
        description: t.description,
        enable_cfs: t.enable_cfs,
        cfs: t
            .cfs
            .and_then(|c| c.configuration)
            .map(|configuration| tpl::Cfs {
                configuration: Some(configuration),
            }),
        boot_sets,
    })
}

/// `POST /v1/session` body: `V1SessionByTemplateName` or `V1SessionByTemplateUuid`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "V1Session")]
pub struct V1SessionIn {
    pub operation: String,
    #[serde(default, rename = "templateName")]
    pub template_name: Option<String>,
    #[serde(default, rename = "templateUuid")]
    pub template_uuid: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
    /// Read-only fields a client may echo; ignored.
    #[serde(default)]
    pub job: Option<IgnoredAny>,
    #[serde(default)]
    pub links: Option<IgnoredAny>,
}

const SESSION: &str = "The session could not be created";

pub fn session_in(v: serde_json::Value) -> Result<NewV1Session, String> {
    let s: V1SessionIn = decode(v, SESSION)?;
    let operation = V1Operation::parse_any_case(&s.operation)
        .ok_or_else(|| format!("{SESSION}: {}", V1Operation::refusal(&s.operation)))?;
    // templateName wins; the deprecated templateUuid (a template name too) is the fallback.
    let template_name = s
        .template_name
        .or(s.template_uuid)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            format!("{SESSION}: templateName is required (or the deprecated templateUuid)")
        })?;
    Ok(NewV1Session {
        operation,
        template_name,
        limit: s.limit.filter(|l| !l.is_empty()),
    })
}

#[derive(Debug, Serialize)]
pub struct Link {
    pub rel: String,
    pub href: String,
}

fn link(rel: &str, href: String) -> Link {
    Link {
        rel: rel.into(),
        href,
    }
}

/// `V1SessionLink`.
#[derive(Debug, Serialize)]
pub struct SessionLink {
    pub href: String,
    #[serde(rename = "jobId", skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    pub rel: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// The v1 201 answer (`V1Session`).
#[derive(Debug, Serialize)]
pub struct SessionCreated {
    pub operation: V1Operation,
    #[serde(rename = "templateName")]
    pub template_name: String,
    /// There is no BOA job: it names the (v2) session that runs this one.
    pub job: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    pub links: Vec<SessionLink>,
}

impl SessionCreated {
    pub fn new(s: &crate::model::Session) -> SessionCreated {
        let run = s.v1.as_ref().expect("a v1 session");
        SessionCreated {
            operation: run.operation,
            template_name: s.template_name.clone(),
            job: s.name.clone(),
            limit: (!s.limit.is_empty()).then(|| s.limit.clone()),
            links: vec![
                SessionLink {
                    href: format!("/v1/session/{}", s.name),
                    job_id: Some(s.name.clone()),
                    rel: "session",
                    kind: "GET",
                },
                SessionLink {
                    href: format!("/v1/session/{}/status", s.name),
                    job_id: None,
                    rel: "status",
                    kind: "GET",
                },
            ],
        }
    }
}

/// `V1GenericMetadata`: `start_time` is left out until there is one (the contract does not
/// allow it null), `stop_time` is null until then.
#[derive(Debug, Serialize)]
pub struct MetadataOut {
    pub complete: bool,
    pub error_count: u64,
    pub in_progress: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    pub stop_time: Option<String>,
}

impl From<&Metadata> for MetadataOut {
    fn from(m: &Metadata) -> Self {
        MetadataOut {
            complete: m.complete,
            error_count: m.error_count,
            in_progress: m.in_progress,
            start_time: m.start_time.clone(),
            stop_time: m.stop_time.clone(),
        }
    }
}

/// `V1SessionDetails`.
#[derive(Debug, Serialize)]
pub struct SessionDetails {
    pub complete: bool,
    pub error_count: u64,
    pub in_progress: bool,
    pub job: String,
    pub operation: V1Operation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    pub status_link: String,
    pub stop_time: Option<String>,
    #[serde(rename = "templateName")]
    pub template_name: String,
}

impl SessionDetails {
    pub fn new(s: &crate::model::Session, tree: &SessionTree) -> SessionDetails {
        let run = s.v1.as_ref().expect("a v1 session");
        SessionDetails {
            complete: tree.metadata.complete,
            error_count: tree.metadata.error_count,
            in_progress: tree.metadata.in_progress,
            job: s.name.clone(),
            operation: run.operation,
            start_time: tree.metadata.start_time.clone(),
            status_link: format!("/v1/session/{}/status", s.name),
            stop_time: tree.metadata.stop_time.clone(),
            template_name: s.template_name.clone(),
        }
    }
}

fn status_href(id: &str, rest: &[&str]) -> String {
    let mut h = format!("/v1/session/{id}/status");
    for r in rest {
        h.push('/');
        h.push_str(r);
    }
    h
}

/// `V1SessionStatus`.
#[derive(Debug, Serialize)]
pub struct SessionStatusOut {
    pub metadata: MetadataOut,
    pub boot_sets: Vec<String>,
    pub id: String,
    pub links: Vec<Link>,
}

impl From<&SessionTree> for SessionStatusOut {
    fn from(t: &SessionTree) -> Self {
        let mut links = vec![link("self", status_href(&t.id, &[]))];
        links.extend(
            t.boot_sets
                .iter()
                .map(|b| link("boot set", status_href(&t.id, &[&b.name]))),
        );
        SessionStatusOut {
            metadata: (&t.metadata).into(),
            boot_sets: t.boot_sets.iter().map(|b| b.name.clone()).collect(),
            id: t.id.clone(),
            links,
        }
    }
}

/// `V1PhaseCategoryStatus`.
#[derive(Debug, Serialize)]
pub struct CategoryOut {
    pub name: V1Category,
    pub node_list: Vec<String>,
}

/// `V1PhaseStatus`.
#[derive(Debug, Serialize)]
pub struct PhaseOut {
    pub name: V1Phase,
    pub metadata: MetadataOut,
    pub categories: Vec<CategoryOut>,
    pub errors: BTreeMap<String, Vec<String>>,
}

impl From<&PhaseStatus> for PhaseOut {
    fn from(p: &PhaseStatus) -> Self {
        PhaseOut {
            name: p.name,
            metadata: (&p.metadata).into(),
            categories: p
                .categories
                .iter()
                .map(|(c, n)| CategoryOut {
                    name: *c,
                    node_list: n.clone(),
                })
                .collect(),
            errors: p.errors.clone(),
        }
    }
}

/// `V1BootSetStatus`.
#[derive(Debug, Serialize)]
pub struct BootSetOut {
    pub name: String,
    pub session: String,
    pub metadata: MetadataOut,
    pub phases: Vec<PhaseOut>,
    pub links: Vec<Link>,
}

impl BootSetOut {
    pub fn new(session: &str, b: &BootSetStatus) -> BootSetOut {
        let mut links = vec![link("self", status_href(session, &[&b.name]))];
        links.extend(
            b.phases
                .iter()
                .map(|p| link("phase", status_href(session, &[&b.name, p.name.as_str()]))),
        );
        BootSetOut {
            name: b.name.clone(),
            session: session.to_string(),
            metadata: (&b.metadata).into(),
            phases: b.phases.iter().map(Into::into).collect(),
            links,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cli_body() -> serde_json::Value {
        // As `cray bos v1 sessiontemplate create --file` sent it (cray-cli-requests.json).
        json!({"description": "cray CLI check", "enable_cfs": true, "cfs": {"configuration": "T"},
            "boot_sets": {"compute": {"type": "s3", "path": "s3://boot-images/demo-image/manifest.json",
                "kernel_parameters": "console=ttyS0,115200", "node_list": ["x3000c0s0b0n0"],
                "arch": "X86"}}, "name": "T-v1"})
    }

    #[test]
    fn v1_templates_keep_v2_fields_drop_v1_ones_and_refuse_others() {
        let t = template_in(cli_body()).unwrap();
        assert_eq!(t.name, "T-v1");
        assert_eq!(t.boot_sets["compute"].arch.as_deref(), Some("X86"));
        let mut v = cli_body();
        v["cfs_url"] = "https://vcs/x.git".into();
        v["partition"] = "p1".into();
        v["cfs"]["branch"] = "main".into();
        v["boot_sets"]["compute"]["network"] = "nmn".into();
        v["boot_sets"]["compute"]["boot_ordinal"] = 3.into();
        let t = template_in(v).unwrap();
        assert_eq!(t.cfs.unwrap().configuration.as_deref(), Some("T"));
        assert_eq!(t.boot_sets["compute"].ordinals.boot, Some(3));
        let mut v = cli_body();
        v["boot_sets"]["compute"]["rootfs"] = "x".into();
        let e = template_in(v).unwrap_err();
        assert!(
            e.contains("boot_sets.compute.rootfs: unknown field `rootfs`"),
            "{e}"
        );
        let mut v = cli_body();
        v["enable_bss"] = true.into();
        let e = template_in(v).unwrap_err();
        assert!(e.contains("unknown field `enable_bss`"), "{e}");
        let mut v = cli_body();
        v["boot_sets"]["compute"]["network"] = "HSN".into();
        assert!(template_in(v).unwrap_err().contains("network"));
        let mut v = cli_body();
        v["boot_sets"]["compute"]["shutdown_ordinal"] = (-1).into();
        assert!(template_in(v).unwrap_err().contains("shutdown_ordinal"));
        let mut v = cli_body();
        v["tenant"] = "blue".into();
        assert!(template_in(v).unwrap_err().contains("Multi-tenancy"));
    }

    #[test]
    fn v1_session_bodies() {
        let s = session_in(json!({"operation": "Boot", "templateUuid": "T"})).unwrap();
        assert_eq!(
            (s.operation, s.template_name.as_str()),
            (V1Operation::Boot, "T")
        );
        let s = session_in(json!({"operation": "CONFIGURE", "templateName": "a", "templateUuid": "b", "limit": "x1"}))
            .unwrap();
        assert_eq!(
            (s.operation, s.template_name.as_str(), s.limit.as_deref()),
            (V1Operation::Configure, "a", Some("x1"))
        );
        let e = session_in(json!({"operation": "Dance", "templateName": "a"})).unwrap_err();
        assert!(
            e.contains("operation 'Dance' is not one of boot, configure, reboot or shutdown"),
            "{e}"
        );
        assert!(
            session_in(json!({"operation": "boot"}))
                .unwrap_err()
                .contains("templateName")
        );
        assert!(
            session_in(json!({"operation": "boot", "templateName": "a", "stage": true}))
                .unwrap_err()
                .contains("unknown field `stage`")
        );
    }
}
