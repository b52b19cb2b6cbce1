//! The index over time: price series and fire-sale series for a selection
//! (grouping, filters, interval, range), read from the bucket aggregates and
//! shaped by [`series`](super::series), written by [`render`](super::render)
//! (JSON) or [`csv_export`](super::csv_export).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::bucket::BucketRow;
use super::packed::Measures;
use super::params::{Basis, Filters, FireSaleParams, GroupBy, Selection, SeriesParams};
use super::queries::{self, ModelInfo};
use super::stats::Interval;
use super::{csv_export, render, series};
use crate::db::ids::RigModelId;
use crate::error::{ApiError, ApiResult};

/// Labels and tiers of the models a selection's rows may name; a model filter
/// naming no model is a 422.
async fn models_for(
    conn: &mut AsyncPgConnection,
    selection: &Selection,
    rows: &[BucketRow],
) -> ApiResult<HashMap<RigModelId, ModelInfo>> {
    let mut ids: Vec<RigModelId> = rows.iter().filter_map(|r| r.rig_model_id).collect();
    // The rows of one model come together, so this leaves a few ids to sort.
    ids.dedup();
    ids.extend(selection.rig_model_id);
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let models = queries::models(conn, &ids).await?;
    if selection.rig_model_id.is_some_and(|id| !models.contains_key(&id)) {
        return Err(ApiError::validation("rig_model_id", "no rig model has this id"));
    }
    Ok(models)
}

/// The buckets a series answer is shaped from, and the models they name.
struct Buckets {
    rows: Vec<BucketRow>,
    models: HashMap<RigModelId, ModelInfo>,
}

/// The buckets of `basis` that `selection` covers, with the `measures` an answer shows.
async fn buckets(
    conn: &mut AsyncPgConnection,
    basis: Basis,
    measures: Measures,
    selection: &Selection,
) -> ApiResult<Buckets> {
    let rows = queries::buckets(conn, basis.as_str(), measures, selection).await?;
    let models = models_for(conn, selection, &rows).await?;
    Ok(Buckets { rows, models })
}

/// What a $/TH series request covers: by tier (default), model or country,
/// daily by default.
pub fn price_selection(params: &SeriesParams, now: DateTime<Utc>) -> ApiResult<Selection> {
    Filters {
        group_by: params.group_by.unwrap_or(GroupBy::Tier),
        tier: params.tier,
        rig_model_id: params.rig_model_id,
        country: params.country.as_deref(),
        interval: params.interval.unwrap_or(Interval::Day),
        from: params.from.as_deref(),
        to: params.to.as_deref(),
    }
    .select(now)
}

/// The $/TH series of a selection: JSON, or CSV when `csv`.
pub async fn price_series(
    conn: &mut AsyncPgConnection,
    params: &SeriesParams,
    selection: &Selection,
    csv: bool,
) -> ApiResult<Vec<u8>> {
    let basis = params.basis.unwrap_or_default();
    let Buckets { rows, models } = buckets(conn, basis, Measures::Prices, selection).await?;
    if csv {
        return Ok(csv_export::price_series(&series::price_series(selection, &rows, &models))?);
    }
    let series = series::keyed(selection, &rows, &models, series::has_observations);
    render::price_series(selection, basis, &series).map_err(|err| ApiError::Internal(err.into()))
}

/// What a fire-sale series request covers: new listings by country (default),
/// tier or model, weekly by default.
pub fn fire_sale_selection(params: &FireSaleParams, now: DateTime<Utc>) -> ApiResult<Selection> {
    Filters {
        group_by: params.group_by.unwrap_or(GroupBy::Country),
        tier: params.tier,
        rig_model_id: params.rig_model_id,
        country: params.country.as_deref(),
        interval: params.interval.unwrap_or(Interval::Week),
        from: params.from.as_deref(),
        to: params.to.as_deref(),
    }
    .select(now)
}

/// The fire-sale series of a selection: JSON, or CSV when `csv`.
pub async fn fire_sales(conn: &mut AsyncPgConnection, selection: &Selection, csv: bool) -> ApiResult<Vec<u8>> {
    let Buckets { rows, models } = buckets(conn, Basis::Asking, Measures::NewListings, selection).await?;
    if csv {
        return Ok(csv_export::fire_sale_series(&series::fire_sale_series(selection, &rows, &models))?);
    }
    let series = series::keyed(selection, &rows, &models, series::has_new_listings);
    render::fire_sale_series(selection, &series).map_err(|err| ApiError::Internal(err.into()))
}
