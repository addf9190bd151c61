//! The command line: `rackboot serve` runs the appliance; `rackboot demo` runs one
//! in-process with simulated BMCs and nodes and drives it; every other subcommand is a
//! client of a running appliance's HTTP API (`--url`, `RACKBOOT_URL`).
//!
//! Client commands print tables by default and JSON with `--format json`; any failure
//! prints the server's problem detail (or why the server could not be reached) and exits
//! non-zero.

pub mod access;
pub mod bmc;
pub mod bos;
pub mod bss;
pub mod cfs;
pub mod client;
pub mod cluster;
pub mod connect;
pub mod demo;
pub mod dhcp;
pub mod hsm;
pub mod images;
pub mod inventory;
pub mod nodes;
pub mod output;
pub mod power;
pub mod sim;

use clap::{Parser, Subcommand};

use crate::config::Settings;
pub use client::{Client, ClientError};
pub use output::Format;

#[derive(Parser, Debug)]
#[command(
    name = "rackboot",
    version,
    about = "A self-contained bare-metal boot appliance"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the appliance (HTTP API and boot plane)
    Serve(Box<ServeArgs>),
    /// Boot, reboot and shut down simulated nodes on an in-process appliance (nothing to
    /// install)
    Demo(demo::DemoArgs),
    /// Boot Script Service: boot parameters
    Bss(ClientArgs<bss::BssCommand>),
    /// Inventory (HSM): components
    Hsm(ClientArgs<hsm::HsmCommand>),
    /// Import nodes, MACs, groups and BMCs from a YAML or JSON file
    Inventory(ClientArgs<inventory::InventoryCommand>),
    /// Power nodes on, off or restart them through their BMCs; show power status
    Power(ClientArgs<power::PowerCommand>),
    /// Register BMCs and discover their nodes
    Bmc(ClientArgs<bmc::BmcCommand>),
    /// DHCP server: leases
    Dhcp(ClientArgs<dhcp::DhcpCommand>),
    /// Replicas on one PostgreSQL store: which one leads the operators
    Cluster(ClientArgs<cluster::ClusterCommand>),
    /// Nodes: boot timelines
    Nodes(ClientArgs<nodes::NodesCommand>),
    /// Boot images (kernel, initrd, rootfs and manifest) in the artifact source
    Images(ClientArgs<images::ImagesCommand>),
    /// Boot Orchestration Service (BOS v2): session templates, sessions, components, options
    Bos(bos::BosArgs),
    /// Configuration Framework Service (built-in /apis/cfs/v3)
    Cfs(cfs::CfsArgs),
    /// Simulators for labs, demos and benchmarks (no hardware needed)
    #[command(subcommand)]
    Sim(sim::SimCommand),
    /// Users of the control plane and their roles (admin)
    Users(ClientArgs<access::UsersCommand>),
    /// API tokens: make, list and revoke them
    Tokens(ClientArgs<access::TokensCommand>),
    /// The audit trail of state-changing calls (admin)
    Audit(ClientArgs<access::AuditCommand>),
    /// Who the appliance takes you for, and your role
    Whoami(WhoamiArgs),
}

#[derive(clap::Args, Debug)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub conn: connect::Connection,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// TOML config file; flags and RACKBOOT_* environment override it
    #[arg(long, env = "RACKBOOT_CONFIG")]
    pub config: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(clap::Args, Debug)]
pub struct ClientArgs<C: Subcommand> {
    #[command(flatten)]
    pub conn: connect::Connection,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,
    #[command(subcommand)]
    pub command: C,
}

/// Run a client subcommand; returns the text to print.
pub async fn run_client(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Serve(_) => unreachable!("serve is handled by main"),
        Command::Bss(a) => bss::run(&a.conn.client().await?, a.format, a.command).await,
        Command::Hsm(a) => hsm::run(&a.conn.client().await?, a.format, a.command).await,
        Command::Inventory(a) => inventory::run(&a.conn.client().await?, a.format, a.command).await,
        Command::Power(a) => power::run(&a.conn.client().await?, a.format, a.command).await,
        Command::Bmc(a) => bmc::run(&a.conn.client().await?, a.format, a.command).await,
        Command::Sim(c) => sim::run(c).await,
        Command::Demo(a) => demo::run(a).await,
        Command::Dhcp(a) => dhcp::run(&a.conn.client().await?, a.format, a.command).await,
        Command::Cluster(a) => cluster::run(&a.conn.client().await?, a.format, a.command).await,
        Command::Nodes(a) => nodes::run(&a.conn.client().await?, a.format, a.command).await,
        Command::Images(a) => images::run(&a.conn.client().await?, a.format, a.command).await,
        Command::Bos(a) => {
            let c = a.client;
            bos::run(
                &c.conn.client().await?,
                c.format,
                a.tenant.as_deref(),
                c.command,
            )
            .await
        }
        Command::Cfs(a) => {
            let c = a.client;
            cfs::run(&c.conn.client().await?, c.format, c.command).await
        }
        Command::Users(a) => access::users(&a.conn.client().await?, a.format, a.command).await,
        Command::Tokens(a) => access::tokens(&a.conn.client().await?, a.format, a.command).await,
        Command::Audit(a) => access::audit(&a.conn.client().await?, a.format, a.command).await,
        Command::Whoami(a) => access::whoami(&a.conn.client().await?, a.format).await,
    }
}

/// Split comma-separated flag values and drop empties.
pub fn split_list(v: &[String]) -> Vec<String> {
    v.iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}
