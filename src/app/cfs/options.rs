//! The built-in CFS's service options (CFS's `/options`): the batcher's settings, the
//! default retry policy and the v2 default playbook.
//!
//! Only two of them mean anything here, because the built-in CFS runs no batcher and no
//! Ansible: `default_batcher_retry_policy` is the retry policy of a component that has none
//! (it decides when `pending` becomes `failed`), and `default_playbook` is the playbook a v2
//! configuration layer without one gets. The rest are kept and shown so that clients that
//! read or set them work. They are stored (`cfs_options`, one row) and cached here: the
//! status rules read the retry policy on every component read, so a read must not cost a
//! store round trip.

use std::sync::RwLock;

pub use crate::model::cfs::CfsOptions;

/// A change to the options: the fields given.
#[derive(Debug, Clone, Default)]
pub struct OptionsPatch {
    pub hardware_sync_interval: Option<i64>,
    pub batcher_check_interval: Option<i64>,
    pub batch_size: Option<i64>,
    pub batch_window: Option<i64>,
    pub default_batcher_retry_policy: Option<i64>,
    pub default_playbook: Option<String>,
    pub default_ansible_config: Option<String>,
    pub session_ttl: Option<String>,
    pub additional_inventory_url: Option<String>,
    pub batcher_max_backoff: Option<i64>,
    pub batcher_disable: Option<bool>,
    pub batcher_pending_timeout: Option<i64>,
    pub logging_level: Option<String>,
}

fn no_space_or_semicolon(s: &str) -> bool {
    !s.chars().any(|c| c.is_whitespace() || c == ';')
}

impl OptionsPatch {
    /// Every value outside CFS's bounds, each naming its option (`name` gives the wire
    /// spelling).
    pub fn check(&self, name: impl Fn(&str) -> String) -> Vec<String> {
        let mut out = Vec::new();
        let mut at_least = |field: &str, v: Option<i64>, min: i64| {
            if let Some(v) = v
                && v < min
            {
                out.push(format!("{}: {v} is less than {min}", name(field)));
            }
        };
        at_least("hardware_sync_interval", self.hardware_sync_interval, 1);
        at_least("batcher_check_interval", self.batcher_check_interval, 1);
        at_least("batch_size", self.batch_size, 1);
        at_least("batch_window", self.batch_window, 0);
        at_least(
            "default_batcher_retry_policy",
            self.default_batcher_retry_policy,
            0,
        );
        at_least("batcher_max_backoff", self.batcher_max_backoff, 0);
        at_least("batcher_pending_timeout", self.batcher_pending_timeout, 1);
        let mut text = |field: &str, v: &Option<String>, max: usize, plain: bool| {
            if let Some(v) = v {
                if v.chars().count() > max {
                    out.push(format!("{}: longer than {max} characters", name(field)));
                } else if plain && !no_space_or_semicolon(v) {
                    out.push(format!(
                        "{}: '{v}' must not contain white space or ';'",
                        name(field)
                    ));
                }
            }
        };
        text("default_playbook", &self.default_playbook, usize::MAX, true);
        text(
            "default_ansible_config",
            &self.default_ansible_config,
            60,
            false,
        );
        text(
            "additional_inventory_url",
            &self.additional_inventory_url,
            240,
            true,
        );
        text("session_ttl", &self.session_ttl, 10, false);
        if let Some(t) = &self.session_ttl
            && !ttl(t)
        {
            out.push(format!(
                "{}: '{t}' is not a number of minutes, hours, days or weeks (e.g. 24h), or empty",
                name("session_ttl")
            ));
        }
        if let Some(l) = &self.logging_level
            && !["DEBUG", "INFO", "WARNING", "ERROR"].contains(&l.as_str())
        {
            out.push(format!(
                "{}: '{l}' is not one of DEBUG, INFO, WARNING, ERROR",
                name("logging_level")
            ));
        }
        out
    }

    fn apply(self, o: &mut CfsOptions) {
        fn set<T>(to: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *to = v;
            }
        }
        set(&mut o.hardware_sync_interval, self.hardware_sync_interval);
        set(&mut o.batcher_check_interval, self.batcher_check_interval);
        set(&mut o.batch_size, self.batch_size);
        set(&mut o.batch_window, self.batch_window);
        set(
            &mut o.default_batcher_retry_policy,
            self.default_batcher_retry_policy,
        );
        set(&mut o.default_playbook, self.default_playbook);
        set(&mut o.default_ansible_config, self.default_ansible_config);
        set(&mut o.session_ttl, self.session_ttl);
        set(
            &mut o.additional_inventory_url,
            self.additional_inventory_url,
        );
        set(&mut o.batcher_max_backoff, self.batcher_max_backoff);
        set(&mut o.batcher_disable, self.batcher_disable);
        set(&mut o.batcher_pending_timeout, self.batcher_pending_timeout);
        set(&mut o.logging_level, self.logging_level);
    }
}

/// CFS's `session_ttl`: empty, or digits and one of m, h, d, w (either case).
fn ttl(t: &str) -> bool {
    if t.is_empty() {
        return true;
    }
    let Some(unit) = t.chars().last() else {
        return true;
    };
    let digits = &t[..t.len() - unit.len_utf8()];
    "mMhHdDwW".contains(unit) && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The options as the service holds them.
#[derive(Debug, Default)]
pub struct OptionsCell(RwLock<CfsOptions>);

impl OptionsCell {
    pub fn get(&self) -> CfsOptions {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The options after a checked patch (the cell is unchanged until [`OptionsCell::set`]).
    pub fn patched(&self, p: OptionsPatch) -> CfsOptions {
        let mut o = self.get();
        p.apply(&mut o);
        o
    }

    pub fn set(&self, o: CfsOptions) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = o;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ttl_follows_cfs_pattern() {
        for ok in ["", "24h", "7d", "1W", "30m"] {
            assert!(ttl(ok), "{ok}");
        }
        for bad in ["h", "1", "1é", "1x", "-1d", "1.5h"] {
            assert!(!ttl(bad), "{bad}");
        }
    }

    #[test]
    fn patch_names_each_bad_option_and_applies_the_rest() {
        let p = OptionsPatch {
            batch_size: Some(0),
            default_playbook: Some("a b".into()),
            logging_level: Some("LOUD".into()),
            ..Default::default()
        };
        let problems = p.check(|f| f.to_uppercase());
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("BATCH_SIZE"));
        let cell = OptionsCell::default();
        let o = cell.patched(OptionsPatch {
            default_batcher_retry_policy: Some(1),
            ..Default::default()
        });
        assert_eq!(o.default_batcher_retry_policy, 1);
        assert_eq!(o.batch_size, 25);
        assert_eq!(cell.get().default_batcher_retry_policy, 3);
        cell.set(o);
        assert_eq!(cell.get().default_batcher_retry_policy, 1);
    }
}
