//! A data directory that fills up or turns read-only under a running appliance (a tmpfs of
//! a few MiB, mounted by the test: root tier). A write that cannot be stored is a clear 503
//! problem naming the store and the cause, and leaves nothing half-written; an artifact the
//! cache cannot keep is still served whole or refused, never cut or cached short; when space
//! (or write access) returns, the same requests succeed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};

use super::{Appliance, checked, integrity};

/// A tmpfs mounted on a fresh directory, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let o = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "mount: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }

    fn remount(&self, opt: &str) {
        let o = Command::new("mount")
            .args(["-o", &format!("remount,{opt}")])
            .arg(&self.0)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "remount: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// Fill the rest of it with one file; returns the file (delete it to free the space).
    fn fill(&self) -> PathBuf {
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let small = [0u8; 512];
        while f.write_all(&small).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Components `prefix`0..n as one bulk HSM write.
fn components(prefix: &str, n: usize) -> Value {
    let list: Vec<Value> = (0..n)
        .map(|i| {
            json!({"ID": format!("{prefix}c0s{}b0n{}", i / 8, i % 8), "Type": "Node", "State": "Ready",
                   "Role": "Compute", "NID": 100_000 + i, "Enabled": true})
        })
        .collect();
    json!({"Components": list})
}

async fn count(s: &crate::common::Server) -> usize {
    let (_, v) = s.get("/apis/smd/hsm/v2/State/Components").await;
    v["Components"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
#[ignore = "tier root: mounts a tmpfs (root); scripts/test.sh runs it as root"]
async fn a_full_or_read_only_data_dir_is_a_clear_error_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let fs = Tmpfs::mount(&dir.path().join("data"), "24m");
    let app = Appliance::start(&fs.0, &[]).await;
    let s = app.server();
    let mut what = Vec::new();

    // Full: the bulk write is refused whole.
    let filler = fs.fill();
    let (st, v) = s
        .send(
            Method::POST,
            "/apis/smd/hsm/v2/State/Components",
            components("x1000", 4000),
        )
        .await;
    assert!(st.is_server_error(), "{st}: {v}");
    let detail = v["detail"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(detail.contains("store") && detail.contains("full"), "{v}");
    assert_eq!(
        count(&s).await,
        0,
        "a refused bulk write left components behind"
    );
    what.push(format!(
        "disk full: bulk write of 4,000 components → {st}, '{}', none written",
        v["detail"].as_str().unwrap_or_default()
    ));
    std::fs::remove_file(&filler).unwrap();
    let (st, v) = s
        .send(
            Method::POST,
            "/apis/smd/hsm/v2/State/Components",
            components("x1000", 4000),
        )
        .await;
    assert!(st.is_success(), "{st}: {v}");
    assert_eq!(count(&s).await, 4000);
    what.push("space freed: the same write succeeds, 4,000 components".into());

    // The artifact cache on a full disk: served whole from the origin or refused, never cut.
    let kernel: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let src = fs.0.join("artifacts/boot-images/img/kernel");
    std::fs::create_dir_all(src.parent().unwrap()).unwrap();
    std::fs::write(&src, &kernel).unwrap();
    s.add_node("x3000c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:01")
        .await;
    let (st, v) = s
        .send(
            Method::PUT,
            "/boot/v1/bootparameters",
            json!({"hosts": ["x3000c0s0b0n0"], "kernel": "s3://boot-images/img/kernel", "params": "console=ttyS0"}),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let (_, script) = s.get("/boot/v1/bootscript?mac=aa:bb:cc:00:00:01").await;
    let script = script.as_str().unwrap().to_string();
    let url = script
        .lines()
        .find_map(|l| l.strip_prefix("kernel "))
        .and_then(|l| l.split_whitespace().find(|w| w.starts_with("http")))
        .unwrap_or_else(|| panic!("no kernel line in {script}"))
        .to_string();
    let filler = fs.fill();
    let r = reqwest::get(&url).await.unwrap();
    let st = r.status();
    let full_disk = match r.bytes().await {
        Ok(b) if st.is_success() => {
            assert_eq!(b.len(), kernel.len(), "a short artifact was served");
            assert!(b[..] == kernel[..], "a corrupt artifact was served");
            format!("{st}, whole ({} bytes)", b.len())
        }
        Ok(b) => {
            assert!(st.is_server_error(), "{st}");
            format!("{st}: {}", String::from_utf8_lossy(&b))
        }
        Err(e) => panic!("the artifact was cut mid-body: {e}"),
    };
    what.push(format!("artifact with the cache disk full: {full_disk}"));
    std::fs::remove_file(&filler).unwrap();
    let b = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert!(
        b[..] == kernel[..],
        "after space returned: {} bytes",
        b.len()
    );
    let b = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert!(b[..] == kernel[..], "from the cache: {} bytes", b.len());
    what.push("space freed: served whole twice (origin, then cache)".into());
    // Read-only at start (a file system remounted read-only under open files is refused
    // by the kernel): the appliance says so and exits; once writable it starts as before.
    let mut app = app;
    app.kill().await;
    fs.remount("ro");
    app.restart(None);
    let st = app.exit(std::time::Duration::from_secs(30)).await;
    fs.remount("rw");
    assert!(!st.success(), "started on a read-only data dir");
    let log = app.log();
    let last = log
        .lines()
        .rev()
        .find(|l| l.contains("rror"))
        .unwrap_or_default()
        .to_string();
    assert!(
        last.contains(&fs.0.display().to_string())
            && last.to_ascii_lowercase().contains("read-only"),
        "{log}"
    );
    what.push(format!("read-only data dir at start: {st}, '{last}'"));
    app.restart(None);
    app.ready().await;
    // The 4,000 and the node the artifact case added.
    assert_eq!(count(&s).await, 4001);
    what.push("writable again: starts, every component there".into());
    drop(app);
    assert_eq!(integrity(&fs.0).await, "ok");
    what.push("store integrity_check ok".into());
    checked("full and read-only data dir", &what);
}
