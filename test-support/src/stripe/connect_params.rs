//! The request side of the Stripe Connect fake's resources: the parameters of a
//! request ([`Params`]) and how they are read and checked (unknown, missing,
//! nested, integers, metadata, list pages), and Stripe's error shape for what
//! fails ([`Reply`]). `connect_api` answers each request with these.

use serde_json::{Map, Value, json};

/// A status and a JSON body to answer with.
pub(super) type Reply = (u16, Value);

/// The parameters of a request: its form body (POST) or query (GET),
/// decoded into a tree whose leaves are strings.
pub(super) type Params = Map<String, Value>;

/// An error in Stripe's shape: `{"error": {"type": kind, "code": code,
/// "message": message, "param": param}}` (`code` and `param` only when
/// given).
pub(super) fn error(
    status: u16,
    kind: &str,
    code: Option<&str>,
    message: impl Into<String>,
    param: Option<&str>,
) -> Reply {
    let mut inner = Map::new();
    inner.insert("type".into(), kind.into());
    if let Some(code) = code {
        inner.insert("code".into(), code.into());
        inner.insert(
            "doc_url".into(),
            format!(
                "https://stripe.com/docs/error-codes/{}",
                code.replace('_', "-")
            )
            .into(),
        );
    }
    inner.insert("message".into(), message.into().into());
    if let Some(param) = param {
        inner.insert("param".into(), param.into());
    }
    (status, json!({ "error": inner }))
}

/// A 400 `invalid_request_error`.
pub(super) fn invalid(code: Option<&str>, message: impl Into<String>, param: &str) -> Reply {
    error(400, "invalid_request_error", code, message, Some(param))
}

/// A 404 `resource_missing` for the object `id` named by `param`.
pub(super) fn missing(what: &str, id: &str, param: &str) -> Reply {
    error(
        404,
        "invalid_request_error",
        Some("resource_missing"),
        format!("No such {what}: '{id}'"),
        Some(param),
    )
}

/// Fails with 400 `parameter_unknown` on a parameter not in `known`.
pub(super) fn check_known(params: &Params, known: &[&str]) -> Result<(), Reply> {
    match params.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(invalid(
            Some("parameter_unknown"),
            format!("Received unknown parameter: {unknown}"),
            unknown,
        )),
        None => Ok(()),
    }
}

/// The string parameter `key`, if given (an empty string counts as not
/// given, as at Stripe).
pub(super) fn string(params: &Params, key: &str) -> Result<Option<String>, Reply> {
    match params.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(
            None,
            format!("Invalid {key}: expected a string, got nested parameters"),
            key,
        )),
    }
}

/// The string parameter `key`; 400 `parameter_missing` without it.
pub(super) fn required(params: &Params, key: &str) -> Result<String, Reply> {
    string(params, key)?.ok_or_else(|| {
        invalid(
            Some("parameter_missing"),
            format!("Missing required param: {key}."),
            key,
        )
    })
}

/// The `metadata[...]` parameters as an object of strings (empty values
/// dropped, as Stripe unsets them).
pub(super) fn metadata(params: &Params) -> Result<Map<String, Value>, Reply> {
    match params.get("metadata") {
        None => Ok(Map::new()),
        Some(Value::String(s)) if s.is_empty() => Ok(Map::new()),
        Some(Value::Object(entries)) => {
            let mut out = Map::new();
            for (key, value) in entries {
                match value {
                    Value::String(v) if v.is_empty() => {}
                    Value::String(v) => {
                        out.insert(key.clone(), Value::String(v.clone()));
                    }
                    _ => {
                        return Err(invalid(
                            None,
                            format!(
                                "Invalid value for metadata[{key}]: metadata values must be strings"
                            ),
                            &format!("metadata[{key}]"),
                        ));
                    }
                }
            }
            Ok(out)
        }
        Some(_) => Err(invalid(None, "Invalid object", "metadata")),
    }
}

/// A positive integer parameter; 400 `parameter_invalid_integer` otherwise.
pub(super) fn positive_integer(value: &str, key: &str) -> Result<i64, Reply> {
    match value.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        Ok(_) => Err(invalid(
            Some("parameter_invalid_integer"),
            "This value must be greater than or equal to 1.",
            key,
        )),
        Err(_) => Err(invalid(
            Some("parameter_invalid_integer"),
            format!("Invalid integer: {value}"),
            key,
        )),
    }
}

/// One page of `items` (newest first) as a Stripe list, honouring `limit`
/// (default 10, 1 to 100) and `starting_after`.
pub(super) fn list(items: Vec<&Value>, query: &Params, url: &str) -> Result<Value, Reply> {
    let limit = match string(query, "limit")? {
        None => 10,
        Some(raw) => {
            let n = positive_integer(&raw, "limit")?;
            if n > 100 {
                return Err(invalid(
                    Some("parameter_invalid_integer"),
                    "This value must be less than or equal to 100.",
                    "limit",
                ));
            }
            usize::try_from(n).unwrap_or(100)
        }
    };
    let start = match string(query, "starting_after")? {
        None => 0,
        Some(after) => {
            items
                .iter()
                .position(|item| item["id"] == after.as_str())
                .ok_or_else(|| missing("object", &after, "starting_after"))?
                + 1
        }
    };
    let rest: Vec<Value> = items.into_iter().skip(start).cloned().collect();
    let has_more = rest.len() > limit;
    let data: Vec<Value> = rest.into_iter().take(limit).collect();
    Ok(json!({"object": "list", "data": data, "has_more": has_more, "url": url}))
}
