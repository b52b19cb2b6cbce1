//! Rows of the saved-search tables and the JSON the API answers with.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::rules::{AlertMode, Triggers};
use crate::db::ids::{SavedSearchId, UserId};
use crate::db::schema::saved_searches;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = saved_searches)]
pub struct SavedSearchRow {
    pub id: SavedSearchId,
    pub user_id: UserId,
    pub name: String,
    /// The filters as `GET /v1/listings` takes them (checked when written).
    pub query: serde_json::Value,
    pub alert: AlertMode,
    pub on_new_match: bool,
    pub on_price_drop: bool,
    pub discount_at_least_bps: Option<i64>,
    pub match_key: String,
    pub max_price_cents: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Copied out of `query` with `match_key` and `max_price_cents` for the
    /// candidate index (see [`super::rules::IndexedFacts`]).
    pub country: Option<String>,
    pub min_discount_bps: Option<i64>,
}

impl SavedSearchRow {
    pub fn triggers(&self) -> Triggers {
        Triggers {
            new_match: self.on_new_match,
            price_drop: self.on_price_drop,
            discount_at_least_bps: self.discount_at_least_bps,
        }
    }
}

/// A saved search as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193f2a4-7c1a-7e42-9b15-6f4d8c3a2e10",
    "name": "S19j Pro under $30/TH, 25 % off, hosting deadline",
    "query": {"tier": "19to25", "max_usd_per_th": 30, "min_discount_pct": 25, "power_off_before": "2027-03-01"},
    "alert": "instant",
    "triggers": ["new_match", "price_drop", {"discount_at_least": 30.0}],
    "created_at": "2026-12-07T10:00:00Z",
    "updated_at": "2026-12-07T10:00:00Z"
}))]
pub struct SavedSearchView {
    #[schema(value_type = Uuid)]
    pub id: SavedSearchId,
    pub name: String,
    /// The filters of `GET /v1/listings` (without `limit`, `cursor`, `with_total`).
    #[schema(value_type = Object)]
    pub query: serde_json::Value,
    pub alert: AlertMode,
    /// `"new_match"`, `"price_drop"`, `{"discount_at_least": <percent>}`.
    pub triggers: Vec<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&SavedSearchRow> for SavedSearchView {
    fn from(row: &SavedSearchRow) -> Self {
        Self {
            id: row.id,
            name: row.name.clone(),
            query: row.query.clone(),
            alert: row.alert,
            triggers: row.triggers().to_json(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}
