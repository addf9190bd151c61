//! The demo's sample image: a kernel, an initrd and an IMS-style manifest written straight
//! into the local artifact directory, as `rackboot images import` would leave them.
//!
//! The files are small text, not a bootable kernel: simulated nodes only fetch and count
//! them, and what the demo shows is the appliance serving and recording them. Writing the
//! directory directly (rather than uploading over the API) keeps the demo's start quick
//! and independent of the images API it does not set out to show.

use std::path::Path;

use anyhow::Context;
use sha2::{Digest, Sha256};

use super::{BUCKET, IMAGE};
use crate::artifacts::{ObjectRef, manifest};

/// A kernel, an initrd and an IMS-style manifest in the local artifact directory; returns
/// the manifest's `s3://` path (what a boot set names).
pub(super) fn write_image(artifacts: &Path) -> anyhow::Result<String> {
    let dir = artifacts.join(BUCKET).join(IMAGE);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut entries = Vec::new();
    for (file, kind, body) in [
        (
            "kernel",
            manifest::KERNEL,
            "rackboot demo kernel\n".repeat(3000),
        ),
        (
            "initrd",
            manifest::INITRD,
            "rackboot demo initrd\n".repeat(12000),
        ),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, &body).with_context(|| format!("cannot write {}", path.display()))?;
        let etag = format!("{:x}", Sha256::digest(body.as_bytes()));
        let obj = ObjectRef::new(BUCKET, &format!("{IMAGE}/{file}"))
            .map_err(|e| anyhow::anyhow!("{IMAGE}/{file}: {e}"))?;
        entries.push((kind, obj, etag));
    }
    let doc = manifest::render(
        &entries
            .iter()
            .map(|(k, o, e)| (*k, o, Some(e.as_str())))
            .collect::<Vec<_>>(),
    );
    let path = dir.join("manifest.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(format!("s3://{BUCKET}/{IMAGE}/manifest.json"))
}

#[cfg(test)]
mod tests {
    use super::super::Scratch;
    use super::*;

    #[test]
    fn demo_image_manifest_parses_as_bos_reads_it() {
        let dir = std::env::temp_dir().join(format!("rackboot-demo-test-{}", uuid::Uuid::new_v4()));
        let scratch = Scratch(dir.clone());
        let path = write_image(&dir).unwrap();
        assert_eq!(path, "s3://boot-images/demo-image/manifest.json");
        let bytes = std::fs::read(dir.join("boot-images/demo-image/manifest.json")).unwrap();
        let m = manifest::parse(&path, &bytes).unwrap();
        assert_eq!(
            m.kernel.path.to_string(),
            "s3://boot-images/demo-image/kernel"
        );
        assert_eq!(
            m.initrd.unwrap().path.to_string(),
            "s3://boot-images/demo-image/initrd"
        );
        assert_eq!(m.kernel.etag.as_deref().map(str::len), Some(64));
        assert!(dir.join("boot-images/demo-image/kernel").is_file());
        drop(scratch);
        assert!(!dir.exists());
    }
}
