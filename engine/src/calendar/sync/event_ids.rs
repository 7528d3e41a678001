//! The ids Droply asks Google to give the events it makes, and the owner
//! each event carries. Booking ids count from 1 in every store, so an id
//! holds a tag of the store's instance key besides the booking's: two
//! stores writing to one expert's calendar (two deployments, or a store
//! made again from nothing) never ask for the same id. Each event also
//! names its store and booking in a private extended property, so a create
//! that meets its id taken adopts the event only when it is its own.
//! Google's event ids are 5-1024 characters of `a`-`v` and `0`-`9`
//! (base32hex); links stored before the tag keep the ids they hold.

use droply_models::Booking;
use sha2::{Digest, Sha256};

use crate::calendar::outbox::CalendarOp;

/// Base32hex, lower case: the characters Google allows in event ids.
const BASE32HEX: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

/// Eight base32hex characters (40 bits) of the SHA-256 of `instance`, the
/// store's instance key.
pub(super) fn instance_tag(instance: &str) -> String {
    let digest = Sha256::digest(instance.as_bytes());
    let bits = digest
        .iter()
        .take(5)
        .fold(0_u64, |acc, &byte| (acc << 8) | u64::from(byte));
    (0..8_u32)
        .rev()
        .map(|i| {
            let index = (bits >> (i * 5)) & 31;
            char::from(BASE32HEX[index as usize])
        })
        .collect()
}

/// The event id we ask Google to use for a booking's first event, so that
/// a retried create cannot make a second one: `dropb`, the store's tag,
/// then the booking id in 12 digits.
pub(super) fn event_id_of(instance: &str, booking: &Booking) -> String {
    format!("dropb{}{:012}", instance_tag(instance), booking.id.get())
}

/// The id of the event `op` makes anew for `booking` after the expert
/// deleted its event in Google.
pub(super) fn remade_event_id(instance: &str, booking: &Booking, op: &CalendarOp) -> String {
    format!("{}o{:012}", event_id_of(instance, booking), op.id.get())
}

/// The id `op` asks for when `first` is taken by an event that is not
/// its own (another store's whose tag is the same, or one deleted since):
/// still one id per operation, so a retry after a lost answer finds the
/// event it made.
pub(super) fn other_event_id(first: &str, op: &CalendarOp) -> String {
    format!("{first}c{:012}", op.id.get())
}

/// Whose an event is, as its private `droply` property says:
/// `<instance key>:<booking id>`.
pub(super) fn event_owner(instance: &str, booking: &Booking) -> String {
    format!("{instance}:{}", booking.id.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_base32hex_and_differ_between_stores() {
        let mut booking =
            crate::test_rows::booking(droply_models::UserId::new(2), droply_models::UserId::new(1));
        booking.id = droply_models::BookingId::new(42);
        let a = event_id_of(&"ab".repeat(16), &booking);
        let b = event_id_of(&"cd".repeat(16), &booking);
        assert_ne!(a, b);
        for id in [&a, &b] {
            assert_eq!(id.len(), 5 + 8 + 12, "{id}");
            assert!(id.ends_with("000000000042"), "{id}");
            assert!(
                id.bytes().all(|c| BASE32HEX.contains(&c)),
                "only a-v and 0-9: {id}"
            );
        }
        assert_eq!(a, event_id_of(&"ab".repeat(16), &booking), "stable");
    }
}
