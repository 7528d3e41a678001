//! Drop-in Q&A sessions, participants and messages as records: sessions by
//! host and unique session code; participants and messages by session.

use droply_models::{
    DropinMessage, DropinMessageId, DropinParticipant, DropinParticipantId, DropinSession,
    DropinSessionId, SessionCode, UserId,
};

use super::Repo;
use super::repo::Deletable;
use crate::Result;
use crate::store::{
    EntityKind, IndexEntry, IndexName, Page, PageRequest, Record, UniqueEntry, UniqueName,
};

impl Record for DropinSession {
    type Id = DropinSessionId;
    const KIND: EntityKind = EntityKind::DropinSession;
    record_basics!(DropinSessionId);

    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![IndexEntry::owner_at(
            IndexName::DropinsByHost,
            self.host_id.get(),
            self.created_at,
        )]
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
        vec![IndexEntry::owner_at(
            IndexName::ParticipantsBySession,
            self.session_id.get(),
            self.joined_at,
        )]
    }
}

impl Deletable for DropinParticipant {}

impl Record for DropinMessage {
    type Id = DropinMessageId;
    const KIND: EntityKind = EntityKind::DropinMessage;
    record_basics!(DropinMessageId);

    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![IndexEntry::owner_at(
            IndexName::MessagesBySession,
            self.session_id.get(),
            self.created_at,
        )]
    }
}

impl Deletable for DropinMessage {}

impl Repo<'_, DropinSession> {
    /// The sessions `host` created, in time order.
    pub fn by_host(&self, host: UserId, page: &PageRequest) -> Result<Page<DropinSession>> {
        self.by_index(IndexName::DropinsByHost, &host.to_be_bytes(), page)
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
    /// The messages of `session`, in time order.
    pub fn by_session(
        &self,
        session: DropinSessionId,
        page: &PageRequest,
    ) -> Result<Page<DropinMessage>> {
        self.by_index(IndexName::MessagesBySession, &session.to_be_bytes(), page)
    }
}
