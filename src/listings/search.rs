//! Listing search: filters, six sort orders each served by its own partial index,
//! and keyset pagination whose cursor is the last item's sort key, so pages stay
//! stable while new listings are published. Parameters are checked into a
//! [`SearchPlan`] before any connection is taken; [`run`] reads one page.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::{not, sql};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::lifecycle::ListingStatus;
use super::model::ListingRow;
use crate::catalog::tiers::EfficiencyTier;
use crate::db::ids::{ListingId, RigModelId};
use crate::db::schema::listings;
use crate::error::ApiError;
use crate::http::pagination::{decode_cursor, encode_cursor, MAX_LIMIT};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    #[default]
    Newest,
    PriceAsc,
    PriceDesc,
    UsdPerThAsc,
    DiscountDesc,
    EfficiencyAsc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum GradeFilter {
    A,
    B,
    C,
    D,
}

impl GradeFilter {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
            Self::D => "D",
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Full-text search in title and description (web search syntax: words,
    /// "quoted phrases", -excluded).
    pub q: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub rig_model_id: Option<RigModelId>,
    /// Manufacturer name, case-insensitive.
    pub manufacturer: Option<String>,
    #[param(inline)]
    pub tier: Option<EfficiencyTier>,
    /// ISO 3166-1 alpha-2 country where the rigs are.
    pub country: Option<String>,
    pub min_price_cents: Option<i64>,
    pub max_price_cents: Option<i64>,
    /// Maximum USD per nominal TH/s (e.g. 12.5).
    pub max_usd_per_th: Option<f64>,
    /// Latest condition report at least this good (A is best).
    #[param(inline)]
    pub condition_grade: Option<GradeFilter>,
    /// Only fire sales (true) or only the rest (false).
    pub fire_sale: Option<bool>,
    /// Minimum discount against the reference, in percent.
    pub min_discount_pct: Option<f64>,
    /// Only listings with a valid verified hashrate proof.
    pub verified_only: Option<bool>,
    /// Rigs that must be powered off before this date (hosting deadline).
    pub power_off_before: Option<NaiveDate>,
    /// Minimum units available.
    pub min_quantity: Option<i32>,
    #[param(inline)]
    pub sort: Option<SearchSort>,
    /// Items per page, 1-100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page (only valid with the same sort).
    pub cursor: Option<String>,
    /// Also count all matches (costs one more query).
    pub with_total: Option<bool>,
}

/// Validated filters, ready to apply (in SQL by [`filtered`], to one listing
/// in memory by `search_match`).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub(super) q: Option<String>,
    pub(super) rig_model_id: Option<RigModelId>,
    pub(super) manufacturer: Option<String>,
    pub(super) tier: Option<EfficiencyTier>,
    pub(super) country: Option<String>,
    pub(super) min_price_cents: Option<i64>,
    pub(super) max_price_cents: Option<i64>,
    pub(super) max_usd_per_th_cents: Option<i64>,
    pub(super) max_grade: Option<GradeFilter>,
    pub(super) fire_sale: Option<bool>,
    pub(super) min_discount_bps: Option<i64>,
    pub(super) verified_only: bool,
    pub(super) power_off_before: Option<NaiveDate>,
    pub(super) min_quantity: Option<i32>,
}

fn percent_to_bps(field: &str, pct: f64, errors: &mut Vec<crate::error::FieldError>) -> Option<i64> {
    if pct.is_finite() && (-1000.0..=100.0).contains(&pct) {
        Some((pct * 100.0).round() as i64)
    } else {
        errors.push(crate::error::FieldError::new(field, "must be a percentage of at most 100"));
        None
    }
}

impl SearchParams {
    pub fn filters(&self) -> Result<Filters, ApiError> {
        let mut errors = Vec::new();
        let mut push = |field: &str, message: &str| errors.push(crate::error::FieldError::new(field, message));
        if self.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            push("q", "must be at most 200 characters");
        }
        let country = self.country.as_ref().map(|c| c.trim().to_ascii_uppercase());
        if country.as_deref().is_some_and(|c| !crate::geo::is_country_code(c)) {
            push("country", "must be an ISO 3166-1 alpha-2 code such as KZ");
        }
        for (field, value) in [("min_price_cents", self.min_price_cents), ("max_price_cents", self.max_price_cents)] {
            if value.is_some_and(|v| v < 0) {
                push(field, "must not be negative");
            }
        }
        if self.min_quantity.is_some_and(|q| q < 0) {
            push("min_quantity", "must not be negative");
        }
        let max_usd_per_th_cents = match self.max_usd_per_th {
            Some(usd) if usd.is_finite() && (0.0..=1e9).contains(&usd) => Some((usd * 100.0).round() as i64),
            Some(_) => {
                push("max_usd_per_th", "must be a non-negative number");
                None
            }
            None => None,
        };
        let min_discount_bps =
            self.min_discount_pct.and_then(|pct| percent_to_bps("min_discount_pct", pct, &mut errors));
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(Filters {
            q: self.q.as_ref().map(|q| q.trim().to_string()).filter(|q| !q.is_empty()),
            rig_model_id: self.rig_model_id,
            manufacturer: self.manufacturer.as_ref().map(|m| m.trim().to_lowercase()),
            tier: self.tier,
            country,
            min_price_cents: self.min_price_cents,
            max_price_cents: self.max_price_cents,
            max_usd_per_th_cents,
            max_grade: self.condition_grade,
            fire_sale: self.fire_sale,
            min_discount_bps,
            verified_only: self.verified_only.unwrap_or(false),
            power_off_before: self.power_off_before,
            min_quantity: self.min_quantity,
        })
    }
}

type Boxed = listings::BoxedQuery<'static, Pg>;

/// Active listings of sellers in good standing, filtered.
pub fn filtered(filters: &Filters, threshold_bps: i64, now: DateTime<Utc>) -> Boxed {
    let mut query = listings::table
        .filter(listings::status.eq(ListingStatus::Active.as_str()))
        .filter(not(listings::seller_id.eq_any(crate::accounts::suspended_user_ids())))
        .into_boxed();
    let f = filters.clone();
    if let Some(q) = f.q {
        query =
            query.filter(sql::<Bool>("search_document @@ websearch_to_tsquery('simple', ").bind::<Text, _>(q).sql(")"));
    }
    if let Some(id) = f.rig_model_id {
        query = query.filter(listings::rig_model_id.eq(id));
    }
    if let Some(maker) = f.manufacturer {
        query = query.filter(listings::manufacturer_id.eq_any(crate::catalog::queries::manufacturers_named(&maker)));
    }
    if let Some(tier) = f.tier {
        query = query.filter(listings::model_tier.eq(tier.key()));
    }
    if let Some(country) = f.country {
        query = query.filter(listings::country.eq(country));
    }
    if let Some(min) = f.min_price_cents {
        query = query.filter(listings::unit_price_cents.ge(min));
    }
    if let Some(max) = f.max_price_cents {
        query = query.filter(listings::unit_price_cents.le(max));
    }
    if let Some(max) = f.max_usd_per_th_cents {
        query = query.filter(listings::usd_per_th_cents.le(max));
    }
    if let Some(grade) = f.max_grade {
        // Grades sort A < B < C < D, best first.
        query = query.filter(listings::latest_condition_grade.le(grade.as_str()));
    }
    match f.fire_sale {
        Some(true) => query = query.filter(listings::discount_bps.ge(threshold_bps)),
        Some(false) => {
            query = query.filter(listings::discount_bps.lt(threshold_bps).or(listings::discount_bps.is_null()))
        }
        None => {}
    }
    if let Some(min) = f.min_discount_bps {
        query = query.filter(listings::discount_bps.ge(min));
    }
    if f.verified_only {
        query = query.filter(listings::hashrate_verified_until.gt(now));
    }
    if let Some(date) = f.power_off_before {
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        query = query.filter(listings::power_off_at.lt(midnight));
    }
    if let Some(min) = f.min_quantity {
        query = query.filter(listings::quantity_available.ge(min));
    }
    query
}

/// The sort key of the last item on a page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SortKey {
    Int(i64),
    Float(f64),
    Time(DateTime<Utc>),
}

/// Names its sort, so a cursor from one sort cannot continue another.
#[derive(Debug, Serialize, Deserialize)]
pub struct SearchCursor {
    sort: SearchSort,
    key: SortKey,
    id: ListingId,
}

pub fn sort_key(sort: SearchSort, row: &ListingRow) -> SearchCursor {
    let key = match sort {
        SearchSort::Newest => SortKey::Time(row.published_at.unwrap_or(row.created_at)),
        SearchSort::PriceAsc | SearchSort::PriceDesc => SortKey::Int(row.unit_price_cents),
        SearchSort::UsdPerThAsc => SortKey::Int(row.usd_per_th_cents),
        SearchSort::DiscountDesc => SortKey::Int(row.discount_rank),
        SearchSort::EfficiencyAsc => SortKey::Float(row.model_efficiency_j_per_th),
    };
    SearchCursor { sort, key, id: row.id }
}

fn bad_cursor() -> ApiError {
    ApiError::validation("cursor", "is not a cursor for this sort")
}

/// Orders the query and continues after `cursor`.
pub fn ordered(mut query: Boxed, sort: SearchSort, cursor: Option<SearchCursor>) -> Result<Boxed, ApiError> {
    use listings::dsl as l;
    query = match sort {
        SearchSort::Newest => query.order((l::published_at.desc(), l::id.desc())),
        SearchSort::PriceAsc => query.order((l::unit_price_cents.asc(), l::id.asc())),
        SearchSort::PriceDesc => query.order((l::unit_price_cents.desc(), l::id.desc())),
        SearchSort::UsdPerThAsc => query.order((l::usd_per_th_cents.asc(), l::id.asc())),
        SearchSort::DiscountDesc => query.order((l::discount_rank.desc(), l::id.desc())),
        SearchSort::EfficiencyAsc => query.order((l::model_efficiency_j_per_th.asc(), l::id.asc())),
    };
    let Some(SearchCursor { sort: cursor_sort, key, id }) = cursor else {
        return Ok(query);
    };
    if cursor_sort != sort {
        return Err(bad_cursor());
    }
    Ok(match (sort, key) {
        (SearchSort::Newest, SortKey::Time(at)) => {
            query.filter(l::published_at.lt(at).or(l::published_at.eq(at).and(l::id.lt(id))))
        }
        (SearchSort::PriceAsc, SortKey::Int(k)) => {
            query.filter(l::unit_price_cents.gt(k).or(l::unit_price_cents.eq(k).and(l::id.gt(id))))
        }
        (SearchSort::PriceDesc, SortKey::Int(k)) => {
            query.filter(l::unit_price_cents.lt(k).or(l::unit_price_cents.eq(k).and(l::id.lt(id))))
        }
        (SearchSort::UsdPerThAsc, SortKey::Int(k)) => {
            query.filter(l::usd_per_th_cents.gt(k).or(l::usd_per_th_cents.eq(k).and(l::id.gt(id))))
        }
        (SearchSort::DiscountDesc, SortKey::Int(k)) => {
            query.filter(l::discount_rank.lt(k).or(l::discount_rank.eq(k).and(l::id.lt(id))))
        }
        (SearchSort::EfficiencyAsc, SortKey::Float(k)) => {
            query.filter(l::model_efficiency_j_per_th.gt(k).or(l::model_efficiency_j_per_th.eq(k).and(l::id.gt(id))))
        }
        // An integer-valued efficiency comes back from JSON as an Int.
        (SearchSort::EfficiencyAsc, SortKey::Int(k)) => {
            let k = k as f64;
            query.filter(l::model_efficiency_j_per_th.gt(k).or(l::model_efficiency_j_per_th.eq(k).and(l::id.gt(id))))
        }
        _ => return Err(bad_cursor()),
    })
}

/// A checked search, ready to run: the ordered page query, the count query when
/// a total was asked for, and the page size.
pub struct SearchPlan {
    query: Boxed,
    count: Option<Boxed>,
    sort: SearchSort,
    limit: i64,
}

impl SearchParams {
    /// Checks every parameter (filters, limit, cursor against the sort) and
    /// builds the queries; `threshold_bps` decides what a fire sale is and `now`
    /// which proofs are still valid.
    pub fn plan(&self, threshold_bps: i64, now: DateTime<Utc>) -> Result<SearchPlan, ApiError> {
        let filters = self.filters()?;
        let limit = match self.limit {
            None => 20,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => return Err(ApiError::validation("limit", format!("must be between 1 and {MAX_LIMIT}"))),
        };
        let sort = self.sort.unwrap_or_default();
        let cursor = self.cursor.as_deref().map(decode_cursor).transpose()?;
        let query = ordered(filtered(&filters, threshold_bps, now), sort, cursor)?;
        let count = self.with_total.unwrap_or(false).then(|| filtered(&filters, threshold_bps, now));
        Ok(SearchPlan { query, count, sort, limit })
    }
}

/// One page of search results.
pub struct SearchResults {
    pub rows: Vec<ListingRow>,
    pub next_cursor: Option<String>,
    /// All matches, when the plan asked for them.
    pub total: Option<i64>,
}

/// Reads the page the plan describes (one more row than the page, to know
/// whether another page follows) and the total if asked.
pub async fn run(conn: &mut AsyncPgConnection, plan: SearchPlan) -> QueryResult<SearchResults> {
    let SearchPlan { query, count, sort, limit } = plan;
    let mut rows: Vec<ListingRow> = query.limit(limit + 1).select(ListingRow::as_select()).load(conn).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|row| encode_cursor(&sort_key(sort, row)))
    } else {
        None
    };
    let total = match count {
        Some(count) => Some(count.count().get_result(conn).await?),
        None => None,
    };
    Ok(SearchResults { rows, next_cursor, total })
}
