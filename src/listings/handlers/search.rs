//! `GET /v1/listings`: the buyers' search.

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::ReplicaReads;
use crate::error::ApiResult;
use crate::listings::model::ListingView;
use crate::listings::search::{self, SearchParams};
use crate::listings::ListingRenderer;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct SearchPage {
    pub items: Vec<ListingView>,
    pub next_cursor: Option<String>,
    /// All matches, when `with_total=true`.
    pub total: Option<i64>,
}

crate::http::problems::problems!(SearchListingsProblems { 422: validation_failed });

/// Search active listings of sellers in good standing.
#[utoipa::path(
    tag = "listings",
    params(SearchParams),
    responses(
        (status = 200, body = SearchPage),
        SearchListingsProblems,
    )
)]
#[get("/listings")]
async fn search_listings(
    state: web::Data<AppState>,
    reads: ReplicaReads,
    pages: web::Data<ListingRenderer>,
    params: web::Query<SearchParams>,
) -> ApiResult<web::Json<SearchPage>> {
    let plan = params.plan(state.config.fire_sale_threshold_bps, state.clock.now())?;
    let mut conn = reads.conn().await?;
    let found = search::run(&mut conn, plan).await?;
    let items = pages.render(&mut conn, found.rows).await?;
    Ok(web::Json(SearchPage { items, next_cursor: found.next_cursor, total: found.total }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(search_listings);
}
