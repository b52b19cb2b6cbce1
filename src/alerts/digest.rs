//! The daily digest: one email per user per day listing every match of their
//! `daily` searches that fired before today (UTC). A periodic job; the
//! `alert_digests` primary key (user, day) makes a second worker, or a rerun
//! the same day, send nothing more, and the digest marks the fires it reports
//! in the same transaction.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::report::{send_alert, AlertSettings};
use super::rules::AlertMode;
use crate::db::ids::{ListingId, SavedSearchId, UserId};
use crate::db::schema::{alert_digests, saved_search_alerts, saved_searches};
use crate::events::EventKind;
use crate::jobs::{Job, PeriodicJob, Tick};
use crate::orders::notify::money;

/// Users one run digests (a full batch queues the next run at once).
const USERS_PER_RUN: i64 = 200;

/// Hourly: sends the digests that are due.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SendAlertDigests(pub Tick);

impl Job for SendAlertDigests {
    const KIND: &'static str = "send_alert_digests";
}

impl PeriodicJob for SendAlertDigests {
    const EVERY: Duration = Duration::hours(1);
}

/// Midnight (UTC) starting `now`'s day: fires before it are due.
fn day_start(now: DateTime<Utc>) -> (NaiveDate, DateTime<Utc>) {
    let day = now.date_naive();
    (day, day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
}

/// Sends every due digest (up to a batch of users); returns how many.
pub async fn send_due(
    conn: &mut AsyncPgConnection,
    settings: &AlertSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let (day, midnight) = day_start(now);
    let users: Vec<UserId> = saved_search_alerts::table
        .filter(saved_search_alerts::alert.eq(AlertMode::Daily.as_str()))
        .filter(saved_search_alerts::digested_at.is_null())
        .filter(saved_search_alerts::fired_at.lt(midnight))
        .select(saved_search_alerts::user_id)
        .distinct()
        .limit(USERS_PER_RUN)
        .load(conn)
        .await?;
    let mut sent = 0;
    for user in &users {
        if send_one(conn, settings, *user, day, midnight, now).await? {
            sent += 1;
        }
    }
    if users.len() as i64 == USERS_PER_RUN {
        crate::jobs::enqueue(conn, &SendAlertDigests::default(), now).await?;
    }
    Ok(sent)
}

/// The user's digest of `day`, unless one went out already.
async fn send_one(
    conn: &mut AsyncPgConnection,
    settings: &AlertSettings,
    user: UserId,
    day: NaiveDate,
    midnight: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    // Taken first: a concurrent worker waits here, then finds it and stops.
    let claimed = diesel::insert_into(alert_digests::table)
        .values((
            alert_digests::user_id.eq(user),
            alert_digests::day.eq(day),
            alert_digests::alerts.eq(0),
            alert_digests::sent_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if claimed == 0 {
        return Ok(false);
    }
    let reported: Vec<(SavedSearchId, ListingId, String, i64)> = diesel::update(
        saved_search_alerts::table
            .filter(saved_search_alerts::user_id.eq(user))
            .filter(saved_search_alerts::alert.eq(AlertMode::Daily.as_str()))
            .filter(saved_search_alerts::digested_at.is_null())
            .filter(saved_search_alerts::fired_at.lt(midnight)),
    )
    .set(saved_search_alerts::digested_at.eq(now))
    .returning((
        saved_search_alerts::saved_search_id,
        saved_search_alerts::listing_id,
        saved_search_alerts::trigger,
        saved_search_alerts::unit_price_cents,
    ))
    .get_results(conn)
    .await?;
    // Searches turned off (or switched to instant) since they fired are left out.
    let search_ids: Vec<SavedSearchId> = reported.iter().map(|r| r.0).collect();
    let names: HashMap<SavedSearchId, String> = saved_searches::table
        .filter(saved_searches::id.eq_any(&search_ids))
        .filter(saved_searches::alert.eq(AlertMode::Daily))
        .select((saved_searches::id, saved_searches::name))
        .load::<(SavedSearchId, String)>(conn)
        .await?
        .into_iter()
        .collect();
    let kept: Vec<_> = reported.into_iter().filter(|r| names.contains_key(&r.0)).collect();
    diesel::update(alert_digests::table.find((user, day)))
        .set(alert_digests::alerts.eq(kept.len() as i32))
        .execute(conn)
        .await?;
    if kept.is_empty() {
        return Ok(false);
    }
    let listing_ids: Vec<ListingId> = kept.iter().map(|r| r.1).collect();
    let titles = crate::listings::titles(conn, &listing_ids).await?;
    let mut by_search: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (search, listing, trigger, price) in &kept {
        let title = titles.get(listing).map(String::as_str).unwrap_or("(listing)");
        by_search
            .entry(names[search].as_str())
            .or_default()
            .push(format!("- {title} at {} ({trigger}), listing {listing}", money(*price)));
    }
    if !crate::notifications::emails_wanted(conn, user, EventKind::SavedSearchMatched).await? {
        return Ok(false);
    }
    let mut text = format!("Your saved searches found {} match(es) since your last digest.", kept.len());
    for (name, lines) in &by_search {
        text.push_str(&format!("\n\n\"{name}\":\n{}", lines.join("\n")));
    }
    let mut searches: Vec<SavedSearchId> = names.keys().copied().collect();
    searches.sort();
    let subject = format!("Your daily rigmarket alerts: {} match(es)", kept.len());
    send_alert(conn, settings, user, &searches, subject, text, now).await?;
    Ok(true)
}
