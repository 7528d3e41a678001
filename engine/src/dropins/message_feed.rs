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
    /// reader got to them, or a new message's row could not be read (it is
    /// logged and passed): messages may have been missed, and whoever hands
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
    /// run it on a thread of its own. A message whose row cannot be read
    /// (an error other than its removal) is logged and passed, and the page
    /// says it `missed` some, so that one bad row cannot hold the reader on
    /// the same entries for ever. After an error reading the feed itself
    /// nothing counts as read, and the next call reads the same entries again.
    pub fn next(&mut self, wait: Duration, batch: usize) -> Result<FeedPage> {
        let last = self.store.wait_for_changes(self.applied, wait);
        if last <= self.applied {
            return Ok(FeedPage::default());
        }
        let changes = self.store.changes_since(self.applied, batch.max(1))?;
        let mut missed = changes
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
        let posted = match posted_by_id(&self.store, &ids) {
            Ok(posted) => posted,
            Err(_) => {
                let (posted, unreadable) = self.posted_one_by_one(&ids);
                missed |= unreadable;
                posted
            }
        };
        self.applied = changes.last().map_or(last, |change| change.seq);
        self.newest = newest;
        Ok(FeedPage { posted, missed })
    }

    /// The messages `ids` name, read one at a time after reading them
    /// together failed: each that cannot be read is logged (its id, never
    /// its text) and left out. Answers whether any was left out so.
    fn posted_one_by_one(&self, ids: &[DropinMessageId]) -> (Vec<Posted>, bool) {
        let mut posted = Vec::with_capacity(ids.len());
        let mut unreadable = false;
        for id in ids {
            match posted_by_id(&self.store, std::slice::from_ref(id)) {
                Ok(one) => posted.extend(one),
                Err(err) => {
                    tracing::warn!(
                        message_id = %id,
                        error = %err,
                        "a drop-in message cannot be read; passing it, rooms read the store again"
                    );
                    unreadable = true;
                }
            }
        }
        (posted, unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dropins::{
        Joining, Member, MemberProof, NewDropin, NewMessage, join_dropin, member_by, open_dropin,
        post_message, remove_message,
    };
    use crate::store::TreeId;
    use crate::test_rows::user;

    /// The host and a guest of a drop-in opened in `store`.
    fn host_and_guest(store: &Store) -> (Member, Member) {
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
        let session = open_dropin(store, host.id, &new).expect("open");
        let joining = Joining {
            code: session.session_code.as_str().to_owned(),
            user: None,
            display_name: Some("Guest".to_owned()),
        };
        let joined = join_dropin(store, &joining).expect("join");
        let guest = member_by(store, session.id, MemberProof::Pass(&joined.token)).expect("guest");
        let host_token = crate::dropins::tests::sign_in(store, host.id);
        let host = member_by(store, session.id, MemberProof::Token(&host_token)).expect("host");
        (host, guest)
    }

    fn comment(text: &str) -> NewMessage {
        NewMessage {
            message_type: droply_models::DropinMessageType::Comment,
            content: text.to_owned(),
            reply_to: None,
        }
    }

    /// Writes `value` under `key` in the tree `tree` of the sled store at
    /// `path`, bypassing the store (which is closed), as damage on disk would.
    fn write_raw(path: &std::path::Path, tree: TreeId, key: &[u8], value: &[u8]) {
        let started = std::time::Instant::now();
        // The closed store's flusher may hold sled's file lock a moment longer.
        let db = loop {
            match sled::Config::new().path(path).open() {
                Ok(db) => break db,
                Err(err) if started.elapsed() > Duration::from_secs(10) => {
                    panic!("opening the sled store: {err}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        db.open_tree(tree.name())
            .expect("tree")
            .insert(key, value)
            .expect("write");
        db.flush().expect("flush");
    }

    /// Every message stored after the reader started comes once, in id
    /// order, a removal's notice included but not the removed message again.
    #[test]
    fn the_feed_answers_each_new_message_once_in_id_order() {
        let store = Store::open_temporary().expect("store");
        let (host_member, guest) = host_and_guest(&store);

        let mut feed = MessageFeed::from_now(&store);
        let wait = Duration::from_millis(10);
        assert_eq!(feed.next(wait, 100).expect("read"), FeedPage::default());
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

    /// One message row that cannot be read (not removed: damaged) used to
    /// fail the whole read, so the reader stayed where it was and read the
    /// same entries again for ever, and rooms got messages only as they
    /// caught up from the store. It is passed, and the page says it missed
    /// some so that rooms read the store again.
    #[test]
    fn an_unreadable_message_row_is_passed_and_reported_missed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store");
        let (before, ids) = {
            let store = Store::open(&path).expect("open");
            let (_, guest) = host_and_guest(&store);
            let before = store.last_seq();
            let ids: Vec<_> = ["one", "two", "three"]
                .into_iter()
                .map(|text| {
                    post_message(&store, &guest, comment(text))
                        .expect("post")
                        .message
                        .id
                })
                .collect();
            (before, ids)
        };
        // A checksummed envelope (0xC5) whose checksum does not match.
        let damaged: [u8; 8] = [0xC5, 0, 0, 0, 0, 1, 2, 3];
        write_raw(
            &path,
            EntityKind::DropinMessage.tree(),
            &ids[1].get().to_be_bytes(),
            &damaged,
        );
        let store = Store::open(&path).expect("reopen");
        assert!(
            matches!(
                store.dropin_messages().find(ids[1]),
                Err(crate::Error::Corrupt(_))
            ),
            "the second message's row is unreadable"
        );

        let mut feed = MessageFeed {
            store: store.clone(),
            applied: before,
            newest: 0,
        };
        let wait = Duration::from_millis(10);
        let page = feed
            .next(wait, 100)
            .expect("a bad row does not fail the read");
        assert!(page.missed, "rooms must read the store again");
        let got: Vec<_> = page.posted.iter().map(|p| p.message.id).collect();
        assert_eq!(got, vec![ids[0], ids[2]], "the readable ones, in order");
        assert_eq!(
            feed.next(wait, 100).expect("read"),
            FeedPage::default(),
            "the reader moved past it"
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
