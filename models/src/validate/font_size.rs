//! `FontSize`: a profile's base font size in pixels.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A base font size in pixels, `10..=32`; defaults to 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct FontSize(u8);

impl FontSize {
    /// Smallest allowed size.
    pub const MIN: u8 = 10;
    /// Largest allowed size.
    pub const MAX: u8 = 32;

    /// Validates a size in pixels.
    pub fn new(pixels: u8) -> Result<Self> {
        if !(Self::MIN..=Self::MAX).contains(&pixels) {
            return Err(Error::invalid("font_size", "must be 10 to 32 pixels"));
        }
        Ok(Self(pixels))
    }

    /// The size in pixels.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl Default for FontSize {
    fn default() -> Self {
        Self(16)
    }
}

impl TryFrom<u8> for FontSize {
    type Error = Error;

    fn try_from(pixels: u8) -> Result<Self> {
        Self::new(pixels)
    }
}

impl From<FontSize> for u8 {
    fn from(size: FontSize) -> Self {
        size.0
    }
}

impl fmt::Display for FontSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::str::FromStr for FontSize {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let pixels = s
            .parse()
            .map_err(|_| Error::invalid("font_size", "must be a whole number"))?;
        Self::new(pixels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(FontSize::new(10).is_ok());
        assert!(FontSize::new(32).is_ok());
        assert!(FontSize::new(9).is_err());
        assert!(FontSize::new(33).is_err());
        assert_eq!(FontSize::default().get(), 16);
        assert!("abc".parse::<FontSize>().is_err());
    }

    #[test]
    fn serde_validates() {
        assert_eq!(
            serde_json::from_str::<FontSize>("18")
                .map(FontSize::get)
                .ok(),
            Some(18)
        );
        assert!(serde_json::from_str::<FontSize>("40").is_err());
    }
}
