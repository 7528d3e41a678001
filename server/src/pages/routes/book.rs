//! Booking from a profile page (`POST /@{username}/book`): the signed-in
//! viewer books the slot they chose, with the form's idempotency key, so a
//! form sent twice books once. A free session goes straight to its
//! booking page; a paid one answers the pay page, where Stripe's Payment
//! Element (Stripe.js and the embedded `pay.js`) confirms the
//! PaymentIntent (the booking page answers the same pay page later, while
//! the booking still waits for payment). Without payments a paid session is
//! refused before the engine is asked. A slot taken meanwhile or a bad form
//! shows the profile again with the reason (409 or 400), never a server
//! error.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use droply_engine::booking::{BookingRequest, IdempotencyKey};
use droply_engine::payments::PaymentStart;
use droply_models::{Booking, Timestamp, User};
use maud::html;
use serde::Deserialize;

use super::profile::{parse_username, render};
use crate::http::{AppState, ErrorCode, blocking};
use crate::pages::extract::{PageForm, PagePath};
use crate::pages::layout::{Head, page};
use crate::pages::page::{PageError, html, see_other, status_of};
use crate::pages::payment_form::{PAY_SCRIPT, STRIPE_JS_V3, payment_form};
use crate::pages::viewer::Viewer;
use crate::pages::{assets, format};

/// `POST /@{username}/book`.
pub fn router() -> Router<AppState> {
    Router::new().route("/@{username}/book", post(book))
}

/// The booking form of the widget.
#[derive(Debug, Deserialize)]
struct BookForm {
    /// The slot's start (RFC 3339).
    #[serde(default)]
    start: String,
    /// Fresh for each render of the widget.
    #[serde(default)]
    idempotency_key: String,
}

/// Why a booking did not go through, as the widget says it.
fn refusal(code: ErrorCode, message: &str) -> String {
    match code {
        ErrorCode::SlotUnavailable => {
            "That time is no longer open: someone may have just booked it. Please choose another."
                .to_owned()
        }
        ErrorCode::PaymentsNotConfigured => {
            "Payments are unavailable right now, so paid sessions cannot be booked.".to_owned()
        }
        _ => message.to_owned(),
    }
}

async fn book(
    State(state): State<AppState>,
    viewer: Viewer,
    PagePath(username): PagePath<String>,
    PageForm(form): PageForm<BookForm>,
) -> Result<Response, PageError> {
    let handle = parse_username(&username)?;
    let here = format!("/@{}", handle.as_str());
    let booker = viewer.require(&here)?.id;
    let problem = |status: StatusCode, message: String| (status, message);
    let start = Timestamp::parse_rfc3339(form.start.trim()).map_err(|_| {
        problem(
            StatusCode::BAD_REQUEST,
            "Choose one of the times shown.".to_owned(),
        )
    });
    let key = IdempotencyKey::parse(form.idempotency_key.trim()).map_err(|_| {
        problem(
            StatusCode::BAD_REQUEST,
            "This form has expired. Please choose the time again.".to_owned(),
        )
    });
    let (start, key) = match (start, key) {
        (Ok(start), Ok(key)) => (start, key),
        (Err((status, message)), _) | (_, Err((status, message))) => {
            return render(&state, &viewer, &username, status, Some(&message)).await;
        }
    };
    let payments = state.pages.stripe_publishable_key.clone();
    let payments_on = payments.is_some();
    let outcome = blocking(&state, move |engine| {
        let expert = engine.expert_by_username(&handle)?;
        if expert.charges_for_sessions() && !payments_on {
            return Err(droply_engine::Error::PaymentsNotConfigured);
        }
        let request = BookingRequest {
            booker,
            provider: expert.id,
            start,
            duration_minutes: expert.session_duration,
            client_message: None,
        };
        let made = engine.create_booking(&request, Some(&key))?;
        Ok((expert, made))
    })
    .await;
    let (expert, made) = match outcome {
        Ok(done) => done,
        Err(err) => {
            let status = status_of(&err);
            let user_error =
                status.is_client_error() || err.code() == ErrorCode::PaymentsNotConfigured;
            if !user_error || err.code() == ErrorCode::NotFound {
                return Err(PageError::from(err));
            }
            let message = refusal(err.code(), err.message());
            return render(&state, &viewer, &username, status, Some(&message)).await;
        }
    };
    match (made.payment, payments) {
        (Some(payment), Some(publishable_key)) => Ok(pay_page(
            &viewer,
            &expert,
            &made.booking,
            &payment,
            &publishable_key,
        )),
        _ => Ok(see_other(&format!(
            "/bookings/{}?booked=1",
            made.booking.id.get()
        ))),
    }
}

/// The page that takes the payment of a booking: a new one here, or one
/// still waiting for payment from its own page (`POST /bookings/{id}/pay`,
/// in `bookings`).
pub(super) fn pay_page(
    viewer: &Viewer,
    expert: &User,
    booking: &Booking,
    payment: &PaymentStart,
    publishable_key: &str,
) -> Response {
    let zone = viewer.time_zone();
    let booking_page = format!("/bookings/{}", booking.id.get());
    let content = html! {
        div class="narrow" {
            h1 { "Pay for your session" }
            div class="card" {
                p {
                    "With " strong { (expert.full_name) } ", "
                    (format::date_time(booking.start_time, zone)) " (" (zone.as_str()) "), "
                    (booking.duration) " minutes."
                }
                p class="price" { (format::money(payment.amount)) }
                (payment_form(payment, publishable_key, &format!("{booking_page}?paid=1")))
                p class="note" {
                    "Your time is held for 15 minutes while you pay. "
                    a href=(booking_page) { "See the booking" }
                }
            }
        }
    };
    html(page(
        viewer,
        Head {
            title: "Pay for your session",
            stylesheets: vec![assets::url("bookings.css")],
            scripts: &[PAY_SCRIPT],
            external_scripts: vec![STRIPE_JS_V3],
            zone_sensitive: false,
            ..Head::default()
        },
        content,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_slot_is_told_plainly() {
        assert!(refusal(ErrorCode::SlotUnavailable, "x").contains("no longer open"));
        assert_eq!(refusal(ErrorCode::InvalidInput, "bad start"), "bad start");
    }
}
