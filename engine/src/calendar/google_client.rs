//! The Google client: every call Droply makes to Google's OAuth endpoints
//! (code exchange, refresh, revocation) and Calendar API (FreeBusy, events),
//! through reqwest. The engine is blocking, so the client owns a small
//! runtime ("google-io") and waits for each call on it, as the Stripe
//! gateway does; no call is ever made inside a store write transaction.
//! Answers are read as JSON values holding only what is used; tokens are
//! [`SecretString`]s from the moment they are read, and no error message
//! carries one. A failure says whether it is worth retrying and whether
//! Google refused the refresh token (`invalid_grant`).

use std::future::Future;
use std::sync::mpsc;

use droply_models::Timestamp;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::config::GoogleConfig;
use crate::availability::Interval;
use crate::{Error, Result};

/// What kind of failure a call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoogleFailure {
    /// The refresh token (or code) is no longer good: `invalid_grant`.
    InvalidGrant,
    /// The access token was refused (401): refresh and try again.
    Unauthorized,
    /// The event is not there (404 or 410).
    Gone,
    /// The event id asked for is taken by an event that is not the one
    /// this call makes (another store's, or one deleted since).
    Taken,
    /// Anything else.
    Other,
}

/// A failed call to Google.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleError {
    /// What went wrong, safe to log (never a token).
    pub message: String,
    /// Whether the same call may succeed later.
    pub retryable: bool,
    /// What kind of failure.
    pub failure: GoogleFailure,
}

impl From<GoogleError> for Error {
    fn from(err: GoogleError) -> Self {
        Error::CalendarProvider(err.message)
    }
}

impl GoogleError {
    fn network(err: &reqwest::Error) -> GoogleError {
        GoogleError {
            message: format!(
                "Google could not be reached{}",
                if err.is_timeout() { " in time" } else { "" }
            ),
            retryable: true,
            failure: GoogleFailure::Other,
        }
    }

    fn from_answer(status: StatusCode, body: &Value) -> GoogleError {
        // OAuth errors are {"error": "invalid_grant", ...}; API errors are
        // {"error": {"code": 404, "message": "..."}}.
        let oauth_error = body.get("error").and_then(Value::as_str);
        let detail = oauth_error
            .map(str::to_owned)
            .or_else(|| {
                body.pointer("/error/message")
                    .and_then(Value::as_str)
                    .map(|m| m.chars().take(200).collect())
            })
            .unwrap_or_else(|| "no detail".to_owned());
        let failure = if oauth_error == Some("invalid_grant") {
            GoogleFailure::InvalidGrant
        } else if status == StatusCode::UNAUTHORIZED {
            GoogleFailure::Unauthorized
        } else if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            GoogleFailure::Gone
        } else {
            GoogleFailure::Other
        };
        GoogleError {
            message: format!("Google answered {}: {detail}", status.as_u16()),
            retryable: status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::REQUEST_TIMEOUT
                || status.is_server_error()
                || failure == GoogleFailure::Unauthorized,
            failure,
        }
    }

    fn unreadable(what: &str) -> GoogleError {
        GoogleError {
            message: format!("Google's answer could not be read: {what}"),
            retryable: true,
            failure: GoogleFailure::Other,
        }
    }
}

/// Tokens Google granted.
pub struct TokenGrant {
    /// The access token.
    pub access_token: SecretString,
    /// A refresh token, when Google gave one (code exchange; a refresh
    /// usually gives none).
    pub refresh_token: Option<SecretString>,
    /// Seconds the access token is valid for.
    pub expires_in: i64,
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// An event as Droply writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBody {
    /// Its title.
    pub summary: String,
    /// Its text.
    pub description: String,
    /// When it starts.
    pub start: Timestamp,
    /// When it ends.
    pub end: Timestamp,
    /// Whose it is, `<instance key>:<booking id>`, kept in the event's
    /// private extended property `droply`: a create that meets its own id
    /// taken adopts the event only when it says the same.
    pub owner: String,
}

impl EventBody {
    /// The event as Google takes it. It is shown free (`transparent`): the
    /// session already holds its time in Droply, and a busy event would come
    /// back in the expert's free/busy and block the session's own slot after
    /// a cancel or a move.
    fn json(&self) -> Value {
        json!({
            "transparency": "transparent",
            "summary": self.summary,
            "description": self.description,
            "start": {"dateTime": self.start.to_rfc3339(), "timeZone": "UTC"},
            "end": {"dateTime": self.end.to_rfc3339(), "timeZone": "UTC"},
            "extendedProperties": {"private": {OWNER_PROPERTY: self.owner}},
        })
    }
}

/// The private extended property naming an event's store and booking.
const OWNER_PROPERTY: &str = "droply";

/// The HTTP client, the runtime its calls run on, and where Google is.
#[derive(Debug)]
pub struct GoogleClient {
    http: reqwest::Client,
    /// Always `Some` until dropped.
    runtime: Option<tokio::runtime::Runtime>,
    config: GoogleConfig,
}

impl Drop for GoogleClient {
    /// Lets the runtime go without blocking (the last engine handle may be
    /// dropped on another runtime's worker thread).
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

type Answer = std::result::Result<(StatusCode, Value), GoogleError>;

impl GoogleClient {
    /// A client for the Google endpoints of `config`.
    pub fn new(config: &GoogleConfig) -> Result<GoogleClient> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("droply/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| Error::Config(format!("the Google HTTP client: {err}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("google-io")
            .enable_all()
            .build()?;
        Ok(GoogleClient {
            http,
            runtime: Some(runtime),
            config: config.clone(),
        })
    }

    /// The configuration it calls.
    pub fn config(&self) -> &GoogleConfig {
        &self.config
    }

    /// Sends `request` on the client's runtime and waits for the status
    /// and JSON body (`null` when there is none); works from any thread.
    fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let (answer, answered) = mpsc::channel();
        let call = async move {
            let response = request.send().await.map_err(|e| GoogleError::network(&e))?;
            let status = response.status();
            let bytes = response
                .bytes()
                .await
                .map_err(|e| GoogleError::network(&e))?;
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            Ok::<_, GoogleError>((status, body))
        };
        self.spawn(call, answer);
        answered.recv().unwrap_or_else(|_| {
            Err(GoogleError {
                message: "the Google call was dropped".to_owned(),
                retryable: true,
                failure: GoogleFailure::Other,
            })
        })
    }

    fn spawn(
        &self,
        call: impl Future<Output = Answer> + Send + 'static,
        answer: mpsc::Sender<Answer>,
    ) {
        if let Some(runtime) = &self.runtime {
            runtime.spawn(async move {
                let _ = answer.send(call.await);
            });
        }
    }

    /// `Ok(body)` for a 2xx answer, else the classified error.
    fn expect_success(answer: Answer) -> std::result::Result<Value, GoogleError> {
        let (status, body) = answer?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(GoogleError::from_answer(status, &body))
        }
    }

    fn grant(body: &Value) -> std::result::Result<TokenGrant, GoogleError> {
        let access_token = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| GoogleError::unreadable("no access_token"))?;
        Ok(TokenGrant {
            access_token: SecretString::from(access_token.to_owned()),
            refresh_token: body
                .get("refresh_token")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(|t| SecretString::from(t.to_owned())),
            expires_in: body
                .get("expires_in")
                .and_then(Value::as_i64)
                .unwrap_or(3600)
                .clamp(0, 86_400 * 30),
        })
    }

    fn token_request(&self, form: &[(&str, &str)]) -> std::result::Result<TokenGrant, GoogleError> {
        let mut fields = vec![
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose_secret()),
        ];
        fields.extend_from_slice(form);
        let body =
            Self::expect_success(self.send(self.http.post(&self.config.token_url).form(&fields)))?;
        Self::grant(&body)
    }

    /// Exchanges an authorization `code` (with the PKCE `verifier`) for tokens.
    pub fn exchange_code(
        &self,
        code: &str,
        verifier: &SecretString,
    ) -> std::result::Result<TokenGrant, GoogleError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.config.redirect_url.as_str()),
            ("code_verifier", verifier.expose_secret()),
        ])
    }

    /// A new access token for `refresh_token`.
    pub fn refresh(
        &self,
        refresh_token: &SecretString,
    ) -> std::result::Result<TokenGrant, GoogleError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ])
    }

    /// Revokes `token` (and the grant it belongs to). A token Google no
    /// longer knows counts as revoked.
    pub fn revoke(&self, token: &SecretString) -> std::result::Result<(), GoogleError> {
        let request = self
            .http
            .post(&self.config.revoke_url)
            .form(&[("token", token.expose_secret())]);
        match Self::expect_success(self.send(request)) {
            Ok(_) => Ok(()),
            Err(err) if !err.retryable && err.failure != GoogleFailure::Unauthorized => {
                // 400 invalid_token: already revoked or expired.
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    fn api(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_base.trim_end_matches('/'))
    }

    /// The busy intervals of the primary calendar within `window`.
    pub fn free_busy(
        &self,
        access: &SecretString,
        window: Interval,
    ) -> std::result::Result<Vec<Interval>, GoogleError> {
        let request = self
            .http
            .post(self.api("/calendar/v3/freeBusy"))
            .bearer_auth(access.expose_secret())
            .json(&json!({
                "timeMin": window.start.to_rfc3339(),
                "timeMax": window.end.to_rfc3339(),
                "items": [{"id": "primary"}],
            }));
        let body = Self::expect_success(self.send(request))?;
        let calendar = body
            .pointer("/calendars/primary")
            .ok_or_else(|| GoogleError::unreadable("no primary calendar"))?;
        if let Some(reason) = calendar.pointer("/errors/0/reason").and_then(Value::as_str) {
            return Err(GoogleError {
                message: format!("Google could not read the calendar: {reason}"),
                retryable: true,
                failure: GoogleFailure::Other,
            });
        }
        let mut busy = Vec::new();
        for span in calendar
            .get("busy")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let instant = |field: &str| {
                span.get(field)
                    .and_then(Value::as_str)
                    .and_then(|text| Timestamp::parse_rfc3339(text).ok())
            };
            match (instant("start"), instant("end")) {
                (Some(start), Some(end)) => busy.extend(Interval::new(start, end)),
                _ => return Err(GoogleError::unreadable("a busy interval without times")),
            }
        }
        Ok(busy)
    }

    /// Creates `event` in the primary calendar; Google's event id. With
    /// `id` (chosen by us, the first time a booking gets an event) the call
    /// is idempotent: a retry after a lost answer meets 409 and keeps the
    /// event the first call made, once it has read that event back and
    /// found it is `event`'s (its `owner`, and not deleted); an id taken by
    /// any other event fails with [`GoogleFailure::Taken`].
    pub fn create_event(
        &self,
        access: &SecretString,
        event: &EventBody,
        id: Option<&str>,
    ) -> std::result::Result<String, GoogleError> {
        let mut body = event.json();
        if let (Some(id), Some(fields)) = (id, body.as_object_mut()) {
            fields.insert("id".to_owned(), Value::String(id.to_owned()));
        }
        let request = self
            .http
            .post(self.api("/calendar/v3/calendars/primary/events"))
            .bearer_auth(access.expose_secret())
            .json(&body);
        let answer = self.send(request)?;
        if let (StatusCode::CONFLICT, Some(id)) = (answer.0, id) {
            return if self.event_is(access, id, &event.owner)? {
                Ok(id.to_owned())
            } else {
                Err(GoogleError {
                    message: format!("the event id {id} is taken by an event that is not ours"),
                    retryable: false,
                    failure: GoogleFailure::Taken,
                })
            };
        }
        let body = Self::expect_success(Ok(answer))?;
        body.get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty() && id.len() <= 1024)
            .map(str::to_owned)
            .ok_or_else(|| GoogleError::unreadable("the new event has no id"))
    }

    /// Whether event `id` is there (not deleted) and `owner`'s, as its
    /// private `droply` property says; false when it is not found.
    fn event_is(
        &self,
        access: &SecretString,
        id: &str,
        owner: &str,
    ) -> std::result::Result<bool, GoogleError> {
        let request = self
            .http
            .get(self.event_url(id))
            .bearer_auth(access.expose_secret());
        let body = match Self::expect_success(self.send(request)) {
            Ok(body) => body,
            Err(err) if err.failure == GoogleFailure::Gone => return Ok(false),
            Err(err) => return Err(err),
        };
        let cancelled = body.get("status").and_then(Value::as_str) == Some("cancelled");
        let tagged = body
            .pointer(&format!("/extendedProperties/private/{OWNER_PROPERTY}"))
            .and_then(Value::as_str);
        Ok(!cancelled && tagged == Some(owner))
    }

    /// Moves event `id` to `event`'s times and text.
    pub fn patch_event(
        &self,
        access: &SecretString,
        id: &str,
        event: &EventBody,
    ) -> std::result::Result<(), GoogleError> {
        let request = self
            .http
            .patch(self.event_url(id))
            .bearer_auth(access.expose_secret())
            .json(&event.json());
        Self::expect_success(self.send(request)).map(drop)
    }

    /// Deletes event `id`; one already gone counts as deleted.
    pub fn delete_event(
        &self,
        access: &SecretString,
        id: &str,
    ) -> std::result::Result<(), GoogleError> {
        let request = self
            .http
            .delete(self.event_url(id))
            .bearer_auth(access.expose_secret());
        match Self::expect_success(self.send(request)) {
            Err(err) if err.failure == GoogleFailure::Gone => Ok(()),
            other => other.map(drop),
        }
    }

    fn event_url(&self, id: &str) -> String {
        let encoded: String = form_encode(id);
        self.api(&format!("/calendar/v3/calendars/primary/events/{encoded}"))
    }
}

/// `id` with everything but unreserved characters percent-encoded.
fn form_encode(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
