//! Imported bookings longer than the booking path allows
//! ([`MAX_BOOKING_MINUTES`]) are refused with the line, the booking and the
//! field, and their batch writes nothing; one of exactly that length is
//! imported.

use droply_models::{Booking, BookingId, User, UserId};

use super::{ImportRow, import_lines};
use crate::availability::MAX_BOOKING_MINUTES;
use crate::store::Store;
use crate::test_rows;

/// [`test_rows::user`] `name` under id `id`.
fn user_with(name: &str, profession: &str, id: u64) -> User {
    let mut user = test_rows::user(name, profession);
    user.id = UserId::new(id);
    user
}

/// Bob's (11) booking `id` of ann (10), lasting `minutes`.
fn booking_of(id: u64, minutes: u16) -> Booking {
    let mut booking = test_rows::booking(UserId::new(11), UserId::new(10));
    booking.id = BookingId::new(id);
    booking.duration = minutes;
    booking.end_time = booking.start_time.plus_minutes(i64::from(minutes));
    booking
}

/// `rows` as an import file's text.
fn file_of(rows: &[ImportRow]) -> String {
    rows.iter()
        .map(|row| serde_json::to_string(row).expect("json"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Regression: `droply import` took a 9-hour booking, which the booking
/// path never makes; the slot listing and the booking path look back only
/// 8 hours for bookings still running, so its last hours were offered and
/// booked again. Refused with the line, the booking and the field.
#[test]
fn a_booking_longer_than_the_booking_path_allows_is_refused_with_the_line_and_booking() {
    let store = Store::open_temporary().expect("store");
    let rows = [
        ImportRow::User(user_with("ann", "Tax Advisor", 10)),
        ImportRow::User(user_with("bob", "", 11)),
        ImportRow::Booking(booking_of(20, MAX_BOOKING_MINUTES + 60)),
    ];
    let err =
        import_lines(&store, "rows.jsonl", file_of(&rows).as_bytes(), |_| {}).expect_err("refused");
    let message = err.to_string();
    assert!(
        message.contains("line 3")
            && message.contains("booking 20")
            && message.contains("duration"),
        "{message}"
    );
    assert_eq!(store.iter::<Booking>().count(), 0, "nothing written");
    assert_eq!(store.iter::<User>().count(), 0, "its batch neither");
}

#[test]
fn a_booking_as_long_as_the_booking_path_allows_is_imported() {
    let store = Store::open_temporary().expect("store");
    let rows = [
        ImportRow::User(user_with("ann", "Tax Advisor", 10)),
        ImportRow::User(user_with("bob", "", 11)),
        ImportRow::Booking(booking_of(20, MAX_BOOKING_MINUTES)),
    ];
    import_lines(&store, "rows.jsonl", file_of(&rows).as_bytes(), |_| {}).expect("imported");
    let stored: Booking = store.require(BookingId::new(20)).expect("booking");
    assert_eq!(stored.duration, MAX_BOOKING_MINUTES);
}
