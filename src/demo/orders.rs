//! Drives demo orders through the orders code itself: placed with
//! `orders::place` (under an Idempotency-Key derived from the seed, so a second
//! run replays instead of ordering again) on a clock set to the order's historic
//! time, then moved along by `orders::flow` with explicit timestamps, all in
//! the transaction of its lot (see `Seeder::lot`). Completions and resolutions record their settled price through
//! the flow, exactly as in production.

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;

use super::scenario::{OrderPlan, Outcome, Person};
use crate::accounts::AuthUser;
use crate::db::ids::{ListingId, OrderId, UserId};
use crate::error::ApiError;
use crate::idempotency::{self, KeyUse};
use crate::orders::flow::{self, DisputeOpening, Settlement, Shipment};
use crate::orders::input::PlaceOrder;
use crate::orders::model::{OrderRow, PaymentMethod, ShippingAddress};
use crate::orders::place::{self, Placed};
use crate::orders::queries::{self, Actor};
use crate::orders::state::{ActorRole, Move};
use crate::orders::OrderContext;

pub struct Parties<'a> {
    pub buyer: &'a AuthUser,
    pub buyer_person: &'a Person,
    pub seller_id: UserId,
    pub admin_id: UserId,
}

fn address(person: &Person) -> ShippingAddress {
    ShippingAddress {
        name: person.display_name.clone(),
        line1: "1 Substation Road".into(),
        line2: None,
        city: person.city.into(),
        postal_code: "100001".into(),
        country: person.country.into(),
        phone: "+1 512 555 0100".into(),
    }
}

/// Places one order by wire under the idempotency key `key` at `placed_at`, in
/// the caller's transaction; `None` when the key was already used (the order
/// exists from an earlier run) or the lot could not take it.
pub async fn place_only(
    conn: &mut AsyncPgConnection,
    ctx: &OrderContext,
    listing_id: ListingId,
    key: &str,
    quantity: i32,
    placed_at: DateTime<Utc>,
    parties: &Parties<'_>,
) -> anyhow::Result<Option<OrderRow>> {
    let body = PlaceOrder {
        listing_id,
        quantity,
        payment_method: PaymentMethod::Wire,
        shipping_address: address(parties.buyer_person),
    }
    .normalized();
    let hash = idempotency::request_hash(place::ROUTE, &body);
    let key_use = KeyUse { user: parties.buyer.id(), key, request_hash: &hash };
    match place::place(ctx, conn, parties.buyer, key_use, &body, placed_at).await {
        Ok(Placed::New { order, .. }) => Ok(Some(*order)),
        Ok(Placed::Replayed(_)) => Ok(None),
        // A lot that sold out or closed earlier in the scenario simply takes no more orders.
        Err(ApiError::Conflict { code, .. }) => {
            tracing::debug!(order.key = %key, code, "demo order refused");
            Ok(None)
        }
        Err(other) => Err(anyhow::anyhow!("placing demo order {key}: {other}")),
    }
}

/// Places and progresses one order in the caller's transaction (see
/// `Seeder::lot` for why it is the lot's); `None` as [`place_only`] says.
pub async fn run(
    conn: &mut AsyncPgConnection,
    ctx: &OrderContext,
    listing_id: ListingId,
    plan: &OrderPlan,
    parties: &Parties<'_>,
) -> anyhow::Result<Option<OrderRow>> {
    let Some(order) = place_only(conn, ctx, listing_id, &plan.key, plan.quantity, plan.placed_at, parties).await?
    else {
        return Ok(None);
    };
    let order = progress(ctx, conn, order.id, plan, parties)
        .await
        .map_err(|err| anyhow::anyhow!("moving demo order {}: {err}", plan.key))?;
    Ok(Some(order))
}

/// The actors of one demo order.
struct Actors {
    buyer: Actor,
    seller: Actor,
    admin: Actor,
}

/// Moves a placed order along its plan, each step at its historic time.
async fn progress(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    plan: &OrderPlan,
    parties: &Parties<'_>,
) -> Result<OrderRow, ApiError> {
    let actors = Actors {
        buyer: Actor::user(ActorRole::Buyer, parties.buyer.id()),
        seller: Actor::user(ActorRole::Seller, parties.seller_id),
        admin: Actor::user(ActorRole::Admin, parties.admin_id),
    };
    let order = queries::lock(conn, order_id).await?.ok_or_else(crate::orders::order_not_found)?;
    let [pay_after, ship_after, deliver_after, last_after] = plan.step_hours.map(Duration::hours);
    let mut at: DateTime<Utc> = plan.placed_at + pay_after;
    if matches!(plan.outcome, Outcome::AwaitingPayment | Outcome::Cancelled | Outcome::Expired) {
        return close_unpaid(conn, order, plan.outcome, &actors, at).await;
    }
    let wire = json!({ "method": "wire", "reference": order.payment_reference });
    let mut order = flow::pay(ctx, conn, &order, actors.admin, order.total_cents, wire, at).await?;
    match plan.outcome {
        Outcome::Paid => return Ok(order),
        Outcome::Refunded => {
            let at = order.auto_refund_at.unwrap_or(at + Duration::days(14));
            let details = json!({ "ship_by": order.ship_by });
            let system = Actor::system();
            return flow::close_without_sale(
                conn,
                &order,
                Move::AutoRefund,
                system,
                "not_shipped_in_time",
                details,
                at,
            )
            .await;
        }
        _ => {}
    }
    at += ship_after;
    let shipment = Shipment {
        carrier: "DHL Global Forwarding".into(),
        tracking_number: format!("DGF{}", &order.id.0.simple().to_string()[..12].to_uppercase()),
        shipped_at: at,
        serials: None,
    };
    order = flow::ship(ctx, conn, &order, actors.seller, shipment, at).await?;
    if plan.outcome == Outcome::Shipped {
        return Ok(order);
    }
    at += deliver_after;
    order = flow::deliver(conn, &order, Move::ConfirmDelivery, actors.buyer, at).await?;
    close_delivered(ctx, conn, order, plan.outcome, &actors, at + last_after).await
}

/// An order that is never paid: left waiting, cancelled by its buyer, or expired.
async fn close_unpaid(
    conn: &mut AsyncPgConnection,
    order: OrderRow,
    outcome: Outcome,
    actors: &Actors,
    at: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    match outcome {
        Outcome::Cancelled => {
            let reason = "cancelled_by_buyer";
            flow::close_without_sale(conn, &order, Move::BuyerCancel, actors.buyer, reason, json!({}), at).await
        }
        Outcome::Expired => {
            let (system, at) = (Actor::system(), order.pay_by);
            flow::close_without_sale(conn, &order, Move::Expire, system, "payment_deadline_passed", json!({}), at).await
        }
        _ => Ok(order),
    }
}

/// A delivered order: left in inspection, accepted, or disputed (and perhaps
/// resolved by an admin three days later).
async fn close_delivered(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: OrderRow,
    outcome: Outcome,
    actors: &Actors,
    at: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    match outcome {
        Outcome::Completed => flow::complete(ctx, conn, &order, Move::Accept, actors.buyer, at).await,
        Outcome::Disputed | Outcome::Resolved { .. } => {
            let dispute = DisputeOpening {
                reason: "hashrate_shortfall".into(),
                description: "Several units hash well below spec on arrival; the delivery proof shows the gap.".into(),
            };
            let order = flow::open_dispute(conn, &order, actors.buyer, dispute, json!({}), at).await?;
            let Outcome::Resolved { refund_bps } = outcome else { return Ok(order) };
            let refund_cents = order.total_cents * refund_bps / 10_000;
            let details = json!({ "note": "partial refund" });
            let settlement = Settlement { mv: Move::Resolve, actor: actors.admin, refund_cents, details };
            flow::resolve(ctx, conn, &order, settlement, at + Duration::days(3)).await
        }
        _ => Ok(order),
    }
}
