//! An expert's public profile page (`/@{username}`), drawn in their
//! branding: `/@{username}/theme.css` is the generated stylesheet of their
//! colours, typeface and size, and the layout is a class on `<body>` that
//! `profile.css` draws five ways. The page shows who they are (photo,
//! name, headline, location, bio, skills and tags, links, rating), their
//! reviews, their content for sale, their upcoming and live drop-ins, and
//! the booking widget. Unknown usernames and users who are not experts get
//! the 404 page.

use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::TimeDelta;
use droply_engine::availability::{Slot, SlotQuery};
use droply_engine::reviews::Review;
use droply_engine::{ContentDetails, PageRequest};
use droply_models::{DropinSession, Timestamp, User, Username};
use maud::{Markup, html};

use super::booking_widget::{DAYS_AHEAD, Widget, widget};
use super::search::avatar;
use crate::http::{AppState, blocking};
use crate::pages::extract::PagePath;
use crate::pages::layout::{Head, page};
use crate::pages::page::{PageError, html_with, url_encode};
use crate::pages::viewer::Viewer;
use crate::pages::{assets, format, theme};

/// Reviews shown on the page.
const REVIEWS_SHOWN: usize = 10;
/// Content items shown on the page.
const CONTENT_SHOWN: usize = 12;

/// `GET /@{username}` and `GET /@{username}/theme.css`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/@{username}", get(profile_page))
        .route("/@{username}/theme.css", get(theme_css))
}

/// Everything the page shows.
struct Profile {
    expert: User,
    reviews: Vec<Review>,
    content: Vec<ContentDetails>,
    dropins: Vec<DropinSession>,
    slots: Vec<Slot>,
}

/// The expert with `username`, or the 404 page.
pub fn parse_username(username: &str) -> Result<Username, PageError> {
    Username::parse(username).map_err(|_| PageError::not_found())
}

async fn profile_page(
    State(state): State<AppState>,
    viewer: Viewer,
    PagePath(username): PagePath<String>,
) -> Result<Response, PageError> {
    render(&state, &viewer, &username, StatusCode::OK, None).await
}

/// The profile page of `username` answered with `status`, its booking
/// widget showing `error` when a booking did not go through.
pub async fn render(
    state: &AppState,
    viewer: &Viewer,
    username: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let username = parse_username(username)?;
    let viewer_id = viewer.user_id();
    let zone = viewer.time_zone();
    let profile = blocking(state, move |engine| {
        let expert = engine.expert_by_username(&username)?;
        let reviews = engine
            .reviews_of(expert.id, &PageRequest::first(REVIEWS_SHOWN))?
            .items;
        let content = engine
            .published_content_of(expert.id, viewer_id, &PageRequest::first(CONTENT_SHOWN))?
            .items;
        let dropins = engine.open_dropins_of(expert.id)?;
        let slots = if expert.is_bookable() {
            let now = Timestamp::now();
            let from = zone.local_date(now);
            let query = SlotQuery {
                from,
                to: from
                    .checked_add_signed(TimeDelta::days(DAYS_AHEAD - 1))
                    .unwrap_or(from),
                viewer_tz: zone,
                duration_minutes: Some(expert.session_duration),
                now,
            };
            engine.expert_slots(expert.id, &query)?
        } else {
            Vec::new()
        };
        Ok(Profile {
            expert,
            reviews,
            content,
            dropins,
            slots,
        })
    })
    .await?;
    let expert = &profile.expert;
    let css = theme::stylesheet(expert);
    let handle = url_encode(expert.username.as_str());
    let key = hex::encode(rand::random::<[u8; 16]>());
    let booking = Widget {
        expert,
        slots: &profile.slots,
        payments: state.pages.stripe_publishable_key.is_some(),
        error,
        idempotency_key: &key,
    };
    let content = html! {
        div class="profile-page" {
            (hero(expert))
            div class="profile-body" {
                (about(expert))
                (widget(viewer, &booking))
                (content_for_sale(&profile.content))
                (dropins(viewer, &profile.dropins))
                (reviews(expert, &profile.reviews))
            }
        }
    };
    let title = expert.full_name.clone();
    let body_class = format!("profile layout-{}", expert.profile_layout.as_str());
    Ok(html_with(
        status,
        page(
            viewer,
            Head {
                title: &title,
                stylesheets: vec![
                    assets::url("profile.css"),
                    format!("/@{handle}/theme.css?v={}", theme::version(&css)),
                ],
                body_class: &body_class,
                zone_sensitive: true,
                ..Head::default()
            },
            content,
        ),
    ))
}

/// The expert's branding as a stylesheet.
async fn theme_css(
    State(state): State<AppState>,
    PagePath(username): PagePath<String>,
) -> Result<Response, PageError> {
    let username = parse_username(&username)?;
    let expert = blocking(&state, move |engine| engine.expert_by_username(&username)).await?;
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        theme::stylesheet(&expert),
    )
        .into_response())
}

/// Photo, name, headline, location, rating and links.
fn hero(expert: &User) -> Markup {
    let photo = expert.profile_picture.as_ref().map(|url| url.as_str());
    let headline = [expert.profession.as_str(), expert.industry.as_str()]
        .into_iter()
        .filter(|part| !part.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    html! {
        header class="profile-hero" {
            (avatar(photo, &expert.full_name))
            div class="profile-id" {
                h1 { (expert.full_name) }
                p class="headline" { (headline) }
                @if !expert.location.trim().is_empty() {
                    p class="location" { (expert.location) }
                }
                p class="rating" aria-label="Rating" { (format::rating(expert.rating(), expert.rating_count())) }
                (social_links(expert))
                p { a class="button book-link" href="#book" { "Book a session" } }
            }
        }
    }
}

/// The expert's public links, each named for where it goes.
fn social_links(expert: &User) -> Markup {
    let links = [
        ("LinkedIn", &expert.linkedin_url),
        ("X", &expert.twitter_url),
        ("GitHub", &expert.github_url),
        ("Instagram", &expert.instagram_url),
        ("Facebook", &expert.facebook_url),
        ("YouTube", &expert.youtube_url),
        ("Snapchat", &expert.snapchat_url),
        ("Website", &expert.website_url),
    ];
    html! {
        @if links.iter().any(|(_, url)| url.is_some()) {
            ul class="social-links" aria-label="Links" {
                @for (name, url) in links {
                    @if let Some(url) = url {
                        li { a href=(url.as_str()) rel="nofollow noopener" target="_blank" { (name) } }
                    }
                }
            }
        }
    }
}

/// Bio, what a session offers, skills and tags.
fn about(expert: &User) -> Markup {
    let skills: Vec<&String> = [&expert.skills_1, &expert.skills_2, &expert.skills_3]
        .into_iter()
        .flatten()
        .collect();
    html! {
        section class="profile-section profile-about" aria-labelledby="about-heading" {
            h2 id="about-heading" { "About" }
            @if expert.bio.trim().is_empty() {
                p class="muted" { "No biography yet." }
            } @else {
                p class="bio" { (expert.bio) }
            }
            @if !expert.service_description.trim().is_empty() {
                h3 { "What a session offers" }
                p { (expert.service_description) }
            }
            @if !skills.is_empty() || !expert.specialty_tags.is_empty() {
                h3 { "Skills" }
                ul class="chips" {
                    @for skill in &skills { li class="chip skill" { (skill) } }
                    @for tag in &expert.specialty_tags { li class="chip tag" { "#" (tag) } }
                }
            }
        }
    }
}

/// The expert's published content, each linking to its page.
fn content_for_sale(items: &[ContentDetails]) -> Markup {
    html! {
        @if !items.is_empty() {
            section class="profile-section profile-content" aria-labelledby="content-heading" {
                h2 id="content-heading" { "Content" }
                ul class="item-list" {
                    @for item in items {
                        @let content = &item.content;
                        li {
                            a href=(format!("/c/{}", content.id.get())) { (content.title) }
                            " "
                            span class="muted" { (content.content_type.as_str()) }
                            " · "
                            span class="price" {
                                @if content.price.amount_minor == 0 { "Free" } @else { (format::money(content.price)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Upcoming and live drop-ins, each linking to its room, with when it
/// starts or started in the viewer's zone, named.
fn dropins(viewer: &Viewer, sessions: &[DropinSession]) -> Markup {
    let zone = viewer.time_zone();
    let now = Timestamp::now();
    html! {
        @if !sessions.is_empty() {
            section class="profile-section profile-dropins" aria-labelledby="dropins-heading" {
                h2 id="dropins-heading" { "Drop-ins" }
                ul class="item-list" {
                    @for session in sessions {
                        li {
                            a href=(format!("/d/{}", url_encode(session.session_code.as_str()))) { (session.topic) }
                            " "
                            @match session.started_at {
                                Some(start) if start > now => span class="muted" { "Starts " (format::day(start, zone)) " at " (format::clock_with_zone(start, zone)) },
                                Some(started) => span class="live" { "● Live since " (format::clock_with_zone(started, zone)) },
                                None => span class="muted" { "Opens soon" },
                            }
                            " · "
                            span class="muted" { (session.current_participants) " of " (session.max_participants) " joined" }
                        }
                    }
                }
            }
        }
    }
}

/// The newest reviews and the expert's answers.
fn reviews(expert: &User, reviews: &[Review]) -> Markup {
    html! {
        section class="profile-section profile-reviews" aria-labelledby="reviews-heading" {
            h2 id="reviews-heading" { "Reviews " span class="muted" { (format::rating(expert.rating(), expert.rating_count())) } }
            @if reviews.is_empty() {
                p class="muted" { "No reviews yet." }
            } @else {
                ul class="review-list" {
                    @for review in reviews {
                        li class="review" {
                            p class="stars" aria-label={ (review.rating) " of 5 stars" } {
                                @for _ in 0..review.rating { "★" }
                                @for _ in review.rating..5 { "☆" }
                            }
                            @if let Some(comment) = &review.comment { p { (comment) } }
                            p class="muted" { "— " (review.author_name) }
                            @if let Some(answer) = &review.answer {
                                p class="answer" { strong { (expert.full_name) ": " } (answer) }
                            }
                        }
                    }
                }
            }
        }
    }
}
