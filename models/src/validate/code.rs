//! Short upper-case codes people type or share: [`ReferralCode`] and
//! [`SessionCode`].

use crate::{Error, Result};

/// Upper-cases `input` and checks it is `min..=max` ASCII letters/digits.
fn parse_code(field: &'static str, input: &str, min: usize, max: usize) -> Result<String> {
    if !(min..=max).contains(&input.len()) || !input.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid(
            field,
            format!("must be {min} to {max} letters or digits"),
        ));
    }
    Ok(input.to_ascii_uppercase())
}

validated_string! {
    /// A user's referral code: 6–16 upper-case letters or digits
    /// (lower-case input is upper-cased).
    pub struct ReferralCode;
}

impl ReferralCode {
    /// Validates and upper-cases a referral code.
    pub fn parse(input: &str) -> Result<Self> {
        parse_code("referral_code", input, 6, 16).map(Self)
    }
}

validated_string! {
    /// A drop-in session's join code: 6–12 upper-case letters or digits
    /// (lower-case input is upper-cased).
    pub struct SessionCode;
}

impl SessionCode {
    /// Validates and upper-cases a session code.
    pub fn parse(input: &str) -> Result<Self> {
        parse_code("session_code", input, 6, 12).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referral_codes() {
        assert_eq!(
            ReferralCode::parse("anna2027").map(ReferralCode::into_string),
            Ok("ANNA2027".into())
        );
        assert!(ReferralCode::parse("ABCDEF").is_ok());
        assert!(ReferralCode::parse(&"A".repeat(16)).is_ok());
        for bad in ["", "ABCDE", "ABC-DEF", "ABC DEF", "ÄBCDEF", &"A".repeat(17)] {
            assert!(ReferralCode::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn session_codes() {
        assert!(SessionCode::parse("Q7X9K2").is_ok());
        assert!(SessionCode::parse(&"A".repeat(12)).is_ok());
        assert!(SessionCode::parse(&"A".repeat(13)).is_err());
        assert!(SessionCode::parse("AB_CDEF").is_err());
        assert!(
            serde_json::from_str::<SessionCode>("\"q7x9k2\"").is_ok_and(|c| c.as_str() == "Q7X9K2")
        );
    }
}
