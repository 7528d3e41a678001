//! Paid content sales in the demo: clients buy some of the priced content,
//! at its price, after it was published and before the marketplace's
//! `now`. Each purchase is generated as paid with no payment behind it,
//! like any imported sales history; loading the demo opens the payment,
//! the ledger rows and the referral reward of each
//! (`droply_engine::payments::open_imported_sales`), so the content's
//! earnings and the creators' balances come from the ledger.

use std::collections::BTreeMap;

use droply_models::{
    Content, ContentPurchase, ContentPurchaseId, Currency, PaymentStatus, Timestamp, User,
};
use rand::Rng;

use super::id_counter::IdCounter;

/// Up to three distinct buyers among `clients` for each priced item of
/// `content`, whose purchase counts move with them; most buyers pay in the
/// content's currency (people mostly buy in their own market).
pub(crate) fn paid_purchases(
    rng: &mut impl Rng,
    content: &mut [Content],
    clients: &[User],
    ids: &mut IdCounter,
    now: Timestamp,
) -> Vec<ContentPurchase> {
    let mut out: Vec<ContentPurchase> = Vec::new();
    if clients.is_empty() {
        return out;
    }
    let mut local: BTreeMap<Currency, Vec<&User>> = BTreeMap::new();
    for client in clients {
        local.entry(client.currency).or_default().push(client);
    }
    for item in content.iter_mut().filter(|c| c.price.is_positive()) {
        let first = out.len();
        let minutes_open = (now.as_micros() - item.created_at.as_micros()) / 60_000_000;
        if minutes_open < 120 {
            continue;
        }
        for _ in 0..rng.random_range(0..4) {
            let buyer = match local.get(&item.price.currency) {
                Some(near) if rng.random_bool(0.7) => near[rng.random_range(0..near.len())],
                _ => &clients[rng.random_range(0..clients.len())],
            };
            if out[first..].iter().any(|p| p.buyer_id == buyer.id) {
                continue;
            }
            out.push(ContentPurchase {
                id: ContentPurchaseId::new(ids.next()),
                buyer_id: buyer.id,
                content_id: item.id,
                amount_paid: item.price,
                payment_status: PaymentStatus::Succeeded,
                stripe_payment_intent_id: None,
                created_at: item
                    .created_at
                    .plus_minutes(rng.random_range(60..minutes_open - 60)),
            });
            item.purchases += 1;
        }
    }
    out
}
