//! Drop-in Q&A sessions, participants and messages as records: sessions by
//! host, the open ones (for search) and by unique session code; participants by session, by user
//! and, while in their room, among the seated of their session; messages by
//! session in id order (the order a room delivers them in). Message rows of
//! format 1 (before answers and removals) are read as format 2 with neither.

use droply_models::{
    DropinMessage, DropinMessageId, DropinMessageType, DropinParticipant, DropinParticipantId,
    DropinSession, DropinSessionId, SessionCode, Timestamp, UserId,
};
use serde::Deserialize;

use super::Repo;
use super::repo::Deletable;
use crate::Result;
use crate::store::{
    Cursor, EntityKind, IndexEntry, IndexName, KeyBuilder, Page, PageRequest, Record, UniqueEntry,
    UniqueName,
};

impl Record for DropinSession {
    type Id = DropinSessionId;
    const KIND: EntityKind = EntityKind::DropinSession;
    record_basics!(DropinSessionId);

    fn index_entries(&self) -> Vec<IndexEntry> {
        let mut entries = vec![IndexEntry::owner_at(
            IndexName::DropinsByHost,
            self.host_id.get(),
            self.created_at,
        )];
        if self.is_active && self.ended_at.is_none() {
            entries.push(IndexEntry {
                index: IndexName::OpenDropins,
                prefix: Vec::new(),
            });
        }
        entries
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::SessionCode,
            key: self.session_code.as_str().as_bytes().to_vec(),
            shown: self.session_code.as_str().to_owned(),
        }]
    }
}

impl Record for DropinParticipant {
    type Id = DropinParticipantId;
    const KIND: EntityKind = EntityKind::DropinParticipant;
    record_basics!(DropinParticipantId);

    fn index_entries(&self) -> Vec<IndexEntry> {
        let mut entries = vec![IndexEntry::owner_at(
            IndexName::ParticipantsBySession,
            self.session_id.get(),
            self.joined_at,
        )];
        if let Some(user) = self.user_id {
            entries.push(IndexEntry {
                index: IndexName::ParticipantsByUser,
                prefix: user.to_be_bytes().to_vec(),
            });
        }
        if self.is_active {
            entries.push(IndexEntry {
                index: IndexName::SeatedParticipants,
                prefix: self.session_id.to_be_bytes().to_vec(),
            });
        }
        entries
    }
}

impl Deletable for DropinParticipant {}

impl Record for DropinMessage {
    type Id = DropinMessageId;
    const KIND: EntityKind = EntityKind::DropinMessage;
    const FORMAT: u8 = 2;
    record_basics!(DropinMessageId);

    fn upgrade(format: u8, payload: &[u8]) -> Result<Self> {
        if format != 1 {
            return Err(crate::Error::Corrupt(format!(
                "drop-in message row has unknown format {format}"
            )));
        }
        let old: DropinMessageV1 = crate::store::codec::decode_payload(payload)?;
        Ok(DropinMessage {
            id: old.id,
            session_id: old.session_id,
            participant_id: old.participant_id,
            message_type: old.message_type,
            content: old.content,
            is_anonymous: old.is_anonymous,
            created_at: old.created_at,
            reply_to: None,
            removed_at: None,
        })
    }

    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![IndexEntry {
            index: IndexName::MessagesBySession,
            prefix: self.session_id.to_be_bytes().to_vec(),
        }]
    }
}

/// A message row as format 1 wrote it.
#[derive(Deserialize)]
struct DropinMessageV1 {
    id: DropinMessageId,
    session_id: DropinSessionId,
    participant_id: DropinParticipantId,
    message_type: DropinMessageType,
    content: String,
    is_anonymous: bool,
    created_at: Timestamp,
}

impl Deletable for DropinMessage {}

impl Repo<'_, DropinSession> {
    /// The sessions `host` created, in time order.
    pub fn by_host(&self, host: UserId, page: &PageRequest) -> Result<Page<DropinSession>> {
        self.by_index(IndexName::DropinsByHost, &host.to_be_bytes(), page)
    }

    /// One page of the sessions not yet ended (upcoming or live), oldest first.
    pub fn open(&self, page: &PageRequest) -> Result<Page<DropinSession>> {
        self.by_index(IndexName::OpenDropins, &[], page)
    }

    /// The session with this code, if any.
    pub fn by_code(&self, code: &SessionCode) -> Result<Option<DropinSession>> {
        match self
            .store
            .lookup_unique(UniqueName::SessionCode, code.as_str().as_bytes())?
        {
            Some(raw) => self.find(DropinSessionId::new(raw)),
            None => Ok(None),
        }
    }
}

impl Repo<'_, DropinParticipant> {
    /// The participants of `session`, in join order.
    pub fn by_session(
        &self,
        session: DropinSessionId,
        page: &PageRequest,
    ) -> Result<Page<DropinParticipant>> {
        self.by_index(
            IndexName::ParticipantsBySession,
            &session.to_be_bytes(),
            page,
        )
    }
}

impl Repo<'_, DropinMessage> {
    /// The messages of `session`, in id order (the order they were sent).
    pub fn by_session(
        &self,
        session: DropinSessionId,
        page: &PageRequest,
    ) -> Result<Page<DropinMessage>> {
        self.by_index(IndexName::MessagesBySession, &session.to_be_bytes(), page)
    }

    /// Up to `limit` messages of `session` sent after message `after`, in id
    /// order: what a reconnecting client missed.
    pub fn after(
        &self,
        session: DropinSessionId,
        after: DropinMessageId,
        limit: usize,
    ) -> Result<Page<DropinMessage>> {
        let cursor = KeyBuilder::new()
            .u64(session.get())
            .u64(after.get())
            .build();
        let page = PageRequest {
            limit,
            after: Some(Cursor(cursor)),
            ..PageRequest::default()
        };
        self.by_session(session, &page)
    }
}
