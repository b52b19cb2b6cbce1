//! What an order timer does when it fires (`schedule.rs` sets them). A timer
//! runs inside the transaction that claimed its job (`SKIP LOCKED`), takes the
//! order's row lock and acts only if the order is still in the status the timer
//! was set for and the deadline has really passed, so N workers on N instances
//! fire each timer once and a stale timer is a no-op.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::context::OrderContext;
use super::model::OrderRow;
use super::queries::{self, Actor};
use super::schedule::{schedule, OrderTimer, Timer};
use super::state::{ActorRole, Move, OrderStatus};
use super::{flow, payins};
use crate::clock::Clock;
use crate::jobs::JobRegistry;

/// Runs one timer job at `now`.
pub async fn fire(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    payload: OrderTimer,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let Some(order) = queries::lock(conn, payload.order_id).await? else {
        anyhow::bail!("order {} does not exist", payload.order_id);
    };
    let result = match reminder(payload.timer, &order, now) {
        Some(Reminder { to, what, deadline }) => super::notify::reminder(conn, &order, to, &what, deadline, now).await,
        None => deadline(ctx, conn, payload.timer, &order, now).await,
    };
    result.map_err(|err| anyhow::anyhow!("order timer {:?} on {}: {err:#}", payload.timer, order.id))
}

/// A reminder to send: who must act, what, by when.
struct Reminder {
    to: ActorRole,
    what: String,
    deadline: DateTime<Utc>,
}

/// The reminder `timer` sends, if it is a reminder and the order still waits
/// for what it reminds of.
fn reminder(timer: Timer, order: &OrderRow, now: DateTime<Utc>) -> Option<Reminder> {
    let status = order.status();
    let (to, what, deadline) = match timer {
        Timer::PaymentReminder if status == OrderStatus::AwaitingPayment => {
            let what = format!("Pay {} cents (reference {})", order.total_cents, order.payment_reference);
            (ActorRole::Buyer, what, Some(order.pay_by))
        }
        Timer::ShipReminder if status == OrderStatus::Paid => {
            (ActorRole::Seller, "Ship the rigs and add tracking".to_string(), order.ship_by)
        }
        Timer::AutoRefundReminder if status == OrderStatus::Paid => {
            (ActorRole::Seller, "Ship now, or the buyer is refunded in full".to_string(), order.auto_refund_at)
        }
        Timer::DeliveryReminder if status == OrderStatus::Shipped => {
            let what = "Confirm delivery (or dispute non-delivery); the order counts as delivered";
            (ActorRole::Buyer, what.to_string(), order.auto_delivery_at)
        }
        Timer::RejectionAnswerReminder if status == OrderStatus::Delivered => {
            let what = "Accept or contest the buyer's unit rejections; without an answer they count as accepted";
            (ActorRole::Seller, what.to_string(), order.rejections_answer_by)
        }
        Timer::InspectionReminder if status == OrderStatus::Delivered => {
            let what = "Accept the rigs or open a dispute; the seller is paid automatically";
            (ActorRole::Buyer, what.to_string(), order.inspect_until)
        }
        _ => return None,
    };
    Some(Reminder { to, what, deadline: deadline.unwrap_or(now) })
}

/// What a deadline does, if the order is still in the status it was set for and
/// the deadline has really passed; otherwise nothing (the order moved on).
async fn deadline(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    timer: Timer,
    order: &OrderRow,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let status = order.status();
    let system = Actor::system();
    let past = |deadline: Option<DateTime<Utc>>| deadline.is_some_and(|d| now >= d);
    let none = serde_json::json!({});
    match timer {
        Timer::PaymentDeadline if status == OrderStatus::AwaitingPayment && past(Some(order.pay_by)) => {
            flow::close_without_sale(conn, order, Move::Expire, system, "payment_deadline_passed", none, now).await?;
        }
        Timer::ShipDeadline if status == OrderStatus::Paid && past(order.ship_by) => {
            flow::note(conn, order, system, "ship_deadline_missed", none, true, now).await?;
        }
        Timer::AutoRefund if status == OrderStatus::Paid && past(order.auto_refund_at) => {
            let details = serde_json::json!({ "ship_by": order.ship_by });
            flow::close_without_sale(conn, order, Move::AutoRefund, system, "not_shipped_in_time", details, now)
                .await?;
        }
        Timer::AutoDelivery if status == OrderStatus::Shipped && past(order.auto_delivery_at) => {
            flow::deliver(conn, order, Move::AutoDeliver, system, now).await?;
        }
        Timer::InspectionEnd if status == OrderStatus::Delivered && past(order.inspect_until) => {
            // A delivery proof still running gets its verdict first: it may open a dispute.
            if let Some(due) = super::delivery_proof::pending_verdict_at(conn, order.id, now).await? {
                schedule(conn, order.id, Timer::InspectionEnd, due).await?;
                tracing::info!(order.id = %order.id, "inspection end deferred until the delivery proof's verdict");
                return Ok(());
            }
            // Rejected units wait for the seller's answer (or its deadline).
            if super::rejections::any_pending(conn, order.id).await? {
                tracing::info!(order.id = %order.id, "inspection ended with unit rejections pending");
                return Ok(());
            }
            flow::complete(ctx, conn, order, Move::AutoAccept, system, now).await?;
        }
        Timer::RejectionAnswer if status == OrderStatus::Delivered && past(order.rejections_answer_by) => {
            accept_unanswered_rejections(ctx, conn, order, now).await?;
        }
        Timer::BtcpayInvoice if status == OrderStatus::AwaitingPayment && order.btcpay_invoice_id.is_none() => {
            payins::create_missing_invoice(ctx, conn, order, now).await?;
        }
        _ => {}
    }
    Ok(())
}

/// The seller let the answer deadline pass: the pending rejections count as
/// accepted (nothing to do if they were answered meanwhile).
async fn accept_unanswered_rejections(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if super::rejections::any_pending(conn, order.id).await? {
        super::rejection_flow::accept(ctx, conn, order, Actor::system(), now).await?;
    }
    Ok(())
}

/// Registers the order timers' handler.
pub fn register_jobs(registry: &mut JobRegistry, ctx: OrderContext, clock: Clock) {
    registry.on(move |conn, timer: OrderTimer| {
        let ctx = ctx.clone();
        let now = clock.now();
        Box::pin(async move { fire(&ctx, conn, timer, now).await })
    });
}
