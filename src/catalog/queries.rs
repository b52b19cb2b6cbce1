//! Catalog queries. Each takes a connection so callers can compose them in one
//! transaction.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{EffectiveReference, NewReferencePrice, PriceBasis, ReferenceOrigin, ReferencePrice, RigModelRow};
use super::tiers::{cents_for_hashrate, EfficiencyTier, TierBand};
use crate::db::schema::{manufacturers, reference_prices, rig_models, tier_reference_prices};

#[derive(Debug, Default)]
pub struct ModelFilter {
    pub manufacturer: Option<String>,
    pub algorithm: Option<String>,
    pub tier: Option<EfficiencyTier>,
}

/// Sort key of the catalog listing: manufacturer name, model name, id.
pub type ModelCursor = (String, String, Uuid);

pub async fn list_models(
    conn: &mut AsyncPgConnection,
    filter: &ModelFilter,
    after: Option<ModelCursor>,
    limit: i64,
) -> QueryResult<Vec<(RigModelRow, String)>> {
    let mut query = rig_models::table
        .inner_join(manufacturers::table)
        .select((RigModelRow::as_select(), manufacturers::name))
        .order((manufacturers::name, rig_models::name, rig_models::id))
        .limit(limit)
        .into_boxed();
    if let Some(manufacturer) = &filter.manufacturer {
        query = query.filter(manufacturers::name.ilike(crate::db::escape_like(manufacturer)));
    }
    if let Some(algorithm) = &filter.algorithm {
        query = query.filter(rig_models::algorithm.ilike(crate::db::escape_like(algorithm)));
    }
    if let Some(tier) = filter.tier {
        query = query.filter(rig_models::tier.eq(tier.key()));
    }
    if let Some((maker, name, id)) = after {
        query = query.filter(
            manufacturers::name.gt(maker.clone()).or(manufacturers::name
                .eq(maker)
                .and(rig_models::name.gt(name.clone()).or(rig_models::name.eq(name).and(rig_models::id.gt(id))))),
        );
    }
    query.load(conn).await
}

pub async fn find_model(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<(RigModelRow, String)>> {
    rig_models::table
        .inner_join(manufacturers::table)
        .filter(rig_models::id.eq(id))
        .select((RigModelRow::as_select(), manufacturers::name))
        .first(conn)
        .await
        .optional()
}

/// Which of `ids` are models (one query for a whole batch).
pub async fn existing_model_ids(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<std::collections::HashSet<Uuid>> {
    Ok(rig_models::table
        .filter(rig_models::id.eq_any(ids))
        .select(rig_models::id)
        .load::<Uuid>(conn)
        .await?
        .into_iter()
        .collect())
}

pub async fn find_model_by_name(
    conn: &mut AsyncPgConnection,
    manufacturer: &str,
    name: &str,
) -> QueryResult<Option<RigModelRow>> {
    rig_models::table
        .inner_join(manufacturers::table)
        .filter(manufacturers::name.eq(manufacturer))
        .filter(rig_models::name.eq(name))
        .select(RigModelRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The manufacturer's id, creating the manufacturer on first use.
pub async fn manufacturer_id(conn: &mut AsyncPgConnection, name: &str) -> QueryResult<Uuid> {
    diesel::insert_into(manufacturers::table)
        .values((manufacturers::id.eq(Uuid::now_v7()), manufacturers::name.eq(name)))
        .on_conflict(manufacturers::name)
        .do_nothing()
        .execute(conn)
        .await?;
    manufacturers::table.filter(manufacturers::name.eq(name)).select(manufacturers::id).first(conn).await
}

/// A model's specification as entered by an admin or an import.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    pub manufacturer: String,
    pub name: String,
    pub algorithm: String,
    pub hashrate_hs: i64,
    pub power_w: i32,
    pub release_year: Option<i16>,
    pub source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExisting {
    /// Leave an existing model untouched (seeding must not undo admin edits).
    Keep,
    /// Overwrite its specification (an explicit import).
    Update,
}

/// Inserts a model; returns whether a row was written.
pub async fn save_model(conn: &mut AsyncPgConnection, spec: &ModelSpec, on_existing: OnExisting) -> QueryResult<bool> {
    let manufacturer_id = manufacturer_id(conn, &spec.manufacturer).await?;
    let insert = diesel::insert_into(rig_models::table).values((
        rig_models::id.eq(Uuid::now_v7()),
        rig_models::manufacturer_id.eq(manufacturer_id),
        rig_models::name.eq(&spec.name),
        rig_models::algorithm.eq(&spec.algorithm),
        rig_models::hashrate_hs.eq(spec.hashrate_hs),
        rig_models::power_w.eq(spec.power_w),
        rig_models::release_year.eq(spec.release_year),
        rig_models::source.eq(&spec.source),
    ));
    let written = match on_existing {
        OnExisting::Keep => {
            insert.on_conflict((rig_models::manufacturer_id, rig_models::name)).do_nothing().execute(conn).await?
        }
        OnExisting::Update => {
            insert
                .on_conflict((rig_models::manufacturer_id, rig_models::name))
                .do_update()
                .set((
                    rig_models::algorithm.eq(&spec.algorithm),
                    rig_models::hashrate_hs.eq(spec.hashrate_hs),
                    rig_models::power_w.eq(spec.power_w),
                    rig_models::release_year.eq(spec.release_year),
                    rig_models::source.eq(&spec.source),
                    rig_models::updated_at.eq(Utc::now()),
                ))
                .execute(conn)
                .await?
        }
    };
    Ok(written > 0)
}

pub async fn count_models(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    rig_models::table.count().get_result(conn).await
}

pub async fn reference_history(
    conn: &mut AsyncPgConnection,
    model_id: Uuid,
    limit: i64,
) -> QueryResult<Vec<ReferencePrice>> {
    reference_prices::table
        .filter(reference_prices::rig_model_id.eq(model_id))
        .order((reference_prices::priced_on.desc(), reference_prices::created_at.desc()))
        .limit(limit)
        .select(ReferencePrice::as_select())
        .load(conn)
        .await
}

/// Inserts reference prices; a second price for the same model, day and source
/// replaces the first (the later entry is the correction).
pub async fn save_reference_prices(
    conn: &mut AsyncPgConnection,
    prices: &[NewReferencePrice],
) -> QueryResult<Vec<ReferencePrice>> {
    let mut saved = Vec::with_capacity(prices.len());
    for price in prices {
        let row = diesel::insert_into(reference_prices::table)
            .values(price)
            .on_conflict((reference_prices::rig_model_id, reference_prices::priced_on, reference_prices::source))
            .do_update()
            .set((
                reference_prices::basis.eq(&price.basis),
                reference_prices::amount_cents.eq(price.amount_cents),
                reference_prices::note.eq(&price.note),
                reference_prices::created_by.eq(price.created_by),
            ))
            .returning(ReferencePrice::as_returning())
            .get_result(conn)
            .await?;
        saved.push(row);
    }
    Ok(saved)
}

#[derive(Debug, Clone, PartialEq)]
pub struct TierPriceRow {
    pub band: TierBand,
    pub priced_on: NaiveDate,
    pub usd_per_th_cents: i64,
    pub source: String,
}

/// Upserts tier $/TH points; returns how many rows were new or changed.
pub async fn save_tier_prices(
    conn: &mut AsyncPgConnection,
    rows: &[TierPriceRow],
    on_existing: OnExisting,
) -> QueryResult<usize> {
    let mut written = 0;
    for row in rows {
        let insert = diesel::insert_into(tier_reference_prices::table).values((
            tier_reference_prices::id.eq(Uuid::now_v7()),
            tier_reference_prices::tier.eq(&row.band.key),
            tier_reference_prices::min_j_per_th.eq(row.band.min_j_per_th),
            tier_reference_prices::max_j_per_th.eq(row.band.max_j_per_th),
            tier_reference_prices::priced_on.eq(row.priced_on),
            tier_reference_prices::usd_per_th_cents.eq(row.usd_per_th_cents),
            tier_reference_prices::source.eq(&row.source),
        ));
        written += match on_existing {
            OnExisting::Keep => {
                insert
                    .on_conflict((tier_reference_prices::tier, tier_reference_prices::priced_on))
                    .do_nothing()
                    .execute(conn)
                    .await?
            }
            OnExisting::Update => {
                insert
                    .on_conflict((tier_reference_prices::tier, tier_reference_prices::priced_on))
                    .do_update()
                    .set((
                        tier_reference_prices::usd_per_th_cents.eq(row.usd_per_th_cents),
                        tier_reference_prices::source.eq(&row.source),
                    ))
                    .execute(conn)
                    .await?
            }
        };
    }
    Ok(written)
}

#[derive(QueryableByName)]
struct TierPointRow {
    #[diesel(sql_type = Text)]
    tier: String,
    #[diesel(sql_type = Integer)]
    min_j_per_th: i32,
    #[diesel(sql_type = Nullable<Integer>)]
    max_j_per_th: Option<i32>,
    #[diesel(sql_type = Date)]
    priced_on: NaiveDate,
    #[diesel(sql_type = BigInt)]
    usd_per_th_cents: i64,
}

/// A model's effective reference price on `date`: its own latest price on or
/// before the date, else the latest tier $/TH whose band contains the model's
/// efficiency (the narrowest band when several share that date) times its
/// nominal TH. `None` when neither exists.
pub async fn effective_reference(
    conn: &mut AsyncPgConnection,
    model: &RigModelRow,
    date: NaiveDate,
) -> QueryResult<Option<EffectiveReference>> {
    let own: Option<ReferencePrice> = reference_prices::table
        .filter(reference_prices::rig_model_id.eq(model.id))
        .filter(reference_prices::priced_on.le(date))
        .order((reference_prices::priced_on.desc(), reference_prices::created_at.desc()))
        .select(ReferencePrice::as_select())
        .first(conn)
        .await
        .optional()?;
    if let Some(price) = own {
        let unit_price_cents = match PriceBasis::parse(&price.basis) {
            Some(PriceBasis::Th) => cents_for_hashrate(price.amount_cents, model.hashrate_hs),
            _ => price.amount_cents,
        };
        let reference = EffectiveReference {
            unit_price_cents,
            currency: "USD",
            origin: ReferenceOrigin::Model,
            priced_on: price.priced_on,
            tier_band: None,
            usd_per_th_cents: (price.basis == PriceBasis::Th.as_str()).then_some(price.amount_cents),
        };
        return Ok(Some(reference).filter(|r| r.unit_price_cents > 0));
    }
    // Band membership is decided in NUMERIC so boundaries (38.0 J/TH) are exact.
    let tier_point: Option<TierPointRow> = diesel::sql_query(
        "SELECT tier, min_j_per_th, max_j_per_th, priced_on, usd_per_th_cents
           FROM tier_reference_prices
          WHERE priced_on <= $1
            AND min_j_per_th::numeric * $2 <= $3::numeric * 1000000000000
            AND (max_j_per_th IS NULL OR $3::numeric * 1000000000000 < max_j_per_th::numeric * $2)
          ORDER BY priced_on DESC, COALESCE(max_j_per_th, 1000000) - min_j_per_th ASC
          LIMIT 1",
    )
    .bind::<Date, _>(date)
    .bind::<BigInt, _>(model.hashrate_hs)
    .bind::<Integer, _>(model.power_w)
    .get_result(conn)
    .await
    .optional()?;
    // A reference that rounds to zero cents (a MH/s-class rig priced per TH) is
    // no reference: a discount against it would be meaningless.
    Ok(tier_point
        .map(|point| EffectiveReference {
            unit_price_cents: cents_for_hashrate(point.usd_per_th_cents, model.hashrate_hs),
            currency: "USD",
            origin: ReferenceOrigin::TierIndex,
            priced_on: point.priced_on,
            tier_band: Some(
                TierBand { key: point.tier, min_j_per_th: point.min_j_per_th, max_j_per_th: point.max_j_per_th }.key,
            ),
            usd_per_th_cents: Some(point.usd_per_th_cents),
        })
        .filter(|reference| reference.unit_price_cents > 0))
}

pub async fn update_model(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    spec: &ModelSpec,
    now: chrono::DateTime<Utc>,
) -> QueryResult<RigModelRow> {
    diesel::update(rig_models::table.find(id))
        .set((
            rig_models::name.eq(&spec.name),
            rig_models::algorithm.eq(&spec.algorithm),
            rig_models::hashrate_hs.eq(spec.hashrate_hs),
            rig_models::power_w.eq(spec.power_w),
            rig_models::release_year.eq(spec.release_year),
            rig_models::source.eq(&spec.source),
            rig_models::updated_at.eq(now),
        ))
        .returning(RigModelRow::as_returning())
        .get_result(conn)
        .await
}

/// What other capabilities show of a model: its maker, name, tier and power.
#[derive(Debug, Clone, Default)]
pub struct ModelLabel {
    pub manufacturer: String,
    pub name: String,
    pub tier: String,
    pub power_w: i32,
}

impl ModelLabel {
    /// "Bitmain Antminer S19 Pro".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.manufacturer, self.name)
    }
}

/// Labels of many models in one query.
pub async fn model_labels(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<HashMap<Uuid, ModelLabel>> {
    let rows: Vec<(Uuid, String, String, String, i32)> = rig_models::table
        .inner_join(manufacturers::table)
        .filter(rig_models::id.eq_any(ids))
        .select((rig_models::id, manufacturers::name, rig_models::name, rig_models::tier, rig_models::power_w))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, manufacturer, name, tier, power_w)| (id, ModelLabel { manufacturer, name, tier, power_w }))
        .collect())
}

/// The models of a tier (only `only`, when given and in the tier).
pub async fn models_in_tier(
    conn: &mut AsyncPgConnection,
    tier: EfficiencyTier,
    only: Option<Uuid>,
) -> QueryResult<Vec<Uuid>> {
    let mut query = rig_models::table.filter(rig_models::tier.eq(tier.key())).select(rig_models::id).into_boxed();
    if let Some(id) = only {
        query = query.filter(rig_models::id.eq(id));
    }
    query.load(conn).await
}

/// The model row alone.
pub async fn model_row(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<RigModelRow>> {
    rig_models::table.find(id).select(RigModelRow::as_select()).first(conn).await.optional()
}

/// Manufacturers whose lower-cased name is `name`, as a subquery another
/// capability can filter by in the same statement.
pub fn manufacturers_named(name: &str) -> manufacturers::BoxedQuery<'static, diesel::pg::Pg, diesel::sql_types::Uuid> {
    manufacturers::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(manufacturers.name) = ")
                .bind::<Text, _>(name.to_string()),
        )
        .select(manufacturers::id)
        .into_boxed()
}

/// The model named `name` (demo scenarios name models, not ids).
pub async fn model_named(conn: &mut AsyncPgConnection, name: &str) -> QueryResult<Option<RigModelRow>> {
    rig_models::table.filter(rig_models::name.eq(name)).select(RigModelRow::as_select()).first(conn).await.optional()
}
