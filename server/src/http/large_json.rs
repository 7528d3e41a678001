//! [`LargeJson`]: the JSON answer of the routes whose bodies run to tens of kilobytes
//! (search, matches, recommendations). It is written into a buffer each thread keeps
//! and copied once into a body of its exact size; axum's `Json` starts from 128 bytes
//! and doubles, which for a page of hits is eight allocations and as many copies, on
//! the hottest route.

use std::cell::RefCell;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::ApiError;

/// A buffer grown past this is not kept (one huge answer does not pin its memory).
const KEPT_BYTES: usize = 1 << 20;

/// A large JSON answer (see the module docs).
#[derive(Debug)]
pub struct LargeJson<T>(pub T);

impl<T: Serialize> IntoResponse for LargeJson<T> {
    fn into_response(self) -> Response {
        thread_local! {
            static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        let body = BUFFER.with_borrow_mut(|buffer| {
            buffer.clear();
            let written = serde_json::to_writer(&mut *buffer, &self.0);
            let body = written.map(|()| Bytes::copy_from_slice(buffer));
            if buffer.capacity() > KEPT_BYTES {
                *buffer = Vec::new();
            }
            body
        });
        match body {
            Ok(body) => ([(CONTENT_TYPE, "application/json")], body).into_response(),
            Err(err) => {
                ApiError::internal(format!("an answer could not be written: {err}")).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;

    use super::*;

    async fn body_of(response: Response) -> (String, Vec<u8>) {
        let kind = response.headers()[CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .to_owned();
        let bytes = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (kind, bytes.to_vec())
    }

    #[tokio::test]
    async fn writes_what_axums_json_writes_however_large_or_often() {
        let small = serde_json::json!({"hits": [], "query": "tax \"advisor\" ünïcode"});
        let large: Vec<String> = (0..5_000).map(|i| format!("hit number {i}")).collect();
        let huge = "x".repeat(KEPT_BYTES + 10);
        for value in [small, serde_json::json!(large), serde_json::json!(huge)] {
            for _ in 0..2 {
                let (kind, got) = body_of(LargeJson(&value).into_response()).await;
                let (want_kind, want) = body_of(axum::Json(&value).into_response()).await;
                assert_eq!((kind.as_str(), &got), (want_kind.as_str(), &want));
            }
        }
    }

    #[tokio::test]
    async fn a_value_that_cannot_be_written_is_an_internal_error() {
        let map: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let response = LargeJson(map).into_response();
        assert_eq!(
            response.status(),
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
