//! The demo marketplace generator: a deterministic, realistic Droply for
//! demos, benchmarks and ranking evaluation. From a seed it builds experts
//! across many industries, professions and cities (local currency, time
//! zone, rate and review history), clients with interests, ninety days of
//! their activity (views, clicks, favourites, bookings that fit each
//! provider's availability), content some experts sell and the sales of
//! it, who referred whom, and the ground truth behind it ([`DemoTruth`]).
//! The vocabulary lives in `data/vocab/*.json`, embedded at build time; the
//! same config always yields byte-identical output.

mod accounts;
mod activity;
mod bio;
mod bookings;
mod branding;
mod categories;
mod clients;
mod content;
mod content_queries;
mod experts;
mod id_counter;
mod identity;
mod instants;
mod interest_model;
mod pricing;
mod profile_text;
mod queries;
mod referrals;
mod reviews;
mod sales;
mod schedule;
mod slots;
mod template;
mod truth;
mod vocab;

#[cfg(test)]
mod tests;

use std::io::Write;

use droply_models::{
    AvailabilityException, AvailabilityRule, Booking, Category, Content, ContentPurchase, Favorite,
    Referral, Timestamp, User, UserId, UserInteraction,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use droply_engine::Result;
use droply_engine::import::ImportRow;

pub use content::content_file;
pub use profile_text::profile_text;
pub use truth::{ClientTruth, ContentEvalQuery, ContentRelevance, DemoTruth, EvalQuery, Relevance};

use activity::World;
use id_counter::IdCounter;
use identity::Handles;

/// How many evaluation queries the truth holds.
const EVAL_QUERIES: usize = 200;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    /// Number of experts (users `1..=experts`).
    pub experts: usize,
    /// Number of clients (the users after the experts).
    pub clients: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// The instant the marketplace is generated "at": activity lies in the
    /// ninety days before it, upcoming bookings after it.
    pub now: Timestamp,
}

impl DemoConfig {
    /// The default anchor instant, 2026-11-02T09:00:00Z.
    pub fn default_now() -> Timestamp {
        let anchor = chrono::DateTime::from_timestamp(1_793_610_000, 0).unwrap_or_default();
        Timestamp::from_datetime(anchor)
    }
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            experts: 10_000,
            clients: 2_000,
            seed: 42,
            now: Self::default_now(),
        }
    }
}

/// A generated marketplace: every row to import, plus the truth.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoMarketplace {
    /// Experts (ids `1..=experts`), then clients.
    pub users: Vec<User>,
    /// Industry, expertise and content categories.
    pub categories: Vec<Category>,
    /// Clients' favourite experts.
    pub favorites: Vec<Favorite>,
    /// Views, clicks, favourites, bookings, shares and messages.
    pub interactions: Vec<UserInteraction>,
    /// Experts' weekly availability.
    pub availability_rules: Vec<AvailabilityRule>,
    /// Experts' vacations, conferences and extra hours.
    pub availability_exceptions: Vec<AvailabilityException>,
    /// Past and upcoming sessions.
    pub bookings: Vec<Booking>,
    /// Content experts sell (each with a file, [`content_file`]).
    pub content: Vec<Content>,
    /// Clients' purchases of content, free and paid. Paid ones come
    /// without payments, as imported history does: loading the demo opens
    /// their payments, ledger rows and referral rewards
    /// (`droply_engine::payments::open_imported_sales`).
    pub content_purchases: Vec<ContentPurchase>,
    /// Who referred whom (the users' `referred_by`, as rows).
    pub referrals: Vec<Referral>,
    /// The ground truth for ranking evaluation (not imported).
    pub truth: DemoTruth,
}

/// The independent random streams of one seed, so that for example the
/// experts do not change when the number of clients does.
#[derive(Clone, Copy)]
enum Stream {
    Experts = 1,
    Clients = 2,
    Referrals = 3,
    Schedules = 4,
    Activity = 5,
    Queries = 6,
    Content = 7,
    Sales = 8,
}

fn rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream as u64);
    rng
}

/// Generates the marketplace `config` describes.
///
/// Generation only fails if the embedded vocabulary is broken, which the
/// crate's tests rule out; should it happen anyway, the error is logged and
/// the marketplace is empty. Use [`try_generate`] to get the error instead.
pub fn generate(config: &DemoConfig) -> DemoMarketplace {
    try_generate(config).unwrap_or_else(|err| {
        tracing::error!(%err, "demo marketplace generation failed");
        DemoMarketplace {
            users: Vec::new(),
            categories: Vec::new(),
            favorites: Vec::new(),
            interactions: Vec::new(),
            availability_rules: Vec::new(),
            availability_exceptions: Vec::new(),
            bookings: Vec::new(),
            content: Vec::new(),
            content_purchases: Vec::new(),
            referrals: Vec::new(),
            truth: DemoTruth {
                seed: config.seed,
                clients: Vec::new(),
                queries: Vec::new(),
                content_queries: Vec::new(),
            },
        }
    })
}

/// Like [`generate`], but returns the error of a broken vocabulary.
pub fn try_generate(config: &DemoConfig) -> Result<DemoMarketplace> {
    let vocab = vocab::vocab()?;
    let now = config.now;
    let user_count = config.experts + config.clients;
    let mut ids = IdCounter::starting_at(user_count as u64 + 1);
    let categories = categories::categories(vocab, &mut ids);
    let mut handles = Handles::default();

    let mut users = Vec::with_capacity(user_count);
    let mut expert_facts = Vec::with_capacity(config.experts);
    let mut expert_rng = rng(config.seed, Stream::Experts);
    for n in 1..=config.experts {
        let id = UserId::new(n as u64);
        let (user, facts) =
            experts::expert(&mut expert_rng, vocab, &mut handles, &categories, id, now)?;
        users.push(user);
        expert_facts.push(facts);
    }
    let mut client_facts = Vec::with_capacity(config.clients);
    let mut client_rng = rng(config.seed, Stream::Clients);
    for n in 1..=config.clients {
        let id = UserId::new((config.experts + n) as u64);
        let (user, facts) = clients::client(&mut client_rng, vocab, &mut handles, id, now)?;
        users.push(user);
        client_facts.push(facts);
    }
    referrals::link(&mut rng(config.seed, Stream::Referrals), &mut users);

    let mut availability_rules = Vec::new();
    let mut availability_exceptions = Vec::new();
    let mut schedules = Vec::with_capacity(config.experts);
    let mut schedule_rng = rng(config.seed, Stream::Schedules);
    for user in &users[..config.experts] {
        let generated = schedule::schedule(&mut schedule_rng, vocab, user, &mut ids, now)?;
        availability_rules.extend(generated.rules);
        availability_exceptions.extend(generated.exceptions);
        schedules.push(generated.schedule);
    }

    let (expert_users, client_users) = users.split_at(config.experts);
    let world = World {
        vocab,
        experts: expert_users,
        expert_facts: &expert_facts,
        schedules: &schedules,
        clients: client_users,
        client_facts: &client_facts,
        now,
    };
    let activity = activity::simulate(&mut rng(config.seed, Stream::Activity), &world, &mut ids)?;
    for (expert, amount) in &activity.earnings {
        if let Some(user) = users.get_mut(*expert) {
            experts::credit(user, *amount)?;
        }
    }

    let queries = queries::eval_queries(
        &mut rng(config.seed, Stream::Queries),
        vocab,
        &expert_facts,
        EVAL_QUERIES,
    )?;
    let clients = client_facts
        .iter()
        .zip(activity.held_out)
        .map(|(facts, held_out)| ClientTruth {
            user_id: facts.id,
            industry: vocab.industries[facts.interest.industry].name.clone(),
            professions: facts
                .interest
                .professions
                .iter()
                .map(|&p| vocab.professions[p].title.clone())
                .collect(),
            skills: facts
                .interest
                .skills
                .iter()
                .map(|&s| vocab.skill(s).to_owned())
                .collect(),
            held_out,
        })
        .collect();

    let (expert_users, client_users) = users.split_at(config.experts);
    let mut sold = content::content(
        &mut rng(config.seed, Stream::Content),
        expert_users,
        client_users,
        &categories.content,
        &mut ids,
        now,
    );
    let paid = sales::paid_purchases(
        &mut rng(config.seed, Stream::Sales),
        &mut sold.content,
        client_users,
        &mut ids,
        now,
    );
    sold.purchases.extend(paid);
    let referrals = referrals::rows(&users, &mut ids);
    let content_queries = content_queries::content_queries(&sold.content, expert_users);
    Ok(DemoMarketplace {
        users,
        categories: categories.rows,
        favorites: activity.favorites,
        interactions: activity.interactions,
        availability_rules,
        availability_exceptions,
        bookings: activity.bookings,
        content: sold.content,
        content_purchases: sold.purchases,
        referrals,
        truth: DemoTruth {
            seed: config.seed,
            clients,
            queries,
            content_queries,
        },
    })
}

impl DemoMarketplace {
    /// Every row in import order: users and categories first (everything
    /// else refers to them), then referrals, availability, favourites,
    /// interactions, bookings, content and its purchases.
    pub fn rows(&self) -> impl Iterator<Item = ImportRow> + '_ {
        let users = self.users.iter().cloned().map(ImportRow::User);
        let referrals = self.referrals.iter().cloned().map(ImportRow::Referral);
        let categories = self.categories.iter().cloned().map(ImportRow::Category);
        let rules = self
            .availability_rules
            .iter()
            .cloned()
            .map(ImportRow::AvailabilityRule);
        let exceptions = self
            .availability_exceptions
            .iter()
            .cloned()
            .map(ImportRow::AvailabilityException);
        let favorites = self.favorites.iter().cloned().map(ImportRow::Favorite);
        let interactions = self
            .interactions
            .iter()
            .cloned()
            .map(ImportRow::Interaction);
        let bookings = self.bookings.iter().cloned().map(ImportRow::Booking);
        let content = self.content.iter().cloned().map(ImportRow::Content);
        let purchases = self
            .content_purchases
            .iter()
            .cloned()
            .map(ImportRow::ContentPurchase);
        users
            .chain(categories)
            .chain(referrals)
            .chain(rules)
            .chain(exceptions)
            .chain(favorites)
            .chain(interactions)
            .chain(bookings)
            .chain(content)
            .chain(purchases)
    }

    /// The experts: the users with a profession.
    pub fn experts(&self) -> impl Iterator<Item = &User> + '_ {
        self.users.iter().filter(|u| u.is_expert())
    }

    /// Writes [`rows`](Self::rows) as JSON lines for `droply import`;
    /// returns the number of rows written.
    pub fn write_jsonl(&self, mut out: impl Write) -> std::io::Result<u64> {
        let mut rows = 0;
        for row in self.rows() {
            serde_json::to_writer(&mut out, &row).map_err(std::io::Error::other)?;
            out.write_all(b"\n")?;
            rows += 1;
        }
        out.flush()?;
        Ok(rows)
    }
}
