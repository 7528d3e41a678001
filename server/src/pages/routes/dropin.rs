//! The drop-in room at `/d/{code}`: a join form (signed in, as oneself;
//! anonymously, under a display name, where the host allows it), and the
//! live room `room.js` runs over the WebSocket `/v1/dropins/{id}/live`.
//! The participant token never reaches the page: joining sets it in an
//! HttpOnly, `SameSite=Strict` cookie sent only to that socket's path
//! (which accepts it from this site's origin only), and a second cookie,
//! holding no secret, tells this page the browser joined. The host enters
//! with their own session.

use axum::Router;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use droply_engine::dropins::{DropinState, Joining, state_of};
use droply_models::{DropinSession, Timestamp};
use maud::{Markup, html};
use serde::Deserialize;

use crate::http::{AppState, blocking};
use crate::pages::assets;
use crate::pages::cookies;
use crate::pages::extract::{PageForm, PagePath, PageQuery};
use crate::pages::format;
use crate::pages::layout::{Head, csrf_field, page};
use crate::pages::page::{PageError, html, html_with, see_other, status_of};
use crate::pages::viewer::Viewer;

/// How long the drop-in cookies last (a drop-in runs at most 8 hours).
const COOKIE_SECONDS: i64 = 12 * 60 * 60;

/// `/d/{code}` and `/d/{code}/join`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/d/{code}", get(show_dropin))
        .route("/d/{code}/join", post(join_dropin))
}

#[derive(Debug, Deserialize)]
struct RoomQuery {
    /// Show the join form even where this browser joined before.
    join: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JoinForm {
    display_name: String,
}

/// The path of drop-in `code`'s page.
fn here(code: &str) -> String {
    format!("/d/{}", crate::pages::page::url_encode(code))
}

/// The drop-in with `code`; a 404 that says what was not found.
async fn find(state: &AppState, code: &str) -> Result<DropinSession, PageError> {
    let code = code.to_owned();
    blocking(state, move |engine| engine.dropin_by_code(&code))
        .await
        .map_err(|err| {
            let error = PageError::from(err);
            if error.status() == StatusCode::NOT_FOUND {
                PageError::new(
                    StatusCode::NOT_FOUND,
                    "No drop-in has this code. Check the link you were given.",
                )
            } else {
                error
            }
        })
}

async fn show_dropin(
    State(state): State<AppState>,
    viewer: Viewer,
    PagePath(code): PagePath<String>,
    PageQuery(query): PageQuery<RoomQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    let session = find(&state, &code).await?;
    if state_of(&session, Timestamp::now()) == DropinState::Ended {
        return Ok(html(ended_page(&viewer, &session)));
    }
    let is_host = viewer.user_id() == Some(session.host_id);
    let secure = state.pages.secure_cookies;
    let joined = cookies::read(&headers, cookies::DROPIN_JOINED, secure)
        .is_some_and(|id| id == session.id.get().to_string());
    if is_host || (joined && query.join.is_none()) {
        return Ok(html(room_page(&viewer, &session, is_host)));
    }
    Ok(html(join_page(&viewer, &session, None, "")))
}

async fn join_dropin(
    State(state): State<AppState>,
    viewer: Viewer,
    PagePath(code): PagePath<String>,
    PageForm(form): PageForm<JoinForm>,
) -> Result<Response, PageError> {
    let session = find(&state, &code).await?;
    let name = form.display_name.trim().to_owned();
    let joining = Joining {
        code: session.session_code.as_str().to_owned(),
        user: viewer.user_id(),
        display_name: (!name.is_empty()).then(|| name.clone()),
    };
    // The participant token lasts as long as this browser's sign-in.
    let sign_in = viewer
        .user_id()
        .and(viewer.session_token())
        .map(str::to_owned);
    match blocking(&state, move |engine| {
        engine.join_dropin(&joining, sign_in.as_deref())
    })
    .await
    {
        Ok(joined) => {
            let id = joined.session.id.get();
            let secure = state.pages.secure_cookies;
            let token = cookies::set_on_path(
                cookies::DROPIN,
                &joined.token,
                &format!("/v1/dropins/{id}/live"),
                "Strict",
                Some(COOKIE_SECONDS),
                secure,
            );
            let marker = cookies::set_on_path(
                cookies::DROPIN_JOINED,
                &id.to_string(),
                &here(session.session_code.as_str()),
                "Strict",
                Some(COOKIE_SECONDS),
                secure,
            );
            let mut response = see_other(&here(session.session_code.as_str()));
            for cookie in [token, marker] {
                if let Ok(value) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().append(SET_COOKIE, value);
                }
            }
            Ok(response)
        }
        Err(err) => {
            let status = status_of(&err);
            Ok(html_with(
                status,
                join_page(&viewer, &session, Some(err.message()), &name),
            ))
        }
    }
}

fn frame(
    viewer: &Viewer,
    session: &DropinSession,
    scripts: &[&'static str],
    content: Markup,
) -> Markup {
    page(
        viewer,
        Head {
            title: &session.topic,
            scripts,
            stylesheets: vec![assets::url("room.css")],
            body_class: "dropin",
            zone_sensitive: true,
            ..Head::default()
        },
        content,
    )
}

fn heading(viewer: &Viewer, session: &DropinSession) -> Markup {
    let zone = viewer.time_zone();
    let upcoming = match (state_of(session, Timestamp::now()), session.started_at) {
        (DropinState::Upcoming, Some(start)) => Some(start),
        _ => None,
    };
    html! {
        @if let Some(start) = upcoming {
            p class="live-label upcoming" {
                "Starts " (format::day(start, zone)) " at " (format::clock_with_zone(start, zone))
            }
        } @else {
            p class="live-label" { "Live drop-in" }
        }
        h1 { (session.topic) }
        @if !session.description.is_empty() {
            p class="room-description" { (session.description) }
        }
    }
}

fn ended_page(viewer: &Viewer, session: &DropinSession) -> Markup {
    frame(
        viewer,
        session,
        &[],
        html! {
            section class="narrow card" {
                (heading(viewer, session))
                p role="status" { "This drop-in has ended." }
            }
        },
    )
}

fn join_page(
    viewer: &Viewer,
    session: &DropinSession,
    error: Option<&str>,
    typed_name: &str,
) -> Markup {
    let action = format!("{}/join", here(session.session_code.as_str()));
    let content = html! {
        section class="narrow card" {
            (heading(viewer, session))
            p class="muted" { (session.current_participants) " of " (session.max_participants) " seats taken." }
            @if let Some(error) = error {
                p class="alert" role="alert" { (error) }
            }
            @if let Some(user) = &viewer.user {
                form method="post" action=(action) class="stack" {
                    (csrf_field(viewer))
                    @if session.is_anonymous {
                        p { "Others here see a display name only." }
                        label for="display_name" { "Display name (optional)" }
                        input id="display_name" name="display_name" maxlength="50" value=(typed_name);
                    }
                    @if session.is_anonymous {
                        button type="submit" { "Join anonymously" }
                    } @else {
                        button type="submit" { "Join as " (user.full_name) }
                    }
                }
            } @else if session.is_anonymous {
                form method="post" action=(action) class="stack" {
                    (csrf_field(viewer))
                    label for="display_name" { "Display name" }
                    input id="display_name" name="display_name" required maxlength="50" autocomplete="nickname" value=(typed_name);
                    small { "Others see only this name." }
                    button type="submit" { "Join" }
                }
                p { "Or " a href=(format!("/signin?next={}", here(session.session_code.as_str()))) { "sign in" } " to join as yourself." }
            } @else {
                p { "The host asks people to sign in to join." }
                p { a class="button" href=(format!("/signin?next={}", here(session.session_code.as_str()))) { "Sign in to join" } }
            }
        }
    };
    frame(viewer, session, &[], content)
}

fn room_page(viewer: &Viewer, session: &DropinSession, is_host: bool) -> Markup {
    let rejoin = format!("{}?join=1", here(session.session_code.as_str()));
    let content = html! {
        div class="room" id="room" data-session-id=(session.id.get()) data-host[is_host] data-rejoin=(rejoin) {
            header class="room-head" {
                (heading(viewer, session))
                p id="room-status" class="room-status" role="status" aria-live="polite" { "Connecting…" }
            }
            aside class="room-people" aria-labelledby="present-title" {
                h2 id="present-title" { "Here now" }
                ul id="presence" class="presence" {}
            }
            section class="room-feed" aria-labelledby="feed-title" {
                h2 id="feed-title" class="visually-hidden" { "Messages" }
                ol id="messages" class="messages" aria-live="polite" {}
                form id="compose" class="compose" {
                    p id="replying" class="replying" hidden {
                        span id="replying-text" {}
                        " "
                        button type="button" class="link" id="cancel-reply" { "Cancel" }
                    }
                    label for="compose-type" class="visually-hidden" { "Kind" }
                    select id="compose-type" name="type" {
                        option value="comment" { "Comment" }
                        option value="question" { "Question" }
                    }
                    label for="compose-text" class="visually-hidden" { "Message" }
                    input id="compose-text" name="content" maxlength="2000" required autocomplete="off" placeholder="Write a message";
                    button type="submit" { "Send" }
                }
            }
        }
    };
    frame(viewer, session, &["room.js"], content)
}
