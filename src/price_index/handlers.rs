//! The price-index endpoints. Each counts its quota first (so every answer,
//! errors included, carries `RateLimit-*` headers), then reads its query string,
//! then answers through [`http_cache::respond`] (ETag, Cache-Control, 304).

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::access::{self, IndexQuotas};
use super::answers::{self, IndexAnswers};
use super::http_cache::{respond, respond_tagged, Audience, CSV, JSON};
use super::model::{FireSalesResponse, LatestTier, SeriesResponse, TierBandView};
use super::params::{wants_csv, FireSaleParams, LatestParams, Selection, SeriesParams};
use super::{current, history};
use crate::accounts::{Principal, ReplicaReads};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn query<T: DeserializeOwned>(req: &HttpRequest) -> ApiResult<T> {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|err| ApiError::bad_request("invalid_query", format!("Invalid query string: {err}")))
}

fn json<T: Serialize>(value: &T) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|err| ApiError::Internal(err.into()))
}

/// Counts an authenticated endpoint's quota, on the primary.
async fn authorize(state: &AppState, req: &HttpRequest, principal: Result<Principal, ApiError>) -> ApiResult<()> {
    let mut conn = state.pool.get().await?;
    access::authorize(&mut conn, req, IndexQuotas::of(&state.config), principal, state.clock.now()).await?;
    Ok(())
}

/// What a kept answer depends on besides the data: the route, the query
/// string, the range `now` resolved it to, and the format.
fn answer_key(req: &HttpRequest, selection: &Selection, csv: bool) -> String {
    let range = &selection.range;
    format!("{}?{}|{}|{}|{csv}", req.path(), req.query_string(), range.from.to_rfc3339(), range.to.to_rfc3339())
}

crate::http::problems::problems!(TiersProblems { 429: rate_limited });

/// Efficiency tiers: Hashrate Index's current bands in J/TH.
#[utoipa::path(
    tag = "price-index",
    responses(
        (status = 200, body = Vec<TierBandView>, headers(("ETag" = String), ("RateLimit-Remaining" = u32))),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        TiersProblems,
    )
)]
#[get("/price-index/tiers")]
async fn tiers(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    access::per_ip(&mut conn, &req, IndexQuotas::of(&state.config), now).await?;
    Ok(respond(&req, json(&current::tier_bands())?, JSON, Audience::Public))
}

crate::http::problems::problems!(LatestProblems { 429: rate_limited });

/// The index now: per tier, median and quartiles of USD per nominal TH/s over the
/// last 7 days (public, with a tight per-IP quota).
#[utoipa::path(
    tag = "price-index",
    params(LatestParams),
    responses(
        (status = 200, body = Vec<LatestTier>, headers(("ETag" = String), ("RateLimit-Remaining" = u32))),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        LatestProblems,
    )
)]
#[get("/price-index/latest")]
async fn latest(state: web::Data<AppState>, reads: ReplicaReads, req: HttpRequest) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    access::per_ip(&mut conn, &req, IndexQuotas::of(&state.config), now).await?;
    // The quota is counted on the primary; the series come from a replica.
    let mut conn = reads.conn().await?;
    let params: LatestParams = query(&req)?;
    let per_tier = current::latest(&mut conn, params.basis.unwrap_or_default(), now).await?;
    Ok(respond(&req, json(&per_tier)?, JSON, Audience::Public))
}

crate::http::problems::problems!(PriceSeriesProblems {
    422: invalid_time_range | time_range_too_long | validation_failed,
});

/// Daily or weekly $/TH series by tier, model or country, from asking or settled
/// prices: median, quartiles, count, median discount and fire-sale share per
/// bucket. JSON, or CSV with `format=csv` / `Accept: text/csv`. Needs an API key
/// (`X-Api-Key`) or a signed-in user.
#[utoipa::path(
    tag = "price-index",
    security(("api_key" = []), ("bearer" = [])),
    params(SeriesParams),
    responses(
        (status = 200, content((SeriesResponse = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("RateLimit-Remaining" = u32))),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        PriceSeriesProblems,
    )
)]
#[get("/price-index/series")]
async fn price_series(
    state: web::Data<AppState>,
    index_answers: web::Data<IndexAnswers>,
    reads: ReplicaReads,
    req: HttpRequest,
    principal: Result<Principal, ApiError>,
) -> ApiResult<HttpResponse> {
    // The quota is counted on the primary; the series come from a replica.
    authorize(&state, &req, principal).await?;
    let params: SeriesParams = query(&req)?;
    let selection = history::price_selection(&params, state.clock.now())?;
    let csv = wants_csv(params.format, &req);
    let key = answer_key(&req, &selection, csv);
    let render = answers::renderer(move |conn, selection| {
        Box::pin(async move { history::price_series(conn, &params, selection, csv).await })
    });
    let answer = index_answers.answer(reads, key, selection, render).await?;
    Ok(respond_tagged(&req, answer.body, answer.etag, if csv { CSV } else { JSON }, Audience::Private))
}

crate::http::problems::problems!(FireSalesProblems {
    422: invalid_time_range | time_range_too_long | validation_failed,
});

/// How hard the fire sale hits: per bucket, the share of new listings (publications)
/// that are fire sales and their median discount, by country (default), tier or
/// model; weekly by default. Needs an API key or a signed-in user.
#[utoipa::path(
    tag = "price-index",
    security(("api_key" = []), ("bearer" = [])),
    params(FireSaleParams),
    responses(
        (status = 200, content((FireSalesResponse = "application/json"), (String = "text/csv")),
            headers(("ETag" = String), ("RateLimit-Remaining" = u32))),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        FireSalesProblems,
    )
)]
#[get("/price-index/fire-sales")]
async fn fire_sales(
    state: web::Data<AppState>,
    index_answers: web::Data<IndexAnswers>,
    reads: ReplicaReads,
    req: HttpRequest,
    principal: Result<Principal, ApiError>,
) -> ApiResult<HttpResponse> {
    // The quota is counted on the primary; the series come from a replica.
    authorize(&state, &req, principal).await?;
    let params: FireSaleParams = query(&req)?;
    let selection = history::fire_sale_selection(&params, state.clock.now())?;
    let csv = wants_csv(params.format, &req);
    let key = answer_key(&req, &selection, csv);
    let render = answers::renderer(move |conn, selection| {
        Box::pin(async move { history::fire_sales(conn, selection, csv).await })
    });
    let answer = index_answers.answer(reads, key, selection, render).await?;
    Ok(respond_tagged(&req, answer.body, answer.etag, if csv { CSV } else { JSON }, Audience::Private))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(tiers).service(latest).service(price_series).service(fire_sales);
}
