//! Live updates (`GET /console/events`): Server-Sent Events, one `update` a second with what
//! changed since the last — tiles whose state moved, the counts, and the progress of the
//! sessions being watched. Every stream reads the one shared rack snapshot
//! ([`App::rack`]), so a hundred open browsers cost the store what one does. A stream ends
//! when the appliance stops (the listener's [`Stop`]), so it never holds a shutdown; the
//! browser's `EventSource` reconnects by itself and gets every tile again.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::app::bos::sessions::SessionFilter;
use crate::model::SessionStatus;
use crate::model::rack::TileState;
use crate::shutdown::Stop;

/// How often a stream looks for changes.
const PERIOD: Duration = Duration::from_secs(1);

#[derive(Debug, Default, serde::Deserialize)]
pub struct Watch {
    /// `all`: the progress of every session that is not complete (and of each once more as
    /// it completes); otherwise one session's name.
    pub sessions: Option<String>,
}

struct Streaming {
    app: Arc<App>,
    stop: Stop,
    watch: Watch,
    sent: HashMap<String, TileState>,
    running: HashSet<String>,
    first: bool,
}

impl Streaming {
    /// The next update: changed tiles, counts, watched sessions.
    async fn update(&mut self) -> Value {
        let mut out = Map::new();
        match self.app.rack().await {
            Ok(snap) => {
                let mut tiles = Map::new();
                for t in &snap.tiles {
                    if self.sent.get(&t.xname) != Some(&t.state) {
                        self.sent.insert(t.xname.clone(), t.state);
                        tiles.insert(t.xname.clone(), t.state.as_str().into());
                    }
                }
                let counts: Map<String, Value> = snap
                    .counts()
                    .into_iter()
                    .map(|(s, n)| (s.as_str().to_string(), n.into()))
                    .collect();
                out.insert("taken".into(), snap.taken.to_rfc3339().into());
                out.insert("tiles".into(), tiles.into());
                out.insert("counts".into(), counts.into());
            }
            Err(e) => {
                out.insert(
                    "error".into(),
                    format!("cannot read the rack: {}", crate::errors::chain(&e)).into(),
                );
            }
        }
        if self.watch.sessions.is_some() {
            out.insert("sessions".into(), self.sessions().await);
        }
        out.into()
    }

    async fn sessions(&mut self) -> Value {
        let Ok(scope) = self.app.scope(None).await else {
            return Value::Array(vec![]);
        };
        let one = self.watch.sessions.as_deref().filter(|s| *s != "all");
        let all = self
            .app
            .list_sessions(&scope, &SessionFilter::default())
            .await
            .unwrap_or_default();
        let mut out = Vec::new();
        for s in all {
            let watched = match one {
                Some(name) => s.name == name,
                None => !s.is(SessionStatus::Complete) || self.running.contains(&s.name),
            };
            if !watched {
                continue;
            }
            if s.is(SessionStatus::Complete) {
                self.running.remove(&s.name);
            } else {
                self.running.insert(s.name.clone());
            }
            let Ok(st) = self.app.session_status(&scope, &s.name).await else {
                continue;
            };
            out.push(json!({
                "name": s.name,
                "status": st.status.as_str(),
                "ok": st.percent_successful,
                "failed": st.percent_failed,
                "off": st.phases.percent_powering_off,
                "on": st.phases.percent_powering_on,
                "cfg": st.phases.percent_configuring,
                "managed": st.managed_components_count,
                "error": s.status.error,
            }));
        }
        out.into()
    }
}

pub async fn stream(
    State(app): State<Arc<App>>,
    stop: Option<Extension<Stop>>,
    Query(watch): Query<Watch>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let state = Streaming {
        app,
        // Outside a listener (a test calling the router directly) nothing stops it but the
        // client going away.
        stop: stop.map(|s| s.0).unwrap_or_default(),
        watch,
        sent: HashMap::new(),
        running: HashSet::new(),
        first: true,
    };
    let s = futures::stream::unfold(state, |mut st| async move {
        if !st.first {
            tokio::select! {
                () = st.stop.cancelled() => return None,
                () = tokio::time::sleep(PERIOD) => {}
            }
        }
        st.first = false;
        if st.stop.is_cancelled() {
            return None;
        }
        let data = st.update().await;
        let ev = Event::default().event("update").data(data.to_string());
        Some((Ok(ev), st))
    });
    Sse::new(s).keep_alive(KeepAlive::default())
}
