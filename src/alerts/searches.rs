//! Saved searches: create, list, change, delete, and the candidates of one
//! listing. The query is checked by the listing search's own parser
//! ([`SearchParams::filters`]), so a saved search can hold exactly what `GET
//! /v1/listings` accepts and nothing else.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use super::model::SavedSearchRow;
use super::rules::{AlertMode, CandidateProbe, IndexedFacts, Triggers, MAX_SAVED_SEARCHES};
use crate::db::ids::{SavedSearchId, UserId};
use crate::db::schema::saved_searches;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::listings::search::{Filters, SearchParams};

/// Page settings of `GET /v1/listings` that a saved search does not keep.
const PAGE_SETTINGS: [&str; 3] = ["limit", "cursor", "with_total"];

pub fn saved_search_not_found() -> ApiError {
    ApiError::not_found("saved_search_not_found", "No such saved search of yours.")
}

/// A query that passed the search's parser: its JSON as given and its filters.
#[derive(Debug, Clone)]
pub struct CheckedQuery {
    pub json: Value,
    pub filters: Filters,
}

/// Parses `query` as `GET /v1/listings` parses its parameters; every problem
/// is reported under `query.`.
pub fn checked_query(query: &Value) -> ApiResult<CheckedQuery> {
    let Some(object) = query.as_object() else {
        return Err(ApiError::validation("query", "must be an object of search filters"));
    };
    let page_settings: Vec<FieldError> = PAGE_SETTINGS
        .iter()
        .filter(|key| object.contains_key(**key))
        .map(|key| FieldError::new(format!("query.{key}"), "is a page setting, not a filter"))
        .collect();
    if !page_settings.is_empty() {
        return Err(ApiError::Validation(page_settings));
    }
    let params: SearchParams = serde_json::from_value(query.clone())
        // serde's message names the field and the type it wanted, nothing internal.
        .map_err(|err| ApiError::validation("query", err.to_string()))?;
    let filters = params.filters().map_err(|err| match err {
        ApiError::Validation(errors) => ApiError::Validation(
            errors.into_iter().map(|e| FieldError { field: format!("query.{}", e.field), ..e }).collect(),
        ),
        other => other,
    })?;
    Ok(CheckedQuery { json: query.clone(), filters })
}

/// The stored query's filters (it was checked when written).
pub fn stored_params(row: &SavedSearchRow) -> Option<SearchParams> {
    serde_json::from_value(row.query.clone()).ok()
}

pub struct NewSearch {
    pub name: String,
    pub query: CheckedQuery,
    pub alert: AlertMode,
    pub triggers: Triggers,
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    new: NewSearch,
    now: DateTime<Utc>,
) -> ApiResult<SavedSearchRow> {
    let row = conn
        .transaction(async |conn| {
            // Two creations at once must not both pass the count.
            crate::accounts::lock_user(conn, user_id).await?;
            let count: i64 =
                saved_searches::table.filter(saved_searches::user_id.eq(user_id)).count().get_result(conn).await?;
            if count >= MAX_SAVED_SEARCHES {
                return Err(ApiError::conflict(
                    "too_many_saved_searches",
                    format!("At most {MAX_SAVED_SEARCHES} saved searches per account; delete one first."),
                ));
            }
            let triggers = new.triggers;
            let facts = IndexedFacts::of(&new.query.filters);
            let row = diesel::insert_into(saved_searches::table)
                .values((
                    saved_searches::id.eq(SavedSearchId::new()),
                    saved_searches::user_id.eq(user_id),
                    saved_searches::name.eq(&new.name),
                    saved_searches::query.eq(&new.query.json),
                    saved_searches::alert.eq(new.alert),
                    saved_searches::on_new_match.eq(triggers.new_match),
                    saved_searches::on_price_drop.eq(triggers.price_drop),
                    saved_searches::discount_at_least_bps.eq(triggers.discount_at_least_bps),
                    saved_searches::match_key.eq(facts.match_key),
                    saved_searches::country.eq(facts.country),
                    saved_searches::max_price_cents.eq(facts.max_price_cents),
                    saved_searches::min_discount_bps.eq(facts.min_discount_bps),
                    saved_searches::created_at.eq(now),
                    saved_searches::updated_at.eq(now),
                ))
                .returning(SavedSearchRow::as_returning())
                .get_result(conn)
                .await?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    tracing::info!(saved_search.id = %row.id, user.id = %user_id, "saved search created");
    Ok(row)
}

/// The caller's search (locked for the rest of the transaction when `lock`).
pub async fn find_own(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    id: SavedSearchId,
    lock: bool,
) -> ApiResult<SavedSearchRow> {
    let mine =
        saved_searches::table.find(id).filter(saved_searches::user_id.eq(user_id)).select(SavedSearchRow::as_select());
    let found = if lock { mine.for_update().first(conn).await } else { mine.first(conn).await };
    found.optional()?.ok_or_else(saved_search_not_found)
}

/// The caller's searches, newest first, after the `before` cursor.
pub async fn list(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    before: Option<(DateTime<Utc>, SavedSearchId)>,
    limit: i64,
) -> QueryResult<Vec<SavedSearchRow>> {
    let mut query = saved_searches::table
        .filter(saved_searches::user_id.eq(user_id))
        .order((saved_searches::created_at.desc(), saved_searches::id.desc()))
        .limit(limit)
        .select(SavedSearchRow::as_select())
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            saved_searches::created_at.lt(at).or(saved_searches::created_at.eq(at).and(saved_searches::id.lt(id))),
        );
    }
    query.load(conn).await
}

/// A PATCH: the fields given, each already checked.
#[derive(Default)]
pub struct SearchChanges {
    pub name: Option<String>,
    pub query: Option<CheckedQuery>,
    pub alert: Option<AlertMode>,
    pub triggers: Option<Triggers>,
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    id: SavedSearchId,
    changes: SearchChanges,
    now: DateTime<Utc>,
) -> ApiResult<SavedSearchRow> {
    conn.transaction(async |conn| {
        let row = find_own(conn, user_id, id, true).await?;
        let triggers = changes.triggers.unwrap_or(row.triggers());
        let (query, facts) = match &changes.query {
            Some(query) => (query.json.clone(), IndexedFacts::of(&query.filters)),
            None => (
                row.query,
                IndexedFacts {
                    match_key: row.match_key,
                    country: row.country,
                    max_price_cents: row.max_price_cents,
                    min_discount_bps: row.min_discount_bps,
                },
            ),
        };
        let updated = diesel::update(saved_searches::table.find(row.id))
            .set((
                saved_searches::name.eq(changes.name.clone().unwrap_or(row.name)),
                saved_searches::query.eq(query),
                saved_searches::alert.eq(changes.alert.unwrap_or(row.alert)),
                saved_searches::on_new_match.eq(triggers.new_match),
                saved_searches::on_price_drop.eq(triggers.price_drop),
                saved_searches::discount_at_least_bps.eq(triggers.discount_at_least_bps),
                saved_searches::match_key.eq(facts.match_key),
                saved_searches::country.eq(facts.country),
                saved_searches::max_price_cents.eq(facts.max_price_cents),
                saved_searches::min_discount_bps.eq(facts.min_discount_bps),
                saved_searches::updated_at.eq(now),
            ))
            .returning(SavedSearchRow::as_returning())
            .get_result(conn)
            .await?;
        Ok(updated)
    })
    .await
}

pub async fn delete(conn: &mut AsyncPgConnection, user_id: UserId, id: SavedSearchId) -> ApiResult<()> {
    let deleted = diesel::delete(saved_searches::table.find(id).filter(saved_searches::user_id.eq(user_id)))
        .execute(conn)
        .await?;
    if deleted == 0 {
        return Err(saved_search_not_found());
    }
    Ok(())
}

/// Turns the alerts of these searches off (one-click unsubscribe); returns how
/// many were still on.
pub async fn turn_off(conn: &mut AsyncPgConnection, ids: &[SavedSearchId], now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(
        saved_searches::table.filter(saved_searches::id.eq_any(ids)).filter(saved_searches::alert.ne(AlertMode::Off)),
    )
    .set((saved_searches::alert.eq(AlertMode::Off), saved_searches::updated_at.eq(now)))
    .execute(conn)
    .await
}

/// The searches with alerts on that could match the probed listing: one scan
/// of the `saved_searches_candidates` index (its three buckets x its country
/// or none, then the maximum price and the discount floor), never one query
/// per search. The expressions are the index's, verbatim, so that the planner
/// can use it; the caller checks each candidate's exact filters.
pub async fn candidates(conn: &mut AsyncPgConnection, probe: &CandidateProbe) -> QueryResult<Vec<SavedSearchRow>> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Array, BigInt, Bool, Text};
    saved_searches::table
        // A literal, not a bound value: the planner must see that the partial
        // index's predicate holds when it plans the statement.
        .filter(sql::<Bool>("saved_searches.alert <> 'off'"))
        .filter(saved_searches::match_key.eq_any(&probe.buckets[..]))
        .filter(
            sql::<Bool>("coalesce(saved_searches.country, '') = ANY(")
                .bind::<Array<Text>, _>(&probe.countries[..])
                .sql(")"),
        )
        .filter(
            sql::<Bool>("coalesce(saved_searches.max_price_cents, 9223372036854775807) >= ")
                .bind::<BigInt, _>(probe.unit_price_cents),
        )
        .filter(
            sql::<Bool>("coalesce(saved_searches.min_discount_bps, '-9223372036854775808'::bigint) <= ")
                .bind::<BigInt, _>(probe.discount_bps),
        )
        .select(SavedSearchRow::as_select())
        .load(conn)
        .await
}

/// The searches of these ids that still exist (in no order).
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[SavedSearchId]) -> QueryResult<Vec<SavedSearchRow>> {
    saved_searches::table.filter(saved_searches::id.eq_any(ids)).select(SavedSearchRow::as_select()).load(conn).await
}
