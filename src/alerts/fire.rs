//! Matching one listing change against every saved search, and firing each
//! alert once per (search, listing, trigger).
//!
//! Runs in the `ListingMarketChange` job the listings enqueue with the change
//! (never in the request). Candidates come from an index (a search's model,
//! tier or `any` bucket, and its maximum price), then each candidate's exact
//! filters are checked in memory by the search's own parser and
//! [`Filters::admits`]. Fires are inserted with `ON CONFLICT DO NOTHING` on
//! the primary key, so two workers (two instances, or a retry after a crash)
//! can never fire one twice: only the rows this transaction inserted are
//! reported. `instant` searches get a notification (through `events::record`,
//! so the inbox and the live stream hear of it) and an email now; `daily` ones
//! get the notification now and their email in the day's digest.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use url::Url;

use super::emails::AlertEmail;
use super::model::SavedSearchRow;
use super::rules::{AlertMode, CandidateProbe, TriggerKind};
use super::{searches, unsubscribe};
use crate::db::ids::{SavedSearchId, UserId};
use crate::events::EventKind;
use crate::listings::model::ListingRow;
use crate::listings::search::Filters;
use crate::listings::search_match::{self, MatchSnapshot};
use crate::listings::{ListingMarketChange, MarketChange};
use crate::orders::notify::money;

/// What the alert job needs from the configuration.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// Where unsubscribe links point (`RIGMARKET_PUBLIC_URL`).
    pub public_url: Url,
    pub fire_sale_threshold_bps: i64,
}

/// One alert to fire.
#[derive(Debug, Clone)]
struct Fire {
    search: SavedSearchRow,
    trigger: TriggerKind,
}

/// The searches (with alerts on) that list the lot now, each with its parsed
/// filters. Pure but for the two reads the snapshot needs.
async fn matching_searches(
    conn: &mut AsyncPgConnection,
    row: &ListingRow,
    threshold_bps: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<(MatchSnapshot, Vec<SavedSearchRow>)>> {
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
    let matching =
        parsed.into_iter().filter(|(_, f)| f.admits(&snapshot, threshold_bps, now)).map(|(s, _)| s).collect();
    Ok(Some((snapshot, matching)))
}

/// Handles one listing change; returns how many alerts fired.
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
    let Some((snapshot, matching)) = matching_searches(conn, &row, settings.fire_sale_threshold_bps, now).await? else {
        return Ok(0);
    };
    // What `benches/alerts.sh` reads: the cost of matching one change.
    tracing::info!(
        listing.id = %row.id,
        matched = matching.len(),
        match_ms = started.elapsed().as_secs_f64() * 1000.0,
        "listing matched against saved searches"
    );
    let lot = &snapshot.row;
    let fires: Vec<Fire> = matching
        .into_iter()
        .flat_map(|search| {
            let set_off = search.triggers().set_off(job.change, lot.unit_price_cents, lot.reference_unit_price_cents);
            set_off.into_iter().map(move |trigger| Fire { search: search.clone(), trigger })
        })
        .collect();
    let fired = record_fires(conn, lot, &fires, now).await?;
    for fire in &fired {
        report(conn, settings, lot, fire, job.change, now).await?;
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
    Ok(fires
        .iter()
        .filter(|f| inserted.iter().any(|i| i.saved_search_id == f.search.id.0 && i.trigger == f.trigger.as_str()))
        .cloned()
        .collect())
}

/// What a trigger means, in a subject line.
fn headline(trigger: TriggerKind, change: MarketChange, lot: &ListingRow) -> String {
    let price = money(lot.unit_price_cents);
    match (trigger, change) {
        (TriggerKind::PriceDrop, MarketChange::PriceDropped { old_unit_price_cents }) => {
            format!("Price drop: {} now {price} (was {})", lot.title, money(old_unit_price_cents))
        }
        (TriggerKind::DiscountAtLeast, _) => {
            let pct = lot.discount_bps.map(crate::catalog::discount::bps_to_pct).unwrap_or_default();
            format!("Fire sale: {} at {price}, {pct} % below reference", lot.title)
        }
        _ => format!("New match: {} at {price}", lot.title),
    }
}

/// The notification (every mode) and, for `instant`, the email of one fire.
async fn report(
    conn: &mut AsyncPgConnection,
    settings: &AlertSettings,
    lot: &ListingRow,
    fire: &Fire,
    change: MarketChange,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let search = &fire.search;
    let subject = headline(fire.trigger, change, lot);
    let data = json!({
        "saved_search_id": search.id,
        "saved_search_name": search.name,
        "listing_id": lot.id,
        "trigger": fire.trigger.as_str(),
        "title": lot.title,
        "unit_price_cents": lot.unit_price_cents,
        "discount_pct": lot.discount_bps.map(crate::catalog::discount::bps_to_pct),
    });
    crate::events::record(conn, EventKind::SavedSearchMatched, lot.id, &[search.user_id], data, now).await?;
    if search.alert != AlertMode::Instant
        || !crate::notifications::emails_wanted(conn, search.user_id, EventKind::SavedSearchMatched).await?
    {
        return Ok(());
    }
    let text = alert_text(search, &subject, lot);
    send_alert(conn, settings, search.user_id, &[search.id], subject, text, now).await
}

fn alert_text(search: &SavedSearchRow, subject: &str, lot: &ListingRow) -> String {
    format!("{subject}.\n\nYour saved search \"{}\" matched it.\nListing: {}", search.name, lot.id)
}

/// Enqueues an alert email to `user` with a fresh unsubscribe token for `searches`.
pub async fn send_alert(
    conn: &mut AsyncPgConnection,
    settings: &AlertSettings,
    user: UserId,
    searches: &[SavedSearchId],
    subject: String,
    text: String,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let unsubscribe_url = unsubscribe::issue(conn, &settings.public_url, searches, now).await?;
    let to = crate::accounts::email_of(conn, user).await?;
    crate::mail::enqueue(conn, &to, &AlertEmail { subject, text, unsubscribe_url }, now).await?;
    Ok(())
}
