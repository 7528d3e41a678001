//! Who is looking at a page: the signed-in user (from the session cookie,
//! checked by the same accounts engine as the API's bearer tokens), the
//! browser's CSRF token, and the time zone times are shown in (the
//! `droply_tz` cookie the page script sets from the browser, else the
//! account's zone, else UTC). A missing, expired or unknown session is
//! simply anonymous. A signed-in viewer's form posts count against the
//! account's write limit, as its API writes do.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use droply_models::{TimeZone, User, UserId};

use super::cookies;
use super::csrf::CsrfToken;
use super::page::PageError;
use crate::http::{AppState, blocking};

/// The viewer of a page.
pub struct Viewer {
    /// The signed-in user, if any.
    pub user: Option<User>,
    /// The browser's CSRF token, repeated in every form.
    pub csrf: String,
    /// The zone the browser reported, if any.
    browser_zone: Option<TimeZone>,
    /// The session token of the cookie, when it is valid.
    session: Option<String>,
}

impl Viewer {
    /// The signed-in user's id.
    pub fn user_id(&self) -> Option<UserId> {
        self.user.as_ref().map(|user| user.id)
    }

    /// The signed-in user, or a redirect to sign in that comes back to `here`.
    pub fn require(&self, here: &str) -> Result<&User, PageError> {
        self.user
            .as_ref()
            .ok_or_else(|| PageError::sign_in_first(here))
    }

    /// The session token, for signing out.
    pub fn session_token(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// The zone to show times in: the browser's, else the account's, else UTC.
    pub fn time_zone(&self) -> TimeZone {
        self.browser_zone
            .or(self.user.as_ref().map(|user| user.timezone))
            .unwrap_or_default()
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|token| token.0.clone())
            .unwrap_or_default();
        let secure = state.pages.secure_cookies;
        let browser_zone = cookies::read(&parts.headers, cookies::TIME_ZONE, secure)
            .map(|zone| zone.replace("%2F", "/"))
            .and_then(|zone| TimeZone::parse(&zone).ok());
        let token = cookies::session_token(&parts.headers, secure).map(str::to_owned);
        let Some(token) = token else {
            return Ok(Viewer {
                user: None,
                csrf,
                browser_zone,
                session: None,
            });
        };
        let lookup = token.clone();
        let user = blocking(state, move |engine| {
            engine
                .signed_in(&lookup)?
                .map(|id| engine.account(id))
                .transpose()
        })
        .await?;
        // A page's write counts against the account as the API's do.
        if let Some(user) = &user {
            state.rate_limits.check_account_write(parts, user.id)?;
        }
        let session = user.is_some().then_some(token);
        Ok(Viewer {
            user,
            csrf,
            browser_zone,
            session,
        })
    }
}
