//! Keeping `active` and `sold_out` in step with the units left. Orders reserve
//! and release units through here too, always under the listing's row lock.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::lifecycle::{next_status, Actor, ListingStatus, Transition};
use super::model::ListingRow;
use crate::db::ids::ListingId;
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

/// Why units could not be reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReserveRefusal {
    NotFound,
    /// Not on sale (draft, under review, withdrawn, rejected, expired).
    NotBuyable,
    /// Fewer units are available than asked for.
    Insufficient {
        available: i32,
    },
    /// The price moved since the caller read it.
    PriceChanged,
}

/// Reserves `quantity` units of an active listing at `unit_price_cents` (the
/// price the caller read and snapshotted). Takes the listing's row lock, so
/// concurrent buyers are served one after another and none is oversold (the
/// `listings_units_fit` CHECK would refuse an oversell even if this were skipped).
pub async fn reserve(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    quantity: i32,
    unit_price_cents: i64,
    now: DateTime<Utc>,
) -> QueryResult<Result<ListingRow, ReserveRefusal>> {
    // The usual case in one statement: the UPDATE takes the row lock and, if
    // another buyer changed the row meanwhile, PostgreSQL checks the conditions
    // again on the row as that buyer left it. A hot lot's buyers thus hold the
    // lock for this statement and their commit only.
    //
    // They queue for it on the lot's advisory lock first (`listing_stock_queue`,
    // checked after the cheaper conditions): at a commit PostgreSQL hands such a
    // lock to the next waiter alone, where every waiter on a row lock wakes,
    // finds the row taken again and goes back to sleep (a herd that cost a hot
    // lot most of the database's CPU).
    let reserved = diesel::update(
        listings::table
            .find(listing_id)
            .filter(listings::status.eq(ListingStatus::Active.as_str()))
            .filter(listings::unit_price_cents.eq(unit_price_cents))
            .filter(listings::quantity_available.ge(quantity))
            .filter(listing_stock_queue(listings::id)),
    )
    .set((listings::quantity_reserved.eq(listings::quantity_reserved + quantity), listings::updated_at.eq(now)))
    .returning(ListingRow::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    match reserved {
        Some(row) => Ok(Ok(sync_sold_out(conn, row, now).await?)),
        // Refused, or so it seemed: decide under the lock, and say why.
        None => reserve_locked(conn, listing_id, quantity, unit_price_cents, now).await,
    }
}

diesel::define_sql_function! {
    /// True once this transaction is at the head of the lot's queue of buyers
    /// (a transaction-scoped advisory lock; migration `listing_stock_queue`).
    fn listing_stock_queue(listing: diesel::sql_types::Uuid) -> diesel::sql_types::Bool;
}

async fn reserve_locked(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    quantity: i32,
    unit_price_cents: i64,
    now: DateTime<Utc>,
) -> QueryResult<Result<ListingRow, ReserveRefusal>> {
    let Some(row) = super::queries::lock(conn, listing_id).await? else {
        return Ok(Err(ReserveRefusal::NotFound));
    };
    if row.unit_price_cents != unit_price_cents {
        return Ok(Err(ReserveRefusal::PriceChanged));
    }
    match row.status() {
        ListingStatus::Active => {}
        // Sold out is "no units left", not "closed": the buyer was just too late.
        ListingStatus::SoldOut => return Ok(Err(ReserveRefusal::Insufficient { available: 0 })),
        _ => return Ok(Err(ReserveRefusal::NotBuyable)),
    }
    if row.quantity_available < quantity {
        return Ok(Err(ReserveRefusal::Insufficient { available: row.quantity_available }));
    }
    let row = diesel::update(listings::table.find(listing_id))
        .set((listings::quantity_reserved.eq(listings::quantity_reserved + quantity), listings::updated_at.eq(now)))
        .returning(ListingRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(Ok(sync_sold_out(conn, row, now).await?))
}

/// Hands reserved units back (an order cancelled or expired before shipping).
pub async fn release(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    quantity: i32,
    now: DateTime<Utc>,
) -> QueryResult<ListingRow> {
    super::queries::lock(conn, listing_id).await?.ok_or(diesel::result::Error::NotFound)?;
    let row = diesel::update(listings::table.find(listing_id))
        .set((listings::quantity_reserved.eq(listings::quantity_reserved - quantity), listings::updated_at.eq(now)))
        .returning(ListingRow::as_returning())
        .get_result(conn)
        .await?;
    sync_sold_out(conn, row, now).await
}

/// Turns reserved units into sold ones (an order closed after shipping).
pub async fn mark_sold(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    quantity: i32,
    now: DateTime<Utc>,
) -> QueryResult<ListingRow> {
    super::queries::lock(conn, listing_id).await?.ok_or(diesel::result::Error::NotFound)?;
    diesel::update(listings::table.find(listing_id))
        .set((
            listings::quantity_reserved.eq(listings::quantity_reserved - quantity),
            listings::quantity_sold.eq(listings::quantity_sold + quantity),
            listings::updated_at.eq(now),
        ))
        .returning(ListingRow::as_returning())
        .get_result(conn)
        .await
}
