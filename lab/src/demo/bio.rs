//! An expert's words about themselves: a 2–4 sentence bio (experience,
//! past clients, approach, results), the description of a booked session
//! and, for some, what their content is about.

use rand::Rng;
use rand::seq::index;

use super::template::{capitalize, fill, with_article};
use super::vocab::{City, Industry, Profession, Vocab};

/// The facts a profile's text is written from.
pub(crate) struct ProfileFacts<'a> {
    pub first_name: &'a str,
    pub profession: &'a Profession,
    pub industry: &'a Industry,
    pub city: &'a City,
    pub skills: [&'a str; 3],
    pub tag: &'a str,
    pub years: u32,
    pub session_minutes: u16,
}

/// Picks `n` distinct entries of `items` (all of them when fewer).
fn distinct<'a>(rng: &mut impl Rng, items: &'a [String], n: usize) -> Vec<&'a str> {
    index::sample(rng, items.len(), n.min(items.len()))
        .iter()
        .map(|i| items[i].as_str())
        .collect()
}

fn one<'a>(rng: &mut impl Rng, items: &'a [String]) -> &'a str {
    items
        .get(rng.random_range(0..items.len().max(1)))
        .map_or("", String::as_str)
}

impl ProfileFacts<'_> {
    fn vars<'s>(&'s self, rng: &mut impl Rng, scratch: &'s Scratch) -> Vec<(&'s str, &'s str)> {
        let clients = distinct(rng, &self.industry.clients, 3);
        vec![
            ("profession", self.profession.title.as_str()),
            ("Profession", self.profession.title.as_str()),
            ("a_profession", scratch.a_profession.as_str()),
            ("first_name", self.first_name),
            ("city", self.city.name.as_str()),
            ("years", scratch.years.as_str()),
            ("duration", scratch.duration.as_str()),
            ("skill", self.skills[0]),
            ("skill2", self.skills[1]),
            ("skill3", self.skills[2]),
            ("tag", self.tag),
            ("client", clients.first().copied().unwrap_or("")),
            ("client2", clients.get(1).copied().unwrap_or("")),
            ("client3", clients.get(2).copied().unwrap_or("")),
            ("outcome", one(rng, &self.industry.outcomes)),
            ("audience", one(rng, &self.industry.audiences)),
        ]
    }

    /// A bio of two to four sentences: an opener, then some of
    /// background, approach and results, in that order.
    pub fn bio(&self, rng: &mut impl Rng, vocab: &Vocab) -> String {
        let scratch = Scratch::new(self);
        let vars = self.vars(rng, &scratch);
        let bio = &vocab.texts.bio;
        let mut sentences = vec![fill(one(rng, &bio.openers), &vars)];
        let extra = rng.random_range(1..=3);
        let parts = [&bio.background, &bio.approach, &bio.outcomes];
        // Drop parts at random until `extra` remain, keeping their order.
        let mut kept: Vec<usize> = (0..parts.len()).collect();
        while kept.len() > extra {
            kept.remove(rng.random_range(0..kept.len()));
        }
        for i in kept {
            sentences.push(fill(one(rng, parts[i]), &vars));
        }
        sentences
            .into_iter()
            .map(|s| capitalize(&s))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// One sentence from the profession's services, sometimes followed by
    /// a general note.
    pub fn service_description(&self, rng: &mut impl Rng, vocab: &Vocab) -> String {
        let scratch = Scratch::new(self);
        let vars = self.vars(rng, &scratch);
        let mut text = capitalize(&fill(one(rng, &self.profession.services), &vars));
        if rng.random_bool(0.4) {
            text.push(' ');
            text.push_str(&fill(one(rng, &vocab.texts.service_extras), &vars));
        }
        text
    }

    /// What the expert's content library is about.
    pub fn content_description(&self, rng: &mut impl Rng, vocab: &Vocab) -> String {
        let scratch = Scratch::new(self);
        let vars = self.vars(rng, &scratch);
        capitalize(&fill(one(rng, &vocab.texts.content_descriptions), &vars))
    }
}

/// Owned strings the template variables borrow from.
struct Scratch {
    a_profession: String,
    years: String,
    duration: String,
}

impl Scratch {
    fn new(facts: &ProfileFacts<'_>) -> Self {
        Self {
            a_profession: with_article(&facts.profession.title),
            years: facts.years.to_string(),
            duration: facts.session_minutes.to_string(),
        }
    }
}

/// `one` for callers outside this module.
pub(crate) fn pick_text<'a>(rng: &mut impl Rng, items: &'a [String]) -> &'a str {
    one(rng, items)
}
