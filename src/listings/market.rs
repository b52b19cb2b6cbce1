//! What the listings tell those who watch the market (saved-search alerts):
//! a lot was published, or a live lot's price went down. Each is a typed job
//! enqueued in the transaction of the change (the outbox), so it exists if and
//! only if the change commits; the `alerts` capability handles it, so the
//! request that made the change never waits for the matching.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

use crate::db::ids::ListingId;
use crate::jobs::{self, Job};

/// What happened to the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MarketChange {
    /// It went live (moderation approved it).
    Published,
    /// Its unit price went down from `old_unit_price_cents` while active.
    PriceDropped { old_unit_price_cents: i64 },
}

/// A listing change saved searches may match.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListingMarketChange {
    pub listing_id: ListingId,
    pub change: MarketChange,
}

impl Job for ListingMarketChange {
    const KIND: &'static str = "listing_market_change";
}

/// Enqueues the change in the caller's transaction, due now.
pub async fn announce(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    change: MarketChange,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    jobs::enqueue(conn, &ListingMarketChange { listing_id, change }, now).await?;
    Ok(())
}
