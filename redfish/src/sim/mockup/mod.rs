//! Recorded Redfish trees (DMTF mockup layout) for SimBmc to replay.
//!
//! A [`Mockup`] is a tree read once from disk: every resource is `<path>/index.json` relative
//! to `/redfish/v1`, `$metadata/index.xml` is the CSDL document, and `error.txt` stands for a
//! resource that did not answer when it was recorded (its status line, headers and body are
//! kept and served as recorded). Loading also reads, for each member of the Systems
//! collection, what the replay needs to act like that system: its reset target and the reset
//! types it allows (inline `ResetType@Redfish.AllowableValues`, or its `@Redfish.ActionInfo`
//! document), which Boot override properties it has (and their allowable values), and its
//! recorded power state and override.
//!
//! The tree is immutable and shared (`Arc`) by every BMC replaying it; each BMC keeps its own
//! writable state on top ([`super::state`]), and rewrites MACs and UUIDs by its seed when it
//! serves a document ([`rewrite`]), so a fleet of BMCs from one tree costs one tree of memory.
//! What a replay must not do is "fix" a recording: links keep their trailing slashes and their
//! letter case (iLO records lower-case links to mixed-case paths; lookups fall back to a
//! case-insensitive match, as iLO itself does), OEM sections and odd values stay.

pub(crate) mod rewrite;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use super::power::{BootOverride, Power};

/// `/redfish/v1`, the root every mockup path is relative to.
pub(crate) const ROOT: &str = "/redfish/v1";

/// One recorded resource.
#[derive(Debug, Clone)]
pub(crate) enum Resource {
    Json(Value),
    /// `$metadata`.
    Xml(String),
    /// `error.txt`: the resource did not answer; served with what the recording says.
    Failed(Failure),
}

/// What an `error.txt` says: the status, the headers worth repeating and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

/// The Boot override properties a system has: `Some(allowed values)` where its document has the
/// property (the standard enumeration where it lists no AllowableValues), `None` where not.
#[derive(Debug, Clone, Default)]
pub(crate) struct BootSupport {
    pub(crate) enabled: Option<Vec<String>>,
    pub(crate) target: Option<Vec<String>>,
    pub(crate) mode: Option<Vec<String>>,
}

/// A ComputerSystem of the tree, as the replay acts on it.
#[derive(Debug, Clone)]
pub(crate) struct ReplaySystem {
    /// The member link as listed, without a trailing slash.
    pub(crate) path: String,
    /// The key of its document in the tree.
    pub(crate) key: String,
    pub(crate) reset_target: Option<String>,
    /// `None`: the system publishes no allowable values (any standard ResetType is taken).
    pub(crate) reset_types: Option<Vec<String>>,
    pub(crate) boot: BootSupport,
    pub(crate) initial_power: Power,
    pub(crate) initial_boot: BootOverride,
}

/// The Redfish enumerations, for properties that list no AllowableValues.
const STANDARD_RESET_TYPES: &[&str] = &[
    "On",
    "ForceOff",
    "GracefulShutdown",
    "GracefulRestart",
    "ForceRestart",
    "Nmi",
    "ForceOn",
    "PushPowerButton",
    "PowerCycle",
    "Suspend",
    "Pause",
    "Resume",
    "FullPowerCycle",
];
const STANDARD_ENABLED: &[&str] = &["Disabled", "Once", "Continuous"];
const STANDARD_MODES: &[&str] = &["Legacy", "UEFI"];
const STANDARD_TARGETS: &[&str] = &[
    "None",
    "Pxe",
    "Floppy",
    "Cd",
    "Usb",
    "Hdd",
    "BiosSetup",
    "Utilities",
    "Diags",
    "UefiShell",
    "UefiTarget",
    "SDCard",
    "UefiHttp",
    "RemoteDrive",
    "UefiBootNext",
    "Recovery",
];

pub(crate) fn standard_reset_types() -> Vec<String> {
    STANDARD_RESET_TYPES.iter().map(|s| s.to_string()).collect()
}

/// A recorded Redfish tree, loaded and ready to replay. A cheap handle (clones share the tree).
#[derive(Clone)]
pub struct Mockup {
    pub(crate) tree: Arc<Tree>,
}

#[derive(Debug)]
pub(crate) struct Tree {
    /// Where it was read from, for messages.
    pub(crate) source: String,
    /// Path without trailing slash -> resource.
    docs: HashMap<String, Resource>,
    /// Lower-cased path -> key in `docs`, for the case-insensitive fallback.
    lower: HashMap<String, String>,
    pub(crate) systems: Vec<ReplaySystem>,
}

impl fmt::Debug for Mockup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mockup")
            .field("source", &self.tree.source)
            .field("resources", &self.tree.docs.len())
            .field("systems", &self.system_paths())
            .finish()
    }
}

/// `path` without trailing slashes (the root stays `/redfish/v1`).
pub(crate) fn normalize(path: &str) -> &str {
    let p = path.trim_end_matches('/');
    if p.is_empty() { "/" } else { p }
}

impl Mockup {
    /// Read a DMTF mockup-layout tree: `dir/index.json` is `/redfish/v1`.
    pub fn load(dir: impl AsRef<Path>) -> io::Result<Mockup> {
        let dir = dir.as_ref();
        let mut docs = HashMap::new();
        read_dir(dir, ROOT, &mut docs)?;
        if !matches!(docs.get(ROOT), Some(Resource::Json(_))) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: no index.json at the top: not a Redfish mockup tree",
                    dir.display()
                ),
            ));
        }
        Ok(Mockup::from_docs(dir.display().to_string(), docs))
    }

    fn from_docs(source: String, docs: HashMap<String, Resource>) -> Mockup {
        let lower = docs.keys().map(|k| (k.to_lowercase(), k.clone())).collect();
        let mut tree = Tree {
            source,
            docs,
            lower,
            systems: Vec::new(),
        };
        tree.systems = tree.read_systems();
        Mockup {
            tree: Arc::new(tree),
        }
    }

    /// The Systems collection's members that have a document, in collection order.
    pub fn system_paths(&self) -> Vec<String> {
        self.tree.systems.iter().map(|s| s.path.clone()).collect()
    }

    /// The same tree with its Systems collection listing exactly `ids`, in that order: ids the
    /// tree has keep their recorded documents; the others are copies of the first recorded
    /// system (its `Systems/<id>` and `Chassis/<id>` subtrees, links renamed) with MACs and
    /// UUIDs of their own. `Mockup::load(EX425)?.with_nodes(&["Node3", "Node1", "Node2",
    /// "Node0"])` is a four-node blade whose collection is out of order.
    pub fn with_nodes(&self, ids: &[&str]) -> io::Result<Mockup> {
        let template = self.tree.systems.first().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: no system to copy", self.tree.source),
            )
        })?;
        let tid = template
            .path
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let systems_path = format!("{ROOT}/Systems");
        let existing: Vec<&str> = self
            .tree
            .systems
            .iter()
            .filter_map(|s| s.path.rsplit('/').next())
            .collect();
        let mut docs = self.tree.docs.clone();
        for id in ids.iter().filter(|id| !existing.contains(id)) {
            let seed = node_seed(id);
            for base in ["Systems", "Chassis"] {
                let from = format!("{ROOT}/{base}/{tid}");
                for (path, res) in &self.tree.docs {
                    let Some(rest) = path.strip_prefix(&from) else {
                        continue;
                    };
                    if !(rest.is_empty() || rest.starts_with('/')) {
                        continue;
                    }
                    let mut res = res.clone();
                    if let Resource::Json(v) = &mut res {
                        rename(v, &tid, id);
                        rewrite::rewrite(v, seed);
                    }
                    docs.insert(format!("{ROOT}/{base}/{id}{rest}"), res);
                }
            }
        }
        let Some(Resource::Json(collection)) = docs.get_mut(&systems_path) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: no Systems collection", self.tree.source),
            ));
        };
        let members: Vec<Value> = ids
            .iter()
            .map(|id| json!({"@odata.id": format!("{systems_path}/{id}")}))
            .collect();
        collection["Members@odata.count"] = json!(members.len());
        collection["Members"] = Value::Array(members);
        Ok(Mockup::from_docs(
            format!("{} with nodes {}", self.tree.source, ids.join(", ")),
            docs,
        ))
    }
}

/// The MAC/UUID rewrite seed of a derived node (never 0, which means "as recorded").
fn node_seed(id: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(id.as_bytes());
    u64::from_le_bytes(d[..8].try_into().expect("32 >= 8")) | 1
}

/// Rename a copied system: links under `Systems/<from>` and `Chassis/<from>` and its `Id` and
/// `Name`.
fn rename(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(s) if (key == "Id" || key == "Name") && s == from => {
                        *s = to.to_string()
                    }
                    Value::String(s) => {
                        for base in ["/Systems/", "/Chassis/"] {
                            let old = format!("{base}{from}");
                            if let Some(i) = s.find(&old) {
                                let end = i + old.len();
                                if s[end..].is_empty() || s[end..].starts_with('/') {
                                    s.replace_range(i..end, &format!("{base}{to}"));
                                }
                            }
                        }
                    }
                    _ => rename(value, from, to),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rename(i, from, to)),
        _ => {}
    }
}

fn read_dir(dir: &Path, path: &str, docs: &mut HashMap<String, Resource>) -> io::Result<()> {
    let context =
        |e: io::Error, file: &Path| io::Error::new(e.kind(), format!("{}: {e}", file.display()));
    for entry in std::fs::read_dir(dir).map_err(|e| context(e, dir))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let file = entry.path();
        if entry.file_type()?.is_dir() {
            read_dir(&file, &format!("{path}/{name}"), docs)?;
            continue;
        }
        let text = || std::fs::read_to_string(&file).map_err(|e| context(e, &file));
        let res = match name.as_str() {
            "index.json" => Resource::Json(serde_json::from_str(&text()?).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", file.display()),
                )
            })?),
            "index.xml" => Resource::Xml(text()?),
            "error.txt" => Resource::Failed(parse_failure(&text()?)),
            _ => continue,
        };
        docs.insert(path.to_string(), res);
    }
    Ok(())
}

/// `HTTP 405` (or `HTTP/1.1 405 Method Not Allowed`), header lines, a blank line, the body.
/// An unreadable status line counts as 500. Hop-by-hop and framing headers are dropped.
fn parse_failure(text: &str) -> Failure {
    let mut lines = text.lines();
    let status = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .find_map(|w| w.parse::<u16>().ok())
        .filter(|s| (400..600).contains(s))
        .unwrap_or(500);
    let mut headers = Vec::new();
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        let skip = [
            "connection",
            "content-length",
            "date",
            "transfer-encoding",
            "keep-alive",
        ];
        if !skip.contains(&name.to_ascii_lowercase().as_str()) {
            headers.push((name.to_string(), value.trim().to_string()));
        }
    }
    let body = lines.collect::<Vec<_>>().join("\n").trim().to_string();
    Failure {
        status,
        headers,
        body,
    }
}

impl Tree {
    /// The resource at `path` (trailing slashes ignored, letter case as a fallback).
    pub(crate) fn get(&self, path: &str) -> Option<(&str, &Resource)> {
        let p = normalize(path);
        if let Some((k, r)) = self.docs.get_key_value(p) {
            return Some((k.as_str(), r));
        }
        let key = self.lower.get(&p.to_lowercase())?;
        self.docs.get(key).map(|r| (key.as_str(), r))
    }

    pub(crate) fn json(&self, path: &str) -> Option<&Value> {
        match self.get(path)? {
            (_, Resource::Json(v)) => Some(v),
            _ => None,
        }
    }

    fn read_systems(&self) -> Vec<ReplaySystem> {
        let Some(collection) = self.json(&format!("{ROOT}/Systems")) else {
            return Vec::new();
        };
        let members = collection["Members"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        members
            .iter()
            .filter_map(|m| m["@odata.id"].as_str())
            .filter_map(|link| {
                let (key, Resource::Json(doc)) = self.get(link)? else {
                    return None;
                };
                Some(self.read_system(normalize(link), key, doc))
            })
            .collect()
    }

    fn read_system(&self, path: &str, key: &str, doc: &Value) -> ReplaySystem {
        let reset = &doc["Actions"]["#ComputerSystem.Reset"];
        let inline = strings(&reset["ResetType@Redfish.AllowableValues"]);
        let from_info = reset["@Redfish.ActionInfo"]
            .as_str()
            .and_then(|p| self.json(p))
            .and_then(|info| {
                info["Parameters"]
                    .as_array()?
                    .iter()
                    .find(|p| p["Name"] == "ResetType")
                    .and_then(|p| strings(&p["AllowableValues"]))
            });
        let boot = &doc["Boot"];
        let support = |prop: &str, standard: &[&str]| {
            boot.get(prop)?;
            Some(
                strings(&boot[format!("{prop}@Redfish.AllowableValues")])
                    .unwrap_or_else(|| standard.iter().map(|s| s.to_string()).collect()),
            )
        };
        let value = |prop: &str, default: &'static str| {
            boot[prop]
                .as_str()
                .map_or(default.into(), |s| s.to_string().into())
        };
        ReplaySystem {
            path: path.to_string(),
            key: key.to_string(),
            reset_target: reset["target"].as_str().map(|t| normalize(t).to_string()),
            reset_types: inline.or(from_info),
            boot: BootSupport {
                enabled: support("BootSourceOverrideEnabled", STANDARD_ENABLED),
                target: support("BootSourceOverrideTarget", STANDARD_TARGETS),
                mode: support("BootSourceOverrideMode", STANDARD_MODES),
            },
            initial_power: doc["PowerState"]
                .as_str()
                .and_then(Power::parse)
                .unwrap_or(Power::Off),
            initial_boot: BootOverride {
                enabled: value("BootSourceOverrideEnabled", "Disabled"),
                target: value("BootSourceOverrideTarget", "None"),
                mode: value("BootSourceOverrideMode", "UEFI"),
            },
        }
    }
}

fn strings(v: &Value) -> Option<Vec<String>> {
    Some(
        v.as_array()?
            .iter()
            .filter_map(|s| s.as_str().map(String::from))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_txt_keeps_status_headers_and_body() {
        let f = parse_failure(
            "HTTP 405\nAllow: \nConnection: keep-alive\nContent-Length: 0\nOData-Version: 4.0\n\n",
        );
        assert_eq!(f.status, 405);
        assert_eq!(
            f.headers,
            vec![
                ("Allow".to_string(), String::new()),
                ("OData-Version".to_string(), "4.0".to_string())
            ]
        );
        assert_eq!(f.body, "");
        let f = parse_failure("HTTP/1.1 503 Service Unavailable\n\n<html>busy</html>\n");
        assert_eq!((f.status, f.body.as_str()), (503, "<html>busy</html>"));
        assert_eq!(parse_failure("garbage").status, 500);
    }

    #[test]
    fn normalize_strips_trailing_slashes_only() {
        assert_eq!(normalize("/redfish/v1/"), "/redfish/v1");
        assert_eq!(normalize("/redfish/v1/Systems/1/"), "/redfish/v1/Systems/1");
        assert_eq!(normalize("/"), "/");
    }
}
