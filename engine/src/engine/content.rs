//! The engine's content use cases: a creator makes, edits, uploads,
//! publishes, archives and deletes content; anyone sees what is published
//! (views counted once a day per viewer); buyers buy it through the
//! payments path and download it; a creator refunds a purchase. The rules
//! live in [`crate::content`]; file limits are the engine's configuration.

use std::fs::File;
use std::io::Read;

use droply_models::{
    Content, ContentId, ContentPurchase, ContentPurchaseId, FileMeta, User, UserId,
};

use super::Engine;
use crate::content::{
    self, ContentEdit, ContentReads, FileRole, NewContent, StatusChange, Viewer, by_media_type,
};
use crate::payments::{Attempt, PaymentStart, send_refund, start_purchase_payment};
use crate::store::IndexName;
use crate::{Error, Page, PageRequest, Result};

/// Content as a viewer sees it: the row, its creator's public name, and
/// whether the viewer may download it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentDetails {
    /// The content.
    pub content: Content,
    /// The creator's public name ("Carl P.").
    pub creator_name: String,
    /// Whether the viewer is its creator or holds a purchase of it.
    pub can_download: bool,
}

/// A purchase as its start answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentBought {
    /// The purchase.
    pub purchase: ContentPurchase,
    /// What it buys.
    pub content: Content,
    /// False when an open purchase of the same buyer was returned.
    pub created: bool,
    /// What the buyer needs to pay (content with a price, not yet paid).
    pub payment: Option<PaymentStart>,
}

/// A stored file opened for sending.
#[derive(Debug)]
pub struct ContentFile {
    /// The open file.
    pub file: File,
    /// Its type, size and hash.
    pub meta: FileMeta,
    /// The name to offer it under (from the title, never the client's).
    pub download_name: String,
}

impl Engine {
    /// `creator`'s new draft.
    pub fn create_content(&self, creator: UserId, new: NewContent) -> Result<Content> {
        self.store().write(|txn| content::create(txn, creator, new))
    }

    /// `creator` edits content `id`.
    pub fn edit_content(
        &self,
        id: ContentId,
        creator: UserId,
        edit: ContentEdit,
    ) -> Result<Content> {
        self.store()
            .write(|txn| content::edit(txn, id, creator, edit))
    }

    /// `creator` publishes, unpublishes or archives content `id`.
    pub fn change_content_status(
        &self,
        id: ContentId,
        creator: UserId,
        change: StatusChange,
    ) -> Result<Content> {
        self.store()
            .write(|txn| content::change_status(txn, id, creator, change))
    }

    /// `creator` deletes content `id` nobody bought; its files go after
    /// the row.
    pub fn delete_content(&self, id: ContentId, creator: UserId) -> Result<()> {
        let deleted = self
            .store()
            .write(|txn| content::delete(txn, id, creator))?;
        let files = &self.inner.content_files;
        [Some(deleted.file_path), deleted.preview_path]
            .into_iter()
            .flatten()
            .filter(|path| !path.is_empty())
            .for_each(|path| files.remove(&path));
        Ok(())
    }

    /// `creator` uploads content `id`'s file or preview from `body` (the
    /// client announced `declared` bytes, if it did).
    pub fn upload_content(
        &self,
        (id, creator, role): (ContentId, UserId, FileRole),
        declared: Option<u64>,
        body: &mut dyn Read,
    ) -> Result<Content> {
        content::upload(
            self.store(),
            &self.inner.content_files,
            &self.inner.content,
            (id, creator, role),
            declared,
            body,
        )
    }

    /// Content `id` as `viewer` (signed in or not, seen as `seen_as`) may
    /// see it, counting the view once a day (creators' own views do not
    /// count).
    pub fn view_content(
        &self,
        id: ContentId,
        viewer: Option<UserId>,
        seen_as: Viewer,
    ) -> Result<ContentDetails> {
        let mut found = content::visible(self.store(), id, viewer)?;
        if found.is_published()
            && viewer != Some(found.user_id)
            && let Some(counted) =
                self.inner
                    .content_views
                    .count(id, seen_as, droply_models::Timestamp::now())?
        {
            found = counted;
        }
        self.details(found, viewer)
    }

    fn details(&self, content: Content, viewer: Option<UserId>) -> Result<ContentDetails> {
        let creator: User = self.store().require(content.user_id)?;
        let can_download = match viewer {
            Some(viewer) if viewer == content.user_id => true,
            Some(viewer) => content::holds(self.store(), viewer, content.id)?,
            None => false,
        };
        Ok(ContentDetails {
            creator_name: creator.public_name(),
            content,
            can_download,
        })
    }

    /// `creator`'s content as `viewer` may see it, oldest first: all of it
    /// for the creator, what is published for anyone else.
    pub fn content_of(
        &self,
        creator: UserId,
        viewer: Option<UserId>,
        page: &PageRequest,
    ) -> Result<Page<ContentDetails>> {
        let own = viewer == Some(creator);
        self.listing(creator, viewer, page, |row| own || row.is_published())
    }

    /// `creator`'s published content, oldest first, with what `viewer` may
    /// do with each: the public profile's list, which is the same for the
    /// creator (their drafts once filled the page and hid it from them).
    pub fn published_content_of(
        &self,
        creator: UserId,
        viewer: Option<UserId>,
        page: &PageRequest,
    ) -> Result<Page<ContentDetails>> {
        self.listing(creator, viewer, page, Content::is_published)
    }

    /// One page of `creator`'s content that `keep` keeps, for `viewer`.
    fn listing(
        &self,
        creator: UserId,
        viewer: Option<UserId>,
        page: &PageRequest,
        keep: impl Fn(&Content) -> bool,
    ) -> Result<Page<ContentDetails>> {
        let store = self.store();
        let prefix = creator.to_be_bytes();
        let mut items = Vec::new();
        let mut request = page.clone();
        loop {
            request.limit = page.limit.saturating_sub(items.len()).max(1);
            let got =
                store.list_index::<Content>(IndexName::ContentByCreator, &prefix, &request)?;
            for row in got.items {
                if keep(&row) {
                    items.push(self.details(row, viewer)?);
                }
            }
            match got.next {
                Some(cursor) if items.len() < page.limit => {
                    request = request.after(Some(cursor));
                }
                next => return Ok(Page { items, next }),
            }
        }
    }

    /// `buyer` buys content `id`: free content is theirs at once; content
    /// with a price gets a PaymentIntent (its client secret in `payment`)
    /// and becomes theirs when the payment succeeds. A purchase whose
    /// payment is still open is returned again (`created: false`); one
    /// whose PaymentIntent Stripe reports paid before its webhook arrived
    /// is recorded paid by the webhook's rule and returned theirs, with no
    /// `payment` (see `start_purchase_payment`).
    pub fn buy_content(&self, id: ContentId, buyer: UserId) -> Result<ContentBought> {
        let terms = self.payments().terms();
        let (purchase, created) = self
            .store()
            .write(|txn| content::begin_purchase(txn, buyer, id, &terms))?;
        let attempt = if created {
            Attempt::First
        } else {
            Attempt::Repeat
        };
        let payment = start_purchase_payment(
            self.payments(),
            self.store(),
            self.slot_policy(),
            &purchase,
            attempt,
        )?;
        let purchase: ContentPurchase = self.store().require(purchase.id)?;
        let content = self.store().require(purchase.content_id)?;
        Ok(ContentBought {
            purchase,
            content,
            created,
            payment,
        })
    }

    /// `buyer`'s purchases with what they bought, oldest first.
    pub fn purchases_of(
        &self,
        buyer: UserId,
        page: &PageRequest,
    ) -> Result<Page<(ContentPurchase, Content)>> {
        let got = self.store().content_purchases().by_buyer(buyer, page)?;
        let items = got
            .items
            .into_iter()
            .map(|purchase| {
                let content: Content = self.store().require(purchase.content_id)?;
                Ok((purchase, content))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            next: got.next,
        })
    }

    /// Content `id`'s file for `user`, its creator or a buyer holding it;
    /// `NotFound` for anyone else.
    pub fn open_content_file(&self, id: ContentId, user: UserId) -> Result<ContentFile> {
        let store = self.store();
        let found = store.content(id)?.filter(|row| row.has_file());
        let allowed = match &found {
            Some(row) => row.user_id == user || content::holds(store, user, id)?,
            None => false,
        };
        match found {
            Some(row) if allowed => self.open_stored(&row, FileRole::File),
            _ => Err(not_found(id)),
        }
    }

    /// Content `id`'s preview for `viewer`: public while it is published.
    pub fn open_content_preview(
        &self,
        id: ContentId,
        viewer: Option<UserId>,
    ) -> Result<ContentFile> {
        let found = content::visible(self.store(), id, viewer)?;
        if found.preview_meta.is_none() {
            return Err(not_found(id));
        }
        self.open_stored(&found, FileRole::Preview)
    }

    /// `row`'s `role` file, opened. A replacement may commit between the
    /// read of `row` and the open, and remove the file `row` names: then
    /// the row is read once more and the file it names now is opened.
    fn open_stored(&self, row: &Content, role: FileRole) -> Result<ContentFile> {
        if let Some(file) = self.try_open_stored(row, role)? {
            return Ok(file);
        }
        let Some(fresh) = self.store().content(row.id)? else {
            // Deleted meanwhile, its files with it.
            return Err(not_found(row.id));
        };
        if stored_path(&fresh, role) != stored_path(row, role)
            && let Some(file) = self.try_open_stored(&fresh, role)?
        {
            return Ok(file);
        }
        tracing::warn!(content = %row.id, "a recorded content file is missing");
        Err(not_found(row.id))
    }

    /// `row`'s `role` file, opened; `None` when the file it names is not
    /// there.
    fn try_open_stored(&self, row: &Content, role: FileRole) -> Result<Option<ContentFile>> {
        let meta = match role {
            FileRole::File => row.file_meta.as_ref(),
            FileRole::Preview => row.preview_meta.as_ref(),
        };
        let (Some(path), Some(meta)) = (stored_path(row, role), meta) else {
            return Err(not_found(row.id));
        };
        let extension = by_media_type(&meta.media_type).map_or("bin", |t| t.extension);
        let suffix = if role == FileRole::Preview {
            "-preview"
        } else {
            ""
        };
        let file = match self.inner.content_files.open_file(path) {
            Err(Error::Io(err)) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            other => other?,
        };
        Ok(Some(ContentFile {
            file,
            meta: meta.clone(),
            download_name: format!("{}{suffix}.{extension}", file_stem(&row.title)),
        }))
    }

    /// The creator of its content refunds purchase `id` in full; the
    /// buyer's right goes when Stripe accepts the refund.
    pub fn refund_content_purchase(
        &self,
        id: ContentPurchaseId,
        creator: UserId,
    ) -> Result<ContentPurchase> {
        let order = self
            .store()
            .write(|txn| content::refund_purchase(txn, id, creator))?;
        send_refund(self.payments(), self.store(), order)?;
        self.store().require(id)
    }
}

/// The path `row` records for its `role` file, if any.
fn stored_path(row: &Content, role: FileRole) -> Option<&str> {
    match role {
        FileRole::File => Some(row.file_path.as_str()),
        FileRole::Preview => row.preview_path.as_deref(),
    }
}

fn not_found(id: ContentId) -> Error {
    Error::NotFound {
        entity: "content",
        id: id.get(),
    }
}

/// A file name from a title: letters, digits and dashes, at most 80
/// characters ("Async Rust: the guide" → "Async-Rust-the-guide").
fn file_stem(title: &str) -> String {
    let mut stem = String::new();
    for word in title.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !stem.is_empty() {
            stem.push('-');
        }
        stem.push_str(word);
        if stem.chars().count() >= 80 {
            break;
        }
    }
    let stem: String = stem.chars().take(80).collect();
    if stem.is_empty() {
        "content".to_owned()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use droply_models::{ContentType, Currency, Money};

    use super::*;
    use crate::EngineConfig;

    /// Regression: a download that read the row before a replacement of
    /// the file committed opened the file the replacement had removed, and
    /// answered `NotFound` (logging that a recorded file was missing).
    #[test]
    fn a_download_racing_a_file_replacement_opens_the_new_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let engine = Engine::open(EngineConfig::new(dir.path())).expect("engine");
        let ann = engine
            .store()
            .write(|txn| txn.create(crate::test_rows::user("ann", "")))
            .expect("ann");
        let new = NewContent {
            title: "A guide".to_owned(),
            description: String::new(),
            content_type: ContentType::Document,
            price: Money::zero(Currency::EUR),
            category_id: None,
        };
        let guide = engine.create_content(ann.id, new).expect("content");
        let upload = |mut bytes: &[u8]| {
            engine
                .upload_content((guide.id, ann.id, FileRole::File), None, &mut bytes)
                .expect("upload")
        };
        upload(&b"%PDF-1.7 the first edition"[..]);
        // The download reads the row; the replacement commits and removes
        // the file that row names; the download opens the file.
        let stale = engine
            .store()
            .content(guide.id)
            .expect("read")
            .expect("the row");
        let replaced = upload(&b"%PDF-1.7 the second edition"[..]);
        assert_ne!(replaced.file_path, stale.file_path);
        let mut opened = engine
            .open_stored(&stale, FileRole::File)
            .expect("the new file");
        let mut bytes = Vec::new();
        opened.file.read_to_end(&mut bytes).expect("read");
        assert_eq!(bytes, b"%PDF-1.7 the second edition");
        assert_eq!(Some(opened.meta), replaced.file_meta);
        engine.shutdown().expect("shutdown");
    }

    #[test]
    fn titles_make_safe_file_names() {
        assert_eq!(file_stem("Async Rust: the guide"), "Async-Rust-the-guide");
        assert_eq!(file_stem("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_stem("Größe & Maß"), "Größe-Maß");
        assert_eq!(file_stem("!!!"), "content");
        assert_eq!(file_stem(&"a".repeat(300)).len(), 80);
    }
}
