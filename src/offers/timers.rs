//! The offers' background work. Each open version has an expiry job, enqueued
//! in the transaction that opened it; it takes the thread's lock and expires
//! the thread only if that version is still the open one and its time has come,
//! so N workers fire it once and a countered version's timer is a no-op. A
//! periodic sweep voids the open threads of listings that left `active`
//! (listings do not know about offers, so offers look).

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

use super::queries;
use super::schedule::OfferExpiry;
use super::state::ThreadStatus;
use crate::clock::Clock;
use crate::jobs::{Job, JobRegistry, PeriodicJob, Tick};
use crate::listings::lifecycle::ListingStatus;

/// Every few minutes: voids the open threads of listings no longer on sale.
#[derive(Debug, Serialize, Deserialize)]
pub struct VoidOffersOnClosedListings(pub Tick);

impl Job for VoidOffersOnClosedListings {
    const KIND: &'static str = "void_offers_on_closed_listings";
}

impl PeriodicJob for VoidOffersOnClosedListings {
    const EVERY: Duration = Duration::minutes(5);
}

/// Runs one expiry job at `now`.
pub async fn expire(conn: &mut AsyncPgConnection, job: OfferExpiry, now: DateTime<Utc>) -> anyhow::Result<()> {
    let Some(thread) = queries::lock(conn, job.thread_id).await? else {
        anyhow::bail!("offer thread {} does not exist", job.thread_id);
    };
    if thread.status == ThreadStatus::Open && thread.latest_n == job.n && now >= thread.expires_at {
        let note = format!("Nobody answered version {} in time.", thread.latest_n);
        super::flow::close(conn, &thread, ThreadStatus::Expired, "expired", Some(note), now)
            .await
            .map_err(|err| anyhow::anyhow!("expiring offer {}: {err}", thread.id))?;
    }
    Ok(())
}

/// Voids the open threads of every listing that is no longer `active`.
pub async fn sweep(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut voided = 0;
    for listing_id in queries::listings_with_open_threads(conn).await? {
        let Some(listing) = crate::listings::queries::find(conn, listing_id).await? else { continue };
        if listing.status() != ListingStatus::Active {
            voided += super::flow::void(conn, &listing, None, "listing_closed", now).await?;
        }
    }
    Ok(voided)
}

pub fn register_jobs(registry: &mut JobRegistry, clock: Clock) {
    let expiry_clock = clock.clone();
    registry.on(move |conn, job: OfferExpiry| {
        let now = expiry_clock.now();
        Box::pin(async move { expire(conn, job, now).await })
    });
    registry.every(move |conn, _: VoidOffersOnClosedListings| {
        let now = clock.now();
        Box::pin(async move {
            let voided = sweep(conn, now).await?;
            tracing::info!(voided, "offers on closed listings swept");
            Ok(())
        })
    });
}
