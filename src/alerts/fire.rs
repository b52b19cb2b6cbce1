//! Matching one listing change against every saved search, and firing each
//! alert once per (search, listing, trigger).
//!
//! Runs in the `ListingMarketChange` job the listings enqueue with the change
//! (never in the request). Candidates come from one index scan (a search's
//! model, tier or `any` bucket, its country, maximum price and discount floor:
//! [`CandidateProbe`]), then each candidate's exact filters are checked in
//! memory by the search's own parser and [`Filters::admits`]. Fires are
//! inserted with `ON CONFLICT DO NOTHING` on the primary key, so two workers
//! (two instances, or a retry after a crash) can never fire one twice: only
//! the rows this transaction inserted are reported, by [`ReportAlerts`] jobs
//! of at most [`REPORT_BATCH`] fires each, enqueued in this same transaction.
//! A guard row thus exists if and only if its report is queued, and each batch
//! commits on its own, so the first notifications do not wait for the last.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::model::SavedSearchRow;
use super::report::{AlertSettings, FiredAlert, ReportAlerts};
use super::rules::{CandidateProbe, TriggerKind};
use super::searches;
use crate::listings::model::ListingRow;
use crate::listings::search::Filters;
use crate::listings::search_match::{self, MatchSnapshot};
use crate::listings::ListingMarketChange;

/// Fires reported per transaction: enough that a popular lot's alerts take a
/// handful of jobs, few enough that the first batch commits in well under a
/// second (each fire writes a notification, an event and, for `instant`, an
/// email with its unsubscribe token).
pub const REPORT_BATCH: usize = 200;

/// One alert to fire.
#[derive(Debug, Clone)]
struct Fire {
    search: SavedSearchRow,
    trigger: TriggerKind,
}

/// The searches that list the lot now, and how many candidates the index gave.
struct Matching {
    snapshot: MatchSnapshot,
    candidates: usize,
    searches: Vec<SavedSearchRow>,
}

/// The searches (with alerts on) that list the lot now, each checked with its
/// parsed filters. Pure but for the candidate scan and the snapshot's reads.
async fn matching_searches(
    conn: &mut AsyncPgConnection,
    row: &ListingRow,
    threshold_bps: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Matching>> {
    let probe = CandidateProbe::new(
        &row.rig_model_id.to_string(),
        &row.model_tier,
        &row.country,
        row.unit_price_cents,
        row.discount_bps,
    );
    let candidates = searches::candidates(conn, &probe).await?;
    if candidates.is_empty() {
        return Ok(None);
    }
    let count = candidates.len();
    let parsed: Vec<(SavedSearchRow, Filters)> = candidates
        .into_iter()
        .filter_map(|search| {
            let filters = searches::stored_params(&search)?.filters().ok()?;
            Some((search, filters))
        })
        .collect();
    let mut texts: Vec<String> = parsed.iter().filter_map(|(_, f)| f.text().map(str::to_string)).collect();
    texts.sort();
    texts.dedup();
    let Some(snapshot) = search_match::snapshot(conn, row.id, &texts, now).await? else {
        return Ok(None);
    };
    let searches =
        parsed.into_iter().filter(|(_, f)| f.admits(&snapshot, threshold_bps, now)).map(|(s, _)| s).collect();
    Ok(Some(Matching { snapshot, candidates: count, searches }))
}

/// Handles one listing change: matches it, takes the guard of each new fire
/// and queues their reports; returns how many alerts fired.
pub async fn on_market_change(
    conn: &mut AsyncPgConnection,
    settings: &AlertSettings,
    job: &ListingMarketChange,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let started = std::time::Instant::now();
    let Some(row) = crate::listings::queries::find(conn, job.listing_id).await? else {
        return Ok(0);
    };
    let Some(Matching { snapshot, candidates, searches }) =
        matching_searches(conn, &row, settings.fire_sale_threshold_bps, now).await?
    else {
        return Ok(0);
    };
    // What `benches/alerts.sh` reads: the cost of matching one change.
    tracing::info!(
        listing.id = %row.id,
        candidates,
        matched = searches.len(),
        match_ms = started.elapsed().as_secs_f64() * 1000.0,
        "listing matched against saved searches"
    );
    let lot = &snapshot.row;
    let fires: Vec<Fire> = searches
        .into_iter()
        .flat_map(|search| {
            let set_off = search.triggers().set_off(job.change, lot.unit_price_cents, lot.reference_unit_price_cents);
            set_off.into_iter().map(move |trigger| Fire { search: search.clone(), trigger })
        })
        .collect();
    let mut fired = record_fires(conn, lot, &fires, now).await?;
    // By user: a user's fires then share one batch (or two neighbouring ones),
    // and each batch takes its users' inbox locks in ascending order (see
    // `report::report_batch`).
    fired.sort_by_key(|f| (f.search.user_id, f.search.id, f.trigger.as_str()));
    for batch in fired.chunks(REPORT_BATCH) {
        let report = ReportAlerts {
            listing_id: lot.id,
            change: job.change,
            unit_price_cents: lot.unit_price_cents,
            discount_bps: lot.discount_bps,
            alerts: batch
                .iter()
                .map(|f| FiredAlert { saved_search_id: f.search.id, trigger: f.trigger, alert: f.search.alert })
                .collect(),
        };
        crate::jobs::enqueue(conn, &report, now).await?;
    }
    if !fired.is_empty() {
        tracing::info!(listing.id = %lot.id, alerts = fired.len(), "saved-search alerts fired");
    }
    Ok(fired.len())
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = SqlUuid)]
    saved_search_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    trigger: String,
}

/// Inserts the fires in one statement; answers those that were not there yet.
async fn record_fires(
    conn: &mut AsyncPgConnection,
    lot: &ListingRow,
    fires: &[Fire],
    now: DateTime<Utc>,
) -> QueryResult<Vec<Fire>> {
    if fires.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<uuid::Uuid> = fires.iter().map(|f| f.search.id.0).collect();
    let triggers: Vec<&str> = fires.iter().map(|f| f.trigger.as_str()).collect();
    let users: Vec<uuid::Uuid> = fires.iter().map(|f| f.search.user_id.0).collect();
    let modes: Vec<&str> = fires.iter().map(|f| f.search.alert.as_str()).collect();
    let inserted: Vec<Inserted> = diesel::sql_query(
        "INSERT INTO saved_search_alerts
             (saved_search_id, listing_id, trigger, user_id, alert, unit_price_cents, discount_bps, fired_at)
         SELECT s, $1, t, u, a, $2, $3, $4 FROM unnest($5::uuid[], $6::text[], $7::uuid[], $8::text[]) AS f(s, t, u, a)
         ON CONFLICT DO NOTHING
         RETURNING saved_search_id, trigger",
    )
    .bind::<SqlUuid, _>(lot.id.0)
    .bind::<BigInt, _>(lot.unit_price_cents)
    .bind::<Nullable<BigInt>, _>(lot.discount_bps)
    .bind::<Timestamptz, _>(now)
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Text>, _>(&triggers)
    .bind::<Array<SqlUuid>, _>(&users)
    .bind::<Array<Text>, _>(&modes)
    .load(conn)
    .await?;
    let new: HashSet<(uuid::Uuid, &str)> = inserted.iter().map(|i| (i.saved_search_id, i.trigger.as_str())).collect();
    Ok(fires.iter().filter(|f| new.contains(&(f.search.id.0, f.trigger.as_str()))).cloned().collect())
}
