//! `LanguageCode`: a user's preferred language as a BCP 47 style tag.

use crate::{Error, Result};

validated_string! {
    /// A language tag: 2–3 lower-case letters, optionally `-` and a region
    /// of 2 upper-case letters or 3 digits (`"en"`, `"pt-BR"`, `"es-419"`).
    /// Case is normalised on parse (`"PT-br"` becomes `"pt-BR"`).
    pub struct LanguageCode;
}

impl LanguageCode {
    /// Validates and normalises a language tag.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = || {
            Error::invalid(
                "language",
                format!("{input:?} is not a language tag like en or pt-BR"),
            )
        };
        let (language, region) = match input.split_once('-') {
            Some((language, region)) => (language, Some(region)),
            None => (input, None),
        };
        if !(2..=3).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_alphabetic())
        {
            return Err(invalid());
        }
        let mut tag = language.to_ascii_lowercase();
        if let Some(region) = region {
            let letters = region.len() == 2 && region.bytes().all(|b| b.is_ascii_alphabetic());
            let digits = region.len() == 3 && region.bytes().all(|b| b.is_ascii_digit());
            if !letters && !digits {
                return Err(invalid());
            }
            tag.push('-');
            tag.push_str(&region.to_ascii_uppercase());
        }
        Ok(Self(tag))
    }

    /// English, the default.
    pub fn english() -> Self {
        Self("en".to_owned())
    }

    /// The language part without the region (`"pt"` for `"pt-BR"`).
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

impl Default for LanguageCode {
    fn default() -> Self {
        Self::english()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(
            LanguageCode::parse("en").map(LanguageCode::into_string),
            Ok("en".into())
        );
        assert_eq!(
            LanguageCode::parse("PT-br").map(LanguageCode::into_string),
            Ok("pt-BR".into())
        );
        assert_eq!(
            LanguageCode::parse("es-419").map(LanguageCode::into_string),
            Ok("es-419".into())
        );
        assert!(LanguageCode::parse("fil").is_ok());
        assert_eq!(
            LanguageCode::parse("pt-BR").map(|l| l.language().to_owned()),
            Ok("pt".into())
        );
    }

    #[test]
    fn rejects_bad_tags() {
        for bad in [
            "", "e", "engl", "en-", "en-B", "en-BRA", "en-12", "e1", "en_US", "en-US-x",
        ] {
            assert!(LanguageCode::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
