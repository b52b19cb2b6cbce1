//! Units after delivery, one by one (the orders call these inside their
//! transitions on a locked order): which shipped units a rejection names, the
//! split into accepted and rejected units when the order settles, and the
//! return or write-off of a rejected unit.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::UnitStatus;
use crate::db::ids::OrderId;
use crate::db::schema::units;
use crate::error::{ApiError, ApiResult};

/// A unit of an order, by id and serial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUnitRef {
    pub id: Uuid,
    pub serial: String,
    pub status: UnitStatus,
}

/// The units of `order_id` with these serials, locked, in the order asked.
/// Serials the order does not hold are answered as `unit_not_in_order`.
pub async fn of_order(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    serials: &[String],
) -> ApiResult<Vec<OrderUnitRef>> {
    let rows: Vec<(Uuid, String, UnitStatus)> = units::table
        .filter(units::order_id.eq(order_id.0))
        .filter(units::serial.eq_any(serials))
        .select((units::id, units::serial, units::status))
        .for_update()
        .load(conn)
        .await?;
    let mut found = Vec::with_capacity(serials.len());
    let mut missing = Vec::new();
    for serial in serials {
        match rows.iter().find(|(_, s, _)| s == serial) {
            Some((id, serial, status)) => found.push(OrderUnitRef { id: *id, serial: serial.clone(), status: *status }),
            None => missing.push(serial.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::unprocessable(
            "unit_not_in_order",
            format!("Not units of this order: {}.", missing.join(", ")),
        ));
    }
    Ok(found)
}

/// Refuses units that are not in `expected` status, naming them.
pub fn require_status(units: &[OrderUnitRef], expected: UnitStatus, code: &'static str) -> ApiResult<()> {
    let wrong: Vec<String> =
        units.iter().filter(|u| u.status != expected).map(|u| format!("{} ({})", u.serial, u.status)).collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(ApiError::conflict(code, format!("Only {expected} units can be used here: {}.", wrong.join(", "))))
    }
}

/// The order settles unit by unit: the `rejected` units leave the lot as
/// `rejected`, every other shipped unit is sold (`accepted`).
pub async fn settle(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    rejected: &[Uuid],
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        units::table
            .filter(units::order_id.eq(order_id.0))
            .filter(units::status.eq(UnitStatus::Shipped))
            .filter(units::id.eq_any(rejected)),
    )
    .set((units::status.eq(UnitStatus::Rejected), units::in_open_lot.eq(false), units::updated_at.eq(now)))
    .execute(conn)
    .await?;
    super::allocation::close_shipped(conn, order_id, UnitStatus::Accepted, now).await?;
    Ok(())
}

/// Rejected units on their way back to the seller.
pub async fn mark_returned(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
    carrier: &str,
    tracking_number: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(units::table.filter(units::id.eq_any(ids)).filter(units::status.eq(UnitStatus::Rejected)))
        .set((
            units::status.eq(UnitStatus::Returned),
            units::return_carrier.eq(carrier),
            units::return_tracking_number.eq(tracking_number),
            units::returned_at.eq(now),
            units::updated_at.eq(now),
        ))
        .execute(conn)
        .await
}

/// Rejected units the seller does not want back.
pub async fn write_off(conn: &mut AsyncPgConnection, ids: &[Uuid], now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(units::table.filter(units::id.eq_any(ids)).filter(units::status.eq(UnitStatus::Rejected)))
        .set((units::status.eq(UnitStatus::WrittenOff), units::updated_at.eq(now)))
        .execute(conn)
        .await
}
