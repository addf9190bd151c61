//! `rackboot bss bootparameters …`

use clap::Subcommand;
use reqwest::Method;

use super::output::{Format, field, show, table};
use super::{Client, split_list};

#[derive(Subcommand, Debug)]
pub enum BssCommand {
    /// Boot parameters: what each node, role or unknown node boots
    #[command(subcommand)]
    Bootparameters(BootParamsCommand),
}

#[derive(clap::Args, Debug, Default)]
pub struct Selectors {
    /// Hosts: xnames or tags (Default, a role such as Compute, Unknown-x86_64); comma-separated or repeated
    #[arg(long)]
    hosts: Vec<String>,
    /// MAC addresses
    #[arg(long)]
    macs: Vec<String>,
    /// NIDs
    #[arg(long)]
    nids: Vec<String>,
}

#[derive(clap::Args, Debug, Default)]
pub struct Values {
    /// Kernel URL or s3://bucket/key
    #[arg(long)]
    kernel: Option<String>,
    /// Initrd URL or s3://bucket/key
    #[arg(long)]
    initrd: Option<String>,
    /// Kernel command line
    #[arg(long)]
    params: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum BootParamsCommand {
    /// List every boot-parameter record
    List,
    /// Show the records for some hosts, MACs or NIDs
    Get {
        #[command(flatten)]
        sel: Selectors,
    },
    /// Create records (fails if a host already has one)
    Create {
        #[command(flatten)]
        sel: Selectors,
        #[command(flatten)]
        values: Values,
    },
    /// Create or replace records
    Replace {
        #[command(flatten)]
        sel: Selectors,
        #[command(flatten)]
        values: Values,
    },
    /// Change some fields of existing records
    Update {
        #[command(flatten)]
        sel: Selectors,
        #[command(flatten)]
        values: Values,
    },
    /// Delete records (or, with only --kernel/--initrd, an image's params)
    Delete {
        #[command(flatten)]
        sel: Selectors,
        #[command(flatten)]
        values: Values,
    },
}

fn body(sel: &Selectors, v: &Values) -> anyhow::Result<serde_json::Value> {
    let nids = split_list(&sel.nids)
        .iter()
        .map(|n| {
            n.parse::<i64>()
                .map_err(|_| anyhow::anyhow!("invalid NID '{n}': expected an integer"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut b = serde_json::json!({ "hosts": split_list(&sel.hosts), "macs": split_list(&sel.macs), "nids": nids });
    for (k, val) in [
        ("kernel", &v.kernel),
        ("initrd", &v.initrd),
        ("params", &v.params),
    ] {
        if let Some(x) = val {
            b[k] = x.clone().into();
        }
    }
    Ok(b)
}

fn print_entries(format: Format, v: &serde_json::Value) {
    show(format, v, |v| {
        let rows = v
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        vec![
                            field(e, "hosts"),
                            field(e, "kernel"),
                            field(e, "initrd"),
                            field(e, "params"),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default();
        table(&["HOSTS", "KERNEL", "INITRD", "PARAMS"], rows)
    });
}

pub async fn run(c: &Client, format: Format, cmd: BssCommand) -> anyhow::Result<()> {
    let BssCommand::Bootparameters(cmd) = cmd;
    let path = "/boot/v1/bootparameters";
    match cmd {
        BootParamsCommand::List => print_entries(format, &c.get(path).await?),
        BootParamsCommand::Get { sel } => {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for h in split_list(&sel.hosts) {
                q.append_pair("name", &h);
            }
            for m in split_list(&sel.macs) {
                q.append_pair("mac", &m);
            }
            for n in split_list(&sel.nids) {
                q.append_pair("nid", &n);
            }
            let q = q.finish();
            if q.is_empty() {
                anyhow::bail!("name at least one --hosts, --macs or --nids (or use `list`)");
            }
            print_entries(format, &c.get(&format!("{path}?{q}")).await?)
        }
        BootParamsCommand::Create { sel, values } => {
            write(c, format, Method::POST, &body(&sel, &values)?).await?
        }
        BootParamsCommand::Replace { sel, values } => {
            write(c, format, Method::PUT, &body(&sel, &values)?).await?
        }
        BootParamsCommand::Update { sel, values } => {
            write(c, format, Method::PATCH, &body(&sel, &values)?).await?
        }
        BootParamsCommand::Delete { sel, values } => {
            write(c, format, Method::DELETE, &body(&sel, &values)?).await?
        }
    }
    Ok(())
}

async fn write(
    c: &Client,
    format: Format,
    method: Method,
    b: &serde_json::Value,
) -> anyhow::Result<()> {
    let a = c
        .send(method.clone(), "/boot/v1/bootparameters", Some(b))
        .await?;
    let token = a
        .headers
        .get("bss-referral-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    show(
        format,
        &serde_json::json!({ "status": a.status.as_u16(), "referral_token": token }),
        |_| match &token {
            Some(t) => format!("{} done; referral token {t}", method),
            None => format!("{} done", method),
        },
    );
    Ok(())
}
