//! Each node's reader of the drop-in messages every node stores: one thread
//! per hub follows the store's change feed ([`MessageFeed`]) and hands each
//! new message to this node's room of its drop-in, if it has one. It is
//! the only way messages reach a room, those this node stored included, so
//! every room gets them in the feed's order, which is id order on both
//! backends (see [`MessageFeed`]): a connection skips an id at or below the
//! last it sent, having caught up from the store, and misses nothing. On
//! PostgreSQL the other nodes' writes wake it through the feed's listener;
//! its own wake it at once. A reader that fell behind the feed's truncation,
//! or met a message row it could not read (logged by id and passed, so that
//! one bad row cannot hold it on the same entries), tells every room to read
//! the store again. It stops once the hub is gone.

use std::sync::{Arc, Weak};
use std::time::Duration;

use droply_engine::Store;
use droply_engine::dropins::{FeedPage, MessageFeed};

use super::dropin_room::room_frame;
use super::hub::LiveHub;

/// How long the reader waits for a commit before it looks whether the hub
/// is still there.
const WAIT: Duration = Duration::from_millis(250);

/// Feed entries read at once.
const BATCH: usize = 512;

/// Starts the reader of what `store` commits from now on, for `hub`'s
/// rooms. A thread that cannot start is logged: the rooms then get messages
/// only as their connections catch up from the store.
pub(crate) fn follow(hub: &Arc<LiveHub>, store: &Store) {
    let hub = Arc::downgrade(hub);
    let feed = MessageFeed::from_now(store);
    let started = std::thread::Builder::new()
        .name("droply-room-feed".to_owned())
        .spawn(move || run(&hub, feed));
    if let Err(err) = started {
        tracing::error!(
            error = %err,
            "the drop-in rooms' feed reader did not start: rooms get messages only as they catch up"
        );
    }
}

/// Reads the feed until the hub is gone.
fn run(hub: &Weak<LiveHub>, mut feed: MessageFeed) {
    while hub.strong_count() > 0 {
        let page = match feed.next(WAIT, BATCH) {
            Ok(page) => page,
            Err(err) => {
                tracing::warn!(error = %err, "reading the drop-in messages' feed failed; retrying");
                std::thread::sleep(WAIT);
                continue;
            }
        };
        let Some(hub) = hub.upgrade() else {
            return;
        };
        hand_over(&hub, &page);
    }
}

/// Hands what `page` brought to the rooms of `hub`.
fn hand_over(hub: &LiveHub, page: &FeedPage) {
    if page.missed {
        tracing::warn!(
            "the drop-in rooms' feed reader missed messages (it fell behind the feed or passed \
             an unreadable one); rooms read the store again"
        );
        for room in hub.open_rooms() {
            room.missed();
        }
    }
    for posted in &page.posted {
        if let Some(room) = hub.room(posted.message.session_id) {
            room.broadcast(room_frame(posted));
        }
    }
}
