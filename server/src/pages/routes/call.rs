//! The WebRTC fallback's call page, `/bookings/{id}/call`: where a
//! booking's two parties meet when the call has no Daily room. It shows
//! one's camera and the other side's, and `call.js` signals over the
//! booking's relay socket (`/v1/bookings/{id}/signal`, opened with the
//! session cookie). The page answers as the relay would: the booking's
//! client and provider only (others the 404 page), once it is confirmed
//! and within the meeting's window (else a 409 page that says why).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use droply_engine::booking::BookingRole;
use maud::html;

use crate::http::{AppState, blocking};
use crate::pages::assets;
use crate::pages::extract::PagePath;
use crate::pages::layout::{Head, page};
use crate::pages::page::{PageError, html};
use crate::pages::viewer::Viewer;

/// `GET /bookings/{id}/call`.
pub fn router() -> Router<AppState> {
    Router::new().route("/bookings/{id}/call", get(call_page))
}

async fn call_page(
    State(state): State<AppState>,
    viewer: Viewer,
    PagePath(raw): PagePath<String>,
) -> Result<Response, PageError> {
    let id = super::bookings::booking_id(&raw)?;
    let here = format!("/bookings/{}", id.get());
    let me = viewer.require(&format!("{here}/call"))?.id;
    let (party, with) = blocking(&state, move |engine| {
        let party = engine.signal_party(id, me)?;
        let booking = engine.booking(id, me)?;
        let other = match party.role {
            BookingRole::Client => booking.provider_id,
            BookingRole::Provider => booking.user_id,
        };
        Ok((party, engine.account(other)?.full_name))
    })
    .await?;
    let role = match party.role {
        BookingRole::Client => "client",
        BookingRole::Provider => "provider",
    };
    let content = html! {
        section id="call" class="call" data-role=(role)
            data-signal=(format!("/v1/bookings/{}/signal", id.get()))
            data-ice-servers=(state.pages.ice_servers) data-state="starting" {
            h1 { "Your call with " (with) }
            p id="call-status" class="note" role="status" aria-live="polite" { "Starting your camera…" }
            div class="call-videos" {
                figure {
                    video id="remote-video" autoplay playsinline {}
                    figcaption { (with) }
                }
                figure {
                    video id="local-video" autoplay playsinline muted {}
                    figcaption { "You" }
                }
            }
            p class="actions" {
                button id="leave-call" type="button" class="button secondary" { "Leave the call" }
                " "
                a href=(here) { "Back to the booking" }
            }
        }
    };
    Ok(html(page(
        &viewer,
        Head {
            title: "Your call",
            scripts: &["call.js"],
            stylesheets: vec![assets::url("bookings.css")],
            ..Head::default()
        },
        content,
    )))
}
