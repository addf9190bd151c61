//! Swagger 2.0 documents (BSS, HSM, CAPMC) read as OpenAPI 3.0, so one checker serves every
//! upstream contract. The rewrite is structural only and loses nothing the checker uses:
//! - `basePath` becomes the one `servers` URL (the gateway prefix stripped from request paths);
//! - `definitions`, `parameters` and `responses` move under `components`, and every local
//!   `$ref` follows them;
//! - a response's `schema` becomes `content` under each media type the operation `produces`
//!   (else the document's), `application/json` when neither says; a response without `schema`
//!   documents no body, as in Swagger 2.0;
//! - `x-nullable: true` becomes `nullable: true` (go-swagger's spelling of the same rule), and
//!   `discriminator` (a bare property name in 2.0, which names the subtype and constrains
//!   nothing) is dropped.
//!
//! No crate converts Swagger 2.0 to OpenAPI 3 in Rust; these few moves are all the checker
//! needs, and keeping them here (instead of a converted copy on disk) lets the vendored files
//! stay verbatim. Also here: [`Spec::documents_media`], for answers that are not JSON (BSS's
//! boot script is `text/plain`).

use serde_json::{Map, Value, json};

use super::Spec;

/// Whether `doc` is a Swagger 2.0 document.
pub(super) fn is_swagger2(doc: &Value) -> bool {
    doc["swagger"].as_str() == Some("2.0")
}

/// Rewrite a Swagger 2.0 document into the OpenAPI 3.0 shape (see the module comment).
pub(super) fn to_openapi3(mut doc: Value) -> Value {
    let global = media_list(&doc["produces"]);
    let mut components = Map::new();
    for (from, to) in [
        ("definitions", "schemas"),
        ("parameters", "parameters"),
        ("responses", "responses"),
    ] {
        if let Some(v) = doc.as_object_mut().and_then(|d| d.remove(from)) {
            components.insert(to.to_string(), v);
        }
    }
    if let Some(responses) = components
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    {
        for r in responses.values_mut() {
            move_schema(r, &global);
        }
    }
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|i| i.values_mut())
        {
            let media = match media_list(&op["produces"]) {
                m if m.is_empty() => global.clone(),
                m => m,
            };
            for r in op["responses"]
                .as_object_mut()
                .into_iter()
                .flat_map(|r| r.values_mut())
            {
                move_schema(r, &media);
            }
        }
    }
    let base = doc["basePath"].as_str().unwrap_or("/").to_string();
    let d = doc
        .as_object_mut()
        .expect("a Swagger document is an object");
    d.insert("components".into(), Value::Object(components));
    d.insert("servers".into(), json!([{ "url": base }]));
    d.remove("swagger");
    d.insert("openapi".into(), "3.0.0".into());
    rewrite_schemas(&mut doc);
    doc
}

fn media_list(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

/// A 2.0 response's `schema` as 3.0 `content` (a `$ref`'d response is moved where it lives).
fn move_schema(response: &mut Value, media: &[String]) {
    let Some(r) = response.as_object_mut() else {
        return;
    };
    let Some(schema) = r.remove("schema") else {
        return;
    };
    let media = if media.is_empty() {
        vec!["application/json".to_string()]
    } else {
        media.to_vec()
    };
    let content: Map<String, Value> = media
        .into_iter()
        .map(|m| (m, json!({ "schema": schema.clone() })))
        .collect();
    r.insert("content".into(), Value::Object(content));
}

/// `$ref`s to their new homes, `x-nullable` as `nullable`, no `discriminator`.
fn rewrite_schemas(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref") {
                for (from, to) in [
                    ("#/definitions/", "#/components/schemas/"),
                    ("#/parameters/", "#/components/parameters/"),
                    ("#/responses/", "#/components/responses/"),
                ] {
                    if let Some(rest) = r.strip_prefix(from) {
                        *r = format!("{to}{rest}");
                    }
                }
            }
            if m.get("discriminator").is_some_and(Value::is_string) {
                m.remove("discriminator");
            }
            if let Some(n) = m.remove("x-nullable") {
                m.insert("nullable".into(), n);
            }
            m.values_mut().for_each(rewrite_schemas);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_schemas),
        _ => {}
    }
}

impl Spec {
    /// Whether the response documented for `status` of `method path` has content of type
    /// `media` (parameters such as `; charset=utf-8` ignored). For answers that are not JSON,
    /// whose body cannot be checked against a schema.
    pub fn documents_media(
        &self,
        method: &str,
        path: &str,
        status: u16,
        media: &str,
    ) -> Result<(), String> {
        let template = self
            .path_template(path)
            .ok_or_else(|| format!("no path in {} matches {path}", self.name))?;
        let op = &self.doc["paths"][template][method.to_ascii_lowercase()];
        let responses = &op["responses"];
        let key = [
            status.to_string(),
            format!("{}XX", status / 100),
            "default".into(),
        ]
        .into_iter()
        .find(|k| responses.get(k).is_some())
        .ok_or_else(|| format!("status {status} not documented for {method} {template}"))?;
        let at = self.follow(format!(
            "/paths/{}/{}/responses/{key}",
            super::escape(template),
            method.to_ascii_lowercase()
        ))?;
        let content = &self.doc.pointer(&at).unwrap_or(&Value::Null)["content"];
        let bare = media.split(';').next().unwrap_or_default().trim();
        if content.get(bare).is_some() {
            Ok(())
        } else {
            let documented: Vec<&String> = content
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .collect();
            Err(format!(
                "{method} {template} {status}: answered {bare}, the spec documents {documented:?}"
            ))
        }
    }
}
