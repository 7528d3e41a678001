//! `AiMatch`: a stored result of matching a user's query to an expert,
//! with structured reasons explaining the score.

use serde::{Deserialize, Serialize};

use crate::text::{self, MESSAGE_MAX, NOTE_MAX};
use crate::{AiMatchId, Error, Result, Timestamp, UserId};

/// One signal that contributed to a match score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchReason {
    /// Which signal, e.g. `"semantic"`, `"keyword"`, `"rating"`.
    pub signal: String,
    /// What matched, e.g. the skill or tag.
    pub value: String,
    /// The signal's contribution to the score (finite).
    pub weight: f32,
    /// A sentence for the user, e.g. "Lists Rust as a primary skill".
    pub text: String,
}

/// A match of `matched_user_id` for `user_id`'s query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiMatch {
    /// Primary key.
    pub id: AiMatchId,
    /// Who searched.
    pub user_id: UserId,
    /// The expert found.
    pub matched_user_id: UserId,
    /// The query as typed, 1–4000 characters.
    pub query: String,
    /// Overall score in `0.0..=1.0`.
    pub match_score: f32,
    /// Why the expert matched.
    pub match_reasons: Vec<MatchReason>,
    /// When the match was made.
    pub created_at: Timestamp,
    /// Whether the searcher saw it.
    pub is_viewed: bool,
    /// Whether the searcher acted on it (booked, messaged, ...).
    pub is_acted_upon: bool,
}

impl AiMatch {
    /// Most reasons stored per match.
    pub const MAX_REASONS: usize = 20;

    /// Checks: not matched to oneself, query length, score in `0..=1`, at
    /// most 20 reasons with non-blank signals, finite weights and short
    /// texts.
    pub fn validate(&self) -> Result<()> {
        if self.user_id == self.matched_user_id {
            return Err(Error::invalid(
                "matched_user_id",
                "a user cannot match themselves",
            ));
        }
        text::check_required("query", &self.query, MESSAGE_MAX)?;
        if !(0.0..=1.0).contains(&self.match_score) {
            return Err(Error::invalid("match_score", "must be between 0 and 1"));
        }
        if self.match_reasons.len() > Self::MAX_REASONS {
            return Err(Error::invalid(
                "match_reasons",
                "at most 20 reasons allowed",
            ));
        }
        for reason in &self.match_reasons {
            text::check_required("match_reasons", &reason.signal, NOTE_MAX)?;
            text::check_max("match_reasons", &reason.value, NOTE_MAX)?;
            text::check_max("match_reasons", &reason.text, NOTE_MAX)?;
            if !reason.weight.is_finite() {
                return Err(Error::invalid("match_reasons", "weights must be finite"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AiMatch {
        AiMatch {
            id: AiMatchId::new(1),
            user_id: UserId::new(1),
            matched_user_id: UserId::new(2),
            query: "rust mentor".into(),
            match_score: 0.82,
            match_reasons: vec![MatchReason {
                signal: "keyword".into(),
                value: "rust".into(),
                weight: 0.4,
                text: "Lists Rust as a primary skill".into(),
            }],
            created_at: Timestamp::now(),
            is_viewed: false,
            is_acted_upon: false,
        }
    }

    #[test]
    fn rules() {
        assert_eq!(sample().validate(), Ok(()));
        let mut m = sample();
        m.match_score = 1.5;
        assert!(m.validate().is_err());
        m.match_score = f32::NAN;
        assert!(m.validate().is_err());
        let mut m = sample();
        m.match_reasons[0].weight = f32::INFINITY;
        assert!(m.validate().is_err());
        let mut m = sample();
        m.matched_user_id = m.user_id;
        assert!(m.validate().is_err());
    }

    #[test]
    fn bincode_roundtrip() {
        let m = sample();
        let config = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&m, config).expect("encode");
        let (back, _): (AiMatch, usize) =
            bincode::serde::decode_from_slice(&bytes, config).expect("decode");
        assert_eq!(back, m);
    }
}
