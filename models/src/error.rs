//! The crate's one error type: what can go wrong when a domain value is
//! built, parsed or checked. Everything here is a user error; this crate does
//! no I/O, so it has no internal failures.

use crate::Currency;

/// Why a domain value could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A value failed validation; `field` names it, `reason` says why.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field (or value kind) that was rejected, e.g. `"email"`.
        field: &'static str,
        /// A short, human-readable explanation.
        reason: String,
    },
    /// Two amounts of money in different currencies were combined.
    #[error("currency mismatch: {left} and {right}")]
    CurrencyMismatch {
        /// The currency of the left-hand amount.
        left: Currency,
        /// The currency of the right-hand amount.
        right: Currency,
    },
    /// An arithmetic result does not fit its representation.
    #[error("{what} overflowed")]
    Overflow {
        /// What was being computed, e.g. `"money addition"`.
        what: &'static str,
    },
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_displays_field_and_reason() {
        let err = Error::invalid("email", "must contain one @");
        assert_eq!(err.to_string(), "invalid email: must contain one @");
    }

    #[test]
    fn mismatch_displays_both_codes() {
        let err = Error::CurrencyMismatch {
            left: Currency::EUR,
            right: Currency::USD,
        };
        assert_eq!(err.to_string(), "currency mismatch: EUR and USD");
    }
}
