//! SQL on `rig_models` and `manufacturers`: the catalog's models, their
//! specifications, and the labels other capabilities show.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use chrono::Utc;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::catalog::model::RigModelRow;
use crate::catalog::tiers::EfficiencyTier;
use crate::db::ids::RigModelId;
use crate::db::schema::{manufacturers, rig_models};

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

pub async fn find_model(conn: &mut AsyncPgConnection, id: RigModelId) -> QueryResult<Option<(RigModelRow, String)>> {
    rig_models::table
        .inner_join(manufacturers::table)
        .filter(rig_models::id.eq(id))
        .select((RigModelRow::as_select(), manufacturers::name))
        .first(conn)
        .await
        .optional()
}

/// Which of `ids` are models (one query for a whole batch).
pub async fn existing_model_ids(conn: &mut AsyncPgConnection, ids: &[RigModelId]) -> QueryResult<HashSet<RigModelId>> {
    Ok(rig_models::table
        .filter(rig_models::id.eq_any(ids))
        .select(rig_models::id)
        .load::<RigModelId>(conn)
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

pub async fn update_model(
    conn: &mut AsyncPgConnection,
    id: RigModelId,
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
#[derive(Debug, Clone, Default, serde::Deserialize)]
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

/// The labels of the models in the `uuid[]` expression `ids`, as a scalar SQL
/// expression for another capability's statement: the JSON text of an object
/// from model id to [`ModelLabel`] (NULL when none was found).
pub fn model_labels_json_sql(ids: &str) -> String {
    format!(
        "(SELECT json_object_agg(rig_models.id, json_build_object('manufacturer', manufacturers.name, \
         'name', rig_models.name, 'tier', rig_models.tier, 'power_w', rig_models.power_w))::text \
         FROM rig_models JOIN manufacturers ON manufacturers.id = rig_models.manufacturer_id \
         WHERE rig_models.id = ANY({ids}))"
    )
}

/// Labels of many models in one statement, the same SQL as
/// [`model_labels_json_sql`] (on a shared connection, so a page can pipeline it).
pub async fn model_labels(
    conn: &AsyncPgConnection,
    ids: &[RigModelId],
) -> QueryResult<HashMap<RigModelId, ModelLabel>> {
    static STATEMENT: LazyLock<String> = LazyLock::new(|| format!("SELECT {} AS part", model_labels_json_sql("$1")));
    crate::db::keyed_json::select_keyed(conn, &STATEMENT, ids).await
}

/// The models of a tier (only `only`, when given and in the tier).
pub async fn models_in_tier(
    conn: &mut AsyncPgConnection,
    tier: EfficiencyTier,
    only: Option<RigModelId>,
) -> QueryResult<Vec<RigModelId>> {
    let mut query = rig_models::table.filter(rig_models::tier.eq(tier.key())).select(rig_models::id).into_boxed();
    if let Some(id) = only {
        query = query.filter(rig_models::id.eq(id));
    }
    query.load(conn).await
}

/// The model row alone.
pub async fn model_row(conn: &mut AsyncPgConnection, id: RigModelId) -> QueryResult<Option<RigModelRow>> {
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
