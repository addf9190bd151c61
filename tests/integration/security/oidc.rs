//! JWTs from a site identity provider: a test issuer serves its JWKS over HTTP, and tokens
//! it signs are accepted with the role their claim maps to, and refused when expired,
//! signed with another key, or issued by someone else.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Server, secure_settings};

const ISSUER: &str = "https://idp.site.test/realms/site";

struct TestIssuer {
    key: EncodingKey,
    jwk: Value,
}

impl TestIssuer {
    fn new(kid: &str) -> TestIssuer {
        let kp = rcgen::KeyPair::generate().unwrap();
        let raw = kp.public_key_raw();
        assert_eq!((raw.len(), raw[0]), (65, 4), "an uncompressed P-256 point");
        let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&raw[1..33]), "y": URL_SAFE_NO_PAD.encode(&raw[33..])});
        TestIssuer {
            key: EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).unwrap(),
            jwk,
        }
    }

    fn sign(&self, kid: &str, claims: Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(kid.into());
        jsonwebtoken::encode(&h, &claims, &self.key).unwrap()
    }
}

/// Serve `{"keys": [jwk]}` at `/keys`; returns the URL.
async fn serve_jwks(jwk: Value) -> String {
    let app = axum::Router::new().route(
        "/keys",
        axum::routing::get(move || {
            let jwk = jwk.clone();
            async move { axum::Json(json!({"keys": [jwk]})) }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}/keys")
}

fn claims(iss: &str, exp_in: i64, roles: &[&str]) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": iss, "sub": "u-1", "preferred_username": "dana", "iat": now, "exp": now + exp_in,
        "realm_access": {"roles": roles}})
}

#[tokio::test]
async fn site_tokens_map_to_roles_and_are_refused_when_expired_forged_or_foreign() {
    let idp = TestIssuer::new("k1");
    let jwks = serve_jwks(idp.jwk.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = secure_settings();
    settings.oidc = Some(rackboot::config::security::OidcSettings {
        issuer: Some(ISSUER.into()),
        jwks_url: Some(jwks),
        roles: BTreeMap::from([
            ("rack-ops".into(), "operator".into()),
            ("rack-view".into(), "read-only".into()),
        ]),
        ..Default::default()
    });
    let s = Server::start_in(dir.path(), settings).await;
    let http = s.anonymous();
    let who = |token: String| {
        let req = http
            .get(s.url("/apis/rackboot/v1/whoami"))
            .bearer_auth(token);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };

    let (st, v) = who(idp.sign(
        "k1",
        claims(ISSUER, 300, &["rack-view", "rack-ops", "other"]),
    ))
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["name"].as_str(), v["role"].as_str()),
        (Some("dana"), Some("operator")),
        "{v}"
    );
    assert_eq!(v["credential"]["kind"], "site", "{v}");

    // The mapped role is what it may do: read-only cannot power a node.
    let viewer = idp.sign("k1", claims(ISSUER, 300, &["rack-view"]));
    let r = http
        .post(s.url("/apis/power-control/v1/transitions"))
        .bearer_auth(&viewer)
        .json(&json!({"operation": "on", "location": [{"xname": "x3000c0s0b0n0"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let refused = [
        (
            "expired",
            idp.sign("k1", claims(ISSUER, -120, &["rack-ops"])),
            "xpired",
        ),
        (
            "signed with another key",
            TestIssuer::new("k1").sign("k1", claims(ISSUER, 300, &["rack-ops"])),
            "not valid",
        ),
        (
            "from another issuer",
            idp.sign("k1", claims("https://elsewhere.test", 300, &["rack-ops"])),
            "ssuer",
        ),
        (
            "with no mapped role",
            idp.sign("k1", claims(ISSUER, 300, &["guest"])),
            "maps to no role",
        ),
        (
            "naming an unknown key",
            idp.sign("k9", claims(ISSUER, 300, &["rack-ops"])),
            "has no key k9",
        ),
    ];
    for (what, token, why) in refused {
        let (st, v) = who(token).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "a site token {what}: {v}");
        assert!(
            v["detail"].as_str().unwrap().contains(why),
            "a site token {what}: {v}"
        );
    }
    s.stop().await;
}
