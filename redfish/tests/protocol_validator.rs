//! DMTF's Redfish Protocol Validator (PyPI `redfish-protocol-validator`, pinned and installed
//! into `.peers/venv` by `scripts/peers.sh`) run against SimBmc over HTTPS with a self-signed
//! certificate (handed to the validator as its CA bundle) and Basic credentials.
//!
//! The validator's failures that are left are listed, each with its reason, in the table of
//! `redfish/src/sim/README.md` ("Protocol validator: failures left"); this test fails when a
//! failure appears that the table does not list, and when a listed one no longer happens (so
//! the table stays true). Its SSDP checks are left out of the run: they multicast M-SEARCH
//! beyond loopback, which a test here must never do, and SimBmc does not speak SSDP.

#![cfg(feature = "sim")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use redfish::sim::{SimBmc, SimConfig};

/// Runs the validator's own `main()` with its SSDP discovery replaced by a no-op.
const WRAPPER: &str = "\
import sys
import redfish_protocol_validator.service_details as sd
sd.test_discovery = lambda sut: None
from redfish_protocol_validator.console_scripts import main
sys.argv = ['rf_protocol_validator'] + sys.argv[1:]
main()
";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("redfish/ has a parent")
        .to_path_buf()
}

/// One failure: (assertion, method, URI). The status code and message are left out so that
/// a failure stays the same failure when its wording changes.
type Failure = (String, String, String);

/// The FAIL rows of the validator's TSV report.
fn failures(tsv: &str) -> BTreeSet<Failure> {
    tsv.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (cols.len() > 4 && cols[4] == "FAIL")
                .then(|| (cols[0].into(), cols[1].into(), cols[3].into()))
        })
        .collect()
}

/// The rows of the README's table of failures left: `| ASSERTION | METHOD | URI | reason |`.
fn listed(readme: &str) -> BTreeSet<Failure> {
    let Some((_, table)) = readme.split_once("<!-- validator-failures -->") else {
        return BTreeSet::new();
    };
    table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .filter_map(|l| {
            let cols: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let unquote = |s: &str| s.trim_matches('`').to_string();
            (cols.len() >= 4).then(|| (unquote(cols[0]), unquote(cols[1]), unquote(cols[2])))
        })
        .collect()
}

async fn run_validator(bmc: &SimBmc, dir: &Path) -> (BTreeSet<Failure>, String) {
    let python = repo_root().join(".peers/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/peers.sh",
        python.display()
    );
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, bmc.cert_pem().expect("an HTTPS SimBmc")).unwrap();
    let reports = dir.join("reports");
    let args: Vec<String> = vec![
        "-c".into(),
        WRAPPER.into(),
        "--rhost".into(),
        bmc.url(),
        "--user".into(),
        "admin".into(),
        "--password".into(),
        "password".into(),
        "--ca-bundle".into(),
        ca.display().to_string(),
        "--report-type".into(),
        "tsv".into(),
        "--report-dir".into(),
        reports.display().to_string(),
        // The validator also tries plain HTTP on the HTTPS port to provoke a redirect.
        "--avoid-http-redirect".into(),
    ];
    let cwd = dir.to_path_buf();
    let ca_env = ca.clone();
    let out = tokio::task::spawn_blocking(move || {
        // requests lets these variables win over the session's own CA bundle.
        Command::new(python)
            .args(&args)
            .env("REQUESTS_CA_BUNDLE", &ca_env)
            .env("CURL_CA_BUNDLE", &ca_env)
            .current_dir(cwd)
            .output()
    })
    .await
    .unwrap()
    .expect("run the protocol validator");
    // It exits 1 when it found failures: what counts is that it wrote its report.
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        reports.is_dir(),
        "the protocol validator wrote no report ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let tsv = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "tsv"))
        .expect("a TSV report");
    let text = std::fs::read_to_string(tsv).unwrap();
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("Summary"))
        .unwrap_or("")
        .to_string();
    let notable: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\tFAIL\t") || l.contains("\tWARN\t"))
        .collect();
    (
        failures(&text),
        format!("{summary}\n{}\n{stderr}", notable.join("\n")),
    )
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "tier peers: needs redfish-protocol-validator in .peers/venv; scripts/test.sh installs and runs it"]
async fn protocol_validator_finds_only_the_listed_failures() {
    let bmc = SimBmc::start(SimConfig {
        tls: true,
        systems: 2,
        power_delay: Duration::from_millis(50),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (found, report) = run_validator(&bmc, dir.path()).await;
    let readme =
        std::fs::read_to_string(repo_root().join("redfish/src/sim/README.md")).unwrap_or_default();
    let known = listed(&readme);
    let new: Vec<_> = found.difference(&known).collect();
    let gone: Vec<_> = known.difference(&found).collect();
    eprintln!("{report}");
    assert!(
        new.is_empty() && gone.is_empty(),
        "protocol validator failures not listed in redfish/src/sim/README.md: {new:#?}\n\
         listed there but no longer failing (remove them): {gone:#?}"
    );
    bmc.shutdown().await;
}
