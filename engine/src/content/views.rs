//! Counting views of content, once per viewer per UTC day: a viewer is a
//! signed-in user or, for anonymous callers, their address. Who was counted
//! today is kept in the store, on sled as on PostgreSQL, so that every node
//! sharing a PostgreSQL store counts a viewer once (each node's memory
//! counted them once per node), and a restart forgets nobody: a
//! [`CountedView`] row per (content, viewer, day), holding only a keyed hash
//! of the three under the store's secret key (never the user's id or the
//! address), written in the transaction that moves the content row's
//! `views`, so two nodes counting one view at once count it once. A repeat
//! view costs one read of that key; a counted one a write, as it did
//! already. Rows lapse at the end of their day and the session sweep
//! removes them ([`sweep_counted_views`]). At most `capacity` rows are kept,
//! checked again in the counting write, so first views arriving at once
//! cannot pass the bound together: past that (the lapsed ones cleared
//! first), views are not counted rather than counted twice. An anonymous
//! caller is its network as the rate limits see it ([`client_network`]):
//! an IPv4 address (an IPv4-mapped IPv6 address counts as that) or an IPv6
//! /64, since one host may hold a whole /64 and would otherwise count once
//! per address.

mod counted_view;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use droply_models::{Content, ContentId, Timestamp, UserId};

pub use counted_view::{CountedView, CountedViewId};

use crate::Result;
use crate::accounts::client_network;
use crate::records::{LAPSE_BATCH, SWEEP_LIMIT, sweep_lapsed};
use crate::store::{SecretKeyCell, Store, UniqueName};

/// What the view hash is for: no hash made for another purpose matches it.
const VIEW_LABEL: &str = "droply content view v1";

/// Who viewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// A signed-in user.
    User(UserId),
    /// An anonymous caller from this address.
    Address(IpAddr),
}

/// The views counted today, kept in the store; one per engine, over the
/// engine's store.
#[derive(Debug)]
pub struct ViewCounter {
    store: Store,
    capacity: usize,
    secret: SecretKeyCell,
}

impl ViewCounter {
    /// Counts views in `store`, keeping at most `capacity` counted views.
    pub fn new(store: Store, capacity: usize) -> ViewCounter {
        ViewCounter {
            store,
            capacity,
            secret: SecretKeyCell::default(),
        }
    }

    /// Counts the view of `content` by `viewer` at `now` if it is the
    /// viewer's first of its UTC day: the content row with its `views`
    /// moved, or `None` when the view did not count (seen already today, or
    /// no room left).
    pub fn count(
        &self,
        content: ContentId,
        viewer: Viewer,
        now: Timestamp,
    ) -> Result<Option<Content>> {
        let day = now.utc_day();
        let key = self.view_key(content, viewer, day)?;
        if self.already_counted(&key)? || !self.has_room(now)? {
            return Ok(None);
        }
        let expires_at =
            Timestamp::from_micros(day.saturating_add(1).saturating_mul(Timestamp::DAY_MICROS))?;
        self.store.write(|txn| {
            // Another node may have counted it since the read above.
            if txn
                .lookup_unique(UniqueName::CountedView, key.as_bytes())?
                .is_some()
            {
                return Ok(None);
            }
            // Others may have taken the last places since `has_room`: the
            // bound holds only as checked under the write lock.
            if txn.count::<CountedView>()? >= self.capacity {
                return Ok(None);
            }
            txn.create(CountedView {
                id: CountedViewId::new(0),
                view_key: key.clone(),
                expires_at,
            })?;
            let mut row: Content = txn.require(content)?;
            row.views = row.views.saturating_add(1);
            txn.update(row).map(Some)
        })
    }

    /// Whether the view keyed `key` is counted already.
    fn already_counted(&self, key: &str) -> Result<bool> {
        Ok(self
            .store
            .lookup_unique(UniqueName::CountedView, key.as_bytes())?
            .is_some())
    }

    /// Whether another counted view may be kept, clearing some lapsed ones
    /// first when the store holds `capacity`.
    fn has_room(&self, now: Timestamp) -> Result<bool> {
        if self.store.try_count::<CountedView>()? < self.capacity {
            return Ok(true);
        }
        sweep_lapsed::<CountedView>(&self.store, now, LAPSE_BATCH)?;
        Ok(self.store.try_count::<CountedView>()? < self.capacity)
    }

    /// The keyed hash of (`content`, `viewer`, `day`); an address is keyed
    /// by its network ([`client_network`]): IPv4 whole, IPv6 by its /64.
    fn view_key(&self, content: ContentId, viewer: Viewer, day: i64) -> Result<String> {
        let (kind, who): (&[u8], Vec<u8>) = match viewer {
            Viewer::User(user) => (&b"user"[..], user.get().to_be_bytes().to_vec()),
            Viewer::Address(address) => match client_network(address) {
                IpAddr::V4(v4) => (&b"address"[..], v4.octets().to_vec()),
                IpAddr::V6(v6) => (&b"address"[..], v6.octets()[..8].to_vec()),
            },
        };
        self.secret.get(&self.store)?.keyed_hash(
            VIEW_LABEL,
            &[&content.get().to_be_bytes(), &day.to_be_bytes(), kind, &who],
        )
    }
}

/// Removes the counted views of days gone by at `now`, at most 10,000 a
/// run (the rest go on the next); returns how many.
pub fn sweep_counted_views(store: &Store, now: Timestamp) -> Result<usize> {
    let swept = sweep_lapsed::<CountedView>(store, now, SWEEP_LIMIT)?;
    if swept > 0 {
        tracing::info!(swept, "counted views of past days swept");
    }
    Ok(swept)
}
