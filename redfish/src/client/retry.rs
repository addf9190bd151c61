//! The retry policy, and the one retry loop every request path runs.
//!
//! Deciding is pure: [`classify`] reads an answer's status, `Retry-After` and body and says
//! whether it succeeded, was refused, is worth another try ("busy") or failed for good;
//! [`Backoff::delay`] says how long to wait before retry number *n*. Both are plain
//! functions, tested here over real error bodies without a socket or a clock.
//!
//! Acting is thin: [`Backoff::run`] calls one attempt after another, sleeping between them,
//! until an attempt is done or the budget is spent. The attempt itself (in `transport` and
//! `session`) turns what it saw into a [`Step`]; this loop knows nothing about HTTP.

use std::time::Duration;

use reqwest::StatusCode;

use crate::error::{Error, Result};
use crate::model::ErrorBody;

/// MessageIds (suffixes) that mean "busy now, the same request may work later".
const BUSY_MESSAGES: &[&str] = &[
    "ServiceTemporarilyUnavailable",
    "ResourceInUse",
    "SessionLimitExceeded",
    "ServiceInUnknownState",
    "ServiceShuttingDown",
];

/// The longest `Retry-After` honoured: a BMC asking for minutes is waited on for this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// What one answer means for the request that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// 2xx.
    Success,
    /// 401: the credentials or the session were refused.
    Unauthorized,
    /// 503, or an error whose MessageId (or code) says "busy": the same request may work
    /// later. `after` is the BMC's `Retry-After` in seconds, capped at [`MAX_RETRY_AFTER`].
    Busy { after: Option<Duration> },
    /// Any other error: retrying would get the same answer.
    Failed,
}

/// Classify an answer: `retry_after` is the raw `Retry-After` header, if any.
pub(crate) fn classify(status: StatusCode, retry_after: Option<&str>, body: &[u8]) -> Verdict {
    if status.is_success() {
        return Verdict::Success;
    }
    if status == StatusCode::UNAUTHORIZED {
        return Verdict::Unauthorized;
    }
    let err: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let busy = status == StatusCode::SERVICE_UNAVAILABLE
        || err
            .message_ids()
            .any(|id| BUSY_MESSAGES.iter().any(|b| id.ends_with(b)));
    if busy {
        Verdict::Busy {
            after: retry_after.and_then(parse_retry_after),
        }
    } else {
        Verdict::Failed
    }
}

/// `Retry-After` in delta-seconds, capped; an HTTP-date or garbage is `None` (the backoff
/// then decides).
fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs = value.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// What one attempt of a request came to.
pub(crate) enum Step<T> {
    /// Finished, well or badly: no more attempts.
    Done(Result<T>),
    /// Worth another attempt after `after` (or the backoff delay when `None`), if the budget
    /// allows; otherwise the request fails with `error`.
    Retry {
        error: Error,
        after: Option<Duration>,
    },
    /// Try again at once without using up the budget (a fresh login after a stale session).
    /// The attempt itself must make sure this cannot repeat forever.
    Again,
}

/// A request path's retry budget: `retries` extra attempts, the first after `base`, each
/// wait twice the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub(crate) base: Duration,
    pub(crate) retries: u32,
}

impl Backoff {
    /// The wait before retry number `retry` (0 for the first): `base`, doubled per retry,
    /// at most 64 times `base`.
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        self.base.saturating_mul(1u32 << retry.min(6))
    }

    /// Run `attempt` until it is done or the budget is spent. `bmc` and `op` only label the
    /// debug log of each retry.
    ///
    /// `attempt` is a closure returning a future rather than an async closure: the futures
    /// of async closures that borrow cannot yet be proven `Send` for every lifetime, and
    /// the appliance runs these requests on spawned tasks.
    pub(crate) async fn run<T, F, Fut>(&self, bmc: &str, op: &str, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Step<T>>,
    {
        let mut retry = 0u32;
        loop {
            match attempt().await {
                Step::Done(result) => return result,
                Step::Again => {}
                Step::Retry { error, after } if retry < self.retries => {
                    let wait = after.unwrap_or_else(|| self.delay(retry));
                    tracing::debug!(bmc, op, %error, ?wait, "retrying");
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
                Step::Retry { error, .. } => return Err(error),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap()
    }

    /// What SimBmc's `fail_next(_, 503)` answers, DMTF Base 1.8 style (with `Retry-After: 1`).
    const SIM_503: &str = r##"{"error":{"code":"Base.1.8.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information.","@Message.ExtendedInfo":[{"@odata.type":"#Message.v1_1_1.Message","MessageId":"Base.1.8.ServiceTemporarilyUnavailable","Message":"Injected fault: the service answered 503 Service Unavailable.","MessageArgs":[],"Severity":"Warning","Resolution":"Retry the request; SimBmc was told to fail it (fail_next)."}]}}"##;

    /// SimBmc's full session table.
    const SIM_SESSION_LIMIT: &str = r##"{"error":{"code":"Base.1.8.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information.","@Message.ExtendedInfo":[{"MessageId":"Base.1.8.SessionLimitExceeded","Message":"The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation (64).","Severity":"Warning"}]}}"##;

    /// A 404 recorded from an HPE Cray EX425 node controller (the `EX425` mockup).
    const EX425_404: &str = r##"{"error":{"@Message.ExtendedInfo":[{"@odata.type":"#Message.v1_0_5.Message","Message":"The resource at the URI /redfish/v1/Chassis/Mezz0/Power was not found.","MessageArgs":["/redfish/v1/Chassis/Mezz0/Power"],"MessageId":"Base.1.4.ResourceMissingAtURI","Resolution":"Place a valid resource at the URI or correct the URI and resubmit the request.","Severity":"Critical"}],"code":"Base.1.4.ResourceMissingAtURI","message":"The resource at the URI /redfish/v1/Chassis/Mezz0/Power was not found."}}"##;

    /// HPE iLO 5's error envelope (code `iLO.0.10.ExtendedInfo`, the MessageId in
    /// ExtendedInfo only) around a message of the Base 1.4 registry it ships.
    fn ilo(message_id: &str) -> String {
        format!(
            r#"{{"error":{{"code":"iLO.0.10.ExtendedInfo","message":"See @Message.ExtendedInfo for more information.","@Message.ExtendedInfo":[{{"MessageId":"{message_id}"}}]}}}}"#
        )
    }

    #[test]
    fn success_is_any_2xx_whatever_the_body() {
        assert_eq!(classify(status(200), None, b"{}"), Verdict::Success);
        assert_eq!(classify(status(201), None, b""), Verdict::Success);
        assert_eq!(classify(status(204), Some("5"), b""), Verdict::Success);
    }

    #[test]
    fn unauthorized_wins_over_a_busy_body() {
        assert_eq!(classify(status(401), None, b""), Verdict::Unauthorized);
        assert_eq!(
            classify(status(401), Some("1"), SIM_503.as_bytes()),
            Verdict::Unauthorized
        );
    }

    #[test]
    fn a_503_is_busy_with_or_without_a_readable_body() {
        assert_eq!(
            classify(status(503), Some("1"), SIM_503.as_bytes()),
            Verdict::Busy {
                after: Some(Duration::from_secs(1))
            }
        );
        assert_eq!(
            classify(status(503), None, SIM_SESSION_LIMIT.as_bytes()),
            Verdict::Busy { after: None }
        );
        assert_eq!(
            classify(status(503), None, b"<html>Service Unavailable</html>"),
            Verdict::Busy { after: None }
        );
    }

    #[test]
    fn busy_message_ids_make_any_status_busy() {
        for id in [
            "Base.1.4.ServiceTemporarilyUnavailable",
            "Base.1.4.ResourceInUse",
            "Base.1.4.SessionLimitExceeded",
            "Base.1.4.ServiceInUnknownState",
            "Base.1.4.ServiceShuttingDown",
        ] {
            for code in [400, 409, 500] {
                assert_eq!(
                    classify(status(code), None, ilo(id).as_bytes()),
                    Verdict::Busy { after: None },
                    "{code} {id}"
                );
            }
        }
        // Only the code says so (no ExtendedInfo).
        let code_only = r#"{"error":{"code":"Base.1.0.ResourceInUse","message":"in transition"}}"#;
        assert_eq!(
            classify(status(409), None, code_only.as_bytes()),
            Verdict::Busy { after: None }
        );
    }

    #[test]
    fn other_errors_fail_for_good() {
        assert_eq!(
            classify(status(404), None, EX425_404.as_bytes()),
            Verdict::Failed
        );
        assert_eq!(
            classify(
                status(400),
                None,
                ilo("Base.1.4.ActionParameterNotSupported").as_bytes()
            ),
            Verdict::Failed
        );
        // The match is on the MessageId's suffix: iLO's own "...WithDetail" variant is not
        // one of the busy messages.
        assert_eq!(
            classify(
                status(409),
                None,
                ilo("iLO.2.14.ResourceInUseWithDetail").as_bytes()
            ),
            Verdict::Failed
        );
        assert_eq!(classify(status(500), None, b"oops"), Verdict::Failed);
        assert_eq!(classify(status(412), Some("1"), b""), Verdict::Failed);
    }

    #[test]
    fn retry_after_is_seconds_capped_and_dates_are_ignored() {
        let busy = |after: &str| classify(status(503), Some(after), b"");
        assert_eq!(
            busy(" 2 "),
            Verdict::Busy {
                after: Some(Duration::from_secs(2))
            }
        );
        assert_eq!(
            busy("120"),
            Verdict::Busy {
                after: Some(MAX_RETRY_AFTER)
            }
        );
        assert_eq!(
            busy("Wed, 21 Oct 2015 07:28:00 GMT"),
            Verdict::Busy { after: None }
        );
        assert_eq!(busy("-1"), Verdict::Busy { after: None });
    }

    #[test]
    fn backoff_doubles_and_stops_doubling_after_six() {
        let b = Backoff {
            base: Duration::from_millis(200),
            retries: 3,
        };
        let ms: Vec<u128> = (0..9).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(ms, [200, 400, 800, 1600, 3200, 6400, 12800, 12800, 12800]);
        let huge = Backoff {
            base: Duration::MAX,
            retries: 1,
        };
        assert_eq!(huge.delay(3), Duration::MAX, "saturates");
    }

    fn busy_error() -> Error {
        Error::Http {
            bmc: "bmc:443".into(),
            op: "GET /".into(),
            status: 503,
            message: "busy".into(),
        }
    }

    #[tokio::test]
    async fn the_loop_spends_the_budget_then_fails_with_the_last_error() {
        let b = Backoff {
            base: Duration::ZERO,
            retries: 2,
        };
        let mut calls = 0;
        let r: Result<()> = b
            .run("bmc:443", "GET /", || {
                calls += 1;
                async {
                    Step::Retry {
                        error: busy_error(),
                        after: None,
                    }
                }
            })
            .await;
        assert_eq!(r, Err(busy_error()));
        assert_eq!(calls, 3, "one attempt and two retries");
    }

    #[tokio::test]
    async fn again_is_free_and_done_ends_the_loop() {
        let b = Backoff {
            base: Duration::ZERO,
            retries: 0,
        };
        let mut calls = 0;
        let r = b
            .run("bmc:443", "GET /", || {
                calls += 1;
                let n = calls;
                async move {
                    match n {
                        1 | 2 => Step::Again,
                        _ => Step::Done(Ok(n)),
                    }
                }
            })
            .await;
        assert_eq!(r, Ok(3));
    }
}
