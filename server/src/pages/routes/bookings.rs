//! One's bookings in a browser: a booking's page (`/bookings/{id}`: who,
//! when in the viewer's zone and the expert's, status, price, the `.ics`
//! download, the meeting link once the call opens, and for its client a
//! "Pay now" button while it waits for payment), paying for it
//! (`POST /bookings/{id}/pay`: the pay page of a new booking again, over
//! the booking's open PaymentIntent, so leaving that page loses nothing),
//! joining the call (`/bookings/{id}/join`: this person's Daily meeting
//! token is made then, and the browser sent to the room with it; or to the
//! call page of the WebRTC fallback, `call`; a link to it followed from
//! another site only goes to the booking's page), its iCalendar file
//! (`/bookings/{id}/calendar.ics`), and the list of one's bookings as
//! client and as expert (`/account/bookings`: the latest start first, 50
//! a time per role, each list with a link to its older ones carrying the
//! store's cursor, `?booked_after=` and `?received_after=`; a cursor the
//! page did not write is the 400 page). Only the booker and the
//! provider see a booking; anyone else gets the 404 page, as the engine
//! answers.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use droply_engine::PageRequest;
use droply_engine::booking::BookingRole;
use droply_engine::video::{MeetingPath, check_joinable};
use droply_models::{Booking, BookingId, BookingStatus, TimeZone, Timestamp, User, UserId};
use maud::{Markup, html};
use serde::Deserialize;

use super::book::pay_page;
use crate::http::{AppState, ErrorCode, blocking};
use crate::pages::csrf::sent_from_another_site;
use crate::pages::extract::{PagePath, PageQuery, path_id};
use crate::pages::layout::{Head, csrf_field, page};
use crate::pages::page::{PageError, html, see_other, url_encode};
use crate::pages::stripe_return::leave_stripe_return;
use crate::pages::viewer::Viewer;
use crate::pages::{assets, format};

/// Bookings listed per role and page.
const LISTED: usize = 50;

/// Where `/account/bookings` goes on from.
const MY_BOOKINGS: &str = "/account/bookings";

/// `GET /bookings/{id}`, `POST /bookings/{id}/pay`,
/// `GET /bookings/{id}/join`, `GET /bookings/{id}/calendar.ics` and
/// `GET /account/bookings`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bookings/{id}", get(booking_page))
        .route("/bookings/{id}/pay", post(pay_booking))
        .route("/bookings/{id}/join", get(join_call))
        .route("/bookings/{id}/calendar.ics", get(booking_calendar))
        .route(MY_BOOKINGS, get(my_bookings))
}

/// Flags the booking and payment pages add on the way back.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Arrival {
    /// Just booked.
    booked: Option<String>,
    /// Back from paying.
    paid: Option<String>,
}

/// The booking id in a path, or the 404 page.
pub(super) fn booking_id(raw: &str) -> Result<BookingId, PageError> {
    path_id(raw)
}

/// How one joins the call now: a link, or when it will appear.
enum Meeting {
    /// Open: joined through `/bookings/{id}/join`.
    Open,
    /// Not open (yet): the link appears this many minutes before the start.
    Later(u64),
    /// Over, cancelled or never on.
    None,
}

/// What the booking page shows.
struct BookingDetails {
    booking: Booking,
    expert: User,
    meeting: Meeting,
}

async fn booking_page(
    State(state): State<AppState>,
    viewer: Viewer,
    PagePath(raw): PagePath<String>,
    RawQuery(query): RawQuery,
    PageQuery(arrival): PageQuery<Arrival>,
) -> Result<Response, PageError> {
    let id = booking_id(&raw)?;
    let here = format!("/bookings/{}", id.get());
    // Back from Stripe: the client secret leaves the address first.
    if let Some(cleaned) = leave_stripe_return(&here, query.as_deref()) {
        return Ok(cleaned);
    }
    let me = viewer.require(&here)?.id;
    let details = blocking(&state, move |engine| {
        let booking = engine.booking(id, me)?;
        let expert = engine.account(booking.provider_id)?;
        // Whether the call is open, read without making anything: a token
        // is made only when the person joins.
        let config = engine.video_config();
        let now = Timestamp::now();
        let meeting = match check_joinable(&booking, config, now) {
            Ok(()) => Meeting::Open,
            Err(_) if booking.status == BookingStatus::Confirmed && booking.end_time > now => {
                Meeting::Later(config.open_before.as_secs() / 60)
            }
            Err(_) => Meeting::None,
        };
        Ok(BookingDetails {
            booking,
            expert,
            meeting,
        })
    })
    .await?;
    let payments = state.pages.stripe_publishable_key.is_some();
    let content = booking_markup(&viewer, me, &details, &arrival, payments);
    Ok(html(page(
        &viewer,
        Head {
            title: "Your booking",
            stylesheets: vec![assets::url("bookings.css")],
            zone_sensitive: true,
            ..Head::default()
        },
        content,
    )))
}

/// The booking page's content; `payments`: whether this server takes card
/// payments (the client of a booking waiting for payment can then pay it).
fn booking_markup(
    viewer: &Viewer,
    me: UserId,
    details: &BookingDetails,
    arrival: &Arrival,
    payments: bool,
) -> Markup {
    let booking = &details.booking;
    let expert = &details.expert;
    let zone = viewer.time_zone();
    let as_client = booking.user_id == me;
    let with = if as_client {
        expert.full_name.as_str()
    } else {
        booking.client_name.as_str()
    };
    let id = booking.id.get();
    let awaiting_payment = booking.status == BookingStatus::PendingPayment;
    // Back from paying, the payment is being confirmed: no second button.
    let can_pay = as_client && awaiting_payment && payments && arrival.paid.is_none();
    // The notice of a payment only while it means something: a cancelled
    // booking says so in its status.
    let paid_notice =
        arrival.paid.is_some() && (awaiting_payment || booking.status == BookingStatus::Confirmed);
    html! {
        div class="narrow booking-page" {
            @if arrival.booked.is_some() && booking.status == BookingStatus::Confirmed {
                p class="success" role="status" { "You're booked. See you then!" }
            }
            @if paid_notice {
                p class="success" role="status" {
                    @if booking.status == BookingStatus::Confirmed { "Payment received. You're booked." }
                    @else { "Thank you. Your payment is being confirmed." }
                }
            }
            h1 { "Session with " (with) }
            div class="card" {
                dl class="facts" {
                    dt { "When" }
                    dd data-start=(booking.start_time.to_rfc3339()) {
                        (when(booking, zone))
                    }
                    @if expert.timezone != zone {
                        dt { (if as_client { "The expert's time" } else { "Your working time" }) }
                        dd class="expert-time" { (when(booking, expert.timezone)) }
                    }
                    dt { "Length" }
                    dd { (booking.duration) " minutes" }
                    @if as_client {
                        dt { "Expert" }
                        dd { a href=(format!("/@{}", url_encode(expert.username.as_str()))) { (expert.full_name) } }
                    } @else {
                        dt { "Client" }
                        dd { (booking.client_name) }
                    }
                    dt { "Status" }
                    dd class={ "status status-" (booking.status.as_str()) } { (status_text(booking.status)) }
                    dt { "Price" }
                    dd {
                        @if booking.payment_amount.amount_minor == 0 { "Free" }
                        @else { (format::money(booking.payment_amount)) " · " (booking.payment_status.as_str().replace('_', " ")) }
                    }
                    @if let Some(message) = &booking.client_message {
                        dt { "Note" }
                        dd { (message) }
                    }
                    @if let Some(reason) = &booking.cancellation_reason {
                        dt { "Why cancelled" }
                        dd { (reason) }
                    }
                }
                section class="meeting" aria-label="The call" {
                    @match &details.meeting {
                        Meeting::Open => p { a class="button" href=(format!("/bookings/{id}/join")) { "Join the call" } },
                        Meeting::Later(minutes) => p class="note" { "The meeting link appears " (minutes) " minutes before the start." },
                        Meeting::None => {},
                    }
                }
                @if can_pay {
                    form class="pay-now" method="post" action=(format!("/bookings/{id}/pay")) {
                        (csrf_field(viewer))
                        button type="submit" { "Pay now" }
                    }
                }
                p class="actions" {
                    a class="button secondary" href=(format!("/bookings/{id}/calendar.ics")) download { "Add to calendar (.ics)" }
                    " "
                    a href="/account/bookings" { "All my bookings" }
                }
            }
        }
    }
}

/// `POST /bookings/{id}/pay`: the pay page again, for the booking's client
/// while it waits for payment, over its open PaymentIntent (the engine makes
/// none twice). A booking no longer owing anything (paid, cancelled, lapsed)
/// goes back to its page; its provider may not pay it (403); without
/// payments on this server, 503.
async fn pay_booking(
    State(state): State<AppState>,
    viewer: Viewer,
    PagePath(raw): PagePath<String>,
) -> Result<Response, PageError> {
    let id = booking_id(&raw)?;
    let here = format!("/bookings/{}", id.get());
    let me = viewer.require(&here)?.id;
    let Some(publishable_key) = state.pages.stripe_publishable_key.clone() else {
        return Err(PageError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Payments are unavailable right now.",
        ));
    };
    let (booking, expert, payment) = blocking(&state, move |engine| {
        let payment = engine.booking_payment(id, me)?;
        let booking = engine.booking(id, me)?;
        let expert = engine.account(booking.provider_id)?;
        Ok((booking, expert, payment))
    })
    .await?;
    let Some(payment) = payment else {
        return Ok(see_other(&here));
    };
    Ok(pay_page(
        &viewer,
        &expert,
        &booking,
        &payment,
        &publishable_key,
    ))
}

/// `Thu 3 Dec 2026, 14:00–15:00 (Europe/Paris)`.
fn when(booking: &Booking, zone: TimeZone) -> String {
    format!(
        "{}–{} ({})",
        format::date_time(booking.start_time, zone),
        format::clock(booking.end_time, zone),
        zone.as_str().replace('_', " ")
    )
}

/// A booking status as people read it.
fn status_text(status: BookingStatus) -> &'static str {
    match status {
        BookingStatus::PendingPayment => "Waiting for payment",
        BookingStatus::Confirmed => "Confirmed",
        BookingStatus::Completed => "Completed",
        BookingStatus::Cancelled => "Cancelled",
        BookingStatus::NoShow => "No-show",
    }
}

/// `GET /bookings/{id}/join`: the call, for the booker or the provider,
/// while it is open. A Daily room gets this person's meeting token now (in
/// the redirect, never in a page: Daily's prebuilt room takes it as `t`);
/// the WebRTC fallback is the call page. Joining makes things (the token,
/// and a room not made yet falls back to WebRTC for good), so a link
/// followed from another site (its `Sec-Fetch-Site` says so) does nothing
/// and lands on the booking's page, whose "Join the call" the person can
/// press; typed or bookmarked (`none`), or from an older browser, it joins.
async fn join_call(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    PagePath(raw): PagePath<String>,
) -> Result<Response, PageError> {
    let id = booking_id(&raw)?;
    let mut response = if sent_from_another_site(&headers) {
        see_other(&format!("/bookings/{}", id.get()))
    } else {
        join_now(&state, &viewer, id).await?
    };
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The redirect that joins the call of booking `id`: made for the viewer now.
async fn join_now(state: &AppState, viewer: &Viewer, id: BookingId) -> Result<Response, PageError> {
    let me = viewer.require(&format!("/bookings/{}/join", id.get()))?.id;
    let access = blocking(state, move |engine| engine.meeting(id, me)).await?;
    Ok(match access.path {
        MeetingPath::Daily { room_url, token } => {
            let join = if room_url.contains('?') { '&' } else { '?' };
            let token = url_encode(secrecy::ExposeSecret::expose_secret(&token));
            see_other(&format!("{room_url}{join}t={token}"))
        }
        MeetingPath::WebRtc { .. } => see_other(&format!("/bookings/{}/call", id.get())),
    })
}

/// The booking as an iCalendar file to download.
async fn booking_calendar(
    State(state): State<AppState>,
    viewer: Viewer,
    PagePath(raw): PagePath<String>,
) -> Result<Response, PageError> {
    let id = booking_id(&raw)?;
    let me = viewer.require(&format!("/bookings/{}", id.get()))?.id;
    let text = blocking(&state, move |engine| engine.booking_ics(id, me)).await?;
    let disposition = format!("attachment; filename=\"droply-booking-{}.ics\"", id.get());
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            ),
            (
                CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        text,
    )
        .into_response())
}

/// One row of the list: the booking and the other party's name and link.
struct Row {
    booking: Booking,
    with: String,
    link: Option<String>,
}

/// The query of `/account/bookings`: where each list goes on from (the
/// cursor of the previous page's last booking; absent, the latest).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    /// Sessions one booked, after this cursor.
    booked_after: Option<String>,
    /// Sessions booked with one, after this cursor.
    received_after: Option<String>,
}

impl ListQuery {
    /// The page of one list: the latest start first, after `raw` when
    /// given; a cursor this page did not write is a 400.
    fn page(raw: Option<&str>) -> Result<PageRequest, PageError> {
        let first = PageRequest::first(LISTED).desc();
        match raw {
            None | Some("") => Ok(first),
            Some(raw) => raw
                .parse()
                .map(|cursor| first.after(Some(cursor)))
                .map_err(|_| broken_link()),
        }
    }
}

/// A page link whose cursor is not one this page wrote.
fn broken_link() -> PageError {
    PageError::bad_request("That page link is broken. Start again from your bookings.")
}

/// One list's rows and the cursor of its next (older) page.
struct Listed {
    rows: Vec<Row>,
    next: Option<String>,
}

async fn my_bookings(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(query): PageQuery<ListQuery>,
) -> Result<Response, PageError> {
    let me = viewer.require(MY_BOOKINGS)?.id;
    let booked_page = ListQuery::page(query.booked_after.as_deref())?;
    let received_page = ListQuery::page(query.received_after.as_deref())?;
    let lists = blocking(&state, move |engine| {
        let page = engine.bookings_of(me, BookingRole::Client, &booked_page)?;
        let mut rows = Vec::with_capacity(page.items.len());
        for booking in page.items {
            let expert = engine.account(booking.provider_id)?;
            rows.push(Row {
                booking,
                with: expert.full_name,
                link: Some(format!("/@{}", url_encode(expert.username.as_str()))),
            });
        }
        let booked = Listed {
            rows,
            next: page.next.map(|cursor| cursor.to_string()),
        };
        let page = engine.bookings_of(me, BookingRole::Provider, &received_page)?;
        let received = Listed {
            rows: page
                .items
                .into_iter()
                .map(|booking| Row {
                    with: booking.client_name.clone(),
                    booking,
                    link: None,
                })
                .collect(),
            next: page.next.map(|cursor| cursor.to_string()),
        };
        Ok((booked, received))
    })
    .await;
    let (booked, received) = match lists {
        Ok(lists) => lists,
        // A well-formed cursor of another list (another person's, or the
        // other role's) is refused by the store as an invalid parameter.
        Err(err) if err.code() == ErrorCode::InvalidParameter => return Err(broken_link()),
        Err(err) => return Err(PageError::from(err)),
    };
    // Each list's link to its older page keeps where the other list is.
    let booked_more = booked
        .next
        .as_deref()
        .map(|next| more_link(Some(next), query.received_after.as_deref()));
    let received_more = received
        .next
        .as_deref()
        .map(|next| more_link(query.booked_after.as_deref(), Some(next)));
    let paged = query.booked_after.is_some() || query.received_after.is_some();
    let zone = viewer.time_zone();
    let content = html! {
        h1 { "My bookings" }
        p class="note" { "Latest first. Times in " (zone.as_str().replace('_', " ")) "." }
        @if paged {
            p { a href=(MY_BOOKINGS) { "Back to the latest bookings" } }
        }
        section aria-labelledby="booked-heading" {
            h2 id="booked-heading" { "Sessions you booked" }
            (booking_table(&booked.rows, zone, "Expert", "You have not booked a session yet."))
            @if let Some(href) = &booked_more {
                p { a class="more" rel="next" href=(href) { "Older bookings" } }
            }
        }
        @if !received.rows.is_empty() || received_more.is_some() || viewer.user.as_ref().is_some_and(User::is_expert) {
            section aria-labelledby="received-heading" {
                h2 id="received-heading" { "Sessions booked with you" }
                (booking_table(&received.rows, zone, "Client", "Nobody has booked you yet."))
                @if let Some(href) = &received_more {
                    p { a class="more" rel="next" href=(href) { "Older sessions booked with you" } }
                }
            }
        }
    };
    Ok(html(page(
        &viewer,
        Head {
            title: "My bookings",
            stylesheets: vec![assets::url("bookings.css")],
            zone_sensitive: true,
            ..Head::default()
        },
        content,
    )))
}

/// `/account/bookings` with each list going on from its cursor, if any.
fn more_link(booked_after: Option<&str>, received_after: Option<&str>) -> String {
    let mut query = Vec::new();
    if let Some(cursor) = booked_after.filter(|c| !c.is_empty()) {
        query.push(format!("booked_after={}", url_encode(cursor)));
    }
    if let Some(cursor) = received_after.filter(|c| !c.is_empty()) {
        query.push(format!("received_after={}", url_encode(cursor)));
    }
    if query.is_empty() {
        MY_BOOKINGS.to_owned()
    } else {
        format!("{MY_BOOKINGS}?{}", query.join("&"))
    }
}

fn booking_table(rows: &[Row], zone: TimeZone, party: &str, empty: &str) -> Markup {
    html! {
        @if rows.is_empty() {
            p class="muted" { (empty) }
        } @else {
            div class="table-wrap" {
                table class="bookings" {
                    thead { tr { th { "When" } th { (party) } th { "Status" } th { "Price" } th { span class="visually-hidden" { "Open" } } } }
                    tbody {
                        @for row in rows {
                            @let booking = &row.booking;
                            tr data-booking=(booking.id.get()) {
                                td { (format::date_time(booking.start_time, zone)) }
                                td {
                                    @match &row.link {
                                        Some(link) => a href=(link) { (row.with) },
                                        None => (row.with),
                                    }
                                }
                                td { (status_text(booking.status)) }
                                td {
                                    @if booking.payment_amount.amount_minor == 0 { "Free" }
                                    @else { (format::money(booking.payment_amount)) }
                                }
                                td { a href=(format!("/bookings/{}", booking.id.get())) { "Open booking" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_numeric_ids_are_bookings() {
        assert!(booking_id("12").is_ok());
        for bad in ["x", "-1", "1.ics", ""] {
            assert_eq!(
                booking_id(bad).expect_err("refused").status(),
                axum::http::StatusCode::NOT_FOUND
            );
        }
    }

    #[test]
    fn a_list_link_keeps_the_other_lists_cursor_and_a_bad_cursor_is_a_400() {
        assert_eq!(more_link(None, None), "/account/bookings");
        assert_eq!(
            more_link(Some("00ab"), Some("01cd")),
            "/account/bookings?booked_after=00ab&received_after=01cd"
        );
        assert_eq!(
            more_link(None, Some("01cd")),
            "/account/bookings?received_after=01cd"
        );
        assert!(ListQuery::page(None).is_ok());
        assert!(ListQuery::page(Some("00ab")).is_ok());
        for bad in ["nonsense", "abc", "+f"] {
            assert_eq!(
                ListQuery::page(Some(bad)).expect_err("refused").status(),
                axum::http::StatusCode::BAD_REQUEST
            );
        }
    }

    #[test]
    fn every_status_reads_as_words() {
        for status in BookingStatus::ALL {
            assert!(!status_text(*status).contains('_'));
        }
    }
}
