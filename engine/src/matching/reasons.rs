//! Turning contributions into the reasons people read: one short phrase per signal
//! ("skills: Rust, Kubernetes", "similar to 2 experts you saved", "within your budget",
//! "free this Thursday", "in demand lately", "reliable: sessions take place"),
//! strongest first, as stored on an AIMatch. Contributions that may not be shown are
//! left out, and no phrase carries another user's private counts (see `signals`). The
//! personal reason names what the viewer did with the experts the hit is like: saved,
//! booked, or both (`similar_to`).

use droply_models::{AiMatch, MatchReason, TimeZone, Timestamp};

use super::signals::{Contribution, SOME_MISSED, Signal};
use super::viewer::SimilarSeeds;

/// The reasons for a ranked expert, strongest first. Dates read in `tz`.
pub fn reasons(contributions: &[Contribution], now: Timestamp, tz: TimeZone) -> Vec<MatchReason> {
    let mut sorted: Vec<&Contribution> = contributions.iter().collect();
    sorted.sort_by(|a, b| {
        (b.weight >= 0.0)
            .cmp(&(a.weight >= 0.0))
            .then(b.weight.abs().total_cmp(&a.weight.abs()))
    });
    sorted
        .into_iter()
        .filter(|c| c.shown)
        .filter_map(|c| {
            render(c, now, tz).map(|text| MatchReason {
                signal: c.signal.name().to_owned(),
                value: clip(&c.value, 200),
                weight: c.shown_weight(),
                text,
            })
        })
        .take(AiMatch::MAX_REASONS)
        .collect()
}

fn render(c: &Contribution, now: Timestamp, tz: TimeZone) -> Option<String> {
    let positive = c.weight > 0.0;
    let text = match c.signal {
        Signal::Keyword if c.value.is_empty() => "matches your words".to_owned(),
        Signal::Keyword => c.value.clone(),
        Signal::Semantic => "close in meaning to your search".to_owned(),
        Signal::Rating if positive => format!("rated {}", c.value),
        Signal::Rating => format!("rated {}, below most", c.value),
        Signal::Popularity => format!("{} lately", c.value),
        Signal::ClickThrough if positive => "often chosen when shown".to_owned(),
        Signal::ClickThrough => "often passed over when shown".to_owned(),
        Signal::Bookings if positive => "reliable: sessions take place as booked".to_owned(),
        Signal::Bookings => SOME_MISSED.to_owned(),
        Signal::Personal => similar_to(SimilarSeeds::from_value(&c.value)?),
        Signal::AlsoSaved => "people with similar taste saved this".to_owned(),
        Signal::Availability if positive => match Timestamp::parse_rfc3339(&c.value) {
            Ok(slot) => free_on(slot, now, tz),
            Err(_) => return None,
        },
        Signal::Availability if c.value == "no open slot" => {
            "no open slot in the coming weeks".to_owned()
        }
        Signal::Availability => "first opening is weeks away".to_owned(),
        Signal::Featured => "featured on Droply".to_owned(),
        Signal::NewExpert => "new on Droply".to_owned(),
        Signal::Budget => "within your budget".to_owned(),
        Signal::Diversity => "placed lower to vary the results".to_owned(),
        Signal::Similar => "a similar profile".to_owned(),
        Signal::Trending => "in demand lately".to_owned(),
        Signal::ForYou => "picked from the experts you saved, booked and viewed".to_owned(),
    };
    Some(text)
}

/// The personal reason: the saved and booked experts a hit is similar to, each kind
/// named for what the viewer did ("similar to an expert you booked", "similar to 2
/// experts you saved and one you booked"); with none, it is close to their history
/// at large.
fn similar_to(seeds: SimilarSeeds) -> String {
    let experts = |count: u32, verb: &str| match count {
        1 => format!("an expert you {verb}"),
        n => format!("{n} experts you {verb}"),
    };
    match (seeds.saved, seeds.booked) {
        (0, 0) => "close to experts you looked at".to_owned(),
        (saved, 0) => format!("similar to {}", experts(saved, "saved")),
        (0, booked) => format!("similar to {}", experts(booked, "booked")),
        (saved, 1) => format!("similar to {} and one you booked", experts(saved, "saved")),
        (saved, booked) => format!(
            "similar to {} and {booked} you booked",
            experts(saved, "saved")
        ),
    }
}

/// "free today", "free tomorrow", "free this Thursday", or "next opening on 3 Dec".
pub fn free_on(slot: Timestamp, now: Timestamp, tz: TimeZone) -> String {
    let today = tz.local_date(now);
    let day = tz.local_date(slot);
    match (day - today).num_days() {
        i64::MIN..=0 => "free today".to_owned(),
        1 => "free tomorrow".to_owned(),
        2..=6 => format!("free this {}", day.format("%A")),
        _ => format!("next opening on {}", day.format("%-d %b")),
    }
}

fn clip(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("instant")
    }

    #[test]
    fn free_days_read_in_the_viewers_zone() {
        let berlin = TimeZone::parse("Europe/Berlin").expect("zone");
        // Tuesday 2026-11-24 10:00 in Berlin.
        let now = at("2026-11-24T09:00:00Z");
        assert_eq!(
            free_on(at("2026-11-24T15:00:00Z"), now, berlin),
            "free today"
        );
        assert_eq!(
            free_on(at("2026-11-25T08:00:00Z"), now, berlin),
            "free tomorrow"
        );
        assert_eq!(
            free_on(at("2026-11-26T08:00:00Z"), now, berlin),
            "free this Thursday"
        );
        assert_eq!(
            free_on(at("2026-12-03T08:00:00Z"), now, berlin),
            "next opening on 3 Dec"
        );
        // 23:30 UTC on Tuesday is already Wednesday in Berlin.
        assert_eq!(
            free_on(at("2026-11-24T23:30:00Z"), now, berlin),
            "free tomorrow"
        );
    }

    #[test]
    fn reasons_put_the_strongest_lift_first_and_render_text() {
        let utc = TimeZone::parse("UTC").expect("zone");
        let now = at("2026-11-24T09:00:00Z");
        let contributions = [
            Contribution::new(Signal::Bookings, SOME_MISSED, -0.03),
            Contribution::new(Signal::Keyword, "skills: Rust, Kubernetes", 0.4),
            Contribution::new(
                Signal::Personal,
                SimilarSeeds {
                    saved: 2,
                    booked: 0,
                }
                .value(),
                0.1,
            ),
            Contribution::new(Signal::Budget, "EUR 80.00", 0.0),
            Contribution {
                shown: false,
                ..Contribution::new(Signal::AlsoSaved, "", 0.2)
            },
        ];
        let reasons = reasons(&contributions, now, utc);
        let texts: Vec<&str> = reasons.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "skills: Rust, Kubernetes",
                "similar to 2 experts you saved",
                "within your budget",
                "some sessions did not take place",
            ]
        );
        assert_eq!(reasons[0].signal, "keyword");
        assert!((reasons[3].weight + 0.03).abs() < 1e-6);
    }

    /// The personal reason as the viewer reads it, for `saved` and `booked` similar
    /// experts.
    fn personal(saved: u32, booked: u32) -> Option<String> {
        let utc = TimeZone::parse("UTC").expect("zone");
        let value = SimilarSeeds { saved, booked }.value();
        let reasons = reasons(
            &[Contribution::new(Signal::Personal, value, 0.2)],
            at("2026-11-24T09:00:00Z"),
            utc,
        );
        reasons.into_iter().next().map(|r| r.text)
    }

    /// Regression: every similar seed was worded as saved, so a viewer who had only
    /// booked was told "similar to an expert you saved".
    #[test]
    fn the_personal_reason_names_what_the_viewer_did() {
        let cases = [
            ((0, 0), "close to experts you looked at"),
            ((1, 0), "similar to an expert you saved"),
            ((3, 0), "similar to 3 experts you saved"),
            ((0, 1), "similar to an expert you booked"),
            ((0, 2), "similar to 2 experts you booked"),
            ((1, 1), "similar to an expert you saved and one you booked"),
            ((2, 3), "similar to 2 experts you saved and 3 you booked"),
        ];
        for ((saved, booked), text) in cases {
            assert_eq!(
                personal(saved, booked).as_deref(),
                Some(text),
                "{saved} saved, {booked} booked"
            );
        }
    }

    #[test]
    fn a_personal_value_that_is_not_one_is_not_worded() {
        let utc = TimeZone::parse("UTC").expect("zone");
        let now = at("2026-11-24T09:00:00Z");
        for value in ["2", "", "saved x, booked 1", "booked 1, saved 2"] {
            let contributions = [Contribution::new(Signal::Personal, value, 0.2)];
            assert!(reasons(&contributions, now, utc).is_empty(), "{value:?}");
        }
        let seeds = SimilarSeeds {
            saved: 4,
            booked: 1,
        };
        assert_eq!(SimilarSeeds::from_value(&seeds.value()), Some(seeds));
    }
}
