//! Reviews: the client of a session that took place (completed, or
//! confirmed and ended) rates it once, 1 to 5 stars
//! with an optional comment, within the review window after the session;
//! the expert's `rating` moves in the same transaction (so the ranking's
//! Bayesian rating uses it at once), and the expert may answer once. A
//! review is an engine-internal record, one per booking (a unique key),
//! listed per expert newest first; it shows its author by a public name
//! only ("Carl P."), never their id or email. A session the expert marks a
//! no-show did not take place: the write that marks it withdraws the
//! client's review of it and its stars, and it cannot be reviewed again.

mod no_show;
mod record;
#[cfg(test)]
mod tests;

pub(crate) use no_show::withdraw_review_of_no_show;
pub use record::{Review, ReviewId};

use droply_models::{Booking, BookingId, BookingStatus, User, UserId, text};

use crate::booking::BookingRole;
use crate::store::{IndexName, KeyBuilder, Page, PageRequest, Store, UniqueName};
use crate::{Error, Result};

/// The longest comment or answer.
pub const REVIEW_TEXT_MAX: usize = 2000;

/// How long after a session it may be reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewPolicy {
    /// Days after the session's end.
    pub window_days: u32,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy { window_days: 30 }
    }
}

/// What a client writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReview {
    /// 1 to 5 stars.
    pub rating: u8,
    /// What they say, if anything.
    pub comment: Option<String>,
}

fn not_found(entity: &'static str, id: u64) -> Error {
    Error::NotFound { entity, id }
}

/// `author`'s review of booking `booking`: only its client (the provider is
/// `Forbidden`, anyone else `NotFound`), only once it has ended, completed or
/// still confirmed (never completed by the expert), and within the window
/// (`InvalidState`), only once (`Conflict`). A no-show is never reviewed
/// (`InvalidState`), even after marking it withdrew the client's review and
/// freed its key (`withdraw_review_of_no_show`).
pub fn review_booking(
    store: &Store,
    booking: BookingId,
    author: UserId,
    review: &NewReview,
    policy: &ReviewPolicy,
) -> Result<Review> {
    if !(1..=5).contains(&review.rating) {
        return Err(droply_models::Error::invalid("rating", "must be 1 to 5 stars").into());
    }
    let comment = review
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    text::check_optional("comment", comment, REVIEW_TEXT_MAX)?;
    store.write(|txn| {
        let row: Booking = txn
            .get(booking)?
            .ok_or_else(|| not_found("booking", booking.get()))?;
        match crate::booking::role_of(&row, author) {
            None => return Err(not_found("booking", booking.get())),
            Some(BookingRole::Provider) => {
                return Err(Error::Forbidden(
                    "only the client reviews a session".to_owned(),
                ));
            }
            Some(BookingRole::Client) => {}
        }
        // A session took place once the expert completed it, or once a
        // confirmed one has ended unless it was marked otherwise: an expert
        // who never completes a session cannot keep its review away.
        if !matches!(
            row.status,
            BookingStatus::Completed | BookingStatus::Confirmed
        ) {
            return Err(Error::InvalidState(
                "a session is reviewed once it took place (completed, or confirmed and ended)"
                    .to_owned(),
            ));
        }
        // The expert may mark a session completed once it has started, and
        // a confirmed one has taken place only once it has ended.
        if txn.now() < row.end_time {
            return Err(Error::InvalidState(
                "a session is reviewed once it has ended".to_owned(),
            ));
        }
        let closes = row.end_time.plus_days(i64::from(policy.window_days));
        if txn.now() > closes {
            return Err(Error::InvalidState(format!(
                "the review window closed {} days after the session",
                policy.window_days
            )));
        }
        if txn
            .lookup_unique(UniqueName::ReviewedBooking, &booking.to_be_bytes())?
            .is_some()
        {
            return Err(Error::Conflict {
                field: "review",
                value: format!("booking {booking}"),
            });
        }
        let client: User = txn.require(author)?;
        let mut expert: User = txn.require(row.provider_id)?;
        expert.rating.add_review(review.rating)?;
        txn.update(expert)?;
        txn.create(Review {
            id: ReviewId::new(0),
            booking_id: booking,
            author_id: author,
            expert_id: row.provider_id,
            author_name: client.public_name(),
            rating: review.rating,
            comment: comment.map(str::to_owned),
            answer: None,
            created_at: txn.now(),
            answered_at: None,
        })
    })
}

/// The expert answers review `id`, once.
pub fn answer_review(store: &Store, id: ReviewId, expert: UserId, answer: &str) -> Result<Review> {
    let answer = answer.trim();
    text::check_required("answer", answer, REVIEW_TEXT_MAX)?;
    store.write(|txn| {
        let mut review: Review = txn.get(id)?.ok_or_else(|| not_found("review", id.get()))?;
        if review.expert_id != expert {
            return Err(if review.author_id == expert {
                Error::Forbidden("only the expert answers a review".to_owned())
            } else {
                not_found("review", id.get())
            });
        }
        if review.answer.is_some() {
            return Err(Error::Conflict {
                field: "answer",
                value: format!("review {id}"),
            });
        }
        review.answer = Some(answer.to_owned());
        review.answered_at = Some(txn.now());
        txn.update(review)
    })
}

/// Reviews of `expert`, newest first; `NotFound` when `expert` is no expert.
pub fn reviews_of(store: &Store, expert: UserId, page: &PageRequest) -> Result<Page<Review>> {
    store
        .users()
        .find(expert)?
        .filter(User::is_expert)
        .ok_or_else(|| not_found("expert", expert.get()))?;
    let prefix = KeyBuilder::new().u64(expert.get()).build();
    store.list_index(IndexName::ReviewsByExpert, &prefix, &page.clone().desc())
}
