//! The demo signs in as a new admin would: it reads the first admin's password that the
//! appliance wrote at first start, logs in over HTTPS (trusting the certificate by the
//! SHA-256 the appliance reported), and makes an API token for the rest of the run.

use anyhow::Context;
use reqwest::Method;

use crate::cli::client::{Client, Trust};
use crate::sim::ConfigService;

/// A signed-in control-plane client, and what to tell the user about it.
pub struct SignedIn {
    pub client: Client,
    pub url: String,
    pub pin: String,
    pub token: String,
}

pub async fn sign_in(
    running: &crate::Running,
    data_dir: &std::path::Path,
) -> anyhow::Result<SignedIn> {
    let addr = running
        .control_addr
        .context("the control plane has no listener of its own")?;
    let pin = running
        .tls_fingerprint
        .clone()
        .context("the control plane has no certificate")?;
    let url = format!("https://{addr}");
    let pw_file = data_dir.join("initial-admin-password");
    let password = std::fs::read_to_string(&pw_file).with_context(|| {
        format!(
            "cannot read the first admin's password in {}",
            pw_file.display()
        )
    })?;
    let anon = Client::trusting(&url, &Trust::Pin(pin.clone())).map_err(anyhow::Error::msg)?;
    let access = anon.login("admin", password.trim()).await?;
    let as_admin = anon
        .clone()
        .with_bearer(&access)
        .map_err(anyhow::Error::msg)?;
    let made: serde_json::Value = as_admin
        .json(
            Method::POST,
            "/apis/rackboot/v1/tokens",
            Some(&serde_json::json!({"name": "demo", "expires_in_days": 1})),
        )
        .await?;
    let token = made["token"]
        .as_str()
        .context("the token answer has no token")?
        .to_string();
    let client = anon.with_bearer(&token).map_err(anyhow::Error::msg)?;
    Ok(SignedIn {
        client,
        url,
        pin,
        token,
    })
}

impl SignedIn {
    /// The configuration agent's way to CFS: the control plane, with the demo's token.
    pub fn config_service(&self) -> anyhow::Result<ConfigService> {
        let pin = redfish::tls::normalise_pin(&self.pin)
            .context("the certificate fingerprint is not SHA-256")?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(redfish::tls::pinned_config(&pin))
            .build()
            .context("cannot build the configuration agent's HTTP client")?;
        Ok(ConfigService {
            base: self.url.clone(),
            http,
            token: self.token.clone(),
        })
    }
}
