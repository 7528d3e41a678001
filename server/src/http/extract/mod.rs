//! What handlers take from a request, refused in the one error format: the
//! signed-in user ([`SignedIn`], [`MaybeSignedIn`], [`BrowserOrBearer`]), the client's address
//! ([`ClientAddr`]), a JSON body ([`ApiJson`]), a query string
//! ([`ApiQuery`]), path ids and page requests.

mod bearer;
mod client_addr;
mod json_body;
mod paging;
mod query;

pub use bearer::{BearerToken, BrowserOrBearer, MaybeSignedIn, SignedIn};
pub use client_addr::ClientAddr;
pub use json_body::ApiJson;
pub use paging::page_request;
pub use query::ApiQuery;
pub(crate) use query::parse_id;
