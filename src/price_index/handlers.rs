//! The price-index endpoints. Each counts its quota first (so every answer,
//! errors included, carries `RateLimit-*` headers), then reads its query string,
//! then answers through [`http_cache::respond`] (ETag, Cache-Control, 304).

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{Duration, DurationRound};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use super::http_cache::{respond, Audience, CSV, JSON};
use super::model::{FireSalesResponse, LatestTier, SeriesResponse, TierBandView};
use super::params::{wants_csv, Filters, FireSaleParams, GroupBy, LatestParams, Selection, SeriesParams};
use super::stats::{cents_to_dollars, Interval};
use super::{access, csv_export, queries, series};
use crate::accounts::Principal;
use crate::catalog::tiers::EfficiencyTier;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// The trailing window of `latest`.
pub const LATEST_WINDOW_DAYS: i64 = 7;

fn query<T: DeserializeOwned>(req: &HttpRequest) -> ApiResult<T> {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|err| ApiError::bad_request("invalid_query", format!("Invalid query string: {err}")))
}

fn json<T: Serialize>(value: &T) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|err| ApiError::Internal(err.into()))
}

/// Efficiency tiers: Hashrate Index's current bands in J/TH.
#[utoipa::path(
    tag = "price-index",
    responses(
        (status = 200, body = Vec<TierBandView>, headers(("ETag" = String), ("RateLimit-Remaining" = u32))),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/price-index/tiers")]
async fn tiers(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    access::per_ip(&state, &req).await?;
    let bands: Vec<TierBandView> = EfficiencyTier::ALL
        .into_iter()
        .map(|tier| {
            let band = tier.band();
            TierBandView { tier, min_j_per_th: band.min_j_per_th, max_j_per_th: band.max_j_per_th }
        })
        .collect();
    Ok(respond(&req, json(&bands)?, JSON, Audience::Public))
}

/// The index now: per tier, median and quartiles of USD per nominal TH/s over the
/// last 7 days (public, with a tight per-IP quota).
#[utoipa::path(
    tag = "price-index",
    params(LatestParams),
    responses(
        (status = 200, body = Vec<LatestTier>, headers(("ETag" = String), ("RateLimit-Remaining" = u32))),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/price-index/latest")]
async fn latest(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    access::per_ip(&state, &req).await?;
    let params: LatestParams = query(&req)?;
    let basis = params.basis.unwrap_or_default();
    let now = state.clock.now();
    // To the minute, so an answer stays the same (and revalidates) within its max-age.
    let as_of = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    let mut conn = state.pool.get().await?;
    let window =
        queries::window_by_tier(&mut conn, basis.as_str(), as_of - Duration::days(LATEST_WINDOW_DAYS), as_of).await?;
    let per_tier: Vec<LatestTier> = EfficiencyTier::ALL
        .into_iter()
        .map(|tier| {
            let (count, [p25, p50, p75]) = window.get(&tier).copied().unwrap_or((0, [None; 3]));
            LatestTier {
                tier,
                basis,
                usd_per_th_median: p50.map(cents_to_dollars),
                usd_per_th_p25: p25.map(cents_to_dollars),
                usd_per_th_p75: p75.map(cents_to_dollars),
                count,
                window_days: LATEST_WINDOW_DAYS,
                as_of,
            }
        })
        .collect();
    Ok(respond(&req, json(&per_tier)?, JSON, Audience::Public))
}

/// Labels and tiers of the models a selection's rows may name; a model filter
/// naming no model is a 422.
async fn models_for(
    conn: &mut diesel_async::AsyncPgConnection,
    selection: &Selection,
    rows: &[queries::BucketRow],
) -> ApiResult<std::collections::HashMap<Uuid, queries::ModelInfo>> {
    let mut ids: Vec<Uuid> = rows.iter().filter_map(|r| r.rig_model_id).collect();
    ids.extend(selection.rig_model_id);
    ids.sort();
    ids.dedup();
    let models = queries::models(conn, &ids).await?;
    if selection.rig_model_id.is_some_and(|id| !models.contains_key(&id)) {
        return Err(ApiError::validation("rig_model_id", "no rig model has this id"));
    }
    Ok(models)
}

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
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/price-index/series")]
async fn price_series(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Result<Principal, ApiError>,
) -> ApiResult<HttpResponse> {
    access::authorize(&state, &req, principal).await?;
    let params: SeriesParams = query(&req)?;
    let selection = Filters {
        group_by: params.group_by.unwrap_or(GroupBy::Tier),
        tier: params.tier,
        rig_model_id: params.rig_model_id,
        country: params.country.as_deref(),
        interval: params.interval.unwrap_or(Interval::Day),
        from: params.from.as_deref(),
        to: params.to.as_deref(),
    }
    .select(state.clock.now())?;
    let basis = params.basis.unwrap_or_default();
    let mut conn = state.pool.get().await?;
    let rows = queries::buckets(&mut conn, basis.as_str(), &selection).await?;
    let models = models_for(&mut conn, &selection, &rows).await?;
    let series = series::price_series(&selection, rows, &models);
    if wants_csv(params.format, &req) {
        return Ok(respond(&req, csv_export::price_series(&series)?, CSV, Audience::Private));
    }
    let body = SeriesResponse {
        group_by: selection.group_by,
        basis,
        interval: selection.interval,
        from: selection.range.from,
        to: selection.range.to,
        series,
    };
    Ok(respond(&req, json(&body)?, JSON, Audience::Private))
}

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
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/price-index/fire-sales")]
async fn fire_sales(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Result<Principal, ApiError>,
) -> ApiResult<HttpResponse> {
    access::authorize(&state, &req, principal).await?;
    let params: FireSaleParams = query(&req)?;
    let selection = Filters {
        group_by: params.group_by.unwrap_or(GroupBy::Country),
        tier: params.tier,
        rig_model_id: params.rig_model_id,
        country: params.country.as_deref(),
        interval: params.interval.unwrap_or(Interval::Week),
        from: params.from.as_deref(),
        to: params.to.as_deref(),
    }
    .select(state.clock.now())?;
    let mut conn = state.pool.get().await?;
    let rows = queries::buckets(&mut conn, super::params::Basis::Asking.as_str(), &selection).await?;
    let models = models_for(&mut conn, &selection, &rows).await?;
    let series = series::fire_sale_series(&selection, rows, &models);
    if wants_csv(params.format, &req) {
        return Ok(respond(&req, csv_export::fire_sale_series(&series)?, CSV, Audience::Private));
    }
    let body = FireSalesResponse {
        group_by: selection.group_by,
        interval: selection.interval,
        from: selection.range.from,
        to: selection.range.to,
        series,
    };
    Ok(respond(&req, json(&body)?, JSON, Audience::Private))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(tiers).service(latest).service(price_series).service(fire_sales);
}
