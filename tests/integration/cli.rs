//! The CLI binary against a running appliance.

use std::process::Command;

use serde_json::Value;

use crate::common::Server;

#[tokio::test]
async fn inventory_import_then_list_and_bootparameters() {
    let s = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inv.yaml");
    std::fs::write(
        &file,
        r#"
nodes:
  - xname: x3000c0s1b0n0
    nid: 1
    role: Compute
    subrole: Worker
    arch: X86
    groups: [compute, rack1]
    macs: ["AA:BB:CC:DD:EE:01"]
    bmc: { address: "https://127.0.0.1:8443", username: root, password: pw }
  - xname: x3000c0s2b0n0
    nid: 2
    role: Compute
    groups: [compute]
    macs: ["aa:bb:cc:dd:ee:02", "aa:bb:cc:dd:ee:12"]
"#,
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let (ok, out, err) = tokio::task::spawn_blocking({
        let base = s.base.clone();
        let f = f.to_string();
        move || {
            let o = Command::new(env!("CARGO_BIN_EXE_rackboot"))
                .args(["inventory", "import", &f, "--quiet"])
                .env("RACKBOOT_URL", base)
                .output()
                .unwrap();
            (
                o.status.success(),
                String::from_utf8_lossy(&o.stdout).to_string(),
                String::from_utf8_lossy(&o.stderr).to_string(),
            )
        }
    })
    .await
    .unwrap();
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("imported 2 node(s): 3 new MAC(s), 1 new BMC endpoint(s), 2 group(s)"),
        "{out}"
    );
    // Importing again changes nothing and succeeds.
    let s_base = s.base.clone();
    let f2 = f.to_string();
    let again = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_rackboot"))
            .args(["inventory", "import", &f2, "--quiet"])
            .env("RACKBOOT_URL", s_base)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let (_, v) = s
        .get("/apis/smd/hsm/v2/State/Components?group=compute")
        .await;
    assert_eq!(v["Components"].as_array().unwrap().len(), 2);
    let (_, v) = s
        .get("/apis/smd/hsm/v2/Inventory/RedfishEndpoints/x3000c0s1b0")
        .await;
    assert_eq!(v["FQDN"], "127.0.0.1:8443");

    let base = s.base.clone();
    let results = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| {
            let o = Command::new(env!("CARGO_BIN_EXE_rackboot"))
                .args(args)
                .env("RACKBOOT_URL", &base)
                .output()
                .unwrap();
            (
                o.status.success(),
                String::from_utf8_lossy(&o.stdout).to_string(),
                String::from_utf8_lossy(&o.stderr).to_string(),
            )
        };
        vec![
            run(&[
                "hsm",
                "components",
                "list",
                "--role",
                "Compute",
                "--format",
                "json",
            ]),
            run(&["hsm", "components", "list"]),
            run(&[
                "bss",
                "bootparameters",
                "replace",
                "--hosts",
                "x3000c0s1b0n0,x3000c0s2b0n0",
                "--kernel",
                "http://k",
                "--params",
                "quiet",
            ]),
            run(&[
                "bss",
                "bootparameters",
                "get",
                "--hosts",
                "x3000c0s2b0n0",
                "--format",
                "json",
            ]),
            run(&["hsm", "components", "get", "x3000c0s9b0n0"]),
            run(&[
                "bss",
                "bootparameters",
                "replace",
                "--hosts",
                "x3000c0s1b0n0",
                "--params",
                "a\u{7}b",
            ]),
        ]
    })
    .await
    .unwrap();
    let (ok, out, _) = &results[0];
    assert!(ok);
    let v: Value = serde_json::from_str(out).unwrap();
    assert_eq!(v["Components"].as_array().unwrap().len(), 2);
    assert!(
        results[1].1.contains("x3000c0s1b0n0") && results[1].1.contains("Compute"),
        "{}",
        results[1].1
    );
    assert!(
        results[2].0 && results[2].1.contains("referral token"),
        "{:?}",
        results[2]
    );
    let v: Value = serde_json::from_str(&results[3].1).unwrap();
    assert_eq!(v[0]["params"], "quiet");
    let (ok, _, err) = &results[4];
    assert!(!ok);
    assert!(
        err.contains("404 Not Found: no such component: x3000c0s9b0n0"),
        "{err}"
    );
    let (ok, _, err) = &results[5];
    assert!(!ok);
    assert!(err.contains("control character"), "{err}");
}

#[tokio::test]
async fn a_bad_inventory_file_writes_nothing() {
    let s = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "nodes:\n  - xname: x3000c0s1b0n0\n    macs: [aa:bb:cc:dd:ee:01]\n  - xname: x3000c0s2b0n0\n    macs: [zz]\n").unwrap();
    let f = file.to_str().unwrap().to_string();
    let base = s.base.clone();
    let o = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_rackboot"))
            .args(["inventory", "import", &f])
            .env("RACKBOOT_URL", base)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("node 2 (x3000c0s2b0n0)") && err.contains("not a valid MAC"),
        "{err}"
    );
    let (_, v) = s.get("/apis/smd/hsm/v2/State/Components").await;
    assert_eq!(v["Components"], serde_json::json!([]));
}

#[test]
fn serve_refuses_a_missing_or_bad_advertise_url() {
    for (args, needle) in [
        (
            vec!["serve", "--listen", "127.0.0.1:0"],
            "an advertise URL is required",
        ),
        (
            vec![
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--advertise-url",
                "10.0.0.1:8080",
            ],
            "advertise URL '10.0.0.1:8080' is not usable",
        ),
        (
            vec!["serve", "--listen", "127.0.0.1:0", "--advertise-url", ""],
            "an advertise URL is required",
        ),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_rackboot"))
            .args(&args)
            .env_remove("RACKBOOT_ADVERTISE_URL")
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
