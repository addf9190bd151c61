//! Users and API tokens as the last few seconds' requests saw them, so an authenticated call
//! costs no store reads (an inventory import is thousands of calls). Every identity write in
//! this process clears it, so a revoked token, a deleted user or a changed role stops
//! working on the very next request; an entry is trusted for [`TTL`] at most, which bounds
//! how long a change made outside this process (another replica, issue 20) goes unseen.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::identity::{ApiToken, User};

const TTL: Duration = Duration::from_secs(5);
const MAX: usize = 10_000;

#[derive(Default)]
pub struct IdentityCache {
    tokens: Mutex<HashMap<String, (Instant, Option<ApiToken>)>>,
    users: Mutex<HashMap<String, (Instant, Option<User>)>>,
}

fn get<T: Clone>(m: &Mutex<HashMap<String, (Instant, Option<T>)>>, k: &str) -> Option<Option<T>> {
    let m = m.lock().expect("identity cache");
    m.get(k)
        .filter(|(at, _)| at.elapsed() < TTL)
        .map(|(_, v)| v.clone())
}

fn put<T>(m: &Mutex<HashMap<String, (Instant, Option<T>)>>, k: &str, v: Option<T>) {
    let mut m = m.lock().expect("identity cache");
    if m.len() >= MAX {
        m.clear();
    }
    m.insert(k.to_string(), (Instant::now(), v));
}

impl IdentityCache {
    /// `Some(found)` when cached (found may be `None`: known not to exist).
    pub fn token(&self, id: &str) -> Option<Option<ApiToken>> {
        get(&self.tokens, id)
    }

    pub fn put_token(&self, id: &str, t: Option<ApiToken>) {
        put(&self.tokens, id, t);
    }

    pub fn user(&self, name: &str) -> Option<Option<User>> {
        get(&self.users, name)
    }

    pub fn put_user(&self, name: &str, u: Option<User>) {
        put(&self.users, name, u);
    }

    /// After any write of users or tokens.
    pub fn forget(&self) {
        self.tokens.lock().expect("identity cache").clear();
        self.users.lock().expect("identity cache").clear();
    }
}
