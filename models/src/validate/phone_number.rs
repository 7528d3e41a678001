//! `PhoneNumber`: a phone number in E.164 form.

use crate::{Error, Result};

validated_string! {
    /// An E.164 number: `+` followed by 8–15 digits, the first not `0`
    /// (`"+4915112345678"`). No spaces or punctuation.
    pub struct PhoneNumber;
}

impl PhoneNumber {
    /// Validates an E.164 number.
    pub fn parse(input: &str) -> Result<Self> {
        let ok = input.strip_prefix('+').is_some_and(|digits| {
            (8..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
        });
        if !ok {
            return Err(Error::invalid(
                "phone",
                "must be '+' followed by 8 to 15 digits (E.164)",
            ));
        }
        Ok(Self(input.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_e164() {
        assert!(PhoneNumber::parse("+4915112345678").is_ok());
        assert!(PhoneNumber::parse("+12025550123").is_ok());
        assert!(PhoneNumber::parse("+12345678").is_ok());
    }

    #[test]
    fn rejects_others() {
        for bad in [
            "",
            "+",
            "4915112345678",
            "+1234567",
            "+1234567890123456",
            "+49 151 1234",
            "+0123456789",
            "+49-151-12345",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
