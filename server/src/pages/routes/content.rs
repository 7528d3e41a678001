//! The content page `/c/{id}`: published content as anyone sees it (title,
//! description, kind, price, the creator's page, the free preview), and
//! for a signed-in viewer the way to get it: free content is theirs at
//! once; paid content opens a pay step with Stripe's Payment Element when
//! payments are configured, and says payments are unavailable otherwise.
//! Buyers and the creator download the file at `/c/{id}/download` with
//! their session cookie; anyone else gets 404. Buying what one holds
//! already goes back to the page as bought, and the "it is yours" notice
//! shows only to a viewer who can download it.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use droply_engine::ContentDetails;
use droply_engine::content::Viewer as Seen;
use droply_models::ContentId;
use maud::{Markup, html};
use serde::Deserialize;

use crate::http::file_response::{Disposition, send_file};
use crate::http::{AppState, ClientAddr, ErrorCode, blocking};
use crate::pages::extract::{PagePath, PageQuery, path_id};
use crate::pages::format;
use crate::pages::layout::{Head, csrf_field, page};
use crate::pages::page::{PageError, html, see_other};
use crate::pages::payment_form::{PAY_SCRIPT, STRIPE_JS_V3, payment_form};
use crate::pages::stripe_return::leave_stripe_return;
use crate::pages::viewer::Viewer;

/// `/c/{id}`, `/c/{id}/buy` and `/c/{id}/download`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/c/{id}", get(show_content))
        .route("/c/{id}/buy", post(buy_content))
        .route("/c/{id}/download", get(download_content))
}

#[derive(Debug, Deserialize)]
struct BoughtQuery {
    bought: Option<String>,
}

fn content_id(raw: &str) -> Result<ContentId, PageError> {
    let id: ContentId = path_id(raw)?;
    if id.get() == 0 {
        return Err(PageError::not_found());
    }
    Ok(id)
}

/// The content as `viewer` may see it, with its creator's username.
async fn details(
    state: &AppState,
    viewer: &Viewer,
    address: Option<std::net::IpAddr>,
    id: ContentId,
) -> Result<(ContentDetails, String), PageError> {
    let user = viewer.user_id();
    let seen = match (user, address) {
        (Some(user), _) => Seen::User(user),
        (None, Some(address)) => Seen::Address(address),
        (None, None) => Seen::Address(std::net::Ipv4Addr::UNSPECIFIED.into()),
    };
    Ok(blocking(state, move |engine| {
        let details = engine.view_content(id, user, seen)?;
        let creator = engine.account(details.content.user_id)?;
        Ok((details, creator.username.as_str().to_owned()))
    })
    .await?)
}

async fn show_content(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientAddr(address): ClientAddr,
    PagePath(id): PagePath<String>,
    RawQuery(raw_query): RawQuery,
    PageQuery(query): PageQuery<BoughtQuery>,
) -> Result<Response, PageError> {
    let id = content_id(&id)?;
    // Back from Stripe: the client secret leaves the address first.
    let here = format!("/c/{}", id.get());
    if let Some(cleaned) = leave_stripe_return(&here, raw_query.as_deref()) {
        return Ok(cleaned);
    }
    let (details, creator) = details(&state, &viewer, address, id).await?;
    let payments = state.pages.stripe_publishable_key.is_some();
    // Only a viewer who can download it is told it is theirs; a paid
    // purchase still being confirmed shows no notice.
    let notice = (query.bought.is_some() && details.can_download)
        .then_some("It is yours: download it whenever you like.");
    Ok(html(content_page(
        &viewer, &details, &creator, payments, notice,
    )))
}

async fn buy_content(
    State(state): State<AppState>,
    viewer: Viewer,
    PagePath(raw): PagePath<String>,
) -> Result<Response, PageError> {
    let id = content_id(&raw)?;
    let user = viewer.require(&format!("/c/{}", id.get()))?.id;
    let bought = match blocking(&state, move |engine| engine.buy_content(id, user)).await {
        Ok(bought) => bought,
        // Bought already (a second "Get it free"): show it as bought.
        Err(err) if err.code() == ErrorCode::AlreadyPurchased => {
            return Ok(see_other(&format!("/c/{}?bought=1", id.get())));
        }
        Err(err) => return Err(err.into()),
    };
    let Some(payment) = bought.payment else {
        return Ok(see_other(&format!("/c/{}?bought=1", id.get())));
    };
    let Some(key) = state.pages.stripe_publishable_key.clone() else {
        return Err(PageError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "Payments are unavailable right now.",
        ));
    };
    let content = html! {
        section class="narrow card" {
            h1 { "Pay for " (bought.content.title) }
            p { "Total: " strong { (format::money(payment.amount)) } }
            (payment_form(&payment, &key, &format!("/c/{}?bought=1", id.get())))
            p { a href=(format!("/c/{}", id.get())) { "Back" } }
        }
    };
    Ok(html(page(
        &viewer,
        Head {
            title: "Pay",
            scripts: &[PAY_SCRIPT],
            external_scripts: vec![STRIPE_JS_V3],
            ..Head::default()
        },
        content,
    )))
}

async fn download_content(
    State(state): State<AppState>,
    viewer: Viewer,
    PagePath(raw): PagePath<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let id = content_id(&raw)?;
    let Some(user) = viewer.user_id() else {
        return Err(PageError::not_found());
    };
    let file = blocking(&state, move |engine| engine.open_content_file(id, user)).await?;
    Ok(send_file(file, &headers, Disposition::Attachment)
        .map_err(PageError::from)?
        .into_response())
}

fn preview(details: &ContentDetails) -> Markup {
    let content = &details.content;
    let url = format!("/v1/content/{}/preview", content.id.get());
    let Some(meta) = &content.preview_meta else {
        return html! {};
    };
    let kind = meta.media_type.split('/').next().unwrap_or_default();
    html! {
        section class="content-preview" aria-labelledby="preview-title" {
            h2 id="preview-title" { "Preview" }
            @match kind {
                "image" => { img src=(url) alt=(format!("Preview of {}", content.title)); }
                "video" => { video src=(url) controls preload="metadata" { a href=(url) { "Open the preview" } } }
                "audio" => { audio src=(url) controls preload="metadata" { a href=(url) { "Open the preview" } } }
                _ => { p { a href=(url) { "Open the preview" } } }
            }
        }
    }
}

fn get_it(viewer: &Viewer, details: &ContentDetails, payments: bool) -> Markup {
    let content = &details.content;
    let id = content.id.get();
    let free = content.price.amount_minor == 0;
    html! {
        section class="content-get card" aria-labelledby="get-title" {
            h2 id="get-title" { "Get it" }
            @if details.can_download {
                p { "You have this." }
                a class="button" href=(format!("/c/{id}/download")) download { "Download" }
            } @else if viewer.user.is_none() {
                p { a class="button" href=(format!("/signin?next=/c/{id}")) { "Sign in to get it" } }
            } @else if free {
                form method="post" action=(format!("/c/{id}/buy")) {
                    (csrf_field(viewer))
                    button type="submit" { "Get it free" }
                }
            } @else if payments {
                form method="post" action=(format!("/c/{id}/buy")) {
                    (csrf_field(viewer))
                    button type="submit" { "Buy for " (format::money(content.price)) }
                }
            } @else {
                p class="muted" role="status" { "Payments are unavailable right now, so this cannot be bought." }
            }
        }
    }
}

fn content_page(
    viewer: &Viewer,
    details: &ContentDetails,
    creator: &str,
    payments: bool,
    notice: Option<&str>,
) -> Markup {
    let content = &details.content;
    let price = if content.price.amount_minor == 0 {
        "Free".to_owned()
    } else {
        format::money(content.price)
    };
    let body = html! {
        article class="content-page narrow" {
            p class="muted" { "Content · " (content.content_type.as_str()) }
            h1 { (content.title) }
            p class="content-meta" {
                "By " a href=(format!("/@{creator}")) { (details.creator_name) }
                " · " span class="price" { (price) }
            }
            @if let Some(notice) = notice {
                p class="success" role="status" { (notice) }
            }
            @if !content.description.is_empty() {
                p class="content-description" { (content.description) }
            }
            (preview(details))
            (get_it(viewer, details, payments))
        }
    };
    page(
        viewer,
        Head {
            title: &content.title,
            ..Head::default()
        },
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_numbers_are_content_ids() {
        assert_eq!(content_id("7").expect("valid"), ContentId::new(7));
        assert!(content_id("0").is_err());
        assert!(content_id("x").is_err());
    }
}
