//! Disputes: the buyer opens one (with evidence) during inspection or for
//! non-delivery; the seller may offer a partial refund that the buyer accepts;
//! an admin may resolve with any split. A delivery proof that falls short opens
//! one by itself, or is added to the open one.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::context::OrderContext;
use super::flow::{self, DisputeOpening, Settlement};
use super::messages;
use super::model::OrderRow;
use super::queries::{self, Actor};
use super::state::{ActorRole, Move, OrderStatus};
use crate::db::ids::{OrderId, SettlementOfferId, UserId};
use crate::db::schema::settlement_offers;
use crate::db::text_enum;
use crate::error::ApiError;
use crate::proofs::DeliveryShortfall;

text_enum! {
    /// A settlement offer: open, taken, replaced by a newer one, or void once an
    /// admin decided the dispute.
    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum OfferStatus {
        Open = "open",
        Accepted = "accepted",
        Superseded = "superseded",
        Void = "void",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = settlement_offers)]
#[schema(example = json!({
    "id": "0192f9d0-4e5f-7a6b-8c7d-9e0f1a2b3c4d", "order_id": "0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72",
    "offered_by": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "refund_cents": 285000,
    "message": "I refund the three units with a dead board at the unit price.", "status": "accepted",
    "created_at": "2026-06-02T18:30:00Z", "decided_at": "2026-06-03T08:05:00Z"
}))]
pub struct SettlementOffer {
    #[schema(value_type = uuid::Uuid)]
    pub id: SettlementOfferId,
    #[schema(value_type = uuid::Uuid)]
    pub order_id: OrderId,
    #[schema(value_type = uuid::Uuid)]
    pub offered_by: UserId,
    /// Back to the buyer; the rest of the escrow goes to the seller less the fee.
    pub refund_cents: i64,
    pub message: String,
    /// `open`, `accepted`, `superseded` (a newer offer replaced it) or `void` (an admin decided).
    #[schema(value_type = String, example = "open")]
    pub status: OfferStatus,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

pub async fn open(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    actor: Actor,
    dispute: DisputeOpening,
    evidence_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    flow::check(order, Move::OpenDispute, actor)?;
    messages::check_evidence(conn, order.id, evidence_ids).await?;
    let body = format!("Dispute opened ({}): {}", dispute.reason, dispute.description);
    let details = json!({ "reason": dispute.reason, "evidence_ids": evidence_ids });
    let updated = flow::open_dispute(conn, order, actor, dispute, details, now).await?;
    messages::insert(conn, order.id, actor, &body, evidence_ids, now).await?;
    Ok(updated)
}

pub async fn close_open_offers(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    status: OfferStatus,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        settlement_offers::table
            .filter(settlement_offers::order_id.eq(order_id))
            .filter(settlement_offers::status.eq(OfferStatus::Open)),
    )
    .set((settlement_offers::status.eq(status), settlement_offers::decided_at.eq(now)))
    .execute(conn)
    .await
}

/// The seller offers `refund_cents`; it replaces any earlier open offer.
pub async fn offer(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    seller: UserId,
    refund_cents: i64,
    message: &str,
    now: DateTime<Utc>,
) -> Result<SettlementOffer, ApiError> {
    if order.status() != OrderStatus::Disputed {
        return Err(ApiError::conflict("invalid_order_status", "Settlement offers are made on disputed orders."));
    }
    if !(1..=order.total_cents).contains(&refund_cents) {
        return Err(ApiError::validation("refund_cents", format!("must be between 1 and {}", order.total_cents)));
    }
    close_open_offers(conn, order.id, OfferStatus::Superseded, now).await?;
    let offer: SettlementOffer = diesel::insert_into(settlement_offers::table)
        .values((
            settlement_offers::id.eq(Uuid::now_v7()),
            settlement_offers::order_id.eq(order.id),
            settlement_offers::offered_by.eq(seller),
            settlement_offers::refund_cents.eq(refund_cents),
            settlement_offers::message.eq(message),
            settlement_offers::status.eq(OfferStatus::Open),
            settlement_offers::created_at.eq(now),
        ))
        .returning(SettlementOffer::as_returning())
        .get_result(conn)
        .await?;
    let actor = Actor::user(ActorRole::Seller, seller);
    let details = json!({ "offer_id": offer.id, "refund_cents": refund_cents });
    flow::note(conn, order, actor, "settlement_offered", details, false, now).await?;
    messages::insert(
        conn,
        order.id,
        actor,
        &format!("Settlement offer: refund {refund_cents} cents. {message}"),
        &[],
        now,
    )
    .await?;
    let text = format!("The seller offers to refund {refund_cents} cents to settle the dispute: {message}");
    super::notify::tell(conn, order, ActorRole::Buyer, "settlement offer", &text, now).await?;
    Ok(offer)
}

pub async fn accept_offer(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    buyer: UserId,
    offer_id: SettlementOfferId,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let actor = Actor::user(ActorRole::Buyer, buyer);
    flow::check(order, Move::AcceptOffer, actor)?;
    let offer: SettlementOffer = settlement_offers::table
        .find(offer_id)
        .filter(settlement_offers::order_id.eq(order.id))
        .select(SettlementOffer::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::not_found("offer_not_found", "This order has no such settlement offer."))?;
    if offer.status != OfferStatus::Open {
        return Err(ApiError::conflict("offer_not_open", format!("This offer is {}.", offer.status)));
    }
    diesel::update(settlement_offers::table.find(offer.id))
        .set((settlement_offers::status.eq(OfferStatus::Accepted), settlement_offers::decided_at.eq(now)))
        .execute(conn)
        .await?;
    let details = json!({ "offer_id": offer.id });
    flow::resolve(
        ctx,
        conn,
        order,
        Settlement { mv: Move::AcceptOffer, actor, refund_cents: offer.refund_cents, details },
        now,
    )
    .await
}

pub async fn resolve_by_admin(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    admin: UserId,
    refund_cents: i64,
    note: &str,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let actor = Actor::user(ActorRole::Admin, admin);
    flow::check(order, Move::Resolve, actor)?;
    close_open_offers(conn, order.id, OfferStatus::Void, now).await?;
    let details = json!({ "refund_cents": refund_cents, "note": note });
    let settlement = Settlement { mv: Move::Resolve, actor, refund_cents, details };
    let resolved = flow::resolve(ctx, conn, order, settlement, now).await?;
    messages::insert(conn, order.id, actor, &format!("Resolved by an administrator: {note}"), &[], now).await?;
    Ok(resolved)
}

/// The order's offers oldest first, from after the offer keyed `after`
/// (`created_at`, `id`), at most `limit`.
pub async fn offers(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    after: Option<(DateTime<Utc>, SettlementOfferId)>,
    limit: i64,
) -> QueryResult<Vec<SettlementOffer>> {
    let mut query = settlement_offers::table.filter(settlement_offers::order_id.eq(order_id)).into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            settlement_offers::created_at
                .gt(at)
                .or(settlement_offers::created_at.eq(at).and(settlement_offers::id.gt(id))),
        );
    }
    query
        .order((settlement_offers::created_at.asc(), settlement_offers::id.asc()))
        .limit(limit)
        .select(SettlementOffer::as_select())
        .load(conn)
        .await
}

/// A delivery proof ended with its interval's upper bound below the tolerance:
/// it opens a `hashrate_shortfall` dispute during inspection, or joins the open
/// dispute. Called from the proof's verdict job, in its transaction.
pub async fn record_shortfall(
    conn: &mut AsyncPgConnection,
    shortfall: &DeliveryShortfall,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let DeliveryShortfall { order_id, proof_id, summary } = shortfall;
    let summary = summary.as_str();
    let Some(order) = queries::lock(conn, *order_id).await? else { return Ok(()) };
    let details = json!({ "proof_id": proof_id, "summary": summary });
    match order.status() {
        OrderStatus::Delivered => {
            let dispute = DisputeOpening {
                reason: super::input::DisputeReason::HashrateShortfall.as_str().to_string(),
                description: summary.to_string(),
            };
            flow::open_dispute(conn, &order, Actor::system(), dispute, details, now).await?;
        }
        OrderStatus::Disputed => {
            flow::note(conn, &order, Actor::system(), "delivery_proof_attached", details, true, now).await?;
        }
        _ => return Ok(()),
    }
    let body = format!("Delivery hashrate proof {proof_id}: {summary}");
    messages::insert(conn, order.id, Actor::system(), &body, &[], now).await?;
    Ok(())
}
