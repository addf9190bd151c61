//! How every client subcommand reaches the control plane: its URL, how to trust its
//! certificate (`--ca` or `--pin`) and how to authenticate (an API token from
//! `RACKBOOT_TOKEN` or `--token-file`, or a login with `--login USER` and a password from
//! `RACKBOOT_PASSWORD` or `--password-file`). Secrets are never taken as flag values: a
//! flag is readable by every local user in /proc/PID/cmdline. The arguments have ids of
//! their own (`control_*`): clap keys arguments by id, and subcommands have fields of the
//! same names (`bmc add --username`, its `--bmc-ca` and `--bmc-pin`).

use std::path::PathBuf;

use anyhow::Context;

use super::client::{Client, Trust};

#[derive(clap::Args, Debug, Clone)]
pub struct Connection {
    /// Base URL of the appliance's control plane
    #[arg(
        id = "control_url",
        long = "url",
        value_name = "URL",
        env = "RACKBOOT_URL",
        default_value = "https://127.0.0.1:8443",
        global = true
    )]
    pub url: String,
    /// PEM CA file to trust for the control plane, e.g. <data-dir>/tls/cert.pem
    #[arg(
        id = "control_ca",
        long = "ca",
        value_name = "FILE",
        env = "RACKBOOT_CA",
        global = true
    )]
    pub ca: Option<PathBuf>,
    /// SHA-256 of the control plane's certificate (logged by `rackboot serve`)
    #[arg(
        id = "control_pin",
        long = "pin",
        value_name = "SHA256",
        env = "RACKBOOT_PIN",
        global = true
    )]
    pub pin: Option<String>,
    /// File holding an API token (or set RACKBOOT_TOKEN)
    #[arg(
        id = "control_token_file",
        long = "token-file",
        value_name = "FILE",
        env = "RACKBOOT_TOKEN_FILE",
        global = true
    )]
    pub token_file: Option<PathBuf>,
    /// Log in as this user (the password from RACKBOOT_PASSWORD or --password-file)
    #[arg(
        id = "control_login",
        long = "login",
        value_name = "USER",
        env = "RACKBOOT_LOGIN",
        global = true
    )]
    pub login: Option<String>,
    /// File holding the password for --login
    #[arg(
        id = "control_password_file",
        long = "password-file",
        value_name = "FILE",
        env = "RACKBOOT_PASSWORD_FILE",
        global = true
    )]
    pub password_file: Option<PathBuf>,
}

fn read_secret(path: &std::path::Path, what: &str) -> anyhow::Result<String> {
    let s = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} file {}", path.display()))?;
    Ok(s.trim().to_string())
}

impl Connection {
    pub async fn client(&self) -> anyhow::Result<Client> {
        let trust = match (&self.ca, &self.pin) {
            (Some(_), Some(_)) => anyhow::bail!("give --ca or --pin, not both"),
            (Some(p), None) => Trust::Ca(
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read the CA file {}", p.display()))?,
            ),
            (None, Some(pin)) => Trust::Pin(pin.clone()),
            (None, None) => Trust::System,
        };
        let client = Client::trusting(&self.url, &trust).map_err(anyhow::Error::msg)?;
        let env_token = std::env::var("RACKBOOT_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty());
        let token = match (&self.token_file, env_token, &self.login) {
            (Some(p), _, _) => Some(read_secret(p, "token")?),
            (None, Some(t), _) => Some(t),
            (None, None, Some(user)) => {
                let password = match (&self.password_file, std::env::var("RACKBOOT_PASSWORD").ok())
                {
                    (Some(p), _) => read_secret(p, "password")?,
                    (None, Some(p)) => p,
                    (None, None) => anyhow::bail!(
                        "--login {user} needs a password: set RACKBOOT_PASSWORD or give --password-file"
                    ),
                };
                Some(client.login(user, &password).await?)
            }
            (None, None, None) => None,
        };
        match token {
            Some(t) => client.with_bearer(&t).map_err(anyhow::Error::msg),
            None => Ok(client),
        }
    }
}
