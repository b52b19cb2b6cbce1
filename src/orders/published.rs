//! The domain events orders publish (see `crate::events`): one per transition,
//! per settlement offer and per message, recorded in the transition's own
//! transaction. `data` carries the move; subscribers get the order as the API
//! renders it, rendered when the event is fanned out.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;

use super::model::OrderRow;
use super::state::OrderStatus;
use crate::events::{self, EventKind};

/// Which event a recorded order event (`to`, `reason`) is, if any: every status
/// change is one, and of the notes only those a party acts on.
pub fn kind_of(to: OrderStatus, status_changed: bool, reason: &str) -> Option<EventKind> {
    if reason == "placed" {
        return Some(EventKind::OrderPlaced);
    }
    if !status_changed {
        return match reason {
            "settlement_offered" => Some(EventKind::OrderSettlementOffered),
            "ship_deadline_missed" => Some(EventKind::OrderShipDeadlineMissed),
            _ => None,
        };
    }
    Some(match to {
        OrderStatus::AwaitingPayment => EventKind::OrderPlaced,
        OrderStatus::Paid => EventKind::OrderPaid,
        OrderStatus::Shipped => EventKind::OrderShipped,
        OrderStatus::Delivered => EventKind::OrderDelivered,
        OrderStatus::Completed => EventKind::OrderCompleted,
        OrderStatus::Disputed => EventKind::OrderDisputed,
        OrderStatus::Resolved => EventKind::OrderDisputeResolved,
        OrderStatus::Cancelled => EventKind::OrderCancelled,
        OrderStatus::Expired => EventKind::OrderExpired,
        OrderStatus::Refunded => EventKind::OrderRefunded,
    })
}

/// Records the event for an order event with `reason` moving `from` -> `to`.
pub async fn record(
    conn: &AsyncPgConnection,
    order: &OrderRow,
    from: Option<OrderStatus>,
    to: OrderStatus,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let Some(kind) = kind_of(to, from != Some(to), reason) else {
        return Ok(());
    };
    let data = json!({
        "order_id": order.id,
        "from": from.map(|s| s.as_str()),
        "to": to.as_str(),
        "reason": reason,
    });
    events::record(conn, kind, order.id, &[order.buyer_id, order.seller_id], data, now).await?;
    Ok(())
}

/// Records a posted message; `message` is the message as the API renders it.
pub async fn message_posted(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    message: serde_json::Value,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let parties = [order.buyer_id, order.seller_id];
    events::record(conn, EventKind::OrderMessagePosted, order.id, &parties, message, now).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_change_is_an_event_and_only_some_notes_are() {
        assert_eq!(kind_of(OrderStatus::AwaitingPayment, true, "placed"), Some(EventKind::OrderPlaced));
        assert_eq!(kind_of(OrderStatus::Paid, true, "paid"), Some(EventKind::OrderPaid));
        assert_eq!(kind_of(OrderStatus::Resolved, true, "resolved_by_admin"), Some(EventKind::OrderDisputeResolved));
        assert_eq!(kind_of(OrderStatus::Paid, false, "btcpay_underpaid"), None);
        assert_eq!(
            kind_of(OrderStatus::Disputed, false, "settlement_offered"),
            Some(EventKind::OrderSettlementOffered)
        );
    }
}
