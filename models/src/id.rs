//! Typed ids: one newtype over `u64` per entity, all made by [`typed_id!`],
//! so a `BookingId` can never be passed where a `UserId` is expected; and
//! [`parse_id_digits`], the one way an id is read from text.

/// Reads an id written in text: ASCII decimal digits only, so `+5`, ` 5`
/// or `5 ` is not an id (`u64::from_str` takes a leading `+`, which let
/// `/v1/bookings/+5` stand for booking 5). `None` when `text` is not one,
/// or is over `u64::MAX`.
pub fn parse_id_digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Defines a typed id: a `Copy` newtype over `u64`.
///
/// The type gets `new`, `get`, `to_be_bytes`, `from_be_bytes`, `Display`
/// (the plain number), `FromStr` (ASCII digits only, see [`parse_id_digits`];
/// failing with [`Error::Invalid`](crate::Error)) and serde as a bare number.
///
/// ```
/// droply_models::typed_id! {
///     /// Identifies a widget.
///     pub struct WidgetId;
/// }
/// let id: WidgetId = "42".parse().expect("a number");
/// assert_eq!(id.get(), 42);
/// ```
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name(u64);

        impl $name {
            /// Wraps a raw id.
            pub const fn new(raw: u64) -> Self {
                Self(raw)
            }

            /// The raw id.
            pub const fn get(self) -> u64 {
                self.0
            }

            /// Big-endian bytes, so that byte order equals numeric order
            /// (useful as a key in an ordered store).
            pub const fn to_be_bytes(self) -> [u8; 8] {
                self.0.to_be_bytes()
            }

            /// The inverse of [`Self::to_be_bytes`].
            pub const fn from_be_bytes(bytes: [u8; 8]) -> Self {
                Self(u64::from_be_bytes(bytes))
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::Error;

            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                $crate::parse_id_digits(s).map(Self).ok_or_else(|| {
                    $crate::Error::invalid(
                        stringify!($name),
                        format!("{s:?} is not a non-negative integer"),
                    )
                })
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error>
            where
                S: $crate::__serde::Serializer,
            {
                serializer.serialize_u64(self.0)
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
            where
                D: $crate::__serde::Deserializer<'de>,
            {
                <u64 as $crate::__serde::Deserialize>::deserialize(deserializer).map(Self)
            }
        }
    };
}

typed_id! {
    /// Identifies a [`User`](crate::User).
    pub struct UserId;
}
typed_id! {
    /// Identifies a [`Booking`](crate::Booking).
    pub struct BookingId;
}
typed_id! {
    /// Identifies a [`Favorite`](crate::Favorite).
    pub struct FavoriteId;
}
typed_id! {
    /// Identifies a [`UserInteraction`](crate::UserInteraction).
    pub struct InteractionId;
}
typed_id! {
    /// Identifies an [`AvailabilityRule`](crate::AvailabilityRule).
    pub struct AvailabilityRuleId;
}
typed_id! {
    /// Identifies an [`AvailabilityException`](crate::AvailabilityException).
    pub struct AvailabilityExceptionId;
}
typed_id! {
    /// Identifies a [`Payout`](crate::Payout).
    pub struct PayoutId;
}
typed_id! {
    /// Identifies a [`Referral`](crate::Referral).
    pub struct ReferralId;
}
typed_id! {
    /// Identifies a [`ReferralReward`](crate::ReferralReward).
    pub struct ReferralRewardId;
}
typed_id! {
    /// Identifies a piece of [`Content`](crate::Content).
    pub struct ContentId;
}
typed_id! {
    /// Identifies a [`ContentPurchase`](crate::ContentPurchase).
    pub struct ContentPurchaseId;
}
typed_id! {
    /// Identifies a [`DropinSession`](crate::DropinSession).
    pub struct DropinSessionId;
}
typed_id! {
    /// Identifies a [`DropinParticipant`](crate::DropinParticipant).
    pub struct DropinParticipantId;
}
typed_id! {
    /// Identifies a [`DropinMessage`](crate::DropinMessage).
    pub struct DropinMessageId;
}
typed_id! {
    /// Identifies an [`AiMatch`](crate::AiMatch).
    pub struct AiMatchId;
}
typed_id! {
    /// Identifies a [`Category`](crate::Category).
    pub struct CategoryId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_roundtrip() {
        let id = UserId::new(1234);
        assert_eq!(id.to_string(), "1234");
        assert_eq!("1234".parse::<UserId>(), Ok(id));
    }

    #[test]
    fn parse_rejects_non_numbers() {
        assert!("abc".parse::<BookingId>().is_err());
        assert!("-1".parse::<BookingId>().is_err());
        assert!("".parse::<BookingId>().is_err());
    }

    /// Regression: ids parsed with `u64::from_str`, which takes a leading
    /// `+`, so `/v1/bookings/+5` was booking 5.
    #[test]
    fn parse_takes_ascii_digits_only() {
        assert!("+5".parse::<BookingId>().is_err());
        for text in ["+5", "-0", " 5", "5 ", "5\n", "0x5", "5_0", "٥", "1e3"] {
            assert_eq!(parse_id_digits(text), None, "{text:?}");
        }
        assert_eq!(parse_id_digits("18446744073709551616"), None, "over u64");
        assert_eq!(parse_id_digits("18446744073709551615"), Some(u64::MAX));
        assert_eq!("5".parse::<BookingId>(), Ok(BookingId::new(5)));
        assert_eq!(parse_id_digits("007"), Some(7));
    }

    #[test]
    fn bytes_are_big_endian_and_ordered() {
        let a = CategoryId::new(1);
        let b = CategoryId::new(256);
        assert!(a.to_be_bytes() < b.to_be_bytes());
        assert_eq!(CategoryId::from_be_bytes(b.to_be_bytes()), b);
    }

    #[test]
    fn serde_is_transparent() {
        let json = serde_json::to_string(&UserId::new(7)).expect("serialize");
        assert_eq!(json, "7");
        let back: UserId = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, UserId::new(7));
    }
}
