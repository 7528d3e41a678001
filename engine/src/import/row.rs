//! One row of an import: the line format (`{"kind": "user", "row": {...}}`)
//! and how a row is written under the id it carries, which no row of its
//! kind may hold yet (an import adds rows, it never replaces one). A user's
//! balance totals must be ones the ledger can open (its referral earnings
//! within the earnings that include them). A booking may last no longer
//! than the booking path allows ([`is_booking_length`], at most
//! [`MAX_BOOKING_MINUTES`]): the slot listing and the booking path look
//! back that far for bookings still running, so a longer one would be
//! missed by both.

use droply_models::{
    AiMatch, AvailabilityException, AvailabilityRule, Booking, Category, Content, ContentPurchase,
    DropinMessage, DropinParticipant, DropinSession, Favorite, Payout, Referral, ReferralReward,
    User, UserInteraction,
};
use serde::{Deserialize, Serialize};

use crate::availability::{MAX_BOOKING_MINUTES, is_booking_length};
use crate::store::{EntityKind, Record, RecordId, Txn};
use crate::{Error, Result};

/// One line of an import file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "row", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)]
pub enum ImportRow {
    /// A user or expert.
    User(User),
    /// A booking.
    Booking(Booking),
    /// A favorite.
    Favorite(Favorite),
    /// An interaction.
    Interaction(UserInteraction),
    /// A weekly availability rule.
    AvailabilityRule(AvailabilityRule),
    /// An availability exception.
    AvailabilityException(AvailabilityException),
    /// A payout.
    Payout(Payout),
    /// A referral.
    Referral(Referral),
    /// A referral reward.
    ReferralReward(ReferralReward),
    /// A piece of content.
    Content(Content),
    /// A content purchase.
    ContentPurchase(ContentPurchase),
    /// A drop-in session.
    DropinSession(DropinSession),
    /// A drop-in participant.
    DropinParticipant(DropinParticipant),
    /// A drop-in message.
    DropinMessage(DropinMessage),
    /// An AI match.
    AiMatch(AiMatch),
    /// A category.
    Category(Category),
}

impl ImportRow {
    /// The kind of row this line holds.
    pub fn kind(&self) -> EntityKind {
        match self {
            ImportRow::User(_) => EntityKind::User,
            ImportRow::Booking(_) => EntityKind::Booking,
            ImportRow::Favorite(_) => EntityKind::Favorite,
            ImportRow::Interaction(_) => EntityKind::Interaction,
            ImportRow::AvailabilityRule(_) => EntityKind::AvailabilityRule,
            ImportRow::AvailabilityException(_) => EntityKind::AvailabilityException,
            ImportRow::Payout(_) => EntityKind::Payout,
            ImportRow::Referral(_) => EntityKind::Referral,
            ImportRow::ReferralReward(_) => EntityKind::ReferralReward,
            ImportRow::Content(_) => EntityKind::Content,
            ImportRow::ContentPurchase(_) => EntityKind::ContentPurchase,
            ImportRow::DropinSession(_) => EntityKind::DropinSession,
            ImportRow::DropinParticipant(_) => EntityKind::DropinParticipant,
            ImportRow::DropinMessage(_) => EntityKind::DropinMessage,
            ImportRow::AiMatch(_) => EntityKind::AiMatch,
            ImportRow::Category(_) => EntityKind::Category,
        }
    }

    /// Writes the row under its own id; `Invalid` when a row of its kind
    /// holds that id already (an import adds rows, it never replaces one:
    /// a replaced row's money would no longer agree with the ledger).
    pub fn put(self, txn: &mut Txn<'_>) -> Result<()> {
        match self {
            ImportRow::User(row) => {
                // Its balances get ledger rows when the import ends: totals
                // that could not be opened are refused here, with the line.
                crate::payments::ledger::check_imported_totals(&row)?;
                put_new(txn, row)
            }
            ImportRow::Booking(row) => {
                check_booking_length(&row)?;
                // A confirmed session still ahead gets its video room, as
                // one confirmed here does.
                let room = crate::video::wants_room(&row, txn.now()).then(|| row.clone());
                put_new(txn, row)?;
                room.map_or(Ok(()), |row| crate::video::enqueue_room(txn, &row))
            }
            ImportRow::Favorite(row) => put_new(txn, row),
            ImportRow::Interaction(row) => put_new(txn, row),
            ImportRow::AvailabilityRule(row) => put_new(txn, row),
            ImportRow::AvailabilityException(row) => put_new(txn, row),
            ImportRow::Payout(row) => put_new(txn, row),
            ImportRow::Referral(row) => put_new(txn, row),
            ImportRow::ReferralReward(row) => put_new(txn, row),
            ImportRow::Content(row) => put_new(txn, row),
            ImportRow::ContentPurchase(row) => put_new(txn, row),
            ImportRow::DropinSession(row) => put_new(txn, row),
            ImportRow::DropinParticipant(row) => put_new(txn, row),
            ImportRow::DropinMessage(row) => put_new(txn, row),
            ImportRow::AiMatch(row) => put_new(txn, row),
            ImportRow::Category(row) => put_new(txn, row),
        }
    }
}

/// Refuses an imported booking of a length the booking path never makes
/// ([`is_booking_length`]: none, or longer than [`MAX_BOOKING_MINUTES`]),
/// naming the booking and the field: the slot listing and the booking path
/// look back only that far for bookings still running, so they would offer
/// and book its later hours again. (Its `end_time` must agree with its
/// `duration`, which the row's own checks see to.)
fn check_booking_length(booking: &Booking) -> Result<()> {
    if !is_booking_length(booking.duration) {
        return Err(Error::Invalid(format!(
            "booking {}: duration {} minutes is not a length a booking may last \
             (1 to {MAX_BOOKING_MINUTES} minutes)",
            booking.id.get(),
            booking.duration
        )));
    }
    Ok(())
}

/// Writes `row` under its own id, which no row of its kind may hold yet.
fn put_new<R: Record>(txn: &mut Txn<'_>, row: R) -> Result<()> {
    if txn.get::<R>(row.id())?.is_some() {
        return Err(Error::Invalid(format!(
            "{} {} already exists; an import only adds rows",
            R::KIND.name(),
            row.id().raw()
        )));
    }
    txn.put(row).map(drop)
}
