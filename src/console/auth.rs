//! How a browser holds its login and how its forms are trusted.
//!
//! A login puts the appliance's own access token (the one `cray auth login` gets) in an
//! `HttpOnly`, `SameSite=Strict` cookie (`Secure` over TLS) that lives as long as the token;
//! the access table (`api::access`) takes it on console routes only, never on `/apis/...`,
//! so an API client's credentials stay bearer tokens. A console request that changes something
//! must come from the console itself: a browser says where a request comes from
//! (`Sec-Fetch-Site`, `Origin`) and another site's form is refused with a 403 before any
//! handler runs; each form also carries a token derived from the session's cookie, which
//! another site cannot read, checked by the handler ([`Csrf::check`]).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::api::problem::Problem;

/// The cookie that holds a console login.
pub const COOKIE: &str = "rackboot_console";

/// Whether `template` (a matched route) is one of the console's.
pub fn is_console(template: &str) -> bool {
    template == "/" || template.starts_with("/console/")
}

/// The console cookie's value, if the request has one.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == COOKIE && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// The `Set-Cookie` of a login: `token` for `max_age_secs`.
pub fn set_cookie(token: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age_secs.max(0)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("rackboot_console=; Path=/; Max-Age=0"))
}

/// The `Set-Cookie` that ends a login.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("rackboot_console=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Refuse a request that changes something unless a browser would say it comes from this
/// origin. A request without either header is not a browser's cross-site form (every
/// browser sends `Origin` on a cross-site POST), so it passes here and meets the token check.
pub fn same_origin(headers: &HeaderMap) -> Result<(), Problem> {
    let refuse = |why: String| {
        Err(Problem::new(
            StatusCode::FORBIDDEN,
            format!("a console action must come from the console's own pages: {why}"),
        ))
    };
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return match site {
            "same-origin" => Ok(()),
            other => refuse(format!(
                "the browser says it came from {other} (Sec-Fetch-Site)"
            )),
        };
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let authority = origin.split_once("://").map_or(origin, |(_, a)| a);
        if authority.is_empty() || !authority.eq_ignore_ascii_case(host) {
            return refuse(format!("it came from {origin}, not from {host}"));
        }
    }
    Ok(())
}

/// Where to send a browser that has to log in first: the login page, then back.
pub fn to_login(path_and_query: &str) -> Response {
    let next: String = url::form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect();
    let mut r = (StatusCode::SEE_OTHER, "log in first").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/console/login?next={next}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// A place to go back to after logging in: a path on this appliance, nothing else.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// The form token a request's forms must carry (a request extension set by the access
/// check): `None` when the caller is authenticated by a bearer token, which a browser
/// never sends by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csrf(pub Option<String>);

impl Csrf {
    /// The token of a cookie-authenticated request (`cookie` is empty under `--no-auth`).
    pub fn for_cookie(cookie: &str) -> Csrf {
        let d = Sha256::new()
            .chain_update(b"rackboot console form\0")
            .chain_update(cookie.as_bytes())
            .finalize();
        let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
        Csrf(Some(hex))
    }

    /// The value forms carry (empty when none is needed).
    pub fn value(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }

    /// Check a submitted form's token.
    pub fn check(&self, given: Option<&str>) -> Result<(), Problem> {
        match &self.0 {
            None => Ok(()),
            Some(want) if given == Some(want.as_str()) => Ok(()),
            Some(_) => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "the form's token is missing or is not this login's: reload the page and try again",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; rackboot_console=tok.en; b=2")]);
        assert_eq!(cookie_token(&h).as_deref(), Some("tok.en"));
        assert_eq!(
            cookie_token(&headers(&[("cookie", "rackboot_console=")])),
            None
        );
        assert_eq!(cookie_token(&HeaderMap::new()), None);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_tls() {
        let c = set_cookie("t", 300, true);
        let c = c.to_str().unwrap();
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Max-Age=300",
            "Secure",
            "Path=/",
        ] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
        assert!(
            !set_cookie("t", 300, false)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }

    #[test]
    fn another_sites_request_is_refused() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])).is_ok());
        assert!(same_origin(&headers(&[("sec-fetch-site", "cross-site")])).is_err());
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-site")])).is_err());
        let ok = headers(&[
            ("origin", "https://10.1.0.1:8443"),
            ("host", "10.1.0.1:8443"),
        ]);
        assert!(same_origin(&ok).is_ok());
        let evil = headers(&[
            ("origin", "https://evil.example"),
            ("host", "10.1.0.1:8443"),
        ]);
        assert!(same_origin(&evil).is_err());
        assert!(same_origin(&headers(&[("origin", "null"), ("host", "h")])).is_err());
        assert!(same_origin(&HeaderMap::new()).is_ok());
    }

    #[test]
    fn the_form_token_is_the_logins_own() {
        let a = Csrf::for_cookie("token-a");
        let b = Csrf::for_cookie("token-b");
        assert_ne!(a, b);
        assert!(a.check(Some(a.value())).is_ok());
        assert!(a.check(Some(b.value())).is_err());
        assert!(a.check(None).is_err());
        assert!(Csrf(None).check(None).is_ok());
    }

    #[test]
    fn next_stays_on_this_appliance() {
        assert_eq!(
            safe_next(Some("/console/nodes/x1?y=1")),
            "/console/nodes/x1?y=1"
        );
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "", "x"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
