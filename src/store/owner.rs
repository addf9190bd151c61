//! One owner per data directory: an exclusive lock held for the process's life.
//!
//! Two appliances acting on one store both drive every node (seen: 400 resets for 200 nodes).
//! `rackboot.lock` in the data directory is locked with `flock` (std's `File::try_lock`) and
//! holds the owner's PID for the message a second instance prints. The kernel drops the lock
//! when the process ends, however it ends, so a crash never leaves a stale lock behind; the
//! PID in the file is only ever read for that message.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock on a data directory; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "the data directory {dir} is in use by another rackboot (PID {pid}, lock {lock}); stop it first, or give this one its own --data-dir"
    )]
    Held {
        dir: String,
        pid: String,
        lock: String,
    },
    #[error("cannot lock the data directory {dir} ({lock})")]
    Io {
        dir: String,
        lock: String,
        #[source]
        source: std::io::Error,
    },
}

impl DataDirLock {
    /// Lock `dir` for this process, or say which process holds it.
    pub fn acquire(dir: &Path) -> Result<DataDirLock, LockError> {
        let path = dir.join("rackboot.lock");
        let io = |source| LockError::Io {
            dir: dir.display().to_string(),
            lock: path.display().to_string(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(LockError::Held {
                    dir: dir.display().to_string(),
                    pid: if pid.is_empty() { "unknown" } else { pid }.to_string(),
                    lock: path.display().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(DataDirLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_owner_is_refused_with_the_first_ones_pid_until_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let e = DataDirLock::acquire(dir.path()).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("PID {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
        drop(first);
        let again = DataDirLock::acquire(dir.path()).unwrap();
        assert!(again.path().ends_with("rackboot.lock"));
    }
}
