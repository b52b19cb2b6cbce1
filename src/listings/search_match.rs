//! One listing checked against many searches' filters at once, in memory: what
//! saved-search alerts do for every published or repriced lot. The filters are
//! the very [`Filters`] the search parser builds (one parser for both), and
//! [`Filters::admits`] applies each of them the way [`super::search::filtered`]
//! does in SQL; the two facts SQL must still decide (full-text matches and the
//! manufacturer's name) are read once per listing into a [`MatchSnapshot`].

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::model::ListingRow;
use super::search::{filtered, Filters};
use crate::catalog::tiers::EfficiencyTier;
use crate::db::ids::{ListingId, RigModelId};
use crate::db::schema::listings;

/// A live listing as the filters see it.
#[derive(Debug, Clone)]
pub struct MatchSnapshot {
    pub row: ListingRow,
    /// The manufacturer's name, lowercased (as the `manufacturer` filter compares).
    manufacturer: String,
    /// The full-text queries (of those asked about) the listing matches.
    text_hits: HashSet<String>,
}

impl Filters {
    /// The indexed facts a saved search is found by (see `alerts`).
    pub fn rig_model_id(&self) -> Option<RigModelId> {
        self.rig_model_id
    }

    pub fn tier(&self) -> Option<EfficiencyTier> {
        self.tier
    }

    pub fn max_price_cents(&self) -> Option<i64> {
        self.max_price_cents
    }

    /// The country the rigs must be in (upper case), if any.
    pub fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }

    /// The least discount against the reference (basis points), if any.
    pub fn min_discount_bps(&self) -> Option<i64> {
        self.min_discount_bps
    }

    /// The full-text query, trimmed, if any.
    pub fn text(&self) -> Option<&str> {
        self.q.as_deref()
    }

    /// Whether the search would list this lot: every filter, as `filtered`
    /// applies it in SQL (`threshold_bps` decides what a fire sale is, `now`
    /// which proofs are valid).
    pub fn admits(&self, lot: &MatchSnapshot, threshold_bps: i64, now: DateTime<Utc>) -> bool {
        let row = &lot.row;
        let at_least = |value: Option<i64>, min: i64| value.is_some_and(|v| v >= min);
        let checks = [
            self.q.as_ref().is_none_or(|q| lot.text_hits.contains(q)),
            self.rig_model_id.is_none_or(|id| id == row.rig_model_id),
            self.manufacturer.as_ref().is_none_or(|m| *m == lot.manufacturer),
            self.tier.is_none_or(|tier| tier.key() == row.model_tier),
            self.country.as_ref().is_none_or(|c| *c == row.country),
            self.min_price_cents.is_none_or(|min| row.unit_price_cents >= min),
            self.max_price_cents.is_none_or(|max| row.unit_price_cents <= max),
            self.max_usd_per_th_cents.is_none_or(|max| row.usd_per_th_cents <= max),
            // Grades sort A < B < C < D, best first; a lot without a report has none.
            self.max_grade
                .is_none_or(|grade| row.latest_condition_grade.as_deref().is_some_and(|g| g <= grade.as_str())),
            match self.fire_sale {
                Some(true) => at_least(row.discount_bps, threshold_bps),
                Some(false) => !at_least(row.discount_bps, threshold_bps),
                None => true,
            },
            self.min_discount_bps.is_none_or(|min| at_least(row.discount_bps, min)),
            !self.verified_only || row.hashrate_verified_until.is_some_and(|until| until > now),
            self.power_off_before.is_none_or(|date| {
                let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
                row.power_off_at.is_some_and(|at| at < midnight)
            }),
            self.min_quantity.is_none_or(|min| row.quantity_available >= min),
        ];
        checks.iter().all(|ok| *ok)
    }
}

#[derive(QueryableByName)]
struct TextHit {
    #[diesel(sql_type = Text)]
    text: String,
}

/// The listing as searches see it, or `None` when no search would list it
/// (not active, or its seller is suspended). `texts` are the full-text queries
/// to decide; all of them in one statement.
pub async fn snapshot(
    conn: &mut AsyncPgConnection,
    id: ListingId,
    texts: &[String],
    now: DateTime<Utc>,
) -> QueryResult<Option<MatchSnapshot>> {
    let Some(row) = filtered(&Filters::default(), 0, now)
        .filter(listings::id.eq(id))
        .select(ListingRow::as_select())
        .first::<ListingRow>(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let manufacturer = crate::catalog::queries::model_labels(conn, &[row.rig_model_id])
        .await?
        .remove(&row.rig_model_id)
        .map(|label| label.manufacturer.to_lowercase())
        .unwrap_or_default();
    let text_hits = if texts.is_empty() {
        HashSet::new()
    } else {
        diesel::sql_query(
            "SELECT q AS text FROM unnest($1::text[]) AS q
              WHERE (SELECT search_document FROM listings WHERE id = $2) @@ websearch_to_tsquery('simple', q)",
        )
        .bind::<Array<Text>, _>(texts)
        .bind::<SqlUuid, _>(id.0)
        .load::<TextHit>(conn)
        .await?
        .into_iter()
        .map(|hit| hit.text)
        .collect()
    };
    Ok(Some(MatchSnapshot { row, manufacturer, text_hits }))
}
