//! The webhook events of money going out and the accounts it goes to: `account.updated`
//! (its state read from Stripe when the event arrives, since events come in any order),
//! `transfer.created` (a payout of ours still `pending` is in transit with it: our call
//! may have timed out after Stripe made it), `transfer.reversed` (what came back, once)
//! and `payout.paid` / `payout.failed`.
//!
//! A payout of ours is a Stripe transfer to the expert's connected account; the bank
//! payouts from that account are made by Stripe on its own schedule and carry none of
//! our metadata. An untagged `payout.paid` of a user's connected account (the event's
//! top-level `account`) marks `paid` every `in_transit` payout of that user made before
//! the bank payout was created: an automatic payout sweeps the whole available balance,
//! and our transfers are available at once. An untagged `payout.failed` changes none of
//! our payouts (the money stays in the account's balance and Stripe tries again).
//!
//! Two deliveries of `account.updated` for one account can run at once (on one node or
//! several): each reads the account from Stripe, then writes what it read, and the read
//! that started first may be written last, leaving an older state (an expert stuck
//! `restricted`, not bookable) over a newer one. Stripe's account has no version to
//! compare, so after its write each delivery reads the account again and writes
//! it again until a read made after its last write agrees with the store
//! ([`settle_account`]). The last write of all is then followed by a read that agrees
//! with it, so the store ends as Stripe was after every write; a change at Stripe after
//! that read sends an event of its own. No lock and no new stored field is needed, and
//! it holds across nodes sharing a PostgreSQL store.

use droply_models::{Payout, PayoutId, PayoutStatus, StripeAccountStatus, Timestamp, User, UserId};
use serde_json::Value;

use super::{Applied, Context, Tag, amount_in, metadata_id, not_ours, tag_of, text};
use crate::payments::{META_PAYOUT, META_USER, Payments, account_status_from, ledger};
use crate::store::{IndexName, KeyBuilder, Store, Txn, UniqueName};
use crate::{Error, Result};

/// How many times [`settle_account`] reads an account again before it gives up
/// (each time another delivery wrote between its read and its write).
const SETTLE_ROUNDS: usize = 4;

/// For an `account.updated` of ours, the account with its state as Stripe has it now,
/// read before the transaction (no network call runs inside one). Stripe sends events
/// in any order: an older snapshot ("restricted") arriving after a newer one ("active")
/// would otherwise undo it.
pub(super) fn fresh_account(
    payments: &Payments,
    kind: &str,
    object: &Value,
) -> Result<Option<Value>> {
    if kind != "account.updated" || tag_of(payments, object) != Tag::Ours {
        return Ok(None);
    }
    let id = text(object, "id")?;
    let now = payments.gateway()?.account(id).map_err(Error::from)?;
    if now.id != id {
        return Err(Error::PaymentProvider(format!(
            "Stripe answered account {} for {id}",
            now.id
        )));
    }
    let mut fresh = object.clone();
    fresh["charges_enabled"] = Value::Bool(now.charges_enabled.unwrap_or(false));
    fresh["payouts_enabled"] = Value::Bool(now.payouts_enabled.unwrap_or(false));
    fresh["details_submitted"] = Value::Bool(now.details_submitted.unwrap_or(false));
    fresh["requirements"] = serde_json::json!({
        "disabled_reason": now.requirements.and_then(|r| r.disabled_reason),
    });
    Ok(Some(fresh))
}

/// After an `account.updated` of ours was applied (or found applied before), reads the
/// account from Stripe again and writes what it says until a read agrees with the store
/// (see the module's docs): another delivery's older read may have been written after
/// ours. `PaymentProvider` when the account kept changing for [`SETTLE_ROUNDS`] reads
/// (the webhook then fails, and Stripe's redelivery settles it), or Stripe could not be
/// read. Nothing is written once the user no longer holds the account.
pub(super) fn settle_account(payments: &Payments, store: &Store, account: &Value) -> Result<()> {
    let account_id = text(account, "id")?;
    let user_id = metadata_id(account, META_USER)?;
    for _ in 0..SETTLE_ROUNDS {
        let Some(now) = fresh_account(payments, "account.updated", account)? else {
            return Ok(());
        };
        let (status, payouts) = state_of(&now);
        let changed = store.write(|txn| {
            let user: Option<User> = txn.get(UserId::new(user_id))?;
            match user {
                Some(user) if user.stripe_account_id.as_deref() == Some(account_id) => {
                    write_state(txn, user, status, payouts)
                }
                _ => Ok(false),
            }
        })?;
        if !changed {
            return Ok(());
        }
        tracing::info!(
            user = user_id,
            status = status.as_str(),
            "an older read of a connected account had been written over a newer one; written again"
        );
    }
    Err(Error::PaymentProvider(format!(
        "user {user_id}'s connected account kept changing while it was read; Stripe's redelivery settles it"
    )))
}

/// Our status and whether payouts can be made, for what Stripe says of `account`.
fn state_of(account: &Value) -> (StripeAccountStatus, bool) {
    let flag = |name: &str| account.get(name).and_then(Value::as_bool).unwrap_or(false);
    let status = account_status_from(
        flag("charges_enabled"),
        flag("payouts_enabled"),
        flag("details_submitted"),
        account
            .pointer("/requirements/disabled_reason")
            .and_then(Value::as_str),
    );
    (
        status,
        flag("payouts_enabled") && status == StripeAccountStatus::Active,
    )
}

/// Writes `status` and `payouts` on `user` unless they are there already; whether
/// anything changed.
fn write_state(
    txn: &mut Txn<'_>,
    mut user: User,
    status: StripeAccountStatus,
    payouts: bool,
) -> Result<bool> {
    if user.stripe_account_status == status && user.payout_enabled == payouts {
        return Ok(false);
    }
    user.stripe_account_status = status;
    user.payout_enabled = payouts;
    txn.update(user)?;
    Ok(true)
}

impl Context<'_> {
    pub(super) fn account_updated(&self, txn: &mut Txn<'_>, account: &Value) -> Result<Applied> {
        let account_id = text(account, "id")?;
        if self.tag(account) != Tag::Ours {
            return Ok(not_ours());
        }
        let user_id = metadata_id(account, META_USER)?;
        let user: User = txn.get(UserId::new(user_id))?.ok_or(Error::NotFound {
            entity: "user",
            id: user_id,
        })?;
        if user.stripe_account_id.as_deref() != Some(account_id) {
            // The user has another account now (or none): an event of the old one
            // changes nothing, as in `settle_account`, and is not retried.
            return Ok((
                format!("ignored: account {account_id} is no longer user {user_id}'s"),
                None,
            ));
        }
        let (status, payouts) = state_of(account);
        write_state(txn, user, status, payouts)?;
        Ok((
            format!("user {user_id}'s account is {}", status.as_str()),
            None,
        ))
    }

    fn payout_for(&self, txn: &Txn<'_>, object: &Value) -> Result<Option<Payout>> {
        if self.tag(object) != Tag::Ours {
            return Ok(None);
        }
        let id = metadata_id(object, META_PAYOUT)?;
        txn.get(PayoutId::new(id))?
            .ok_or(Error::NotFound {
                entity: "payout",
                id,
            })
            .map(Some)
    }

    /// Applies `transfer.created` of a transfer tagged with one of our payouts: the
    /// payout, still `pending` (our call timed out, or its answer was lost, after Stripe
    /// made the transfer), is in transit with it, as our call's answer would have made
    /// it. A payout past `pending` is left as it is (never moved back); one that has
    /// another transfer already was paid twice, which is logged for the operator.
    pub(super) fn transfer_created(&self, txn: &mut Txn<'_>, transfer: &Value) -> Result<Applied> {
        if transfer
            .pointer(&format!("/metadata/{META_PAYOUT}"))
            .is_none()
        {
            return Ok(("ignored: the transfer pays no payout".to_owned(), None));
        }
        let Some(mut payout) = self.payout_for(txn, transfer)? else {
            return Ok(not_ours());
        };
        let transfer_id = text(transfer, "id")?;
        match payout.stripe_transfer_id.as_deref() {
            Some(known) if known == transfer_id => {
                return Ok((
                    format!("payout {} has transfer {transfer_id} already", payout.id),
                    None,
                ));
            }
            Some(known) => {
                tracing::error!(
                    payout = %payout.id,
                    known,
                    transfer = transfer_id,
                    "a second transfer was made for one payout"
                );
                return Ok((
                    format!(
                        "payout {} has transfer {known}; {transfer_id} is another",
                        payout.id
                    ),
                    None,
                ));
            }
            None => {}
        }
        if payout.status != PayoutStatus::Pending {
            return Ok((
                format!(
                    "payout {} is {}; left as it is",
                    payout.id,
                    payout.status.as_str()
                ),
                None,
            ));
        }
        payout.status = PayoutStatus::InTransit;
        payout.stripe_transfer_id = Some(transfer_id.to_owned());
        let payout = txn.update(payout)?;
        Ok((
            format!("payout {} is in transit with {transfer_id}", payout.id),
            None,
        ))
    }

    pub(super) fn transfer_reversed(&self, txn: &mut Txn<'_>, transfer: &Value) -> Result<Applied> {
        let Some(mut payout) = self.payout_for(txn, transfer)? else {
            return Ok(not_ours());
        };
        let transfer_id = text(transfer, "id")?;
        if payout
            .stripe_transfer_id
            .as_deref()
            .is_some_and(|known| known != transfer_id)
        {
            return Err(Error::Invalid(format!(
                "transfer {transfer_id} is not payout {}'s",
                payout.id
            )));
        }
        // Stripe sends this for partial reversals too, and the transfer carries how much
        // has come back in all: only what the ledger does not hold yet is given back (a
        // redelivered or late event adds nothing), and only a reversal of the whole
        // transfer fails the payout. What the ledger holds counts whatever the payout's
        // status says (a failed bank payout moves no money in the ledger).
        let reversed = if transfer.get("amount_reversed").is_some() {
            let whose = format!("payout {}", payout.id);
            let reversed = amount_in(payout.amount.currency, &whose, transfer, "amount_reversed")?;
            if reversed.amount_minor > payout.amount.amount_minor {
                payout.amount
            } else {
                reversed
            }
        } else {
            payout.amount
        };
        let returned = ledger::returned_of_payout(txn, &payout)?;
        let extra = reversed.checked_sub(returned)?;
        if reversed.amount_minor >= payout.amount.amount_minor
            && !matches!(
                payout.status,
                PayoutStatus::Failed | PayoutStatus::Cancelled
            )
        {
            payout.status = PayoutStatus::Failed;
        }
        payout.stripe_transfer_id = Some(transfer_id.to_owned());
        let payout = txn.update(payout)?;
        if !extra.is_positive() {
            return Ok((
                format!("payout {}: {returned} was given back already", payout.id),
                None,
            ));
        }
        ledger::record_payout(txn, payout.user_id, payout.id, extra, false)?;
        Ok((
            format!("payout {}: {extra} reversed, {reversed} in all", payout.id),
            None,
        ))
    }

    pub(super) fn payout_settled(
        &self,
        txn: &mut Txn<'_>,
        object: &Value,
        kind: &str,
    ) -> Result<Applied> {
        let Some(mut payout) = self.payout_for(txn, object)? else {
            return match (self.tag(object), self.account) {
                (Tag::Untagged, Some(account)) => {
                    self.bank_payout_settled(txn, account, object, kind)
                }
                _ => Ok(not_ours()),
            };
        };
        if is_over(payout.status) {
            return Ok((format!("payout {} is over", payout.id), None));
        }
        payout.stripe_payout_id = Some(text(object, "id")?.to_owned());
        if kind == "payout.paid" {
            payout.status = PayoutStatus::Paid;
            payout.paid_at.get_or_insert(txn.now());
        } else if payout.status != PayoutStatus::Paid {
            // The money reached the expert's Stripe balance and stays there;
            // only the bank payout failed, so the ledger does not change.
            payout.status = PayoutStatus::Failed;
        }
        let payout = txn.update(payout)?;
        Ok((
            format!("payout {} is {}", payout.id, payout.status.as_str()),
            None,
        ))
    }

    /// An untagged `payout.paid` / `payout.failed` of connected account `account`: a
    /// bank payout Stripe made from it (see the module's docs). Paid, it marks `paid`
    /// (with its id) every `in_transit` payout of the account's holder made before it
    /// was created, in this one write; failed, it changes nothing and is logged.
    fn bank_payout_settled(
        &self,
        txn: &mut Txn<'_>,
        account: &str,
        bank_payout: &Value,
        kind: &str,
    ) -> Result<Applied> {
        let Some(user) = holder_of(txn, account)? else {
            return Ok(not_ours());
        };
        if kind != "payout.paid" {
            let code = bank_payout
                .get("failure_code")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            tracing::warn!(
                user = user.id.get(),
                failure_code = code,
                "a bank payout of a connected account failed; the money stays in its Stripe balance"
            );
            return Ok((
                format!(
                    "user {}'s bank payout failed ({code}); no payout changes",
                    user.id
                ),
                None,
            ));
        }
        let bank_payout_id = text(bank_payout, "id")?;
        let made_at = bank_payout
            .get("created")
            .and_then(Value::as_i64)
            .and_then(|secs| Timestamp::from_micros(secs.saturating_mul(1_000_000)).ok())
            .ok_or_else(|| Error::Invalid("the payout has no valid created time".to_owned()))?;
        // The user's payouts made before `made_at` (the index is keyed by owner, then
        // time): a payout made later was not in the balance the bank payout swept.
        let owner = KeyBuilder::new().u64(user.id.get());
        let earlier: Vec<Payout> = txn.list_index_range(
            IndexName::PayoutsByUser,
            &owner.clone().build(),
            &owner.time(made_at).build(),
        )?;
        let mut paid = 0_usize;
        for mut payout in earlier {
            if payout.status != PayoutStatus::InTransit {
                continue;
            }
            payout.status = PayoutStatus::Paid;
            payout.stripe_payout_id = Some(bank_payout_id.to_owned());
            payout.paid_at.get_or_insert(txn.now());
            txn.update(payout)?;
            paid += 1;
        }
        Ok((
            format!(
                "bank payout {bank_payout_id} paid {paid} of user {}'s payouts",
                user.id
            ),
            None,
        ))
    }
}

/// Whether a payout can no longer move (a bank payout's event changes it no more).
fn is_over(status: PayoutStatus) -> bool {
    matches!(status, PayoutStatus::Failed | PayoutStatus::Cancelled)
}

/// The user whose connected account is `account`, if any: one read of the unique key
/// of connected accounts and one of its holder (an expert who has since cleared their
/// profession still holds the account and is still paid out). The row is checked to
/// hold the account still.
fn holder_of(txn: &Txn<'_>, account: &str) -> Result<Option<User>> {
    let key = crate::records::stripe_account_key(account);
    let Some(id) = txn.lookup_unique(UniqueName::StripeAccount, &key)? else {
        return Ok(None);
    };
    let user: Option<User> = txn.get(UserId::new(id))?;
    Ok(user.filter(|user| user.stripe_account_id.as_deref() == Some(account)))
}
