//! `/v1/me/saved-searches...` (the caller's saved searches and what they match
//! now) and `POST /v1/unsubscribe` (one-click unsubscribe from alert emails).

use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::SavedSearchView;
use super::rules::{checked_name, AlertMode, Triggers};
use super::searches::{self, CheckedQuery, NewSearch, SearchChanges};
use super::unsubscribe;
use crate::accounts::AuthUser;
use crate::db::ids::SavedSearchId;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::pagination::{page_from, Page, PageParams};
use crate::listings::model::ListingView;
use crate::listings::search;
use crate::listings::ListingRenderer;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "S19j Pro under $30/TH, 25 % off, hosting deadline",
    "query": {"tier": "19to25", "max_usd_per_th": 30, "min_discount_pct": 25, "power_off_before": "2027-03-01"},
    "alert": "instant",
    "triggers": ["new_match", "price_drop", {"discount_at_least": 30}]
}))]
pub struct CreateSavedSearch {
    /// 1 to 100 characters.
    name: String,
    /// The filters `GET /v1/listings` takes (not `limit`, `cursor`, `with_total`),
    /// checked exactly as the search checks them.
    #[schema(value_type = Object)]
    query: serde_json::Value,
    alert: AlertMode,
    /// At least one of `"new_match"`, `"price_drop"`, `{"discount_at_least": <percent, 0-100 exclusive>}`.
    triggers: Vec<serde_json::Value>,
}

/// Each part checked; every field error reported at once.
fn gather<T>(result: Result<T, ApiError>, errors: &mut Vec<FieldError>) -> Result<Option<T>, ApiError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(ApiError::Validation(found)) => {
            errors.extend(found);
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

fn checked_parts(
    name: Option<&str>,
    query: Option<&serde_json::Value>,
    triggers: Option<&[serde_json::Value]>,
) -> ApiResult<(Option<String>, Option<CheckedQuery>, Option<Triggers>)> {
    let mut errors = Vec::new();
    let name = name.map(|n| gather(checked_name(n).map_err(|e| ApiError::Validation(vec![e])), &mut errors));
    let query = query.map(|q| gather(searches::checked_query(q), &mut errors));
    let triggers = triggers.map(|t| gather(Triggers::parse(t).map_err(ApiError::Validation), &mut errors));
    let (name, query, triggers) = (name.transpose()?, query.transpose()?, triggers.transpose()?);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok((name.flatten(), query.flatten(), triggers.flatten()))
}

crate::http::problems::problems!(CreateSavedSearchProblems {
    403: email_not_verified,
    409: too_many_saved_searches,
    422: validation_failed,
});

/// Save a search (at most 50 per account) and choose how its matches alert you.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    request_body = CreateSavedSearch,
    responses((status = 201, body = SavedSearchView), CreateSavedSearchProblems)
)]
#[post("/me/saved-searches")]
async fn create_saved_search(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<CreateSavedSearch>,
) -> ApiResult<HttpResponse> {
    user.require_verified()?;
    let (name, query, triggers) =
        checked_parts(Some(body.name.as_str()), Some(&body.query), Some(body.triggers.as_slice()))?;
    let (Some(name), Some(query), Some(triggers)) = (name, query, triggers) else {
        return Err(ApiError::validation("query", "is required"));
    };
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let new = NewSearch { name, query, alert: body.alert, triggers };
    let row = searches::create(&mut conn, user.id(), new, now).await?;
    Ok(HttpResponse::Created().json(SavedSearchView::from(&row)))
}

/// The caller's saved searches, newest first.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = inline(Page<SavedSearchView>)))
)]
#[get("/me/saved-searches")]
async fn list_saved_searches(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<SavedSearchView>>> {
    let limit = page.limit()?;
    let before = page.cursor()?;
    let mut conn = state.pool.get().await?;
    let rows = searches::list(&mut conn, user.id(), before, limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |row| (row.created_at, row.id));
    Ok(web::Json(Page { items: rows.iter().map(SavedSearchView::from).collect(), next_cursor }))
}

crate::http::problems::problems!(SavedSearchProblems { 404: saved_search_not_found });

/// One of the caller's saved searches.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Saved search id")),
    responses((status = 200, body = SavedSearchView), SavedSearchProblems)
)]
#[get("/me/saved-searches/{id}")]
async fn get_saved_search(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<SavedSearchId>,
) -> ApiResult<web::Json<SavedSearchView>> {
    let mut conn = state.pool.get().await?;
    let row = searches::find_own(&mut conn, user.id(), *id, false).await?;
    Ok(web::Json(SavedSearchView::from(&row)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"alert": "daily", "triggers": ["new_match", {"discount_at_least": 25}]}))]
pub struct UpdateSavedSearch {
    name: Option<String>,
    #[schema(value_type = Option<Object>)]
    query: Option<serde_json::Value>,
    alert: Option<AlertMode>,
    triggers: Option<Vec<serde_json::Value>>,
}

crate::http::problems::problems!(UpdateSavedSearchProblems { 404: saved_search_not_found, 422: validation_failed });

/// Rename a saved search, change its query, its alert mode or its triggers.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Saved search id")),
    request_body = UpdateSavedSearch,
    responses((status = 200, body = SavedSearchView), UpdateSavedSearchProblems)
)]
#[patch("/me/saved-searches/{id}")]
async fn update_saved_search(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<SavedSearchId>,
    body: web::Json<UpdateSavedSearch>,
) -> ApiResult<web::Json<SavedSearchView>> {
    let body = body.into_inner();
    let (name, query, triggers) = checked_parts(body.name.as_deref(), body.query.as_ref(), body.triggers.as_deref())?;
    let changes = SearchChanges { name, query, alert: body.alert, triggers };
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let row = searches::update(&mut conn, user.id(), *id, changes, now).await?;
    Ok(web::Json(SavedSearchView::from(&row)))
}

/// Delete a saved search (its alerts stop; links in sent emails stop working).
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Saved search id")),
    responses((status = 204, description = "Deleted"), SavedSearchProblems)
)]
#[delete("/me/saved-searches/{id}")]
async fn delete_saved_search(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<SavedSearchId>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    searches::delete(&mut conn, user.id(), *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A page of the listings a saved search matches now.
#[derive(Serialize, ToSchema)]
pub struct MatchesPage {
    pub items: Vec<ListingView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(example = "eyJzb3J0IjoibmV3ZXN0In0")]
    pub next_cursor: Option<String>,
}

crate::http::problems::problems!(MatchesProblems { 404: saved_search_not_found, 422: validation_failed });

/// Run a saved search now: the active listings it matches, in its sort order.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Saved search id"), PageParams),
    responses((status = 200, body = MatchesPage), MatchesProblems)
)]
#[get("/me/saved-searches/{id}/matches")]
async fn saved_search_matches(
    state: web::Data<AppState>,
    user: AuthUser,
    pages: web::Data<ListingRenderer>,
    id: web::Path<SavedSearchId>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<MatchesPage>> {
    let mut conn = state.pool.get().await?;
    let row = searches::find_own(&mut conn, user.id(), *id, false).await?;
    let stored = searches::stored_params(&row).ok_or_else(|| ApiError::validation("query", "cannot be read"))?;
    let params = search::SearchParams { limit: page.limit, cursor: page.cursor.clone(), with_total: None, ..stored };
    let plan = params.plan(state.config.fire_sale_threshold_bps, state.clock.now())?;
    let found = search::run(&mut conn, plan).await?;
    let items = pages.render(&mut conn, found.rows).await?;
    Ok(web::Json(MatchesPage { items, next_cursor: found.next_cursor }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeParams {
    /// The token of the `List-Unsubscribe` link.
    token: String,
}

/// RFC 8058's one-click form. Documentation only: the body is read by
/// `unsubscribe::is_one_click`, which also takes the multipart form some mail
/// providers send.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"List-Unsubscribe": "One-Click"}))]
#[allow(dead_code)]
pub struct OneClickForm {
    #[serde(rename = "List-Unsubscribe")]
    #[schema(example = "One-Click")]
    list_unsubscribe: String,
}

crate::http::problems::problems!(UnsubscribeProblems { 400: invalid_unsubscribe_token | one_click_body_required });

/// RFC 8058 one-click unsubscribe: mail clients POST `List-Unsubscribe=One-Click`
/// to the `List-Unsubscribe` link of an alert email; the alerts of the saved
/// search(es) it reported are turned off. No login; repeating it is harmless.
#[utoipa::path(
    tag = "me",
    params(UnsubscribeParams),
    request_body(content = OneClickForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 204, description = "The alerts are off."), UnsubscribeProblems)
)]
#[post("/unsubscribe")]
async fn unsubscribe_one_click(
    state: web::Data<AppState>,
    params: web::Query<UnsubscribeParams>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    if !unsubscribe::is_one_click(&String::from_utf8_lossy(&body)) {
        return Err(ApiError::bad_request(
            "one_click_body_required",
            "POST the body `List-Unsubscribe=One-Click` (RFC 8058).",
        ));
    }
    let mut conn = state.pool.get().await?;
    unsubscribe::redeem(&mut conn, &params.token, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_saved_search)
        .service(list_saved_searches)
        .service(get_saved_search)
        .service(update_saved_search)
        .service(delete_saved_search)
        .service(saved_search_matches)
        .service(unsubscribe_one_click);
}
