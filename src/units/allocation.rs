//! Orders and the units of a lot sold by serial (the orders call these inside
//! their transitions, on a lot whose row lock they hold, so units and the lot's
//! counts move together): placing reserves that many available units, shipping
//! names the serials (swapping reservations), closing sells, frees or writes
//! the units off.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::UnitStatus;
use super::rules::normalised_serials;
use crate::db::ids::{ListingId, OrderId};
use crate::db::schema::units;
use crate::error::{ApiError, ApiResult};

/// Reserves `quantity` available units of a lot for an order, first serials
/// first. The caller holds the lot's lock and has reserved its quantity, so
/// they are there; if not, the order is refused as oversold.
pub async fn reserve(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    order_id: OrderId,
    quantity: i32,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let picked: Vec<Uuid> = units::table
        .filter(units::listing_id.eq(listing_id))
        .filter(units::status.eq(UnitStatus::Available))
        .order(units::serial.asc())
        .limit(i64::from(quantity))
        .select(units::id)
        .for_update()
        .load(conn)
        .await?;
    if picked.len() < quantity as usize {
        return Err(ApiError::conflict(
            "insufficient_quantity",
            format!("Only {} unit(s) are available; {quantity} were asked for.", picked.len()),
        ));
    }
    set_status(conn, &picked, UnitStatus::Reserved, Some(order_id), now).await
}

async fn set_status(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
    status: UnitStatus,
    order_id: Option<OrderId>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    diesel::update(units::table.filter(units::id.eq_any(ids)))
        .set((units::status.eq(status), units::order_id.eq(order_id.map(|o| o.0)), units::updated_at.eq(now)))
        .execute(conn)
        .await?;
    Ok(())
}

/// The serials of the lot's units still with the seller (available or
/// reserved), in order: what a proof of the lot expects to mine.
pub async fn held_serials(conn: &mut AsyncPgConnection, listing_id: ListingId) -> QueryResult<Vec<String>> {
    units::table
        .filter(units::listing_id.eq(listing_id))
        .filter(units::status.eq_any([UnitStatus::Available, UnitStatus::Reserved]))
        .order(units::serial.asc())
        .select(units::serial)
        .load(conn)
        .await
}

/// The serials an order shipped, in order.
pub async fn shipped_serials(conn: &mut AsyncPgConnection, order_id: OrderId) -> QueryResult<Vec<String>> {
    units::table
        .filter(units::order_id.eq(order_id.0))
        .filter(units::status.eq(UnitStatus::Shipped))
        .order(units::serial.asc())
        .select(units::serial)
        .load(conn)
        .await
}

/// Whether the lot is sold by serial: it has units.
pub async fn has_units(conn: &mut AsyncPgConnection, listing_id: ListingId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(units::table.filter(units::listing_id.eq(listing_id)))).get_result(conn).await
}

/// Ships exactly the order's quantity of units by serial: each one reserved
/// for this order or available in the lot. Reservations of this order that
/// are not named go back to available. Answers the serials shipped.
pub async fn ship(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    order_id: OrderId,
    quantity: i32,
    serials: &[String],
    now: DateTime<Utc>,
) -> ApiResult<Vec<String>> {
    let wanted = normalised_serials(|i| format!("serials[{i}]"), serials.iter().map(String::as_str))?;
    if wanted.len() != quantity as usize {
        return Err(ApiError::validation(
            "serials",
            format!("name exactly the {quantity} unit(s) of the order (got {})", wanted.len()),
        ));
    }
    let rows: Vec<(Uuid, String, UnitStatus, Option<Uuid>)> = units::table
        .filter(units::listing_id.eq(listing_id))
        .filter(units::serial.eq_any(&wanted).or(units::order_id.eq(order_id.0)))
        .select((units::id, units::serial, units::status, units::order_id))
        .for_update()
        .load(conn)
        .await?;
    let usable = |status: UnitStatus, holder: Option<Uuid>| {
        status == UnitStatus::Available || (status == UnitStatus::Reserved && holder == Some(order_id.0))
    };
    let unusable: Vec<&str> = wanted
        .iter()
        .filter(|serial| !rows.iter().any(|(_, s, status, holder)| s == *serial && usable(*status, *holder)))
        .map(String::as_str)
        .collect();
    if !unusable.is_empty() {
        return Err(ApiError::conflict(
            "unit_not_allocatable",
            format!("Not available in this lot for this order: {}.", unusable.join(", ")),
        ));
    }
    let released: Vec<Uuid> = rows
        .iter()
        .filter(|(_, serial, status, holder)| {
            *status == UnitStatus::Reserved && *holder == Some(order_id.0) && !wanted.contains(serial)
        })
        .map(|(id, ..)| *id)
        .collect();
    set_status(conn, &released, UnitStatus::Available, None, now).await?;
    let shipped: Vec<Uuid> =
        rows.iter().filter(|(_, serial, ..)| wanted.contains(serial)).map(|(id, ..)| *id).collect();
    set_status(conn, &shipped, UnitStatus::Shipped, Some(order_id), now).await?;
    Ok(wanted)
}

/// An order closed without a sale before shipping: its units are available again.
pub async fn release(conn: &mut AsyncPgConnection, order_id: OrderId, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(units::table.filter(units::order_id.eq(order_id.0)).filter(units::status.eq(UnitStatus::Reserved)))
        .set((units::status.eq(UnitStatus::Available), units::order_id.eq(None::<Uuid>), units::updated_at.eq(now)))
        .execute(conn)
        .await
}

/// An order closed after shipping: its shipped units become `accepted` (sold:
/// they leave the lot and the registry remembers when) or, when the buyer got
/// everything back without the rigs arriving, `written_off`.
pub async fn close_shipped(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    outcome: UnitStatus,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let sold_at = (outcome == UnitStatus::Accepted).then_some(now);
    diesel::update(units::table.filter(units::order_id.eq(order_id.0)).filter(units::status.eq(UnitStatus::Shipped)))
        .set((
            units::status.eq(outcome),
            units::in_open_lot.eq(false),
            units::sold_at.eq(sold_at),
            units::updated_at.eq(now),
        ))
        .execute(conn)
        .await
}

/// The units of each order (serial and status), in serial order.
pub async fn of_orders(
    mut conn: &AsyncPgConnection,
    order_ids: &[OrderId],
) -> QueryResult<HashMap<OrderId, Vec<(String, UnitStatus)>>> {
    let ids: Vec<Uuid> = order_ids.iter().map(|o| o.0).collect();
    let rows: Vec<(Option<Uuid>, String, UnitStatus)> = units::table
        .filter(units::order_id.eq_any(ids))
        .order(units::serial.asc())
        .select((units::order_id, units::serial, units::status))
        .load(&mut conn)
        .await?;
    let mut by_order: HashMap<OrderId, Vec<(String, UnitStatus)>> = HashMap::new();
    for (order, serial, status) in rows {
        if let Some(order) = order {
            by_order.entry(OrderId(order)).or_default().push((serial, status));
        }
    }
    Ok(by_order)
}
