//! What is embedded for an expert (who counts as one is [`User::is_expert`]).
//!
//! The embedded text is the profile's meaning in the expert's own words: profession,
//! the three ranked skills, specialty tags, bio and service description, in that order
//! (all-MiniLM-L6-v2 reads the first 256 tokens, so the short, dense fields come
//! first and the long free text last). Name, location, prices and ratings are left to
//! the text index and the filters: they say nothing about what the expert knows.

use droply_models::User;

/// The text embedded for `user`'s profile: profession, skills, specialty tags, bio and
/// service description, one per line, empty parts left out.
pub fn embedding_text(user: &User) -> String {
    let skills: Vec<&str> = user
        .ranked_skills()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let tags: Vec<&str> = user
        .specialty_tags
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    let parts = [
        user.profession.trim().to_owned(),
        if skills.is_empty() {
            String::new()
        } else {
            format!("Skills: {}", skills.join(", "))
        },
        if tags.is_empty() {
            String::new()
        } else {
            format!("Specialties: {}", tags.join(", "))
        },
        user.bio.trim().to_owned(),
        user.service_description.trim().to_owned(),
    ];
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A stable 64-bit FNV-1a hash: document versions that survive restarts and builds.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The version of `user`'s embedding: changes exactly when [`embedding_text`] does.
pub fn embedding_version(user: &User) -> u64 {
    stable_hash(embedding_text(user).as_bytes())
}
