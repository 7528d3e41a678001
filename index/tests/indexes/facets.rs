//! Facet counts stay exact while the index changes: after every round of random
//! updates and removals (old segments keep their deleted documents, merges replace
//! segments), the counts equal those of a model of the current documents.

use std::collections::{BTreeMap, HashMap};

use droply_index::{ExpertDoc, ExpertFilters, ExpertTextIndex, FacetField};
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
fn model(docs: &HashMap<u64, (String, [String; 2])>) -> Vec<(FacetField, Vec<(String, u64)>)> {
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
    let mut docs: HashMap<u64, (String, [String; 2])> = HashMap::new();
    for round in 1..=40u64 {
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
