//! Rows for the engine's unit tests (integration tests use the
//! `droply-test-support` crate, which cannot serve the crate's own tests).

use droply_models::{
    AvailabilityRule, AvailabilityRuleId, Booking, BookingStatus, Currency, Email, LanguageCode,
    LocalTime, Money, NewBooking, NewUser, PaymentStatus, ReferralCode, TimeZone, Timestamp, User,
    UserId, Username, Weekday,
};

use crate::Store;

/// A valid user called `name` with `profession` (empty: a client).
pub(crate) fn user(name: &str, profession: &str) -> User {
    let mut user = User::new(
        NewUser {
            username: Username::parse(name).expect("username"),
            email: Email::parse(&format!("{name}@example.com")).expect("email"),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            full_name: name.into(),
            currency: Currency::EUR,
            timezone: TimeZone::parse("Europe/Berlin").expect("zone"),
            language: LanguageCode::parse("en").expect("language"),
            referral_code: ReferralCode::parse(&format!("REF{}", name.to_uppercase()))
                .expect("code"),
            referred_by: None,
        },
        UserId::new(0),
        Timestamp::parse_rfc3339("2027-01-01T00:00:00Z").expect("instant"),
    );
    user.profession = profession.into();
    user
}

/// A temporary store holding [`user`]s ann, an expert ("Tax Advisor"),
/// and bob, a client: the store, ann and bob.
pub(crate) fn ann_and_bob() -> (Store, User, User) {
    let store = Store::open_temporary().expect("store");
    let ann = store
        .users()
        .create(user("ann", "Tax Advisor"))
        .expect("ann");
    let bob = store.users().create(user("bob", "")).expect("bob");
    (store, ann, bob)
}

/// [`ann_and_bob`] with bob's [`booking`] of ann, paid, in `status`: the
/// store and the booking.
pub(crate) fn paid_booking(status: BookingStatus) -> (Store, Booking) {
    stored_paid(booking, status)
}

/// [`paid_booking`] with a [`booking_ahead`], for tests whose code reads
/// the real clock (a session not over yet).
pub(crate) fn paid_booking_ahead(status: BookingStatus) -> (Store, Booking) {
    stored_paid(booking_ahead, status)
}

/// [`ann_and_bob`] with bob's booking of ann made by `make`, paid, in
/// `status`: the store and the booking.
fn stored_paid(make: fn(UserId, UserId) -> Booking, status: BookingStatus) -> (Store, Booking) {
    let (store, ann, bob) = ann_and_bob();
    let mut row = make(bob.id, ann.id);
    row.status = status;
    row.payment_status = PaymentStatus::Succeeded;
    let row = store.bookings().create(row).expect("booking");
    (store, row)
}

/// A weekly rule of `owner`: Mondays 09:00 to 17:00.
pub(crate) fn monday_rule(owner: UserId) -> AvailabilityRule {
    AvailabilityRule {
        id: AvailabilityRuleId::new(0),
        user_id: owner,
        weekday: Weekday::new(0).expect("monday"),
        start: LocalTime::parse("09:00").expect("start"),
        end: LocalTime::parse("17:00").expect("end"),
        is_active: true,
        created_at: Timestamp::parse_rfc3339("2027-01-01T00:00:00Z").expect("instant"),
        updated_at: Timestamp::parse_rfc3339("2027-01-01T00:00:00Z").expect("instant"),
    }
}

/// A new, unpaid one-hour booking of `provider` by `booker` (EUR 125),
/// made 2027-01-01T00:00Z for Monday 2027-01-04 09:00Z: fixed instants, for
/// tests that pass their own `now`. A test whose code reads the real clock
/// takes a [`booking_ahead`] instead.
pub(crate) fn booking(booker: UserId, provider: UserId) -> Booking {
    booking_at(
        booker,
        provider,
        Timestamp::parse_rfc3339("2027-01-01T00:00:00Z").expect("instant"),
        Timestamp::parse_rfc3339("2027-01-04T09:00:00Z").expect("instant"),
    )
}

/// [`booking`] relative to the real clock, for tests whose code reads the
/// real clock (a hold lapsing, a session ahead or over): made now, so its
/// unpaid hold runs the default policy's 15 minutes from the test's start,
/// and starting three days ahead on the whole UTC hour (on any slot grid,
/// not necessarily a Monday of [`monday_rule`]).
pub(crate) fn booking_ahead(booker: UserId, provider: UserId) -> Booking {
    const HOUR_MICROS: i64 = 3_600_000_000;
    let now = Timestamp::now();
    let later = now.plus_days(3).as_micros();
    let on_the_hour = later - later.rem_euclid(HOUR_MICROS);
    let start = Timestamp::from_micros(on_the_hour).expect("instant");
    booking_at(booker, provider, now, start)
}

/// A new, unpaid one-hour booking of `provider` by `booker` (EUR 125), made
/// at `created_at`, starting at `start_time`.
fn booking_at(
    booker: UserId,
    provider: UserId,
    created_at: Timestamp,
    start_time: Timestamp,
) -> Booking {
    Booking::new(NewBooking {
        user_id: booker,
        provider_id: provider,
        start_time,
        duration: 60,
        payment_amount: Money::new(12_500, Currency::EUR),
        client_name: "Bob".to_owned(),
        client_email: Email::parse("bob@example.com").expect("email"),
        client_message: None,
        created_at,
    })
}
