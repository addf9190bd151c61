//! `rackboot dhcp leases`: the addresses the DHCP server (`full` mode) has handed out.

use clap::Subcommand;
use serde_json::Value;

use super::Client;
use super::output::{Format, as_array, field, show, table};

#[derive(Subcommand, Debug)]
pub enum DhcpCommand {
    /// Leases by address: MAC, node, state and expiry
    Leases,
}

pub async fn run(c: &Client, format: Format, cmd: DhcpCommand) -> anyhow::Result<()> {
    let DhcpCommand::Leases = cmd;
    let v: Value = c.get("/apis/rackboot/v1/dhcp/leases").await?;
    show(format, &v, |v| {
        let rows = as_array(v)
            .iter()
            .map(|l| {
                vec![
                    field(l, "ip"),
                    field(l, "mac"),
                    field(l, "node"),
                    field(l, "state"),
                    field(l, "expires"),
                ]
            })
            .collect();
        table(&["IP", "MAC", "NODE", "STATE", "EXPIRES"], rows)
    });
    Ok(())
}
