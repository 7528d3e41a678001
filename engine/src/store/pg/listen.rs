//! Each node's follower of the shared feed: a connection of its own that
//! listens on `droply_changes` and, on every notification (and once a second
//! in case one was missed), reads the feed's end and wakes the node's
//! followers, such as its search index. It reconnects after a lost
//! connection and stops when the store is dropped.

use std::sync::Weak;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;

use super::super::{Backend, StoreInner};
use super::CHANNEL;
use crate::Result;

/// How long the listener waits for a notification before reading anyway.
const POLL: Duration = Duration::from_secs(1);

/// Starts the listener of the store `inner` points at.
pub(crate) fn spawn_listener(inner: Weak<StoreInner>) -> Result<()> {
    std::thread::Builder::new()
        .name("droply-feed-listener".to_owned())
        .spawn(move || {
            while inner.strong_count() > 0 {
                if let Err(err) = listen(&inner) {
                    tracing::warn!(error = %err, "feed listener lost its connection; reconnecting");
                    std::thread::sleep(POLL);
                }
            }
        })?;
    Ok(())
}

/// Listens until the store is dropped or the connection fails.
fn listen(inner: &Weak<StoreInner>) -> Result<()> {
    let mut client = {
        let Some(store) = inner.upgrade() else {
            return Ok(());
        };
        let Backend::Postgres(pg) = &store.backend else {
            return Ok(());
        };
        pg.connect()?
    };
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    loop {
        // Drain whatever arrived, waiting at most `POLL` for the first.
        let mut notifications = client.notifications();
        if notifications.timeout_iter(POLL).next()?.is_some() {
            while notifications.iter().next()?.is_some() {}
        }
        let Some(store) = inner.upgrade() else {
            return Ok(());
        };
        let Backend::Postgres(pg) = &store.backend else {
            return Ok(());
        };
        let seq = pg.last_seq()?;
        store.published(seq);
    }
}
