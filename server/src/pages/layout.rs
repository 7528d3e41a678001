//! The frame every page shares: the document head (title, stylesheet,
//! the CSRF `<meta>` scripts read, the page's own scripts, all from this
//! site), a skip link, the navigation (sign in and up, or the account and
//! sign out), the page's content in `<main>`, and the footer.

use maud::{DOCTYPE, Markup, html};

use super::assets;
use super::csrf;
use super::viewer::Viewer;

/// What a page adds to the frame.
#[derive(Debug, Default)]
pub struct Head<'a> {
    /// The page's title (before " · Droply").
    pub title: &'a str,
    /// The page's own scripts (embedded asset names), after `app.js`.
    pub scripts: &'a [&'static str],
    /// Further stylesheets (URLs on this site), after `app.css`.
    pub stylesheets: Vec<String>,
    /// Scripts from elsewhere (Stripe.js), only where the CSP allows them.
    pub external_scripts: Vec<&'static str>,
    /// A class on `<body>`.
    pub body_class: &'a str,
    /// The page shows times: it is reloaded once when the browser first
    /// reports its time zone.
    pub zone_sensitive: bool,
}

/// The hidden field that carries the CSRF token in a form.
pub fn csrf_field(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name=(csrf::FIELD) value=(viewer.csrf); }
}

/// A whole page: `content` inside the shared frame.
pub fn page(viewer: &Viewer, head: Head<'_>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(viewer.csrf);
                title { (head.title) " · Droply" }
                link rel="icon" href=(assets::url("favicon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(assets::url("app.css"));
                @for sheet in &head.stylesheets {
                    link rel="stylesheet" href=(sheet);
                }
                script src=(assets::url("app.js")) defer {}
                @for script in head.scripts {
                    script src=(assets::url(script)) defer {}
                }
                @for script in &head.external_scripts {
                    script src=(script) defer {}
                }
            }
            body class=(head.body_class) data-zone-sensitive[head.zone_sensitive] {
                a class="skip-link" href="#main" { "Skip to content" }
                header class="site-header" {
                    nav aria-label="Main" {
                        a class="brand" href="/" { "Droply" }
                        ul {
                            li { a href="/" { "Search" } }
                            @if let Some(user) = &viewer.user {
                                li { a href="/account" { "My account" } }
                                li {
                                    form method="post" action="/signout" class="inline" {
                                        (csrf_field(viewer))
                                        button type="submit" class="link" {
                                            "Sign out (" (user.username.as_str()) ")"
                                        }
                                    }
                                }
                            } @else {
                                li { a href="/signin" { "Sign in" } }
                                li { a href="/signup" class="button" { "Sign up" } }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" { (content) }
                footer class="site-footer" {
                    p { "Droply · find, book and pay experts · " a href="/docs" { "API" } }
                }
            }
        }
    }
}
