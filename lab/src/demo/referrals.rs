//! Who referred whom: a few users signed up through an earlier user's
//! code; the referrer's count says so, and each link is a [`Referral`]
//! row made at the referred user's sign-up.

use droply_models::{Referral, ReferralId, ReferralStatus, User};
use rand::Rng;

use super::id_counter::IdCounter;

/// Links about one user in twelve to a user who signed up before them,
/// one who pays in the same currency where a few tries find one (people
/// mostly refer people of their own country), and counts the referrals on
/// the referrer.
pub(crate) fn link(rng: &mut impl Rng, users: &mut [User]) {
    for i in 1..users.len() {
        if !rng.random_bool(0.08) {
            continue;
        }
        let mut earlier = None;
        for _ in 0..12 {
            let j = rng.random_range(0..i);
            if users[j].created_at >= users[i].created_at {
                continue;
            }
            if users[j].currency == users[i].currency {
                earlier = Some(j);
                break;
            }
            earlier = earlier.or(Some(j));
        }
        if let Some(j) = earlier {
            users[i].referred_by = Some(users[j].id);
            users[j].referral_count += 1;
        }
    }
}

/// The [`Referral`] row of every link [`link`] made, `pending` until the
/// referred user's first paid sale qualifies it (the engine moves it on).
/// `users` are indexed by id: user `n` is `users[n - 1]`.
pub(crate) fn rows(users: &[User], ids: &mut IdCounter) -> Vec<Referral> {
    users
        .iter()
        .filter_map(|user| {
            let index = usize::try_from(user.referred_by?.get().checked_sub(1)?).ok()?;
            let referrer = users.get(index)?;
            Some(Referral {
                id: ReferralId::new(ids.next()),
                referrer_id: referrer.id,
                referred_user_id: user.id,
                referral_code: referrer.referral_code.clone(),
                created_at: user.created_at,
                status: ReferralStatus::Pending,
            })
        })
        .collect()
}
