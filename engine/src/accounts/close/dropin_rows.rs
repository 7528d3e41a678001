//! What a closing does to the drop-in rows that hold the user. A
//! participant row holds their account (`user_id`) and, where they
//! appeared without it, the name they typed to join (`anonymous_name`); a
//! message holds only the row it was written from, and the room shows its
//! author from that row (and, in a named drop-in, from the account). The
//! closing's write ([`close`]) goes through each row of theirs, in every
//! drop-in, open or over ([`participant_rows_of`] finds them before that
//! write, by the index of participants by user). A row they joined with
//! leaves (its seat frees, its pass opens nothing), is detached from the
//! account and takes the name [`User::CLOSED_NAME`] in place of the one
//! they typed, so the room shows what they wrote as by "Closed account",
//! with no user id,
//! in a named drop-in as in an anonymous one; those messages are marked as
//! shown without a name, and the text of those the host removed (never
//! shown again) is erased. The text of the others stays: it is the room's
//! history (questions others answered, answers others read). Their row as
//! a drop-in's host keeps its link, as the drop-in keeps its host
//! (`host_id`): their answers stay the host's, under the closed account's
//! name. A row made while the closing ran (a join between that read and the
//! write) is scrubbed the same way by [`leave_open_dropins`], after the
//! write, once nothing can sign them in again.

use std::collections::BTreeMap;

use droply_models::{
    DropinMessage, DropinParticipant, DropinParticipantId, DropinSession, DropinSessionId,
};

use super::*;
use crate::store::MAX_PAGE_SIZE;

/// The text a closed account's message keeps once the host removed it:
/// a removed message is never shown again, so it need not keep theirs.
const ERASED_TEXT: &str = "erased";

/// The ids of the participant rows that hold `user` (`user_id`), in every
/// drop-in, open or over, as its host or not.
pub(super) fn participant_rows_of(store: &Store, user: UserId) -> Result<Vec<DropinParticipantId>> {
    let mut rows = Vec::new();
    each_row_of(store, user, |row| {
        rows.push(row.id);
        false
    })?;
    Ok(rows)
}

/// Calls `visit` with each participant row holding `user`, read page by
/// page from the index of participants by user outside any write, until
/// it answers true; whether one did.
fn each_row_of(
    store: &Store,
    user: UserId,
    mut visit: impl FnMut(&DropinParticipant) -> bool,
) -> Result<bool> {
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let got = store.list_index::<DropinParticipant>(
            IndexName::ParticipantsByUser,
            &user.to_be_bytes(),
            &page,
        )?;
        for row in got.items.iter().filter(|row| row.user_id == Some(user)) {
            if visit(row) {
                return Ok(true);
            }
        }
        match got.next {
            Some(cursor) => page = PageRequest::first(MAX_PAGE_SIZE).after(Some(cursor)),
            None => return Ok(false),
        }
    }
}

/// Inside the closing's write, after the drop-ins `user` hosts have ended:
/// those of `rows` that still hold `user` are scrubbed, drop-in by drop-in
/// ([`scrub_in`]); how many rows changed.
pub(super) fn scrub_dropin_rows(
    txn: &mut Txn<'_>,
    user: UserId,
    rows: &[DropinParticipantId],
) -> Result<usize> {
    let mut by_session: BTreeMap<DropinSessionId, Vec<DropinParticipant>> = BTreeMap::new();
    for id in rows {
        if let Some(row) = txn.get::<DropinParticipant>(*id)?
            && row.user_id == Some(user)
        {
            by_session.entry(row.session_id).or_default().push(row);
        }
    }
    let mut scrubbed = 0;
    for (session, rows) in by_session {
        scrubbed += scrub_in(txn, session, user, rows)?;
    }
    Ok(scrubbed)
}

/// Scrubs, drop-in by drop-in, the rows that still hold `user` in the open
/// drop-ins they do not host: rows made while the closing ran, which its
/// write did not see (an active one leaves, so their passes open nothing
/// and their seats free). Run after [`close`], once nothing can sign them
/// in or let them join as themselves; reads the open drop-ins page by page
/// and writes only where they are; how many rows changed.
pub fn leave_open_dropins(store: &Store, user: UserId) -> Result<usize> {
    let mut scrubbed = 0;
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let open = store.list_index::<DropinSession>(IndexName::OpenDropins, &[], &page)?;
        for session in &open.items {
            if session.host_id != user && holds(store, session, user)? {
                scrubbed += store.write(|txn| {
                    let rows: Vec<DropinParticipant> = txn
                        .list_index::<DropinParticipant>(
                            IndexName::ParticipantsByUser,
                            &user.to_be_bytes(),
                        )?
                        .into_iter()
                        .filter(|row| row.session_id == session.id && row.user_id == Some(user))
                        .collect();
                    scrub_in(txn, session.id, user, rows)
                })?;
            }
        }
        match open.next {
            Some(cursor) => page = PageRequest::first(MAX_PAGE_SIZE).after(Some(cursor)),
            None => return Ok(scrubbed),
        }
    }
}

/// Whether a participant row of `session` holds `user`.
fn holds(store: &Store, session: &DropinSession, user: UserId) -> Result<bool> {
    each_row_of(store, user, |row| row.session_id == session.id)
}

/// Scrubs `rows`, `user`'s participant rows of drop-in `id`, inside `txn`.
/// Unless `user` hosts it, each row leaves if still active (its seat
/// frees), loses its link to the account and is named
/// [`User::CLOSED_NAME`], and the messages written from them are scrubbed
/// ([`scrub_messages`]). Their row as host keeps its link (the drop-in
/// names its host, and the room shows the host's messages as the host's);
/// only a name typed on it would go. How many rows changed.
fn scrub_in(
    txn: &mut Txn<'_>,
    id: DropinSessionId,
    user: UserId,
    rows: Vec<DropinParticipant>,
) -> Result<usize> {
    let mut session: DropinSession = txn.require(id)?;
    let hosts = session.host_id == user;
    let now = txn.now();
    let mut left = 0_u32;
    let mut detached: BTreeSet<DropinParticipantId> = BTreeSet::new();
    let mut changed = 0;
    for mut row in rows {
        if row.user_id != Some(user) {
            continue;
        }
        if hosts {
            if row.anonymous_name.is_none() {
                continue;
            }
            row.anonymous_name = Some(User::CLOSED_NAME.to_owned());
        } else {
            if row.is_active {
                row.is_active = false;
                row.left_at = Some(now.max(row.joined_at));
                left += 1;
            }
            row.user_id = None;
            row.anonymous_name = Some(User::CLOSED_NAME.to_owned());
            detached.insert(row.id);
        }
        txn.update(row)?;
        changed += 1;
    }
    if left > 0 {
        session.current_participants = session.current_participants.saturating_sub(left);
        txn.update(session)?;
    }
    if !detached.is_empty() {
        scrub_messages(txn, id, &detached)?;
    }
    Ok(changed)
}

/// The messages of drop-in `id` written from `rows` (rows just detached
/// from a closed account), inside `txn`: each is marked as shown without
/// its author's name, as it now is, and one the host removed loses its
/// text ([`ERASED_TEXT`]). The others keep theirs. How many changed.
fn scrub_messages(
    txn: &mut Txn<'_>,
    id: DropinSessionId,
    rows: &BTreeSet<DropinParticipantId>,
) -> Result<usize> {
    let messages: Vec<DropinMessage> =
        txn.list_index(IndexName::MessagesBySession, &id.to_be_bytes())?;
    let mut changed = 0;
    for mut message in messages {
        if !rows.contains(&message.participant_id) {
            continue;
        }
        let erase = message.removed_at.is_some() && message.content != ERASED_TEXT;
        if message.is_anonymous && !erase {
            continue;
        }
        message.is_anonymous = true;
        if erase {
            message.content = ERASED_TEXT.to_owned();
        }
        txn.update(message)?;
        changed += 1;
    }
    Ok(changed)
}
