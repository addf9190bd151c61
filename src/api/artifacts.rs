//! The boot-artifact proxy nodes fetch from: `GET|HEAD /artifacts/<token>/<name>`.
//!
//! Serves what the token opens (see `app::artifacts`) from the cache, with Content-Length,
//! ETag, Last-Modified, single byte ranges (206, 416 for ranges it cannot satisfy) and
//! If-None-Match (304). Every fetch is recorded on the node's boot timeline with its bytes,
//! duration, client address and outcome, including a client that goes away mid-transfer.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use futures::Stream;

use super::problem::{ApiResult, Problem};
use crate::app::App;
use crate::app::timeline::BootEvent;
use crate::model::Xname;

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/{token}/{name}", get(fetch).head(fetch))
}

/// A quoted entity tag, whatever form the origin gave.
fn quoted(etag: &str) -> String {
    if etag.starts_with('"') || etag.starts_with("W/") {
        etag.to_string()
    } else {
        format!("\"{etag}\"")
    }
}

fn etag_matches(header: &str, etag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header.trim() == "*" || header.split(',').any(|t| strip(t) == strip(etag))
}

/// A single byte range of an object of `size` bytes: `Ok(None)` means the whole object
/// (no Range header, or one we ignore, such as several ranges); `Err` means 416.
fn parse_range(header: Option<&str>, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(h) = header else { return Ok(None) };
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        size.saturating_sub(n)..size
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end = if b.is_empty() {
            size
        } else {
            let last: u64 = b.parse().map_err(|_| ())?;
            if last < start {
                return Err(());
            }
            (last + 1).min(size)
        };
        start..end
    };
    if range.start >= size || range.is_empty() {
        return Err(());
    }
    Ok(Some(range))
}

async fn fetch(
    State(app): State<Arc<App>>,
    Path((token, name)): Path<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    let started = Instant::now();
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let head = req.method() == Method::HEAD;
    let headers = req.headers().clone();
    let (node, cached) = app.open_artifact(&token, &name, client.as_deref()).await?;
    let meta = cached.meta.clone();
    let size = meta.size;
    let etag = meta
        .etag
        .as_deref()
        .map(quoted)
        .unwrap_or_else(|| format!("\"{size:x}-{:x}\"", meta.last_modified.timestamp()));
    let last_modified = meta
        .last_modified
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let mut builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::LAST_MODIFIED, &last_modified)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "private, max-age=3600");
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        && etag_matches(inm, &etag)
    {
        return Ok(builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .expect("valid response"));
    }
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = match parse_range(range_header, size) {
        Ok(r) => r,
        Err(()) => {
            let mut p = Problem::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!(
                    "range '{}' cannot be served from {name} ({size} bytes)",
                    range_header.unwrap_or_default()
                ),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                p.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(p);
        }
    };
    let (status, span) = match &range {
        Some(r) => {
            builder = builder.header(
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start, r.end - 1),
            );
            (StatusCode::PARTIAL_CONTENT, r.clone())
        }
        None => (StatusCode::OK, 0..size),
    };
    builder = builder
        .status(status)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, span.end - span.start);
    if head {
        return Ok(builder.body(Body::empty()).expect("valid response"));
    }
    let stream = cached.read(span.clone()).await.map_err(|e| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot read the cached {name}: {e}"),
        )
    })?;
    let recorded = Recorded {
        inner: stream,
        bytes: 0,
        expected: span.end - span.start,
        failed: false,
        record: Some(Box::new(move |bytes, outcome: &str| {
            let Some(node) = node else {
                return;
            };
            app.record_boot_event(
                &node,
                BootEvent {
                    time: chrono::Utc::now(),
                    what: name.clone(),
                    bytes,
                    duration_ms: started.elapsed().as_millis() as u64,
                    client: client.clone(),
                    outcome: if outcome == "complete" && range.is_some() {
                        "partial".into()
                    } else {
                        outcome.into()
                    },
                    token: Some(token.clone()),
                    file: None,
                    repeats: 0,
                    last_time: None,
                },
            );
        })),
    };
    Ok(builder
        .body(Body::from_stream(recorded))
        .expect("valid response"))
}

type RecordFn = Box<dyn FnOnce(u64, &str) + Send>;

/// Counts what reaches the client and records the fetch when it ends, however it ends.
struct Recorded<S> {
    inner: S,
    bytes: u64,
    expected: u64,
    failed: bool,
    record: Option<RecordFn>,
}

impl<S> Stream for Recorded<S>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin,
{
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = Pin::new(&mut self.inner).poll_next(cx);
        match &next {
            Poll::Ready(Some(Ok(b))) => self.bytes += b.len() as u64,
            Poll::Ready(Some(Err(_))) => self.failed = true,
            Poll::Ready(None) | Poll::Pending => {}
        }
        next
    }
}

impl<S> Drop for Recorded<S> {
    fn drop(&mut self) {
        let outcome = if self.failed {
            "failed"
        } else if self.bytes == self.expected {
            // hyper stops polling once Content-Length bytes are out, so the end of the
            // stream may never be seen: all the bytes is complete.
            "complete"
        } else {
            "aborted"
        };
        if let Some(f) = self.record.take() {
            f(self.bytes, outcome);
        }
    }
}

/// A node's boot timeline.
pub async fn timeline(
    State(app): State<Arc<App>>,
    Path(x): Path<String>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let node = Xname::parse(&x).map_err(|e| Problem::bad_request(e.to_string()))?;
    let events = app.timeline(&node).await?;
    Ok(axum::Json(
        serde_json::json!({"xname": node.to_string(), "events": events}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some(0..10)));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some(90..100)));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some(90..100)));
        assert_eq!(parse_range(Some("bytes=95-200"), 100), Ok(Some(95..100)));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=5-2"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=x-2"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=-0"), 100), Err(()));
    }

    #[test]
    fn etags() {
        assert_eq!(quoted("abc"), "\"abc\"");
        assert_eq!(quoted("\"abc\""), "\"abc\"");
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\", \"x\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }
}
