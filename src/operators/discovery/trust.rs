//! TLS trust at discovery: pinning a BMC's certificate on first contact under
//! `bmc_tls = tofu`, and telling an admin, by the BMC's xname, how to trust one that was
//! refused.
//!
//! Discovery is where a BMC is first contacted, so it is where trust-on-first-use pins:
//! the certificate is read without trusting it and without credentials, its SHA-256 is
//! pinned, and only then does the crawl send the password, over a connection that accepts
//! exactly that certificate. A later change of certificate fails that pin; the error names
//! the old and new fingerprints and the two ways to re-trust (`rackboot bmc trust`, or a
//! PATCH of `CertSHA256`), and the new fingerprint is kept on the endpoint so that
//! `rackboot bmc trust` pins exactly what was refused, not whatever answers next.

use super::Discovery;
use crate::model::redfish_endpoint::RedfishEndpoint;
use crate::model::{BmcTrust, TlsPolicy};
use crate::power::{BmcAccess, PowerError};

const EP: &str = "/apis/smd/hsm/v2/Inventory/RedfishEndpoints";

impl Discovery {
    /// Under `tofu`, pin the certificate of an HTTPS endpoint that names no trust of its
    /// own. Fails when the BMC cannot be reached at all.
    pub(super) async fn first_contact(&self, ep: &mut RedfishEndpoint) -> Result<(), PowerError> {
        if self.tls_policy != TlsPolicy::Tofu
            || ep.trust != BmcTrust::System
            || !ep.base_url().starts_with("https://")
        {
            return Ok(());
        }
        let Some(sha256) = self.driver.certificate(&BmcAccess::from(&*ep)).await? else {
            return Ok(());
        };
        tracing::info!(
            bmc = %ep.id,
            url = %ep.base_url(),
            sha256 = %sha256,
            "pinned the BMC's TLS certificate on first contact (bmc_tls = tofu)"
        );
        ep.trust = BmcTrust::Tofu {
            sha256,
            pinned_at: Some(self.clock.now()),
        };
        Ok(())
    }

    /// The endpoint's error for a refused certificate, and the fingerprint the BMC
    /// presents now (read again, without trusting it).
    pub(super) async fn refusal(
        &self,
        ep: &RedfishEndpoint,
        e: &PowerError,
    ) -> (String, Option<String>) {
        let presented = self
            .driver
            .certificate(&BmcAccess::from(ep))
            .await
            .ok()
            .flatten();
        let message = refusal_message(ep, self.tls_policy, &e.message, presented.as_deref());
        tracing::warn!(bmc = %ep.id, presented = ?presented, pinned = ?ep.trust.pinned(), "{message}");
        (message, presented)
    }
}

/// What to tell an admin about a refused certificate: for a pinned BMC, that its
/// certificate changed (old and new) and how to re-trust it; otherwise why it was not
/// trusted and every way to trust it.
pub fn refusal_message(
    ep: &RedfishEndpoint,
    policy: TlsPolicy,
    original: &str,
    presented: Option<&str>,
) -> String {
    let id = &ep.id;
    let shown = presented.unwrap_or("<sha256>");
    if let Some(pinned) = ep.trust.pinned()
        && presented.is_none_or(|p| p != pinned)
    {
        let how = match &ep.trust {
            BmcTrust::Tofu {
                pinned_at: Some(t), ..
            } => format!("on first contact at {}", t.to_rfc3339()),
            BmcTrust::Tofu { .. } => "on first contact".to_string(),
            _ => "by an admin".to_string(),
        };
        return format!(
            "BMC {id} ({url}) presents a TLS certificate other than the one pinned {how}: it presents SHA-256 {shown}, the pin is {pinned}. \
             It is refused until an admin re-trusts it. If the certificate was replaced on purpose, run `rackboot bmc trust {id}` \
             (pins {shown}) or PATCH {EP}/{id} with {{\"CertSHA256\": \"{shown}\"}} ({{\"CertSHA256\": \"\"}} pins whatever it presents next)",
            url = ep.base_url()
        );
    }
    let policy_note = match (policy, &ep.trust) {
        (TlsPolicy::Verify, BmcTrust::System) => {
            " (bmc_tls = verify accepts only certificates the system's trust roots vouch for)"
        }
        _ => "",
    };
    format!(
        "{original}{policy_note}. To trust BMC {id}: run `rackboot bmc trust {id}` (pins SHA-256 {shown}), \
         PATCH {EP}/{id} with {{\"CertSHA256\": \"{shown}\"}} or {{\"CACert\": \"<PEM>\"}}, \
         or set bmc_tls = tofu to pin BMC certificates on first contact"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(trust: BmcTrust) -> RedfishEndpoint {
        let mut ep: RedfishEndpoint = serde_json::from_value(serde_json::json!({
            "id": "x3000c0s1b0", "type": "NodeBMC", "enabled": true, "fqdn": "10.1.0.5:8443"
        }))
        .unwrap();
        ep.trust = trust;
        ep
    }

    #[test]
    fn a_changed_certificate_names_both_fingerprints_and_how_to_re_trust() {
        let (old, new) = ("aa".repeat(32), "bb".repeat(32));
        let tofu = ep(BmcTrust::Tofu {
            sha256: old.clone(),
            pinned_at: None,
        });
        let m = refusal_message(&tofu, TlsPolicy::Tofu, "whatever", Some(&new));
        for needle in [
            "BMC x3000c0s1b0 (https://10.1.0.5:8443)",
            "pinned on first contact",
            &format!("it presents SHA-256 {new}, the pin is {old}"),
            "rackboot bmc trust x3000c0s1b0",
            &format!("{{\"CertSHA256\": \"{new}\"}}"),
            "{\"CertSHA256\": \"\"}",
        ] {
            assert!(m.contains(needle), "{needle} not in {m}");
        }
        let admin = ep(BmcTrust::Pin {
            sha256: old.clone(),
        });
        assert!(
            refusal_message(&admin, TlsPolicy::Tofu, "x", Some(&new))
                .contains("pinned by an admin")
        );
    }

    #[test]
    fn verify_names_every_way_to_trust_a_self_signed_bmc() {
        let fp = "cc".repeat(32);
        let m = refusal_message(
            &ep(BmcTrust::System),
            TlsPolicy::Verify,
            "the TLS certificate of BMC 10.1.0.5:8443 is not trusted (invalid peer certificate: UnknownIssuer)",
            Some(&fp),
        );
        for needle in [
            "not trusted",
            "bmc_tls = verify accepts only",
            &format!("`rackboot bmc trust x3000c0s1b0` (pins SHA-256 {fp})"),
            "CertSHA256",
            "CACert",
            "set bmc_tls = tofu",
        ] {
            assert!(m.contains(needle), "{needle} not in {m}");
        }
    }
}
