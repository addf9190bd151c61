//! `rackboot bos v1 …` against a live appliance with simulated nodes: a v1 template from a
//! file, a Boot session followed with `--watch` to the end, the status tree, and the exit
//! codes.

use serde_json::{Value, json};

use crate::bos::{Lab, put_image};
use crate::cli::rackboot;

#[tokio::test]
async fn cli_bos_v1_template_session_watch_and_status_tree() {
    let lab = Lab::start(2).await;
    let base = lab.s.base.clone();
    let path = put_image(&lab.s, "demo-image");
    let file = lab.s.data_dir.join("t.json");
    let t = json!({"enable_cfs": false, "boot_sets": {"compute": {"type": "s3", "path": path,
        "node_list": lab.xnames, "boot_ordinal": 1, "network": "nmn"}}});
    std::fs::write(&file, t.to_string()).unwrap();
    let f = file.to_str().unwrap();
    let (ok, out, err) = rackboot(
        &base,
        &[
            "bos",
            "v1",
            "sessiontemplate",
            "create",
            "--name",
            "v1t",
            "--file",
            f,
        ],
    )
    .await;
    assert!(
        ok && out.contains("session template v1t created"),
        "{out}{err}"
    );
    let (ok, out, _) = rackboot(&base, &["bos", "v1", "sessiontemplate", "list"]).await;
    assert!(ok && out.contains("v1t"), "{out}");
    // `Boot` as the cray CLI spells it; watched to the end, then the tree.
    let (ok, out, err) = rackboot(
        &base,
        &[
            "bos",
            "v1",
            "session",
            "create",
            "--template-uuid",
            "v1t",
            "--operation",
            "Boot",
            "--watch",
            "--interval",
            "0.2",
        ],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("complete") && out.contains("SUCCEEDED"),
        "{out}"
    );
    let (ok, out, _) = rackboot(&base, &["bos", "v1", "session", "list", "--format", "json"]).await;
    assert!(ok, "{out}");
    let ids: Value = serde_json::from_str(&out).unwrap();
    let id = ids[0].as_str().unwrap().to_string();
    let (ok, out, _) = rackboot(&base, &["bos", "v1", "session", "describe", &id]).await;
    assert!(ok && out.contains("v1t") && out.contains("true"), "{out}");
    let (ok, out, _) = rackboot(
        &base,
        &[
            "bos",
            "v1",
            "session",
            "status",
            &id,
            "compute",
            "boot",
            "succeeded",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(ok, "{out}");
    let c: Value = serde_json::from_str(&out).unwrap();
    let mut nodes: Vec<String> = serde_json::from_value(c["node_list"].clone()).unwrap();
    nodes.sort();
    assert_eq!(nodes, lab.xnames);
    let (ok, out, _) = rackboot(
        &base,
        &[
            "bos",
            "v1",
            "session",
            "status",
            &id,
            "--watch",
            "--interval",
            "0.2",
        ],
    )
    .await;
    assert!(ok && out.contains("compute"), "{out}");
    // An unknown template: non-zero, with the server's words.
    let (ok, out, err) = rackboot(
        &base,
        &[
            "bos",
            "v1",
            "session",
            "create",
            "--template-name",
            "nope",
            "--operation",
            "configure",
        ],
    )
    .await;
    assert!(
        !ok && err.contains("Session template 'nope' does not exist"),
        "{out}{err}"
    );
}
