//! Files only this appliance may read: the data directory is made 0700, each key file is
//! created 0600 with fresh random bytes the first time and read back afterwards. A key
//! file someone else can read is refused, naming the fix, rather than silently trusted.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{path}: {action} failed")]
    Io {
        path: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`")]
    TooOpen { path: String, mode: u32 },
    #[error("{path} holds {got} bytes, not the {want} of a key; move it away to make a new one")]
    WrongSize {
        path: String,
        got: usize,
        want: usize,
    },
}

fn io(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> KeyFileError {
    let path = path.display().to_string();
    move |source| KeyFileError::Io {
        path,
        action,
        source,
    }
}

/// Create `dir` if needed and make it 0700.
pub fn private_dir(dir: &Path) -> Result<(), KeyFileError> {
    fs::create_dir_all(dir).map_err(io(dir, "creating the directory"))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir, "chmod 700"))
}

/// Make an existing file 0600 (the database and its WAL files).
pub fn private_file(path: &Path) -> Result<(), KeyFileError> {
    match fs::set_permissions(path, fs::Permissions::from_mode(0o600)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        r => r.map_err(io(path, "chmod 600")),
    }
}

/// The `N`-byte key in `path`, made with fresh random bytes (0600) if there is none yet.
pub fn load_or_create<const N: usize>(path: &Path) -> Result<[u8; N], KeyFileError> {
    match fs::read(path) {
        Ok(bytes) => {
            let meta = fs::metadata(path).map_err(io(path, "stat"))?;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyFileError::TooOpen {
                    path: path.display().to_string(),
                    mode,
                });
            }
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| KeyFileError::WrongSize {
                    path: path.display().to_string(),
                    got: bytes.len(),
                    want: N,
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = crate::auth::random_bytes::<N>();
            write_private(path, &key)?;
            Ok(key)
        }
        Err(e) => Err(io(path, "reading")(e)),
    }
}

/// Write `bytes` to a new file `path` created 0600 (never widening an existing one).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyFileError> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp, "creating"))?;
    f.write_all(bytes).map_err(io(&tmp, "writing"))?;
    f.sync_all().map_err(io(&tmp, "syncing"))?;
    fs::rename(&tmp, path).map_err(io(path, "renaming into place"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_made_once_private_and_refused_when_open() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.key");
        let a: [u8; 32] = load_or_create(&p).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let b: [u8; 32] = load_or_create(&p).unwrap();
        assert_eq!(a, b, "read back, not remade");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create::<32>(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
    }
}
