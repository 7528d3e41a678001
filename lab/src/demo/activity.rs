//! Ninety days of client activity before "now": browsing sessions that
//! view and click experts, some favourites, some bookings (with follow-up
//! sessions), plus each client's held-out "next favourites" for the
//! ranking truth — drawn from the same process but never written as rows.

use droply_models::{
    Booking, BookingStatus, Favorite, FavoriteId, InteractionId, InteractionType, Money, Timestamp,
    User, UserId, UserInteraction,
};
use rand::Rng;

use super::bookings::{Calendar, Request, book};
use super::clients::ClientFacts;
use super::experts::ExpertFacts;
use super::id_counter::IdCounter;
use super::instants;
use super::interest_model::Pools;
use super::schedule::Schedule;
use super::vocab::Vocab;
use droply_engine::Result;

/// How many held-out next favourites each client gets.
pub(crate) const HELD_OUT: usize = 10;

/// Everything the simulation produced.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    pub favorites: Vec<Favorite>,
    pub interactions: Vec<UserInteraction>,
    pub bookings: Vec<Booking>,
    /// Payments of completed sessions, by expert index.
    pub earnings: Vec<(usize, Money)>,
    /// Held-out next favourites, by client index.
    pub held_out: Vec<Vec<UserId>>,
}

/// The marketplace as the simulation sees it.
pub(crate) struct World<'a> {
    pub vocab: &'a Vocab,
    pub experts: &'a [User],
    pub expert_facts: &'a [ExpertFacts],
    pub schedules: &'a [Schedule],
    pub clients: &'a [User],
    pub client_facts: &'a [ClientFacts],
    pub now: Timestamp,
}

/// Simulates every client in order, taking row ids from `ids`.
pub(crate) fn simulate(
    rng: &mut impl Rng,
    world: &World<'_>,
    ids: &mut IdCounter,
) -> Result<Activity> {
    let vocab = world.vocab;
    let pools = Pools::new(
        world.expert_facts,
        vocab.skills.len(),
        vocab.professions.len(),
        vocab.industries.len(),
    );
    let mut calendar = Calendar::new(world.experts.len());
    let mut out = Activity::default();
    for (client, facts) in world.clients.iter().zip(world.client_facts) {
        let mut sim = ClientSim {
            world,
            pools: &pools,
            client,
            facts,
            favorited: Vec::new(),
            ids: &mut *ids,
            calendar: &mut calendar,
            out: &mut out,
        };
        sim.sessions(rng)?;
        let held = sim.held_out(rng);
        out.held_out.push(held);
    }
    Ok(out)
}

/// One client's simulation, writing into the shared calendar and output.
struct ClientSim<'w, 'm> {
    world: &'w World<'w>,
    pools: &'w Pools,
    client: &'w User,
    facts: &'w ClientFacts,
    /// Expert indices this client has favourited.
    favorited: Vec<usize>,
    ids: &'m mut IdCounter,
    calendar: &'m mut Calendar,
    out: &'m mut Activity,
}

impl ClientSim<'_, '_> {
    fn interact(&mut self, expert: usize, kind: InteractionType, at: Timestamp) {
        let mut interaction =
            UserInteraction::new(self.client.id, self.world.experts[expert].id, kind, at);
        interaction.id = InteractionId::new(self.ids.next());
        self.out.interactions.push(interaction);
    }

    fn sessions(&mut self, rng: &mut impl Rng) -> Result<()> {
        let now = self.world.now;
        let count = 1 + (rng.random::<f64>().powi(2) * 24.0) as usize;
        let mut times: Vec<Timestamp> = (0..count)
            .map(|_| instants::between(rng, now.plus_days(-90), now.plus_minutes(-30)))
            .collect();
        times.sort_unstable();
        for at in times {
            let Some(expert) = self
                .pools
                .pick(rng, &self.facts.interest, self.world.expert_facts)
            else {
                return Ok(());
            };
            let mut t = at;
            if rng.random_bool(0.55) {
                self.interact(expert, InteractionType::Click, t);
                t = instants::plus_seconds(t, rng.random_range(1..20));
            }
            self.interact(expert, InteractionType::View, t);
            t = instants::plus_seconds(t, rng.random_range(20..240));
            if rng.random_bool(0.03) {
                self.interact(expert, InteractionType::Share, t);
            }
            if rng.random_bool(0.04) {
                self.interact(expert, InteractionType::Message, t);
            }
            if !self.favorited.contains(&expert) && rng.random_bool(0.14) {
                t = instants::plus_seconds(t, rng.random_range(5..120));
                self.favorited.push(expert);
                self.out.favorites.push(Favorite {
                    id: FavoriteId::new(self.ids.next()),
                    user_id: self.client.id,
                    favorited_user_id: self.world.experts[expert].id,
                    created_at: t,
                });
                self.interact(expert, InteractionType::Favorite, t);
            }
            if self.world.experts[expert].is_available && rng.random_bool(0.10) {
                t = instants::plus_seconds(t, rng.random_range(30..600));
                self.book_with_follow_up(rng, expert, t)?;
            }
        }
        Ok(())
    }

    fn book_with_follow_up(
        &mut self,
        rng: &mut impl Rng,
        expert: usize,
        created_at: Timestamp,
    ) -> Result<()> {
        let now = self.world.now;
        let earliest = instants::plus_seconds(created_at, rng.random_range(18 * 3600..10 * 86_400));
        let Some(first) = self.book(rng, expert, created_at, earliest)? else {
            return Ok(());
        };
        let rebook_at = first.end_time.plus_minutes(rng.random_range(30..600));
        if first.status == BookingStatus::Completed && rebook_at < now && rng.random_bool(0.3) {
            let earliest = rebook_at.plus_days(rng.random_range(5..20));
            self.book(rng, expert, rebook_at, earliest)?;
        }
        Ok(())
    }

    fn book(
        &mut self,
        rng: &mut impl Rng,
        expert: usize,
        created_at: Timestamp,
        earliest: Timestamp,
    ) -> Result<Option<Booking>> {
        let world = self.world;
        let request = Request {
            client: self.client,
            provider: &world.experts[expert],
            provider_index: expert,
            schedule: &world.schedules[expert],
            created_at,
            earliest,
        };
        let Some(booking) = book(
            rng,
            world.vocab,
            self.calendar,
            request,
            self.ids,
            world.now,
        )?
        else {
            return Ok(None);
        };
        self.interact(expert, InteractionType::Book, created_at);
        if booking.status == BookingStatus::Completed {
            self.out.earnings.push((expert, booking.payment_amount));
        }
        self.out.bookings.push(booking.clone());
        Ok(Some(booking))
    }

    /// The experts this client would favourite next, not yet favourited.
    fn held_out(&self, rng: &mut impl Rng) -> Vec<UserId> {
        let mut held: Vec<usize> = Vec::with_capacity(HELD_OUT);
        for _ in 0..HELD_OUT * 30 {
            if held.len() == HELD_OUT {
                break;
            }
            let Some(expert) = self
                .pools
                .pick(rng, &self.facts.interest, self.world.expert_facts)
            else {
                break;
            };
            if !self.favorited.contains(&expert) && !held.contains(&expert) {
                held.push(expert);
            }
        }
        held.into_iter().map(|i| self.world.experts[i].id).collect()
    }
}
