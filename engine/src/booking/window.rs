//! The bookings of one user, on one side of them, that start within a time
//! window: one key range of the start-time ordered booking indexes, read
//! either from the committed store (the slot listing) or inside a write
//! transaction, seeing its own writes (booking, which re-checks the slot
//! under the writer lock). Both read the same range, so a slot offered and
//! a slot booked are judged against the same bookings.

use droply_models::{Booking, Timestamp, UserId};

use super::BookingRole;
use crate::Result;
use crate::store::{IndexName, KeyBuilder, Store, Txn};

/// What bookings are read through: the committed store, or an open write
/// transaction.
pub(crate) trait BookingReads {
    /// The bookings whose keys in `index` lie in `[lower, upper)`, in key
    /// order.
    fn bookings_in_range(
        &self,
        index: IndexName,
        lower: &[u8],
        upper: &[u8],
    ) -> Result<Vec<Booking>>;
}

impl BookingReads for Store {
    fn bookings_in_range(
        &self,
        index: IndexName,
        lower: &[u8],
        upper: &[u8],
    ) -> Result<Vec<Booking>> {
        self.list_index_range(index, lower, upper)
    }
}

impl BookingReads for Txn<'_> {
    fn bookings_in_range(
        &self,
        index: IndexName,
        lower: &[u8],
        upper: &[u8],
    ) -> Result<Vec<Booking>> {
        self.list_index_range(index, lower, upper)
    }
}

/// The index that lists bookings by the user on `side` of them, then by
/// start time.
fn index_of(side: BookingRole) -> IndexName {
    match side {
        BookingRole::Client => IndexName::BookingsByBooker,
        BookingRole::Provider => IndexName::BookingsByProvider,
    }
}

/// The keys (owner, start time, id) of `owner`'s bookings starting in
/// `[from, to)`; `to` none: every later one. `owner ++ from` and
/// `owner ++ to` are no keys themselves (keys end with an id), so a booking
/// starting at `from` lies inside and one starting at `to` outside.
fn window_keys(owner: UserId, from: Timestamp, to: Option<Timestamp>) -> (Vec<u8>, Vec<u8>) {
    let lower = KeyBuilder::new().u64(owner.get()).time(from).build();
    let upper = match to {
        Some(to) => KeyBuilder::new().u64(owner.get()).time(to).build(),
        // The next owner's first key.
        None => KeyBuilder::new().u64(owner.get().saturating_add(1)).build(),
    };
    (lower, upper)
}

/// The bookings of `owner` as `side` (the sessions they give as
/// `Provider`, those they booked as `Client`) that start in `[from, to)`
/// (`to` none: every later one), by start time, read as one key range
/// through `reads` rather than the owner's whole history. Empty when `to`
/// is not after `from`.
pub(crate) fn bookings_starting_within(
    reads: &impl BookingReads,
    side: BookingRole,
    owner: UserId,
    from: Timestamp,
    to: Option<Timestamp>,
) -> Result<Vec<Booking>> {
    let (lower, upper) = window_keys(owner, from, to);
    reads.bookings_in_range(index_of(side), &lower, &upper)
}

#[cfg(test)]
mod tests {
    use droply_models::{BookingId, BookingStatus, PaymentStatus};

    use super::*;
    use crate::store::{MAX_PAGE_SIZE, PageRequest};
    use crate::test_rows::{ann_and_bob, booking, user};

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("instant")
    }

    /// A confirmed, paid one-hour booking of `provider` by `booker` at
    /// `start`: its id.
    fn confirmed(store: &Store, booker: UserId, provider: UserId, start: Timestamp) -> BookingId {
        let mut row = booking(booker, provider);
        row.start_time = start;
        row.end_time = start.plus_minutes(60);
        row.status = BookingStatus::Confirmed;
        row.payment_status = PaymentStatus::Succeeded;
        store.bookings().create(row).expect("booking").id
    }

    fn ids(bookings: &[Booking]) -> Vec<BookingId> {
        bookings.iter().map(|b| b.id).collect()
    }

    /// The window read outside a transaction (the slot listing's) and inside
    /// one (booking's), as ids.
    fn both_reads(
        store: &Store,
        side: BookingRole,
        owner: UserId,
        from: Timestamp,
        to: Option<Timestamp>,
    ) -> (Vec<BookingId>, Vec<BookingId>) {
        let outside = bookings_starting_within(store, side, owner, from, to).expect("outside");
        let inside = store
            .write(|txn| bookings_starting_within(&*txn, side, owner, from, to))
            .expect("inside");
        (ids(&outside), ids(&inside))
    }

    /// Regression: the slot listing paged through an owner's bookings with a
    /// cursor while booking read a key range in its transaction, two
    /// writings of "bookings starting in a window". Now one function serves
    /// both: it must return exactly the bookings starting in `[from, to)`
    /// (one at `from` in, one at `to` out), the same outside a transaction
    /// and inside one, and the same as filtering the whole history.
    #[test]
    fn bookings_starting_in_a_window_are_the_same_read_outside_and_inside_a_transaction() {
        let (store, ann, bob) = ann_and_bob();
        let cat = store
            .users()
            .create(user("cat", "Tax Advisor"))
            .expect("cat");
        let from = at("2027-01-04T00:00:00Z");
        let to = at("2027-01-05T00:00:00Z");
        let before = confirmed(&store, bob.id, ann.id, from.plus_minutes(-60));
        let just_before = confirmed(&store, bob.id, ann.id, from.plus_minutes(-1));
        let at_from = confirmed(&store, bob.id, ann.id, from);
        let inside = confirmed(&store, bob.id, ann.id, at("2027-01-04T12:00:00Z"));
        let just_inside = confirmed(&store, bob.id, ann.id, to.plus_minutes(-1));
        let at_to = confirmed(&store, bob.id, ann.id, to);
        let after = confirmed(&store, bob.id, ann.id, to.plus_days(30));
        // Another provider's session and one Ann booked with Cat, both in
        // the window: not Ann's as provider.
        let cats = confirmed(&store, bob.id, cat.id, at("2027-01-04T10:00:00Z"));
        let anns_own = confirmed(&store, ann.id, cat.id, at("2027-01-04T15:00:00Z"));

        let window = vec![at_from, inside, just_inside];
        let (outside, in_txn) = both_reads(&store, BookingRole::Provider, ann.id, from, Some(to));
        assert_eq!(outside, window);
        assert_eq!(in_txn, window);

        // What filtering Ann's whole history by start gives.
        let history = store
            .bookings()
            .by_provider(ann.id, &PageRequest::first(MAX_PAGE_SIZE))
            .expect("history");
        assert_eq!(history.next, None);
        let filtered: Vec<BookingId> = history
            .items
            .iter()
            .filter(|b| b.start_time >= from && b.start_time < to)
            .map(|b| b.id)
            .collect();
        assert_eq!(outside, filtered);

        // No end: every later one, from the one at `from` on.
        let later = vec![at_from, inside, just_inside, at_to, after];
        assert_eq!(
            both_reads(&store, BookingRole::Provider, ann.id, from, None),
            (later.clone(), later)
        );
        let all = vec![
            before,
            just_before,
            at_from,
            inside,
            just_inside,
            at_to,
            after,
        ];
        assert_eq!(
            both_reads(
                &store,
                BookingRole::Provider,
                ann.id,
                from.plus_days(-1),
                None
            )
            .0,
            all
        );

        // The booker's side reads the other index.
        assert_eq!(
            both_reads(&store, BookingRole::Client, ann.id, from, Some(to)),
            (vec![anns_own], vec![anns_own])
        );
        assert_eq!(
            both_reads(&store, BookingRole::Provider, cat.id, from, Some(to)),
            (vec![cats, anns_own], vec![cats, anns_own])
        );

        // An empty or inverted window holds nothing.
        for (start, end) in [(from, from), (to, from)] {
            assert_eq!(
                both_reads(&store, BookingRole::Provider, ann.id, start, Some(end)),
                (Vec::new(), Vec::new())
            );
        }
    }

    /// Inside a transaction the window sees the transaction's own new
    /// booking, as the booking re-check needs; once committed, the read
    /// outside a transaction sees it too.
    #[test]
    fn a_window_read_inside_a_transaction_sees_its_own_new_booking() {
        let (store, ann, bob) = ann_and_bob();
        let from = at("2027-01-04T00:00:00Z");
        let to = at("2027-01-05T00:00:00Z");
        let mut row = booking(bob.id, ann.id);
        row.start_time = at("2027-01-04T09:00:00Z");
        row.end_time = row.start_time.plus_minutes(60);
        let (made, seen) = store
            .write(|txn| {
                let made = txn.create(row)?;
                let seen =
                    bookings_starting_within(&*txn, BookingRole::Provider, ann.id, from, Some(to))?;
                Ok((made.id, ids(&seen)))
            })
            .expect("write");
        assert_eq!(seen, vec![made]);
        let committed =
            bookings_starting_within(&store, BookingRole::Provider, ann.id, from, Some(to))
                .expect("read");
        assert_eq!(ids(&committed), vec![made]);
    }
}
