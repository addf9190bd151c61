//! The CLI binary against a running appliance.

use std::process::Command;

use serde_json::Value;

use crate::common::{Server, poll};

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

/// Run the CLI against `base`; returns (success, stdout, stderr).
pub(crate) async fn rackboot(base: &str, args: &[&str]) -> (bool, String, String) {
    let base = base.to_string();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let o = Command::new(env!("CARGO_BIN_EXE_rackboot"))
            .args(&args)
            .env("RACKBOOT_URL", base)
            .output()
            .unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn bmc_add_then_power_on_status_and_off_by_group_and_all() {
    use redfish::sim::{SimBmc, SimConfig};
    // Under bmc_tls = verify, so that a BMC added without trust is refused (the default,
    // tofu, pins it: bmc_tls.rs).
    let _d = tempfile::tempdir().unwrap();
    let s = Server::start_in(
        _d.path(),
        rackboot::config::Settings {
            bmc_tls: Some(rackboot::config::BmcTls::Verify),
            ..crate::power::fast()
        },
    )
    .await;
    let bmc = SimBmc::start(SimConfig {
        systems: 3,
        tls: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let pin = bmc.cert_sha256().unwrap();

    // Without trust: refused, and told how to pin.
    let url = bmc.url();
    let (ok, out, err) = rackboot(
        &s.base,
        &[
            "bmc",
            "add",
            &url,
            "-u",
            "admin",
            "-p",
            "password",
            "--xname",
            "x3000c0s9b0",
        ],
    )
    .await;
    assert!(!ok, "{out}");
    assert!(
        err.contains("not trusted") && err.contains(&format!("--pin {pin}")),
        "{err}"
    );

    // Pinned: the nodes are listed.
    let (ok, out, err) = rackboot(
        &s.base,
        &[
            "bmc",
            "add",
            &url,
            "-u",
            "admin",
            "-p",
            "password",
            "--bmc-pin",
            &pin,
            "--xname",
            "x3000c0s8b0",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    for n in 0..3 {
        assert!(out.contains(&format!("x3000c0s8b0n{n}")), "{out}");
    }
    assert!(out.contains(&bmc.macs(2)[0]), "{out}");
    // Adding it again says how to rediscover.
    let (ok, _, err) = rackboot(
        &s.base,
        &[
            "bmc",
            "add",
            &url,
            "-u",
            "admin",
            "-p",
            "password",
            "--bmc-pin",
            &pin,
            "--xname",
            "x3000c0s8b0",
        ],
    )
    .await;
    assert!(
        !ok && err.contains("rackboot bmc discover x3000c0s8b0"),
        "{err}"
    );
    let (ok, out, err) = rackboot(&s.base, &["bmc", "list"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("x3000c0s8b0") && out.contains("DiscoverOK") && out.contains("HTTPsGetFailed"),
        "{out}"
    );
    let (ok, out, err) = rackboot(&s.base, &["bmc", "discover", "x3000c0s8b0"]).await;
    assert!(ok, "{out}{err}");

    // A group of two, then all three.
    let (st, v) = s
        .send(
            reqwest::Method::POST,
            "/apis/smd/hsm/v2/groups",
            serde_json::json!({"label": "pair", "members": {"ids": ["x3000c0s8b0n0", "x3000c0s8b0n1"]}}),
        )
        .await;
    assert_eq!(st, reqwest::StatusCode::CREATED, "{v}");
    let (ok, out, err) = rackboot(&s.base, &["power", "on", "pair", "--netboot"]).await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("Transition confirmed, on") && !out.contains("x3000c0s8b0n2"),
        "{out}"
    );
    assert_eq!(bmc.power_state(0), "On");
    assert_eq!(bmc.power_state(2), "Off");

    let (ok, out, err) = rackboot(&s.base, &["power", "status", "all"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("x3000c0s8b0n2"), "{out}");

    let (ok, out, err) = rackboot(
        &s.base,
        &["power", "--format", "json", "off", "--force", "all"],
    )
    .await;
    assert!(ok, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["transitionStatus"], "completed");
    assert_eq!(v["taskCounts"]["succeeded"], 3, "{v}");
    for i in 0..3 {
        assert_eq!(bmc.power_state(i), "Off");
    }

    // A failing node makes the command fail, with the BMC's reason in the table.
    bmc.set_unresponsive(true);
    let (ok, out, err) = rackboot(&s.base, &["power", "on", "x3000c0s8b0n1"]).await;
    assert!(!ok, "{out}");
    assert!(out.contains("did not answer"), "{out}");
    assert!(
        err.contains("1 of 1 nodes did not reach the requested state"),
        "{err}"
    );
    bmc.set_unresponsive(false);

    // Bad input: an unknown group, an unknown boot target.
    let (ok, _, err) = rackboot(&s.base, &["power", "on", "nosuchgroup"]).await;
    assert!(
        !ok && err.contains("'nosuchgroup' is neither an xname nor a known group"),
        "{err}"
    );
    let (ok, _, err) = rackboot(
        &s.base,
        &["power", "on", "x3000c0s8b0n0", "--boot-target", "Tape"],
    )
    .await;
    assert!(!ok && err.contains("unknown boot target 'Tape'"), "{err}");
    s.stop().await;
}

#[tokio::test]
async fn images_import_list_boot_and_delete() {
    let s = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let kernel: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.path().join("vmlinuz"), &kernel).unwrap();
    std::fs::write(dir.path().join("initrd.img"), b"initrd").unwrap();
    let k = dir.path().join("vmlinuz").to_str().unwrap().to_string();
    let i = dir.path().join("initrd.img").to_str().unwrap().to_string();
    let (ok, out, err) = rackboot(
        &s.base,
        &[
            "images",
            "import",
            "--name",
            "tiny-1",
            "--kernel",
            &k,
            "--initrd",
            &i,
            "--params",
            "console=ttyS0",
            "--quiet",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("s3://boot-images/tiny-1/manifest.json"),
        "{out}"
    );
    let (ok, out, _) = rackboot(&s.base, &["images", "list"]).await;
    assert!(
        ok && out.contains("tiny-1") && out.contains("kernel,initrd,boot_parameters"),
        "{out}"
    );
    // The manifest is IMS-shaped.
    let manifest = std::fs::read(
        s.data_dir
            .join("artifacts/boot-images/tiny-1/manifest.json"),
    )
    .unwrap();
    let m = rackboot::artifacts::manifest::parse("m", &manifest).unwrap();
    assert_eq!(m.kernel.path.to_string(), "s3://boot-images/tiny-1/kernel");
    assert!(m.initrd.is_some() && m.boot_parameters.is_some() && m.rootfs.is_none());

    // A node booting it gets the kernel through the proxy.
    s.add_node("x1c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:01")
        .await;
    let (st, _) = s
        .send(
            reqwest::Method::PUT,
            "/boot/v1/bootparameters",
            serde_json::json!({"hosts": ["x1c0s0b0n0"], "kernel": m.kernel.path.to_string(), "initrd": m.initrd.unwrap().path.to_string()}),
        )
        .await;
    assert_eq!(st, reqwest::StatusCode::OK);
    let (_, script) = s.get("/boot/v1/bootscript?mac=aa:bb:cc:00:00:01").await;
    let url = script
        .as_str()
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("kernel --name kernel "))
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .replace(crate::common::ADVERTISE, &s.base);
    let got = s.http.get(url).send().await.unwrap().bytes().await.unwrap();
    assert!(got.to_vec() == kernel);
    let (ok, out, err) = rackboot(&s.base, &["nodes", "timeline", "x1c0s0b0n0"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("bootscript") && out.contains("kernel") && out.contains("3000000"),
        "{out}"
    );

    // Bad input: a missing file sends nothing; an unknown image.
    let (ok, _, err) = rackboot(
        &s.base,
        &[
            "images",
            "import",
            "--name",
            "x",
            "--kernel",
            "/nonexistent/k",
        ],
    )
    .await;
    assert!(
        !ok && err.contains("--kernel /nonexistent/k: cannot read it"),
        "{err}"
    );
    let (ok, _, err) = rackboot(&s.base, &["images", "delete", "nope"]).await;
    assert!(!ok && err.contains("no such image: nope"), "{err}");
    let (ok, _, err) = rackboot(
        &s.base,
        &["images", "import", "--name", "../x", "--kernel", &k],
    )
    .await;
    assert!(!ok && err.contains("invalid image name"), "{err}");

    let (ok, out, err) = rackboot(&s.base, &["images", "delete", "tiny-1"]).await;
    assert!(ok, "{out}{err}");
    let (_, out, _) = rackboot(&s.base, &["images", "list"]).await;
    assert!(!out.contains("tiny-1"), "{out}");
    s.stop().await;
}

#[tokio::test]
async fn cli_demo_runs_boot_reboot_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rackboot"))
        .args(["demo", "--nodes", "3"])
        .env_remove("RACKBOOT_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let exited = poll(std::time::Duration::from_secs(120), async || {
        child.try_wait().unwrap().ok_or(())
    })
    .await;
    let Ok(status) = exited else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "rackboot demo did not finish within 120 s\n{}{}",
            std::fs::read_to_string(&out_path).unwrap(),
            std::fs::read_to_string(&err_path).unwrap()
        );
    };
    let out = std::fs::read_to_string(&out_path).unwrap();
    let err = std::fs::read_to_string(&err_path).unwrap();
    assert!(status.success(), "{status}\n{out}{err}");
    for op in ["boot", "reboot", "shutdown"] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{op} session "))
                && l.contains(" complete in ")
                && l.ends_with(": 3 successful, 0 failed")),
            "no completed {op} session with 3 successful nodes in:\n{out}{err}"
        );
    }
    assert!(out.contains("discovered 3 nodes"), "{out}");
    assert!(
        out.contains("boot, reboot and shutdown of 3 nodes succeeded"),
        "{out}"
    );
    // The node table: every node off after the shutdown, booted twice, and configured (by
    // itself, through the built-in CFS) after each boot.
    let rows: Vec<&str> = out.lines().filter(|l| l.contains("c0s")).collect();
    assert_eq!(rows.len(), 3, "{out}");
    for r in rows {
        assert!(
            r.contains(" off ") && r.contains(" 2 ") && r.contains(" configured "),
            "{r}\n{out}"
        );
    }
}
