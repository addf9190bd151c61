//! BMC events: the EventService's Server-Sent Events stream, followed for as long as the
//! BMC keeps it open.
//!
//! A BMC that streams events tells a client when a system changed (its PowerState, a
//! restart) instead of being polled for it. [`Bmc::sse_uri`] finds the stream
//! (`EventService.ServerSentEventUri`), [`Bmc::follow_events`] reads it and hands every
//! event record's origin to the caller, until the BMC closes the stream, an error, or
//! `idle` passes without a byte (no event and no keep-alive comment: the stream is dead
//! even if TCP does not know it yet). The stream is not one of the capped requests (it
//! would hold a permit for hours); it carries the BMC's credentials like any other.
//!
//! The SSE framing (lines of `field: value`, an event ends at a blank line, `:` starts a
//! comment) is parsed here rather than with an SSE crate: those yield only complete events,
//! and the idle rule needs every byte, comments included, to count as a sign of life.

use std::time::Duration;

use reqwest::header;
use serde_json::Value;

use super::Bmc;
use super::session::Cred;
use crate::error::{Error, Result};

/// One record of a Redfish event: what happened, and to which resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub message_id: String,
    /// The `@odata.id` of `OriginOfCondition`, trailing slash removed.
    pub origin: Option<String>,
    pub message: Option<String>,
}

/// What the stream tells, in order: that it is open, then each event record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamItem {
    /// The BMC answered the stream request: changes from now on will be told.
    Opened,
    Record(EventRecord),
}

/// Why following stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowEnd {
    /// The BMC ended the stream.
    Closed,
    /// Nothing came for the idle time.
    Idle,
}

/// The records of one event's JSON (`Events[]`), tolerant of what BMCs leave out.
pub fn records(data: &str) -> Vec<EventRecord> {
    let Ok(v) = serde_json::from_str::<Value>(data) else {
        return Vec::new();
    };
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    v.get("Events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| EventRecord {
            message_id: text(e, "MessageId").unwrap_or_default(),
            origin: e
                .get("OriginOfCondition")
                .and_then(|o| o.get("@odata.id"))
                .and_then(Value::as_str)
                .map(|s| s.trim_end_matches('/').to_string()),
            message: text(e, "Message"),
        })
        .collect()
}

/// SSE framing: feed it bytes, get the `data` of each complete event.
#[derive(Default)]
pub struct SseParser {
    line: Vec<u8>,
    data: String,
}

impl SseParser {
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for &b in bytes {
            if b != b'\n' {
                self.line.push(b);
                continue;
            }
            let line = String::from_utf8_lossy(&self.line)
                .trim_end_matches('\r')
                .to_string();
            self.line.clear();
            if line.is_empty() {
                if !self.data.is_empty() {
                    out.push(std::mem::take(&mut self.data));
                }
            } else if let Some(v) = line.strip_prefix("data:") {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
            // `id:`, `event:`, `retry:` and comments are not needed.
        }
        out
    }
}

impl Bmc {
    /// The BMC's SSE stream, if its EventService offers one.
    pub async fn sse_uri(&self) -> Result<Option<String>> {
        let root: Value = self.get(super::ROOT, "read the service root").await?;
        let Some(service) = root
            .get("EventService")
            .and_then(|e| e.get("@odata.id"))
            .and_then(Value::as_str)
        else {
            return Ok(None);
        };
        let doc: Value = self.get(service, "read the EventService").await?;
        let enabled = doc.get("ServiceEnabled").and_then(Value::as_bool) != Some(false);
        Ok(doc
            .get("ServerSentEventUri")
            .and_then(Value::as_str)
            .filter(|u| enabled && !u.is_empty())
            .map(str::to_string))
    }

    /// Read the stream at `uri`, calling `on` once it is open and for each event record,
    /// until it ends.
    pub async fn follow_events(
        &self,
        uri: &str,
        idle: Duration,
        mut on: impl FnMut(StreamItem) + Send,
    ) -> Result<FollowEnd> {
        let op = "follow the event stream";
        let mut req = self
            .http
            .get(self.url(uri))
            .header(header::ACCEPT, "text/event-stream");
        req = match self.credentials().await? {
            Cred::None => req,
            Cred::Basic => req.basic_auth(&self.cfg.username, Some(&self.cfg.password)),
            Cred::Token(t) => req.header("X-Auth-Token", t),
        };
        let mut resp = match tokio::time::timeout(self.cfg.timeout, req.send()).await {
            Err(_) => {
                return Err(Error::Timeout {
                    bmc: self.label.clone(),
                    op: op.into(),
                    secs: self.cfg.timeout.as_secs().max(1),
                });
            }
            Ok(Err(e)) => return Err(self.transport_error(e, op).await),
            Ok(Ok(r)) => r,
        };
        if !resp.status().is_success() {
            let status = resp.status();
            let body = resp.bytes().await.unwrap_or_default();
            return Err(Error::Http {
                bmc: self.label.clone(),
                op: op.into(),
                status: status.as_u16(),
                message: super::transport::failure_message(status, &body),
            });
        }
        on(StreamItem::Opened);
        let mut parser = SseParser::default();
        loop {
            let chunk = match tokio::time::timeout(idle, resp.chunk()).await {
                Err(_) => return Ok(FollowEnd::Idle),
                Ok(Err(e)) => return Err(self.transport_error(e, op).await),
                Ok(Ok(None)) => return Ok(FollowEnd::Closed),
                Ok(Ok(Some(c))) => c,
            };
            for data in parser.feed(&chunk) {
                for r in records(&data) {
                    on(StreamItem::Record(r));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_framing_and_event_records() {
        let mut p = SseParser::default();
        assert!(p.feed(b": keep-alive\n\nid: 1\nda").is_empty());
        let got = p.feed(b"ta: {\"Events\":[{\"MessageId\":\"ResourceEvent.1.0.ResourceChanged\",\r\ndata: \"OriginOfCondition\":{\"@odata.id\":\"/redfish/v1/Systems/Node0/\"}}]}\n\n");
        assert_eq!(got.len(), 1);
        let r = records(&got[0]);
        assert_eq!(
            r,
            vec![EventRecord {
                message_id: "ResourceEvent.1.0.ResourceChanged".into(),
                origin: Some("/redfish/v1/Systems/Node0".into()),
                message: None,
            }]
        );
        assert!(records("not json").is_empty());
        assert!(records("{\"Events\": 3}").is_empty());
    }
}
