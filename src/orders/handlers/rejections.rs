//! Acceptance by unit over HTTP: the buyer rejects units during inspection,
//! the seller accepts or contests, and afterwards rejected units are returned
//! or written off. Each call is one transaction on the locked order.

use actix_web::{get, post, web, HttpResponse};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use utoipa::ToSchema;

use super::render::party_move;
use crate::accounts::AuthUser;
use crate::db::ids::OrderId;
use crate::error::ApiResult;
use crate::orders::access::{find_for, lock_for};
use crate::orders::model::OrderView;
use crate::orders::rejection_flow::{self, Aftermath};
use crate::orders::rejections::{RejectUnits, RejectionSummary};
use crate::orders::OrderContext;
use crate::state::AppState;
use crate::validation::Problems;

crate::http::problems::problems!(RejectProblems {
    403: order_action_forbidden,
    404: order_not_found,
    409: inspection_over | not_sold_by_serial | unit_already_rejected | unit_not_rejectable,
    422: validation_failed | unit_not_in_order | proof_does_not_show_shortfall,
});

/// Reject units of a lot sold by serial, as the buyer, during inspection.
///
/// Rejected units beyond the order's DOA allowance (`floor(doa_allowance_pct ×
/// quantity / 100)`) are refunded at the unit price when the seller accepts.
/// The seller has 72 hours from the latest rejection to accept or contest;
/// without an answer the rejections count as accepted and the order completes.
/// An `under_hashrate` rejection cites a delivery proof of this order whose
/// per-unit verdict puts that serial under 90 %.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = RejectUnits,
    responses(
        (status = 201, body = RejectionSummary, description = "The order's rejections, with the refund they carry"),
        RejectProblems,
    )
)]
#[post("/orders/{id}/unit-rejections")]
async fn reject_units(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<RejectUnits>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let summary = conn
        .transaction(async |conn| {
            let (order, actor) = lock_for(conn, *id, &user).await?;
            let order = rejection_flow::reject(conn, &order, actor, &body, now).await?;
            rejection_flow::summary(conn, &order).await
        })
        .await?;
    Ok(HttpResponse::Created().json(summary))
}

crate::http::problems::problems!(ListRejectionsProblems { 404: order_not_found });

/// The order's unit rejections (parties and admins), with the refund accepting them carries.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = RejectionSummary),
        ListRejectionsProblems,
    )
)]
#[get("/orders/{id}/unit-rejections")]
async fn list_rejections(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<web::Json<RejectionSummary>> {
    let mut conn = state.pool.get().await?;
    let (order, _) = find_for(&mut conn, *id, &user).await?;
    Ok(web::Json(rejection_flow::summary(&mut conn, &order).await?))
}

crate::http::problems::problems!(AnswerProblems {
    403: order_action_forbidden,
    404: order_not_found,
    409: invalid_order_status | no_pending_rejections,
});

/// Accept the buyer's unit rejections, as the seller: the order completes at
/// once, the refunded units' price back to the buyer, the rest to you less the fee.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = OrderView),
        AnswerProblems,
    )
)]
#[post("/orders/{id}/unit-rejections/accept")]
async fn accept_rejections(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<web::Json<OrderView>> {
    party_move(&state, &orders, &user, *id, async |conn, order, actor, now| {
        rejection_flow::accept(&orders, conn, order, actor, now).await
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "HTM3X1234567 hashed at 104 TH/s in our own test video before shipping."}))]
pub struct ContestRejections {
    /// Why the rejections are wrong (1-2,000 characters); it opens the dispute.
    pub reason: String,
}

crate::http::problems::problems!(ContestProblems {
    403: order_action_forbidden,
    404: order_not_found,
    409: invalid_order_status | no_pending_rejections,
    422: validation_failed,
});

/// Contest the buyer's unit rejections, as the seller: a dispute opens with the
/// rejections and their evidence as its first message; an admin decides.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = ContestRejections,
    responses(
        (status = 200, body = OrderView),
        ContestProblems,
    )
)]
#[post("/orders/{id}/unit-rejections/contest")]
async fn contest_rejections(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<ContestRejections>,
) -> ApiResult<web::Json<OrderView>> {
    party_move(&state, &orders, &user, *id, async |conn, order, actor, now| {
        rejection_flow::contest(conn, order, actor, &body.reason, now).await
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"serials": ["HTM3X1234567"], "carrier": "DHL Freight", "tracking_number": "JD014600006289999999"}))]
pub struct ReturnUnits {
    /// Rejected units of the order.
    pub serials: Vec<String>,
    pub carrier: String,
    pub tracking_number: String,
}

crate::http::problems::problems!(DisposeProblems {
    403: order_action_forbidden,
    404: order_not_found,
    409: invalid_order_status | unit_not_rejected,
    422: validation_failed | unit_not_in_order,
});

/// Send rejected units back, as the buyer, once the order closed.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = ReturnUnits,
    responses(
        (status = 200, body = OrderView),
        DisposeProblems,
    )
)]
#[post("/orders/{id}/unit-returns")]
async fn return_units(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<ReturnUnits>,
) -> ApiResult<web::Json<OrderView>> {
    let mut problems = Problems::default();
    problems.text("carrier", &body.carrier, 2, 80);
    problems.text("tracking_number", &body.tracking_number, 4, 80);
    problems.into_result()?;
    let aftermath = Aftermath::Returned { carrier: body.carrier.trim(), tracking_number: body.tracking_number.trim() };
    dispose(&state, &orders, &user, *id, &body.serials, aftermath).await
}

/// Returns or writes off rejected units in one transaction on the locked order.
async fn dispose(
    state: &AppState,
    orders: &OrderContext,
    user: &AuthUser,
    id: OrderId,
    serials: &[String],
    aftermath: Aftermath<'_>,
) -> ApiResult<web::Json<OrderView>> {
    party_move(state, orders, user, id, async |conn, order, actor, now| {
        rejection_flow::dispose(conn, order, actor, serials, aftermath, now).await?;
        Ok(order.clone())
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"serials": ["HTM3X1234567"]}))]
pub struct WriteOffUnits {
    /// Rejected units of the order.
    pub serials: Vec<String>,
}

/// Write rejected units off, as the seller, instead of taking them back.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = WriteOffUnits,
    responses(
        (status = 200, body = OrderView),
        DisposeProblems,
    )
)]
#[post("/orders/{id}/unit-write-offs")]
async fn write_off_units(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<WriteOffUnits>,
) -> ApiResult<web::Json<OrderView>> {
    dispose(&state, &orders, &user, *id, &body.serials, Aftermath::WrittenOff).await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(reject_units)
        .service(list_rejections)
        .service(accept_rejections)
        .service(contest_rejections)
        .service(return_units)
        .service(write_off_units);
}
