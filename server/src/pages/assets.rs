//! The pages' stylesheet and scripts, embedded in the binary and served at
//! `/assets/{name}`. Pages link them as `/assets/{name}?v={hash}` (see
//! [`url`]), so a browser may keep each for a year: a new build changes the
//! hash. `If-None-Match` with the current ETag is answered `304`.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::extract::PagePath;
use super::page::PageError;
use crate::http::AppState;

/// One embedded file.
struct Asset {
    name: &'static str,
    mime: &'static str,
    bytes: &'static [u8],
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Every embedded file; a page script is named for the page it serves.
const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        mime: CSS,
        bytes: include_bytes!("assets/app.css"),
    },
    Asset {
        name: "favicon.svg",
        mime: "image/svg+xml",
        bytes: include_bytes!("assets/favicon.svg"),
    },
    Asset {
        name: "app.js",
        mime: JS,
        bytes: include_bytes!("assets/app.js"),
    },
    Asset {
        name: "account.css",
        mime: CSS,
        bytes: include_bytes!("assets/account.css"),
    },
    Asset {
        name: "branding.js",
        mime: JS,
        bytes: include_bytes!("assets/branding.js"),
    },
    Asset {
        name: "room.css",
        mime: CSS,
        bytes: include_bytes!("assets/room.css"),
    },
    Asset {
        name: "call.js",
        mime: JS,
        bytes: include_bytes!("assets/call.js"),
    },
    Asset {
        name: "room.js",
        mime: JS,
        bytes: include_bytes!("assets/room.js"),
    },
    Asset {
        name: "profile.css",
        mime: CSS,
        bytes: include_bytes!("assets/profile.css"),
    },
    Asset {
        name: "bookings.css",
        mime: CSS,
        bytes: include_bytes!("assets/bookings.css"),
    },
    Asset {
        name: "pay.js",
        mime: JS,
        bytes: include_bytes!("assets/pay.js"),
    },
];

/// `GET /assets/{name}`.
pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{name}", get(serve))
}

/// The first 16 hex digits of each file's SHA-256, computed once.
fn versions() -> &'static HashMap<&'static str, String> {
    static VERSIONS: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    VERSIONS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let digest = hex::encode(Sha256::digest(asset.bytes));
                (asset.name, digest[..16].to_owned())
            })
            .collect()
    })
}

/// The URL a page links asset `name` by.
pub fn url(name: &str) -> String {
    match versions().get(name) {
        Some(version) => format!("/assets/{name}?v={version}"),
        None => format!("/assets/{name}"),
    }
}

async fn serve(PagePath(name): PagePath<String>, headers: HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == name) else {
        return PageError::not_found().into_response();
    };
    let etag = format!("\"{}\"", versions()[asset.name]);
    let cache = HeaderValue::from_static("public, max-age=31536000, immutable");
    let tag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    let unchanged = headers
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|v| v.trim() == etag));
    if unchanged {
        return (
            StatusCode::NOT_MODIFIED,
            [(ETAG, tag), (CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(asset.mime)),
            (ETAG, tag),
            (CACHE_CONTROL, cache),
        ],
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_versioned_url() {
        for asset in ASSETS {
            let url = url(asset.name);
            assert!(
                url.starts_with(&format!("/assets/{}?v=", asset.name)),
                "{url}"
            );
            assert_eq!(url.len(), "/assets/".len() + asset.name.len() + 3 + 16);
        }
    }
}
