//! The booking widget of an expert's profile page: the price, a picker of
//! the zone times are shown in, and the expert's open slots for the next
//! days grouped by the viewer's local day. Each slot is a submit button of
//! one form (the CSRF field, a fresh idempotency key per render, the start
//! instant), posted to `/@{username}/book`. A paid session without
//! payments configured is shown with its buttons disabled and a note.

use chrono_tz::TZ_VARIANTS;
use droply_engine::availability::Slot;
use droply_models::{TimeZone, User};
use maud::{Markup, html};

use crate::pages::format;
use crate::pages::layout::csrf_field;
use crate::pages::page::url_encode;
use crate::pages::viewer::Viewer;

/// How many days ahead the widget asks for slots.
pub const DAYS_AHEAD: i64 = 14;
/// At most this many days with open slots are shown.
const DAYS_SHOWN: usize = 5;
/// The regions of the IANA zones the picker offers.
const REGIONS: [&str; 9] = [
    "Africa/",
    "America/",
    "Antarctica/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
];

/// The open slots of one local day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotDay {
    /// The local date, `2026-12-03`.
    pub date: String,
    /// The day as read, `Thursday 3 December`.
    pub label: String,
    /// Its slots, in time order.
    pub slots: Vec<Slot>,
}

/// `slots` (in time order) grouped by their start's local day in `zone`,
/// at most `days` days.
pub fn group_by_day(slots: &[Slot], zone: TimeZone, days: usize) -> Vec<SlotDay> {
    let mut grouped: Vec<SlotDay> = Vec::new();
    for slot in slots {
        let date = format::iso_day(slot.start, zone);
        if let Some(day) = grouped.last_mut().filter(|day| day.date == date) {
            day.slots.push(*slot);
            continue;
        }
        if grouped.len() == days {
            break;
        }
        grouped.push(SlotDay {
            date,
            label: format::day(slot.start, zone),
            slots: vec![*slot],
        });
    }
    grouped
}

/// What the widget shows.
pub struct Widget<'a> {
    /// The expert booked.
    pub expert: &'a User,
    /// Their open slots, in time order.
    pub slots: &'a [Slot],
    /// Whether card payments are configured.
    pub payments: bool,
    /// Why the last booking did not go through.
    pub error: Option<&'a str>,
    /// The key this render's form books with.
    pub idempotency_key: &'a str,
}

impl Widget<'_> {
    /// Whether booking is possible at all: a paid session needs payments.
    fn blocked_by_payments(&self) -> bool {
        self.expert.charges_for_sessions() && !self.payments
    }
}

/// The widget, for `viewer`.
pub fn widget(viewer: &Viewer, widget: &Widget<'_>) -> Markup {
    let expert = widget.expert;
    let zone = viewer.time_zone();
    let here = format!("/@{}", expert.username.as_str());
    let action = format!("/@{}/book", url_encode(expert.username.as_str()));
    let days = group_by_day(widget.slots, zone, DAYS_SHOWN);
    let blocked = widget.blocked_by_payments();
    html! {
        section id="book" class="profile-section profile-booking" aria-labelledby="book-heading" {
            h2 id="book-heading" { "Book a session" }
            p class="session-price" {
                @match expert.hourly_rate.filter(|rate| rate.is_positive()) {
                    Some(rate) => { span class="price" { (format::money(rate)) } " per hour · " (expert.session_duration) "-minute sessions" }
                    None => { span class="price" { "Free" } " · " (expert.session_duration) "-minute sessions" }
                }
            }
            (zone_picker(viewer, zone, &here))
            @if let Some(error) = widget.error {
                p class="alert" role="alert" { (error) }
            }
            @if blocked {
                p class="note payments-off" role="status" {
                    "Payments are unavailable right now, so paid sessions cannot be booked."
                }
            }
            @if !expert.is_bookable() {
                p class="note" { (expert.full_name) " is not taking bookings at the moment." }
            } @else if days.is_empty() {
                p class="note" { "No open times in the next " (DAYS_AHEAD) " days." }
            } @else {
                form method="post" action=(action) class="slot-form" {
                    (csrf_field(viewer))
                    input type="hidden" name="idempotency_key" value=(widget.idempotency_key);
                    @for day in &days {
                        fieldset class="slot-day" data-date=(day.date) {
                            legend { (day.label) }
                            div class="slot-list" {
                                @for slot in &day.slots {
                                    @let start = slot.start.to_rfc3339();
                                    button type="submit" name="start" value=(start) class="slot"
                                        data-start=(start) disabled[blocked]
                                        aria-label={ "Book " (day.label) " at " (format::clock(slot.start, zone)) } {
                                        time datetime=(start) { (format::clock(slot.start, zone)) }
                                    }
                                }
                            }
                        }
                    }
                    @if viewer.user.is_none() {
                        p class="note" { "You will be asked to sign in first." }
                    }
                }
            }
        }
    }
}

/// The zone times are shown in, and a form to change it.
pub fn zone_picker(viewer: &Viewer, zone: TimeZone, here: &str) -> Markup {
    let current = zone.as_str();
    html! {
        form method="post" action="/time-zone" class="zone-form" {
            (csrf_field(viewer))
            input type="hidden" name="next" value=(here);
            label for="zone" { "Times shown in" }
            div class="zone-row" {
                select id="zone" name="zone" {
                    @if !zone_names().any(|name| name == current) {
                        option value=(current) selected { (current.replace('_', " ")) }
                    }
                    @for name in zone_names() {
                        option value=(name) selected[name == current] { (name.replace('_', " ")) }
                    }
                }
                button type="submit" class="secondary" { "Change" }
            }
        }
    }
}

/// The IANA zones the picker offers, by name.
fn zone_names() -> impl Iterator<Item = &'static str> {
    TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|name| REGIONS.iter().any(|region| name.starts_with(region)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use droply_models::Timestamp;

    fn slot(start: &str) -> Slot {
        let start = Timestamp::parse_rfc3339(start).expect("valid");
        Slot {
            start,
            end: start.plus_minutes(60),
        }
    }

    #[test]
    fn slots_are_grouped_by_the_viewers_local_day() {
        // 07:00 UTC is still the evening before in Los Angeles (UTC-8).
        let slots = [
            slot("2027-01-05T07:00:00Z"),
            slot("2027-01-05T08:00:00Z"),
            slot("2027-01-05T09:00:00Z"),
            slot("2027-01-06T09:00:00Z"),
        ];
        let la = TimeZone::parse("America/Los_Angeles").expect("valid");
        let days = group_by_day(&slots, la, 7);
        let dates: Vec<&str> = days.iter().map(|d| d.date.as_str()).collect();
        assert_eq!(dates, ["2027-01-04", "2027-01-05", "2027-01-06"]);
        assert_eq!(days[0].label, "Monday 4 January");
        let sizes: Vec<usize> = days.iter().map(|d| d.slots.len()).collect();
        assert_eq!(sizes, [1, 2, 1]);
        let berlin = TimeZone::parse("Europe/Berlin").expect("valid");
        let days = group_by_day(&slots, berlin, 7);
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].slots.len(), 3);
    }

    #[test]
    fn at_most_the_asked_days_are_kept() {
        let slots = [
            slot("2027-01-04T09:00:00Z"),
            slot("2027-01-05T09:00:00Z"),
            slot("2027-01-06T09:00:00Z"),
        ];
        let days = group_by_day(&slots, TimeZone::UTC, 2);
        assert_eq!(days.len(), 2);
        assert!(group_by_day(&[], TimeZone::UTC, 2).is_empty());
    }

    #[test]
    fn the_picker_offers_real_zones() {
        let names: Vec<&str> = zone_names().collect();
        assert!(names.contains(&"America/Los_Angeles") && names.contains(&"Europe/Berlin"));
        assert!(names.iter().all(|name| TimeZone::parse(name).is_ok()));
    }
}
