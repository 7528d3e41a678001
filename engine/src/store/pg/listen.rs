//! Each node's follower of the shared feed: a connection of its own that
//! listens on `droply_changes` and, on every notification (and once a second
//! in case one was missed), reads the feed's end and wakes the node's
//! followers, such as its search index. The same connection listens on
//! `droply_nodes`, the channel between nodes (`node_bus.rs`): what another
//! node says goes to this node's listeners, and their answers go back out
//! on this connection. It reconnects after a lost connection and stops when
//! the store is dropped.

use std::sync::Weak;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;

use super::super::{Backend, StoreInner};
use super::CHANNEL;
use super::node_bus::{NODES_CHANNEL, notify};
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
    client.batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {NODES_CHANNEL}"))?;
    loop {
        // Drain whatever arrived, waiting at most `POLL` for the first; keep
        // what other nodes said, in the order it came.
        let mut said = Vec::new();
        {
            let mut notifications = client.notifications();
            let mut next = notifications.timeout_iter(POLL).next()?;
            while let Some(notification) = next {
                if notification.channel() == NODES_CHANNEL {
                    said.push(notification.payload().to_owned());
                }
                next = notifications.iter().next()?;
            }
        }
        let Some(store) = inner.upgrade() else {
            return Ok(());
        };
        let Backend::Postgres(pg) = &store.backend else {
            return Ok(());
        };
        let answers: Vec<String> = said
            .iter()
            .flat_map(|payload| pg.nodes().heard(payload))
            .collect();
        let seq = pg.last_seq()?;
        store.published(seq);
        for answer in &answers {
            match pg.nodes().payloads(answer) {
                Ok(payloads) => notify(&mut client, &payloads)?,
                Err(err) => tracing::warn!(error = %err, "an answer to another node was not sent"),
            }
        }
    }
}
