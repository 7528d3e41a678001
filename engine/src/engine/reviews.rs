//! The engine's review use cases: a client reviews a completed session, the
//! expert answers, anyone reads an expert's reviews. The rules live in
//! [`crate::reviews`]; the review window is the engine's configuration.

use droply_models::{BookingId, UserId};

use super::Engine;
use crate::reviews::{self, NewReview, Review, ReviewId};
use crate::{Page, PageRequest, Result};

impl Engine {
    /// `author` reviews booking `booking` (its client, once, completed,
    /// within the window); the expert's rating moves with it.
    pub fn review_booking(
        &self,
        booking: BookingId,
        author: UserId,
        review: &NewReview,
    ) -> Result<Review> {
        reviews::review_booking(self.store(), booking, author, review, &self.inner.reviews)
    }

    /// The reviewed expert answers review `id`, once.
    pub fn answer_review(&self, id: ReviewId, expert: UserId, answer: &str) -> Result<Review> {
        reviews::answer_review(self.store(), id, expert, answer)
    }

    /// Reviews of `expert`, newest first.
    pub fn reviews_of(&self, expert: UserId, page: &PageRequest) -> Result<Page<Review>> {
        reviews::reviews_of(self.store(), expert, page)
    }
}
