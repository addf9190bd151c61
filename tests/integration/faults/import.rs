//! `rackboot inventory import` when the appliance dies under it: the import fails with a
//! clear error and a non-zero exit, and once the appliance is back the same import, run
//! again, finishes with every node, MAC and BMC there exactly once.

use std::time::Duration;

use super::{Appliance, checked, integrity};

#[tokio::test]
async fn an_import_cut_by_a_crash_reruns_cleanly() {
    const N: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut app = Appliance::start(&data, &[]).await;
    let s = app.server();
    let mut yaml = String::from("nodes:\n");
    for i in 0..N {
        yaml.push_str(&format!(
            "  - xname: x3000c0s{}b0n{}\n    nid: {}\n    macs: [\"02:10:00:00:{:02x}:{:02x}\"]\n    bmc: {{address: \"127.0.0.1:9\", username: admin, password: pw}}\n",
            i / 8, i % 8, i + 1, i / 256, i % 256
        ));
    }
    let file = dir.path().join("inventory.yaml");
    std::fs::write(&file, yaml).unwrap();
    let import = |base: String| {
        let file = file.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_rackboot"))
                .args(["inventory", "import", "--quiet"])
                .env("RACKBOOT_URL", &base)
                .arg(&file)
                .output()
                .unwrap()
        })
    };
    let running = import(app.base());
    let macs = async || {
        let (_, v) = s.get("/apis/smd/hsm/v2/Inventory/EthernetInterfaces").await;
        v.as_array().map_or(0, Vec::len)
    };
    crate::common::wait_until(
        "the import to be half way",
        Duration::from_secs(60),
        async || {
            let n = macs().await;
            if n >= N / 3 { Ok(()) } else { Err(n) }
        },
    )
    .await;
    app.kill().await;
    let o = running.await.unwrap();
    assert!(!o.status.success(), "the cut import exited 0");
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains("127.0.0.1"),
        "the error names the server: {err}"
    );
    app.restart(None);
    app.ready().await;
    let o = import(app.base()).await.unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(macs().await, N);
    let (_, comps) = s.get("/apis/smd/hsm/v2/State/Components").await;
    assert_eq!(comps["Components"].as_array().unwrap().len(), N);
    let (_, eps) = s.get("/apis/smd/hsm/v2/Inventory/RedfishEndpoints").await;
    // Eight nodes to a slot, one BMC per slot.
    assert_eq!(
        eps["RedfishEndpoints"].as_array().unwrap().len(),
        N.div_ceil(8)
    );
    assert_eq!(integrity(&data).await, "ok");
    checked(
        "inventory import cut by kill -9",
        &[
            format!(
                "the import of {N} nodes failed when the appliance died: {}",
                err.lines().last().unwrap_or_default()
            ),
            format!(
                "re-run after the restart: {N} components, {N} MACs, {} BMCs, each once",
                N.div_ceil(8)
            ),
            "store integrity_check ok".into(),
        ],
    );
}
