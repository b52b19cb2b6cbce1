//! Acceptance by unit: during inspection the buyer rejects units of a lot sold
//! by serial; the seller accepts (the order closes: the units beyond the DOA
//! allowance refunded, the rest released less the fee, every unit accepted or
//! rejected, in one transaction) or contests (a dispute opens with the
//! rejections as its evidence). No answer within 72 h counts as acceptance.
//! Afterwards rejected units are returned by the buyer or written off by the
//! seller. Each function runs in the caller's transaction on a locked order.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;
use uuid::Uuid;

use super::context::OrderContext;
use super::flow::{self, Step};
use super::messages::MAX_EVIDENCE_PER_MESSAGE;
use super::model::{OrderChanges, OrderRow};
use super::money;
use super::queries::Actor;
use super::rejection_rules::{
    allowance_units, refund_owed_cents, refunded_units, RejectionReason, RejectionStatus, ANSWER_WINDOW,
    MAX_NOTE_CHARS, MAX_REJECTIONS_PER_REQUEST,
};
use super::rejections::{self, NewRejection, RejectUnits, RejectionSummary};
use super::schedule::{self, Timer};
use super::state::{ActorRole, Move, OrderStatus};
use crate::error::ApiError;
use crate::events::EventKind;
use crate::ledger::TransactionKind;
use crate::listings::stock;
use crate::units::acceptance::{self as unit_acceptance, OrderUnitRef};
use crate::units::model::UnitStatus;
use crate::units::rules::normalised_serials;
use crate::validation::Problems;

/// The order's rejections with what accepting them would refund.
pub async fn summary(conn: &mut AsyncPgConnection, order: &OrderRow) -> Result<RejectionSummary, ApiError> {
    let items = rejections::of_order(conn, order.id).await?;
    let rejected = counted(&items);
    let pending = items.iter().any(|r| r.status == RejectionStatus::Pending);
    Ok(RejectionSummary {
        items,
        quantity: order.quantity,
        doa_allowance_pct: order.doa_allowance_pct,
        allowance_units: allowance_units(order.doa_allowance_pct, order.quantity),
        rejected_units: rejected,
        refunded_units: refunded_units(rejected, order.doa_allowance_pct, order.quantity),
        refund_cents: refund_owed_cents(
            order.unit_price_cents,
            rejected,
            order.doa_allowance_pct,
            order.quantity,
            order.total_cents,
        ),
        answer_by: order.rejections_answer_by.filter(|_| pending),
    })
}

/// Rejections that stand or may still stand (pending, accepted, upheld).
fn counted(items: &[rejections::UnitRejection]) -> i64 {
    items
        .iter()
        .filter(|r| matches!(r.status, RejectionStatus::Pending | RejectionStatus::Accepted | RejectionStatus::Upheld))
        .count() as i64
}

fn only(actor: Actor, role: ActorRole, what: &str) -> Result<(), ApiError> {
    if actor.role == role {
        Ok(())
    } else {
        Err(ApiError::forbidden("order_action_forbidden", format!("Only the {} can {what}.", role.as_str())))
    }
}

fn check_items(body: &RejectUnits) -> Result<(), ApiError> {
    let mut problems = Problems::default();
    if body.items.is_empty() || body.items.len() > MAX_REJECTIONS_PER_REQUEST {
        problems.add("items", format!("name 1 to {MAX_REJECTIONS_PER_REQUEST} units"));
    }
    for (i, item) in body.items.iter().enumerate() {
        let note = item.note.trim();
        if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS {
            problems.add(format!("items[{i}].note"), format!("describe the fault in 1 to {MAX_NOTE_CHARS} characters"));
        }
        if item.evidence_ids.len() > MAX_EVIDENCE_PER_MESSAGE {
            problems.add(format!("items[{i}].evidence_ids"), format!("at most {MAX_EVIDENCE_PER_MESSAGE} files"));
        }
        if item.reason == RejectionReason::UnderHashrate && item.proof_id.is_none() {
            problems.add(format!("items[{i}].proof_id"), "an under_hashrate rejection cites a delivery proof");
        }
    }
    problems.into_result()
}

/// The buyer rejects units during inspection. Rejections add up across calls;
/// each call gives the seller a fresh 72 h to answer.
pub async fn reject(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    actor: Actor,
    body: &RejectUnits,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    only(actor, ActorRole::Buyer, "reject units")?;
    if order.status() != OrderStatus::Delivered || order.inspect_until.is_none_or(|until| now >= until) {
        return Err(ApiError::conflict(
            "inspection_over",
            "Units can be rejected only during the inspection of a delivered order.",
        ));
    }
    check_items(body)?;
    if !crate::units::allocation::has_units(conn, order.listing_id).await? {
        return Err(ApiError::conflict("not_sold_by_serial", "Only units of a lot sold by serial can be rejected."));
    }
    let serials =
        normalised_serials(|i| format!("items[{i}].serial"), body.items.iter().map(|item| item.serial.as_str()))?;
    let units = unit_acceptance::of_order(conn, order.id, &serials).await?;
    let earlier = rejections::of_order(conn, order.id).await?;
    let twice: Vec<&str> =
        units.iter().filter(|u| earlier.iter().any(|r| r.unit_id == u.id)).map(|u| u.serial.as_str()).collect();
    if !twice.is_empty() {
        return Err(ApiError::conflict(
            "unit_already_rejected",
            format!("Already rejected on this order: {}.", twice.join(", ")),
        ));
    }
    unit_acceptance::require_status(&units, UnitStatus::Shipped, "unit_not_rejectable")?;
    check_evidence(conn, order, body).await?;
    for (item, unit) in body.items.iter().zip(&units) {
        if let Some(proof_id) = item.proof_id.filter(|_| item.reason == RejectionReason::UnderHashrate) {
            check_shortfall(conn, order, proof_id, unit).await?;
        }
    }
    let rows: Vec<NewRejection> = body
        .items
        .iter()
        .zip(&units)
        .map(|(item, unit)| NewRejection { order_id: order.id, unit_id: unit.id, item, serial: &unit.serial })
        .collect();
    rejections::insert(conn, &rows, now).await?;
    let answer_by = now + ANSWER_WINDOW;
    let changes = OrderChanges { rejections_answer_by: Some(answer_by), ..Default::default() };
    let updated = super::queries::update_status(conn, order.id, order.status(), changes, now).await?;
    let listed: Vec<_> = body
        .items
        .iter()
        .zip(&units)
        .map(|(item, unit)| json!({ "serial": unit.serial, "reason": item.reason, "note": item.note.trim() }))
        .collect();
    let details = json!({ "units": listed, "answer_by": answer_by });
    flow::note(conn, &updated, actor, "units_rejected", details.clone(), false, now).await?;
    let parties = [order.buyer_id, order.seller_id];
    let data = json!({ "order_id": order.id, "rejected": listed, "answer_by": answer_by });
    crate::events::record(conn, EventKind::UnitRejected, order.id, &parties, data, now).await?;
    let rejected = counted(&earlier) + units.len() as i64;
    let owed =
        refund_owed_cents(order.unit_price_cents, rejected, order.doa_allowance_pct, order.quantity, order.total_cents);
    let text = format!(
        "The buyer rejected {} unit(s): {}. Rejected units beyond the {} % DOA allowance are refunded at the unit \
         price ({} now). Accept or contest by {}; without an answer the rejections count as accepted.",
        units.len(),
        serials.join(", "),
        order.doa_allowance_pct,
        super::notify::money(owed),
        answer_by.format("%Y-%m-%d %H:%M UTC"),
    );
    super::notify::tell(conn, &updated, ActorRole::Seller, "units rejected", &text, now).await?;
    schedule::schedule_deadline(conn, order.id, Timer::RejectionAnswerReminder, Timer::RejectionAnswer, now, answer_by)
        .await?;
    Ok(updated)
}

/// Every evidence id must be a completed upload of this order (one query).
async fn check_evidence(conn: &mut AsyncPgConnection, order: &OrderRow, body: &RejectUnits) -> Result<(), ApiError> {
    let all: Vec<Uuid> = body.items.iter().flat_map(|item| item.evidence_ids.iter().copied()).collect();
    let attached = super::messages::attached_evidence(conn, order.id, &all).await?;
    let mut problems = Problems::default();
    for (i, item) in body.items.iter().enumerate() {
        for (j, id) in item.evidence_ids.iter().enumerate() {
            if !attached.contains(id) {
                problems.add(format!("items[{i}].evidence_ids[{j}]"), "is not a completed upload of this order");
            }
        }
    }
    problems.into_result()
}

/// An `under_hashrate` rejection stands on a decided delivery proof of this
/// order whose per-unit verdict puts the unit under 90 %.
async fn check_shortfall(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    proof_id: Uuid,
    unit: &OrderUnitRef,
) -> Result<(), ApiError> {
    let verdict = crate::proofs::by_unit::verdict_of(conn, crate::db::ids::ProofId(proof_id), &unit.serial).await?;
    match verdict {
        Some(v) if v.order_id == Some(order.id) && v.status == Some(crate::proofs::by_unit::UnitVerdict::Under90) => {
            Ok(())
        }
        _ => Err(ApiError::unprocessable(
            "proof_does_not_show_shortfall",
            format!(
                "Proof {proof_id} is not a decided delivery proof of this order that measured {} under 90 %.",
                unit.serial
            ),
        )),
    }
}

fn pending_ids(items: &[rejections::UnitRejection], status: RejectionStatus) -> Vec<Uuid> {
    items.iter().filter(|r| r.status == status).map(|r| r.unit_id).collect()
}

/// The seller accepts the pending rejections (or the answer deadline passed:
/// `actor` is the system). The order completes in one transaction.
pub async fn accept(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let to = flow::check(order, Move::AcceptRejections, actor)?;
    let items = rejections::of_order(conn, order.id).await?;
    let rejected = pending_ids(&items, RejectionStatus::Pending);
    if rejected.is_empty() {
        return Err(ApiError::conflict("no_pending_rejections", "The order has no rejections waiting for an answer."));
    }
    let refund = refund_owed_cents(
        order.unit_price_cents,
        rejected.len() as i64,
        order.doa_allowance_pct,
        order.quantity,
        order.total_cents,
    );
    let split = money::split(order.total_cents, refund, order.fee_bps).expect("the refund is capped at the escrow");
    let memo = "settled by unit: rejected units beyond the DOA allowance refunded";
    flow::post_closing(conn, order, TransactionKind::Settlement, split, actor, memo, now).await?;
    stock::mark_sold(conn, order.listing_id, order.quantity, now).await?;
    unit_acceptance::settle(conn, order.id, &rejected, now).await?;
    rejections::set_status(conn, order.id, RejectionStatus::Pending, RejectionStatus::Accepted, now).await?;
    let reason =
        if actor.role == ActorRole::System { "rejections_answer_deadline_passed" } else { "rejections_accepted" };
    let details = json!({ "rejected_units": rejected.len(), "refund_cents": refund });
    let step = Step { actor, reason, details };
    let updated = flow::commit(conn, order, to, flow::closing_changes(split, now), step, now).await?;
    let accepted_units = order.quantity - rejected.len() as i32;
    super::settled::record(conn, &updated, accepted_units, ctx.fire_sale_threshold_bps, now).await?;
    Ok(updated)
}

/// The seller contests the pending rejections: a dispute opens, with the
/// rejections (and their evidence) as its first message.
pub async fn contest(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    actor: Actor,
    reason_text: &str,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let to = flow::check(order, Move::ContestRejections, actor)?;
    let reason_text = reason_text.trim();
    if reason_text.is_empty() || reason_text.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::validation("reason", format!("explain in 1 to {MAX_NOTE_CHARS} characters")));
    }
    let items = rejections::of_order(conn, order.id).await?;
    let pending: Vec<_> = items.iter().filter(|r| r.status == RejectionStatus::Pending).collect();
    if pending.is_empty() {
        return Err(ApiError::conflict("no_pending_rejections", "The order has no rejections waiting for an answer."));
    }
    let listing: Vec<String> = pending.iter().map(|r| format!("- {} ({}): {}", r.serial, r.reason, r.note)).collect();
    let description = format!("The seller contests {} unit rejection(s): {reason_text}", pending.len());
    let body = format!("{description}\n\nRejected units:\n{}", listing.join("\n"));
    let evidence: Vec<Uuid> = pending.iter().flat_map(|r| r.evidence_ids.iter().copied()).collect();
    let changes = OrderChanges {
        disputed_at: Some(now),
        dispute_reason: Some("unit_rejections_contested".to_string()),
        dispute_description: Some(description),
        ..Default::default()
    };
    let details = json!({ "rejections": pending.iter().map(|r| r.id).collect::<Vec<_>>() });
    let step = Step { actor, reason: "rejections_contested", details };
    let updated = flow::commit(conn, order, to, changes, step, now).await?;
    rejections::set_status(conn, order.id, RejectionStatus::Pending, RejectionStatus::Contested, now).await?;
    super::messages::insert(conn, order.id, actor, &body, &evidence, now).await?;
    Ok(updated)
}

/// What the buyer's rejected units became after the order closed.
pub enum Aftermath<'a> {
    /// The buyer ships them back.
    Returned { carrier: &'a str, tracking_number: &'a str },
    /// The seller does not want them back.
    WrittenOff,
}

/// Returns (buyer) or writes off (seller) rejected units of a closed order.
pub async fn dispose(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    actor: Actor,
    serials: &[String],
    aftermath: Aftermath<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, ApiError> {
    let (role, what, kind, reason) = match aftermath {
        Aftermath::Returned { .. } => (ActorRole::Buyer, "return units", EventKind::UnitReturned, "units_returned"),
        Aftermath::WrittenOff => (ActorRole::Seller, "write units off", EventKind::UnitWrittenOff, "units_written_off"),
    };
    only(actor, role, what)?;
    if !matches!(order.status(), OrderStatus::Completed | OrderStatus::Resolved) {
        return Err(ApiError::conflict("invalid_order_status", "Rejected units are dealt with once the order closed."));
    }
    let serials = normalised_serials(|i| format!("serials[{i}]"), serials.iter().map(String::as_str))?;
    if serials.is_empty() {
        return Err(ApiError::validation("serials", "name at least one rejected unit"));
    }
    let units = unit_acceptance::of_order(conn, order.id, &serials).await?;
    unit_acceptance::require_status(&units, UnitStatus::Rejected, "unit_not_rejected")?;
    let ids: Vec<Uuid> = units.iter().map(|u| u.id).collect();
    let mut details = json!({ "serials": serials });
    match aftermath {
        Aftermath::Returned { carrier, tracking_number } => {
            unit_acceptance::mark_returned(conn, &ids, carrier, tracking_number, now).await?;
            details["carrier"] = json!(carrier);
            details["tracking_number"] = json!(tracking_number);
        }
        Aftermath::WrittenOff => {
            unit_acceptance::write_off(conn, &ids, now).await?;
        }
    }
    flow::note(conn, order, actor, reason, details.clone(), false, now).await?;
    details["order_id"] = json!(order.id);
    crate::events::record(conn, kind, order.id, &[order.buyer_id, order.seller_id], details, now).await?;
    Ok(serials)
}
