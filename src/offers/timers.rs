//! The offers' background work. Each open version has an expiry job, enqueued
//! in the transaction that opened it; it takes the thread's lock and expires
//! the thread only if that version is still the open one and its time has come,
//! so N workers fire it once and a countered version's timer is a no-op. A
//! listing leaving `active` raises `ListingLeftActive` in the transaction of
//! that change (listings do not know about offers); its handler here voids the
//! listing's open threads.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::notify::OfferChange;
use super::queries;
use super::schedule::OfferExpiry;
use super::state::ThreadStatus;
use crate::clock::Clock;
use crate::jobs::JobRegistry;
use crate::listings::lifecycle::ListingStatus;
use crate::listings::ListingLeftActive;

/// Runs one expiry job at `now`.
pub async fn expire(conn: &mut AsyncPgConnection, job: OfferExpiry, now: DateTime<Utc>) -> anyhow::Result<()> {
    let Some(thread) = queries::lock(conn, job.thread_id).await? else {
        anyhow::bail!("offer thread {} does not exist", job.thread_id);
    };
    if thread.status == ThreadStatus::Open && thread.latest_n == job.n && now >= thread.expires_at {
        let note = format!("Nobody answered version {} in time.", thread.latest_n);
        super::flow::close(conn, &thread, OfferChange::Expired, None, Some(note), now)
            .await
            .map_err(|err| anyhow::anyhow!("expiring offer {}: {err}", thread.id))?;
    }
    Ok(())
}

/// Voids the open threads of a listing that left `active`, unless it is back
/// on sale by now (a sold-out lot restocked before the job ran). Takes the
/// listing's lock first, as every move that can place an order does, so an
/// acceptance racing the void either places its order before or finds its
/// thread voided.
pub async fn on_listing_left_active(
    conn: &mut AsyncPgConnection,
    job: ListingLeftActive,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let Some(listing) = crate::listings::queries::lock(conn, job.listing_id).await? else {
        return Ok(0);
    };
    if listing.status() == ListingStatus::Active {
        return Ok(0);
    }
    super::flow::void(conn, &listing, None, "listing_closed", now).await
}

pub fn register_jobs(registry: &mut JobRegistry, clock: Clock) {
    let expiry_clock = clock.clone();
    registry.on(move |conn, job: OfferExpiry| {
        let now = expiry_clock.now();
        Box::pin(async move { expire(conn, job, now).await })
    });
    registry.on(move |conn, job: ListingLeftActive| {
        let now = clock.now();
        Box::pin(async move {
            on_listing_left_active(conn, job, now).await?;
            Ok(())
        })
    });
}
