//! What buyers and sellers do to an order: cancel, ship, confirm delivery,
//! accept, dispute, offer and accept settlements, run a delivery proof, review.
//! Each runs in one transaction on the locked order and answers the result.

use actix_web::{get, post, web, HttpResponse};
use diesel_async::AsyncConnection;

use crate::accounts::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::orders::access::{find_for, lock_for};
use crate::orders::disputes::{self, SettlementOffer};
use crate::orders::flow::{self, DisputeOpening, Shipment};
use crate::orders::input::{OpenDispute, SettlementOfferInput, ShipOrder};
use crate::orders::model::OrderView;
use crate::validation::check_text;

use crate::db::ids::{OrderId, SettlementOfferId};
use crate::http::pagination::{page_from, Page, PageParams};
use crate::orders::delivery_proof;
use crate::orders::reviews::{self, NewReview, Review};
use crate::orders::state::{ActorRole, Move};
use crate::orders::OrderContext;
use crate::proofs::ProofTicket;
use crate::state::AppState;

use super::render::party_move;

crate::http::problems::problems!(CancelProblems {
    403: order_action_forbidden,
    404: order_not_found,
    409: invalid_order_status | ship_deadline_not_passed,
});

/// Cancel as the buyer: before payment, or for a full refund once the ship
/// deadline has passed without a shipment.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = OrderView),
        CancelProblems,
    )
)]
#[post("/orders/{id}/cancel")]
async fn cancel(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<web::Json<OrderView>> {
    party_move(&state, &orders, &user, *id, async |conn, order, actor, now| {
        flow::cancel_by_buyer(conn, order, actor, now).await
    })
    .await
}

crate::http::problems::problems!(ShipProblems {
    403: order_action_forbidden,
    404: order_not_found,
    409: invalid_order_status | unit_not_allocatable,
    422: validation_failed,
});

/// Ship as the seller, with the carrier and tracking number.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = ShipOrder,
    responses(
        (status = 200, body = OrderView),
        ShipProblems,
    )
)]
#[post("/orders/{id}/ship")]
async fn ship(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<ShipOrder>,
) -> ApiResult<web::Json<OrderView>> {
    let body = body.into_inner();
    party_move(&state, &orders, &user, *id, async |conn, order, actor, now| {
        flow::check(order, Move::Ship, actor)?;
        body.validate(order.paid_at, now).into_result()?;
        let shipment = Shipment {
            carrier: body.carrier.trim().to_string(),
            tracking_number: body.tracking_number.trim().to_string(),
            shipped_at: body.shipped_at.unwrap_or(now),
            serials: body.serials.clone(),
        };
        flow::ship(&orders, conn, order, actor, shipment, now).await
    })
    .await
}

crate::http::problems::problems!(ConfirmDeliveryProblems {
    403: order_action_forbidden,
    404: order_not_found,
    409: invalid_order_status,
});

/// Confirm delivery as the buyer: the inspection window starts.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = OrderView),
        ConfirmDeliveryProblems,
    )
)]
#[post("/orders/{id}/confirm-delivery")]
async fn confirm_delivery(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<web::Json<OrderView>> {
    party_move(&state, &orders, &user, *id, async |conn, order, actor, now| {
        flow::deliver(conn, order, Move::ConfirmDelivery, actor, now).await
    })
    .await
}

crate::http::problems::problems!(AcceptProblems {
    403: order_action_forbidden,
    404: order_not_found,
    409: invalid_order_status | unit_rejections_pending,
});

/// Accept the rigs as the buyer: the escrow is released to the seller.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = OrderView),
        AcceptProblems,
    )
)]
#[post("/orders/{id}/accept")]
async fn accept(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<web::Json<OrderView>> {
    party_move(&state, &orders, &user, *id, async |conn, order, actor, now| {
        flow::complete(&orders, conn, order, Move::Accept, actor, now).await
    })
    .await
}

crate::http::problems::problems!(OpenDisputeProblems {
    403: order_action_forbidden,
    404: order_not_found,
    409: dispute_reason_not_allowed | invalid_order_status,
    422: validation_failed,
});

/// Open a dispute as the buyer: during inspection, or for non-delivery once shipped.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = OpenDispute,
    responses(
        (status = 200, body = OrderView),
        OpenDisputeProblems,
    )
)]
#[post("/orders/{id}/disputes")]
async fn open_dispute(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<OpenDispute>,
) -> ApiResult<web::Json<OrderView>> {
    let body = body.into_inner();
    check_text("description", &body.description, 5000)?;
    party_move(&state, &orders, &user, *id, async |conn, order, actor, now| {
        let opening = DisputeOpening {
            reason: body.reason.as_str().to_string(),
            description: body.description.trim().to_string(),
        };
        disputes::open(conn, order, actor, opening, &body.evidence_ids, now).await
    })
    .await
}

crate::http::problems::problems!(OfferSettlementProblems {
    403: order_action_forbidden,
    404: order_not_found,
    409: invalid_order_status,
    422: validation_failed,
});

/// Offer a partial refund as the seller (replaces an earlier open offer).
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = SettlementOfferInput,
    responses(
        (status = 201, body = SettlementOffer),
        OfferSettlementProblems,
    )
)]
#[post("/orders/{id}/settlement-offers")]
async fn offer_settlement(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<SettlementOfferInput>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    check_text("message", &body.message, 2000)?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let offer = conn
        .transaction(async |conn| {
            let (order, actor) = lock_for(conn, *id, &user).await?;
            if actor.role != ActorRole::Seller {
                return Err(ApiError::forbidden("order_action_forbidden", "Only the seller can offer a settlement."));
            }
            disputes::offer(conn, &order, user.id(), body.refund_cents, body.message.trim(), now).await
        })
        .await?;
    Ok(HttpResponse::Created().json(offer))
}

crate::http::problems::problems!(ListOffersProblems { 404: order_not_found });

/// The settlement offers made on an order, oldest first.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), PageParams),
    responses(
        (status = 200, body = inline(Page<SettlementOffer>)),
        ListOffersProblems,
    )
)]
#[get("/orders/{id}/settlement-offers")]
async fn list_offers(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<OrderId>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<SettlementOffer>>> {
    let limit = page.limit()?;
    let after = page.cursor()?;
    let mut conn = state.pool.get().await?;
    let (order, _) = find_for(&mut conn, *id, &user).await?;
    let rows = disputes::offers(&mut conn, order.id, after, limit + 1).await?;
    let (items, next_cursor) = page_from(rows, limit, |offer| (offer.created_at, offer.id));
    Ok(web::Json(Page { items, next_cursor }))
}

crate::http::problems::problems!(AcceptOfferProblems {
    403: order_action_forbidden,
    404: offer_not_found | order_not_found,
    409: invalid_order_status | offer_not_open,
});

/// Accept the seller's open offer as the buyer: the dispute is resolved with it.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), ("offer_id" = Uuid, Path, description = "Offer id")),
    responses(
        (status = 200, body = OrderView),
        AcceptOfferProblems,
    )
)]
#[post("/orders/{id}/settlement-offers/{offer_id}/accept")]
async fn accept_offer(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    path: web::Path<(OrderId, SettlementOfferId)>,
) -> ApiResult<web::Json<OrderView>> {
    let (id, offer_id) = path.into_inner();
    party_move(&state, &orders, &user, id, async |conn, order, actor, now| {
        flow::check(order, Move::AcceptOffer, actor)?;
        disputes::accept_offer(&orders, conn, order, user.id(), offer_id, now).await
    })
    .await
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"duration_secs": 600}))]
pub struct NewDeliveryProof {
    /// Window length once the first share arrives (60-3600, default 600).
    duration_secs: Option<i32>,
}

crate::http::problems::problems!(RequestDeliveryProofProblems {
    403: order_action_forbidden,
    404: order_not_found,
    409: invalid_order_status | proof_in_progress,
    422: validation_failed,
});

/// Run a delivery hashrate proof as the buyer during inspection. Claimed is the
/// model's nominal hashrate times the units bought; a result whose interval's
/// upper bound is below 90 % of that opens (or joins) a `hashrate_shortfall` dispute.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = NewDeliveryProof,
    responses(
        (status = 201, body = ProofTicket),
        RequestDeliveryProofProblems,
    )
)]
#[post("/orders/{id}/hashrate-proofs")]
async fn request_delivery_proof(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<NewDeliveryProof>,
) -> ApiResult<HttpResponse> {
    let duration = crate::proofs::proof_duration(body.duration_secs)?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let issued = conn
        .transaction(async |conn| {
            let (order, actor) = lock_for(conn, *id, &user).await?;
            if actor.role != ActorRole::Buyer {
                return Err(ApiError::forbidden("order_action_forbidden", "Only the buyer runs a delivery proof."));
            }
            delivery_proof::request(conn, &order, user.id(), duration, now).await
        })
        .await?;
    Ok(HttpResponse::Created().json(crate::proofs::ticket(&state, issued)))
}

crate::http::problems::problems!(ReviewProblems {
    403: order_action_forbidden,
    404: order_not_found,
    409: already_reviewed | invalid_order_status,
    422: validation_failed,
});

/// Review the other party once the order is completed or resolved (once each).
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = NewReview,
    responses(
        (status = 201, body = Review),
        ReviewProblems,
    )
)]
#[post("/orders/{id}/review")]
async fn review(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<NewReview>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let (order, actor) = find_for(&mut conn, *id, &user).await?;
    let review = reviews::leave(&mut conn, &order, user.id(), actor.role, &body, now).await?;
    Ok(HttpResponse::Created().json(review))
}

crate::http::problems::problems!(OrderReviewsProblems { 404: order_not_found });

/// The reviews left on an order.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), PageParams),
    responses(
        (status = 200, body = inline(Page<Review>)),
        OrderReviewsProblems,
    )
)]
#[get("/orders/{id}/reviews")]
async fn order_reviews(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<OrderId>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<Review>>> {
    let limit = page.limit()?;
    let after = page.cursor()?;
    let mut conn = state.pool.get().await?;
    let (order, _) = find_for(&mut conn, *id, &user).await?;
    let rows = reviews::of_order(&mut conn, order.id, after, limit + 1).await?;
    let (items, next_cursor) = page_from(rows, limit, |left| (left.created_at, left.author_id));
    Ok(web::Json(Page { items, next_cursor }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(cancel)
        .service(ship)
        .service(confirm_delivery)
        .service(accept)
        .service(open_dispute)
        .service(offer_settlement)
        .service(list_offers)
        .service(accept_offer)
        .service(request_delivery_proof)
        .service(review)
        .service(order_reviews);
}
