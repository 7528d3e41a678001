//! How a ranked expert is shown: the public profile, a score in `0..=1` and the
//! reasons it was ranked there, each with its signal, what it was computed from,
//! its weight and a sentence. Shared by matches, similar experts and
//! recommendations.

use droply_engine::matching::RankedExpert;
use droply_models::MatchReason;
use serde::Serialize;
use utoipa::ToSchema;

use super::PublicProfile;

/// One reason an expert was ranked where they are.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchReasonView {
    /// The signal, e.g. `keyword`, `semantic`, `rating`, `availability`.
    pub signal: String,
    /// What it was computed from, e.g. the matched skill.
    pub value: String,
    /// Its contribution to the score, rounded to 0.01.
    pub weight: f32,
    /// The reason as a sentence.
    pub text: String,
}

impl From<&MatchReason> for MatchReasonView {
    fn from(reason: &MatchReason) -> Self {
        MatchReasonView {
            signal: reason.signal.clone(),
            value: reason.value.clone(),
            weight: reason.weight,
            text: reason.text.clone(),
        }
    }
}

/// The reasons of a ranked expert as shown.
pub fn reason_views(reasons: &[MatchReason]) -> Vec<MatchReasonView> {
    reasons.iter().map(MatchReasonView::from).collect()
}

/// An expert in a ranked list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankedExpertView {
    /// The expert's public profile.
    pub expert: PublicProfile,
    /// How good a match, `0..=1`.
    pub score: f32,
    /// Why, strongest first.
    pub reasons: Vec<MatchReasonView>,
}

impl From<&RankedExpert> for RankedExpertView {
    fn from(ranked: &RankedExpert) -> Self {
        RankedExpertView {
            expert: PublicProfile::from(&*ranked.expert),
            score: ranked.match_score,
            reasons: reason_views(&ranked.reasons),
        }
    }
}

/// A ranked list of experts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankedExpertList {
    /// Best first.
    pub experts: Vec<RankedExpertView>,
}

impl RankedExpertList {
    /// The list shown for `ranked`.
    pub fn of(ranked: &[RankedExpert]) -> Self {
        RankedExpertList {
            experts: ranked.iter().map(RankedExpertView::from).collect(),
        }
    }
}
