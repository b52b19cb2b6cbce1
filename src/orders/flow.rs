//! Transitions: each runs inside the caller's transaction, on an order row the
//! caller has locked, and writes everything the move implies in that one
//! transaction: the status and deadlines, the ledger posting, the units, the
//! event, the emails and the next timers. A crash at any point rolls all of it
//! back together; a retried move finds the status already changed and is refused.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::AsyncPgConnection;
use serde_json::json;

use super::context::OrderContext;
use super::deadlines;
use super::model::{OrderChanges, OrderRow};
use super::money::{self, Split};
use super::queries::{self, Actor, NewEvent};
use super::rejection_rules::RejectionStatus;
use super::rejections;
use super::schedule::{self, Timer};
use super::state::{next_status, Move, OrderStatus, Refusal};
use crate::error::ApiError;
use crate::ledger::{self, Account, Posting, TransactionKind};
use crate::listings::stock;
use crate::units::{self, model::UnitStatus};

/// The refusal as clients see it: 403 for the wrong actor, 409 for the wrong status.
pub fn refusal_error(order: &OrderRow, mv: Move, refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Actor(allowed) => {
            let who: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
            ApiError::forbidden("order_action_forbidden", format!("Only the {} can do this.", who.join(" or ")))
        }
        Refusal::Status => ApiError::conflict(
            "invalid_order_status",
            format!("An order in status `{}` cannot be {}.", order.status, describe(mv)),
        ),
    }
}

fn describe(mv: Move) -> &'static str {
    match mv {
        Move::Pay => "paid",
        Move::Expire => "expired",
        Move::BuyerCancel | Move::AdminCancel => "cancelled",
        Move::AutoRefund => "refunded",
        Move::Ship => "shipped",
        Move::ConfirmDelivery | Move::AutoDeliver => "marked delivered",
        Move::Accept | Move::AutoAccept => "accepted",
        Move::OpenDispute => "disputed",
        Move::AcceptOffer | Move::Resolve => "resolved",
        Move::AcceptRejections => "settled by unit",
        Move::ContestRejections => "contested",
    }
}

/// Checks that `actor` may make `mv` now, and where it leads.
pub fn check(order: &OrderRow, mv: Move, actor: Actor) -> Result<OrderStatus, ApiError> {
    next_status(order.status(), mv, actor.role).map_err(|refusal| refusal_error(order, mv, refusal))
}

/// Who made a move and why, for the event history.
pub struct Step<'a> {
    pub actor: Actor,
    pub reason: &'a str,
    pub details: serde_json::Value,
}

/// Writes the new status with `changes`, the event and the emails.
pub(super) async fn commit(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    to: OrderStatus,
    changes: OrderChanges,
    step: Step<'_>,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let Step { actor, reason, details } = step;
    let updated = queries::update_status(conn, order.id, to, changes, now).await?;
    let event = NewEvent { order_id: order.id, actor, from: Some(order.status()), to, reason, details };
    queries::append_event(conn, event, now).await?;
    super::notify::transition(conn, &updated, reason, now).await?;
    // The parties' inbox locks are held to the commit: taken last.
    super::published::record(conn, &updated, Some(order.status()), to, reason, now).await?;
    tracing::info!(order.id = %order.id, from = %order.status, to = to.as_str(), actor = actor.role.as_str(), "order transition");
    Ok(updated)
}

async fn power_off_at(conn: &mut AsyncPgConnection, order: &OrderRow) -> QueryResult<Option<DateTime<Utc>>> {
    let listing = crate::listings::queries::find(conn, order.listing_id).await?.ok_or(diesel::NotFound)?;
    Ok(listing.power_off_at)
}

/// Money has arrived (`amount_cents`, at least the total): it goes into escrow,
/// any excess is owed back to the buyer, and the ship clock starts.
pub async fn pay(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    actor: Actor,
    amount_cents: i64,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let to = check(order, Move::Pay, actor)?;
    if amount_cents < order.total_cents {
        return Err(ApiError::unprocessable(
            "payment_short",
            format!("{amount_cents} cents were received of {} due; an order is paid only in full.", order.total_cents),
        ));
    }
    let payment = Posting::new(TransactionKind::Payment, Some(order.id), format!("payment for order {}", order.id))
        .transfer(Account::External, Account::Escrow(order.id), order.total_cents)
        .by(actor.user_id)
        .reference(Some(order.payment_reference.clone()));
    ledger::post(conn, &payment, now).await?;
    let excess = amount_cents - order.total_cents;
    if excess > 0 {
        let overpayment = Posting::new(TransactionKind::Overpayment, Some(order.id), "paid beyond the total")
            .transfer(Account::External, Account::BuyerRefund(order.buyer_id), excess)
            .by(actor.user_id);
        ledger::post(conn, &overpayment, now).await?;
    }
    let settings = &ctx.settings;
    let ship_by = deadlines::ship_by(now, settings.ship_window, power_off_at(conn, order).await?);
    let ship_by = deadlines::within_agreed(ship_by, order.agreed_ship_by, now);
    let auto_refund_at = ship_by + settings.auto_refund_after_ship_deadline;
    let changes = OrderChanges {
        paid_at: Some(now),
        paid_amount_cents: Some(amount_cents),
        ship_by: Some(ship_by),
        auto_refund_at: Some(auto_refund_at),
        ..Default::default()
    };
    let updated = commit(conn, order, to, changes, Step { actor, reason: "paid", details }, now).await?;
    schedule::schedule_deadline(conn, order.id, Timer::ShipReminder, Timer::ShipDeadline, now, ship_by).await?;
    schedule::schedule_deadline(conn, order.id, Timer::AutoRefundReminder, Timer::AutoRefund, ship_by, auto_refund_at)
        .await?;
    Ok(updated)
}

pub struct Shipment {
    pub carrier: String,
    pub tracking_number: String,
    pub shipped_at: DateTime<Utc>,
    /// For a lot sold by serial: exactly the order's quantity of serials.
    pub serials: Option<Vec<String>>,
}

pub async fn ship(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    actor: Actor,
    shipment: Shipment,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let to = check(order, Move::Ship, actor)?;
    let shipped_serials = ship_units(conn, order, shipment.serials.as_deref(), now).await?;
    let auto_delivery_at = now + ctx.settings.auto_delivery_after;
    let mut details = json!({ "carrier": shipment.carrier, "tracking_number": shipment.tracking_number });
    if let Some(serials) = shipped_serials {
        details["serials"] = json!(serials);
    }
    let changes = OrderChanges {
        carrier: Some(shipment.carrier),
        tracking_number: Some(shipment.tracking_number),
        shipped_at: Some(shipment.shipped_at),
        auto_delivery_at: Some(auto_delivery_at),
        ..Default::default()
    };
    let updated = commit(conn, order, to, changes, Step { actor, reason: "shipped", details }, now).await?;
    schedule::schedule_deadline(conn, order.id, Timer::DeliveryReminder, Timer::AutoDelivery, now, auto_delivery_at)
        .await?;
    Ok(updated)
}

/// The units a shipment names, for a lot sold by serial (none otherwise).
async fn ship_units(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    serials: Option<&[String]>,
    now: DateTime<Utc>,
) -> Result<Option<Vec<String>>, ApiError> {
    let by_serial = units::allocation::has_units(conn, order.listing_id).await?;
    match (by_serial, serials) {
        (true, Some(serials)) => {
            Ok(Some(units::allocation::ship(conn, order.listing_id, order.id, order.quantity, serials, now).await?))
        }
        (true, None) => Err(ApiError::validation("serials", "name the serials shipped: the lot is sold by serial")),
        (false, Some(_)) => Err(ApiError::validation("serials", "the lot is not sold by serial")),
        (false, None) => Ok(None),
    }
}

/// Confirmed by the buyer, or automatically: the inspection window opens.
pub async fn deliver(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    mv: Move,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let to = check(order, mv, actor)?;
    let inspect_until = now + chrono::Duration::days(i64::from(order.inspection_days));
    let changes = OrderChanges { delivered_at: Some(now), inspect_until: Some(inspect_until), ..Default::default() };
    let reason = if mv == Move::AutoDeliver { "delivery_assumed" } else { "delivery_confirmed" };
    let updated = commit(conn, order, to, changes, Step { actor, reason, details: json!({}) }, now).await?;
    schedule::schedule_deadline(conn, order.id, Timer::InspectionReminder, Timer::InspectionEnd, now, inspect_until)
        .await?;
    Ok(updated)
}

/// Distributes the escrow as `split` says, in one ledger transaction.
pub(super) async fn post_closing(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    kind: TransactionKind,
    split: Split,
    actor: Actor,
    memo: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let escrow = Account::Escrow(order.id);
    let posting = Posting::new(kind, Some(order.id), memo)
        .transfer(escrow, Account::BuyerRefund(order.buyer_id), split.refund_cents)
        .transfer(escrow, Account::SellerPayable(order.seller_id), split.seller_credit_cents)
        .transfer(escrow, Account::PlatformFees, split.fee_cents)
        .by(actor.user_id);
    ledger::post(conn, &posting, now).await?;
    Ok(())
}

pub(super) fn closing_changes(split: Split, now: DateTime<Utc>) -> OrderChanges {
    OrderChanges {
        closed_at: Some(now),
        refund_cents: Some(split.refund_cents),
        seller_credit_cents: Some(split.seller_credit_cents),
        platform_fee_cents: Some(split.fee_cents),
        ..Default::default()
    }
}

/// Accepted by the buyer or at the end of inspection: the seller is paid.
pub async fn complete(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    mv: Move,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let to = check(order, mv, actor)?;
    if rejections::any_pending(conn, order.id).await? {
        return Err(ApiError::conflict(
            "unit_rejections_pending",
            "Unit rejections wait for the seller's answer; the order closes when the seller accepts or contests them.",
        ));
    }
    let split = money::split(order.total_cents, 0, order.fee_bps).expect("a zero refund always fits");
    post_closing(conn, order, TransactionKind::Release, split, actor, "released to the seller", now).await?;
    stock::mark_sold(conn, order.listing_id, order.quantity, now).await?;
    units::allocation::close_shipped(conn, order.id, UnitStatus::Accepted, now).await?;
    let reason = if mv == Move::AutoAccept { "inspection_ended" } else { "accepted" };
    let updated =
        commit(conn, order, to, closing_changes(split, now), Step { actor, reason, details: json!({}) }, now).await?;
    super::settled::record(conn, &updated, order.quantity, ctx.fire_sale_threshold_bps, now).await?;
    Ok(updated)
}

/// Closes the order returning everything: a refund when money is held, a plain
/// cancellation (or expiry) before payment. Units go back on sale unless they
/// were already shipped.
pub async fn close_without_sale(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    mv: Move,
    actor: Actor,
    reason: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let to = check(order, mv, actor)?;
    let from = order.status();
    let changes = if from.holds_funds() {
        let split = Split::full_refund(order.total_cents);
        post_closing(conn, order, TransactionKind::Refund, split, actor, "refunded to the buyer", now).await?;
        closing_changes(split, now)
    } else {
        OrderChanges { closed_at: Some(now), ..Default::default() }
    };
    if from.units_shipped() {
        stock::mark_sold(conn, order.listing_id, order.quantity, now).await?;
        // Refunded in full after shipping: the rigs never became the buyer's.
        units::allocation::close_shipped(conn, order.id, UnitStatus::WrittenOff, now).await?;
        rejections::decide_contested(conn, order.id, true, now).await?;
    } else {
        stock::release(conn, order.listing_id, order.quantity, now).await?;
        units::allocation::release(conn, order.id, now).await?;
    }
    commit(conn, order, to, changes, Step { actor, reason, details }, now).await
}

/// The buyer cancels: before payment, or once a paid order's ship deadline has
/// passed without a shipment (then for a full refund).
pub async fn cancel_by_buyer(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    check(order, Move::BuyerCancel, actor)?;
    if order.status() == OrderStatus::Paid && order.ship_by.is_none_or(|by| now < by) {
        return Err(ApiError::conflict(
            "ship_deadline_not_passed",
            "A paid order can be cancelled once its ship deadline has passed without a shipment.",
        ));
    }
    let reason =
        if order.status() == OrderStatus::Paid { "cancelled_after_missed_ship_deadline" } else { "cancelled_by_buyer" };
    close_without_sale(conn, order, Move::BuyerCancel, actor, reason, json!({}), now).await
}

pub struct DisputeOpening {
    pub reason: String,
    pub description: String,
}

pub async fn open_dispute(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    actor: Actor,
    dispute: DisputeOpening,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let to = check(order, Move::OpenDispute, actor)?;
    if order.status() == OrderStatus::Shipped && dispute.reason != "not_delivered" {
        return Err(ApiError::conflict(
            "dispute_reason_not_allowed",
            "Before delivery only `not_delivered` can be disputed; other reasons open during inspection.",
        ));
    }
    let changes = OrderChanges {
        disputed_at: Some(now),
        dispute_reason: Some(dispute.reason),
        dispute_description: Some(dispute.description),
        ..Default::default()
    };
    // Rejections still waiting for the seller become part of the dispute.
    rejections::set_status(conn, order.id, RejectionStatus::Pending, RejectionStatus::Contested, now).await?;
    commit(conn, order, to, changes, Step { actor, reason: "dispute_opened", details }, now).await
}

/// How a dispute ends: `refund_cents` back to the buyer, the rest to the seller.
pub struct Settlement {
    /// `AcceptOffer` (the buyer took the seller's offer) or `Resolve` (an admin decided).
    pub mv: Move,
    pub actor: Actor,
    pub refund_cents: i64,
    pub details: serde_json::Value,
}

pub async fn resolve(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    settlement: Settlement,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let Settlement { mv, actor, refund_cents, details } = settlement;
    let to = check(order, mv, actor)?;
    let split = money::split(order.total_cents, refund_cents, order.fee_bps).ok_or_else(|| {
        ApiError::validation("refund_cents", format!("must be between 0 and the escrowed {}", order.total_cents))
    })?;
    post_closing(conn, order, TransactionKind::Settlement, split, actor, "dispute settled", now).await?;
    stock::mark_sold(conn, order.listing_id, order.quantity, now).await?;
    // Contested unit rejections stand when the settlement refunds anything.
    let rejected = rejections::decide_contested(conn, order.id, split.refund_cents > 0, now).await?;
    units::acceptance::settle(conn, order.id, &rejected, now).await?;
    let reason = if mv == Move::AcceptOffer { "settlement_accepted" } else { "resolved_by_admin" };
    let updated = commit(conn, order, to, closing_changes(split, now), Step { actor, reason, details }, now).await?;
    if split.seller_credit_cents + split.fee_cents > 0 {
        let accepted_units = order.quantity - rejected.len() as i32;
        super::settled::record(conn, &updated, accepted_units, ctx.fire_sale_threshold_bps, now).await?;
    }
    Ok(updated)
}

/// An event that does not change the status (a missed deadline, an underpaid
/// invoice), with its emails when `notify` is set.
pub async fn note(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    actor: Actor,
    reason: &str,
    details: serde_json::Value,
    notify: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let status = order.status();
    let event = NewEvent { order_id: order.id, actor, from: Some(status), to: status, reason, details };
    queries::append_event(conn, event, now).await?;
    super::published::record(conn, order, Some(status), status, reason, now).await?;
    if notify {
        super::notify::transition(conn, order, reason, now).await?;
    }
    Ok(())
}
