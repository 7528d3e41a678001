//! Experts: accounts with a profession, skills, tags, a bio, a local
//! hourly rate, a review history and a Stripe-ready payout setup.

use droply_models::{HttpUrl, Money, PayoutSchedule, StripeAccountStatus, Timestamp, User, UserId};
use rand::Rng;
use rand::seq::{IndexedRandom, index};

use super::accounts::{Signup, account};
use super::bio::ProfileFacts;
use super::categories::Categories;
use super::identity::{Handles, Persona};
use super::vocab::Vocab;
use super::{instants, pricing, reviews};
use droply_engine::Result;

/// Session lengths experts offer, weighted towards an hour.
const SESSION_MINUTES: &[u16] = &[30, 45, 45, 60, 60, 60, 60, 90];

/// What the generator knows about an expert beyond the row: the
/// vocabulary entries behind the profile text, for activity and truth.
#[derive(Debug, Clone)]
pub(crate) struct ExpertFacts {
    pub id: UserId,
    pub industry: usize,
    pub profession: usize,
    pub city: usize,
    /// Every listed skill: the three ranked ones first, then the extras.
    pub skills: Vec<u32>,
    pub tags: Vec<u32>,
    /// Number of reviews, a stand-in for how well known the expert is.
    pub popularity: u32,
}

impl ExpertFacts {
    /// Whether the expert lists `skill`.
    pub fn has_skill(&self, skill: u32) -> bool {
        self.skills.contains(&skill)
    }

    /// Whether the expert carries `tag`.
    pub fn has_tag(&self, tag: u32) -> bool {
        self.tags.contains(&tag)
    }
}

/// One expert with id `id`.
pub(crate) fn expert(
    rng: &mut impl Rng,
    vocab: &Vocab,
    handles: &mut Handles,
    categories: &Categories,
    id: UserId,
    now: Timestamp,
) -> Result<(User, ExpertFacts)> {
    let persona = Persona::random(rng, vocab);
    let created_at = instants::between(rng, now.plus_days(-4 * 365), now.plus_days(-100));
    let signup = Signup {
        id,
        domain: "example.com",
        created_at,
        now,
    };
    let mut user = account(rng, vocab, handles, &persona, signup)?;
    let city = &vocab.cities[persona.city];

    let industry_index = rng.random_range(0..vocab.industries.len());
    let industry = &vocab.industries[industry_index];
    let profession_index = industry.professions[rng.random_range(0..industry.professions.len())];
    let profession = &vocab.professions[profession_index];

    let listed = (3 + rng.random_range(0..=3)).min(profession.skills.len());
    let skills: Vec<u32> = index::sample(rng, profession.skills.len(), listed)
        .iter()
        .map(|i| profession.skills[i])
        .collect();
    let tag_count = rng.random_range(2..=6).min(profession.tags.len());
    let tags: Vec<u32> = index::sample(rng, profession.tags.len(), tag_count)
        .iter()
        .map(|i| profession.tags[i])
        .collect();
    let skill_names: Vec<&str> = skills.iter().map(|&s| vocab.skill(s)).collect();

    // Skewed towards the junior end: median about eight years.
    let years = 2 + (rng.random::<f64>().powf(2.2) * 27.0) as u32;
    let seniority = f64::from(years - 2) / 27.0;
    let quality = reviews::quality(rng);

    user.industry = industry.name.clone();
    user.profession = profession.title.clone();
    user.skills_1 = skill_names.first().map(|s| (*s).to_owned());
    user.skills_2 = skill_names.get(1).map(|s| (*s).to_owned());
    user.skills_3 = skill_names.get(2).map(|s| (*s).to_owned());
    user.skills = skill_names.join(", ");
    user.specialty_tags = tags.iter().map(|&t| vocab.tag(t).to_owned()).collect();
    user.session_duration = *SESSION_MINUTES.choose(rng).unwrap_or(&60);
    user.hourly_rate = Some(pricing::hourly_rate(rng, profession, city, seniority));
    user.rating = reviews::review_history(rng, seniority, quality)?;

    let facts = ProfileFacts {
        first_name: &persona.first,
        profession,
        industry,
        city,
        skills: [
            skill_names.first().copied().unwrap_or(""),
            skill_names.get(1).copied().unwrap_or(""),
            skill_names.get(2).copied().unwrap_or(""),
        ],
        tag: tags.first().map_or("", |&t| vocab.tag(t)),
        years,
        session_minutes: user.session_duration,
    };
    user.bio = facts.bio(rng, vocab);
    user.service_description = facts.service_description(rng, vocab);
    if rng.random_bool(0.15) {
        user.content_description = facts.content_description(rng, vocab);
        user.content_categories = categories
            .content
            .choose(rng)
            .into_iter()
            .copied()
            .chain(categories.industry.get(industry_index).copied())
            .collect();
    }

    let handle = user.username.as_str().to_owned();
    if rng.random_bool(0.7) {
        user.profile_picture = Some(HttpUrl::parse(&format!(
            "https://images.example.com/avatars/{handle}.jpg"
        ))?);
    }
    if rng.random_bool(0.2) {
        user.website_url = Some(HttpUrl::parse(&format!(
            "https://www.example.org/{handle}"
        ))?);
    }

    user.is_available = rng.random_bool(0.9);
    let reviews = user.rating.count();
    user.is_featured_user =
        reviews >= 20 && user.rating().is_some_and(|avg| avg >= 4.5) && rng.random_bool(0.12);
    user.stripe_account_status = StripeAccountStatus::Active;
    user.payout_enabled = true;
    user.payout_schedule = *[
        PayoutSchedule::Weekly,
        PayoutSchedule::Weekly,
        PayoutSchedule::Monthly,
        PayoutSchedule::Daily,
        PayoutSchedule::Manual,
    ]
    .choose(rng)
    .unwrap_or(&PayoutSchedule::Weekly);
    past_earnings(rng, &mut user)?;
    super::branding::apply(rng, &mut user)?;

    let facts = ExpertFacts {
        id,
        industry: industry_index,
        profession: profession_index,
        city: persona.city,
        skills,
        tags,
        popularity: reviews,
    };
    Ok((user, facts))
}

/// Earnings from sessions before the demo's window: a little more than one
/// session per review, most of it already paid out.
fn past_earnings(rng: &mut impl Rng, user: &mut User) -> Result<()> {
    let Some(price) = user.session_price().transpose()? else {
        return Ok(());
    };
    let sessions = i64::from(user.rating.count()) * rng.random_range(100..160) / 100;
    let earned = price.checked_mul(sessions)?;
    let paid = earned.checked_mul_ratio(rng.random_range(80..=95), 100)?;
    user.total_earnings = earned;
    user.total_payouts = paid;
    user.pending_balance = earned.checked_sub(paid)?;
    Ok(())
}

/// Adds a completed session's payment to the provider's earnings.
pub(crate) fn credit(user: &mut User, amount: Money) -> Result<()> {
    user.total_earnings = user.total_earnings.checked_add(amount)?;
    user.pending_balance = user.pending_balance.checked_add(amount)?;
    Ok(())
}
