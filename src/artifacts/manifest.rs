//! IMS image manifests (`manifest.json`): which kernel, initrd and rootfs make up an image.
//!
//! BOS reads the manifest a boot set points at to learn the image's artifacts (reference
//! docs/bos.md, "Boot artifacts"). Parsing is pure and strict where BOS is strict (a JSON
//! object, at most one artifact of each type it uses, a kernel) and lenient elsewhere (unknown
//! artifact types and fields are ignored). Every error names the manifest's path and what was
//! wrong.

use super::ObjectRef;

/// Manifests larger than this are refused (as BOS does).
pub const MAX_MANIFEST_BYTES: usize = 1 << 20;

pub const KERNEL: &str = "application/vnd.cray.image.kernel";
pub const INITRD: &str = "application/vnd.cray.image.initrd";
pub const ROOTFS: &str = "application/vnd.cray.image.rootfs.squashfs";
pub const BOOT_PARAMETERS: &str = "application/vnd.cray.image.parameters.boot";

/// One artifact of an image: where it is and the ETag the manifest recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub path: ObjectRef,
    pub etag: Option<String>,
}

/// The artifacts BOS uses from a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub kernel: Artifact,
    pub initrd: Option<Artifact>,
    pub rootfs: Option<Artifact>,
    pub boot_parameters: Option<Artifact>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest {path} is larger than {limit} bytes")]
    TooLarge { path: String, limit: usize },
    #[error("manifest {path} is not a JSON object: {cause}")]
    NotJson { path: String, cause: String },
    #[error("manifest {path} has no artifact of type {kind}")]
    Missing { path: String, kind: &'static str },
    #[error("manifest {path} has more than one artifact of type {kind}")]
    Duplicate { path: String, kind: &'static str },
    #[error("manifest {path}: artifact of type {kind} has an unusable link ({cause})")]
    BadLink {
        path: String,
        kind: String,
        cause: String,
    },
}

#[derive(serde::Deserialize)]
struct Doc {
    #[serde(default)]
    artifacts: Vec<serde_json::Value>,
}

/// Parse a manifest read from `path` (used in messages only).
pub fn parse(path: &str, bytes: &[u8]) -> Result<Manifest, ManifestError> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge {
            path: path.into(),
            limit: MAX_MANIFEST_BYTES,
        });
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ManifestError::NotJson {
            path: path.into(),
            cause: e.to_string(),
        })?;
    if !value.is_object() {
        return Err(ManifestError::NotJson {
            path: path.into(),
            cause: "the document is not an object".into(),
        });
    }
    let doc: Doc = serde_json::from_value(value).map_err(|e| ManifestError::NotJson {
        path: path.into(),
        cause: e.to_string(),
    })?;
    let mut found: [Option<Artifact>; 4] = Default::default();
    for a in &doc.artifacts {
        let Some(kind) = a.get("type").and_then(|t| t.as_str()) else {
            continue;
        };
        let slot = match kind {
            KERNEL => 0,
            INITRD => 1,
            ROOTFS => 2,
            BOOT_PARAMETERS => 3,
            _ => continue,
        };
        let kind_static = [KERNEL, INITRD, ROOTFS, BOOT_PARAMETERS][slot];
        if found[slot].is_some() {
            return Err(ManifestError::Duplicate {
                path: path.into(),
                kind: kind_static,
            });
        }
        let link = a.get("link");
        let bad = |cause: &str| ManifestError::BadLink {
            path: path.into(),
            kind: kind.into(),
            cause: cause.into(),
        };
        let raw = link
            .and_then(|l| l.get("path"))
            .and_then(|p| p.as_str())
            .ok_or_else(|| bad("no link.path"))?;
        let obj = ObjectRef::parse(raw).map_err(|e| bad(&e.to_string()))?;
        let etag = link
            .and_then(|l| l.get("etag"))
            .and_then(|e| e.as_str())
            .filter(|e| !e.is_empty())
            .map(str::to_string);
        found[slot] = Some(Artifact { path: obj, etag });
    }
    let [kernel, initrd, rootfs, boot_parameters] = found;
    Ok(Manifest {
        kernel: kernel.ok_or(ManifestError::Missing {
            path: path.into(),
            kind: KERNEL,
        })?,
        initrd,
        rootfs,
        boot_parameters,
    })
}

/// A manifest document for the given artifacts (what `images import` writes).
pub fn render(artifacts: &[(&str, &ObjectRef, Option<&str>)]) -> serde_json::Value {
    serde_json::json!({
        "version": "1.0",
        "created": chrono::Utc::now().to_rfc3339(),
        "artifacts": artifacts.iter().map(|(kind, path, etag)| serde_json::json!({
            "link": {"path": path.to_string(), "etag": etag.unwrap_or(""), "type": "s3"},
            "type": kind,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(kind: &str, path: &str) -> serde_json::Value {
        serde_json::json!({"link": {"path": path, "etag": "e1", "type": "s3"}, "type": kind, "md5": "x"})
    }

    #[test]
    fn reads_the_artifacts_bos_uses_and_ignores_others() {
        let doc = serde_json::json!({"version": "1.0", "artifacts": [
            art(KERNEL, "s3://boot-images/i1/kernel"),
            art(INITRD, "s3://boot-images/i1/initrd"),
            art(ROOTFS, "s3://boot-images/i1/rootfs"),
            art("application/vnd.cray.image.rootfs.tar", "s3://boot-images/i1/rootfs.tar"),
            {"type": "application/vnd.cray.image.debug.kernel"},
        ]});
        let m = parse(
            "s3://boot-images/i1/manifest.json",
            doc.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(m.kernel.path.to_string(), "s3://boot-images/i1/kernel");
        assert_eq!(m.kernel.etag.as_deref(), Some("e1"));
        assert_eq!(m.initrd.unwrap().path.key, "i1/initrd");
        assert!(m.rootfs.is_some() && m.boot_parameters.is_none());
    }

    #[test]
    fn errors_name_the_path_and_the_problem() {
        let p = "s3://b/m.json";
        let e = parse(p, br#"{"artifacts": []}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("manifest {p} has no artifact of type {KERNEL}")
        );
        let dup =
            serde_json::json!({"artifacts": [art(KERNEL, "s3://b/k"), art(KERNEL, "s3://b/k2")]});
        assert!(matches!(
            parse(p, dup.to_string().as_bytes()),
            Err(ManifestError::Duplicate { .. })
        ));
        assert!(matches!(
            parse(p, b"[1]"),
            Err(ManifestError::NotJson { .. })
        ));
        assert!(matches!(parse(p, b"{"), Err(ManifestError::NotJson { .. })));
        let big = vec![b' '; MAX_MANIFEST_BYTES + 1];
        assert!(matches!(
            parse(p, &big),
            Err(ManifestError::TooLarge { .. })
        ));
        let bad = serde_json::json!({"artifacts": [art(KERNEL, "http://x/k")]});
        let e = parse(p, bad.to_string().as_bytes()).unwrap_err();
        assert!(e.to_string().contains("unusable link"), "{e}");
    }

    #[test]
    fn render_round_trips() {
        let k = ObjectRef::parse("s3://b/img/kernel").unwrap();
        let doc = render(&[(KERNEL, &k, Some("abc"))]);
        let m = parse("m", doc.to_string().as_bytes()).unwrap();
        assert_eq!(m.kernel.path, k);
        assert_eq!(m.kernel.etag.as_deref(), Some("abc"));
    }
}
