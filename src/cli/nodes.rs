//! `rackboot nodes timeline XNAME`: what a node fetched from the appliance while booting.

use clap::Subcommand;
use serde_json::Value;

use super::Client;
use super::output::{Format, as_array, field, show, table};

#[derive(Subcommand, Debug)]
pub enum NodesCommand {
    /// The node's boot timeline: script, kernel, initrd and rootfs fetches
    Timeline { xname: String },
}

pub async fn run(c: &Client, format: Format, cmd: NodesCommand) -> anyhow::Result<()> {
    let NodesCommand::Timeline { xname } = cmd;
    let v: Value = c
        .get(&format!("/apis/rackboot/v1/nodes/{xname}/timeline"))
        .await?;
    show(format, &v, |v| {
        let rows = as_array(&v["events"])
            .iter()
            .map(|e| {
                vec![
                    field(e, "time"),
                    field(e, "what"),
                    field(e, "bytes"),
                    field(e, "duration_ms"),
                    field(e, "client"),
                    field(e, "outcome"),
                    field(e, "file"),
                ]
            })
            .collect();
        table(
            &["TIME", "WHAT", "BYTES", "MS", "CLIENT", "OUTCOME", "FILE"],
            rows,
        )
    });
    Ok(())
}
