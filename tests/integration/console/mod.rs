//! The web console over HTTP as a browser speaks it (forms, a cookie, redirects not
//! followed), and in a real browser (`browser`, Debian's chromium driven by Playwright).

mod actions;
mod browser;
mod pages;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};

use crate::bos::{Lab, put_image, quick};
use crate::common::{Server, secure_settings};

/// A secure appliance (HTTPS control plane, logins) with `n` SimBmc nodes, an image and a
/// Boot template `compute` over all of them.
pub async fn lab(n: usize) -> Lab {
    lab_with(n, redfish::sim::SimConfig::default()).await
}

/// The same with BMCs shaped by `bmc`.
pub async fn lab_with(n: usize, bmc: redfish::sim::SimConfig) -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), quick().or(secure_settings())).await;
    let lab = Lab::around(s, dir, n, bmc).await;
    let path = put_image(&lab.s, "img-a");
    lab.template("compute", &path, &lab.xnames).await;
    lab
}

/// What a browser got: status, headers, body.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The form token the page's forms carry.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no form token on the page:\n{}", self.body));
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

/// A browser: one cookie, no redirects followed, the origin headers a browser sends.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    pub cookie: Option<String>,
}

impl Browser {
    pub fn new(s: &Server) -> Browser {
        let sec = s.secure.as_ref().expect("a secure server");
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(redfish::tls::pinned_config(&sec.pin))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            http,
            base: s.base.clone(),
            cookie: None,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
        extra: &[(&'static str, &str)],
    ) -> Page {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", format!("rackboot_console={c}"));
        }
        for (k, v) in extra {
            req = req.header(*k, HeaderValue::from_str(v).unwrap());
        }
        if let Some(f) = form {
            req = req.form(f);
        }
        let r = req.send().await.unwrap();
        Page {
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.request(Method::GET, path, None, &[]).await
    }

    /// A form posted from the console's own page.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.request(
            Method::POST,
            path,
            Some(form),
            &[("sec-fetch-site", "same-origin")],
        )
        .await
    }

    /// Log in with the password `Server::user_token` gives its users; keeps the cookie.
    pub async fn login(&mut self, user: &str) -> Page {
        let pw = format!("{user}-password-long");
        let p = self
            .post(
                "/console/login",
                &[("username", user), ("password", &pw), ("next", "/")],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let set = p.headers["set-cookie"].to_str().unwrap().to_string();
        let value = set
            .strip_prefix("rackboot_console=")
            .and_then(|v| v.split(';').next())
            .unwrap();
        self.cookie = Some(value.to_string());
        p
    }
}
