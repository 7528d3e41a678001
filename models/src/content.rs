//! Content for sale ([`Content`]) and its sales ([`ContentPurchase`]).

use serde::{Deserialize, Serialize};

use crate::text::{self, BIO_MAX, EXTERNAL_ID_MAX, TOPIC_MAX};
use crate::{
    CategoryId, ContentId, ContentPurchaseId, ContentStatus, ContentType, Error, Money,
    PaymentStatus, Result, Timestamp, UserId,
};

/// What a stored file is, read from its bytes when it was uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// The media type its first bytes show (`application/pdf`, `video/mp4`).
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
}

impl FileMeta {
    fn validate(&self, field: &'static str) -> Result<()> {
        let hex = self.sha256.len() == 64 && self.sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex || self.media_type.is_empty() {
            return Err(Error::invalid(field, "needs a media type and a SHA-256"));
        }
        Ok(())
    }
}

/// A piece of content a user sells (video, document, course, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    /// Primary key.
    pub id: ContentId,
    /// The creator.
    pub user_id: UserId,
    /// Title, 1–200 characters.
    pub title: String,
    /// Description, at most 5000 characters.
    pub description: String,
    /// What kind of content it is.
    pub content_type: ContentType,
    /// Price (zero means free, never negative).
    pub price: Money,
    /// Where the file is stored (opaque storage path; empty in a draft
    /// whose file is not uploaded yet).
    pub file_path: String,
    /// Size of the file in bytes.
    pub file_size: u64,
    /// Where the thumbnail is stored.
    pub thumbnail_path: Option<String>,
    /// Whether a free preview exists (then `preview_path` is set).
    pub preview_available: bool,
    /// Where the preview is stored.
    pub preview_path: Option<String>,
    /// Draft, published or archived.
    pub status: ContentStatus,
    /// How often it was viewed.
    pub views: u64,
    /// How often it was bought.
    pub purchases: u64,
    /// Total earned from it, in the price's currency.
    pub earnings: Money,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// The content category it is filed under.
    pub category_id: Option<CategoryId>,
    /// What the file is; set exactly when `file_path` is.
    pub file_meta: Option<FileMeta>,
    /// What the preview is; set exactly when `preview_path` is.
    pub preview_meta: Option<FileMeta>,
}

impl Content {
    /// Checks: title and description lengths, price and earnings not
    /// negative and in the same currency, a file (path and metadata) unless
    /// it is a draft, a preview path when a preview is offered, and
    /// `updated_at` not before `created_at`.
    pub fn validate(&self) -> Result<()> {
        text::check_required("title", &self.title, TOPIC_MAX)?;
        text::check_max("description", &self.description, BIO_MAX)?;
        if self.price.is_negative() {
            return Err(Error::invalid("price", "must not be negative"));
        }
        if self.earnings.currency != self.price.currency {
            return Err(Error::invalid(
                "earnings",
                "must be in the price's currency",
            ));
        }
        if self.earnings.is_negative() {
            return Err(Error::invalid("earnings", "must not be negative"));
        }
        text::check_max("file_path", &self.file_path, EXTERNAL_ID_MAX)?;
        match &self.file_meta {
            Some(meta) if !self.file_path.trim().is_empty() => {
                meta.validate("file_meta")?;
                if meta.size != self.file_size {
                    return Err(Error::invalid("file_size", "must be the file's size"));
                }
            }
            None if self.file_path.is_empty() => {
                if self.status != ContentStatus::Draft {
                    return Err(Error::invalid("file_path", "is required once published"));
                }
            }
            _ => {
                return Err(Error::invalid(
                    "file_meta",
                    "must be set exactly when file_path is",
                ));
            }
        }
        if self.preview_meta.is_some() != self.preview_path.is_some() {
            return Err(Error::invalid(
                "preview_meta",
                "must be set exactly when preview_path is",
            ));
        }
        if let Some(meta) = &self.preview_meta {
            meta.validate("preview_meta")?;
        }
        text::check_optional_required(
            "thumbnail_path",
            self.thumbnail_path.as_deref(),
            EXTERNAL_ID_MAX,
        )?;
        text::check_optional_required(
            "preview_path",
            self.preview_path.as_deref(),
            EXTERNAL_ID_MAX,
        )?;
        if self.preview_available && self.preview_path.is_none() {
            return Err(Error::invalid(
                "preview_path",
                "is required when a preview is available",
            ));
        }
        if self.updated_at < self.created_at {
            return Err(Error::invalid(
                "updated_at",
                "must not be before created_at",
            ));
        }
        Ok(())
    }

    /// Whether buyers can see and buy it.
    pub fn is_published(&self) -> bool {
        self.status == ContentStatus::Published
    }

    /// Whether its file has been uploaded.
    pub fn has_file(&self) -> bool {
        self.file_meta.is_some()
    }
}

/// One sale of a piece of content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentPurchase {
    /// Primary key.
    pub id: ContentPurchaseId,
    /// Who bought.
    pub buyer_id: UserId,
    /// What was bought.
    pub content_id: ContentId,
    /// What was paid (not negative).
    pub amount_paid: Money,
    /// State of the payment.
    pub payment_status: PaymentStatus,
    /// Stripe PaymentIntent id (`pi_...`).
    pub stripe_payment_intent_id: Option<String>,
    /// When the purchase was made.
    pub created_at: Timestamp,
}

impl ContentPurchase {
    /// Checks the amount is not negative and the Stripe id is non-blank.
    pub fn validate(&self) -> Result<()> {
        if self.amount_paid.is_negative() {
            return Err(Error::invalid("amount_paid", "must not be negative"));
        }
        text::check_optional_required(
            "stripe_payment_intent_id",
            self.stripe_payment_intent_id.as_deref(),
            EXTERNAL_ID_MAX,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn sample() -> Content {
        let now = Timestamp::now();
        Content {
            id: ContentId::new(1),
            user_id: UserId::new(1),
            title: "Rust in 10 minutes".into(),
            description: String::new(),
            content_type: ContentType::Video,
            price: Money::new(1900, Currency::EUR),
            file_path: "content/1/video.mp4".into(),
            file_size: 1 << 20,
            file_meta: Some(FileMeta {
                media_type: "video/mp4".into(),
                size: 1 << 20,
                sha256: "ab".repeat(32),
            }),
            category_id: None,
            preview_meta: None,
            thumbnail_path: None,
            preview_available: false,
            preview_path: None,
            status: ContentStatus::Draft,
            views: 0,
            purchases: 0,
            earnings: Money::zero(Currency::EUR),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn content_rules() {
        assert_eq!(sample().validate(), Ok(()));
        let mut c = sample();
        c.title = "x".repeat(201);
        assert!(c.validate().is_err());
        let mut c = sample();
        c.preview_available = true;
        assert!(c.validate().is_err());
        c.preview_path = Some("content/1/preview.mp4".into());
        assert!(c.validate().is_err(), "a preview needs its metadata");
        c.preview_meta = c.file_meta.clone();
        assert_eq!(c.validate(), Ok(()));
        let mut c = sample();
        c.file_path = String::new();
        c.file_meta = None;
        c.file_size = 0;
        assert_eq!(c.validate(), Ok(()), "a draft may wait for its file");
        c.status = ContentStatus::Published;
        assert!(c.validate().is_err(), "published content needs a file");
        let mut c = sample();
        c.file_size = 3;
        assert!(c.validate().is_err(), "the size is the file's");
        let mut c = sample();
        c.earnings = Money::zero(Currency::USD);
        assert!(c.validate().is_err());
        let mut c = sample();
        c.price = Money::new(-1, Currency::EUR);
        assert!(c.validate().is_err());
    }

    #[test]
    fn purchase_rules() {
        let mut p = ContentPurchase {
            id: ContentPurchaseId::new(1),
            buyer_id: UserId::new(2),
            content_id: ContentId::new(1),
            amount_paid: Money::new(1900, Currency::EUR),
            payment_status: PaymentStatus::Succeeded,
            stripe_payment_intent_id: Some("pi_123".into()),
            created_at: Timestamp::now(),
        };
        assert_eq!(p.validate(), Ok(()));
        p.stripe_payment_intent_id = Some(String::new());
        assert!(p.validate().is_err());
    }
}
