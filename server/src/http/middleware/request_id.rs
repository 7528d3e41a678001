//! `x-request-id`: the id that ties a request's log lines to its answer. A
//! client-supplied id is kept when it is a short plain token
//! (`[A-Za-z0-9._-]{1,64}`); anything else is replaced by a fresh random one.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// The header carrying the id, on requests and on every response.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-supplied id kept.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// A request id that is safe to log and to echo in a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// The client's id when it is acceptable, else a new one.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        headers
            .get(&REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(RequestId::parse)
            .unwrap_or_else(RequestId::generate)
    }

    /// `text` as an id, if it is 1 to 64 of `A-Z a-z 0-9 . _ -`.
    pub fn parse(text: &str) -> Option<Self> {
        let sane = !text.is_empty()
            && text.len() <= MAX_REQUEST_ID_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        sane.then(|| RequestId(text.to_owned()))
    }

    /// A fresh random id: 32 lower-case hex digits.
    pub fn generate() -> Self {
        RequestId(format!("{:032x}", rand::random::<u128>()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a header value.
    pub fn header_value(&self) -> HeaderValue {
        // Only visible ASCII by construction, so always a valid value.
        HeaderValue::from_str(&self.0).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_tokens_are_kept() {
        assert!(RequestId::parse("abc-DEF_1.2").is_some());
        assert!(RequestId::parse(&"a".repeat(64)).is_some());
        assert!(RequestId::parse(&"a".repeat(65)).is_none());
        assert!(RequestId::parse("").is_none());
        assert!(RequestId::parse("a b").is_none());
        assert!(RequestId::parse("a\"b").is_none());
        let fresh = RequestId::generate();
        assert_eq!(fresh.as_str().len(), 32);
        assert_ne!(fresh, RequestId::generate());
    }
}
