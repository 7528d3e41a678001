//! The page `GET /docs` serves: a self-contained HTML page rendered from the OpenAPI
//! document (no scripts, no outside assets): every operation with its method,
//! path, summary, parameters, request body and responses, then every schema.
//! All text taken from the document is HTML-escaped.

use std::fmt::Write as _;

use serde_json::Value;

use super::openapi::METHODS;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// A short label for a schema: its name, type, format or values.
fn schema_label(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema.get(key).and_then(Value::as_array) {
            return parts
                .iter()
                .map(schema_label)
                .collect::<Vec<_>>()
                .join(" | ");
        }
    }
    let mut label = match schema.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".to_owned(),
    };
    if let Some(items) = schema.get("items") {
        label = label.replace("array", &format!("array of {}", schema_label(items)));
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        let _ = write!(label, " ({format})");
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let _ = write!(label, ": one of {}", values.join(", "));
    }
    label
}

fn content_labels(content: Option<&Value>) -> String {
    let Some(content) = content.and_then(Value::as_object) else {
        return String::new();
    };
    content
        .iter()
        .map(|(media, body)| {
            let schema = body.get("schema").map(schema_label).unwrap_or_default();
            format!("<code>{}</code> {}", escape(media), escape(&schema))
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

fn render_operation(out: &mut String, method: &str, path: &str, operation: &Value) {
    let anchor = format!("{method}-{path}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>();
    let _ = write!(
        out,
        "<section class=\"op\" id=\"{}\"><h3><span class=\"method {}\">{}</span> <code>{}</code></h3>",
        escape(&anchor),
        escape(method),
        escape(&method.to_uppercase()),
        escape(path)
    );
    let _ = write!(
        out,
        "<p class=\"summary\">{}</p>",
        escape(text(operation, "summary"))
    );
    let description = text(operation, "description");
    if !description.is_empty() {
        let _ = write!(out, "<p>{}</p>", escape(description));
    }
    if operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty())
    {
        out.push_str(
            "<p class=\"auth\">Needs <code>Authorization: Bearer &lt;token&gt;</code>.</p>",
        );
    }
    if let Some(parameters) = operation.get("parameters").and_then(Value::as_array) {
        out.push_str("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>type</th><th>description</th></tr>");
        for parameter in parameters {
            let required = parameter
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let kind = parameter
                .get("schema")
                .map(schema_label)
                .unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(text(parameter, "name")),
                escape(text(parameter, "in")),
                if required { "yes" } else { "no" },
                escape(&kind),
                escape(text(parameter, "description"))
            );
        }
        out.push_str("</table>");
    }
    if let Some(body) = operation.get("requestBody") {
        let _ = write!(
            out,
            "<h4>Request body</h4><p>{}</p>",
            content_labels(body.get("content"))
        );
    }
    if let Some(responses) = operation.get("responses").and_then(Value::as_object) {
        out.push_str(
            "<h4>Responses</h4><table><tr><th>status</th><th>description</th><th>body</th></tr>",
        );
        for (status, response) in responses {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(status),
                escape(text(response, "description")),
                content_labels(response.get("content"))
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
}

fn render_schemas(out: &mut String, schemas: &serde_json::Map<String, Value>) {
    out.push_str("<h2 id=\"schemas\">Schemas</h2>");
    for (name, schema) in schemas {
        let _ = write!(
            out,
            "<section class=\"schema\" id=\"schema-{0}\"><h3>{0}</h3>",
            escape(name)
        );
        let description = text(schema, "description");
        if !description.is_empty() {
            let _ = write!(out, "<p>{}</p>", escape(description));
        }
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match schema.get("properties").and_then(Value::as_object) {
            Some(properties) => {
                out.push_str("<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>");
                for (field, property) in properties {
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        escape(field),
                        escape(&schema_label(property)),
                        if required.contains(&field.as_str()) {
                            "yes"
                        } else {
                            "no"
                        },
                        escape(text(property, "description"))
                    );
                }
                out.push_str("</table>");
            }
            None => {
                let _ = write!(out, "<p>{}</p>", escape(&schema_label(schema)));
            }
        }
        out.push_str("</section>");
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
code{font-family:ui-monospace,monospace}table{border-collapse:collapse;margin:.5rem 0}\
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}\
.op,.schema{border-top:1px solid #ddd;padding-top:.5rem}.method{font-weight:bold;text-transform:uppercase}\
.get{color:#1a7f37}.post{color:#0b5cad}.patch{color:#9a6700}.delete{color:#c0392b}.auth{color:#555}";

/// The page for `document`.
pub fn render(document: &Value) -> String {
    let info = document.get("info").cloned().unwrap_or(Value::Null);
    let title = text(&info, "title");
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title><style>{STYLE}</style></head><body><h1>{0} <small>{1}</small></h1><p>{2}</p><p>OpenAPI {3} document: <a href=\"/openapi.json\">/openapi.json</a>. <a href=\"#schemas\">Schemas</a>.</p><h2>Operations</h2>",
        escape(title),
        escape(text(&info, "version")),
        escape(text(&info, "description")),
        escape(text(document, "openapi"))
    );
    if let Some(paths) = document.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(operation) = item.get(method) {
                    render_operation(&mut out, method, path, operation);
                }
            }
        }
    }
    if let Some(schemas) = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        render_schemas(&mut out, schemas);
    }
    out.push_str("</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_document_is_escaped() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        let page = render(&serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "<T>", "version": "1"},
            "paths": {"/x/{id}": {"get": {"summary": "<b>bold</b>", "responses": {"200": {"description": "ok"}}}}},
        }));
        assert!(page.contains("&lt;T&gt;"));
        assert!(page.contains("&lt;b&gt;bold&lt;/b&gt;"));
        assert!(!page.contains("<b>bold"));
        assert!(page.contains("<code>/x/{id}</code>"));
    }
}
