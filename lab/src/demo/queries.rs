//! Evaluation queries: each one anchored on a real generated expert (so
//! at least one exact match exists), written from the vocabulary's query
//! templates, and judged against every expert's attributes.

use std::collections::HashSet;

use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;

use super::experts::ExpertFacts;
use super::template::{fill, with_article};
use super::truth::{EvalQuery, Relevance};
use super::vocab::Vocab;
use droply_engine::{Error, Result};

/// Query kinds, the facets each names and how common it is:
/// (kind, profession, skill, tag, city, weight).
const KINDS: &[(&str, bool, bool, bool, bool, u32)] = &[
    ("profession_skill_city", true, true, false, true, 25),
    ("profession_city", true, false, false, true, 15),
    ("profession", true, false, false, false, 12),
    ("profession_skill", true, true, false, false, 15),
    ("skill", false, true, false, false, 13),
    ("tag", false, false, true, false, 10),
    ("skill_city", false, true, false, true, 10),
];

/// The facets of one query as vocabulary indices.
#[derive(Debug, Clone, Copy)]
struct Facets {
    industry: usize,
    profession: Option<usize>,
    skill: Option<u32>,
    tag: Option<u32>,
    city: Option<usize>,
}

impl Facets {
    fn grade(&self, expert: &ExpertFacts) -> u8 {
        let core = self.profession.is_none_or(|p| p == expert.profession)
            && self.skill.is_none_or(|s| expert.has_skill(s))
            && self.tag.is_none_or(|t| expert.has_tag(t));
        let city = self.city.is_none_or(|c| c == expert.city);
        match (core, city) {
            (true, true) => 3,
            (true, false) => 2,
            _ if expert.industry == self.industry => 1,
            _ => 0,
        }
    }
}

/// Up to `count` distinct queries with their judgements.
pub(crate) fn eval_queries(
    rng: &mut impl Rng,
    vocab: &Vocab,
    experts: &[ExpertFacts],
    count: usize,
) -> Result<Vec<EvalQuery>> {
    let mut out = Vec::with_capacity(count);
    if experts.is_empty() {
        return Ok(out);
    }
    let weights = WeightedIndex::new(KINDS.iter().map(|k| k.5))
        .map_err(|e| Error::Invalid(format!("query kinds: {e}")))?;
    let mut seen = HashSet::new();
    for _ in 0..count * 10 {
        if out.len() == count {
            break;
        }
        let (kind, has_profession, has_skill, has_tag, has_city, _) = KINDS[weights.sample(rng)];
        let anchor = &experts[rng.random_range(0..experts.len())];
        let ranked = &anchor.skills[..anchor.skills.len().min(3)];
        let facets = Facets {
            industry: anchor.industry,
            profession: has_profession.then_some(anchor.profession),
            skill: has_skill
                .then(|| {
                    ranked
                        .get(rng.random_range(0..ranked.len().max(1)))
                        .copied()
                })
                .flatten(),
            tag: has_tag
                .then(|| {
                    anchor
                        .tags
                        .get(rng.random_range(0..anchor.tags.len().max(1)))
                        .copied()
                })
                .flatten(),
            city: has_city.then_some(anchor.city),
        };
        let text = query_text(rng, vocab, kind, &facets);
        if !seen.insert(text.clone()) {
            continue;
        }
        let mut relevance = Relevance::default();
        for expert in experts {
            match facets.grade(expert) {
                3 => relevance.exact.push(expert.id),
                2 => relevance.partial.push(expert.id),
                1 => relevance.related.push(expert.id),
                _ => {}
            }
        }
        out.push(EvalQuery {
            id: out.len() as u32 + 1,
            text,
            kind: kind.to_owned(),
            industry: vocab.industries[facets.industry].name.clone(),
            profession: facets
                .profession
                .map(|p| vocab.professions[p].title.clone()),
            skill: facets.skill.map(|s| vocab.skill(s).to_owned()),
            tag: facets.tag.map(|t| vocab.tag(t).to_owned()),
            city: facets.city.map(|c| vocab.cities[c].name.clone()),
            relevance,
        });
    }
    Ok(out)
}

/// The query text: a template of the kind, filled, mostly lower-cased the
/// way people type into a search box.
fn query_text(rng: &mut impl Rng, vocab: &Vocab, kind: &str, facets: &Facets) -> String {
    let q = &vocab.texts.queries;
    let templates = match kind {
        "profession_skill_city" => &q.profession_skill_city,
        "profession_city" => &q.profession_city,
        "profession" => &q.profession,
        "profession_skill" => &q.profession_skill,
        "skill" => &q.skill,
        "tag" => &q.tag,
        _ => &q.skill_city,
    };
    let template = templates
        .get(rng.random_range(0..templates.len().max(1)))
        .map_or("", String::as_str);
    let profession = facets
        .profession
        .map_or("", |p| vocab.professions[p].title.as_str());
    let a_profession = with_article(profession);
    let audiences = &vocab.industries[facets.industry].audiences;
    let audience = audiences
        .get(rng.random_range(0..audiences.len().max(1)))
        .map_or("", String::as_str);
    let vars = [
        ("profession", profession),
        ("a_profession", a_profession.as_str()),
        ("skill", facets.skill.map_or("", |s| vocab.skill(s))),
        ("tag", facets.tag.map_or("", |t| vocab.tag(t))),
        (
            "city",
            facets.city.map_or("", |c| vocab.cities[c].name.as_str()),
        ),
        ("audience", audience),
    ];
    let text = fill(template, &vars);
    if rng.random_bool(0.8) {
        text.to_lowercase()
    } else {
        text
    }
}
