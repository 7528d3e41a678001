//! What a closed account's row becomes: a tombstone address and handle
//! nobody can sign in with or take, a fresh referral code, and every
//! personal field cleared (each field of `User` named, so a new one must be
//! decided here).

use super::*;

/// The tombstone address of closed account `user`: `closed-{id}@closed.invalid`,
/// or a random one in that domain when someone signed up with that one.
pub(super) fn tombstone_email(txn: &Txn<'_>, user: UserId) -> Result<Email> {
    let mut local = format!("closed-{user}");
    for _ in 0..8 {
        let email = Email::parse(&format!("{local}@{}", User::CLOSED_EMAIL_DOMAIN))?;
        match txn.lookup_unique(UniqueName::Email, email.normalized().as_bytes())? {
            Some(holder) if holder != user.get() => {
                local = format!("closed-{}", random_code(12).to_lowercase());
            }
            _ => return Ok(email),
        }
    }
    Err(Error::Storage(
        "no free address for a closed account".to_owned(),
    ))
}

/// The username of closed account `user`: `closed_{id}`, or a random one
/// when someone signed up with that one.
pub(super) fn tombstone_username(txn: &Txn<'_>, user: UserId) -> Result<Username> {
    let mut name = format!("closed_{user}");
    for _ in 0..8 {
        let username = Username::parse(&name)?;
        match txn.lookup_unique(
            UniqueName::Username,
            username.as_str().to_lowercase().as_bytes(),
        )? {
            Some(holder) if holder != user.get() => {
                name = format!("closed_{}", random_code(12).to_lowercase());
            }
            _ => return Ok(username),
        }
    }
    Err(Error::Storage(
        "no free username for a closed account".to_owned(),
    ))
}

/// A referral code nobody holds, so the closed account's old links no
/// longer name anyone as a referrer.
pub(super) fn fresh_referral_code(txn: &Txn<'_>) -> Result<ReferralCode> {
    for _ in 0..8 {
        let code = ReferralCode::parse(&random_code(CODE_LEN))?;
        if txn
            .lookup_unique(UniqueName::ReferralCode, code.as_str().as_bytes())?
            .is_none()
        {
            return Ok(code);
        }
    }
    Err(Error::Storage("no free referral code".to_owned()))
}

/// Erases `user`'s personal data: every field is named, so a field added to
/// `User` must be decided here. The tombstone address, username and
/// referral code replace theirs; the profile, links, skills, pricing,
/// Google fields and preferences that say anything about them are
/// cleared. Kept: the id, the branding (the platform's defaults or colours,
/// about no one), the currency, balances and Stripe account (the money
/// records need them), the rating others gave, the referral bookkeeping,
/// the language and zone, and the dates.
pub(super) fn anonymise(
    user: &mut User,
    tombstone: Email,
    handle: Username,
    code: ReferralCode,
    now: Timestamp,
) {
    let User {
        id: _,
        username,
        email,
        password_hash,
        full_name,
        phone,
        bio,
        industry,
        profession,
        location,
        skills,
        skills_1,
        skills_2,
        skills_3,
        specialty_tags,
        profile_picture,
        background_color: _,
        primary_color: _,
        secondary_color: _,
        font_family: _,
        font_size: _,
        profile_layout: _,
        hourly_rate,
        currency: _,
        rating: _,
        is_available,
        is_featured_user,
        stripe_account_id: _,
        stripe_account_status: _,
        payout_enabled: _,
        payout_schedule: _,
        total_earnings: _,
        total_payouts: _,
        pending_balance: _,
        linkedin_url,
        twitter_url,
        github_url,
        instagram_url,
        facebook_url,
        youtube_url,
        snapchat_url,
        website_url,
        service_description,
        session_duration: _,
        content_description,
        content_categories,
        google_calendar_connected,
        google_calendar_token,
        google_calendar_refresh_token,
        google_calendar_id,
        referral_code,
        referred_by: _,
        total_referral_earnings: _,
        referral_count: _,
        language: _,
        timezone: _,
        email_notifications,
        created_at,
        updated_at,
    } = user;
    *username = handle;
    *email = tombstone;
    *password_hash = CLOSED_PASSWORD_HASH.to_owned();
    *full_name = User::CLOSED_NAME.to_owned();
    *phone = None;
    for text in [
        bio,
        industry,
        profession,
        location,
        skills,
        service_description,
        content_description,
    ] {
        text.clear();
    }
    for skill in [skills_1, skills_2, skills_3] {
        *skill = None;
    }
    specialty_tags.clear();
    for link in [
        profile_picture,
        linkedin_url,
        twitter_url,
        github_url,
        instagram_url,
        facebook_url,
        youtube_url,
        snapchat_url,
        website_url,
    ] {
        *link = None;
    }
    *hourly_rate = None;
    *is_available = false;
    *is_featured_user = false;
    content_categories.clear();
    *google_calendar_connected = false;
    *google_calendar_token = None;
    *google_calendar_refresh_token = None;
    *google_calendar_id = None;
    *referral_code = code;
    *email_notifications = false;
    *updated_at = now.max(*created_at);
}
