//! The texts the int8 path ([`super::Precision::Int8`]) is calibrated on: the f32 model
//! runs over them once, and the largest magnitude each linear layer's input feature reaches
//! sets how that feature is scaled before it is quantised (see [`super::int8_matmul`]).
//!
//! They are written for the purpose, not taken from any test set: expert profiles and
//! queries of all lengths, down to no text at all, since BERT's largest activations sit on
//! the `[CLS]` and `[SEP]` tokens that short texts are made of.

/// The calibration texts.
pub(crate) const TEXTS: &[&str] = &[
    "",
    "hi",
    "tax advice",
    "Who can help me move my shop to a new payment provider?",
    "Senior Rust engineer with ten years in storage engines, query planners and \
     distributed consensus; available for architecture reviews and on-call mentoring.",
    "Certified yoga teacher offering private sessions in English and Spanish, mornings \
     and weekends, online or in Lisbon.",
    "Family lawyer: divorce, custody and prenuptial agreements. Free first consultation.",
    "I need a pediatric nutritionist who speaks German",
    "Former CFO at two fintech start-ups. Fundraising decks, unit economics, board \
     preparation, and hiring your first finance team.",
    "guitar lessons for beginners, jazz and blues, 45 minutes",
    "Marketing strategist for B2B SaaS: positioning, pricing pages, launch plans, \
     content calendars and paid acquisition on LinkedIn and Google.",
    "!!!",
    "How do I prepare for a system design interview at a large company?",
    "Licensed electrician in Austin, TX. Solar installs, EV chargers, panel upgrades.",
    "Data scientist (PhD, statistics) helping teams design experiments, read A/B tests \
     and build forecasting models in Python and SQL.",
    "career coaching",
];
