//! Ledger endpoints: a user's balances, and payouts that admins record when money
//! leaves the platform (to a seller, or back to a buyer).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{balance, transactions_where, Account, Posting, TransactionKind, TransactionView};
use crate::accounts::AuthUser;
use crate::db::schema::users;
use crate::error::{ApiError, ApiResult, Problem};
use crate::idempotency;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
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
    responses((status = 200, body = Balances))
)]
#[get("/me/balances")]
async fn my_balances(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<Balances>> {
    let mut conn = state.pool.get().await?;
    Ok(web::Json(Balances {
        seller_payable_cents: balance(&mut conn, Account::SellerPayable(user.id())).await?,
        buyer_refund_cents: balance(&mut conn, Account::BuyerRefund(user.id())).await?,
    }))
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PayoutAccount {
    SellerPayable,
    BuyerRefund,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_id": "0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01", "amount_cents": 1862000,
                          "reference": "SWIFT 2021-06-20 #4471"}))]
pub struct NewPayout {
    pub user_id: Uuid,
    pub amount_cents: i64,
    /// The bank or chain reference of the money sent.
    pub reference: String,
    /// Which balance is paid out (default `seller_payable`).
    pub account: Option<PayoutAccount>,
}

/// Record money sent out to a user (admin). It may not exceed what is owed.
/// Requires `Idempotency-Key`, like every request that moves money.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Unique per payout")),
    request_body = NewPayout,
    responses(
        (status = 201, body = TransactionView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "insufficient_balance", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
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
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let (answer, replayed) = conn
        .transaction(async |conn| {
            if let Some(replay) = idempotency::claim(conn, key_use).await? {
                return Ok::<_, ApiError>((replay.body, true));
            }
            // The user's row lock serialises payouts to one user, so two cannot
            // both spend the same balance.
            users::table
                .find(body.user_id)
                .select(users::id)
                .for_update()
                .first::<Uuid>(conn)
                .await
                .optional()?
                .ok_or_else(|| ApiError::not_found("user_not_found", "No user has this id."))?;
            let account = match body.account.unwrap_or(PayoutAccount::SellerPayable) {
                PayoutAccount::SellerPayable => Account::SellerPayable(body.user_id),
                PayoutAccount::BuyerRefund => Account::BuyerRefund(body.user_id),
            };
            let owed = balance(conn, account).await?;
            if body.amount_cents > owed {
                return Err(ApiError::conflict(
                    "insufficient_balance",
                    format!("{account} holds {owed} cents; {} cannot be paid out.", body.amount_cents),
                ));
            }
            let posting = Posting::new(TransactionKind::Payout, None, format!("payout from {account}"))
                .transfer(account, Account::External, body.amount_cents)
                .by(Some(admin.id()))
                .reference(Some(body.reference.trim().to_string()));
            let id = super::post(conn, &posting, now).await?;
            let view = transactions_where(conn, None, Some(&[id])).await?.remove(0);
            let json = serde_json::to_value(&view).map_err(anyhow::Error::from)?;
            idempotency::store(conn, key_use, 201, &json, None, now).await?;
            tracing::info!(ledger.transaction = %id, user.id = %body.user_id, amount = body.amount_cents, "payout recorded");
            Ok((json, false))
        })
        .await?;
    let mut response = HttpResponse::Created();
    if replayed {
        response.insert_header((idempotency::REPLAYED_HEADER, "true"));
    }
    Ok(response.json(answer))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(my_balances).service(record_payout);
}
