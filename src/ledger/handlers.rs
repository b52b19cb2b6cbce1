//! Ledger endpoints: a user's balances, and payouts that admins record when money
//! leaves the platform (to a seller, or back to a buyer).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::book::{balance, Account, TransactionView};
use super::payouts::{self, NewPayout};
use crate::accounts::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::idempotency;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"seller_payable_cents": 1582700, "buyer_refund_cents": 0}))]
pub struct Balances {
    /// Owed to you for completed sales, until paid out.
    pub seller_payable_cents: i64,
    /// Owed back to you for refunds, until returned.
    pub buyer_refund_cents: i64,
}

/// What the platform owes you.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Balances),
    )
)]
#[get("/me/balances")]
async fn my_balances(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<Balances>> {
    let mut conn = state.pool.get().await?;
    Ok(web::Json(Balances {
        seller_payable_cents: balance(&mut conn, Account::SellerPayable(user.id())).await?,
        buyer_refund_cents: balance(&mut conn, Account::BuyerRefund(user.id())).await?,
    }))
}

crate::http::problems::problems!(RecordPayoutProblems {
    403: admin_required,
    404: user_not_found,
    409: insufficient_balance,
    422: validation_failed,
});

/// Record money sent out to a user (admin). It may not exceed what is owed.
/// Requires `Idempotency-Key`, like every request that moves money.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Unique per payout")),
    request_body = NewPayout,
    responses(
        (status = 201, body = TransactionView),
        RecordPayoutProblems,
    )
)]
#[post("/admin/payouts")]
async fn record_payout(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AuthUser,
    body: web::Json<NewPayout>,
) -> ApiResult<HttpResponse> {
    admin.require_admin()?;
    let key = idempotency::key_from(&req)?;
    let body = body.into_inner();
    if body.amount_cents <= 0 {
        return Err(ApiError::validation("amount_cents", "must be positive"));
    }
    crate::validation::check_text("reference", &body.reference, 200)?;
    let hash = idempotency::request_hash("POST /v1/admin/payouts", &body);
    let key_use = idempotency::KeyUse { user: admin.id(), key: &key, request_hash: &hash };
    let mut conn = state.pool.get().await?;
    let (answer, replayed) = payouts::record(&mut conn, admin.id(), key_use, &body, state.clock.now()).await?;
    let mut response = HttpResponse::Created();
    if replayed {
        response.insert_header((idempotency::REPLAYED_HEADER, "true"));
    }
    Ok(response.json(answer))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(my_balances).service(record_payout);
}
