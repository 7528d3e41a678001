//! Content experts sell in the demo: about one expert in five offers a
//! guide, a template pack, a course outline or an article on one of their
//! skills, most priced at a fraction of their hourly rate in their
//! currency, one in four free. Each has a small generated PDF
//! ([`content_file`]) so previews of the demo work once `serve --demo`
//! wrote them; some clients hold the free ones (purchases of nothing paid,
//! so the ledger has nothing to say about them). Paid sales are `sales`'.

use droply_models::{
    CategoryId, Content, ContentId, ContentPurchase, ContentPurchaseId, ContentStatus, ContentType,
    FileMeta, Money, PaymentStatus, Timestamp, User,
};
use rand::Rng;
use rand::seq::IndexedRandom;
use sha2::{Digest, Sha256};

use super::id_counter::IdCounter;

/// The demo's content and the purchases of it.
pub(crate) struct DemoContent {
    pub content: Vec<Content>,
    pub purchases: Vec<ContentPurchase>,
}

const KINDS: [(ContentType, &str, &str); 4] = [
    (
        ContentType::Document,
        "The {skill} playbook",
        "A practical guide to {skill}, written from years of {profession} work: the steps, the pitfalls and the checklists.",
    ),
    (
        ContentType::Template,
        "{skill} templates and checklists",
        "Ready-to-use templates for {skill}, the ones a {profession} uses with clients every week.",
    ),
    (
        ContentType::Course,
        "{skill} in five lessons",
        "A short course on {skill} by a {profession}: five lessons with exercises and worked examples.",
    ),
    (
        ContentType::Article,
        "What every client should know about {skill}",
        "An article on {skill} for people hiring a {profession}: what to ask, what it costs, what good looks like.",
    ),
];

/// Generates content for some of `experts` and purchases of the free ones
/// by `clients`, created before `now`.
pub(crate) fn content(
    rng: &mut impl Rng,
    experts: &[User],
    clients: &[User],
    categories: &[CategoryId],
    ids: &mut IdCounter,
    now: Timestamp,
) -> DemoContent {
    let mut out = DemoContent {
        content: Vec::new(),
        purchases: Vec::new(),
    };
    for expert in experts {
        if !rng.random_bool(0.2) {
            continue;
        }
        let skill = content_skill(expert);
        let (kind, title, description) = KINDS[rng.random_range(0..KINDS.len())];
        let fill = |text: &str| {
            text.replace("{skill}", &skill)
                .replace("{profession}", &expert.profession.to_lowercase())
        };
        let currency = expert.currency;
        let price = match expert.hourly_rate {
            Some(rate) if !rng.random_bool(0.25) => {
                let share = rng.random_range(10..40_i64);
                Money::new(
                    (rate.amount_minor * share / 100).max(100) / 100 * 100,
                    currency,
                )
            }
            _ => Money::zero(currency),
        };
        let created_at = now.plus_days(-rng.random_range(1..80_i64));
        let id = ContentId::new(ids.next());
        let mut row = Content {
            id,
            user_id: expert.id,
            title: fill(title),
            description: fill(description),
            content_type: kind,
            price,
            file_path: format!("content/{id}/file-demo.pdf"),
            file_size: 0,
            thumbnail_path: None,
            preview_available: false,
            preview_path: None,
            status: ContentStatus::Published,
            views: rng.random_range(0..600),
            purchases: 0,
            earnings: Money::zero(currency),
            created_at,
            updated_at: created_at,
            category_id: categories.choose(rng).copied(),
            file_meta: None,
            preview_meta: None,
        };
        let bytes = content_file(&row);
        row.file_size = bytes.len() as u64;
        row.file_meta = Some(FileMeta {
            media_type: "application/pdf".to_owned(),
            size: bytes.len() as u64,
            sha256: hex_sha256(&bytes),
        });
        if price.is_zero() && !clients.is_empty() {
            for _ in 0..rng.random_range(0..4) {
                let buyer = &clients[rng.random_range(0..clients.len())];
                if out
                    .purchases
                    .iter()
                    .any(|p| p.content_id == id && p.buyer_id == buyer.id)
                {
                    continue;
                }
                let minutes = rng.random_range(60..60 * 24 * 30);
                out.purchases.push(ContentPurchase {
                    id: ContentPurchaseId::new(ids.next()),
                    buyer_id: buyer.id,
                    content_id: id,
                    amount_paid: price,
                    payment_status: PaymentStatus::Succeeded,
                    stripe_payment_intent_id: None,
                    created_at: before(now, created_at.plus_minutes(minutes)),
                });
                row.purchases += 1;
            }
        }
        out.content.push(row);
    }
    out
}

/// `at`, or for an instant not before `now` one some minutes before it
/// (spread by `at`'s minute, so that clamped purchases do not all coincide).
fn before(now: Timestamp, at: Timestamp) -> Timestamp {
    if at < now {
        return at;
    }
    let minute = at.as_micros() / 60_000_000;
    now.plus_minutes(-1 - minute.rem_euclid(600))
}

/// The skill an expert's demo content is about: their first listed skill,
/// else their profession.
pub(crate) fn content_skill(expert: &User) -> String {
    expert
        .skills
        .split(',')
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or(expert.profession.as_str())
        .to_owned()
}

/// The demo file of `content`: a one-page PDF with its title.
pub fn content_file(content: &Content) -> Vec<u8> {
    let title: String = content
        .title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let text = format!("BT /F1 18 Tf 72 720 Td ({title}) Tj ET");
    format!(
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
         2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
         3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >> endobj\n\
         4 0 obj << /Length {} >> stream\n{text}\nendstream endobj\n\
         5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n\
         trailer << /Root 1 0 R >>\n%%EOF\n",
        text.len()
    )
    .into_bytes()
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
