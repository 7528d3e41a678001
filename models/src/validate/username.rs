//! `Username`: the unique public handle in a profile's address.

use crate::{Error, Result};

validated_string! {
    /// 3–30 characters of lower-case ASCII letters, digits, `_` and `.`,
    /// starting with a letter. Upper-case input is lower-cased on parse.
    pub struct Username;
}

impl Username {
    /// Shortest allowed username.
    pub const MIN_LEN: usize = 3;
    /// Longest allowed username.
    pub const MAX_LEN: usize = 30;

    /// Validates and lower-cases a username.
    pub fn parse(input: &str) -> Result<Self> {
        let name = input.to_ascii_lowercase();
        let invalid = |reason: &str| Error::invalid("username", reason.to_owned());
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&name.len()) {
            return Err(invalid("must be 3 to 30 characters"));
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(invalid("must start with a letter"));
        }
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.';
        if !name.chars().all(allowed) {
            return Err(invalid("may only contain a-z, 0-9, '_' and '.'"));
        }
        Ok(Self(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(
            Username::parse("Anna.Smith_2").map(Username::into_string),
            Ok("anna.smith_2".into())
        );
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(30)).is_ok());
    }

    #[test]
    fn rejects_bad_names() {
        for bad in [
            "ab",
            "",
            "1abc",
            "_abc",
            "ab c",
            "anna-smith",
            "ännа",
            &"a".repeat(31),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn serde_validates() {
        assert_eq!(
            serde_json::from_str::<Username>("\"Bob\"")
                .map(|u| u.to_string())
                .ok()
                .as_deref(),
            Some("bob")
        );
        assert!(serde_json::from_str::<Username>("\"b\"").is_err());
    }
}
