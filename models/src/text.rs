//! Length limits for free text and the checks that enforce them. Lengths
//! count characters (Unicode scalar values), not bytes.

use crate::{Error, Result};

/// Longest full name, client name or category name.
pub const NAME_MAX: usize = 100;
/// Longest headline-like field: profession, industry, location, one skill.
pub const HEADLINE_MAX: usize = 100;
/// Longest bio or long description.
pub const BIO_MAX: usize = 5000;
/// Longest legacy free-text `skills` field.
pub const SKILLS_MAX: usize = 500;
/// Longest single specialty tag.
pub const TAG_MAX: usize = 40;
/// Most specialty tags per user.
pub const TAGS_MAX: usize = 20;
/// Longest drop-in topic or content title.
pub const TOPIC_MAX: usize = 200;
/// Longest chat message, booking note or search query.
pub const MESSAGE_MAX: usize = 4000;
/// Longest short note: cancellation reason, exception reason, match reason.
pub const NOTE_MAX: usize = 500;
/// Longest anonymous display name in a drop-in session.
pub const DISPLAY_NAME_MAX: usize = 50;
/// Longest opaque external identifier (Stripe ids, paths, tokens).
pub const EXTERNAL_ID_MAX: usize = 2048;

/// Whether `c` may not appear in text people write: control characters
/// other than tab and line breaks, and the bidirectional overrides and
/// isolates that make text display in another order than it reads
/// (U+202A-U+202E, U+2066-U+2069).
fn is_forbidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Fails when `value` has more than `max` characters, or a control or
/// bidirectional-override character.
pub fn check_max(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.chars().any(is_forbidden) {
        return Err(Error::invalid(
            field,
            "must not contain control or bidirectional-override characters",
        ));
    }
    if value.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// Fails when `value` is blank (empty or whitespace) or longer than `max`.
pub fn check_required(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    check_max(field, value, max)
}

/// Like [`check_max`] for an optional value; `None` passes.
pub fn check_optional(field: &'static str, value: Option<&str>, max: usize) -> Result<()> {
    value.map_or(Ok(()), |v| check_max(field, v, max))
}

/// Like [`check_required`] for an optional value: `None` passes, `Some`
/// must be non-blank.
pub fn check_optional_required(field: &'static str, value: Option<&str>, max: usize) -> Result<()> {
    value.map_or(Ok(()), |v| check_required(field, v, max))
}

/// At most [`TAGS_MAX`] tags, each non-blank and at most [`TAG_MAX`]
/// characters.
pub fn check_tags(field: &'static str, tags: &[String]) -> Result<()> {
    if tags.len() > TAGS_MAX {
        return Err(Error::invalid(
            field,
            format!("at most {TAGS_MAX} tags allowed"),
        ));
    }
    tags.iter()
        .try_for_each(|tag| check_required(field, tag, TAG_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        assert!(check_max("bio", &"é".repeat(5), 5).is_ok());
        assert!(check_max("bio", &"é".repeat(6), 5).is_err());
    }

    #[test]
    fn text_refuses_bidi_overrides_and_control_characters() {
        for bad in ["evil\u{202E}gpj.exe", "a\u{2066}b", "nul\u{0}", "bell\u{7}"] {
            assert!(check_max("bio", bad, BIO_MAX).is_err(), "{bad:?}");
        }
        assert!(check_max("bio", "line one\nline two\ttabbed\r\n", BIO_MAX).is_ok());
        assert!(check_max("bio", "Zürich, 東京, עברית", BIO_MAX).is_ok());
    }

    #[test]
    fn required_rejects_blank() {
        assert!(check_required("full_name", "  ", NAME_MAX).is_err());
        assert!(check_required("full_name", "Anna", NAME_MAX).is_ok());
        assert!(check_optional_required("x", Some(""), 5).is_err());
        assert!(check_optional_required("x", None, 5).is_ok());
        assert!(check_optional("x", Some(""), 5).is_ok());
    }

    #[test]
    fn tags() {
        let ok: Vec<String> = (0..20).map(|i| format!("tag{i}")).collect();
        assert!(check_tags("specialty_tags", &ok).is_ok());
        let too_many: Vec<String> = (0..21).map(|i| format!("tag{i}")).collect();
        assert!(check_tags("specialty_tags", &too_many).is_err());
        assert!(check_tags("specialty_tags", &["a".repeat(41)]).is_err());
        assert!(check_tags("specialty_tags", &[String::new()]).is_err());
    }
}
