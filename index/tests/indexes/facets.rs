//! Facet counts stay exact while the index changes: after every round of random
//! updates and removals (old segments keep their deleted documents, merges replace
//! segments), the counts equal those of a model of the current documents, and so do
//! the counts of a words' search that listed experts (the vector hits) join afterwards.

use std::collections::{BTreeMap, HashMap, HashSet};

use droply_index::{ExpertDoc, ExpertFilters, ExpertTextIndex, ExternalId, FacetField};
use droply_models::{CategoryId, UserId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SKILLS: [&str; 6] = ["Rust", "Go", "Tax", "Yoga", "Design", "Law"];
const INDUSTRIES: [&str; 3] = ["Technology", "Finance", "Health"];

fn doc(id: u64, industry: &str, skills: [&str; 2]) -> ExpertDoc {
    ExpertDoc {
        id: UserId::new(id),
        version: id,
        name: format!("Expert {id}"),
        profession: "Consultant".to_owned(),
        bio: "Helps people.".to_owned(),
        ranked_skills: [skills[0].to_owned(), skills[1].to_owned(), String::new()],
        skills_text: String::new(),
        specialty_tags: vec![],
        industry: industry.to_owned(),
        location: String::new(),
        service_description: String::new(),
        content_description: String::new(),
        category_names: vec![],
        category_ids: vec![CategoryId::new(1)],
        currency: None,
        hourly_rate_minor: None,
        rating: None,
        rating_count: 0,
        is_available: true,
        is_featured: false,
        is_bookable: true,
        session_minutes: 60,
    }
}

/// The counts a correct index gives for `docs`: most frequent first, ties by value.
fn model(docs: &Docs) -> Vec<(FacetField, Vec<(String, u64)>)> {
    let mut industries: BTreeMap<String, u64> = BTreeMap::new();
    let mut skills: BTreeMap<String, u64> = BTreeMap::new();
    for (industry, doc_skills) in docs.values() {
        *industries.entry(industry.clone()).or_default() += 1;
        let mut distinct = doc_skills.to_vec();
        distinct.dedup();
        for skill in distinct {
            *skills.entry(skill).or_default() += 1;
        }
    }
    let sorted = |counts: BTreeMap<String, u64>| {
        let mut values: Vec<(String, u64)> = counts.into_iter().collect();
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        values
    };
    vec![
        (FacetField::Industry, sorted(industries)),
        (FacetField::Skills, sorted(skills)),
    ]
}

#[test]
fn facet_counts_follow_updates_removals_and_merges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = ExpertTextIndex::create(&dir.path().join("text")).expect("create");
    let mut rng = StdRng::seed_from_u64(7);
    let mut docs = Docs::new();
    for round in 1..=40u64 {
        random_round(&index, &mut docs, &mut rng);
        index.commit(round).expect("commit");
        let counts = index
            .facet_counts(
                "",
                &ExpertFilters::default(),
                &[],
                &[FacetField::Industry, FacetField::Skills],
                100,
            )
            .expect("facet counts");
        assert_eq!(counts.total, docs.len() as u64, "round {round}");
        assert_eq!(counts.fields, model(&docs), "round {round}");
    }
}

/// Applies a random round of upserts and removals of ids `1..60` to `index` and `docs`.
fn random_round(index: &ExpertTextIndex, docs: &mut Docs, rng: &mut StdRng) {
    for _ in 0..rng.random_range(1..12) {
        let id = rng.random_range(1..60u64);
        if rng.random_bool(0.2) {
            index.remove(&[UserId::new(id)]).expect("remove");
            docs.remove(&id);
        } else {
            let industry = INDUSTRIES[rng.random_range(0..INDUSTRIES.len())];
            let mut skills = [
                SKILLS[rng.random_range(0..SKILLS.len())],
                SKILLS[rng.random_range(0..SKILLS.len())],
            ];
            skills.sort_unstable();
            index.upsert(&[doc(id, industry, skills)]).expect("upsert");
            docs.insert(id, (industry.to_owned(), skills.map(str::to_owned)));
        }
    }
}

/// Each current expert's industry and two skills, by id.
type Docs = HashMap<u64, (String, [String; 2])>;

#[test]
fn listed_experts_join_a_words_search_once_within_the_filters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = ExpertTextIndex::create(&dir.path().join("text")).expect("create");
    let mut rng = StdRng::seed_from_u64(11);
    let mut docs = Docs::new();
    let fields = [FacetField::Industry, FacetField::Skills];
    for round in 1..=30u64 {
        random_round(&index, &mut docs, &mut rng);
        index.commit(round).expect("commit");
        // Short words, so no typo tolerance widens the match.
        let word = ["Tax", "Yoga", "Law", "Rust"][rng.random_range(0..4)];
        let filters = if rng.random_bool(0.5) {
            ExpertFilters {
                industries: vec![INDUSTRIES[rng.random_range(0..INDUSTRIES.len())].to_owned()],
                ..ExpertFilters::default()
            }
        } else {
            ExpertFilters::default()
        };
        // Listed ids repeat, and some were removed or never existed.
        let listed: Vec<UserId> = (0..rng.random_range(1..10))
            .map(|_| UserId::new(rng.random_range(1..70)))
            .collect();
        let allowed = |industry: &str| {
            filters.industries.is_empty() || filters.industries.iter().any(|i| i == industry)
        };
        let has_word = |skills: &[String; 2]| skills.iter().any(|s| s == word);
        let matched: HashSet<u64> = docs
            .iter()
            .filter(|(_, (industry, skills))| allowed(industry) && has_word(skills))
            .map(|(id, _)| *id)
            .collect();
        let listed_ids: HashSet<u64> = listed.iter().map(|id| id.to_raw()).collect();
        let expected: Docs = docs
            .iter()
            .filter(|(id, (industry, _))| {
                matched.contains(id) || (listed_ids.contains(id) && allowed(industry))
            })
            .map(|(id, doc)| (*id, doc.clone()))
            .collect();

        let search = index
            .search_counting(word, &filters, 100, &fields, 100)
            .expect("search");
        let ranked: HashSet<u64> = search.hits().iter().map(|(id, _)| id.to_raw()).collect();
        assert_eq!(
            ranked, matched,
            "round {round}: the words' hits alone are ranked"
        );
        let (hits, counts) = search.finish(&listed).expect("finish");
        assert_eq!(hits.len(), matched.len(), "round {round}");
        assert_eq!(counts.total, expected.len() as u64, "round {round}");
        assert_eq!(counts.fields, model(&expected), "round {round}");

        let again = index
            .facet_counts(word, &filters, &listed, &fields, 100)
            .expect("facet counts");
        assert_eq!(again, counts, "round {round}");
        // Without words, the listed experts alone count.
        let listed_only: Docs = docs
            .iter()
            .filter(|(id, (industry, _))| listed_ids.contains(id) && allowed(industry))
            .map(|(id, doc)| (*id, doc.clone()))
            .collect();
        let (_, counts) = index
            .search_counted("", &filters, 100, &fields, 100, &listed)
            .expect("listed only");
        assert_eq!(counts.total, listed_only.len() as u64, "round {round}");
        assert_eq!(counts.fields, model(&listed_only), "round {round}");
    }
}
