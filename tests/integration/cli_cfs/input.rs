//! Bad `rackboot cfs` input refused before any request, and the CLI's own parsing of layers,
//! tags, configuration bodies and `next` queries.

use serde_json::json;

use crate::cli::rackboot;
use rackboot::cli::cfs::{Layer, configuration_body, parse_layer, parse_tag};
use rackboot::model::cfs::next_query;

use super::{A, NOWHERE};

#[tokio::test]
async fn cli_cfs_bad_input_fails_before_any_request() {
    // Each of these must fail on its own, without reaching the (absent) server.
    fn layer(l: &str) -> Vec<&str> {
        vec!["cfs", "configurations", "create", "c", "--layer", l]
    }
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (layer("nonsense"), "'nonsense' is not KEY=VALUE"),
        (
            layer("clone_url=u,playbook=p"),
            "commit (or branch) is missing",
        ),
        (layer("playbook=p,commit=c"), "clone_url is missing"),
        (
            layer("clone_url=u,playbook=p,commit=c,colour=red"),
            "unknown key 'colour'",
        ),
        (
            layer("clone_url=u,playbook=p,commit=c,commit=d"),
            "commit is given more than once",
        ),
        (
            layer("clone_url=,playbook=p,commit=c"),
            "clone_url is empty",
        ),
        (
            vec![
                "cfs",
                "configurations",
                "create",
                "c",
                "--file",
                "/nonexistent/cfg.json",
            ],
            "cannot read /nonexistent/cfg.json",
        ),
        (
            vec!["cfs", "configurations", "create", "c"],
            "--file <FILE>",
        ),
        (
            vec![
                "cfs",
                "configurations",
                "create",
                "c",
                "--file",
                "f.json",
                "--layer",
                "clone_url=u,playbook=p,commit=c",
            ],
            "cannot be used with",
        ),
        (
            vec!["cfs", "components", "list", "--status", "pending,done"],
            "invalid value 'done'",
        ),
        (
            vec!["cfs", "components", "list", "--tags", "role"],
            "'role' is not a tag KEY=VALUE",
        ),
        (
            vec!["cfs", "configurations", "list", "--in-use", "maybe"],
            "invalid value 'maybe'",
        ),
    ];
    for (args, needle) in cases {
        let (ok, out, err) = rackboot(NOWHERE, &args).await;
        assert!(!ok, "{args:?} succeeded: {out}");
        assert!(
            err.contains(needle) && !err.contains("cannot reach"),
            "{args:?}: want {needle:?} in\n{err}"
        );
    }
    // A file that is not JSON, and one that is not an object.
    let dir = tempfile::tempdir().unwrap();
    for (name, text, needle) in [
        ("bad.json", "{\"layers\": [", "not valid JSON"),
        ("list.json", "[1, 2]", "expected a JSON or YAML object"),
    ] {
        let f = dir.path().join(name);
        std::fs::write(&f, text).unwrap();
        let (ok, _, err) = rackboot(
            NOWHERE,
            &[
                "cfs",
                "configurations",
                "create",
                "c",
                "--file",
                f.to_str().unwrap(),
            ],
        )
        .await;
        assert!(
            !ok && err.contains(needle) && !err.contains("cannot reach"),
            "{err}"
        );
    }
    // And a good command does try the server.
    let (ok, _, err) = rackboot(NOWHERE, &["cfs", "components", "list"]).await;
    assert!(!ok && err.contains("cannot reach rackboot"), "{err}");
}

#[test]
fn cli_cfs_layers_parse_in_any_order_and_only_well_formed() {
    assert_eq!(
        parse_layer(&format!(
            " playbook=site.yml , commit={A},clone_url=https://g/a.git?x=1,name=n,"
        ))
        .unwrap(),
        Layer {
            name: Some("n".into()),
            clone_url: "https://g/a.git?x=1".into(),
            playbook: "site.yml".into(),
            commit: Some(A.into()),
            branch: None,
        }
    );
    let l = parse_layer("clone_url=u,playbook=p,branch=main").unwrap();
    assert_eq!((l.commit, l.branch.as_deref()), (None, Some("main")));
    // Commit and branch together, or a bad commit, are the server's to refuse.
    assert!(parse_layer("clone_url=u,playbook=p,branch=b,commit=c").is_ok());
    for bad in [
        "",
        "clone_url=u",
        "clone_url=u,playbook=p,commit",
        "clone_url=u,playbook=p,commit=",
        "clone_url=u,playbook=p,commit=c,source=s",
        "clone_url=u,clone_url=v,playbook=p,commit=c",
    ] {
        assert!(parse_layer(bad).is_err(), "{bad:?} parsed");
    }
    assert_eq!(parse_tag("a=1").unwrap(), ("a".into(), "1".into()));
    assert!(parse_tag("a").is_err());
    assert!(parse_tag("=1").is_err());
    assert!(parse_tag("a=1=2").is_err());
}

#[test]
fn cli_cfs_bodies_and_next_pages() {
    let layers = vec![parse_layer(&format!("clone_url=u,playbook=p,commit={A}")).unwrap()];
    assert_eq!(
        configuration_body(None, &layers, Some("d".into())).unwrap(),
        json!({"layers": [{"clone_url": "u", "playbook": "p", "commit": A}], "description": "d"})
    );
    let got = json!({"name": "x", "last_updated": "t", "layers": [], "description": "old"});
    assert_eq!(
        configuration_body(Some(got.clone()), &[], None).unwrap(),
        json!({"layers": [], "description": "old"})
    );
    assert!(configuration_body(Some(got), &layers, None).is_err());
    assert!(configuration_body(Some(json!([])), &[], None).is_err());
    assert!(configuration_body(None, &[], None).is_err());
    let next = json!({"limit": 1000, "after_id": "x1", "enabled": "false", "gone": null});
    let mut q = next_query(next.as_object().unwrap());
    q.sort();
    assert_eq!(
        q,
        [
            ("after_id".to_string(), "x1".to_string()),
            ("enabled".to_string(), "false".to_string()),
            ("limit".to_string(), "1000".to_string()),
        ]
    );
}
