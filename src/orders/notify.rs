//! The emails of escrow: both parties hear about every transition, and whoever
//! must act hears about each deadline before it passes. Every message is enqueued
//! in the transaction of the change it describes (the outbox), so it goes out if
//! and only if the change commits.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::model::OrderRow;
use super::state::{ActorRole, OrderStatus};
use crate::db::ids::UserId;
use crate::jobs;
use crate::mail::PlainNotice;

pub fn money(cents: i64) -> String {
    format!("{}.{:02} USD", cents / 100, (cents % 100).abs())
}

fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "-".into(), |at| at.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// What `recipient` is told when `order` (already updated) reached its status.
fn transition_text(order: &OrderRow, title: &str, recipient: ActorRole, reason: &str) -> (String, String) {
    use ActorRole::Buyer;
    use OrderStatus::*;
    let total = money(order.total_cents);
    let headline = match (order.status(), recipient) {
        (AwaitingPayment, Buyer) => format!(
            "Your order is placed and the units are reserved. Pay {total} by {} ({} reference {}).",
            when(Some(order.pay_by)),
            order.payment_method,
            order.payment_reference
        ),
        (AwaitingPayment, _) => format!(
            "A buyer ordered {} unit(s) for {total}. The units are reserved until {}; do not ship before payment.",
            order.quantity,
            when(Some(order.pay_by))
        ),
        (Paid, Buyer) if reason == "ship_deadline_missed" => format!(
            "The seller did not ship by {}. You may cancel now for a full refund; otherwise you are refunded \
             automatically at {}.",
            when(order.ship_by),
            when(order.auto_refund_at)
        ),
        (Paid, _) if reason == "ship_deadline_missed" => format!(
            "The ship deadline {} passed. The buyer may cancel for a full refund, and is refunded automatically \
             at {} unless you ship before then.",
            when(order.ship_by),
            when(order.auto_refund_at)
        ),
        (Paid, Buyer) => {
            format!("We hold your payment of {total} in escrow. The seller must ship by {}.", when(order.ship_by))
        }
        (Paid, _) => {
            format!("The buyer's {total} is in escrow. Ship by {} and add the tracking number.", when(order.ship_by))
        }
        (Shipped, _) => format!(
            "Shipped with {} (tracking {}). Unless the buyer confirms earlier, it counts as delivered at {}.",
            order.carrier.as_deref().unwrap_or("-"),
            order.tracking_number.as_deref().unwrap_or("-"),
            when(order.auto_delivery_at)
        ),
        (Delivered, Buyer) => format!(
            "Inspect the rigs (a delivery hashrate proof helps) until {}: accept, or open a dispute. Without \
             either, the order completes then and the seller is paid.",
            when(order.inspect_until)
        ),
        (Delivered, _) => format!("Delivered. The buyer's inspection runs until {}.", when(order.inspect_until)),
        (Completed, Buyer) if order.refund_cents.unwrap_or(0) > 0 => format!(
            "The order is complete: {} is refunded to you for the rejected units beyond the DOA allowance, and the \
             rest was released to the seller.",
            money(order.refund_cents.unwrap_or(0))
        ),
        (Completed, Buyer) => "The order is complete and the escrow was released to the seller.".to_string(),
        (Completed, _) => format!(
            "The order is complete: {} was credited to you ({} platform fee{}).",
            money(order.seller_credit_cents.unwrap_or(0)),
            money(order.platform_fee_cents.unwrap_or(0)),
            match order.refund_cents.unwrap_or(0) {
                0 => String::new(),
                refund => format!("; {} refunded to the buyer for rejected units", money(refund)),
            }
        ),
        (Disputed, _) => format!(
            "A dispute was opened ({}). Funds stay in escrow while you talk it through on the order; the seller \
             may offer a partial refund, or an administrator decides.",
            order.dispute_reason.as_deref().unwrap_or("other")
        ),
        (Resolved, _) => format!(
            "The dispute is resolved: {} back to the buyer, {} to the seller ({} platform fee).",
            money(order.refund_cents.unwrap_or(0)),
            money(order.seller_credit_cents.unwrap_or(0)),
            money(order.platform_fee_cents.unwrap_or(0))
        ),
        (Cancelled, _) => "The order was cancelled before payment; the units are released.".to_string(),
        (Expired, _) => "No payment arrived in time, so the order expired and the units are released.".to_string(),
        (Refunded, Buyer) => format!("The order was refunded: {total} is owed back to you."),
        (Refunded, _) => format!("The order was refunded to the buyer ({total})."),
    };
    let subject = format!("Order {}: {}", short_id(order), order.status().as_str().replace('_', " "));
    let text = format!("{headline}\n\nListing: {title}\nOrder: {}\nStatus: {}", order.id, order.status().as_str());
    (subject, text)
}

fn short_id(order: &OrderRow) -> String {
    order.payment_reference.clone()
}

/// The event type a user may mute for a transition email (see
/// `notifications::settings`): only the statuses that merely inform.
fn muteable_kind(status: OrderStatus) -> Option<crate::events::EventKind> {
    use crate::events::EventKind;
    match status {
        OrderStatus::Shipped => Some(EventKind::OrderShipped),
        OrderStatus::Delivered => Some(EventKind::OrderDelivered),
        OrderStatus::Completed => Some(EventKind::OrderCompleted),
        _ => None,
    }
}

/// Emails buyer and seller that `order` reached its current status (unless
/// they turned that status's email off), in one insert.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let title = listing_title(conn, order).await?;
    let gate = muteable_kind(order.status());
    let mut recipients = Vec::with_capacity(2);
    for (user, role) in [(order.buyer_id, ActorRole::Buyer), (order.seller_id, ActorRole::Seller)] {
        if let Some(kind) = gate {
            if !crate::notifications::emails_wanted(conn, user, kind).await? {
                continue; // the inbox entry (events::record) still tells them
            }
        }
        recipients.push((user, role));
    }
    if recipients.is_empty() {
        return Ok(());
    }
    let ids: Vec<UserId> = recipients.iter().map(|(user, _)| *user).collect();
    let emails = crate::accounts::emails_of(conn, &ids).await?;
    let mut batch = jobs::Batch::default();
    for (user, role) in recipients {
        let email = emails.get(&user).ok_or(diesel::NotFound)?;
        add_transition_email(&mut batch, order, &title, role, email, reason, now)?;
    }
    batch.enqueue(conn).await
}

/// A new order's emails to both parties, added to the placement's own batch:
/// the title and both addresses are already in hand, and a placement's email
/// cannot be turned off.
pub fn placed(
    batch: &mut jobs::Batch,
    order: &OrderRow,
    title: &str,
    buyer_email: &str,
    seller_email: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    debug_assert!(muteable_kind(order.status()).is_none());
    add_transition_email(batch, order, title, ActorRole::Buyer, buyer_email, "placed", now)?;
    add_transition_email(batch, order, title, ActorRole::Seller, seller_email, "placed", now)
}

fn add_transition_email(
    batch: &mut jobs::Batch,
    order: &OrderRow,
    title: &str,
    recipient: ActorRole,
    email: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (subject, text) = transition_text(order, title, recipient, reason);
    crate::mail::add_to(batch, email, &PlainNotice { subject, text }, now)
}

/// A reminder that `deadline` is coming, for whoever must act before it.
pub async fn reminder(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    recipient: ActorRole,
    what: &str,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let title = listing_title(conn, order).await?;
    let user = if recipient == ActorRole::Buyer { order.buyer_id } else { order.seller_id };
    let subject = format!("Reminder for order {}: {what} by {}", short_id(order), when(Some(deadline)));
    let text = format!("{what} by {}.\n\nListing: {title}\nOrder: {}", when(Some(deadline)), order.id);
    let email = crate::accounts::email_of(conn, user).await?;
    crate::mail::enqueue(conn, &email, &PlainNotice { subject, text }, now).await?;
    Ok(())
}

/// A free-form notice to one party (a new message, an underpaid invoice ...).
pub async fn tell(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    recipient: ActorRole,
    subject: &str,
    text: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let user = if recipient == ActorRole::Buyer { order.buyer_id } else { order.seller_id };
    let email = crate::accounts::email_of(conn, user).await?;
    let notice = PlainNotice {
        subject: format!("Order {}: {subject}", short_id(order)),
        text: format!("{text}\n\nOrder: {}", order.id),
    };
    crate::mail::enqueue(conn, &email, &notice, now).await?;
    Ok(())
}

async fn listing_title(conn: &mut AsyncPgConnection, order: &OrderRow) -> diesel::QueryResult<String> {
    crate::listings::titles(conn, &[order.listing_id]).await?.remove(&order.listing_id).ok_or(diesel::NotFound)
}
