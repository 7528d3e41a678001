//! What handlers take from a request, refused in the one error format: the
//! signed-in user ([`SignedIn`], [`MaybeSignedIn`], [`BrowserOrBearer`]), the client's address
//! ([`ClientAddr`]), an `Idempotency-Key` ([`IdempotencyKeyHeader`]), a JSON body ([`ApiJson`]), a raw body ([`ApiBytes`]),
//! a query string ([`ApiQuery`]), path parameters ([`ApiPath`]) and the ids
//! in them ([`parse_id`]), and page requests. No route lets one of axum's
//! own extractors refuse a request: their rejections are plain text.

mod bearer;
mod client_addr;
mod idempotency_key;
mod json_body;
mod paging;
mod path;
mod query;
mod raw_body;

pub use bearer::{BearerToken, BrowserOrBearer, MaybeSignedIn, SignedIn};
pub use client_addr::ClientAddr;
pub use idempotency_key::IdempotencyKeyHeader;
pub use json_body::ApiJson;
pub use paging::page_request;
pub use path::ApiPath;
pub(crate) use path::parse_id;
pub use query::ApiQuery;
pub use raw_body::ApiBytes;
