//! Sales from before the store. A marketplace imported with paid content
//! purchases (the demo, `droply import`) but no payments behind them gets,
//! for each, what the webhook would have written when it was paid: the
//! succeeded [`Payment`], its ledger rows (charge, platform fee, the
//! creator's earning with its hold) and the referral reward it earned, all
//! stamped with the purchase's own time. The reward sweep then credits the
//! rewards whose hold is over, as it does for live sales, so imported
//! history passes the ledger check like live history.

use droply_models::{Content, ContentPurchase, ContentPurchaseId, PaymentStatus};

use super::payment::Payment;
use super::subject::{PaymentFor, grants_access};
use super::{PaymentsConfig, ledger, payment_for, referral_rewards, stored_payment_for};
use crate::Result;
use crate::store::Store;

/// How many sales one transaction opens.
const BATCH: usize = 500;

/// Opens every paid purchase that grants its download right but has no
/// payment, oldest first (so each referral's cap is spent in the order the
/// sales happened), under `config`'s fee, hold and referral rules.
/// Purchases that have a payment are left alone, so running it again
/// changes nothing. Returns how many were opened.
pub fn open_imported_sales(store: &Store, config: &PaymentsConfig) -> Result<usize> {
    let mut unpaid = Vec::new();
    for item in store.iter::<ContentPurchase>() {
        let purchase = item?;
        if grants_access(purchase.payment_status)
            && purchase.amount_paid.is_positive()
            && stored_payment_for(store, PaymentFor::Purchase(purchase.id))?.is_none()
        {
            unpaid.push((purchase.created_at, purchase.id));
        }
    }
    unpaid.sort_unstable();
    let mut opened = 0;
    for batch in unpaid.chunks(BATCH) {
        opened += open_batch(store, config, batch)?;
    }
    Ok(opened)
}

fn open_batch(
    store: &Store,
    config: &PaymentsConfig,
    batch: &[(droply_models::Timestamp, ContentPurchaseId)],
) -> Result<usize> {
    let terms = config.terms();
    store.write(|txn| {
        let mut opened = 0;
        for &(at, id) in batch {
            if payment_for(txn, PaymentFor::Purchase(id))?.is_some() {
                continue;
            }
            txn.backdate(at);
            let purchase: ContentPurchase = txn.require(id)?;
            let content: Content = txn.require(purchase.content_id)?;
            let mut payment = Payment::for_purchase(&purchase, content.user_id, &terms)?;
            payment.status = PaymentStatus::Succeeded;
            let payment = super::create_payment(txn, payment)?;
            ledger::record_charge(txn, &payment)?;
            referral_rewards::on_purchase_paid(txn, &config.referrals, &purchase, &payment)?;
            opened += 1;
        }
        Ok(opened)
    })
}
