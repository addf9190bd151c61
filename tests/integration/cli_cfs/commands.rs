//! `rackboot cfs configurations …` and `components …` against the appliance: create, show,
//! update and delete, and layers given by branch (resolved, or dropped).

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::cli::rackboot;
use crate::common::Server;

use super::{A, B, N0, N1, json_out};

#[tokio::test]
async fn cli_cfs_configurations_and_components() {
    let s = Server::start().await;
    let base = s.base.clone();
    let l0 = format!("clone_url=https://git.lab/site.git,playbook=site.yml,commit={A},name=site");
    let l1 = format!("playbook=ncn.yml,commit={B},clone_url=https://git.lab/ncn.git");

    // Create with two layers: the stored configuration, layers in order.
    let (ok, out, err) = rackboot(
        &base,
        &[
            "cfs",
            "configurations",
            "create",
            "cfgname",
            "--layer",
            &l0,
            "--layer",
            &l1,
            "--description",
            "compute nodes",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("configuration cfgname: compute nodes"),
        "{out}"
    );
    for want in [
        "site",
        "https://git.lab/site.git",
        "site.yml",
        A,
        "ncn.yml",
        B,
    ] {
        assert!(out.contains(want), "{want} missing from\n{out}");
    }
    let (ok, out, err) = rackboot(
        &base,
        &[
            "cfs",
            "configurations",
            "get",
            "cfgname",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    let v = json_out(&out);
    assert_eq!(v["name"], "cfgname", "{v:#}");
    assert_eq!(v["description"], "compute nodes", "{v:#}");
    assert!(!v["last_updated"].as_str().unwrap().is_empty(), "{v:#}");
    assert_eq!(
        v["layers"],
        json!([
            {"name": "site", "clone_url": "https://git.lab/site.git", "playbook": "site.yml", "commit": A},
            {"clone_url": "https://git.lab/ncn.git", "playbook": "ncn.yml", "commit": B},
        ]),
        "{v:#}"
    );
    let (ok, out, _) = rackboot(&base, &["cfs", "configurations", "get", "cfgname"]).await;
    assert!(
        ok && out.contains("ncn.yml") && out.contains("last updated"),
        "{out}"
    );

    // Create from a file (`get --format json` output, renamed): read-only fields dropped.
    let file = s.data_dir.join("other.json");
    std::fs::write(&file, serde_json::to_string(&v).unwrap()).unwrap();
    let (ok, out, err) = rackboot(
        &base,
        &[
            "cfs",
            "configurations",
            "create",
            "other",
            "--file",
            file.to_str().unwrap(),
            "--description",
            "from a file",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    let o = json_out(&out);
    assert_eq!(o["name"], "other", "{o:#}");
    assert_eq!(o["description"], "from a file", "{o:#}");
    assert_eq!(o["layers"], v["layers"], "{o:#}");

    // List: both; JSON is one document with every item and no next page.
    let (ok, out, _) = rackboot(&base, &["cfs", "configurations", "list"]).await;
    assert!(
        ok && out.contains("cfgname") && out.contains("other") && out.contains("compute nodes"),
        "{out}"
    );
    let (ok, out, _) = rackboot(
        &base,
        &["cfs", "configurations", "list", "--format", "json"],
    )
    .await;
    assert!(ok, "{out}");
    let l = json_out(&out);
    let names: Vec<&str> = l["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cfgname", "other"], "{l:#}");
    assert_eq!(l["next"], Value::Null);

    // A malformed commit is the server's call: its detail names the field; non-zero exit.
    let (ok, out, err) = rackboot(
        &base,
        &[
            "cfs",
            "configurations",
            "create",
            "bad",
            "--layer",
            "clone_url=https://git.lab/site.git,playbook=site.yml,commit=abc123",
        ],
    )
    .await;
    assert!(!ok, "{out}{err}");
    assert!(
        err.contains("400") && err.contains("layers[0].commit") && err.contains("abc123"),
        "{err}"
    );
    let (ok, _, err) = rackboot(&base, &["cfs", "configurations", "get", "bad"]).await;
    assert!(
        !ok && err.contains("404") && err.contains("Configuration bad could not be found"),
        "{err}"
    );

    // Components, as the BOS handoff writes them.
    let (st, body) = s
        .send(
            Method::PUT,
            "/apis/cfs/v3/components",
            json!([
                {"id": N0, "desired_config": "cfgname", "tags": {"role": "compute"}},
                {"id": N1, "desired_config": "cfgname", "enabled": false},
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (ok, out, err) = rackboot(&base, &["cfs", "components", "list"]).await;
    assert!(ok, "{out}{err}");
    for want in [
        N0,
        N1,
        "cfgname",
        "pending",
        "DESIRED CONFIG",
        "ERROR COUNT",
    ] {
        assert!(out.contains(want), "{want} missing from\n{out}");
    }
    let ids = |out: &str| -> Vec<String> {
        json_out(out)["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    let both = format!("{N1},{N0}");
    for (args, want) in [
        (vec!["--enabled", "false"], vec![N1]),
        (vec!["--tags", "role=compute"], vec![N0]),
        (vec!["--ids", &both], vec![N0, N1]),
        (
            vec!["--status", "pending,failed", "--config-name", "cfgname"],
            vec![N0, N1],
        ),
        (vec!["--status", "configured"], vec![]),
        (vec!["--config-name", "other"], vec![]),
    ] {
        let mut full = vec!["cfs", "components", "list", "--format", "json"];
        full.extend(args.iter().copied());
        let (ok, out, err) = rackboot(&base, &full).await;
        assert!(ok, "{args:?}: {out}{err}");
        assert_eq!(ids(&out), want, "{args:?}");
    }
    // Used configurations, now that components want one.
    let (ok, out, _) = rackboot(
        &base,
        &["cfs", "configurations", "list", "--in-use", "true"],
    )
    .await;
    assert!(
        ok && out.contains("cfgname") && !out.contains("other"),
        "{out}"
    );
    let (ok, out, _) = rackboot(
        &base,
        &["cfs", "configurations", "list", "--in-use", "false"],
    )
    .await;
    assert!(
        ok && !out.contains("cfgname") && out.contains("other"),
        "{out}"
    );

    // A node reports its first layer: `get` shows it only when asked.
    let (st, body) = s
        .send(
            Method::PATCH,
            &format!("/apis/cfs/v3/components/{N0}"),
            json!({"state_append": {
                "clone_url": "https://git.lab/site.git", "playbook": "site.yml",
                "commit": A, "status": "applied", "session_name": "batcher-1"
            }}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (ok, out, err) = rackboot(&base, &["cfs", "components", "get", N0]).await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("pending") && out.contains("role=compute") && !out.contains("site.yml"),
        "{out}"
    );
    let (ok, out, err) =
        rackboot(&base, &["cfs", "components", "get", N0, "--state-details"]).await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("applied layers")
            && out.contains("site.yml")
            && out.contains("applied")
            && out.contains("batcher-1")
            && !out.contains("ncn.yml"),
        "{out}"
    );
    let (ok, out, err) = rackboot(
        &base,
        &[
            "cfs",
            "components",
            "get",
            N0,
            "--state-details",
            "--config-details",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    let c = json_out(&out);
    assert_eq!(c["state"][0]["commit"], A, "{c:#}");
    assert_eq!(c["desired_state"][0]["status"], "configured", "{c:#}");
    assert_eq!(c["desired_state"][1]["status"], "pending", "{c:#}");
    let (ok, out, _) = rackboot(&base, &["cfs", "components", "get", N0, "--config-details"]).await;
    assert!(
        ok && out.contains("desired layers") && out.contains("ncn.yml"),
        "{out}"
    );
    let (ok, _, err) = rackboot(&base, &["cfs", "components", "get", "x9c0s0b0n0"]).await;
    assert!(
        !ok && err.contains("Component x9c0s0b0n0 could not be found"),
        "{err}"
    );

    // Delete: refused while a component wants it, then allowed.
    let (ok, out, err) = rackboot(&base, &["cfs", "configurations", "delete", "cfgname"]).await;
    assert!(!ok, "{out}{err}");
    assert!(
        err.contains("400") && err.contains("in use") && err.contains(N0) && err.contains(N1),
        "{err}"
    );
    for id in [N0, N1] {
        let (st, body) = s
            .send(
                Method::PATCH,
                &format!("/apis/cfs/v3/components/{id}"),
                json!({"desired_config": ""}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
    }
    let (ok, out, err) = rackboot(&base, &["cfs", "configurations", "delete", "cfgname"]).await;
    assert!(
        ok && out.contains("configuration cfgname deleted"),
        "{out}{err}"
    );
    let (ok, _, err) = rackboot(&base, &["cfs", "configurations", "get", "cfgname"]).await;
    assert!(!ok && err.contains("404"), "{err}");
    let (ok, _, err) = rackboot(&base, &["cfs", "configurations", "delete", "cfgname"]).await;
    assert!(!ok && err.contains("could not be found"), "{err}");
}

/// A git repository with one commit on `main`; returns that commit.
fn git_repo(dir: &Path) -> String {
    let git = |args: &[&str]| {
        let o = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@lab", "-C"])
            .arg(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {o:?}");
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["commit", "-q", "--allow-empty", "-m", "site"]);
    git(&["rev-parse", "HEAD"])
}

#[tokio::test]
async fn cli_cfs_branches_resolve_and_may_be_dropped() {
    let s = Server::start().await;
    let repo = tempfile::tempdir().unwrap();
    let head = git_repo(repo.path());
    let url = repo.path().to_str().unwrap().to_string();
    let layer = format!("clone_url={url},playbook=site.yml,branch=main");
    for (name, drop, branch) in [("keep", false, json!("main")), ("drop", true, Value::Null)] {
        let mut args = vec![
            "cfs",
            "configurations",
            "create",
            name,
            "--layer",
            &layer,
            "--format",
            "json",
        ];
        if drop {
            args.push("--drop-branches");
        }
        let (ok, out, err) = rackboot(&s.base, &args).await;
        assert!(ok, "{out}{err}");
        let v = json_out(&out);
        assert_eq!(v["layers"][0]["commit"], head.as_str(), "{v:#}");
        assert_eq!(v["layers"][0]["branch"], branch, "{v:#}");
    }
    let (ok, out, _) = rackboot(&s.base, &["cfs", "configurations", "get", "keep"]).await;
    assert!(ok && out.contains("BRANCH") && out.contains(&head), "{out}");
    // A branch that does not exist: the server names the field.
    let (ok, _, err) = rackboot(
        &s.base,
        &[
            "cfs",
            "configurations",
            "create",
            "nobranch",
            "--layer",
            &format!("clone_url={url},playbook=site.yml,branch=nope"),
        ],
    )
    .await;
    assert!(!ok && err.contains("layers[0].branch"), "{err}");
}
