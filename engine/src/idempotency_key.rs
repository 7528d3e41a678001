//! The `Idempotency-Key` a client sends with a write it may retry (a
//! booking, a payout): checked once, when the request is read. Each write
//! that takes one keeps its own (caller, key) records beside the rows it
//! made: `booking::BookingIdempotency`, `payments::PayoutIdempotency`.

use droply_models::UserId;

use crate::store::KeyBuilder;
use crate::{Error, Result};

/// The longest accepted key.
pub const MAX_KEY_LEN: usize = 255;

/// An `Idempotency-Key` as a caller sent it, checked once: 1 to
/// [`MAX_KEY_LEN`] visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key in `raw`, or `Invalid` naming the rule it breaks.
    pub fn parse(raw: &str) -> Result<Self> {
        check_key(raw)?;
        Ok(IdempotencyKey(raw.to_owned()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `key` is 1 to [`MAX_KEY_LEN`] visible ASCII characters: the
/// rule of [`IdempotencyKey::parse`], also checked on every stored record.
pub(crate) fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::Invalid(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
        )));
    }
    Ok(())
}

/// The unique key of a (caller, key) record: the caller's id, then the key's
/// bytes. Keys are per caller: two callers may send the same one.
pub(crate) fn caller_key(caller: UserId, key: &str) -> Vec<u8> {
    let mut out = KeyBuilder::new().u64(caller.get()).build();
    out.extend_from_slice(key.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters() {
        assert_eq!(
            IdempotencyKey::parse("order-42").expect("valid").as_str(),
            "order-42"
        );
        assert!(IdempotencyKey::parse(&"k".repeat(MAX_KEY_LEN)).is_ok());
        for bad in ["", "with space", "tab\t", "naïve"] {
            assert!(
                matches!(IdempotencyKey::parse(bad), Err(Error::Invalid(_))),
                "{bad:?}"
            );
        }
        assert!(IdempotencyKey::parse(&"k".repeat(MAX_KEY_LEN + 1)).is_err());
    }
}
