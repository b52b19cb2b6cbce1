//! The terms of one offer or counter, and their rules, with no I/O: a positive
//! unit price, a quantity the listing can still meet, an expiry between 1 hour
//! and 7 days (48 hours by default), a DOA allowance of 0-10 %, a ship-by date
//! in the future; and the listing's floor (absolute, or a discount against the
//! price index's tier median, given here as a number) and auto-accept price.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::listings::input::MAX_UNIT_PRICE_CENTS;
use crate::listings::offer_settings::OfferSettings;
use crate::orders::input::MAX_ORDER_QUANTITY;
use crate::validation::Problems;

pub const MIN_EXPIRY: Duration = Duration::hours(1);
pub const MAX_EXPIRY: Duration = Duration::days(7);
pub const DEFAULT_EXPIRY: Duration = Duration::hours(48);
pub const MAX_DOA_ALLOWANCE_PCT: i32 = 10;
pub const MAX_MESSAGE_CHARS: usize = 2_000;

/// The terms of an offer or a counter.
// No `deny_unknown_fields`: the first offer flattens these terms beside its
// payment method and address, which serde and the schema cannot combine with it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "quantity": 600, "unit_price_cents": 78000, "doa_allowance_pct": 2, "ship_by": "2026-06-20T00:00:00Z",
    "message": "The whole lot if you ship before the power-off.", "expires_in": 172800
}))]
pub struct Terms {
    pub quantity: i32,
    pub unit_price_cents: i64,
    /// Units the buyer accepts dead on arrival without a refund, in percent
    /// (0-10). Absent: the listing's allowance for a first offer, the latest
    /// version's for a counter.
    pub doa_allowance_pct: Option<i32>,
    /// The seller ships by then at the latest.
    pub ship_by: Option<DateTime<Utc>>,
    pub message: Option<String>,
    /// Seconds until this version expires: 3600 to 604800 (default 172800, 48 h).
    pub expires_in: Option<i64>,
}

impl Terms {
    /// Trims the message (an empty one is none) so equal requests hash equal.
    pub fn normalized(mut self) -> Self {
        self.message = self.message.map(|m| m.trim().to_string()).filter(|m| !m.is_empty());
        self
    }

    pub fn expiry(&self) -> Duration {
        self.expires_in.map_or(DEFAULT_EXPIRY, Duration::seconds)
    }

    /// Every problem with these terms at `now`.
    pub fn validate(&self, now: DateTime<Utc>) -> Problems {
        let mut problems = Problems::default();
        problems.within("quantity", self.quantity, 1..=MAX_ORDER_QUANTITY);
        problems.within("unit_price_cents", self.unit_price_cents, 1..=MAX_UNIT_PRICE_CENTS);
        if let Some(pct) = self.doa_allowance_pct {
            problems.within("doa_allowance_pct", pct, 0..=MAX_DOA_ALLOWANCE_PCT);
        }
        if self.ship_by.is_some_and(|at| at <= now) {
            problems.add("ship_by", "must be in the future");
        }
        if let Some(message) = &self.message {
            if message.chars().count() > MAX_MESSAGE_CHARS {
                problems.add("message", format!("must be at most {MAX_MESSAGE_CHARS} characters"));
            }
        }
        if let Some(secs) = self.expires_in {
            problems.within("expires_in", secs, MIN_EXPIRY.num_seconds()..=MAX_EXPIRY.num_seconds());
        }
        problems
    }
}

/// The lowest unit price the listing takes offers at: its absolute floor, or
/// the tier median per unit (`median_usd_per_th_cents` x the model's nominal
/// TH/s) less the discount. No index data, no discount floor.
pub fn floor_unit_price_cents(
    settings: &OfferSettings,
    median_usd_per_th_cents: Option<f64>,
    unit_hashrate_hs: i64,
) -> Option<i64> {
    if let Some(floor) = settings.floor_unit_price_cents {
        return Some(floor);
    }
    let pct = settings.floor_discount_pct?;
    let median = median_usd_per_th_cents?;
    let unit_median = median * unit_hashrate_hs as f64 / 1e12;
    Some((unit_median * f64::from(100 - pct) / 100.0).ceil() as i64)
}

/// What happens to a buyer's price on arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Below the floor: declined at once.
    BelowFloor { floor: i64 },
    /// At or above the auto-accept price: accepted at once.
    AutoAccept,
    /// The seller decides.
    Open,
}

pub fn on_arrival(unit_price_cents: i64, floor: Option<i64>, auto_accept: Option<i64>) -> Arrival {
    match (floor, auto_accept) {
        (Some(floor), _) if unit_price_cents < floor => Arrival::BelowFloor { floor },
        (_, Some(auto)) if unit_price_cents >= auto => Arrival::AutoAccept,
        _ => Arrival::Open,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn terms() -> Terms {
        serde_json::from_value(serde_json::json!({"quantity": 10, "unit_price_cents": 90000})).unwrap()
    }

    #[test]
    fn a_plain_offer_is_valid_and_expires_in_48_hours() {
        assert!(terms().validate(now()).is_empty());
        assert_eq!(terms().expiry(), Duration::hours(48));
    }

    #[test]
    fn zero_prices_long_expiries_large_allowances_and_past_dates_are_refused() {
        let mut bad = terms();
        bad.quantity = 0;
        bad.unit_price_cents = 0;
        bad.doa_allowance_pct = Some(11);
        bad.ship_by = Some(now());
        bad.expires_in = Some(MAX_EXPIRY.num_seconds() + 1);
        assert_eq!(
            bad.validate(now()).fields(),
            vec!["quantity", "unit_price_cents", "doa_allowance_pct", "ship_by", "expires_in"]
        );
        bad = terms();
        bad.unit_price_cents = -1;
        bad.expires_in = Some(3599);
        assert_eq!(bad.validate(now()).fields(), vec!["unit_price_cents", "expires_in"]);
    }

    #[test]
    fn the_floor_follows_the_index_median_per_unit() {
        let discount = OfferSettings { floor_discount_pct: Some(30), ..OfferSettings::DEFAULT };
        // $10.00 per TH/s x 110 TH/s = $1,100 per unit; 30 % under it is $770.
        assert_eq!(floor_unit_price_cents(&discount, Some(1000.0), 110_000_000_000_000), Some(77_000));
        assert_eq!(floor_unit_price_cents(&discount, None, 110_000_000_000_000), None, "no index, no floor");
        let absolute = OfferSettings { floor_unit_price_cents: Some(50_000), ..OfferSettings::DEFAULT };
        assert_eq!(floor_unit_price_cents(&absolute, Some(1000.0), 1), Some(50_000));
        assert_eq!(floor_unit_price_cents(&OfferSettings::DEFAULT, Some(1000.0), 1), None);
    }

    #[test]
    fn below_the_floor_declines_and_at_auto_accept_accepts() {
        assert_eq!(on_arrival(76_999, Some(77_000), Some(90_000)), Arrival::BelowFloor { floor: 77_000 });
        assert_eq!(on_arrival(77_000, Some(77_000), Some(90_000)), Arrival::Open);
        assert_eq!(on_arrival(90_000, Some(77_000), Some(90_000)), Arrival::AutoAccept);
        assert_eq!(on_arrival(1, None, None), Arrival::Open);
    }
}
