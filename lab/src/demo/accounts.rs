//! The account every generated person starts with: `User::new` from a
//! persona, then the fields all users share (location, language, sign-up
//! and last-change times, notification choice).

use droply_models::{LanguageCode, NewUser, Timestamp, User, UserId};
use rand::Rng;

use super::identity::{self, DEMO_PASSWORD_HASH, Handles, Persona};
use super::instants;
use super::vocab::Vocab;
use droply_engine::Result;

/// When and under which id and e-mail domain an account signs up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Signup {
    pub id: UserId,
    /// `example.com` or `example.org`: demo data holds no real addresses.
    pub domain: &'static str,
    pub created_at: Timestamp,
    /// The marketplace's "now"; the account last changed before it.
    pub now: Timestamp,
}

/// A new account for `persona`.
pub(crate) fn account(
    rng: &mut impl Rng,
    vocab: &Vocab,
    handles: &mut Handles,
    persona: &Persona,
    signup: Signup,
) -> Result<User> {
    let Signup {
        id,
        domain,
        created_at,
        now,
    } = signup;
    let city = &vocab.cities[persona.city];
    let username = handles.username(rng, persona)?;
    let email = identity::email(&username, domain)?;
    let language = if rng.random_bool(0.2) {
        LanguageCode::english()
    } else {
        city.language.clone()
    };
    let new = NewUser {
        username,
        email,
        password_hash: DEMO_PASSWORD_HASH.to_owned(),
        full_name: persona.full_name(),
        currency: city.currency,
        timezone: city.timezone,
        language,
        referral_code: identity::referral_code(persona, id)?,
        referred_by: None,
    };
    let mut user = User::new(new, id, created_at);
    user.location = city.location();
    user.updated_at = instants::between(rng, created_at, now.plus_days(-1)).max(created_at);
    user.email_notifications = rng.random_bool(0.85);
    Ok(user)
}
