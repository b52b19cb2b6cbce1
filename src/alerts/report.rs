//! Reporting fired alerts: each fire's notification (through `events::record`,
//! so the inbox and the live stream hear of it) and, for `instant` searches,
//! its email with a one-click unsubscribe link; `daily` ones get their email
//! in the day's digest.
//!
//! [`fire`](super::fire) takes the guard row of each fire and enqueues their
//! reports in batches ([`ReportAlerts`]) in that same transaction; each batch
//! is reported in its own job's transaction, which commits with the job's
//! removal, so every fire is reported once: never lost (the job exists iff
//! the guard row does), never twice (a job runs to its commit once).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use url::Url;

use super::emails::AlertEmail;
use super::model::SavedSearchRow;
use super::rules::{AlertMode, TriggerKind};
use super::{searches, unsubscribe};
use crate::db::ids::{ListingId, SavedSearchId, UserId};
use crate::events::EventKind;
use crate::jobs::Job;
use crate::listings::model::ListingRow;
use crate::listings::MarketChange;
use crate::orders::notify::money;

/// What the alert jobs need from the configuration.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// Where unsubscribe links point (`RIGMARKET_PUBLIC_URL`).
    pub public_url: Url,
    pub fire_sale_threshold_bps: i64,
}

/// One fire whose guard row is taken, to report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FiredAlert {
    pub saved_search_id: SavedSearchId,
    pub trigger: TriggerKind,
    /// The search's mode when it fired (what its guard row says, and so what
    /// the digest does with it).
    pub alert: AlertMode,
}

/// A batch of one listing change's fires, reported in one transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportAlerts {
    pub listing_id: ListingId,
    pub change: MarketChange,
    /// The lot's price and discount when the searches matched it: what the
    /// messages say, even if the price moved again since.
    pub unit_price_cents: i64,
    pub discount_bps: Option<i64>,
    pub alerts: Vec<FiredAlert>,
}

impl Job for ReportAlerts {
    const KIND: &'static str = "report_saved_search_alerts";
}

/// Reports one batch; returns how many fires were reported (a search deleted
/// since took its guard row with it and is skipped).
pub async fn report_batch(
    conn: &mut AsyncPgConnection,
    settings: &AlertSettings,
    job: &ReportAlerts,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let Some(mut lot) = crate::listings::queries::find(conn, job.listing_id).await? else {
        return Ok(0);
    };
    lot.unit_price_cents = job.unit_price_cents;
    lot.discount_bps = job.discount_bps;
    let ids: Vec<SavedSearchId> = job.alerts.iter().map(|a| a.saved_search_id).collect();
    let found: HashMap<SavedSearchId, SavedSearchRow> =
        searches::by_ids(conn, &ids).await?.into_iter().map(|s| (s.id, s)).collect();
    let mut batch: Vec<(&SavedSearchRow, &FiredAlert)> =
        job.alerts.iter().filter_map(|fired| Some((found.get(&fired.saved_search_id)?, fired))).collect();
    // Each notification takes its user's inbox lock until commit
    // (`events::inbox`); batches run side by side on several workers, so they
    // must all take them in one order, ascending by user, or two batches that
    // share two users could deadlock.
    batch.sort_by_key(|(search, _)| search.user_id);
    for (search, fired) in &batch {
        report(conn, settings, &lot, search, fired, job.change, now).await?;
    }
    tracing::info!(listing.id = %lot.id, alerts = batch.len(), "saved-search alerts reported");
    Ok(batch.len())
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
    search: &SavedSearchRow,
    fired: &FiredAlert,
    change: MarketChange,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let subject = headline(fired.trigger, change, lot);
    let data = json!({
        "saved_search_id": search.id,
        "saved_search_name": search.name,
        "listing_id": lot.id,
        "trigger": fired.trigger.as_str(),
        "title": lot.title,
        "unit_price_cents": lot.unit_price_cents,
        "discount_pct": lot.discount_bps.map(crate::catalog::discount::bps_to_pct),
    });
    crate::events::record(conn, EventKind::SavedSearchMatched, lot.id, &[search.user_id], data, now).await?;
    if fired.alert != AlertMode::Instant
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
