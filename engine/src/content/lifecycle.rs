//! A content item's life: created as a draft by its creator, edited, given
//! its file and preview, published (only with a file, and, when it has a
//! price, only at one Stripe can charge and by a creator Stripe can pay),
//! unpublished back to a draft, archived (off sale; buyers keep their
//! access), and deleted only while nobody has bought or started to buy it.
//! Who may see it: anyone while it is published, its creator always, a
//! buyer always; to anyone else it does not exist.

use droply_models::{
    Category, CategoryId, CategoryType, Content, ContentId, ContentStatus, ContentType, Money,
    StripeAccountStatus, User, UserId,
};

use super::purchases::holds;
use super::reads::ContentReads;
use crate::payments::{charge_refusal, check_chargeable};
use crate::store::{IndexName, RecordId, Txn};
use crate::{Error, Result};

/// What a creator fills in for new content.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContent {
    /// Title, 1 to 200 characters.
    pub title: String,
    /// Description, at most 5,000 characters.
    pub description: String,
    /// What kind of content it is.
    pub content_type: ContentType,
    /// Its price; zero is free.
    pub price: Money,
    /// An active content category, if any.
    pub category_id: Option<CategoryId>,
}

/// A change to content; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContentEdit {
    /// A new title.
    pub title: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new price (for future sales).
    pub price: Option<Money>,
    /// A new category (`Some(None)` clears it).
    pub category_id: Option<Option<CategoryId>>,
}

/// A move in content's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// On sale, found in search.
    Publish,
    /// Back to a draft only the creator sees.
    Unpublish,
    /// Off sale for good; buyers keep their access.
    Archive,
}

/// Whether `viewer` may see `content`: published, theirs, or bought.
pub fn visible_to(
    reads: &impl ContentReads,
    content: &Content,
    viewer: Option<UserId>,
) -> Result<bool> {
    if content.is_published() || viewer == Some(content.user_id) {
        return Ok(true);
    }
    match viewer {
        Some(viewer) => holds(reads, viewer, content.id),
        None => Ok(false),
    }
}

/// Content `id` as `viewer` may see it; `NotFound` when they may not.
pub fn visible(
    reads: &impl ContentReads,
    id: ContentId,
    viewer: Option<UserId>,
) -> Result<Content> {
    match reads.content(id)? {
        Some(content) if visible_to(reads, &content, viewer)? => Ok(content),
        _ => Err(not_found(id)),
    }
}

/// Content `id` for a change by `user`, who must be its creator: `NotFound`
/// when they may not see it, `Forbidden` when they may but it is not theirs.
pub fn owned(reads: &impl ContentReads, id: ContentId, user: UserId) -> Result<Content> {
    let content = visible(reads, id, Some(user))?;
    if content.user_id != user {
        return Err(Error::Forbidden(
            "only its creator may change content".to_owned(),
        ));
    }
    Ok(content)
}

fn not_found(id: ContentId) -> Error {
    Error::NotFound {
        entity: "content",
        id: id.raw(),
    }
}

/// The most content items one creator may hold, drafts, published and
/// archived alike (archived content is counted too: telling it apart needs
/// every row read, while the creator index counts without reading one). No
/// real creator makes this many; it bounds what one account can make every
/// list of theirs page through (one could otherwise write drafts at the
/// write rate limit, tens of thousands a day).
pub const MAX_CONTENT_PER_CREATOR: usize = 2_000;

/// Writes `creator`'s new draft; `LimitReached` when they already hold
/// [`MAX_CONTENT_PER_CREATOR`] items (counted in this write, so drafts
/// created at once cannot pass it together).
pub fn create(txn: &mut Txn<'_>, creator: UserId, new: NewContent) -> Result<Content> {
    check_price(&txn.require(creator)?, new.price)?;
    let held = txn.count_index(IndexName::ContentByCreator, &creator.to_be_bytes())?;
    if held >= MAX_CONTENT_PER_CREATOR {
        return Err(Error::LimitReached(format!(
            "at most {MAX_CONTENT_PER_CREATOR} content items per creator; delete one first"
        )));
    }
    if let Some(category) = new.category_id {
        check_category(txn, category)?;
    }
    let now = txn.now();
    txn.create(Content {
        id: ContentId::new(0),
        user_id: creator,
        title: new.title.trim().to_owned(),
        description: new.description.trim().to_owned(),
        content_type: new.content_type,
        price: new.price,
        file_path: String::new(),
        file_size: 0,
        thumbnail_path: None,
        preview_available: false,
        preview_path: None,
        status: ContentStatus::Draft,
        views: 0,
        purchases: 0,
        earnings: Money::zero(new.price.currency),
        created_at: now,
        updated_at: now,
        category_id: new.category_id,
        file_meta: None,
        preview_meta: None,
    })
}

/// Applies `creator`'s `edit` to content `id`. A price in another currency
/// is refused once anyone bought or started to buy it (their payments are
/// in the old one).
pub fn edit(
    txn: &mut Txn<'_>,
    id: ContentId,
    creator: UserId,
    edit: ContentEdit,
) -> Result<Content> {
    let mut content = owned(txn, id, creator)?;
    if let Some(title) = edit.title {
        content.title = title.trim().to_owned();
    }
    if let Some(description) = edit.description {
        content.description = description.trim().to_owned();
    }
    if let Some(price) = edit.price {
        check_price(&txn.require(creator)?, price)?;
        if price.currency != content.earnings.currency {
            if txn.has_purchases(id)? {
                return Err(Error::InvalidState(
                    "the price's currency cannot change once someone bought (or is buying) it"
                        .to_owned(),
                ));
            }
            content.earnings = Money::zero(price.currency);
        }
        content.price = price;
        if content.is_published() {
            check_sellable(txn, &content)?;
        }
    }
    if let Some(category) = edit.category_id {
        if let Some(category) = category {
            check_category(txn, category)?;
        }
        content.category_id = category;
    }
    content.updated_at = txn.now();
    txn.update(content)
}

/// Moves content `id` of `creator` as `change` says.
pub fn change_status(
    txn: &mut Txn<'_>,
    id: ContentId,
    creator: UserId,
    change: StatusChange,
) -> Result<Content> {
    let mut content = owned(txn, id, creator)?;
    let next = match change {
        StatusChange::Publish => {
            if !content.has_file() {
                return Err(Error::InvalidState(
                    "upload the content's file before publishing it".to_owned(),
                ));
            }
            check_sellable(txn, &content)?;
            ContentStatus::Published
        }
        StatusChange::Unpublish => {
            if content.status == ContentStatus::Archived {
                return Err(Error::InvalidState(
                    "archived content is off sale already".to_owned(),
                ));
            }
            ContentStatus::Draft
        }
        StatusChange::Archive => ContentStatus::Archived,
    };
    if content.status == next {
        return Ok(content);
    }
    if next != ContentStatus::Published {
        super::purchases::give_up_open_purchases(txn, id)?;
    }
    content.status = next;
    content.updated_at = txn.now();
    txn.update(content)
}

/// Deletes content `id` of `creator` while nobody bought or is buying it;
/// the deleted row (its files are the caller's to remove after commit).
pub fn delete(txn: &mut Txn<'_>, id: ContentId, creator: UserId) -> Result<Content> {
    let content = owned(txn, id, creator)?;
    if txn.has_purchases(id)? {
        return Err(Error::ContentHasBuyers);
    }
    txn.delete::<Content>(id)?;
    Ok(content)
}

/// Priced content can be bought only at a price Stripe can charge
/// (`InvalidState`: content put on sale before that rule, say at USD 0.30,
/// is refused before any purchase is written or Stripe is called, where it
/// failed with 502) and only while its creator can be paid for it
/// (`PayoutsNotEnabled` while their Stripe account is restricted or
/// disabled, in words for the buyer), as it was put on sale only then
/// ([`check_sellable`]).
pub(super) fn check_buyable(txn: &Txn<'_>, content: &Content) -> Result<()> {
    if content.price.is_zero() {
        return Ok(());
    }
    if let Some(why) = charge_refusal(content.price) {
        return Err(Error::InvalidState(format!(
            "this content cannot be bought at its price of {}: {why}; its creator must set a new price",
            content.price
        )));
    }
    if can_be_paid(&txn.require(content.user_id)?) {
        return Ok(());
    }
    Err(Error::PayoutsNotEnabled(
        "its creator cannot be paid right now; try again later".to_owned(),
    ))
}

/// Whether Stripe can pay `creator` for a sale.
fn can_be_paid(creator: &User) -> bool {
    creator.stripe_account_status == StripeAccountStatus::Active
}

/// Content with a price needs a creator Stripe can pay.
fn check_sellable(txn: &Txn<'_>, content: &Content) -> Result<()> {
    if content.price.is_zero() {
        return Ok(());
    }
    let creator: User = txn.require(content.user_id)?;
    check_price(&creator, content.price)?;
    if !can_be_paid(&creator) {
        return Err(Error::PayoutsNotEnabled(
            "connect a Stripe account (POST /v1/payouts/onboarding) before selling content with a price"
                .to_owned(),
        ));
    }
    Ok(())
}

/// A price above zero must be in its creator's currency (their earnings are kept in
/// one; free content may name any) and an amount Stripe can charge: representable,
/// and within Stripe's least and greatest charge in that currency
/// ([`check_chargeable`]; a price of USD 0.30 went on sale and every purchase failed).
fn check_price(creator: &User, price: Money) -> Result<()> {
    if price.is_zero() {
        return Ok(());
    }
    if price.currency != creator.currency {
        return Err(Error::Invalid(format!(
            "price must be in your account's currency {}, not {}",
            creator.currency, price.currency
        )));
    }
    check_chargeable(price).map(|_| ())
}

/// `id` must be an active content category.
fn check_category(txn: &Txn<'_>, id: CategoryId) -> Result<()> {
    let category: Option<Category> = txn.get(id)?;
    match category {
        Some(c) if c.is_active && c.category_type == CategoryType::Content => Ok(()),
        _ => Err(Error::Invalid(format!(
            "category {id} is not an active content category"
        ))),
    }
}
