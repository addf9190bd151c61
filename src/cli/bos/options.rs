//! `rackboot bos options …`: BOS's service-wide options (timeouts, retry policy, polling
//! frequency, session cleanup, …), read and changed.
//!
//! Options are global, so they are sent without the tenant header. `set` takes
//! `KEY=VALUE` pairs rather than one flag per option: the option set is the server's (and
//! grows with BOS releases), so the CLI does not keep its own list. A value is JSON if it
//! parses (`20`, `true`, `"20"`) and a string otherwise (`7d`, `INFO`), which is what the
//! server's types need without the user quoting; the server judges names and values.

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value};

use super::{Client, path};
use crate::cli::output::{Format, show, table};

#[derive(Subcommand, Debug)]
pub enum OptionsCommand {
    /// Show every option
    Get,
    /// Set options: KEY=VALUE, where VALUE is taken as JSON if it parses (20, true) and
    /// as a string otherwise (7d, INFO)
    Set {
        #[arg(required = true, value_name = "KEY=VALUE", value_parser = parse_option)]
        values: Vec<(String, Value)>,
    },
}

pub(super) async fn run(c: &Client, format: Format, cmd: OptionsCommand) -> anyhow::Result<()> {
    let v: Value = match cmd {
        OptionsCommand::Get => c.get(&path(&["options"])).await?,
        OptionsCommand::Set { values } => {
            let body = options_body(values)?;
            c.json(Method::PATCH, &path(&["options"]), Some(&body))
                .await?
        }
    };
    show(format, &v, options_table);
    Ok(())
}

/// Every option, sorted by name.
fn options_table(v: &Value) -> String {
    let mut rows: Vec<Vec<String>> = v
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, val)| {
                    let shown = match val {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    vec![k.clone(), shown]
                })
                .collect()
        })
        .unwrap_or_default();
    rows.sort();
    table(&["OPTION", "VALUE"], rows)
}

/// `KEY=VALUE`: VALUE as JSON if it parses (numbers, booleans, quoted strings, …), as a
/// plain string otherwise.
pub fn parse_option(s: &str) -> Result<(String, Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got '{s}'"))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(format!("expected KEY=VALUE, got '{s}' (no key)"));
    }
    let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
    Ok((k.to_string(), value))
}

/// The PATCH body for `options set`; a key given twice is a mistake, not a last-one-wins.
fn options_body(values: Vec<(String, Value)>) -> anyhow::Result<Value> {
    let mut m = Map::new();
    for (k, v) in values {
        if m.insert(k.clone(), v).is_some() {
            anyhow::bail!("option {k} is given more than once");
        }
    }
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cli_bos_option_values_are_json_when_they_parse_else_strings() {
        let v = |s: &str| parse_option(s).unwrap();
        assert_eq!(
            v("polling_frequency=15"),
            ("polling_frequency".into(), json!(15))
        );
        assert_eq!(v("clear_stage=true"), ("clear_stage".into(), json!(true)));
        assert_eq!(v("reject_nids=false"), ("reject_nids".into(), json!(false)));
        assert_eq!(v("x=1.5"), ("x".into(), json!(1.5)));
        assert_eq!(
            v("cleanup_completed_session_ttl=7d"),
            ("cleanup_completed_session_ttl".into(), json!("7d"))
        );
        assert_eq!(
            v("logging_level=INFO"),
            ("logging_level".into(), json!("INFO"))
        );
        // Quoting forces a string; an empty value is the empty string; `=` in values stays.
        assert_eq!(v(r#"x="20""#), ("x".into(), json!("20")));
        assert_eq!(v("x="), ("x".into(), json!("")));
        assert_eq!(v("x=a=b"), ("x".into(), json!("a=b")));
        assert_eq!(v("x=True"), ("x".into(), json!("True")));
        assert!(parse_option("x").is_err());
        assert!(parse_option("=5").is_err());
        assert_eq!(
            options_body(vec![("a".into(), json!(1)), ("b".into(), json!("s"))]).unwrap(),
            json!({"a": 1, "b": "s"})
        );
        assert!(options_body(vec![("a".into(), json!(1)), ("a".into(), json!(2))]).is_err());
    }
}
