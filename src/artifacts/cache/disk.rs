//! The cache directory's layout, and what a restart finds in it.
//!
//! Each object is `<sha256 of its s3:// name>.data` with a `<sha256>.meta` sidecar (its
//! name, size, ETag and modification time, as JSON), so the cache survives a restart
//! without an index file that could disagree with the directory. A fill writes
//! `<sha256>.partial` and publishes it by writing the sidecar, then renaming the data into
//! place; a restart trusts only a sidecar whose data file has the recorded size and whose
//! name hashes to the file's stem, and removes everything else (partial fills included).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::ArtifactCache;
use crate::artifacts::{ObjectMeta, ObjectRef};

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Sidecar {
    object: String,
    size: u64,
    etag: Option<String>,
    last_modified: chrono::DateTime<chrono::Utc>,
}

/// The file stem an object is cached under.
fn hash(obj: &ObjectRef) -> String {
    Sha256::digest(obj.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string()
}

/// The cached objects a directory holds, least recently used first (by the data file's
/// access time, else its modification time); removes partial fills and anything that does
/// not check out.
pub(super) fn scan(dir: &Path) -> std::io::Result<Vec<(ObjectRef, ObjectMeta)>> {
    let mut found: Vec<(SystemTime, ObjectRef, ObjectMeta)> = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let path = e?.path();
        match path.extension().and_then(|x| x.to_str()) {
            Some("partial") => {
                let _ = std::fs::remove_file(&path);
            }
            Some("meta") => {
                let data = path.with_extension("data");
                let side = std::fs::read(&path)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Sidecar>(&b).ok());
                let obj = side.as_ref().and_then(|s| ObjectRef::parse(&s.object).ok());
                let len = std::fs::metadata(&data).ok().map(|m| m.len());
                match (side, obj, len) {
                    (Some(s), Some(obj), Some(len))
                        if len == s.size && hash(&obj) == stem(&path) =>
                    {
                        let used = std::fs::metadata(&data)
                            .and_then(|m| m.accessed().or_else(|_| m.modified()))
                            .unwrap_or(std::time::UNIX_EPOCH);
                        found.push((
                            used,
                            obj,
                            ObjectMeta {
                                size: s.size,
                                etag: s.etag,
                                last_modified: s.last_modified,
                            },
                        ));
                    }
                    _ => {
                        let _ = std::fs::remove_file(&path);
                        let _ = std::fs::remove_file(&data);
                    }
                }
            }
            _ => {}
        }
    }
    found.sort_by_key(|(t, _, _)| *t);
    Ok(found
        .into_iter()
        .map(|(_, obj, meta)| (obj, meta))
        .collect())
}

/// Make a finished fill the cached copy: the sidecar first, then the data renamed into
/// place (a crash in between leaves a sidecar without data, which a restart removes).
pub(super) fn publish(
    partial: &Path,
    data: &Path,
    obj: &ObjectRef,
    origin: &ObjectMeta,
) -> std::io::Result<()> {
    let side = Sidecar {
        object: obj.to_string(),
        size: origin.size,
        etag: origin.etag.clone(),
        last_modified: origin.last_modified,
    };
    std::fs::write(
        data.with_extension("meta"),
        serde_json::to_vec(&side).expect("sidecar serialises"),
    )?;
    std::fs::rename(partial, data)
}

impl ArtifactCache {
    pub(super) fn data_path(&self, obj: &ObjectRef) -> PathBuf {
        self.dir.join(format!("{}.data", hash(obj)))
    }

    pub(super) fn partial_path(&self, obj: &ObjectRef) -> PathBuf {
        self.dir.join(format!("{}.partial", hash(obj)))
    }
}
