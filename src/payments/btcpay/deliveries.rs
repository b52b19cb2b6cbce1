//! The log of webhook deliveries, by BTCPay's delivery id: a delivery is claimed
//! once (a replay finds it claimed) and records what it did, in the transaction
//! of its effect.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::events::WebhookEvent;
use crate::db::ids::OrderId;
use crate::db::schema::btcpay_deliveries;

/// Records `event` as being processed; false when it was already (a replay).
pub async fn claim(conn: &mut AsyncPgConnection, event: &WebhookEvent, now: DateTime<Utc>) -> QueryResult<bool> {
    let inserted = diesel::insert_into(btcpay_deliveries::table)
        .values((
            btcpay_deliveries::delivery_id.eq(event.dedup_key()),
            btcpay_deliveries::event_type.eq(event.kind.as_str()),
            btcpay_deliveries::invoice_id.eq(&event.invoice_id),
            btcpay_deliveries::outcome.eq("processing"),
            btcpay_deliveries::received_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Notes which order the delivery concerns.
pub async fn link_order(conn: &mut AsyncPgConnection, event: &WebhookEvent, order_id: OrderId) -> QueryResult<()> {
    diesel::update(btcpay_deliveries::table.find(event.dedup_key()))
        .set(btcpay_deliveries::order_id.eq(order_id))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records what the delivery did.
pub async fn record_outcome(conn: &mut AsyncPgConnection, event: &WebhookEvent, outcome: &str) -> QueryResult<()> {
    diesel::update(btcpay_deliveries::table.find(event.dedup_key()))
        .set(btcpay_deliveries::outcome.eq(outcome))
        .execute(conn)
        .await?;
    Ok(())
}
