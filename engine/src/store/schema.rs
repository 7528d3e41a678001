//! The schema version of a sled store and the migrations that bring an older
//! store up to date when it is opened. A store written by a newer Droply is
//! refused rather than misread. (PostgreSQL's schema is its own versioned SQL
//! files, `pg/migrate.rs`.)

use droply_models::{
    Booking, ContentPurchase, DropinMessage, DropinParticipant, DropinSession, Payout,
    ReferralReward, User,
};

use super::sled_trees::SledTrees;
use super::tree_id::{IndexName, TreeId, UniqueName};
use super::txn::index_key;
use super::{Backend, Store};
use super::{Record, RecordId};
use crate::accounts::AuthSession;
use crate::payments::Payment;
use crate::{Error, Result};

/// The schema this build writes.
pub const CURRENT_SCHEMA: u32 = 12;

const META_SCHEMA: &[u8] = b"schema_version";

/// A step from schema `from` to `from + 1`.
struct Migration {
    from: u32,
    run: fn(&Store, &SledTrees) -> Result<()>,
}

/// Every migration, in order. Schema 1 is the first; later layouts add steps here.
const MIGRATIONS: &[Migration] = &[
    Migration {
        from: 1,
        run: |_, trees| backfill_index::<User>(trees, IndexName::Experts),
    },
    Migration {
        from: 2,
        run: |_, trees| backfill_index::<AuthSession>(trees, IndexName::SessionsByUser),
    },
    Migration {
        from: 3,
        run: |_, trees| backfill_index::<Booking>(trees, IndexName::UnpaidHolds),
    },
    Migration {
        from: 4,
        run: |_, trees| {
            backfill_index::<ContentPurchase>(trees, IndexName::PurchasesByBuyerContent)?;
            backfill_index::<ReferralReward>(trees, IndexName::PendingRewards)
        },
    },
    // Schema 6: drop-in messages keyed in id order and the open drop-ins;
    // video rooms queued for confirmed bookings; Google Calendar's trees
    // (connections, consent states, busy times, the event outbox and event
    // ids) start empty, so opening them is all they need.
    Migration {
        from: 5,
        run: |store, trees| {
            trees
                .tree(TreeId::Index(IndexName::MessagesBySession))
                .clear()?;
            backfill_index::<DropinMessage>(trees, IndexName::MessagesBySession)?;
            backfill_index::<DropinSession>(trees, IndexName::OpenDropins)?;
            crate::video::enqueue_rooms_of_confirmed(store)
        },
    },
    // Schema 7: `total_referral_earnings` is kept by the ledger; stores
    // written before had left it at zero.
    Migration {
        from: 6,
        run: |store, _| crate::payments::ledger::recount_referral_earnings(store).map(drop),
    },
    // Schema 8: emails keyed by the Unicode form they read back in.
    Migration {
        from: 7,
        run: |_, trees| rekey_emails(trees),
    },
    // Schema 9: the payments sweep's work lists (`payments::due_calls`):
    // payments owing Stripe a cancel or a refund, payouts not sent.
    Migration {
        from: 8,
        run: |_, trees| {
            backfill_index::<Payment>(trees, IndexName::PaymentCallsDue)?;
            backfill_index::<Payout>(trees, IndexName::PendingPayouts)
        },
    },
    // Schema 10: drop-in participants by user, so a join, and an account
    // closing, read only that user's rows.
    Migration {
        from: 9,
        run: |_, trees| backfill_index::<DropinParticipant>(trees, IndexName::ParticipantsByUser),
    },
    // Schema 11: users by connected Stripe account, unique, so a bank
    // payout's event reads its holder rather than every expert.
    Migration {
        from: 10,
        run: |_, trees| index_stripe_accounts(trees),
    },
    // Schema 12: the drop-in participants still seated, by session, so a
    // full room's take-back reads its seats, not every row it ever had.
    Migration {
        from: 11,
        run: |_, trees| backfill_index::<DropinParticipant>(trees, IndexName::SeatedParticipants),
    },
];

/// Moves each email key stored under another spelling than its address's
/// now (`crate::records::email_rekeys`), in one batch.
fn rekey_emails(trees: &SledTrees) -> Result<()> {
    let keys = trees.tree(TreeId::Unique(UniqueName::Email));
    let mut emails = std::collections::BTreeMap::new();
    for row in trees.tree(User::KIND.tree()).iter() {
        let (_, value) = row?;
        let user = User::decode(&value)?;
        emails.insert(user.id.get(), user.email);
    }
    let mut held = Vec::new();
    for entry in keys.iter() {
        let (key, value) = entry?;
        let id = <[u8; 8]>::try_from(value.as_ref())
            .map(u64::from_be_bytes)
            .map_err(|_| Error::Corrupt("malformed email key".to_owned()))?;
        if let Some(email) = emails.remove(&id) {
            held.push((id, key.to_vec(), email));
        }
    }
    let mut batch = sled::Batch::default();
    for rekey in crate::records::email_rekeys(&held) {
        batch.remove(rekey.old);
        batch.insert(rekey.new, &rekey.user.to_be_bytes());
    }
    Ok(keys.apply_batch(batch)?)
}

/// Keys each user's connected Stripe account to them
/// (`crate::records::stripe_account_holders`: where two users hold one, the
/// first keeps it and the others are logged), in one batch.
fn index_stripe_accounts(trees: &SledTrees) -> Result<()> {
    let mut held = Vec::new();
    for row in trees.tree(User::KIND.tree()).iter() {
        let (_, value) = row?;
        let user = User::decode(&value)?;
        if let Some(account) = user.stripe_account_id {
            held.push((user.id.get(), account));
        }
    }
    let mut batch = sled::Batch::default();
    for (key, user) in crate::records::stripe_account_holders(&held) {
        batch.insert(key, &user.to_be_bytes());
    }
    Ok(trees
        .tree(TreeId::Unique(UniqueName::StripeAccount))
        .apply_batch(batch)?)
}

/// Enters every existing row of `R` into `index`, a relationship index added
/// by a later schema (schema 2: experts; schema 3: sessions by user; schema
/// 4: bookings awaiting payment; 5: purchases by buyer and content, pending
/// referral rewards; 6: drop-in messages by session in id order, after the
/// old time-ordered keys are cleared, and the open drop-ins; schema 6 also
/// queues video rooms, see `crate::video::enqueue_rooms_of_confirmed`; 9:
/// payments owing Stripe a call and payouts not sent; 10: drop-in
/// participants by user; 12: the seated drop-in participants by session).
/// Each row writes its own key, so running it twice is harmless.
fn backfill_index<R: Record>(trees: &SledTrees, index: IndexName) -> Result<()> {
    let tree = trees.tree(TreeId::Index(index));
    for row in trees.tree(R::KIND.tree()).iter() {
        let (_, value) = row?;
        let row = R::decode(&value)?;
        for entry in row.index_entries().into_iter().filter(|e| e.index == index) {
            tree.insert(index_key(&entry.prefix, row.id().raw()), &[])?;
        }
    }
    Ok(())
}

/// Reads the stored schema version, runs the migrations it needs and records
/// the current version.
pub(super) fn check_and_migrate(store: &Store, trees: &SledTrees) -> Result<()> {
    let meta = trees.tree(TreeId::Meta);
    let found = match meta.get(META_SCHEMA)? {
        Some(bytes) => {
            let bytes: [u8; 4] = bytes
                .as_ref()
                .try_into()
                .map_err(|_| Error::Corrupt("malformed schema version".to_owned()))?;
            u32::from_be_bytes(bytes)
        }
        None => CURRENT_SCHEMA,
    };
    if found > CURRENT_SCHEMA {
        return Err(Error::SchemaTooNew {
            found,
            supported: CURRENT_SCHEMA,
        });
    }
    let mut version = found;
    while version < CURRENT_SCHEMA {
        let step = MIGRATIONS
            .iter()
            .find(|m| m.from == version)
            .ok_or_else(|| Error::Corrupt(format!("no migration from schema {version}")))?;
        tracing::info!(from = version, to = version + 1, "migrating store");
        (step.run)(store, trees)?;
        version += 1;
    }
    meta.insert(META_SCHEMA, &CURRENT_SCHEMA.to_be_bytes())?;
    store.flush()
}

impl Store {
    /// The schema version recorded in a sled store (`None` for PostgreSQL,
    /// whose versions are its migrations').
    pub fn schema_version(&self) -> Result<Option<u32>> {
        let Backend::Sled(trees) = &self.inner.backend else {
            return Ok(None);
        };
        Ok(trees
            .tree(TreeId::Meta)
            .get(META_SCHEMA)?
            .and_then(|bytes| <[u8; 4]>::try_from(bytes.as_ref()).ok())
            .map(u32::from_be_bytes))
    }
}

#[cfg(test)]
impl Store {
    /// One of a sled store's trees, for tests that make an old layout.
    pub(in crate::store) fn sled_tree(&self, id: TreeId) -> &sled::Tree {
        match &self.inner.backend {
            Backend::Sled(trees) => trees.tree(id),
            Backend::Postgres(_) => panic!("a sled store was expected"),
        }
    }
}

#[cfg(test)]
mod tests;
