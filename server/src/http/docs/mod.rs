//! The API's documentation: the OpenAPI document built from the routes
//! ([`document`], [`ApiDoc`]) and the HTML page rendered from it
//! ([`render`]). The routes that serve them are in `routes::docs`.

mod openapi;
mod page;

pub use openapi::{ApiDoc, document};
pub use page::render;
