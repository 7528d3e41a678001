//! How the pages write values people read: money with its currency's
//! symbol and minor digits, instants in the viewer's zone (with the zone's
//! abbreviation where the clock shows that time twice, on the night it is
//! turned back), the zone's name beside a time or atop a list of them,
//! ratings as stars. Never floats for money: the minor units
//! are split by integer arithmetic.

use chrono::TimeZone as _;
use chrono::{DateTime, MappedLocalTime, Utc};
use droply_models::{Money, TimeZone, Timestamp};

/// `$90.00`, `€12.50`, `¥900`, `CHF 90.00`.
pub fn money(amount: Money) -> String {
    let sign = if amount.is_negative() { "-" } else { "" };
    let number = amount.grouped_magnitude();
    let code = amount.currency.as_str();
    match code {
        "USD" => format!("{sign}${number}"),
        "EUR" => format!("{sign}€{number}"),
        "GBP" => format!("{sign}£{number}"),
        "JPY" => format!("{sign}¥{number}"),
        _ => format!("{sign}{code} {number}"),
    }
}

fn in_zone(instant: Timestamp, zone: TimeZone) -> DateTime<chrono_tz::Tz> {
    let utc: DateTime<Utc> = instant.as_datetime();
    let tz: chrono_tz::Tz = zone.as_str().parse().unwrap_or(chrono_tz::UTC);
    utc.with_timezone(&tz)
}

/// ` EDT` (the zone's abbreviation, or its offset where it has none, such
/// as ` +03`) when the wall clock in `local`'s zone shows its time twice,
/// as in the hour repeated when the clocks are turned back; else nothing,
/// the time being unambiguous.
fn repeated_time_mark(local: &DateTime<chrono_tz::Tz>) -> String {
    match local.timezone().from_local_datetime(&local.naive_local()) {
        MappedLocalTime::Ambiguous(..) => format!(" {}", local.offset()),
        MappedLocalTime::Single(_) | MappedLocalTime::None => String::new(),
    }
}

/// `Thu 3 Dec 2026, 14:00` in `zone`; `Sun 7 Nov 2027, 01:30 EDT` in a
/// repeated hour.
pub fn date_time(instant: Timestamp, zone: TimeZone) -> String {
    let local = in_zone(instant, zone);
    format!(
        "{}{}",
        local.format("%a %-d %b %Y, %H:%M"),
        repeated_time_mark(&local)
    )
}

/// `14:00` in `zone`; `01:30 EDT` and then `01:30 EST` in a repeated hour.
pub fn clock(instant: Timestamp, zone: TimeZone) -> String {
    let local = in_zone(instant, zone);
    format!("{}{}", local.format("%H:%M"), repeated_time_mark(&local))
}

/// `14:00 (Europe/Paris)`: [`clock`] naming its zone, for a time that
/// stands alone on a page.
pub fn clock_with_zone(instant: Timestamp, zone: TimeZone) -> String {
    format!("{} ({})", clock(instant, zone), zone_name(zone))
}

/// The zone as the pages name it: `Europe/Paris`, `America/New York`.
pub fn zone_name(zone: TimeZone) -> String {
    zone.as_str().replace('_', " ")
}

/// `Times in Europe/Paris.`: the note atop a list or table of times, which
/// then need not each name their zone.
pub fn times_in(zone: TimeZone) -> String {
    format!("Times in {}.", zone_name(zone))
}

/// `Thursday 3 December` in `zone`.
pub fn day(instant: Timestamp, zone: TimeZone) -> String {
    in_zone(instant, zone).format("%A %-d %B").to_string()
}

/// The local date in `zone`, as `2026-12-03`.
pub fn iso_day(instant: Timestamp, zone: TimeZone) -> String {
    in_zone(instant, zone).format("%Y-%m-%d").to_string()
}

/// `★ 4.8 (12)`, or `New` without reviews.
pub fn rating(average: Option<f32>, count: u32) -> String {
    match average {
        Some(stars) if count > 0 => format!("★ {stars:.1} ({count})"),
        _ => "New".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use droply_models::Currency;

    #[test]
    fn money_uses_integer_minor_units() {
        let usd = Currency::parse("USD").expect("valid");
        assert_eq!(money(Money::new(9000, usd)), "$90.00");
        assert_eq!(money(Money::new(5, usd)), "$0.05");
        assert_eq!(money(Money::new(-1250, usd)), "-$12.50");
        assert_eq!(
            money(Money::new(900, Currency::parse("JPY").expect("valid"))),
            "¥900"
        );
        assert_eq!(money(Money::new(123_456_789, usd)), "$1,234,567.89");
        assert_eq!(
            money(Money::new(9000, Currency::parse("CHF").expect("valid"))),
            "CHF 90.00"
        );
    }

    #[test]
    fn times_read_in_the_viewers_zone() {
        let instant = Timestamp::parse_rfc3339("2026-12-03T13:00:00Z").expect("valid");
        let paris = TimeZone::parse("Europe/Paris").expect("valid");
        assert_eq!(date_time(instant, paris), "Thu 3 Dec 2026, 14:00");
        assert_eq!(clock(instant, TimeZone::default()), "13:00");
        assert_eq!(day(instant, paris), "Thursday 3 December");
        assert_eq!(clock_with_zone(instant, paris), "14:00 (Europe/Paris)");
        let new_york = TimeZone::parse("America/New_York").expect("valid");
        assert_eq!(zone_name(new_york), "America/New York");
        assert_eq!(times_in(paris), "Times in Europe/Paris.");
        assert_eq!(rating(Some(4.75), 12), "★ 4.8 (12)");
        assert_eq!(rating(None, 0), "New");
    }

    /// Regression: on New York's fall-back night 05:30Z and 06:30Z both
    /// read `01:30`.
    #[test]
    fn a_repeated_hour_names_its_zone_and_other_hours_do_not() {
        let new_york = TimeZone::parse("America/New_York").expect("valid");
        let at = |text: &str| Timestamp::parse_rfc3339(text).expect("valid");
        assert_eq!(clock(at("2027-11-07T05:30:00Z"), new_york), "01:30 EDT");
        assert_eq!(clock(at("2027-11-07T06:30:00Z"), new_york), "01:30 EST");
        assert_eq!(
            date_time(at("2027-11-07T05:30:00Z"), new_york),
            "Sun 7 Nov 2027, 01:30 EDT"
        );
        assert_eq!(clock(at("2027-11-07T04:30:00Z"), new_york), "00:30");
        assert_eq!(clock(at("2027-11-07T07:30:00Z"), new_york), "02:30");
        // The night the clocks go forward repeats nothing.
        assert_eq!(clock(at("2027-03-14T07:30:00Z"), new_york), "03:30");
    }
}
