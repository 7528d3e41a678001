//! From a `User` to the text index's [`ExpertDoc`]: the public, searchable part of the
//! profile (never email, phone, password hash, tokens, Stripe ids or balances), with a
//! version hash of its contents.

use droply_index::ExpertDoc;
use droply_models::{CategoryId, User};

use super::profile_text::stable_hash;
use crate::Result;
use crate::Store;

/// The text-index document of `user`, with the names of its content categories looked
/// up in `store`.
pub fn expert_document(store: &Store, user: &User) -> Result<ExpertDoc> {
    let mut category_names = Vec::with_capacity(user.content_categories.len());
    for id in &user.content_categories {
        if let Some(category) = store.categories().find(*id)? {
            category_names.push(category.name);
        }
    }
    let mut doc = ExpertDoc {
        id: user.id,
        version: 0,
        name: user.full_name.clone(),
        profession: user.profession.clone(),
        bio: user.bio.clone(),
        ranked_skills: [
            user.skills_1.clone().unwrap_or_default(),
            user.skills_2.clone().unwrap_or_default(),
            user.skills_3.clone().unwrap_or_default(),
        ],
        skills_text: user.skills.clone(),
        specialty_tags: user.specialty_tags.clone(),
        industry: user.industry.clone(),
        location: user.location.clone(),
        service_description: user.service_description.clone(),
        content_description: user.content_description.clone(),
        category_names,
        category_ids: user.content_categories.clone(),
        currency: Some(user.currency),
        hourly_rate_minor: user.hourly_rate.map(|rate| rate.amount_minor),
        rating: user.rating(),
        rating_count: user.rating_count(),
        is_available: user.is_available,
        is_featured: user.is_featured_user,
        is_bookable: user.is_bookable(),
        session_minutes: user.session_duration,
    };
    doc.version = document_version(&doc);
    Ok(doc)
}

/// The version of a document: a stable hash of everything in it but the version.
pub fn document_version(doc: &ExpertDoc) -> u64 {
    let mut unversioned = doc.clone();
    unversioned.version = 0;
    stable_hash(format!("{unversioned:?}").as_bytes())
}

/// Whether `user` lists `category` among its content categories.
pub(crate) fn has_category(user: &User, category: CategoryId) -> bool {
    user.content_categories.contains(&category)
}
