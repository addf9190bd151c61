//! Boot images: a kernel (and optionally an initrd, a root filesystem and default kernel
//! parameters) under `s3://boot-images/<name>/`, described by an IMS-style
//! `manifest.json` that boot sets point at.

use bytes::Bytes;
use futures::stream::BoxStream;

use super::{App, AppError, AppResult};
use crate::artifacts::manifest::{self, BOOT_PARAMETERS, INITRD, KERNEL, ROOTFS};
use crate::artifacts::{ObjectRef, SourceError};

/// The bucket images live in (IMS's name for it).
pub const IMAGES_BUCKET: &str = "boot-images";

/// Artifacts an image may have, by the name they are uploaded under.
pub const KINDS: &[(&str, &str)] = &[("kernel", KERNEL), ("initrd", INITRD), ("rootfs", ROOTFS)];

#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageSummary {
    pub name: String,
    pub manifest: String,
    pub artifacts: Vec<ImageArtifact>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageArtifact {
    pub kind: String,
    pub path: String,
    pub size: u64,
    pub etag: Option<String>,
}

/// Image names are one path segment: letters, digits, '-', '_' and '.' (not first).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn check_name(name: &str) -> AppResult<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(AppError::bad(format!(
            "invalid image name '{name}': use letters, digits, '-', '_' and '.' (not first)"
        )))
    }
}

fn object(name: &str, file: &str) -> ObjectRef {
    ObjectRef::new(IMAGES_BUCKET, &format!("{name}/{file}")).expect("checked name")
}

fn source_error(e: SourceError) -> AppError {
    match e {
        SourceError::NotFound { .. } => AppError::not_found(e.to_string()),
        other => AppError::Upstream(other.to_string()),
    }
}

impl App {
    /// Store one artifact of an image (streamed; any size).
    pub async fn upload_image_artifact(
        &self,
        name: &str,
        kind: &str,
        data: BoxStream<'static, Result<Bytes, String>>,
    ) -> AppResult<ImageArtifact> {
        check_name(name)?;
        if !KINDS.iter().any(|(k, _)| *k == kind) {
            return Err(AppError::bad(format!(
                "unknown artifact '{kind}': use kernel, initrd or rootfs"
            )));
        }
        let obj = object(name, kind);
        let meta = self
            .artifacts
            .source()
            .put_stream(&obj, data)
            .await
            .map_err(source_error)?;
        Ok(ImageArtifact {
            kind: kind.to_string(),
            path: obj.to_string(),
            size: meta.size,
            etag: meta.etag,
        })
    }

    /// Write the image's manifest from what has been uploaded (the kernel is required) and,
    /// when given, its default kernel parameters.
    pub async fn finish_image(&self, name: &str, params: Option<&str>) -> AppResult<ImageSummary> {
        check_name(name)?;
        let src = self.artifacts.source();
        let mut entries: Vec<(&str, ObjectRef, Option<String>)> = Vec::new();
        for (kind, mime) in KINDS {
            let obj = object(name, kind);
            match src.head(&obj).await {
                Ok(m) => entries.push((mime, obj, m.etag)),
                Err(SourceError::NotFound { .. }) if *kind != "kernel" => {}
                Err(SourceError::NotFound { .. }) => {
                    return Err(AppError::bad(format!(
                        "image {name} has no kernel: upload {obj} first"
                    )));
                }
                Err(e) => return Err(AppError::Upstream(e.to_string())),
            }
        }
        if let Some(p) = params.filter(|p| !p.trim().is_empty()) {
            crate::model::bootparams::check_params("params", p)
                .map_err(|e| AppError::bad(e.to_string()))?;
            let obj = object(name, "boot_parameters");
            let m = src
                .put(&obj, Bytes::from(p.trim().to_string()))
                .await
                .map_err(source_error)?;
            entries.push((BOOT_PARAMETERS, obj, m.etag));
        }
        let doc = manifest::render(
            &entries
                .iter()
                .map(|(k, o, e)| (*k, o, e.as_deref()))
                .collect::<Vec<_>>(),
        );
        let mobj = object(name, "manifest.json");
        src.put(
            &mobj,
            Bytes::from(serde_json::to_vec_pretty(&doc).expect("json")),
        )
        .await
        .map_err(source_error)?;
        self.get_image(name).await
    }

    /// Read and parse the manifest at `path` (`s3://…/manifest.json`), as boot-set
    /// validation and session setup do: errors name the path and what is wrong.
    pub async fn read_manifest(&self, path: &str) -> AppResult<manifest::Manifest> {
        let obj =
            ObjectRef::parse(path).map_err(|e| AppError::bad(format!("manifest path {e}")))?;
        let src = self.artifacts.source();
        let head = src.head(&obj).await.map_err(|e| match e {
            SourceError::NotFound { .. } => {
                AppError::bad(format!("manifest {path} does not exist"))
            }
            other => AppError::Upstream(other.to_string()),
        })?;
        if head.size as usize > manifest::MAX_MANIFEST_BYTES {
            return Err(AppError::bad(format!(
                "manifest {path} is larger than {} bytes",
                manifest::MAX_MANIFEST_BYTES
            )));
        }
        let (_, stream) = src.get(&obj).await.map_err(source_error)?;
        let bytes: Vec<Bytes> = futures::TryStreamExt::try_collect(stream)
            .await
            .map_err(|e: SourceError| AppError::Upstream(e.to_string()))?;
        let m = manifest::parse(path, &bytes.concat()).map_err(|e| AppError::bad(e.to_string()))?;
        // The artifacts it names must exist.
        for a in [Some(&m.kernel), m.initrd.as_ref(), m.rootfs.as_ref()]
            .into_iter()
            .flatten()
        {
            src.head(&a.path).await.map_err(|e| match e {
                SourceError::NotFound { .. } => AppError::bad(format!(
                    "manifest {path} names {}, which does not exist",
                    a.path
                )),
                other => AppError::Upstream(other.to_string()),
            })?;
        }
        Ok(m)
    }

    /// Read a small text object (an image's boot-parameters file), at most 1 MiB.
    pub async fn read_small_object(&self, obj: &ObjectRef) -> AppResult<String> {
        let src = self.artifacts.source();
        let (_, stream) = src.get(obj).await.map_err(source_error)?;
        let bytes: Vec<Bytes> = futures::TryStreamExt::try_collect(stream)
            .await
            .map_err(|e: SourceError| AppError::Upstream(e.to_string()))?;
        let all = bytes.concat();
        if all.len() > manifest::MAX_MANIFEST_BYTES {
            return Err(AppError::bad(format!("{obj} is larger than 1 MiB")));
        }
        Ok(String::from_utf8_lossy(&all).into_owned())
    }

    pub async fn get_image(&self, name: &str) -> AppResult<ImageSummary> {
        check_name(name)?;
        let src = self.artifacts.source();
        let mobj = object(name, "manifest.json");
        let (_, stream) = src.get(&mobj).await.map_err(|e| match e {
            SourceError::NotFound { .. } => AppError::not_found(format!("no such image: {name}")),
            other => AppError::Upstream(other.to_string()),
        })?;
        let bytes: Vec<Bytes> = futures::TryStreamExt::try_collect(stream)
            .await
            .map_err(|e: SourceError| AppError::Upstream(e.to_string()))?;
        let m = manifest::parse(&mobj.to_string(), &bytes.concat())
            .map_err(|e| AppError::Upstream(e.to_string()))?;
        let mut artifacts = Vec::new();
        let named = [
            ("kernel", Some(&m.kernel)),
            ("initrd", m.initrd.as_ref()),
            ("rootfs", m.rootfs.as_ref()),
            ("boot_parameters", m.boot_parameters.as_ref()),
        ];
        for (kind, art) in named {
            let Some(a) = art else { continue };
            let size = src.head(&a.path).await.map(|h| h.size).unwrap_or(0);
            artifacts.push(ImageArtifact {
                kind: kind.to_string(),
                path: a.path.to_string(),
                size,
                etag: a.etag.clone(),
            });
        }
        Ok(ImageSummary {
            name: name.to_string(),
            manifest: mobj.to_string(),
            artifacts,
        })
    }

    pub async fn list_images(&self) -> AppResult<Vec<ImageSummary>> {
        let keys = self
            .artifacts
            .source()
            .list(IMAGES_BUCKET, "")
            .await
            .map_err(source_error)?;
        let mut out = Vec::new();
        for k in keys {
            if let Some(name) = k.strip_suffix("/manifest.json")
                && !name.contains('/')
            {
                out.push(self.get_image(name).await?);
            }
        }
        Ok(out)
    }

    pub async fn delete_image(&self, name: &str) -> AppResult<usize> {
        check_name(name)?;
        let src = self.artifacts.source();
        let keys = src.list(IMAGES_BUCKET, name).await.map_err(source_error)?;
        let keys: Vec<String> = keys
            .into_iter()
            .filter(|k| k.starts_with(&format!("{name}/")))
            .collect();
        if keys.is_empty() {
            return Err(AppError::not_found(format!("no such image: {name}")));
        }
        for k in &keys {
            let obj = ObjectRef::new(IMAGES_BUCKET, k).map_err(AppError::bad)?;
            src.delete(&obj).await.map_err(source_error)?;
        }
        Ok(keys.len())
    }
}
