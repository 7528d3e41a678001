//! Validated values: strings and small numbers that are parsed once, at
//! the edge, into types that cannot hold invalid data. Every string type
//! here has a private inner `String`, a `parse` constructor failing with
//! [`Error::Invalid`](crate::Error) and serde that re-validates on
//! deserialize.

/// Adds the shared boilerplate to a validated string newtype whose module
/// defines `fn parse(&str) -> Result<Self>`: `as_str`, `into_string`,
/// `Display`, `FromStr`, `AsRef<str>`, `TryFrom<String>`, `From<_> for String`
/// and serde through `String`.
macro_rules! validated_string {
    ($(#[$meta:meta])* pub struct $name:ident;) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The validated (normalised) text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The validated text, by value.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::Error;

            fn from_str(s: &str) -> $crate::Result<Self> {
                Self::parse(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::Error;

            fn try_from(value: String) -> $crate::Result<Self> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

mod code;
mod email;
mod font_family;
mod font_size;
mod hex_color;
mod http_url;
mod language_code;
mod phone_number;
mod username;

pub use code::{ReferralCode, SessionCode};
pub use email::Email;
pub use font_family::FontFamily;
pub use font_size::FontSize;
pub use hex_color::HexColor;
pub use http_url::HttpUrl;
pub use language_code::LanguageCode;
pub use phone_number::PhoneNumber;
pub use username::Username;
