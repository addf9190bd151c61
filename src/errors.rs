//! Error text for logs and recorded failures: an error and every cause, on one line.
//!
//! Shared by every layer (API problems, operators, the artifact source, the CLI), so it
//! lives here rather than in any one of them.

/// The error and its causes joined by ": ", skipping a cause whose text is already there
/// (wrappers often repeat their source's message).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}
