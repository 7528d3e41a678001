//! Sweeping expired sign-in sessions: an expired [`AuthSession`] no longer
//! authenticates, but its row and token-hash key stay until this removes them.
//! Rows are read page by page and deleted in bounded write transactions, so a
//! sweep never holds the writer for long however many sessions expired.

use droply_models::Timestamp;

use super::auth_session::AuthSession;
use crate::Result;
use crate::store::{PageRequest, Store};

/// The most sessions one write transaction deletes.
pub const SWEEP_BATCH: usize = 500;

/// Deletes every session whose expiry is at or before `now` (the instant
/// from which [`AuthSession::is_live`] refuses it), in transactions of at
/// most [`SWEEP_BATCH`] rows; returns how many were deleted. A session that
/// a concurrent sign-out removed first is skipped.
pub fn sweep_expired_sessions(store: &Store, now: Timestamp) -> Result<usize> {
    let mut deleted = 0;
    let mut page_request = PageRequest::first(SWEEP_BATCH);
    loop {
        let page = store.scan::<AuthSession>(&page_request)?;
        let expired: Vec<_> = page
            .items
            .iter()
            .filter(|session| !session.is_live(now))
            .map(|session| session.id)
            .collect();
        if !expired.is_empty() {
            deleted += store.write(|txn| {
                let mut removed = 0;
                for id in &expired {
                    if txn.get::<AuthSession>(*id)?.is_some() {
                        txn.delete::<AuthSession>(*id)?;
                        removed += 1;
                    }
                }
                Ok(removed)
            })?;
        }
        match page.next {
            Some(cursor) => page_request = PageRequest::first(SWEEP_BATCH).after(Some(cursor)),
            None => break,
        }
    }
    if deleted > 0 {
        tracing::info!(deleted, "expired sign-in sessions swept");
    }
    Ok(deleted)
}
