//! `/account/earnings`: what the signed-in person earned, was paid and may
//! withdraw now, their payout account at Stripe (set up or continued
//! through `onboarding`, whose return lands here with a notice), their
//! payouts, their referrals and referral rewards, and the form that
//! requests a payout (all of what is available, or an amount). A refused
//! request (no payout account yet, nothing available) is shown with its
//! error. Parts the engine cannot answer (payments not
//! configured) say so instead of failing the page. Payouts and referrals
//! are listed 50 at a time, with a link to the next 50 (`?payouts=` and
//! `?referrals=` carry the store's cursors), their times in the viewer's
//! zone, which each list names. The payout form carries when the newest
//! payout it saw was made (`last_payout`): sent again after a payout was
//! made (a double click, going back), it asks for none, so one form pays
//! out once.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use droply_engine::Earnings;
use droply_engine::PageRequest;
use droply_models::{Money, Payout, Referral, ReferralReward, Timestamp, User};
use maud::{Markup, html};
use serde::Deserialize;

use super::frame::{account_page, api_error, failure, notices};
use super::onboarding::{payout_account_section, returned_notice};
use crate::http::{ApiError, AppState, ErrorCode, blocking};
use crate::pages::extract::{PageForm, PageQuery};
use crate::pages::format;
use crate::pages::layout::csrf_field;
use crate::pages::page::{PageError, html, html_with, see_other, url_encode};
use crate::pages::viewer::Viewer;

const HERE: &str = "/account/earnings";

/// How many payouts and referrals the page lists at a time.
const LISTED: usize = 50;

/// `/account/earnings` and `POST /account/payouts`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(HERE, get(show_earnings))
        .route("/account/payouts", post(request_payout))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PayoutForm {
    amount: String,
    /// When the newest payout the form saw was made, as [`payout_key`]
    /// wrote it.
    last_payout: String,
}

/// What the payout form sends back for `newest` (when the newest payout
/// was made; `None`: there was none): microseconds, or `none`.
fn payout_key(newest: Option<Timestamp>) -> String {
    newest.map_or_else(|| "none".to_owned(), |at| at.as_micros().to_string())
}

/// The newest payout a form saw, from [`payout_key`]'s text; refused
/// (`invalid_input`, a 400 shown on the page) for a form that did not come
/// from this page.
fn seen_payout(key: &str) -> Result<Option<Timestamp>, ApiError> {
    match key.trim() {
        "none" => Ok(None),
        micros => micros
            .parse::<i64>()
            .ok()
            .and_then(|micros| Timestamp::from_micros(micros).ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidInput,
                    "This form has expired. Reload the page and try again.",
                )
            }),
    }
}

/// The page's query: a payout just requested, a return from Stripe's
/// onboarding, and where each list starts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EarningsQuery {
    requested: Option<String>,
    /// A payout form sent again after a payout was made.
    resent: Option<String>,
    onboarded: Option<String>,
    payouts: Option<String>,
    referrals: Option<String>,
}

/// Where each list starts: the first page, or after a cursor.
#[derive(Debug)]
struct Starts {
    payouts: PageRequest,
    referrals: PageRequest,
}

impl Starts {
    /// Both lists from the top: the newest payouts, the first referrals.
    fn first() -> Starts {
        Starts {
            payouts: PageRequest::first(LISTED).desc(),
            referrals: PageRequest::first(LISTED),
        }
    }
}

impl EarningsQuery {
    /// The lists' pages; a cursor this page did not write is a 400.
    fn starts(&self) -> Result<Starts, PageError> {
        let start = |first: PageRequest, raw: &Option<String>| match raw.as_deref() {
            None | Some("") => Ok(first),
            Some(raw) => raw
                .parse()
                .map(|cursor| first.after(Some(cursor)))
                .map_err(|_| PageError::bad_request("That page link is broken.")),
        };
        let first = Starts::first();
        Ok(Starts {
            payouts: start(first.payouts, &self.payouts)?,
            referrals: start(first.referrals, &self.referrals)?,
        })
    }
}

/// One page of a list, and the cursor of the next when there is one.
struct Listed<T> {
    items: Vec<T>,
    next: Option<String>,
}

/// What the page shows; each part is `Err` with a sentence when the engine
/// could not answer it.
struct Ledger {
    earnings: Result<Earnings, String>,
    payouts: Result<Listed<Payout>, String>,
    referrals: Result<Listed<(Referral, String)>, String>,
    rewards: Result<Vec<(ReferralReward, String)>, String>,
    /// The payout form's `last_payout` ([`payout_key`]); empty when the
    /// engine could not say (the form is then refused as expired).
    last_payout: String,
}

async fn ledger(state: &AppState, user: &User, starts: Starts) -> Ledger {
    let id = user.id;
    let text = |err: ApiError| err.message().to_owned();
    let earnings = blocking(state, move |engine| engine.earnings(id))
        .await
        .map_err(text);
    let payouts = blocking(state, move |engine| engine.payouts_of(id, &starts.payouts))
        .await
        .map(|page| Listed {
            items: page.items,
            next: page.next.map(|cursor| cursor.to_string()),
        })
        .map_err(text);
    let referrals = blocking(state, move |engine| {
        engine.referrals_of(id, &starts.referrals)
    })
    .await
    .map(|page| Listed {
        items: page.items,
        next: page.next.map(|cursor| cursor.to_string()),
    })
    .map_err(text);
    let rewards = blocking(state, move |engine| engine.referral_rewards_of(id))
        .await
        .map(|summary| summary.latest)
        .map_err(text);
    let last_payout = blocking(state, move |engine| engine.newest_payout_at(id))
        .await
        .map(payout_key)
        .unwrap_or_default();
    Ledger {
        earnings,
        payouts,
        referrals,
        rewards,
        last_payout,
    }
}

async fn show_earnings(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<EarningsQuery>,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?;
    let ledger = ledger(&state, user, query.starts()?).await;
    let saved = if query.requested.is_some() {
        Some("Your payout is requested.")
    } else if query.resent.is_some() {
        Some(
            "A payout was made since that form was shown, so it was not sent again. \
             To ask for another, send the form below.",
        )
    } else {
        query.onboarded.is_some().then(|| returned_notice(user))
    };
    Ok(html(earnings_page(&viewer, user, &ledger, None, saved)))
}

async fn request_payout(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<PayoutForm>,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?;
    let (id, currency) = (user.id, user.currency);
    let seen = seen_payout(&form.last_payout);
    let amount = form.amount.trim();
    let amount = if amount.is_empty() {
        Ok(None)
    } else {
        Money::from_decimal_str(amount, currency)
            .map(Some)
            .map_err(api_error)
    };
    let result = match seen.and_then(|seen| amount.map(|amount| (amount, seen))) {
        Ok((amount, seen)) => {
            blocking(&state, move |engine| {
                engine.request_payout_unless_paid_since(id, amount, seen)
            })
            .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(Some(_)) => Ok(see_other("/account/earnings?requested=1")),
        // The same form again: its payout is listed; none is asked twice.
        Ok(None) => Ok(see_other("/account/earnings?resent=1")),
        Err(err) => {
            let (status, message) = failure(&err);
            let ledger = ledger(&state, user, Starts::first()).await;
            Ok(html_with(
                status,
                earnings_page(&viewer, user, &ledger, Some(&message), None),
            ))
        }
    }
}

fn unavailable(reason: &str) -> Markup {
    html! { p class="muted" { "Not available: " (reason) } }
}

fn earnings_page(
    viewer: &Viewer,
    user: &User,
    ledger: &Ledger,
    error: Option<&str>,
    saved: Option<&str>,
) -> Markup {
    let zone = viewer.time_zone();
    let content = html! {
        h1 { "Earnings" }
        (notices(error, saved))
        section class="card" aria-labelledby="balance-title" {
            h2 id="balance-title" { "Balance" }
            @match &ledger.earnings {
                Ok(earnings) => {
                    dl class="facts" {
                        dt { "Earned" } dd { (format::money(earnings.balances.total_earnings)) }
                        dt { "Paid out" } dd { (format::money(earnings.balances.total_payouts)) }
                        @let pending = earnings.balances.pending_balance;
                        @if pending.is_negative() {
                            dt { "Owed back from later earnings" } dd { (format::money(pending.checked_mul(-1).unwrap_or(pending))) }
                        } @else {
                            dt { "Owed to you" } dd { (format::money(pending)) }
                        }
                        dt { "Available now" } dd class="available" { (format::money(earnings.available)) }
                    }
                }
                Err(reason) => { (unavailable(reason)) }
            }
            form method="post" action="/account/payouts" class="row-form" {
                (csrf_field(viewer))
                input type="hidden" name="last_payout" value=(ledger.last_payout);
                label for="payout-amount" { "Amount (" (user.currency.as_str()) ", empty for all available)" }
                input id="payout-amount" name="amount" inputmode="decimal" pattern="[0-9]+([.][0-9]{1,3})?";
                button type="submit" { "Request payout" }
            }
        }
        (payout_account_section(viewer, user))
        section class="card" aria-labelledby="payouts-title" {
            h2 id="payouts-title" { "Payouts" }
            @match &ledger.payouts {
                Ok(payouts) if payouts.items.is_empty() => { p { "No payouts yet." } }
                Ok(payouts) => {
                    p class="muted" { (format::times_in(zone)) }
                    div class="table-wrap" {
                        table {
                            thead { tr { th { "Requested" } th { "Amount" } th { "Status" } th { "Paid" } } }
                            tbody {
                                @for payout in &payouts.items {
                                    tr {
                                        td { (format::date_time(payout.created_at, zone)) }
                                        td { (format::money(payout.amount)) }
                                        td { (payout.status.as_str()) }
                                        td { @if let Some(paid) = payout.paid_at { (format::date_time(paid, zone)) } @else { "—" } }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(next) = &payouts.next {
                        p { a href=(format!("{HERE}?payouts={}", url_encode(next))) { "Older payouts" } }
                    }
                }
                Err(reason) => { (unavailable(reason)) }
            }
        }
        section class="card" aria-labelledby="referrals-title" {
            h2 id="referrals-title" { "Referrals" }
            p {
                (user.referral_count) " people joined through your link; rewards so far: "
                (format::money(user.total_referral_earnings)) "."
            }
            @match &ledger.referrals {
                Ok(referrals) if referrals.items.is_empty() => { p { "Nobody has joined through your link yet." } }
                Ok(referrals) => {
                    p class="muted" { (format::times_in(zone)) }
                    ul class="plain-list" {
                        @for (referral, name) in &referrals.items {
                            li { (name) " · joined " (format::date_time(referral.created_at, zone)) " · " (referral.status.as_str()) }
                        }
                    }
                    @if let Some(next) = &referrals.next {
                        p { a href=(format!("{HERE}?referrals={}", url_encode(next))) { "More people you referred" } }
                    }
                }
                Err(reason) => { (unavailable(reason)) }
            }
            h3 { "Rewards" }
            @match &ledger.rewards {
                Ok(rewards) if rewards.is_empty() => { p { "No rewards yet." } }
                Ok(rewards) => {
                    ul class="plain-list" {
                        @for (reward, name) in rewards {
                            li { (format::money(reward.reward_amount)) " for " (name) " · " (reward.status.as_str()) }
                        }
                    }
                }
                Err(reason) => { (unavailable(reason)) }
            }
        }
    };
    account_page(viewer, "Earnings", HERE, &[], content)
}
