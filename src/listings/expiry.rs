//! Hosting deadlines: an hourly sweep emails sellers 7 days and 1 day before a
//! listing's `power_off_at`, and expires open listings once it has passed.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::lifecycle::ListingStatus;
use crate::db::ids::{ListingId, UserId};
use crate::db::schema::listings;
use crate::mail;

const OPEN: [&str; 3] = ["draft", "pending_review", "active"];

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub reminded: usize,
    pub expired: usize,
}

/// Runs inside the job's transaction, so reminders and expiries happen once even
/// with several workers.
pub async fn sweep(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> anyhow::Result<SweepReport> {
    let mut report = SweepReport::default();
    let open = || listings::status.eq_any(OPEN);
    let within = |lead: Duration| listings::power_off_at.gt(now).and(listings::power_off_at.le(now + lead));
    // Claim reminders with UPDATE ... RETURNING so each is sent once. The 1-day
    // pass runs first and marks both, so a listing found within a day of its
    // deadline gets one email, not two.
    let mut due: Vec<(ListingId, String, Option<DateTime<Utc>>, UserId)> = diesel::update(
        listings::table
            .filter(open())
            .filter(within(Duration::days(1)))
            .filter(listings::power_off_reminder_1d_at.is_null()),
    )
    .set((listings::power_off_reminder_1d_at.eq(now), listings::power_off_reminder_7d_at.eq(Some(now))))
    .returning((listings::id, listings::title, listings::power_off_at, listings::seller_id))
    .get_results(conn)
    .await?;
    due.extend(
        diesel::update(
            listings::table
                .filter(open())
                .filter(within(Duration::days(7)))
                .filter(listings::power_off_reminder_7d_at.is_null()),
        )
        .set(listings::power_off_reminder_7d_at.eq(now))
        .returning((listings::id, listings::title, listings::power_off_at, listings::seller_id))
        .get_results::<(ListingId, String, Option<DateTime<Utc>>, UserId)>(conn)
        .await?,
    );
    for (_, title, power_off_at, seller) in due {
        let email = crate::accounts::email_of(conn, seller).await?;
        let power_off_at = power_off_at.unwrap_or(now);
        mail::enqueue(conn, &email, &super::emails::PowerOffReminder { title, power_off_at }, now).await?;
        report.reminded += 1;
    }
    let expired: Vec<(ListingId, String, UserId)> = diesel::update(
        listings::table
            .filter(listings::status.eq_any(OPEN))
            .filter(listings::power_off_at.le(now))
            .filter(listings::quantity_reserved.eq(0)),
    )
    .set((listings::status.eq(ListingStatus::Expired.as_str()), listings::updated_at.eq(now)))
    .returning((listings::id, listings::title, listings::seller_id))
    .get_results(conn)
    .await?;
    for (id, title, seller) in &expired {
        let email = crate::accounts::email_of(conn, *seller).await?;
        mail::enqueue(conn, &email, &super::emails::ListingExpired { title: title.clone() }, now).await?;
        tracing::info!(listing.id = %id, "listing expired at its hosting deadline");
    }
    report.expired = expired.len();
    Ok(report)
}
