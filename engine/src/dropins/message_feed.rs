//! Following the messages of every drop-in as they are stored, whichever
//! node stored them: a [`MessageFeed`] reads the store's change feed from
//! where it started and answers each new message row, with its author, in
//! commit order. Message ids come from the store's one id counter, moved
//! only by its one writer at a time (sled's writer lock; on PostgreSQL the
//! transaction-scoped advisory lock, under which the counter is read and
//! moved in the transaction that commits the row), and a write is visible
//! before the next one starts. So commit order is id order, the feed names
//! new messages in id order, and a reader that sees message `n` sees every
//! message before it: a room that hands on what the feed answers, in order,
//! never gets a lower id after a higher one, and a client catching up "after
//! the last id it got" from the store skips nothing. Each node's live rooms
//! follow one of these (the server's `room_feed`).

use std::time::Duration;

use droply_models::DropinMessageId;

use super::messages::{Posted, posted_by_id};
use crate::Result;
use crate::store::{ChangeOp, EntityKind, Store};

/// A reader of the drop-in messages stored after it started.
#[derive(Debug)]
pub struct MessageFeed {
    store: Store,
    /// The last feed entry read.
    applied: u64,
    /// The newest message id answered: a feed entry for an id at or below
    /// it is a change to a message already answered (its removal), not a
    /// new message.
    newest: u64,
}

/// What one read of a [`MessageFeed`] brought.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FeedPage {
    /// The new messages, in commit order, which is id order.
    pub posted: Vec<Posted>,
    /// Feed entries were dropped ([`Store::truncate_changes`]) before this
    /// reader got to them: messages may have been missed, and whoever hands
    /// them on must read the store again for what came after what it has.
    pub missed: bool,
}

impl MessageFeed {
    /// A reader of what `store` commits from now on.
    pub fn from_now(store: &Store) -> MessageFeed {
        MessageFeed {
            store: store.clone(),
            applied: store.last_seq(),
            newest: 0,
        }
    }

    /// Waits up to `wait` for a commit after the last one read, then
    /// answers the new messages among the next `batch` feed entries (at
    /// least one); an empty page when nothing committed in time. It blocks:
    /// run it on a thread of its own. After an error nothing counts as read,
    /// and the next call reads the same entries again.
    pub fn next(&mut self, wait: Duration, batch: usize) -> Result<FeedPage> {
        let last = self.store.wait_for_changes(self.applied, wait);
        if last <= self.applied {
            return Ok(FeedPage::default());
        }
        let changes = self.store.changes_since(self.applied, batch.max(1))?;
        let missed = changes
            .first()
            .is_none_or(|change| change.seq != self.applied + 1);
        let mut newest = self.newest;
        let mut ids = Vec::new();
        for change in &changes {
            if change.kind == EntityKind::DropinMessage
                && change.op == ChangeOp::Put
                && change.id > newest
            {
                newest = change.id;
                ids.push(DropinMessageId::new(change.id));
            }
        }
        let posted = posted_by_id(&self.store, &ids)?;
        self.applied = changes.last().map_or(last, |change| change.seq);
        self.newest = newest;
        Ok(FeedPage { posted, missed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dropins::{
        Joining, MemberProof, NewDropin, NewMessage, join_dropin, member_by, open_dropin,
        post_message, remove_message,
    };
    use crate::test_rows::user;

    /// Every message stored after the reader started comes once, in id
    /// order, a removal's notice included but not the removed message again.
    #[test]
    fn the_feed_answers_each_new_message_once_in_id_order() {
        let store = Store::open_temporary().expect("store");
        let host = store
            .users()
            .create(user("hana", "Tax advisor"))
            .expect("hana");
        let new = NewDropin {
            topic: "Feed".to_owned(),
            description: String::new(),
            max_participants: 10,
            is_anonymous: true,
            starts_at: None,
            duration_minutes: 60,
        };
        let session = open_dropin(&store, host.id, &new).expect("open");
        let joining = Joining {
            code: session.session_code.as_str().to_owned(),
            user: None,
            display_name: Some("Guest".to_owned()),
        };
        let joined = join_dropin(&store, &joining).expect("join");
        let guest = member_by(&store, session.id, MemberProof::Pass(&joined.token)).expect("guest");
        let host_member = member_by(&store, session.id, MemberProof::User(host.id)).expect("host");

        let mut feed = MessageFeed::from_now(&store);
        let wait = Duration::from_millis(10);
        assert_eq!(feed.next(wait, 100).expect("read"), FeedPage::default());
        let comment = |text: &str| NewMessage {
            message_type: droply_models::DropinMessageType::Comment,
            content: text.to_owned(),
            reply_to: None,
        };
        let first = post_message(&store, &guest, comment("one")).expect("post");
        let second = post_message(&store, &guest, comment("two")).expect("post");
        // One entry at a time: the reader goes on where it left off.
        let mut seen = Vec::new();
        for _ in 0..10 {
            seen.extend(feed.next(wait, 1).expect("read").posted);
        }
        assert_eq!(seen, vec![first.clone(), second]);
        let removal = remove_message(&store, &host_member, first.message.id).expect("remove");
        let page = feed.next(wait, 100).expect("read");
        assert!(!page.missed);
        let ids: Vec<_> = page.posted.iter().map(|p| p.message.id).collect();
        assert_eq!(
            ids,
            vec![removal.message.id],
            "the notice, not the removed message again"
        );
    }

    /// Entries dropped from the feed before the reader got to them are
    /// reported, so that a room reads the store again.
    #[test]
    fn a_reader_behind_the_feed_s_truncation_says_it_missed_some() {
        let store = Store::open_temporary().expect("store");
        let mut feed = MessageFeed::from_now(&store);
        store.users().create(user("ann", "")).expect("ann");
        store.users().create(user("bob", "")).expect("bob");
        store.truncate_changes(store.last_seq()).expect("truncate");
        let page = feed.next(Duration::from_millis(10), 100).expect("read");
        assert!(page.missed);
        assert!(page.posted.is_empty());
        let page = feed.next(Duration::from_millis(10), 100).expect("read");
        assert_eq!(page, FeedPage::default(), "caught up");
    }
}
