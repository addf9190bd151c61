//! `rackboot cluster status`: the replicas on one database, which one leads the operators,
//! for how long, and when each was last heard from.

use clap::Subcommand;
use serde_json::Value;

use super::Client;
use super::output::{Format, as_array, field, show, table};

#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Replicas: address, version, leader, lock age, last heartbeat
    Status,
}

pub async fn run(c: &Client, format: Format, cmd: ClusterCommand) -> anyhow::Result<()> {
    let ClusterCommand::Status = cmd;
    let v: Value = c.get("/apis/rackboot/v1/cluster").await?;
    show(format, &v, |v| {
        let secs = |x: &Value| x.as_f64().map_or("-".to_string(), |s| format!("{s:.1}s"));
        let rows = as_array(&v["replicas"])
            .iter()
            .map(|r| {
                let mark = |k: &str, yes: &str| {
                    if r[k].as_bool() == Some(true) {
                        yes.to_string()
                    } else {
                        String::new()
                    }
                };
                vec![
                    format!("{}{}", field(r, "id"), mark("this", " (this)")),
                    field(r, "address"),
                    field(r, "version"),
                    if r["leader"].as_bool() == Some(true) {
                        "leader".into()
                    } else if r["alive"].as_bool() == Some(true) {
                        "follower".into()
                    } else {
                        "silent".into()
                    },
                    secs(&r["lock_age_secs"]),
                    secs(&r["heartbeat_age_secs"]),
                ]
            })
            .collect();
        let leader = v["leader"]
            .as_str()
            .unwrap_or("none: the operators are not running");
        format!(
            "store: {}, leader: {leader}, lease {}s\n{}",
            field(v, "store"),
            field(v, "lease_secs"),
            table(
                &[
                    "REPLICA",
                    "ADDRESS",
                    "VERSION",
                    "ROLE",
                    "LOCK AGE",
                    "HEARTBEAT"
                ],
                rows
            )
        )
    });
    Ok(())
}
