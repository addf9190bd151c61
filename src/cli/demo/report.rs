//! The demo's closing table: every node with its power (PCS), BOS status, configuration
//! status (CFS), last action, actual state, what it last booted and how many boots its
//! simulated node completed, read over the API like everything else.
//!
//! The power monitor samples every second, so the table waits (a few seconds at most)
//! until every node has been sampled after the last session, rather than show a
//! `transition` left over from it.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::Demo;
use crate::cli::bos::last_action;
use crate::cli::output::{field, table};

/// The demo's nodes' BOS components.
pub(super) async fn components(d: &Demo) -> anyhow::Result<Value> {
    Ok(d.client
        .get(&format!(
            "/apis/bos/v2/components?ids={}",
            d.nodes.join(",")
        ))
        .await?)
}

/// Node `x`'s component in a component list (`Null` if it has none).
pub(super) fn component<'a>(comps: &'a Value, x: &str) -> &'a Value {
    comps
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == x))
        .unwrap_or(&Value::Null)
}

/// Every node: its power (PCS), BOS status, last action and actual state, the kernel it
/// last booted, and how many boots its simulated node completed.
pub(super) async fn nodes_table(d: &Demo, comps: &Value, booted: &[String]) -> anyhow::Result<()> {
    let power = fresh_power(d, chrono::Utc::now()).await?;
    let boots: Vec<u64> = d
        .lab
        .nodes()
        .iter()
        .map(|n| n.status().boots_completed)
        .collect();
    let cfs: Value = d
        .client
        .get(&format!(
            "/apis/cfs/v3/components?ids={}",
            d.nodes.join(",")
        ))
        .await?;
    println!();
    println!(
        "{}",
        table(
            &[
                "NODE",
                "POWER",
                "BOS STATUS",
                "CONFIGURATION",
                "LAST ACTION",
                "ACTUAL STATE",
                "LAST BOOTED",
                "BOOTS"
            ],
            node_rows(&d.nodes, comps, &cfs, &power, booted, &boots)
        )
    );
    Ok(())
}

/// PCS power status of the demo's nodes, once every node has been sampled at or after
/// `since` (the power monitor samples every second, so a sample taken while the last
/// session was still powering nodes off would show `transition`); after a few seconds,
/// whatever it says.
async fn fresh_power(d: &Demo, since: chrono::DateTime<chrono::Utc>) -> anyhow::Result<Value> {
    let started = Instant::now();
    loop {
        let power: Value = d
            .client
            .json(
                Method::POST,
                "/apis/power-control/v1/power-status",
                Some(&json!({ "xname": d.nodes })),
            )
            .await?;
        if sampled_since(&power, since) || started.elapsed() > Duration::from_secs(5) {
            return Ok(power);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether every entry of a power-status answer was sampled at or after `since`.
fn sampled_since(power: &Value, since: chrono::DateTime<chrono::Utc>) -> bool {
    power["status"].as_array().is_some_and(|a| {
        a.iter().all(|p| {
            chrono::DateTime::parse_from_rfc3339(&field(p, "lastUpdated")).is_ok_and(|t| t >= since)
        })
    })
}

fn node_rows(
    nodes: &[String],
    comps: &Value,
    cfs: &Value,
    power: &Value,
    booted: &[String],
    boots: &[u64],
) -> Vec<Vec<String>> {
    let power = power["status"].as_array().cloned().unwrap_or_default();
    nodes
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let c = component(comps, x);
            let p = power
                .iter()
                .find(|p| p["xname"] == x.as_str())
                .map(|p| field(p, "powerState"))
                .unwrap_or_default();
            let config = cfs["components"]
                .as_array()
                .and_then(|l| l.iter().find(|c| c["id"] == x.as_str()))
                .map(|c| field(c, "configuration_status"))
                .unwrap_or_default();
            let actual = match field(&c["actual_state"]["boot_artifacts"], "kernel") {
                k if k.is_empty() => "none".to_string(),
                k => k,
            };
            vec![
                x.clone(),
                or_dash(p),
                or_dash(field(&c["status"], "status")),
                or_dash(config),
                or_dash(last_action(c)),
                actual,
                or_dash(booted.get(i).cloned().unwrap_or_default()),
                boots.get(i).map(u64::to_string).unwrap_or_default(),
            ]
        })
        .collect()
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::super::steps::{Outcome, summary};
    use super::*;
    use crate::cli::bos::{Operation, Progress};

    #[test]
    fn demo_summary_and_node_rows() {
        let o = Outcome {
            operation: Operation::Reboot,
            name: "s1".into(),
            elapsed: Duration::from_millis(2345),
            progress: Progress {
                successful: 7,
                failed: 1,
                ..Progress::default()
            },
            failure: Some("x".into()),
        };
        assert_eq!(
            summary(&o),
            "reboot session s1 complete in 2.3 s: 7 successful, 1 failed"
        );
        let nodes = vec!["x3000c0s0b0n0".to_string(), "x3000c0s1b0n0".to_string()];
        let comps = json!([
            {"id": "x3000c0s1b0n0", "status": {"status": "stable"},
             "last_action": {"action": "powering_off_gracefully", "failed": true},
             "actual_state": {"boot_artifacts": {}}},
            {"id": "x3000c0s0b0n0", "status": {"status": "stable"},
             "last_action": {"action": "powering_on"},
             "actual_state": {"boot_artifacts": {"kernel": "s3://b/k"}}},
        ]);
        let power = json!({"status": [{"xname": "x3000c0s0b0n0", "powerState": "on"}]});
        let cfs =
            json!({"components": [{"id": "x3000c0s0b0n0", "configuration_status": "configured"}]});
        let booted = ["s3://b/k".to_string(), String::new()];
        assert_eq!(
            node_rows(&nodes, &comps, &cfs, &power, &booted, &[2]),
            [
                [
                    "x3000c0s0b0n0",
                    "on",
                    "stable",
                    "configured",
                    "powering_on",
                    "s3://b/k",
                    "s3://b/k",
                    "2"
                ],
                [
                    "x3000c0s1b0n0",
                    "-",
                    "stable",
                    "-",
                    "powering_off_gracefully (failed)",
                    "none",
                    "-",
                    ""
                ],
            ]
        );
        assert_eq!(component(&comps, "x9"), &Value::Null);
        let since = chrono::DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z")
            .unwrap()
            .to_utc();
        let at = |t: &str| json!({"status": [{"lastUpdated": "2026-01-01T10:00:01+00:00"}, {"lastUpdated": t}]});
        assert!(sampled_since(&at("2026-01-01T10:00:00+00:00"), since));
        assert!(!sampled_since(&at("2026-01-01T09:59:59.9+00:00"), since));
        assert!(!sampled_since(&at(""), since));
        assert!(!sampled_since(&json!({}), since));
        assert_eq!(component(&Value::Null, "x9"), &Value::Null);
    }
}
