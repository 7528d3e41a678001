//! Saving experts: favorite and unfavorite, each recorded as an interaction
//! in the same transaction (once a day per expert, within the daily bound of
//! `interactions`), and the caller's saved experts page by page.

use droply_models::{Error as ModelError, Favorite, FavoriteId, InteractionType, User, UserId};

use super::interactions::record_within_bounds;
use crate::store::{Page, PageRequest, Txn};
use crate::{Error, Result, Store};

/// The expert `id`, or `NotFound` when there is no such user or the user
/// does not offer sessions (has no profession).
fn require_expert(txn: &Txn<'_>, id: UserId) -> Result<User> {
    match txn.get::<User>(id)? {
        Some(user) if user.is_expert() => Ok(user),
        _ => Err(Error::NotFound {
            entity: "expert",
            id: id.get(),
        }),
    }
}

/// `user` saves `expert`: `Invalid` for oneself, `NotFound` for an unknown
/// user or a non-expert, `Conflict` when already saved. Records a
/// `favorite` interaction in the same transaction, within bounds.
pub fn add_favorite(store: &Store, user: UserId, expert: UserId) -> Result<Favorite> {
    if user == expert {
        return Err(ModelError::invalid("expert_id", "you cannot save yourself").into());
    }
    store.write(|txn| {
        require_expert(txn, expert)?;
        // The transaction's instant: taken under the write lock, so saves
        // commit in the order of their times.
        let now = txn.now();
        let favorite = txn.create(Favorite {
            id: FavoriteId::new(0),
            user_id: user,
            favorited_user_id: expert,
            created_at: now,
        })?;
        record_within_bounds(txn, user, expert, InteractionType::Favorite)?;
        Ok(favorite)
    })
}

/// `user` forgets `expert`: `NotFound` when it was not saved. Records an
/// `unfavorite` interaction in the same transaction, within bounds.
pub fn remove_favorite(store: &Store, user: UserId, expert: UserId) -> Result<Favorite> {
    let not_saved = || Error::NotFound {
        entity: "favorite",
        id: expert.get(),
    };
    let saved = store
        .favorites()
        .find_pair(user, expert)?
        .ok_or_else(not_saved)?;
    store.write(|txn| {
        let removed = txn.delete::<Favorite>(saved.id).map_err(|err| match err {
            Error::NotFound { .. } => not_saved(),
            other => other,
        })?;
        record_within_bounds(txn, user, expert, InteractionType::Unfavorite)?;
        Ok(removed)
    })
}

/// One page of the experts `user` saved, oldest first; those deleted or no
/// longer experts since (their profile is no longer public) are skipped.
pub fn favorite_experts(store: &Store, user: UserId, page: &PageRequest) -> Result<Page<User>> {
    let favorites = store.favorites().by_user(user, page)?;
    let mut experts = Vec::with_capacity(favorites.items.len());
    for favorite in &favorites.items {
        if let Some(expert) = store
            .users()
            .find(favorite.favorited_user_id)?
            .filter(User::is_expert)
        {
            experts.push(expert);
        }
    }
    Ok(Page {
        items: experts,
        next: favorites.next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rows::ann_and_bob;

    /// Regression: the save's time was taken before the write lock, so it
    /// was not the instant of the transaction that recorded it (nor of the
    /// `favorite` interaction written with it, and it could fall on the
    /// day before the one the interaction was counted in).
    #[test]
    fn a_save_is_timed_by_its_transaction_like_its_interaction() {
        let (store, ann, bob) = ann_and_bob();
        let saved = add_favorite(&store, bob.id, ann.id).expect("saved");
        let recorded = store
            .interactions()
            .by_user(bob.id, &PageRequest::first(10))
            .expect("interactions")
            .items;
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].interaction_type, InteractionType::Favorite);
        assert_eq!(recorded[0].created_at, saved.created_at);
    }
}
