//! Settled prices for the price index: what a seller actually got per accepted
//! unit when an order closed with money released (completed, settled by unit,
//! or resolved with less than a full refund), recorded in the closing
//! transaction. Units the buyer rejected do not count: what was kept for them
//! under the DOA allowance is part of the price of the units that work.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::model::OrderRow;
use crate::price_index::observations;

/// `(total - refund) / accepted units`, rounded half up to the cent: the unit
/// price the market actually cleared at, before the platform fee.
pub fn settled_unit_price_cents(total_cents: i64, refund_cents: i64, quantity: i32) -> Option<i64> {
    let released = total_cents - refund_cents;
    let quantity = i64::from(quantity);
    (released > 0 && quantity > 0).then(|| (2 * released + quantity) / (2 * quantity))
}

/// Records `order`'s settled price over its `accepted_units`, at `now`, against
/// the fire-sale threshold.
pub async fn record(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    accepted_units: i32,
    fire_sale_threshold_bps: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let refund = order.refund_cents.unwrap_or(0);
    let Some(unit_price) = settled_unit_price_cents(order.total_cents, refund, accepted_units) else {
        return Ok(());
    };
    let sale = observations::SettledSale {
        order_id: order.id,
        quantity: accepted_units,
        settled_unit_price_cents: unit_price,
        reference_unit_price_cents: order.reference_unit_price_cents,
        at: now,
    };
    crate::listings::record_settled_price(conn, order.listing_id, &sale, fire_sale_threshold_bps).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settled_price_is_what_was_released_per_unit() {
        assert_eq!(settled_unit_price_cents(1_900_000, 0, 20), Some(95_000));
        assert_eq!(settled_unit_price_cents(1_900_000, 400_000, 20), Some(75_000));
        assert_eq!(settled_unit_price_cents(100, 0, 3), Some(33));
        assert_eq!(settled_unit_price_cents(101, 0, 2), Some(51), "half a cent rounds up");
        assert_eq!(settled_unit_price_cents(100, 100, 1), None, "a full refund settles nothing");
        // 40 units at 950 USD, 5 rejected of which 2 inside the allowance: 3 refunded, 35 accepted.
        assert_eq!(settled_unit_price_cents(3_800_000, 285_000, 35), Some(100_429));
        assert_eq!(settled_unit_price_cents(100, 0, 0), None, "nothing accepted settles nothing");
    }
}
