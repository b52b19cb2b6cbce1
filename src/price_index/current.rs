//! The index as it stands (`/price-index/tiers`, `/price-index/latest`): the
//! efficiency bands, and per tier the median and quartiles of USD per nominal
//! TH/s over the trailing week of raw observations.

use chrono::{DateTime, Duration, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;

use super::model::{LatestTier, TierBandView};
use super::params::Basis;
use super::queries;
use super::stats::{cents_to_dollars, to_the_minute};
use crate::catalog::tiers::EfficiencyTier;

/// The trailing window of `latest`.
pub const LATEST_WINDOW_DAYS: i64 = 7;

/// Hashrate Index's current bands in J/TH.
pub fn tier_bands() -> Vec<TierBandView> {
    EfficiencyTier::ALL
        .into_iter()
        .map(|tier| {
            let band = tier.band();
            TierBandView { tier, min_j_per_th: band.min_j_per_th, max_j_per_th: band.max_j_per_th }
        })
        .collect()
}

/// Every tier's window ending now, to the minute (so an answer stays the same,
/// and revalidates, within its max-age).
pub async fn latest(conn: &mut AsyncPgConnection, basis: Basis, now: DateTime<Utc>) -> QueryResult<Vec<LatestTier>> {
    let as_of = to_the_minute(now);
    let window =
        queries::window_by_tier(conn, basis.as_str(), as_of - Duration::days(LATEST_WINDOW_DAYS), as_of).await?;
    Ok(EfficiencyTier::ALL
        .into_iter()
        .map(|tier| {
            let (count, [p25, p50, p75]) = window.get(&tier).copied().unwrap_or((0, [None; 3]));
            LatestTier {
                tier,
                basis,
                usd_per_th_median: p50.map(cents_to_dollars),
                usd_per_th_p25: p25.map(cents_to_dollars),
                usd_per_th_p75: p75.map(cents_to_dollars),
                count,
                window_days: LATEST_WINDOW_DAYS,
                as_of,
            }
        })
        .collect())
}

/// One tier's median USD per nominal TH/s, in cents, over the window `latest`
/// shows (asking prices); `None` without observations. Offers' discount floor
/// follows it.
pub async fn tier_median_usd_per_th_cents(
    conn: &mut AsyncPgConnection,
    tier: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<f64>> {
    let Some(tier) = EfficiencyTier::ALL.into_iter().find(|t| t.key() == tier) else {
        return Ok(None);
    };
    let as_of = to_the_minute(now);
    let window =
        queries::window_by_tier(conn, Basis::Asking.as_str(), as_of - Duration::days(LATEST_WINDOW_DAYS), as_of)
            .await?;
    Ok(window.get(&tier).and_then(|(_, [_, p50, _])| *p50))
}
