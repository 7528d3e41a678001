//! Who a generated person is: a name from a culture common in their city,
//! and the unique handles derived from it (username, e-mail under the
//! reserved example domains, referral code).

use std::collections::HashSet;

use droply_models::{Email, ReferralCode, UserId, Username};
use rand::Rng;
use rand::distr::Distribution;

use super::vocab::Vocab;
use droply_engine::Result;

/// The fixed, clearly fake password hash every demo account carries.
pub(crate) const DEMO_PASSWORD_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$ZGVtb3NhbHQ$ZGVtb2hhc2g";

/// A person's name and home city.
#[derive(Debug, Clone)]
pub(crate) struct Persona {
    pub first: String,
    pub last: String,
    pub city: usize,
}

impl Persona {
    /// A random person: the city by market weight, the name mostly from a
    /// culture common there and sometimes from anywhere.
    pub fn random(rng: &mut impl Rng, vocab: &Vocab) -> Self {
        let city = vocab.city_weights.sample(rng);
        let local = &vocab.cities[city].cultures;
        let culture = if rng.random_bool(0.85) {
            local[rng.random_range(0..local.len())]
        } else {
            rng.random_range(0..vocab.cultures.len())
        };
        let names = &vocab.cultures[culture];
        Self {
            first: names.first[rng.random_range(0..names.first.len())].clone(),
            last: names.last[rng.random_range(0..names.last.len())].clone(),
            city,
        }
    }

    /// "First Last".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
}

/// Hands out usernames (and so e-mails) that are unique in the marketplace.
#[derive(Debug, Default)]
pub(crate) struct Handles {
    taken: HashSet<String>,
}

impl Handles {
    /// A fresh username in one of a few common shapes (`anna.schmidt`,
    /// `aschmidt`, `anna_schmidt42`, ...), numbered when already taken.
    pub fn username(&mut self, rng: &mut impl Rng, persona: &Persona) -> Result<Username> {
        let first = ascii_fold(&persona.first);
        let last = ascii_fold(&persona.last);
        let (first, last) = match (first.is_empty(), last.is_empty()) {
            (true, true) => ("user".to_owned(), "demo".to_owned()),
            (true, false) => (last.clone(), last),
            (false, true) => (first.clone(), first),
            (false, false) => (first, last),
        };
        let initial = &first[..1];
        let base = match rng.random_range(0..100) {
            0..45 => format!("{first}.{last}"),
            45..60 => format!("{first}{last}"),
            60..70 => format!("{first}_{last}"),
            70..85 => format!("{initial}{last}"),
            85..90 => format!("{last}.{first}"),
            _ => format!("{first}{}", rng.random_range(10..100)),
        };
        let mut base: String = base.chars().take(24).collect();
        if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
            base.insert(0, 'u');
        }
        let mut candidate = base.clone();
        let mut n = 2;
        while self.taken.contains(&candidate) {
            candidate = format!("{base}{n}");
            n += 1;
        }
        let username = Username::parse(&candidate)?;
        self.taken.insert(candidate);
        Ok(username)
    }
}

/// The e-mail of a demo account: the username at a reserved example domain.
pub(crate) fn email(username: &Username, domain: &str) -> Result<Email> {
    Ok(Email::parse(&format!("{username}@{domain}"))?)
}

/// A referral code like `SCHM0K3F9`: four letters of the last name and the
/// user id scrambled into base 36, so codes are unique because ids are.
pub(crate) fn referral_code(persona: &Persona, id: UserId) -> Result<ReferralCode> {
    const SPACE: u64 = 36 * 36 * 36 * 36 * 36;
    let mut prefix: String = ascii_fold(&persona.last)
        .chars()
        .filter(char::is_ascii_alphabetic)
        .take(4)
        .collect();
    while prefix.len() < 4 {
        prefix.push('x');
    }
    let raw = id.get();
    let suffix = if raw < SPACE {
        // 7919 is coprime to 36^5, so this is a bijection on 0..36^5.
        base36((raw * 7919) % SPACE, 5)
    } else {
        base36(raw, 6)
    };
    Ok(ReferralCode::parse(&format!("{prefix}{suffix}"))?)
}

fn base36(mut value: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    while value > 0 {
        out.push(DIGITS[(value % 36) as usize]);
        value /= 36;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    out.into_iter().map(char::from).collect()
}

/// Lower-case ASCII letters and digits of `name`, with common accented
/// letters folded (`Müller` → `muller`, `Łukasz` → `lukasz`) and
/// everything else (spaces, apostrophes, hyphens) dropped.
pub(crate) fn ascii_fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            continue;
        }
        let folded = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' | 'ă' => "a",
            'æ' => "ae",
            'ç' | 'ć' | 'č' => "c",
            'ď' | 'đ' | 'ð' => "d",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' | 'ễ' => "e",
            'ğ' => "g",
            'ì' | 'í' | 'î' | 'ï' | 'ı' | 'ī' => "i",
            'ł' => "l",
            'ñ' | 'ń' | 'ň' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' => "o",
            'ř' => "r",
            'ś' | 'š' | 'ş' | 'ș' => "s",
            'ß' => "ss",
            'ť' | 'ț' => "t",
            'ù' | 'ú' | 'û' | 'ü' | 'ű' | 'ů' => "u",
            'ý' | 'ÿ' => "y",
            'ź' | 'ż' | 'ž' => "z",
            'þ' => "th",
            _ => "",
        };
        out.push_str(folded);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_names() {
        assert_eq!(ascii_fold("Müller"), "muller");
        assert_eq!(ascii_fold("Łukasz"), "lukasz");
        assert_eq!(ascii_fold("O'Sullivan"), "osullivan");
        assert_eq!(ascii_fold("van der Merwe"), "vandermerwe");
        assert_eq!(ascii_fold("Jónsdóttir"), "jonsdottir");
        assert_eq!(ascii_fold("Yılmaz"), "yilmaz");
        assert_eq!(ascii_fold("Şahin"), "sahin");
    }

    #[test]
    fn referral_codes_are_valid_and_distinct() {
        let p = Persona {
            first: "Zoë".into(),
            last: "Ng".into(),
            city: 0,
        };
        let a = referral_code(&p, UserId::new(1)).expect("code");
        let b = referral_code(&p, UserId::new(2)).expect("code");
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 9);
        assert!(a.as_str().starts_with("NGXX"));
        assert!(referral_code(&p, UserId::new(u64::MAX >> 8)).is_ok());
    }
}
