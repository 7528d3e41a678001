//! Sign-up: validate the input, hash the password (under a hashing permit),
//! create the user with a fresh unique referral code, and sign them in. A
//! referral code given at sign-up records the `Referral` and moves the
//! referrer's count in the same write (one's own code cannot be given: it
//! is made in that write).

use droply_models::{
    Currency, Email, LanguageCode, NewUser, Referral, ReferralCode, ReferralId, ReferralStatus,
    TimeZone, User, UserId, Username, text,
};

use super::hashing_permits::HashingPermits;
use super::login::{IssuedToken, issue_token};
use super::password::{check_password, hash_password};
use crate::store::{Store, Txn, UniqueName};
use crate::{Error, Result};

/// What sign-up asks for; optional settings default to USD, UTC and English.
/// Its `Debug` output leaves the password out.
#[derive(Clone)]
pub struct Registration {
    /// Wanted username.
    pub username: String,
    /// Login email.
    pub email: String,
    /// Plain password (8 to 128 characters); only its hash is kept.
    pub password: String,
    /// Display name.
    pub full_name: String,
    /// ISO 4217 currency code; USD when absent.
    pub currency: Option<String>,
    /// IANA time zone; UTC when absent.
    pub timezone: Option<String>,
    /// Language code; English when absent.
    pub language: Option<String>,
    /// The referral code of whoever brought the user, if any.
    pub referral_code: Option<String>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("full_name", &self.full_name)
            .field("currency", &self.currency)
            .field("timezone", &self.timezone)
            .field("language", &self.language)
            .field("referral_code", &self.referral_code)
            .finish()
    }
}

const CODE_LEN: usize = 10;

fn random_referral_code() -> Result<ReferralCode> {
    Ok(ReferralCode::parse(&crate::codes::random_code(CODE_LEN))?)
}

/// Creates the account and signs it in, hashing under one of the `hashing`
/// permits. `Conflict` when the username or email is taken; `Overloaded`
/// when no hashing permit came free in time.
pub fn register(
    store: &Store,
    hashing: &HashingPermits,
    input: &Registration,
) -> Result<(User, IssuedToken)> {
    let username = Username::parse(&input.username)?;
    let email = Email::parse(&input.email)?;
    if email.domain() == User::CLOSED_EMAIL_DOMAIN {
        // An address there would read as a closed account's tombstone.
        return Err(droply_models::Error::invalid(
            "email",
            format!("addresses at {} cannot be used", User::CLOSED_EMAIL_DOMAIN),
        )
        .into());
    }
    check_password(&input.password)?;
    text::check_required("full_name", &input.full_name, text::NAME_MAX)?;
    let currency = match &input.currency {
        Some(code) => Currency::parse(code)?,
        None => Currency::USD,
    };
    let timezone = match &input.timezone {
        Some(zone) => TimeZone::parse(zone)?,
        None => TimeZone::UTC,
    };
    let language = match &input.language {
        Some(code) => LanguageCode::parse(code)?,
        None => LanguageCode::english(),
    };
    let referred_with = input
        .referral_code
        .as_deref()
        .map(|code| ReferralCode::parse(code.trim()))
        .transpose()?;
    // Hashing is the slow part: do it before taking the writer lock.
    let password_hash = {
        let mut permit = hashing.acquire()?;
        hash_password(&input.password, &mut permit)?
    };
    store.write(|txn| {
        let mut referral_code = random_referral_code()?;
        let mut tries = 0;
        while txn
            .lookup_unique(UniqueName::ReferralCode, referral_code.as_str().as_bytes())?
            .is_some()
        {
            tries += 1;
            if tries > 8 {
                return Err(Error::Storage("no free referral code".to_owned()));
            }
            referral_code = random_referral_code()?;
        }
        let now = txn.now();
        let referrer = match &referred_with {
            Some(code) => Some(referrer_of(txn, code)?),
            None => None,
        };
        let user = txn.create(User::new(
            NewUser {
                username,
                email,
                password_hash,
                full_name: input.full_name.trim().to_owned(),
                currency,
                timezone,
                language,
                referral_code,
                referred_by: referrer.as_ref().map(|r| r.id),
            },
            UserId::new(0),
            now,
        ))?;
        if let (Some(mut referrer), Some(code)) = (referrer, referred_with.clone()) {
            txn.create(Referral {
                id: ReferralId::new(0),
                referrer_id: referrer.id,
                referred_user_id: user.id,
                referral_code: code,
                created_at: now,
                status: ReferralStatus::Pending,
            })?;
            referrer.referral_count = referrer.referral_count.saturating_add(1);
            txn.update(referrer)?;
        }
        let token = issue_token(txn, user.id)?;
        Ok((user, token))
    })
}

/// The owner of referral `code`; `Invalid` naming `referral_code` when no
/// account has it.
fn referrer_of(txn: &Txn<'_>, code: &ReferralCode) -> Result<User> {
    let owner = txn
        .lookup_unique(UniqueName::ReferralCode, code.as_str().as_bytes())?
        .ok_or_else(|| {
            droply_models::Error::invalid("referral_code", "no account has this referral code")
        })?;
    txn.require(UserId::new(owner))
}
