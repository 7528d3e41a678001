//! Favorites as records: one per (user, expert) pair, listed both ways.

use droply_models::{Favorite, FavoriteId, UserId};

use super::Repo;
use super::repo::Deletable;
use crate::Result;
use crate::store::{
    EntityKind, IndexEntry, IndexName, KeyBuilder, Page, PageRequest, Record, UniqueEntry,
    UniqueName,
};

impl Record for Favorite {
    type Id = FavoriteId;
    const KIND: EntityKind = EntityKind::Favorite;

    record_basics!(FavoriteId);
    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![
            IndexEntry::owner_at(
                IndexName::FavoritesByUser,
                self.user_id.get(),
                self.created_at,
            ),
            IndexEntry::owner_at(
                IndexName::FavoritesByTarget,
                self.favorited_user_id.get(),
                self.created_at,
            ),
        ]
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::FavoritePair,
            key: pair_key(self.user_id, self.favorited_user_id),
            shown: format!("{} -> {}", self.user_id, self.favorited_user_id),
        }]
    }
}

impl Deletable for Favorite {}

fn pair_key(user: UserId, expert: UserId) -> Vec<u8> {
    KeyBuilder::new().u64(user.get()).u64(expert.get()).build()
}

impl Repo<'_, Favorite> {
    /// The experts `user` saved, oldest first.
    pub fn by_user(&self, user: UserId, page: &PageRequest) -> Result<Page<Favorite>> {
        self.by_index(IndexName::FavoritesByUser, &user.to_be_bytes(), page)
    }

    /// The users who saved `expert`, oldest first.
    pub fn by_target(&self, expert: UserId, page: &PageRequest) -> Result<Page<Favorite>> {
        self.by_index(IndexName::FavoritesByTarget, &expert.to_be_bytes(), page)
    }

    /// The favorite of `user` for `expert`, if any.
    pub fn find_pair(&self, user: UserId, expert: UserId) -> Result<Option<Favorite>> {
        match self
            .store
            .lookup_unique(UniqueName::FavoritePair, &pair_key(user, expert))?
        {
            Some(raw) => self.find(FavoriteId::new(raw)),
            None => Ok(None),
        }
    }

    /// How many users saved `expert`.
    pub fn count_for(&self, expert: UserId) -> Result<usize> {
        self.store
            .count_index(IndexName::FavoritesByTarget, &expert.to_be_bytes())
    }
}
