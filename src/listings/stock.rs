//! Keeping `active` and `sold_out` in step with the units left. Orders reserve
//! and release units through here too, always under the listing's row lock.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::lifecycle::{next_status, Actor, ListingStatus, Transition};
use super::model::ListingRow;
use crate::db::schema::listings;

/// Moves an active listing with nothing left to `sold_out`, and a sold-out one
/// that has units again (quantity raised, reservation released) back to `active`.
pub async fn sync_sold_out(
    conn: &mut AsyncPgConnection,
    row: ListingRow,
    now: DateTime<Utc>,
) -> QueryResult<ListingRow> {
    let transition = match (row.status(), row.quantity_available) {
        (ListingStatus::Active, 0) => Transition::SellOut,
        (ListingStatus::SoldOut, n) if n > 0 => Transition::Restock,
        _ => return Ok(row),
    };
    let Some(next) = next_status(row.status(), transition, Actor::System) else {
        return Ok(row);
    };
    diesel::update(listings::table.find(row.id))
        .set((listings::status.eq(next.as_str()), listings::updated_at.eq(now)))
        .returning(ListingRow::as_returning())
        .get_result(conn)
        .await
}
