//! `HexColor`: a CSS colour `#RRGGBB`, used by profile branding.

use crate::{Error, Result};

validated_string! {
    /// A colour written `#RRGGBB` or `#RGB`, normalised to upper-case
    /// `#RRGGBB`.
    pub struct HexColor;
}

impl HexColor {
    /// Validates and normalises a colour.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = || Error::invalid("color", format!("{input:?} is not #RRGGBB or #RGB"));
        let hex = input.strip_prefix('#').ok_or_else(invalid)?;
        if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let hex = hex.to_ascii_uppercase();
        match hex.len() {
            6 => Ok(Self(format!("#{hex}"))),
            3 => Ok(Self(hex.chars().fold(String::from("#"), |mut s, c| {
                s.push(c);
                s.push(c);
                s
            }))),
            _ => Err(invalid()),
        }
    }

    /// A colour from its red, green and blue components.
    pub fn rgb(red: u8, green: u8, blue: u8) -> Self {
        Self(format!("#{red:02X}{green:02X}{blue:02X}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(
            HexColor::parse("#ff8800").map(HexColor::into_string),
            Ok("#FF8800".into())
        );
        assert_eq!(
            HexColor::parse("#f80").map(HexColor::into_string),
            Ok("#FF8800".into())
        );
        assert_eq!(HexColor::rgb(255, 136, 0).as_str(), "#FF8800");
    }

    #[test]
    fn rejects_bad_colors() {
        for bad in [
            "", "#", "ff8800", "#ff88", "#ff88001", "#gg8800", "red", "#ff 800",
        ] {
            assert!(HexColor::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn serde_validates() {
        assert_eq!(
            serde_json::from_str::<HexColor>("\"#abc\"").ok(),
            HexColor::parse("#AABBCC").ok()
        );
        assert!(serde_json::from_str::<HexColor>("\"abc\"").is_err());
    }
}
