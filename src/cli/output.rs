//! Output for humans (tables) or programs (`--format json`), and the documents commands
//! read (`--file`: JSON or YAML).

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
}

pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.to_vec());
    for r in rows {
        t.add_row(r);
    }
    t.to_string()
}

pub fn json(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON values serialise")
}

/// A JSON field as display text ("" when missing).
pub fn field(v: &serde_json::Value, key: &str) -> String {
    match v.get(key) {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// Print a command's answer: with `--format json` the document itself, pretty-printed; with
/// tables whatever `render` makes of it (a table, a sentence, or several lines). Every
/// command prints its answer through here, so `--format json` always means exactly one
/// JSON document on stdout, and the table text is only computed when it is shown.
pub fn show(
    format: Format,
    doc: &serde_json::Value,
    render: impl FnOnce(&serde_json::Value) -> String,
) {
    match format {
        Format::Json => println!("{}", json(doc)),
        Format::Table => println!("{}", render(doc)),
    }
}

/// A one-line outcome: the message, or `{"result": msg}` with `--format json`.
pub fn done(format: Format, msg: &str) {
    show(format, &serde_json::json!({ "result": msg }), |_| {
        msg.to_string()
    });
}

/// A FIELD/VALUE table row.
pub fn kv(k: &str, v: String) -> Vec<String> {
    vec![k.to_string(), v]
}

/// The items of a JSON array (none if it is not one).
pub fn as_array(v: &serde_json::Value) -> &[serde_json::Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// A JSON or YAML document from a file, or from stdin for `-`; it must be an object.
pub fn read_doc(file: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    use anyhow::Context;
    let text = if file == std::path::Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?
    };
    let v = parse_doc(&text, file.extension().is_some_and(|e| e == "json"))
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if !v.is_object() {
        anyhow::bail!("{}: expected a JSON or YAML object", file.display());
    }
    Ok(v)
}

/// JSON if it parses as JSON, YAML otherwise (the error is the JSON one for `.json` files).
pub fn parse_doc(text: &str, is_json: bool) -> Result<serde_json::Value, String> {
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(e) if is_json => Err(format!("not valid JSON: {e}")),
        Err(_) => yaml_serde::from_str(text).map_err(|e| format!("not valid JSON or YAML: {e}")),
    }
}
