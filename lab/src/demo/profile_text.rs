//! The text a search index embeds for an expert: headline, skills,
//! specialties and the first sentence of the bio and of the service
//! description, about fifty tokens.

use droply_models::User;

/// One string describing `user` for embedding; empty parts are skipped.
pub fn profile_text(user: &User) -> String {
    let mut parts: Vec<String> = Vec::new();
    let city = user.location.split(',').next().unwrap_or("").trim();
    match (user.profession.is_empty(), city.is_empty()) {
        (false, false) => parts.push(format!("{} in {city}.", user.profession)),
        (false, true) => parts.push(format!("{}.", user.profession)),
        _ => {}
    }
    let skills: Vec<&str> = user.ranked_skills().collect();
    if !skills.is_empty() {
        parts.push(format!("Skills: {}.", skills.join(", ")));
    }
    if !user.specialty_tags.is_empty() {
        parts.push(format!("Specialties: {}.", user.specialty_tags.join(", ")));
    }
    for text in [&user.bio, &user.service_description] {
        let sentence = first_sentence(text);
        if !sentence.is_empty() {
            parts.push(sentence.to_owned());
        }
    }
    parts.join(" ")
}

/// Up to and including the first ". ", or all of `text`.
fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) => &text[..=end],
        None => text.trim(),
    }
}
