//! Placing orders and reading them: lists, one order, its events and its ledger.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::AuthUser;
use crate::db::ids::OrderId;
use crate::error::{ApiError, ApiResult};
use crate::http::conditional;
use crate::http::pagination::{page_from, Page, PageParams};
use crate::idempotency;
use crate::ledger::{self, Account, TransactionView};
use crate::orders::access::find_for;
use crate::orders::input::PlaceOrder;
use crate::orders::model::{OrderEvent, OrderView, PaymentMethod};
use crate::orders::place::{self, Placed};
use crate::orders::queries::{self, OrderScope};
use crate::orders::state::OrderStatus;
use crate::orders::OrderContext;
use crate::orders::{payins, view};
use crate::state::AppState;

crate::http::problems::problems!(PlaceOrderProblems {
    400: invalid_idempotency_key,
    403: email_not_verified | own_listing,
    404: listing_not_found,
    409: hosting_deadline_too_close | insufficient_quantity | listing_changed | listing_not_buyable,
    422: payment_method_unavailable | validation_failed,
});

/// Place an order: reserves the units and returns payment instructions (wire) or
/// a BTCPay invoice link. Requires `Idempotency-Key`: the same key and body
/// answer the first answer again (`Idempotent-Replayed: true`), a different body
/// is 422, and a key whose first request is still running is 409.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Unique per order attempt, e.g. a UUID")),
    request_body = PlaceOrder,
    responses(
        (status = 201, body = OrderView),
        PlaceOrderProblems,
    )
)]
#[post("/orders")]
async fn place_order(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    req: HttpRequest,
    buyer: AuthUser,
    body: web::Json<PlaceOrder>,
) -> ApiResult<HttpResponse> {
    buyer.require_verified()?;
    let key = idempotency::key_from(&req)?;
    let body = body.into_inner().normalized();
    body.validate().into_result()?;
    if body.payment_method == PaymentMethod::Btcpay && orders.payments.btcpay.is_none() {
        return Err(ApiError::unprocessable(
            "payment_method_unavailable",
            "BTCPay payments are not enabled on this server; pay by wire.",
        ));
    }
    let hash = idempotency::request_hash(place::ROUTE, &body);
    let key_use = idempotency::KeyUse { user: buyer.id(), key: &key, request_hash: &hash };
    let mut conn = state.pool.get().await?;
    let order = match place::place(&orders, &mut conn, &buyer, key_use, &body, state.clock.now()).await? {
        Placed::Replayed(replay) => {
            let status =
                actix_web::http::StatusCode::from_u16(replay.status).unwrap_or(actix_web::http::StatusCode::CREATED);
            return Ok(HttpResponse::build(status)
                .insert_header((idempotency::REPLAYED_HEADER, "true"))
                .json(replay.body));
        }
        Placed::New { order, .. } if body.payment_method == PaymentMethod::Btcpay => {
            payins::attach_invoice_after_placement(&state.pool, &state.clock, &orders, *order).await?
        }
        Placed::New { answer, .. } => return Ok(HttpResponse::Created().json(answer)),
    };
    Ok(HttpResponse::Created().json(view::render_one(&orders, &mut conn, order).await?))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleFilter {
    Buyer,
    Seller,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Orders where you are the buyer, or the seller (default: both).
    #[param(inline)]
    role: Option<RoleFilter>,
    #[param(inline)]
    status: Option<OrderStatus>,
}

/// Your orders, newest first.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(OrderQuery, PageParams),
    responses(
        (status = 200, body = inline(Page<OrderView>)),
    )
)]
#[get("/orders")]
async fn list_orders(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    query: web::Query<OrderQuery>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<OrderView>>> {
    let scope = match query.role {
        Some(RoleFilter::Buyer) => OrderScope::Buyer(user.id()),
        Some(RoleFilter::Seller) => OrderScope::Seller(user.id()),
        None => OrderScope::Party(user.id()),
    };
    list(&state, &orders, scope, query.status, &page).await.map(web::Json)
}

pub(super) async fn list(
    state: &AppState,
    orders: &OrderContext,
    scope: OrderScope,
    status: Option<OrderStatus>,
    page: &PageParams,
) -> ApiResult<Page<OrderView>> {
    let limit = page.limit()?;
    let before = page.cursor::<OrderId>()?;
    let mut conn = state.pool.get().await?;
    let rows = queries::list(&mut conn, scope, status, before, limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |row| row.id);
    Ok(Page { items: view::render(orders, &mut conn, rows).await?, next_cursor })
}

crate::http::problems::problems!(GetOrderProblems { 404: order_not_found });

/// One order (its parties and admins; anyone else gets 404).
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), ("If-None-Match" = Option<String>, Header, description = "ETags of copies the client holds; 304 when one is current")),
    responses(
        (status = 200, body = OrderView, headers(("ETag" = String), ("Cache-Control" = String, description = "private, no-cache"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag", headers(("ETag" = String))),
        GetOrderProblems,
    )
)]
#[get("/orders/{id}")]
async fn get_order(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    req: HttpRequest,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let (order, _) = find_for(&mut conn, *id, &user).await?;
    let view = view::render_one(&orders, &mut conn, order).await?;
    conditional::respond_json(&req, &view, conditional::PRIVATE_REVALIDATE)
}

crate::http::problems::problems!(OrderEventsProblems { 404: order_not_found });

/// The order's history: every transition with its actor, statuses and reason.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), PageParams),
    responses(
        (status = 200, body = inline(Page<OrderEvent>)),
        OrderEventsProblems,
    )
)]
#[get("/orders/{id}/events")]
async fn order_events(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<OrderId>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<OrderEvent>>> {
    let limit = page.limit()?;
    let after = page.cursor::<i64>()?;
    let mut conn = state.pool.get().await?;
    let (order, _) = find_for(&mut conn, *id, &user).await?;
    let rows = queries::events(&mut conn, order.id, after, limit + 1).await?;
    let (items, next_cursor) = page_from(rows, limit, |event| event.id);
    Ok(web::Json(Page { items, next_cursor }))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "order_id": "0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72", "escrow_balance_cents": 1900000,
    "transactions": [
        {
            "id": "0192f8c7-0a1b-7c2d-9e3f-4a5b6c7d8e9f", "kind": "payment",
            "order_id": "0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72",
            "memo": "payment for order 0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72", "reference": "RM-7KQ4-X2MD",
            "created_at": "2026-05-12T09:41:00Z",
            "entries": [
                {"account": "external", "amount_cents": -1900000},
                {"account": "escrow:0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72", "amount_cents": 1900000}
            ]
        }
    ]
}))]
pub struct OrderLedger {
    #[schema(value_type = uuid::Uuid)]
    pub order_id: OrderId,
    /// What escrow holds for this order now.
    pub escrow_balance_cents: i64,
    pub transactions: Vec<TransactionView>,
}

crate::http::problems::problems!(OrderLedgerProblems { 404: order_not_found });

/// The ledger transactions of an order (double entry: each sums to zero).
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = OrderLedger),
        OrderLedgerProblems,
    )
)]
#[get("/orders/{id}/ledger")]
async fn order_ledger(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<web::Json<OrderLedger>> {
    let mut conn = state.pool.get().await?;
    let (order, _) = find_for(&mut conn, *id, &user).await?;
    Ok(web::Json(OrderLedger {
        order_id: order.id,
        escrow_balance_cents: ledger::balance(&mut conn, Account::Escrow(order.id)).await?,
        transactions: ledger::transactions_where(&mut conn, Some(order.id), None).await?,
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(place_order).service(list_orders).service(get_order).service(order_events).service(order_ledger);
}
