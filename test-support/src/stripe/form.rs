//! Decoding of Stripe's form-encoded parameters
//! (`application/x-www-form-urlencoded` with bracketed keys such as
//! `metadata[droply_payout]=12`, `capabilities[transfers][requested]=true`
//! or `expand[]=destination`) into a tree of JSON values whose leaves are
//! strings, as the [`StripeFake`](super::StripeFake) reads them.

use serde_json::{Map, Value};

/// Decodes `body` (or a query string) into an object. Keys in brackets
/// nest; an empty bracket (`a[]`) appends to an array; a plain key given
/// twice keeps the last value. Fails on a malformed key, or on a key used
/// both as a value and as a parent (`a=1&a[b]=2`).
pub(crate) fn parse(body: &[u8]) -> Result<Map<String, Value>, String> {
    let mut root = Map::new();
    for (key, value) in form_urlencoded::parse(body) {
        let path = split_key(&key)?;
        insert(&mut root, &key, &path, Value::String(value.into_owned()))?;
    }
    Ok(root)
}

/// `a[b][]` into `["a", "b", ""]`.
fn split_key(key: &str) -> Result<Vec<&str>, String> {
    let malformed = || format!("Invalid parameter name: {key}");
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return Err(malformed());
    }
    let mut path = vec![head];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[').ok_or_else(malformed)?;
        let close = inner.find(']').ok_or_else(malformed)?;
        path.push(&inner[..close]);
        rest = &inner[close + 1..];
    }
    Ok(path)
}

fn insert(
    node: &mut Map<String, Value>,
    key: &str,
    path: &[&str],
    value: Value,
) -> Result<(), String> {
    let conflict = || format!("Invalid parameter: {key} mixes a value and nested parameters");
    let (first, rest) = path.split_first().ok_or_else(conflict)?;
    match rest.first() {
        None => {
            node.insert((*first).to_owned(), value);
            Ok(())
        }
        Some(&"") if rest.len() == 1 => {
            let slot = node
                .entry((*first).to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            slot.as_array_mut().ok_or_else(conflict)?.push(value);
            Ok(())
        }
        Some(&"") => Err(format!("Invalid parameter name: {key}")),
        Some(_) => {
            let slot = node
                .entry((*first).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            let child = slot.as_object_mut().ok_or_else(conflict)?;
            insert(child, key, rest, value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nests_bracketed_keys() {
        let parsed = parse(
            b"type=express&metadata[droply_payout]=12&capabilities[transfers][requested]=true&expand[]=a&expand[]=b&email=a%40b.test&x=1+2",
        )
        .expect("parse");
        assert_eq!(
            Value::Object(parsed),
            json!({
                "type": "express",
                "metadata": {"droply_payout": "12"},
                "capabilities": {"transfers": {"requested": "true"}},
                "expand": ["a", "b"],
                "email": "a@b.test",
                "x": "1 2",
            })
        );
    }

    #[test]
    fn rejects_malformed_and_conflicting_keys() {
        assert!(parse(b"[a]=1").is_err());
        assert!(parse(b"a[b=1").is_err());
        assert!(parse(b"a=1&a[b]=2").is_err());
        assert!(parse(b"a[b]=1&a[]=2").is_err());
    }

    #[test]
    fn empty_body_is_empty() {
        assert!(parse(b"").expect("parse").is_empty());
    }
}
