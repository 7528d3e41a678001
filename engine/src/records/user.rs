//! Users as records: unique username, email, referral code and connected
//! Stripe account; lookups by each; the experts among them, in id order;
//! the re-keying of emails stored before they were kept in one Unicode
//! form; and the keys of connected accounts held before they were unique.

use std::collections::BTreeSet;

use droply_models::{Email, User, UserId, Username};

use super::Repo;
use super::repo::Deletable;
use crate::Result;
use crate::store::{
    EntityKind, IndexEntry, IndexName, Page, PageRequest, Record, UniqueEntry, UniqueName,
};

impl Record for User {
    type Id = UserId;
    const KIND: EntityKind = EntityKind::User;

    record_basics!(UserId);
    fn index_entries(&self) -> Vec<IndexEntry> {
        if self.is_expert() {
            vec![IndexEntry {
                index: IndexName::Experts,
                prefix: Vec::new(),
            }]
        } else {
            Vec::new()
        }
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        let mut entries = vec![
            UniqueEntry {
                unique: UniqueName::Username,
                key: username_key(&self.username),
                shown: self.username.as_str().to_owned(),
            },
            UniqueEntry {
                unique: UniqueName::Email,
                key: email_key(&self.email),
                shown: self.email.as_str().to_owned(),
            },
            UniqueEntry {
                unique: UniqueName::ReferralCode,
                key: self.referral_code.as_str().as_bytes().to_vec(),
                shown: self.referral_code.as_str().to_owned(),
            },
        ];
        if let Some(account) = &self.stripe_account_id {
            entries.push(UniqueEntry {
                unique: UniqueName::StripeAccount,
                key: stripe_account_key(account),
                // The account's id is kept out of errors and reports.
                shown: STRIPE_ACCOUNT_SHOWN.to_owned(),
            });
        }
        entries
    }
}

/// How a connected account is named in a conflict or an integrity report:
/// not by its id, which the store keeps private.
const STRIPE_ACCOUNT_SHOWN: &str = "the connected Stripe account";

impl Deletable for User {}

fn username_key(username: &Username) -> Vec<u8> {
    username.as_str().to_lowercase().into_bytes()
}

fn email_key(email: &Email) -> Vec<u8> {
    email.normalized().into_bytes()
}

/// A connected Stripe account's key in [`UniqueName::StripeAccount`]: its
/// id as Stripe gave it (ids are case-sensitive).
pub(crate) fn stripe_account_key(account: &str) -> Vec<u8> {
    account.as_bytes().to_vec()
}

/// The [`UniqueName::StripeAccount`] entries (key, holder) of the users of
/// a store from before connected accounts were unique (sled schema 10,
/// PostgreSQL version 12), given each user's id and account. Stripe makes
/// one account per user, so no two should share one; where they do, as
/// [`email_rekeys`] does with a clash, nothing is refused: the lowest id
/// keeps the key and each later holder is logged by id (the integrity
/// check names them too) rather than take it.
pub(crate) fn stripe_account_holders(held: &[(u64, String)]) -> Vec<(Vec<u8>, u64)> {
    let mut by_id: Vec<&(u64, String)> = held.iter().collect();
    by_id.sort_by_key(|(user, _)| *user);
    let mut keys: std::collections::BTreeMap<Vec<u8>, u64> = std::collections::BTreeMap::new();
    for (user, account) in by_id {
        let key = stripe_account_key(account);
        if let Some(holder) = keys.get(&key) {
            tracing::warn!(
                user,
                holder,
                "two accounts hold one connected Stripe account; the later is left out of the index"
            );
            continue;
        }
        keys.insert(key, *user);
    }
    keys.into_iter().collect()
}

/// A user's email key to move: from the spelling it was stored under to
/// the one its address reads back as.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct EmailRekey {
    pub user: u64,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// Emails stored before addresses were kept in NFKC (sled schema 7,
/// PostgreSQL version 5) are keyed by the spelling typed then, and are read
/// back in NFKC: a login typed either way no longer found them. Given each
/// held email key with its user's address, the moves that key each address
/// by its spelling now. Where that spelling is another account's key
/// already, the two accounts were made for one address: the later keeps its
/// old key (logged by id) rather than take the other's.
pub(crate) fn email_rekeys(held: &[(u64, Vec<u8>, Email)]) -> Vec<EmailRekey> {
    let mut taken: BTreeSet<Vec<u8>> = held.iter().map(|(_, key, _)| key.clone()).collect();
    let mut moves = Vec::new();
    for (user, old, email) in held {
        let new = email_key(email);
        if &new == old {
            continue;
        }
        if !taken.insert(new.clone()) {
            tracing::warn!(
                user,
                "an account's address is another account's in its Unicode form; it keeps its old key"
            );
            continue;
        }
        moves.push(EmailRekey {
            user: *user,
            old: old.clone(),
            new,
        });
    }
    moves
}

impl Repo<'_, User> {
    /// One page of experts, in id order: every page is full but the last
    /// (clients are never counted against the limit).
    pub fn experts(&self, page: &PageRequest) -> Result<Page<User>> {
        self.by_index(IndexName::Experts, &[], page)
    }

    /// The user with this username (case-insensitive), if any.
    pub fn by_username(&self, username: &Username) -> Result<Option<User>> {
        self.by_unique(UniqueName::Username, &username_key(username))
    }

    /// The user with this email (case-insensitive), if any.
    pub fn by_email(&self, email: &Email) -> Result<Option<User>> {
        self.by_unique(UniqueName::Email, &email_key(email))
    }

    /// The user owning this referral code, if any.
    pub fn by_referral_code(&self, code: &str) -> Result<Option<User>> {
        self.by_unique(UniqueName::ReferralCode, code.as_bytes())
    }

    fn by_unique(&self, unique: UniqueName, key: &[u8]) -> Result<Option<User>> {
        match self.store.lookup_unique(unique, key)? {
            Some(raw) => self.find(UserId::new(raw)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(text: &str) -> Email {
        Email::parse(text).expect("email")
    }

    #[test]
    fn old_spellings_move_to_their_unicode_form_unless_another_account_holds_it() {
        let nfc = "jos\u{e9}@example.com";
        let held = vec![
            // Stored in NFKC already: stays.
            (1, b"ann@example.com".to_vec(), email("ann@example.com")),
            // Typed with a combining accent before addresses were normalised.
            (2, "jose\u{301}@example.com".as_bytes().to_vec(), email(nfc)),
            // Full-width letters, and an address another account holds in
            // its NFKC form: it keeps its old key.
            (
                3,
                "ａnn@example.com".as_bytes().to_vec(),
                email("ａnn@example.com"),
            ),
        ];
        assert_eq!(
            email_rekeys(&held),
            [EmailRekey {
                user: 2,
                old: "jose\u{301}@example.com".as_bytes().to_vec(),
                new: nfc.as_bytes().to_vec(),
            }]
        );
    }

    /// Two users holding one connected account (which Stripe never makes)
    /// must not fail the upgrade that indexes accounts: the lowest id keeps
    /// the key, whatever order the rows come in.
    #[test]
    fn a_connected_account_held_twice_is_keyed_to_its_first_holder() {
        let held = vec![
            (7, "acct_shared".to_owned()),
            (2, "acct_b".to_owned()),
            (3, "acct_shared".to_owned()),
        ];
        assert_eq!(
            stripe_account_holders(&held),
            [(b"acct_b".to_vec(), 2), (b"acct_shared".to_vec(), 3)]
        );
    }
}
