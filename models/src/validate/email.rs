//! `Email`: an e-mail address, checked for shape (not deliverability).

use unicode_normalization::UnicodeNormalization;

use crate::{Error, Result};

validated_string! {
    /// An address with exactly one `@`, a local part of 1–64 characters, a
    /// dotted domain and no whitespace, at most 254 characters. It is kept
    /// in Unicode's NFKC form with its domain lower-cased;
    /// [`Email::normalized`] gives the key used for uniqueness.
    pub struct Email;
}

impl Email {
    /// Longest allowed address.
    pub const MAX_LEN: usize = 254;
    /// Longest allowed local part (before the `@`).
    pub const MAX_LOCAL_LEN: usize = 64;

    /// Validates an address, in Unicode's compatibility form (NFKC), and
    /// lower-cases its domain.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::invalid("email", reason.to_owned());
        // One address has one spelling: "é" typed as one character or as "e"
        // and an accent, or a full-width "Ａ", is the same address (and the
        // same account).
        let input: String = input.nfkc().collect();
        let input = input.as_str();
        if input.len() > Self::MAX_LEN {
            return Err(invalid("must be at most 254 characters"));
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces"));
        }
        let mut parts = input.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid("must contain one @"));
        };
        if local.is_empty() || local.len() > Self::MAX_LOCAL_LEN {
            return Err(invalid("the part before @ must be 1 to 64 characters"));
        }
        if !domain.contains('.') {
            return Err(invalid("the domain must contain a dot"));
        }
        let label_ok = |label: &str| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if !domain.split('.').all(label_ok) {
            return Err(invalid("the domain is malformed"));
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The whole address lower-cased: the key for "one account per address".
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: an address was keyed by lower case only, so the same one typed
    /// with a combining accent, or in full-width letters, made a second account.
    #[test]
    fn one_address_has_one_unicode_spelling() {
        let composed = Email::parse("Jos\u{e9}@example.com").expect("composed");
        let decomposed = Email::parse("Jose\u{301}@example.com").expect("decomposed");
        assert_eq!(composed, decomposed);
        assert_eq!(decomposed.as_str(), "Jos\u{e9}@example.com");
        let wide = Email::parse("\u{ff2a}ose@\u{ff25}xample.com").expect("full width");
        assert_eq!(wide.normalized(), "jose@example.com");
    }

    #[test]
    fn accepts_and_normalises_domain() {
        let e = Email::parse("Anna.Smith+x@Example.COM").expect("valid");
        assert_eq!(e.as_str(), "Anna.Smith+x@example.com");
        assert_eq!(e.normalized(), "anna.smith+x@example.com");
        assert_eq!(e.domain(), "example.com");
        assert!(Email::parse("a@b.co").is_ok());
    }

    #[test]
    fn rejects_bad_addresses() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let too_long = format!("a@{}.com", "b".repeat(250));
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.com",
            "a@@example.com",
            "a@b@c.com",
            "a@localhost",
            "a b@example.com",
            "a@example..com",
            "a@.example.com",
            "a@-x.com",
            &long_local,
            &too_long,
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn error_message() {
        let err = Email::parse("nope").expect_err("invalid");
        assert_eq!(err.to_string(), "invalid email: must contain one @");
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<Email>("\"a@b.co\"").is_ok());
        assert!(serde_json::from_str::<Email>("\"a@b\"").is_err());
    }
}
