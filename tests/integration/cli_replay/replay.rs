//! The whole capture, in order, against one appliance: four simulated nodes named as the
//! capture names them (`x3000c0s0b0n0` … `x3000c0s3b0n0`, the first one's MAC
//! `02:00:00:00:00:00`), the capture's image `demo-image`, a local git repository with a
//! `main` branch for `file:///srv/git/site-config.git`, and a spare TLS SimBmc for
//! `BMC_HOST:PORT`. Every problem is collected and reported together.

use std::path::Path;

use redfish::sim::{SimBmc, SimConfig};

use super::{Answer, CONTRACTS, Replayer, capture, expect, spec};
use crate::bos::{Lab, put_image};

/// A git repository with one commit on `main`; its `file://` URL.
pub fn site_config_repo(dir: &Path) -> String {
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("site.yaml"), "- hosts: all\n").unwrap();
    git(&["add", "site.yaml"]);
    git(&["commit", "-q", "-m", "site"]);
    format!("file://{}", dir.display())
}

/// The lab the capture was taken against: four nodes, the image, names the capture uses.
pub async fn capture_lab() -> Lab {
    capture_lab_with(crate::bos::quick()).await
}

pub async fn capture_lab_with(settings: rackboot::config::Settings) -> Lab {
    let lab = Lab::start_with(4, settings, redfish::sim::SimConfig::default()).await;
    assert_eq!(
        lab.xnames,
        [
            "x3000c0s0b0n0",
            "x3000c0s1b0n0",
            "x3000c0s2b0n0",
            "x3000c0s3b0n0"
        ]
    );
    assert_eq!(lab.fleet.bmcs()[0].macs(0), ["02:00:00:00:00:00"]);
    let path = put_image(&lab.s, "demo-image");
    assert_eq!(path, "s3://boot-images/demo-image/manifest.json");
    lab
}

#[tokio::test]
async fn cli_replay_every_recorded_request_in_order() {
    let lab = capture_lab().await;
    replay_all(&lab).await;
    lab.s.stop().await;
}

/// `cray init --hostname https://…`, `cray auth login`, then every recorded command, as the
/// CLI runs them against a real appliance: HTTPS, authentication on. The login is the
/// exchange the CLI makes (Keycloak's token endpoint, client `shasta`: the password grant,
/// then the refresh grant it makes when the access token ages), and every later request
/// carries `Authorization: Bearer` with the refreshed access token.
#[tokio::test]
async fn cli_replay_over_https_after_cray_auth_login() {
    let mut lab = capture_lab_with(crate::bos::quick().or(crate::common::secure_settings())).await;
    let sec = lab.s.secure.clone().expect("the secure shape");
    let (st, v) = lab
        .s
        .send(
            reqwest::Method::POST,
            "/apis/rackboot/v1/users",
            serde_json::json!({"name": "cray-admin", "role": "admin", "password": "a long cray password"}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let anon = crate::common::pinned_client(&sec.pin);
    let token_url = lab
        .s
        .url("/keycloak/realms/shasta/protocol/openid-connect/token");
    let grant = |form: Vec<(&'static str, String)>| {
        let (anon, url) = (anon.clone(), token_url.clone());
        async move {
            let resp = anon.post(url).form(&form).send().await.unwrap();
            let status = resp.status();
            (status, resp.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (st, login) = grant(vec![
        ("grant_type", "password".into()),
        ("client_id", "shasta".into()),
        ("username", "cray-admin".into()),
        ("password", "a long cray password".into()),
    ])
    .await;
    assert_eq!(st, 200, "{login}");
    assert_eq!(login["token_type"], "Bearer", "{login}");
    assert!(
        login["expires_in"].as_i64().is_some_and(|s| s > 0),
        "{login}"
    );
    let (st, refreshed) = grant(vec![
        ("grant_type", "refresh_token".into()),
        ("client_id", "shasta".into()),
        (
            "refresh_token",
            login["refresh_token"].as_str().unwrap().into(),
        ),
    ])
    .await;
    assert_eq!(st, 200, "{refreshed}");
    let access = refreshed["access_token"].as_str().unwrap();
    assert_ne!(access, login["access_token"].as_str().unwrap());
    // Wrong password and an unknown client: OAuth2's answers.
    let (st, bad) = grant(vec![
        ("grant_type", "password".into()),
        ("client_id", "shasta".into()),
        ("username", "cray-admin".into()),
        ("password", "wrong".into()),
    ])
    .await;
    assert_eq!(
        (st.as_u16(), bad["error"].as_str()),
        (401, Some("invalid_grant")),
        "{bad}"
    );
    let (st, bad) = grant(vec![
        ("grant_type", "password".into()),
        ("client_id", "other".into()),
        ("username", "cray-admin".into()),
        ("password", "a long cray password".into()),
    ])
    .await;
    assert_eq!(
        (st.as_u16(), bad["error"].as_str()),
        (401, Some("invalid_client")),
        "{bad}"
    );

    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {access}").parse().unwrap(),
    );
    lab.s.http = reqwest::Client::builder()
        .tls_backend_preconfigured(redfish::tls::pinned_config(&sec.pin))
        .default_headers(headers)
        .build()
        .unwrap();
    replay_all(&lab).await;
    lab.s.stop().await;
}

/// Replay the whole capture against `lab` and fail with every problem found.
async fn replay_all(lab: &Lab) {
    let repo = tempfile::tempdir().unwrap();
    let spare = SimBmc::start(SimConfig {
        tls: true,
        mac_seed: 0x1000,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut r = Replayer::new(&lab.s);
    r.name(
        "file:///srv/git/site-config.git",
        &site_config_repo(repo.path()),
    );
    r.name("BMC_HOST:PORT", &spare.addr().to_string());

    let mut problems = Vec::new();
    let mut answered = 0;
    for e in capture() {
        let answers = r.run(e, &mut problems).await;
        answered += answers.len();
        for (command, holds, what) in OUTCOMES {
            if e.command == *command && !holds(&answers[0]) {
                problems.push(format!("`{command}`: {what}: {:?}", answers[0]));
            }
        }
        // The transition IDs the capture's appliance returned, as this one returned them.
        for (command, recorded) in RECORDED_IDS {
            if e.command == *command
                && let Some(id) = answers[0].body["transitionID"].as_str()
            {
                r.name(recorded, id);
            }
        }
    }
    assert_eq!(answered, 78, "one request per command");
    let (mut problems, stale) = expect::triage(problems);
    problems.extend(stale);
    assert!(
        problems.is_empty(),
        "{} problems replaying the cray CLI's requests:\n  - {}",
        problems.len(),
        problems.join("\n  - ")
    );
}

type Outcome = (&'static str, fn(&Answer) -> bool, &'static str);

/// What some answers must say beyond matching the contract (the last answer of a polled one).
const OUTCOMES: &[Outcome] = &[
    (
        "cray cfs v3 configurations update T-branch --file configuration-branch.json --format json",
        |a| {
            a.body["layers"][0]["commit"]
                .as_str()
                .is_some_and(|c| c.len() == 40)
        },
        "the branch resolved to a commit",
    ),
    (
        "cray bos v2 sessions describe T-shutdown --format json",
        |a| a.body["status"]["status"] == "complete",
        "the session completed",
    ),
    (
        "cray bss bootparameters list --hosts x7301c0s1b0n0 --format json",
        |a| {
            a.body.as_array().is_some_and(|l| l.len() == 1)
                && a.body[0]["hosts"] == serde_json::json!(["x7301c0s1b0n0"])
                && a.body[0]["params"] == "console=ttyS0 craycli=create"
        },
        "the GET's JSON body names the one host (the CLI sends no query)",
    ),
    (
        "cray hsm state components describe x8697c0s22b0n0 --format json",
        |a| a.body["State"] == "Off" && a.body["NID"] == 226021 && a.body["Role"] == "Compute",
        "the component as created",
    ),
    (
        "cray bos v2 options update --default-retry-policy 4 --format json",
        |a| a.body["default_retry_policy"] == 4,
        "the option changed",
    ),
    (
        "cray bss bootscript list --mac 02:00:00:00:00:00",
        |a| a.body.as_str().is_some_and(|t| t.starts_with("#!ipxe")),
        "an iPXE script for the first node",
    ),
    (
        "cray hsm groups describe T --format json",
        |a| a.body["members"]["ids"] == serde_json::json!(["x3000c0s0b0n0", "x3000c0s1b0n0"]),
        "the group has the two members",
    ),
    (
        "cray power transition describe fb929a28-369c-4c93-acab-c1714a978acd --format json",
        |a| a.body["transitionStatus"] == "completed" && a.body["taskCounts"]["succeeded"] == 2,
        "the transition on completed for both nodes",
    ),
    (
        "cray power transition describe 4a316c00-d428-41ee-bcf4-4e51e3333ef1 --format json",
        |a| a.body["transitionStatus"] == "completed" && a.body["taskCounts"]["succeeded"] == 2,
        "the transition off completed for both nodes",
    ),
    (
        "cray power status list --xnames x3000c0s0b0n0 --powerfilter off --format json",
        |a| a.body["status"][0]["powerState"] == "off",
        "the node is off after the transition off",
    ),
    (
        "cray capmc xname_on create --xnames x3000c0s0b0n0 --format json",
        |a| a.body["e"] == 0,
        "CAPMC powered the node on",
    ),
    (
        "cray capmc get_xname_status create --xnames x3000c0s0b0n0 --format json",
        |a| a.body["on"] == serde_json::json!(["x3000c0s0b0n0"]),
        "CAPMC reports the node on",
    ),
];

/// (command that returned an ID, the ID the capture's later commands use for it).
const RECORDED_IDS: &[(&str, &str)] = &[
    (
        "cray power transition on --xnames x3000c0s0b0n0,x3000c0s1b0n0 --format json",
        "fb929a28-369c-4c93-acab-c1714a978acd",
    ),
    (
        "cray power transition off --xnames x3000c0s0b0n0,x3000c0s1b0n0 --format json",
        "4a316c00-d428-41ee-bcf4-4e51e3333ef1",
    ),
];

/// The lists in `expect.rs` name commands the capture has, and every request falls under a
/// contract or a list of what is not served: nothing is skipped for want of a spec.
#[test]
fn cli_replay_every_request_has_a_contract_or_a_reason() {
    let commands: Vec<&str> = capture().iter().map(|e| e.command.as_str()).collect();
    assert_eq!(commands.len(), 78);
    for (c, _, _) in expect::EXPECTED_FAILURES {
        assert!(
            commands.contains(c),
            "expect.rs lists {c:?}, not in the capture"
        );
    }
    for (c, _, _) in expect::KNOWN {
        assert!(
            commands.contains(c),
            "expect.rs lists {c:?}, not in the capture"
        );
    }
    for (c, _, _) in OUTCOMES {
        assert!(commands.contains(c), "{c:?} is not in the capture");
    }
    for (c, _) in RECORDED_IDS {
        assert!(commands.contains(c), "{c:?} is not in the capture");
    }
    for e in capture() {
        // The README's versions: v1 commands only from the last CLI that had them.
        let v1 = e
            .requests
            .iter()
            .any(|r| r.path.starts_with("/apis/bos/v1/"));
        let want = if v1 {
            "craycli v0.82.19"
        } else {
            "craycli 0.99.0"
        };
        assert!(e.cli.starts_with(want), "`{}`: {}", e.command, e.cli);
        for req in &e.requests {
            let covered = CONTRACTS.iter().any(|(p, _)| req.path.starts_with(p));
            assert!(
                covered || expect::unserved(&req.path).is_some(),
                "`{}`: no contract and no reason for {} {}",
                e.command,
                req.method,
                req.path
            );
        }
    }
}

/// The specs this replay adds to the suite are understood completely by the checker
/// (Swagger 2.0 ones read as OpenAPI 3.0).
#[test]
fn cli_replay_specs_are_fully_understood() {
    for file in [
        "bss-cray-hpe-swagger.yaml",
        "hsm-smd-cray-hpe-swagger_v2.yaml",
        "pcs-swagger.yaml",
        "capmc-swagger.yaml",
    ] {
        let problems = spec(file).self_check();
        assert!(problems.is_empty(), "{file}:\n{}", problems.join("\n"));
    }
}
