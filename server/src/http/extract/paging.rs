//! Reading `limit` and `cursor` query parameters into a page request, the same
//! way for every list route.

use droply_engine::PageRequest;

use crate::http::error::{ApiError, ErrorCode};

/// The largest page a list route serves.
pub const MAX_LIMIT: usize = 100;

/// A page request from optional `limit` (default 20, 1..=100) and `cursor`.
pub fn page_request(limit: Option<usize>, cursor: Option<String>) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(20);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let cursor = cursor.map(|c| c.parse()).transpose().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            "cursor is not one this API returned",
        )
    })?;
    Ok(PageRequest::first(limit).after(cursor))
}
