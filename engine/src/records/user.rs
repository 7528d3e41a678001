//! Users as records: unique username, email and referral code; lookups by
//! each; the experts among them, in id order.

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
        vec![
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
        ]
    }
}

impl Deletable for User {}

fn username_key(username: &Username) -> Vec<u8> {
    username.as_str().to_lowercase().into_bytes()
}

fn email_key(email: &Email) -> Vec<u8> {
    email.normalized().into_bytes()
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
