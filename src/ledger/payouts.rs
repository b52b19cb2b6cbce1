//! Payouts: admins record money sent out to a user, at most what is owed, once
//! per `Idempotency-Key`.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::book::{self, balance, transactions_where, Account, Posting, TransactionKind};
use crate::db::ids::UserId;
use crate::error::ApiError;
use crate::idempotency::{self, KeyUse};

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
    #[schema(value_type = uuid::Uuid)]
    pub user_id: UserId,
    pub amount_cents: i64,
    /// The bank or chain reference of the money sent.
    pub reference: String,
    /// Which balance is paid out (default `seller_payable`).
    pub account: Option<PayoutAccount>,
}

/// Records `payout` by `admin` in one transaction with its idempotency key.
/// Returns the answer and whether it was replayed from an earlier request.
pub async fn record(
    conn: &mut AsyncPgConnection,
    admin: UserId,
    key_use: KeyUse<'_>,
    payout: &NewPayout,
    now: DateTime<Utc>,
) -> Result<(serde_json::Value, bool), ApiError> {
    conn.transaction(async |conn| {
        if let Some(replay) = idempotency::claim(conn, key_use).await? {
            return Ok((replay.body, true));
        }
        // The user's row lock serialises payouts to one user, so two cannot
        // both spend the same balance.
        if !crate::accounts::lock_user(conn, payout.user_id).await? {
            return Err(ApiError::not_found("user_not_found", "No user has this id."));
        }
        let account = match payout.account.unwrap_or(PayoutAccount::SellerPayable) {
            PayoutAccount::SellerPayable => Account::SellerPayable(payout.user_id),
            PayoutAccount::BuyerRefund => Account::BuyerRefund(payout.user_id),
        };
        let owed = balance(conn, account).await?;
        if payout.amount_cents > owed {
            return Err(ApiError::conflict(
                "insufficient_balance",
                format!("{account} holds {owed} cents; {} cannot be paid out.", payout.amount_cents),
            ));
        }
        let posting = Posting::new(TransactionKind::Payout, None, format!("payout from {account}"))
            .transfer(account, Account::External, payout.amount_cents)
            .by(Some(admin))
            .reference(Some(payout.reference.trim().to_string()));
        let id = book::post(conn, &posting, now).await?;
        let view = transactions_where(conn, None, Some(&[id])).await?.remove(0);
        let json = serde_json::to_value(&view).map_err(anyhow::Error::from)?;
        idempotency::store(conn, key_use, 201, &json, None, now).await?;
        tracing::info!(ledger.transaction = %id, user.id = %payout.user_id, amount = payout.amount_cents, "payout recorded");
        Ok((json, false))
    })
    .await
}
