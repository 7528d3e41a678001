//! The Daily.co client: every call the service makes to Daily's REST API
//! (create a room, fetch one by name, create a meeting token, fetch a
//! recording's download link), through reqwest with the API key as a bearer
//! token. The engine is blocking, so the client owns a small runtime
//! ("daily-io") and waits for each call on it; no call is ever made inside
//! a store write transaction. A failure says whether it is worth retrying
//! ([`DailyError::retryable`]): a network error, a timeout, a 429 or a 5xx
//! may succeed later; Daily refusing the request is final.
//!
//! Room creation is idempotent by name: a room named after the booking that
//! already exists (an earlier attempt whose answer was lost) is fetched
//! instead of made twice. Meeting tokens and download links are returned to
//! the caller and never logged; the API key never leaves the request.

use std::future::Future;
use std::sync::mpsc;

use droply_models::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::config::DailyConfig;
use crate::{Error, Result};

/// A failed call to Daily.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyError {
    /// What went wrong, safe to log (never a key or a token).
    pub message: String,
    /// Whether the same call may succeed later.
    pub retryable: bool,
}

impl From<DailyError> for Error {
    fn from(err: DailyError) -> Self {
        Error::VideoProvider(err.message)
    }
}

/// A room at Daily, as far as we read it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DailyRoom {
    /// Daily's room id.
    pub id: String,
    /// The room's unique name (ours, derived from the booking).
    pub name: String,
    /// Where the call is joined.
    pub url: String,
}

/// A short-lived download link of a recording (`Debug` hides the link).
#[derive(Clone, PartialEq, Eq)]
pub struct RecordingLink {
    /// The link (never stored).
    pub url: String,
    /// When Daily stops honouring it, if it said.
    pub expires_at: Option<Timestamp>,
}

impl std::fmt::Debug for RecordingLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingLink")
            .field("url", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenReply {
    token: String,
}

#[derive(Deserialize)]
struct LinkReply {
    download_link: String,
    expires: Option<i64>,
}

/// What a new meeting token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest<'a> {
    /// The room it opens.
    pub room_name: &'a str,
    /// The name shown in the call.
    pub user_name: &'a str,
    /// Whether its holder owns the room (the provider).
    pub is_owner: bool,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// The client and the runtime its calls run on.
pub struct DailyClient {
    http: reqwest::Client,
    api_key: SecretString,
    api_base: String,
    /// Always `Some` until dropped.
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for DailyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DailyClient")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl Drop for DailyClient {
    /// Lets the runtime go without blocking (the last engine handle may be
    /// dropped on another runtime's worker thread).
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn unix(at: Timestamp) -> i64 {
    at.as_micros().div_euclid(1_000_000)
}

impl DailyClient {
    /// A client of the Daily account `config` names; [`Error::Config`]
    /// when the configuration fails [`DailyConfig::check`].
    pub fn new(config: &DailyConfig) -> Result<DailyClient> {
        config.check()?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("droply/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| Error::Config(format!("the Daily client cannot be built: {err}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("daily-io")
            .enable_all()
            .build()?;
        Ok(DailyClient {
            http,
            api_key: config.api_key.clone(),
            api_base: config.api_base.trim_end_matches('/').to_owned(),
            runtime: Some(runtime),
        })
    }

    /// Runs `call` on the client's runtime and waits for it.
    fn wait<T: Send + 'static>(
        &self,
        call: impl Future<Output = Result<T, DailyError>> + Send + 'static,
    ) -> Result<T, DailyError> {
        let (answer, answered) = mpsc::channel();
        if let Some(runtime) = &self.runtime {
            runtime.spawn(async move {
                let _ = answer.send(call.await);
            });
        }
        answered.recv().map_err(|_| DailyError {
            message: "the Daily call was dropped".to_owned(),
            retryable: true,
        })?
    }

    /// Sends `method path` with an optional JSON body; the answer's JSON,
    /// or the error classified.
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), DailyError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.api_base))
            .bearer_auth(self.api_key.expose_secret());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let what = path.split('/').nth(1).unwrap_or("api").to_owned();
        self.wait(async move {
            let response = request.send().await.map_err(|err| DailyError {
                message: format!(
                    "Daily could not be reached ({what}): {}",
                    if err.is_timeout() {
                        "timed out".to_owned()
                    } else {
                        err.without_url().to_string()
                    }
                ),
                retryable: true,
            })?;
            let status = response.status().as_u16();
            let value = response.json::<Value>().await.unwrap_or(Value::Null);
            Ok((status, value))
        })
    }

    fn refused(status: u16, reply: &Value, what: &str) -> DailyError {
        let info = reply
            .get("info")
            .or_else(|| reply.get("error"))
            .and_then(Value::as_str)
            .unwrap_or("no message");
        DailyError {
            message: format!("Daily refused {what} ({status}): {info}"),
            retryable: status == 429 || status >= 500,
        }
    }

    fn read<T: serde::de::DeserializeOwned>(reply: Value, what: &str) -> Result<T, DailyError> {
        // Only the kind of error: serde's message quotes the value it
        // refused, which could be a token or a link of Daily's answer.
        serde_json::from_value(reply).map_err(|err| DailyError {
            message: format!(
                "Daily's answer to {what} could not be read ({:?} error)",
                err.classify()
            ),
            retryable: true,
        })
    }

    /// Creates the private room `name`, joinable from `not_before` until
    /// `expires_at`; the existing room of that name when an earlier call
    /// made it already.
    pub fn create_room(
        &self,
        name: &str,
        not_before: Timestamp,
        expires_at: Timestamp,
    ) -> Result<DailyRoom, DailyError> {
        let body = json!({
            "name": name,
            "privacy": "private",
            "properties": {
                "nbf": unix(not_before),
                "exp": unix(expires_at),
            },
        });
        let (status, reply) = self.call(reqwest::Method::POST, "/rooms", Some(body))?;
        if (200..300).contains(&status) {
            return Self::read(reply, "a room creation");
        }
        let exists = status == 400
            && reply
                .get("info")
                .and_then(Value::as_str)
                .is_some_and(|info| info.contains("already exists"));
        if exists {
            return self.room(name);
        }
        Err(Self::refused(status, &reply, "a room creation"))
    }

    /// The room named `name`.
    pub fn room(&self, name: &str) -> Result<DailyRoom, DailyError> {
        let (status, reply) = self.call(reqwest::Method::GET, &format!("/rooms/{name}"), None)?;
        if (200..300).contains(&status) {
            return Self::read(reply, "a room lookup");
        }
        Err(Self::refused(status, &reply, "a room lookup"))
    }

    /// Deletes the room named `name`: it and every token for it stop
    /// letting anyone in. A room already gone (404) counts as deleted.
    pub fn delete_room(&self, name: &str) -> Result<(), DailyError> {
        let (status, reply) =
            self.call(reqwest::Method::DELETE, &format!("/rooms/{name}"), None)?;
        if (200..300).contains(&status) || status == 404 {
            return Ok(());
        }
        Err(Self::refused(status, &reply, "a room deletion"))
    }

    /// A fresh meeting token for one person (returned, never kept).
    pub fn meeting_token(&self, request: &TokenRequest<'_>) -> Result<SecretString, DailyError> {
        let body = json!({
            "properties": {
                "room_name": request.room_name,
                "user_name": request.user_name,
                "is_owner": request.is_owner,
                "exp": unix(request.expires_at),
            },
        });
        let (status, reply) = self.call(reqwest::Method::POST, "/meeting-tokens", Some(body))?;
        if (200..300).contains(&status) {
            let reply: TokenReply = Self::read(reply, "a meeting token")?;
            return Ok(SecretString::from(reply.token));
        }
        Err(Self::refused(status, &reply, "a meeting token"))
    }

    /// A short-lived download link of recording `id` (a Daily recording id:
    /// letters, digits and dashes, checked by the caller).
    pub fn recording_link(&self, id: &str) -> Result<RecordingLink, DailyError> {
        let (status, reply) = self.call(
            reqwest::Method::GET,
            &format!("/recordings/{id}/access-link"),
            None,
        )?;
        if !(200..300).contains(&status) {
            return Err(Self::refused(status, &reply, "a recording link"));
        }
        let reply: LinkReply = Self::read(reply, "a recording link")?;
        Ok(RecordingLink {
            url: reply.download_link,
            expires_at: reply
                .expires
                .and_then(|secs| Timestamp::from_micros(secs.saturating_mul(1_000_000)).ok()),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{DailyClient, LinkReply};

    #[test]
    fn an_answer_that_cannot_be_read_does_not_quote_its_values() {
        let reply = json!({
            "download_link": "https://daily.example/rec?token=secret-link",
            "expires": "secret-link"
        });
        let err = DailyClient::read::<LinkReply>(reply, "a recording link")
            .err()
            .expect("a string where a number belongs is refused");
        assert!(!err.message.contains("secret-link"), "{}", err.message);
        assert!(err.message.contains("a recording link"), "{}", err.message);
        assert!(err.retryable);
    }
}
