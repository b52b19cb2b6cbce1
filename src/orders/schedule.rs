//! Order deadlines as jobs: each deadline is a job in the PostgreSQL queue,
//! enqueued in the transaction that set it, with a reminder job before it.
//! What a timer does when it fires is in `timers.rs`.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

use super::deadlines::reminder_at;
use crate::db::ids::OrderId;
use crate::jobs::{self, Job};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    PaymentReminder,
    PaymentDeadline,
    ShipReminder,
    ShipDeadline,
    AutoRefundReminder,
    AutoRefund,
    DeliveryReminder,
    AutoDelivery,
    InspectionReminder,
    InspectionEnd,
    RejectionAnswerReminder,
    /// Unit rejections the seller did not answer count as accepted.
    RejectionAnswer,
    /// Creates the BTCPay invoice when placement could not (BTCPay was down).
    BtcpayInvoice,
}

/// One timer of one order, as a job.
#[derive(Debug, Serialize, Deserialize)]
pub struct OrderTimer {
    pub order_id: OrderId,
    pub timer: Timer,
}

impl Job for OrderTimer {
    const KIND: &'static str = "order_timer";
}

pub async fn schedule(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    timer: Timer,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    jobs::enqueue(conn, &OrderTimer { order_id, timer }, at).await?;
    Ok(())
}

/// Schedules `deadline_timer` at `deadline` and `reminder` before it, in one insert.
pub async fn schedule_deadline(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    reminder: Timer,
    deadline_timer: Timer,
    opened: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut batch = jobs::Batch::default();
    add_deadline(&mut batch, order_id, reminder, deadline_timer, opened, deadline)?;
    batch.enqueue(conn).await
}

/// Adds `deadline_timer` at `deadline` and `reminder` before it to `batch`.
pub fn add_deadline(
    batch: &mut jobs::Batch,
    order_id: OrderId,
    reminder: Timer,
    deadline_timer: Timer,
    opened: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> anyhow::Result<()> {
    if let Some(at) = reminder_at(opened, deadline) {
        add(batch, order_id, reminder, at)?;
    }
    add(batch, order_id, deadline_timer, deadline)
}

/// Adds one timer of the order to `batch`.
pub fn add(batch: &mut jobs::Batch, order_id: OrderId, timer: Timer, at: DateTime<Utc>) -> anyhow::Result<()> {
    batch.add(&OrderTimer { order_id, timer }, at)
}
