//! The key of the per-node artifact tokens (`links::token`): random, made once, kept in the
//! data directory, so the artifact URLs in boot scripts stay valid across a restart.
//!
//! The file is created private (0600 on Unix) rather than restricted after the fact. A key
//! file shorter than 32 bytes (truncated, or from elsewhere) is replaced.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const FILE: &str = "artifact-token.key";

#[derive(Debug, thiserror::Error)]
#[error("cannot write the artifact-token key {}", path.display())]
pub struct KeyError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The key in `data_dir`, made first if it is missing or too short.
pub fn load_or_create(data_dir: &Path) -> Result<Arc<[u8]>, KeyError> {
    let path = data_dir.join(FILE);
    let failed = |source| KeyError {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(data_dir).map_err(failed)?;
    if let Ok(k) = std::fs::read(&path)
        && k.len() >= 32
    {
        return Ok(k.into());
    }
    let key: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|u| u.as_bytes().to_vec())
        .collect();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts.open(&path).map_err(failed)?;
    file.write_all(&key).map_err(failed)?;
    Ok(key.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create(dir.path()).unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(load_or_create(dir.path()).unwrap(), a);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join(FILE), b"short").unwrap();
        assert_ne!(load_or_create(dir.path()).unwrap(), a);
    }
}
