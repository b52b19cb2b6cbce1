//! Acceptance by unit, with no I/O: why a unit may be rejected, where a
//! rejection stands, and what the seller owes back for a set of rejected units
//! under the order's DOA allowance.
//!
//! The allowance is a share of the order's units the buyer takes dead on
//! arrival without a refund (Kaboomracks-style "up to N % DOA"): with 100 units
//! at 3 %, the first 3 rejected units cost the seller nothing and every further
//! one is refunded at the order's unit price.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::text_enum;

/// How long the seller has to answer rejections before they count as accepted.
pub const ANSWER_WINDOW: chrono::Duration = chrono::Duration::hours(72);

/// Rejections in one request: a tenth of a 10,000-unit order, within the
/// default JSON body limit; more go in further calls (they add up).
pub const MAX_REJECTIONS_PER_REQUEST: usize = 1_000;

pub const MAX_NOTE_CHARS: usize = 2_000;

// Why the buyer rejects a unit (stored in `unit_rejections.reason`).
text_enum! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum RejectionReason {
        DeadOnArrival = "dead_on_arrival",
        HashboardMissing = "hashboard_missing",
        /// Must cite a delivery proof whose verdict puts the unit under 90 %.
        UnderHashrate = "under_hashrate",
        NotAsDescribed = "not_as_described",
    }
}

// Where a rejection stands (stored in `unit_rejections.status`).
text_enum! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum RejectionStatus {
        /// Waiting for the seller's answer.
        Pending = "pending",
        /// The seller agreed, or did not answer in time.
        Accepted = "accepted",
        /// The seller contested; a dispute decides.
        Contested = "contested",
        /// The dispute ended with a refund: the rejection stands.
        Upheld = "upheld",
        /// The dispute ended without a refund: the unit counts as accepted.
        Overruled = "overruled",
    }
}

/// Units of an order of `quantity` the buyer takes dead on arrival without a
/// refund: `floor(pct × quantity / 100)`.
pub fn allowance_units(doa_allowance_pct: i32, quantity: i32) -> i64 {
    let pct = i64::from(doa_allowance_pct.clamp(0, 100));
    pct * i64::from(quantity.max(0)) / 100
}

/// Rejected units the seller refunds: those beyond the allowance.
pub fn refunded_units(rejected: i64, doa_allowance_pct: i32, quantity: i32) -> i64 {
    (rejected - allowance_units(doa_allowance_pct, quantity)).max(0)
}

/// What accepting `rejected` units returns to the buyer: the order's unit
/// price for each refunded unit, never more than the escrow.
pub fn refund_owed_cents(
    unit_price_cents: i64,
    rejected: i64,
    doa_allowance_pct: i32,
    quantity: i32,
    total_cents: i64,
) -> i64 {
    let owed = i128::from(unit_price_cents) * i128::from(refunded_units(rejected, doa_allowance_pct, quantity));
    owed.min(i128::from(total_cents)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowance_rounds_down() {
        assert_eq!(allowance_units(3, 100), 3);
        assert_eq!(allowance_units(3, 40), 1, "1.2 units allow one");
        assert_eq!(allowance_units(10, 9), 0, "0.9 units allow none");
        assert_eq!(allowance_units(0, 800), 0);
        assert_eq!(allowance_units(10, 800), 80);
    }

    #[test]
    fn rejections_inside_the_allowance_cost_the_seller_nothing() {
        assert_eq!(refund_owed_cents(95_000, 2, 5, 40, 3_800_000), 0, "2 of an allowance of 2");
        assert_eq!(refund_owed_cents(95_000, 0, 5, 40, 3_800_000), 0);
    }

    #[test]
    fn each_rejection_beyond_the_allowance_is_refunded_at_the_unit_price() {
        assert_eq!(refund_owed_cents(95_000, 3, 5, 40, 3_800_000), 95_000);
        assert_eq!(refund_owed_cents(95_000, 7, 5, 40, 3_800_000), 5 * 95_000);
        assert_eq!(refund_owed_cents(95_000, 7, 0, 40, 3_800_000), 7 * 95_000, "no allowance: every unit");
    }

    #[test]
    fn the_refund_never_exceeds_the_escrow() {
        assert_eq!(refund_owed_cents(95_000, 40, 0, 40, 3_800_000), 3_800_000);
        assert_eq!(refund_owed_cents(i64::MAX, 3, 0, 3, 1_000), 1_000, "no overflow");
    }

    #[test]
    fn status_and_reason_strings_round_trip() {
        for &reason in RejectionReason::ALL {
            assert_eq!(RejectionReason::parse(reason.as_str()), Some(reason));
        }
        for &status in RejectionStatus::ALL {
            assert_eq!(RejectionStatus::parse(status.as_str()), Some(status));
        }
    }
}
