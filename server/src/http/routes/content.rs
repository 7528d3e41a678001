//! Content creators sell: create a draft, edit it, move it through its life
//! (publish, unpublish, archive), delete it while nobody bought it, read it
//! (drafts only by their creator; views counted once a day per viewer) and
//! list an expert's content. Files and purchases have their own modules.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use droply_engine::content::{ContentEdit, NewContent, StatusChange, Viewer};
use droply_models::{CategoryId, ContentId, ContentType, Money, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{
    ApiJson, ApiPath, ApiQuery, ClientAddr, MaybeSignedIn, SignedIn, page_request, parse_id,
};
use crate::http::views::ContentView;
use crate::http::views::model_schemas::{ContentTypeSchema, MoneySchema};
use crate::http::{AppState, blocking};

/// `/v1/content`, `/v1/content/{id}` and its lifecycle, and
/// `/v1/experts/{id}/content`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_content))
        .routes(routes!(get_content, edit_content, delete_content))
        .routes(routes!(publish_content))
        .routes(routes!(unpublish_content))
        .routes(routes!(archive_content))
        .routes(routes!(expert_content))
}

/// Body of `POST /v1/content`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContentBody {
    /// 1 to 200 characters.
    title: String,
    /// At most 5,000 characters.
    #[serde(default)]
    description: String,
    /// What kind of content it is; its file must be of a fitting type
    /// (a video for `video`, a PDF for `document` and `article`, ...).
    #[schema(value_type = ContentTypeSchema)]
    content_type: ContentType,
    /// The price; `amount_minor: 0` is free.
    #[schema(value_type = MoneySchema)]
    price: Money,
    /// An active content category's id.
    #[schema(value_type = Option<u64>)]
    category: Option<CategoryId>,
}

/// `POST /v1/content`: a new draft of the caller's.
#[utoipa::path(
    post,
    path = "/v1/content",
    tag = "content",
    summary = "Create content (a draft)",
    description = "The draft is the caller's and visible only to them until published. Upload its file (`PUT /v1/content/{id}/file`) before publishing. A creator holds at most 2,000 content items, archived ones included; delete one to make room.",
    security(("bearer" = [])),
    request_body = NewContentBody,
    responses(
        (status = 201, description = "The draft", body = ContentView),
        (status = 400, description = "`invalid_input` (title, description, price, category) or `invalid_json`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 409, description = "`limit_reached`: the caller already holds 2,000 content items (drafts, published and archived)", body = ErrorBody),
    )
)]
pub async fn create_content(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<NewContentBody>,
) -> Result<(StatusCode, Json<ContentView>), ApiError> {
    let new = NewContent {
        title: body.title,
        description: body.description,
        content_type: body.content_type,
        price: body.price,
        category_id: body.category,
    };
    let details = blocking(&state, move |engine| {
        let made = engine.create_content(user, new)?;
        engine.view_content(made.id, Some(user), Viewer::User(user))
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ContentView::of(&details, Some(user))),
    ))
}

/// `GET /v1/content/{id}`: content as the caller may see it.
#[utoipa::path(
    get,
    path = "/v1/content/{id}",
    tag = "content",
    summary = "Read content",
    description = "Published content is public; a draft is visible to its creator only, archived content to its creator and buyers. Each viewer's first view of a day counts.",
    params(("id" = u64, Path, description = "The content's id")),
    responses(
        (status = 200, description = "The content", body = ContentView),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub async fn get_content(
    State(state): State<AppState>,
    MaybeSignedIn(viewer): MaybeSignedIn,
    ClientAddr(address): ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ContentView>, ApiError> {
    let id: ContentId = parse_id(&id, "content")?;
    let seen_as = match (viewer, address) {
        (Some(user), _) => Viewer::User(user),
        (None, Some(address)) => Viewer::Address(address),
        (None, None) => Viewer::Address(std::net::Ipv4Addr::UNSPECIFIED.into()),
    };
    let details = blocking(&state, move |engine| {
        engine.view_content(id, viewer, seen_as)
    })
    .await?;
    Ok(Json(ContentView::of(&details, viewer)))
}

/// Body of `PATCH /v1/content/{id}`; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditContentBody {
    /// 1 to 200 characters.
    title: Option<String>,
    /// At most 5,000 characters.
    description: Option<String>,
    /// The price of future sales.
    #[schema(value_type = Option<MoneySchema>)]
    price: Option<Money>,
    /// An active content category's id, or `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u64>)]
    category: Option<Option<CategoryId>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `PATCH /v1/content/{id}`: the creator edits content.
#[utoipa::path(
    patch,
    path = "/v1/content/{id}",
    tag = "content",
    summary = "Edit content (creator)",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The content's id")),
    request_body = EditContentBody,
    responses(
        (status = 200, description = "The content", body = ContentView),
        (status = 400, description = "`invalid_input`, `invalid_parameter` or `invalid_json`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the creator", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_state` (a new currency after sales) or `payouts_not_enabled` (a price on published content before Stripe onboarding)", body = ErrorBody),
    )
)]
pub async fn edit_content(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<EditContentBody>,
) -> Result<Json<ContentView>, ApiError> {
    let id: ContentId = parse_id(&id, "content")?;
    let edit = ContentEdit {
        title: body.title,
        description: body.description,
        price: body.price,
        category_id: body.category,
    };
    let details = blocking(&state, move |engine| {
        engine.edit_content(id, user, edit)?;
        engine.view_content(id, Some(user), Viewer::User(user))
    })
    .await?;
    Ok(Json(ContentView::of(&details, Some(user))))
}

/// `DELETE /v1/content/{id}`: the creator deletes content nobody bought.
#[utoipa::path(
    delete,
    path = "/v1/content/{id}",
    tag = "content",
    summary = "Delete content (creator)",
    description = "Only while nobody bought or started to buy it; its files go with it. Content with buyers is archived instead.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The content's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the creator", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`content_has_buyers`", body = ErrorBody),
    )
)]
pub async fn delete_content(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id: ContentId = parse_id(&id, "content")?;
    blocking(&state, move |engine| engine.delete_content(id, user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

macro_rules! status_route {
    ($name:ident, $path:literal, $change:expr, $summary:literal, $description:literal) => {
        #[doc = $summary]
        #[utoipa::path(
            post,
            path = $path,
            tag = "content",
            summary = $summary,
            description = $description,
            security(("bearer" = [])),
            params(("id" = u64, Path, description = "The content's id")),
            responses(
                (status = 200, description = "The content", body = ContentView),
                (status = 400, description = "`invalid_parameter`", body = ErrorBody),
                (status = 401, description = "`unauthorized`", body = ErrorBody),
                (status = 403, description = "`forbidden`: not the creator", body = ErrorBody),
                (status = 404, description = "`not_found`", body = ErrorBody),
                (status = 409, description = "`invalid_state` or `payouts_not_enabled`", body = ErrorBody),
            )
        )]
        pub async fn $name(
            State(state): State<AppState>,
            SignedIn(user): SignedIn,
            ApiPath(id): ApiPath<String>,
        ) -> Result<Json<ContentView>, ApiError> {
            change_status(state, user, &id, $change).await
        }
    };
}

status_route!(
    publish_content,
    "/v1/content/{id}/publish",
    StatusChange::Publish,
    "Publish content (creator)",
    "Puts it on sale and in search. Needs its file; with a price, a Stripe account enabled for payouts (`payouts_not_enabled` otherwise)."
);
status_route!(
    unpublish_content,
    "/v1/content/{id}/unpublish",
    StatusChange::Unpublish,
    "Unpublish content (creator)",
    "Back to a draft only its creator (and its buyers) see."
);
status_route!(
    archive_content,
    "/v1/content/{id}/archive",
    StatusChange::Archive,
    "Archive content (creator)",
    "Off sale and out of search for good; buyers keep their access. Publishing it again puts it back on sale."
);

async fn change_status(
    state: AppState,
    user: UserId,
    id: &str,
    change: StatusChange,
) -> Result<Json<ContentView>, ApiError> {
    let id: ContentId = parse_id(id, "content")?;
    let details = blocking(&state, move |engine| {
        engine.change_content_status(id, user, change)?;
        engine.view_content(id, Some(user), Viewer::User(user))
    })
    .await?;
    Ok(Json(ContentView::of(&details, Some(user))))
}

/// Query of `GET /v1/experts/{id}/content`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// Page size, 1 to 100 (default 20).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of content.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContentPage {
    /// Oldest first.
    content: Vec<ContentView>,
    /// Cursor of the next page, if any.
    next_cursor: Option<String>,
}

/// `GET /v1/experts/{id}/content`: what an expert sells.
#[utoipa::path(
    get,
    path = "/v1/experts/{id}/content",
    tag = "content",
    summary = "An expert's content",
    description = "Published content, oldest first; the creator also sees their drafts and archived content.",
    params(("id" = u64, Path, description = "The creator's user id"), ContentQuery),
    responses(
        (status = 200, description = "A page of content", body = ContentPage),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
    )
)]
pub async fn expert_content(
    State(state): State<AppState>,
    MaybeSignedIn(viewer): MaybeSignedIn,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ContentQuery>,
) -> Result<Json<ContentPage>, ApiError> {
    let id: UserId = parse_id(&id, "expert")?;
    let page_request = page_request(query.limit, query.cursor)?;
    let page = blocking(&state, move |engine| {
        engine.content_of(id, viewer, &page_request)
    })
    .await?;
    Ok(Json(ContentPage {
        content: page
            .items
            .iter()
            .map(|d| ContentView::of(d, viewer))
            .collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}
