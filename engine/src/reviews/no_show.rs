//! A review of a session the client missed: a confirmed session past its end
//! may be reviewed before the expert marks it a no-show, so the write that
//! marks it a no-show withdraws the client's review of it and takes its stars
//! out of the expert's rating. The client cannot review it again: a no-show
//! booking is never reviewed ([`super::review_booking`] refuses it with
//! `InvalidState`).

use droply_models::{Booking, Rating, User};

use super::{Review, ReviewId};
use crate::Result;
use crate::store::{Txn, UniqueName};

/// Withdraws the client's review of `booking`, if there is one, inside `txn`,
/// the write that marks `booking` a no-show (every such write calls this:
/// [`crate::booking::act`]). The review is
/// deleted, which drops it from the expert's list and frees its
/// `ReviewedBooking` key, and the expert's `rating` loses its stars in the
/// same write, so the ranking and the search index (which follows the user's
/// row through the change feed) see the rating without it. Returns the review
/// withdrawn.
pub(crate) fn withdraw_review_of_no_show(
    txn: &mut Txn<'_>,
    booking: &Booking,
) -> Result<Option<Review>> {
    let Some(raw) = txn.lookup_unique(UniqueName::ReviewedBooking, &booking.id.to_be_bytes())?
    else {
        return Ok(None);
    };
    let review: Review = txn.require(ReviewId::new(raw))?;
    // Only the client reviews a session; anything else on this key is not
    // theirs to lose.
    if review.author_id != booking.user_id {
        return Ok(None);
    }
    txn.delete::<Review>(review.id)?;
    let mut expert: User = txn.require(review.expert_id)?;
    expert.rating = without_review(expert.rating, review.rating)?;
    txn.update(expert)?;
    tracing::info!(
        booking = %booking.id,
        review = %review.id,
        "a no-show withdrew the client's review"
    );
    Ok(Some(review))
}

/// `rating` less one review of `stars`: the undoing of
/// [`Rating::add_review`]. Totals that did not hold that review (imported
/// ones) are kept possible: the count never goes below zero and the sum stays
/// within 1 to 5 stars a review.
fn without_review(rating: Rating, stars: u8) -> Result<Rating> {
    let count = rating.count().saturating_sub(1);
    let wide = u64::from(count);
    let sum = rating
        .sum()
        .saturating_sub(u64::from(stars))
        .clamp(wide, wide * 5);
    Ok(Rating::from_parts(sum, count)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rating_of(stars: &[u8]) -> Rating {
        let mut rating = Rating::new();
        for &s in stars {
            rating.add_review(s).expect("stars");
        }
        rating
    }

    #[test]
    fn withdrawing_a_review_undoes_adding_it() {
        assert_eq!(
            without_review(rating_of(&[5, 2, 4]), 2).expect("rating"),
            rating_of(&[5, 4])
        );
        assert_eq!(
            without_review(rating_of(&[3]), 3).expect("rating"),
            Rating::new()
        );
    }

    #[test]
    fn withdrawing_from_totals_that_never_held_the_review_stays_possible() {
        assert_eq!(
            without_review(Rating::new(), 5).expect("rating"),
            Rating::new()
        );
        // Two reviews of 1 star each, and one of 5 withdrawn.
        let kept = without_review(rating_of(&[1, 1]), 5).expect("rating");
        assert_eq!((kept.count(), kept.sum()), (1, 1));
    }
}
