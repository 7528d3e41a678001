//! The matcher's cached track records and expert rows: track records read within a
//! request's budget, rows always; both forgotten when the change feed touches their
//! expert; track records saved and loaded across restarts (`stats_snapshot`).

use std::sync::{Arc, PoisonError};

use droply_models::{User, UserId};

use super::Matcher;
use crate::Result;
use crate::matching::freshness::changes_to_forget;
use crate::matching::stats::ExpertStats;
use crate::matching::stats_snapshot;

impl Matcher {
    /// The stats of `expert`: cached (aged to the present) until a change touches the
    /// expert or its earliest slot can no longer be booked (it starts within the slot
    /// policy's minimum notice, as the slot finder and booking see it), else read from
    /// the store while `cold_left` allows (one less each time); `None` once it is spent.
    /// Entries loaded from the stats snapshot are served by the same rule.
    pub(crate) fn stats_of(
        &self,
        expert: &User,
        cold_left: &mut usize,
    ) -> Result<Option<ExpertStats>> {
        let now = self.now();
        let bookable_from = now.plus_minutes(i64::from(self.config.slot_policy.min_notice_minutes));
        if let Some(stats) = self.stats.get(expert.id, now, |stats| {
            stats.earliest_slot.is_none_or(|slot| slot >= bookable_from)
        }) {
            return Ok(Some(stats));
        }
        if *cold_left == 0 {
            return Ok(None);
        }
        *cold_left -= 1;
        let read_after = self.store.last_seq();
        let stats = ExpertStats::load(&self.store, expert, now, &self.config.slot_policy)?;
        self.stats.insert(expert.id, now, stats, read_after);
        Ok(Some(stats))
    }

    /// Saves the cached stats to `path` for the next start (see `stats_snapshot`);
    /// returns how many.
    pub fn save_stats(&self, path: &std::path::Path) -> Result<usize> {
        // Caught up first, so that the file's sequence number covers every change
        // whose experts were forgotten.
        self.forget_changed()?;
        let seq = *self.seen_seq.lock().unwrap_or_else(PoisonError::into_inner);
        let entries = self.stats.entries();
        stats_snapshot::save(path, seq, &entries)?;
        Ok(entries.len())
    }

    /// Loads the stats [`Matcher::save_stats`] saved at `path`, but those of experts
    /// changed since; returns how many.
    pub fn load_stats(&self, path: &std::path::Path) -> Result<usize> {
        let entries = stats_snapshot::load(path, &self.store)?;
        let loaded = entries.len();
        self.stats.extend(entries);
        Ok(loaded)
    }

    /// How many experts' stats are cached.
    pub fn cached_stats(&self) -> usize {
        self.stats.len()
    }

    /// The row of expert candidate `id`, decoded once and kept until a change touches
    /// it (`None`: deleted since it was indexed).
    pub(crate) fn expert_row(&self, id: UserId) -> Result<Option<Arc<User>>> {
        if let Some(row) = self.rows.get(id) {
            return Ok(Some(row));
        }
        let read_after = self.store.last_seq();
        let Some(row) = self.store.users().find(id)? else {
            return Ok(None);
        };
        let row = Arc::new(row);
        self.rows.insert(id, Arc::clone(&row), read_after);
        Ok(Some(row))
    }

    /// Forgets the stats and rows of experts that changed since the last request.
    pub(crate) fn forget_changed(&self) -> Result<()> {
        let mut seen = self.seen_seq.lock().unwrap_or_else(PoisonError::into_inner);
        let (forget, upto) = changes_to_forget(&self.store, *seen)?;
        self.stats.forget(&forget, upto);
        self.rows.forget(&forget, upto);
        *seen = upto;
        Ok(())
    }
}
