//! Admin decisions on orders: confirm a wire payment, resolve a dispute with any
//! split, cancel (refunding whatever is held), and the order queue.

use actix_web::{get, post, web};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::accounts::AuthUser;
use crate::db::ids::OrderId;
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::{Page, PageParams};
use crate::orders::access::lock_for_admin;
use crate::orders::input::{AdminNote, ConfirmPayment, ResolveDispute};
use crate::orders::model::OrderView;
use crate::orders::queries::{Actor, OrderScope};
use crate::orders::state::{ActorRole, Move, OrderStatus};
use crate::orders::OrderContext;
use crate::orders::{disputes, flow, payins, view};
use crate::state::AppState;
use crate::validation::check_text;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminOrderQuery {
    /// e.g. `disputed` for the dispute queue, `awaiting_payment` for wires to match.
    #[param(inline)]
    status: Option<OrderStatus>,
}

crate::http::problems::problems!(AdminOrdersProblems { 403: admin_required });

/// Every order, newest first (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(AdminOrderQuery, PageParams),
    responses(
        (status = 200, body = inline(Page<OrderView>)),
        AdminOrdersProblems,
    )
)]
#[get("/admin/orders")]
async fn admin_orders(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    admin: AuthUser,
    query: web::Query<AdminOrderQuery>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<OrderView>>> {
    admin.require_admin()?;
    super::orders::list(&state, &orders, OrderScope::All, query.status, &page).await.map(web::Json)
}

crate::http::problems::problems!(ConfirmPaymentProblems {
    403: admin_required,
    404: order_not_found,
    409: invalid_order_status | invoice_pending,
    422: payment_not_settled | payment_short | validation_failed,
});

/// Confirm that the payment arrived (admin). For wire orders, less than the total
/// is refused (`payment_short`); more is accepted and the excess is owed back to
/// the buyer. For BTCPay orders the invoice is read back from BTCPay and must be
/// settled in full (`payment_not_settled` otherwise).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = ConfirmPayment,
    responses(
        (status = 200, body = OrderView),
        ConfirmPaymentProblems,
    )
)]
#[post("/admin/orders/{id}/confirm-payment")]
async fn confirm_payment(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    admin: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<ConfirmPayment>,
) -> ApiResult<web::Json<OrderView>> {
    admin.require_admin()?;
    let body = body.into_inner();
    let now = state.clock.now();
    if body.amount_cents <= 0 {
        return Err(ApiError::validation("amount_cents", "must be positive"));
    }
    if body.received_at > now + chrono::Duration::minutes(5) {
        return Err(ApiError::validation("received_at", "cannot be in the future"));
    }
    check_text("note", &body.note, 2000)?;
    let mut conn = state.pool.get().await?;
    let check = payins::check_before_admin_confirmation(&mut conn, &orders.payments, *id).await?;
    let order = conn
        .transaction(async |conn| {
            let order = lock_for_admin(conn, *id, &admin).await?;
            let details = serde_json::json!({
                "amount_cents": body.amount_cents, "received_at": body.received_at, "note": body.note.trim(),
            });
            let actor = Actor::user(ActorRole::Admin, admin.id());
            let confirmation =
                payins::AdminConfirmation { amount_cents: body.amount_cents, check: check.as_ref(), details };
            payins::confirm_by_admin(&orders, conn, &order, actor, confirmation, now).await
        })
        .await?;
    Ok(web::Json(view::render_one(&orders, &mut conn, order).await?))
}

crate::http::problems::problems!(ResolveProblems {
    403: admin_required | own_order,
    404: order_not_found,
    409: invalid_order_status,
    422: validation_failed,
});

/// Resolve a dispute (admin): `refund_cents` to the buyer, the rest to the
/// seller less the platform fee.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = ResolveDispute,
    responses(
        (status = 200, body = OrderView),
        ResolveProblems,
    )
)]
#[post("/admin/orders/{id}/resolve")]
async fn resolve(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    admin: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<ResolveDispute>,
) -> ApiResult<web::Json<OrderView>> {
    admin.require_admin()?;
    let body = body.into_inner();
    check_text("note", &body.note, 2000)?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let order = conn
        .transaction(async |conn| {
            let order = lock_for_admin(conn, *id, &admin).await?;
            disputes::resolve_by_admin(&orders, conn, &order, admin.id(), body.refund_cents, body.note.trim(), now)
                .await
        })
        .await?;
    Ok(web::Json(view::render_one(&orders, &mut conn, order).await?))
}

crate::http::problems::problems!(AdminCancelProblems {
    403: admin_required,
    404: order_not_found,
    409: invalid_order_status,
    422: validation_failed,
});

/// Cancel an order (admin): before payment it is cancelled and the units
/// released; after payment everything held is refunded to the buyer.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = AdminNote,
    responses(
        (status = 200, body = OrderView),
        AdminCancelProblems,
    )
)]
#[post("/admin/orders/{id}/cancel")]
async fn admin_cancel(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    admin: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<AdminNote>,
) -> ApiResult<web::Json<OrderView>> {
    admin.require_admin()?;
    check_text("note", &body.note, 2000)?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let order = conn
        .transaction(async |conn| {
            let order = lock_for_admin(conn, *id, &admin).await?;
            let actor = Actor::user(ActorRole::Admin, admin.id());
            let details = serde_json::json!({ "note": body.note.trim() });
            disputes::close_open_offers(conn, order.id, disputes::OfferStatus::Void, now).await?;
            flow::close_without_sale(conn, &order, Move::AdminCancel, actor, "cancelled_by_admin", details, now).await
        })
        .await?;
    Ok(web::Json(view::render_one(&orders, &mut conn, order).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(admin_orders).service(confirm_payment).service(resolve).service(admin_cancel);
}
