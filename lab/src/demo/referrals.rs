//! Who referred whom: a few users signed up through an earlier user's
//! code, and the referrer's count says so.

use droply_models::User;
use rand::Rng;

/// Links about one user in twelve to an earlier user who signed up
/// before them, and counts the referrals on the referrer.
pub(crate) fn link(rng: &mut impl Rng, users: &mut [User]) {
    for i in 1..users.len() {
        if !rng.random_bool(0.08) {
            continue;
        }
        for _ in 0..5 {
            let j = rng.random_range(0..i);
            if users[j].created_at < users[i].created_at {
                users[i].referred_by = Some(users[j].id);
                users[j].referral_count += 1;
                break;
            }
        }
    }
}
