//! Evaluation queries for content and for mixed-kind search: one per
//! distinct skill the demo's content is about (at most
//! [`CONTENT_QUERIES`]), anchored on the first item on that skill and
//! worded for its kind ("tax planning guide", "tax planning templates").
//! Content is judged by what the generator wrote it about: the same skill
//! and kind 3, the same skill in another kind 2, the same creator
//! profession 1. For mixed-kind search the experts who list the skill are
//! judged 1 as well: they can help, but the searcher asked for material.

use std::collections::HashSet;

use droply_models::{Content, ContentType, User, UserId};

use super::content::content_skill;
use super::truth::{ContentEvalQuery, ContentRelevance};

/// How many content queries the truth holds at most.
pub const CONTENT_QUERIES: usize = 100;

/// The query for `skill` worded for content of `kind`.
fn wording(skill: &str, kind: ContentType) -> String {
    let skill = skill.to_lowercase();
    match kind {
        ContentType::Template => format!("{skill} templates"),
        ContentType::Course => format!("{skill} course"),
        ContentType::Article => format!("article about {skill}"),
        _ => format!("{skill} guide"),
    }
}

/// Whether `expert` lists `skill` (case-insensitive) among their skills.
fn lists_skill(expert: &User, skill: &str) -> bool {
    expert
        .skills
        .split(',')
        .chain(expert.skills_1.as_deref())
        .chain(expert.skills_2.as_deref())
        .chain(expert.skills_3.as_deref())
        .any(|listed| listed.trim().eq_ignore_ascii_case(skill))
}

/// The content queries over `content`, whose creators are among `experts`
/// (user ids `1..=experts.len()`, in order).
pub(crate) fn content_queries(content: &[Content], experts: &[User]) -> Vec<ContentEvalQuery> {
    let creator = |item: &Content| {
        usize::try_from(item.user_id.get())
            .ok()
            .and_then(|n| experts.get(n.checked_sub(1)?))
    };
    // Each item's skill, as the generator chose it.
    let skills: Vec<Option<String>> = content
        .iter()
        .map(|item| creator(item).map(content_skill))
        .collect();
    let mut seen = HashSet::new();
    let mut queries = Vec::new();
    for (anchor, skill) in content.iter().zip(&skills) {
        let Some(skill) = skill else { continue };
        if queries.len() == CONTENT_QUERIES || !seen.insert(skill.to_lowercase()) {
            continue;
        }
        let profession = creator(anchor).map(|u| u.profession.as_str());
        let mut relevance = ContentRelevance::default();
        for (item, item_skill) in content.iter().zip(&skills) {
            let same_skill = item_skill
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(skill));
            if same_skill && item.content_type == anchor.content_type {
                relevance.exact.push(item.id);
            } else if same_skill {
                relevance.partial.push(item.id);
            } else if profession.is_some()
                && creator(item).map(|u| u.profession.as_str()) == profession
            {
                relevance.related.push(item.id);
            }
        }
        let experts_listing: Vec<UserId> = experts
            .iter()
            .filter(|expert| lists_skill(expert, skill))
            .map(|expert| expert.id)
            .collect();
        queries.push(ContentEvalQuery {
            id: u32::try_from(queries.len()).unwrap_or(u32::MAX),
            text: wording(skill, anchor.content_type),
            content_type: anchor.content_type.as_str().to_owned(),
            skill: skill.clone(),
            relevance,
            experts: experts_listing,
        });
    }
    queries
}
