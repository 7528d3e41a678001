//! The embedded vocabulary (`data/vocab/*.json`): industries, professions,
//! skills, cities, names and text templates. Parsed and checked once, on
//! first use; every later lookup is an index into plain vectors.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use droply_models::text::{HEADLINE_MAX, TAG_MAX};
use droply_models::{Currency, LanguageCode, TimeZone};
use rand::distr::weighted::WeightedIndex;
use serde::Deserialize;

use droply_engine::{Error, Result};

const INDUSTRIES_JSON: &str = include_str!("../../../data/vocab/industries.json");
const CITIES_JSON: &str = include_str!("../../../data/vocab/cities.json");
const NAMES_JSON: &str = include_str!("../../../data/vocab/names.json");
const TEXTS_JSON: &str = include_str!("../../../data/vocab/texts.json");

/// An industry and the indices of its professions in [`Vocab::professions`].
#[derive(Debug)]
pub(crate) struct Industry {
    pub name: String,
    pub clients: Vec<String>,
    pub outcomes: Vec<String>,
    pub audiences: Vec<String>,
    pub professions: Vec<usize>,
}

/// A profession: its title, hourly-rate range in US dollars and its
/// vocabulary, with skills and tags interned into [`Vocab::skills`] and
/// [`Vocab::tags`].
#[derive(Debug)]
pub(crate) struct Profession {
    pub title: String,
    pub rate_usd: (u32, u32),
    pub skills: Vec<u32>,
    pub tags: Vec<u32>,
    pub services: Vec<String>,
}

/// A city with its zone, currency and price level.
#[derive(Debug)]
pub(crate) struct City {
    pub name: String,
    pub country: String,
    pub timezone: TimeZone,
    pub currency: Currency,
    pub language: LanguageCode,
    /// Units of the local currency per US dollar.
    pub usd_fx: f64,
    /// Local price level, 1.0 for the most expensive markets.
    pub price_level: f64,
    /// Indices into [`Vocab::cultures`] of the names common there.
    pub cultures: Vec<usize>,
}

impl City {
    /// "City, Country" as stored in `User::location`.
    pub fn location(&self) -> String {
        format!("{}, {}", self.name, self.country)
    }
}

/// First and last names of one naming culture.
#[derive(Debug, Deserialize)]
pub(crate) struct Culture {
    pub first: Vec<String>,
    pub last: Vec<String>,
}

/// Sentence templates of a bio, by role in the paragraph.
#[derive(Debug, Deserialize)]
pub(crate) struct BioTemplates {
    pub openers: Vec<String>,
    pub background: Vec<String>,
    pub approach: Vec<String>,
    pub outcomes: Vec<String>,
}

/// Templates of the evaluation queries, by the facets they name.
#[derive(Debug, Deserialize)]
pub(crate) struct QueryTemplates {
    pub profession_skill_city: Vec<String>,
    pub profession_city: Vec<String>,
    pub profession: Vec<String>,
    pub profession_skill: Vec<String>,
    pub skill: Vec<String>,
    pub tag: Vec<String>,
    pub skill_city: Vec<String>,
}

/// Every other piece of text the generator fills in.
#[derive(Debug, Deserialize)]
pub(crate) struct Texts {
    pub bio: BioTemplates,
    pub service_extras: Vec<String>,
    pub content_descriptions: Vec<String>,
    pub client_messages: Vec<String>,
    pub cancellation_reasons: Vec<String>,
    pub exception_reasons: Vec<String>,
    pub queries: QueryTemplates,
}

/// The whole vocabulary, checked.
#[derive(Debug)]
pub(crate) struct Vocab {
    pub industries: Vec<Industry>,
    pub professions: Vec<Profession>,
    pub skills: Vec<String>,
    pub tags: Vec<String>,
    pub cities: Vec<City>,
    pub city_weights: WeightedIndex<u32>,
    pub cultures: Vec<Culture>,
    pub texts: Texts,
}

#[derive(Deserialize)]
struct IndustriesFile {
    industries: Vec<IndustrySpec>,
}

#[derive(Deserialize)]
struct IndustrySpec {
    name: String,
    clients: Vec<String>,
    outcomes: Vec<String>,
    audiences: Vec<String>,
    professions: Vec<ProfessionSpec>,
}

#[derive(Deserialize)]
struct ProfessionSpec {
    title: String,
    rate_usd: (u32, u32),
    skills: Vec<String>,
    tags: Vec<String>,
    services: Vec<String>,
}

#[derive(Deserialize)]
struct CitiesFile {
    cities: Vec<CitySpec>,
}

#[derive(Deserialize)]
struct CitySpec {
    city: String,
    country: String,
    timezone: String,
    currency: String,
    language: String,
    usd_fx: f64,
    price_level: f64,
    weight: u32,
    cultures: Vec<String>,
}

#[derive(Deserialize)]
struct NamesFile {
    cultures: BTreeMap<String, Culture>,
}

/// The vocabulary, parsed on first use.
pub(crate) fn vocab() -> Result<&'static Vocab> {
    static VOCAB: OnceLock<std::result::Result<Vocab, String>> = OnceLock::new();
    VOCAB
        .get_or_init(Vocab::parse)
        .as_ref()
        .map_err(|err| Error::Invalid(format!("demo vocabulary: {err}")))
}

/// Interns strings into a dense id space, first come first numbered.
#[derive(Default)]
struct Interner {
    ids: BTreeMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_owned(), id);
        self.names.push(name.to_owned());
        id
    }
}

impl Vocab {
    fn parse() -> std::result::Result<Self, String> {
        let json = |file: &str, err: serde_json::Error| format!("{file}: {err}");
        let industries: IndustriesFile =
            serde_json::from_str(INDUSTRIES_JSON).map_err(|e| json("industries.json", e))?;
        let cities: CitiesFile =
            serde_json::from_str(CITIES_JSON).map_err(|e| json("cities.json", e))?;
        let names: NamesFile =
            serde_json::from_str(NAMES_JSON).map_err(|e| json("names.json", e))?;
        let texts: Texts = serde_json::from_str(TEXTS_JSON).map_err(|e| json("texts.json", e))?;

        let culture_keys: Vec<String> = names.cultures.keys().cloned().collect();
        let cultures: Vec<Culture> = names.cultures.into_values().collect();

        let mut skills = Interner::default();
        let mut tags = Interner::default();
        let mut out_industries = Vec::new();
        let mut professions = Vec::new();
        for spec in industries.industries {
            let mut members = Vec::new();
            for p in spec.professions {
                if p.skills.len() < 8 || p.tags.len() < 6 || p.services.is_empty() {
                    return Err(format!(
                        "{}: needs at least 8 skills, 6 tags and one service",
                        p.title
                    ));
                }
                if p.rate_usd.0 == 0 || p.rate_usd.0 > p.rate_usd.1 {
                    return Err(format!("{}: bad rate range", p.title));
                }
                check_len(&p.title, HEADLINE_MAX)?;
                p.skills
                    .iter()
                    .try_for_each(|s| check_len(s, HEADLINE_MAX))?;
                p.tags.iter().try_for_each(|t| check_len(t, TAG_MAX))?;
                let skill_ids: Vec<u32> = p.skills.iter().map(|s| skills.intern(s)).collect();
                let tag_ids: Vec<u32> = p.tags.iter().map(|t| tags.intern(t)).collect();
                if has_duplicates(&skill_ids) || has_duplicates(&tag_ids) {
                    return Err(format!("{}: duplicate skill or tag", p.title));
                }
                members.push(professions.len());
                professions.push(Profession {
                    title: p.title,
                    rate_usd: p.rate_usd,
                    skills: skill_ids,
                    tags: tag_ids,
                    services: p.services,
                });
            }
            if members.is_empty()
                || spec.clients.len() < 3
                || spec.outcomes.is_empty()
                || spec.audiences.is_empty()
            {
                return Err(format!("industry {} is incomplete", spec.name));
            }
            out_industries.push(Industry {
                name: spec.name,
                clients: spec.clients,
                outcomes: spec.outcomes,
                audiences: spec.audiences,
                professions: members,
            });
        }

        let mut out_cities = Vec::new();
        let mut weights = Vec::new();
        for spec in cities.cities {
            let bad = |what: &str| format!("city {}: {what}", spec.city);
            let timezone = TimeZone::parse(&spec.timezone).map_err(|e| bad(&e.to_string()))?;
            let currency = Currency::parse(&spec.currency).map_err(|e| bad(&e.to_string()))?;
            let language = LanguageCode::parse(&spec.language).map_err(|e| bad(&e.to_string()))?;
            let city_cultures = spec
                .cultures
                .iter()
                .map(|key| {
                    culture_keys
                        .iter()
                        .position(|k| k == key)
                        .ok_or_else(|| bad(&format!("unknown culture {key}")))
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            if city_cultures.is_empty() || spec.usd_fx <= 0.0 || spec.price_level <= 0.0 {
                return Err(bad("needs cultures and positive prices"));
            }
            check_len(&format!("{}, {}", spec.city, spec.country), HEADLINE_MAX)?;
            weights.push(spec.weight);
            out_cities.push(City {
                name: spec.city,
                country: spec.country,
                timezone,
                currency,
                language,
                usd_fx: spec.usd_fx,
                price_level: spec.price_level,
                cultures: city_cultures,
            });
        }
        let city_weights = WeightedIndex::new(weights).map_err(|e| format!("city weights: {e}"))?;

        if cultures
            .iter()
            .any(|c| c.first.is_empty() || c.last.is_empty())
        {
            return Err("every culture needs first and last names".into());
        }
        let t = &texts;
        let q = &t.queries;
        let lists = [
            &t.bio.openers,
            &t.bio.background,
            &t.bio.approach,
            &t.bio.outcomes,
            &t.service_extras,
            &t.content_descriptions,
            &t.client_messages,
            &t.cancellation_reasons,
            &t.exception_reasons,
            &q.profession_skill_city,
            &q.profession_city,
            &q.profession,
            &q.profession_skill,
            &q.skill,
            &q.tag,
            &q.skill_city,
        ];
        if lists.iter().any(|list| list.is_empty()) {
            return Err("texts.json has an empty list".into());
        }

        Ok(Self {
            industries: out_industries,
            professions,
            skills: skills.names,
            tags: tags.names,
            cities: out_cities,
            city_weights,
            cultures,
            texts,
        })
    }

    /// The name of an interned skill.
    pub fn skill(&self, id: u32) -> &str {
        self.skills.get(id as usize).map_or("", String::as_str)
    }

    /// The name of an interned tag.
    pub fn tag(&self, id: u32) -> &str {
        self.tags.get(id as usize).map_or("", String::as_str)
    }
}

fn check_len(text: &str, max: usize) -> std::result::Result<(), String> {
    if text.trim().is_empty() || text.chars().count() > max {
        return Err(format!("{text:?} must be 1 to {max} characters"));
    }
    Ok(())
}

fn has_duplicates(ids: &[u32]) -> bool {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).any(|w| w[0] == w[1])
}
