//! `GET /v1/listings`: the buyers' search.

use actix_web::{get, web};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Problem};
use crate::http::pagination::{decode_cursor, encode_cursor, MAX_LIMIT};
use crate::listings::model::{ListingRow, ListingView};
use crate::listings::search::{filtered, ordered, sort_key, SearchParams};
use crate::listings::ListingRenderer;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct SearchPage {
    pub items: Vec<ListingView>,
    pub next_cursor: Option<String>,
    /// All matches, when `with_total=true`.
    pub total: Option<i64>,
}

/// Search active listings of sellers in good standing.
#[utoipa::path(
    tag = "listings",
    params(SearchParams),
    responses(
        (status = 200, body = SearchPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings")]
async fn search_listings(
    state: web::Data<AppState>,
    pages: web::Data<ListingRenderer>,
    params: web::Query<SearchParams>,
) -> ApiResult<web::Json<SearchPage>> {
    let params = params.into_inner();
    let filters = params.filters()?;
    let limit = match params.limit {
        None => 20,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => return Err(ApiError::validation("limit", format!("must be between 1 and {MAX_LIMIT}"))),
    };
    let sort = params.sort.unwrap_or_default();
    let cursor = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let now = state.clock.now();
    let threshold = state.config.fire_sale_threshold_bps;
    let query = ordered(filtered(&filters, threshold, now), sort, cursor)?;
    let mut conn = state.pool.get().await?;
    let mut rows: Vec<ListingRow> = query.limit(limit + 1).select(ListingRow::as_select()).load(&mut conn).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|row| encode_cursor(&sort_key(sort, row)))
    } else {
        None
    };
    let total = if params.with_total.unwrap_or(false) {
        Some(filtered(&filters, threshold, now).count().get_result(&mut conn).await?)
    } else {
        None
    };
    Ok(web::Json(SearchPage { items: pages.render(&mut conn, rows).await?, next_cursor, total }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(search_listings);
}
