//! HTTPS with the BMC's self-signed certificate: pinned, refused by others, and usable by
//! rustls.

use std::time::Duration;

use redfish::sim::{SimConfig, self_signed_cert};
use reqwest::{Client, Method};

use super::{call, client, get, start};

#[tokio::test]
async fn https_with_pinned_self_signed_cert() {
    let bmc = start(SimConfig {
        tls: true,
        ..SimConfig::default()
    })
    .await;
    assert!(bmc.url().starts_with("https://127.0.0.1:"));
    let pem = bmc.cert_pem().unwrap();
    let sha = bmc.cert_sha256().unwrap();
    assert_eq!(sha.len(), 64);
    assert!(
        sha.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );

    let cert = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
    let trusting = Client::builder()
        .tls_certs_only([cert])
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let (s, _, root) = call(&trusting, &bmc, Method::GET, "/redfish/v1", None, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(root["Id"], "RootService");
    let (s, _) = get(&trusting, &bmc, "/redfish/v1/Systems").await;
    assert_eq!(s, 200);
    // The name "localhost" is in the certificate too.
    let local = format!("https://localhost:{}/redfish/v1", bmc.addr().port());
    assert_eq!(trusting.get(local).send().await.unwrap().status(), 200);

    let err = client()
        .get(format!("{}/redfish/v1", bmc.url()))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout(), "{err:?}");
    // Another BMC's certificate does not vouch for this one.
    let other = start(SimConfig {
        tls: true,
        ..SimConfig::default()
    })
    .await;
    assert_ne!(other.cert_sha256(), bmc.cert_sha256());
    let wrong = Client::builder()
        .tls_certs_only([
            reqwest::Certificate::from_pem(other.cert_pem().unwrap().as_bytes()).unwrap(),
        ])
        .build()
        .unwrap();
    assert!(
        wrong
            .get(format!("{}/redfish/v1", bmc.url()))
            .send()
            .await
            .is_err()
    );
    other.shutdown().await;
    bmc.shutdown().await;

    let plain = start(SimConfig::default()).await;
    assert!(plain.cert_pem().is_none() && plain.cert_sha256().is_none());
    assert!(plain.url().starts_with("http://127.0.0.1:"));
    plain.shutdown().await;
}

#[tokio::test]
async fn self_signed_cert_is_usable_by_rustls() {
    let (cert_pem, key_pem, sha) = self_signed_cert(&["sim.example", "10.1.2.3"]);
    assert!(cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(key_pem.contains("PRIVATE KEY"));
    assert_eq!(sha.len(), 64);
    // reqwest (rustls/webpki) accepts it as a trust anchor.
    Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
}
