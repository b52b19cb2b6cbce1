//! `GET /v1/listings`: the buyers' search.
//!
//! A search's answer depends on its query string and on where its reads go,
//! not on who asks, and a fire sale sends a crowd to one search at once (a
//! link posted to a channel of buyers). Identical searches arriving together
//! therefore share one run ([`SearchRuns`], `db::fresh_read`): each answer
//! comes from a run that started after its request arrived, so none is older
//! than what was committed before the request, and a burst of one search
//! costs about two runs instead of one per buyer.

use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::ReplicaReads;
use crate::db::fresh_read::{Answer, FreshReads};
use crate::error::{ApiError, ApiResult};
use crate::listings::model::ListingView;
use crate::listings::search::{self, SearchParams};
use crate::listings::ListingRenderer;
use crate::state::AppState;

/// The runs of each (read target, query string), shared by the searches that
/// wait on them; the rendered page or the failure. Cheap to clone.
#[derive(Clone, Default)]
pub struct SearchRuns(FreshReads<Answer<Bytes, ApiError>>);

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
    req: HttpRequest,
    state: web::Data<AppState>,
    reads: ReplicaReads,
    pages: web::Data<ListingRenderer>,
    runs: web::Data<SearchRuns>,
    params: web::Query<SearchParams>,
) -> ApiResult<HttpResponse> {
    let threshold_bps = state.config.fire_sale_threshold_bps;
    // A bad query is refused here, before it joins anyone's run.
    params.plan(threshold_bps, state.clock.now())?;
    let run = runs.0.of(&format!("{}?{}", reads.target(), req.query_string()));
    let read = move || async move {
        // Planned when the run starts: `now` is after every joined request's arrival.
        let plan = params.plan(threshold_bps, state.clock.now())?;
        let mut conn = reads.conn().await?;
        let found = search::run(&mut conn, plan).await?;
        // Decorated with the other pages being rendered at the same time.
        let items = pages.render_shared(reads.target(), conn, found.rows).await?;
        let page = SearchPage { items, next_cursor: found.next_cursor, total: found.total };
        Ok(Bytes::from(serde_json::to_vec(&page).map_err(anyhow::Error::from)?))
    };
    let body = run.answer(read).await?;
    Ok(HttpResponse::Ok().content_type(ContentType::json()).body(body))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(search_listings);
}
