//! `rackboot users`, `rackboot tokens`, `rackboot audit` and `rackboot whoami`: who may use
//! the control plane, and what they did.

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::Client;
use super::client::{api_path, with_query};
use super::output::{Format, as_array, field, show, table};

const USERS: &str = "/apis/rackboot/v1/users";
const TOKENS: &str = "/apis/rackboot/v1/tokens";

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Users and their roles
    List,
    /// Add a user (the password from RACKBOOT_NEW_PASSWORD or --new-password-file)
    Add {
        name: String,
        /// read-only, operator or admin
        #[arg(long)]
        role: String,
        #[arg(long)]
        new_password_file: Option<std::path::PathBuf>,
    },
    /// Change a user's role and/or password (their earlier logins stop working)
    Set {
        name: String,
        #[arg(long)]
        role: Option<String>,
        /// Take a new password from this file
        #[arg(long)]
        new_password_file: Option<std::path::PathBuf>,
        /// Take a new password from RACKBOOT_NEW_PASSWORD
        #[arg(long)]
        new_password: bool,
    },
    /// Delete a user and their tokens
    Delete { name: String },
}

#[derive(Subcommand, Debug)]
pub enum TokensCommand {
    /// Your tokens (everyone's for an admin), without their secrets
    List,
    /// Make an API token; it is printed once and never shown again
    Create {
        name: String,
        /// At most your role [default: your role]
        #[arg(long)]
        role: Option<String>,
        /// Days until it expires [default: never]
        #[arg(long)]
        expires_days: Option<i64>,
        /// For another user (admins only)
        #[arg(long)]
        owner: Option<String>,
    },
    /// Revoke a token by its id (it stops working at once)
    Revoke { id: String },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// State-changing calls: who, role, when, what, from where, outcome
    List {
        /// From this RFC 3339 time [default: 24 hours ago]
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
}

fn new_password(file: &Option<std::path::PathBuf>) -> anyhow::Result<String> {
    match (file, std::env::var("RACKBOOT_NEW_PASSWORD").ok()) {
        (Some(p), _) => Ok(std::fs::read_to_string(p)
            .map_err(|e| anyhow::anyhow!("cannot read the password file {}: {e}", p.display()))?
            .trim()
            .to_string()),
        (None, Some(p)) => Ok(p),
        (None, None) => anyhow::bail!(
            "give the new password in RACKBOOT_NEW_PASSWORD or --new-password-file (never as a flag)"
        ),
    }
}

pub async fn users(c: &Client, format: Format, cmd: UsersCommand) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::List => {
            let v: Value = c.get(USERS).await?;
            show(format, &v, |v| {
                let rows = as_array(v)
                    .iter()
                    .map(|u| vec![field(u, "name"), field(u, "role"), field(u, "created")])
                    .collect();
                table(&["NAME", "ROLE", "CREATED"], rows)
            });
        }
        UsersCommand::Add {
            name,
            role,
            new_password_file,
        } => {
            let body =
                json!({"name": name, "role": role, "password": new_password(&new_password_file)?});
            let v: Value = c.json(Method::POST, USERS, Some(&body)).await?;
            show(format, &v, |v| {
                format!("added user {} ({})", field(v, "name"), field(v, "role"))
            });
        }
        UsersCommand::Set {
            name,
            role,
            new_password_file,
            new_password: from_env,
        } => {
            let mut body = json!({});
            if let Some(r) = role {
                body["role"] = json!(r);
            }
            if new_password_file.is_some() || from_env {
                body["password"] = json!(new_password(&new_password_file)?);
            }
            let v: Value = c
                .json(Method::PATCH, &api_path(USERS, &[&name]), Some(&body))
                .await?;
            show(format, &v, |v| {
                format!(
                    "user {} is {}; their earlier logins no longer work",
                    field(v, "name"),
                    field(v, "role")
                )
            });
        }
        UsersCommand::Delete { name } => {
            c.send::<()>(Method::DELETE, &api_path(USERS, &[&name]), None)
                .await?;
            println!("deleted user {name} and their tokens");
        }
    }
    Ok(())
}

pub async fn tokens(c: &Client, format: Format, cmd: TokensCommand) -> anyhow::Result<()> {
    match cmd {
        TokensCommand::List => {
            let v: Value = c.get(TOKENS).await?;
            show(format, &v, |v| {
                let rows = as_array(v)
                    .iter()
                    .map(|t| {
                        vec![
                            field(t, "id"),
                            field(t, "name"),
                            field(t, "owner"),
                            field(t, "role"),
                            field(t, "created"),
                            field(t, "expires"),
                        ]
                    })
                    .collect();
                table(&["ID", "NAME", "OWNER", "ROLE", "CREATED", "EXPIRES"], rows)
            });
        }
        TokensCommand::Create {
            name,
            role,
            expires_days,
            owner,
        } => {
            let body = json!({"name": name, "role": role, "expires_in_days": expires_days, "owner": owner});
            let v: Value = c.json(Method::POST, TOKENS, Some(&body)).await?;
            show(format, &v, |v| {
                format!(
                    "token {} ({}, {}) for {}:\n{}\nIt is shown only now; keep it in a file (--token-file) or RACKBOOT_TOKEN.",
                    field(v, "id"),
                    field(v, "name"),
                    field(v, "role"),
                    field(v, "owner"),
                    field(v, "token")
                )
            });
        }
        TokensCommand::Revoke { id } => {
            c.send::<()>(Method::DELETE, &api_path(TOKENS, &[&id]), None)
                .await?;
            println!("revoked token {id}");
        }
    }
    Ok(())
}

pub async fn audit(c: &Client, format: Format, cmd: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::List { since, limit } = cmd;
    let mut q = vec![("limit", limit.to_string())];
    if let Some(s) = since {
        q.push(("since", s));
    }
    let v: Value = c
        .get(&with_query("/apis/rackboot/v1/audit".into(), &q))
        .await?;
    show(format, &v, |v| {
        let rows = as_array(v)
            .iter()
            .map(|r| {
                vec![
                    field(r, "time"),
                    field(r, "who"),
                    field(r, "role"),
                    format!("{} {}", field(r, "method"), field(r, "path")),
                    field(r, "client"),
                    field(r, "status"),
                ]
            })
            .collect();
        table(&["TIME", "WHO", "ROLE", "CALL", "FROM", "STATUS"], rows)
    });
    Ok(())
}

pub async fn whoami(c: &Client, format: Format) -> anyhow::Result<()> {
    let v: Value = c.get("/apis/rackboot/v1/whoami").await?;
    show(format, &v, |v| {
        format!("{} ({})", field(v, "name"), field(v, "role"))
    });
    Ok(())
}
