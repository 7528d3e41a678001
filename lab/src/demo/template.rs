//! Filling `{name}` placeholders in the vocabulary's sentence templates,
//! and the small grammar helpers the templates need.

/// Replaces every `{key}` in `template` whose key is in `vars`; unknown
/// placeholders are kept as written.
pub(crate) fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let key = &after[..close];
                match vars.iter().find(|(k, _)| *k == key) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(key);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `noun` with its indefinite article: "an Accountant", "a UX Researcher",
/// "an SEO Specialist" (acronyms go by how their first letter sounds).
pub(crate) fn with_article(noun: &str) -> String {
    let first_word = noun.split_whitespace().next().unwrap_or("");
    let acronym = first_word.len() >= 2 && first_word.bytes().all(|b| b.is_ascii_uppercase());
    let vowel_sound = first_word.chars().next().is_some_and(|c| {
        if acronym {
            "AEFHILMNORSX".contains(c)
        } else {
            matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o')
        }
    });
    format!("{} {noun}", if vowel_sound { "an" } else { "a" })
}

/// `text` with its first letter upper-cased.
pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_and_keeps_unknown() {
        let vars = [("city", "Berlin"), ("years", "12")];
        assert_eq!(
            fill("{years} years in {city}, {nope} {", &vars),
            "12 years in Berlin, {nope} {"
        );
        assert_eq!(fill("plain", &vars), "plain");
    }

    #[test]
    fn articles() {
        assert_eq!(with_article("Accountant"), "an Accountant");
        assert_eq!(with_article("UX Researcher"), "a UX Researcher");
        assert_eq!(with_article("AI Consultant"), "an AI Consultant");
        assert_eq!(with_article("SEO Specialist"), "an SEO Specialist");
        assert_eq!(with_article("CFO Consultant"), "a CFO Consultant");
        assert_eq!(with_article("HR Consultant"), "an HR Consultant");
        assert_eq!(with_article("Tax Advisor"), "a Tax Advisor");
        assert_eq!(capitalize("rust"), "Rust");
    }
}
