//! Clients: ordinary accounts without a profession or rate, each with an
//! interest profile (an industry, a profession or two, some skills) that
//! drives what they look at, favourite and book.

use droply_models::{Timestamp, User, UserId};
use rand::Rng;
use rand::seq::index;

use super::accounts::{Signup, account};
use super::identity::{Handles, Persona};
use super::instants;
use super::vocab::Vocab;
use droply_engine::Result;

/// What a client is looking for.
#[derive(Debug, Clone)]
pub(crate) struct Interest {
    pub industry: usize,
    pub professions: Vec<usize>,
    pub skills: Vec<u32>,
}

/// What the generator knows about a client beyond the row.
#[derive(Debug, Clone)]
pub(crate) struct ClientFacts {
    pub id: UserId,
    pub interest: Interest,
}

/// One client with id `id`.
pub(crate) fn client(
    rng: &mut impl Rng,
    vocab: &Vocab,
    handles: &mut Handles,
    id: UserId,
    now: Timestamp,
) -> Result<(User, ClientFacts)> {
    let persona = Persona::random(rng, vocab);
    let created_at = instants::between(rng, now.plus_days(-3 * 365), now.plus_days(-120));
    let domain = if rng.random_bool(0.5) {
        "example.org"
    } else {
        "example.com"
    };
    let signup = Signup {
        id,
        domain,
        created_at,
        now,
    };
    let user = account(rng, vocab, handles, &persona, signup)?;
    let interest = interest(rng, vocab);
    Ok((user, ClientFacts { id, interest }))
}

/// An interest profile: one industry, one or two of its professions and
/// two to four skills drawn from them.
fn interest(rng: &mut impl Rng, vocab: &Vocab) -> Interest {
    let industry = rng.random_range(0..vocab.industries.len());
    let members = &vocab.industries[industry].professions;
    let count = if rng.random_bool(0.3) { 2 } else { 1 };
    let professions: Vec<usize> = index::sample(rng, members.len(), count.min(members.len()))
        .iter()
        .map(|i| members[i])
        .collect();
    let mut pool: Vec<u32> = professions
        .iter()
        .flat_map(|&p| vocab.professions[p].skills.iter().copied())
        .collect();
    pool.sort_unstable();
    pool.dedup();
    let wanted = rng.random_range(2..=4).min(pool.len());
    let skills = index::sample(rng, pool.len(), wanted)
        .iter()
        .map(|i| pool[i])
        .collect();
    Interest {
        industry,
        professions,
        skills,
    }
}
