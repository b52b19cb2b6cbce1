//! The book: accounts, postings that must balance, balances and the
//! transactions as the API shows them.

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::ids::{OrderId, UserId};
use crate::db::schema::{ledger_entries, ledger_transactions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Account {
    /// The world outside: banks, BTCPay, payout rails.
    External,
    /// What is held for one order.
    Escrow(OrderId),
    /// Owed to a seller, until paid out.
    SellerPayable(UserId),
    /// Owed back to a buyer, until returned.
    BuyerRefund(UserId),
    PlatformFees,
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::External => f.write_str("external"),
            Self::Escrow(order) => write!(f, "escrow:{order}"),
            Self::SellerPayable(user) => write!(f, "seller_payable:{user}"),
            Self::BuyerRefund(user) => write!(f, "buyer_refund:{user}"),
            Self::PlatformFees => f.write_str("platform_fees"),
        }
    }
}

impl Account {
    pub fn parse(text: &str) -> Option<Self> {
        let id = |rest: &str| rest.parse::<Uuid>().ok();
        let order = |rest: &str| id(rest).map(OrderId);
        let user = |rest: &str| id(rest).map(UserId);
        match text.split_once(':') {
            None if text == "external" => Some(Self::External),
            None if text == "platform_fees" => Some(Self::PlatformFees),
            Some(("escrow", rest)) => order(rest).map(Self::Escrow),
            Some(("seller_payable", rest)) => user(rest).map(Self::SellerPayable),
            Some(("buyer_refund", rest)) => user(rest).map(Self::BuyerRefund),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionKind {
    /// The buyer's money arrives in escrow.
    Payment,
    /// Escrow goes to the seller, less the fee.
    Release,
    /// Escrow goes back to the buyer in full.
    Refund,
    /// A dispute's split: part refund, part release.
    Settlement,
    /// Money sent out to a user.
    Payout,
    /// Paid beyond the total: the excess is owed back to the buyer.
    Overpayment,
    /// Paid after the order closed: all of it is owed back.
    LatePayment,
}

impl TransactionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Payment => "payment",
            Self::Release => "release",
            Self::Refund => "refund",
            Self::Settlement => "settlement",
            Self::Payout => "payout",
            Self::Overpayment => "overpayment",
            Self::LatePayment => "late_payment",
        }
    }
}

/// A transaction to post. Build it with [`Posting::new`] and `.entry(...)`.
#[derive(Debug, Clone)]
pub struct Posting {
    pub kind: TransactionKind,
    pub order_id: Option<OrderId>,
    pub memo: String,
    pub reference: Option<String>,
    pub created_by: Option<UserId>,
    pub entries: Vec<(Account, i64)>,
}

impl Posting {
    pub fn new(kind: TransactionKind, order_id: Option<OrderId>, memo: impl Into<String>) -> Self {
        Self { kind, order_id, memo: memo.into(), reference: None, created_by: None, entries: Vec::new() }
    }

    /// Moves `amount_cents` from `from` to `to` (zero amounts are skipped).
    pub fn transfer(mut self, from: Account, to: Account, amount_cents: i64) -> Self {
        if amount_cents != 0 {
            self.entries.push((from, -amount_cents));
            self.entries.push((to, amount_cents));
        }
        self
    }

    pub fn by(mut self, user: Option<UserId>) -> Self {
        self.created_by = user;
        self
    }

    pub fn reference(mut self, reference: Option<String>) -> Self {
        self.reference = reference;
        self
    }
}

/// Writes a posting. Unbalanced or empty postings are a programming error and are
/// refused before anything is written (the database would refuse them at commit).
pub async fn post(conn: &mut AsyncPgConnection, posting: &Posting, now: DateTime<Utc>) -> anyhow::Result<Uuid> {
    let sum: i128 = posting.entries.iter().map(|(_, amount)| i128::from(*amount)).sum();
    anyhow::ensure!(!posting.entries.is_empty(), "empty ledger posting");
    anyhow::ensure!(sum == 0, "unbalanced ledger posting ({sum})");
    let id = Uuid::now_v7();
    diesel::insert_into(ledger_transactions::table)
        .values((
            ledger_transactions::id.eq(id),
            ledger_transactions::order_id.eq(posting.order_id),
            ledger_transactions::kind.eq(posting.kind.as_str()),
            ledger_transactions::memo.eq(&posting.memo),
            ledger_transactions::reference.eq(&posting.reference),
            ledger_transactions::created_by.eq(posting.created_by),
            ledger_transactions::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    let rows: Vec<_> = posting
        .entries
        .iter()
        .map(|(account, amount)| {
            (
                ledger_entries::transaction_id.eq(id),
                ledger_entries::account.eq(account.to_string()),
                ledger_entries::amount_cents.eq(*amount),
            )
        })
        .collect();
    diesel::insert_into(ledger_entries::table).values(rows).execute(conn).await?;
    Ok(id)
}

/// The balance of one account.
pub async fn balance(conn: &mut AsyncPgConnection, account: Account) -> QueryResult<i64> {
    let sum: Option<i64> = ledger_entries::table
        .filter(ledger_entries::account.eq(account.to_string()))
        .select(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>("sum(amount_cents)::bigint"))
        .first(conn)
        .await?;
    Ok(sum.unwrap_or(0))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"account": "escrow:0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72", "amount_cents": 1900000}))]
pub struct EntryView {
    #[schema(example = "escrow:0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01")]
    pub account: String,
    /// Positive adds to the account's balance, negative takes from it.
    pub amount_cents: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f8c7-0a1b-7c2d-9e3f-4a5b6c7d8e9f", "kind": "payment", "order_id": "0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72",
    "memo": "payment for order 0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72", "reference": "RM-7KQ4-X2MD",
    "created_at": "2026-05-12T09:41:00Z",
    "entries": [
        {"account": "external", "amount_cents": -1900000},
        {"account": "escrow:0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72", "amount_cents": 1900000}
    ]
}))]
pub struct TransactionView {
    pub id: Uuid,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub order_id: Option<OrderId>,
    #[schema(example = "payment")]
    pub kind: String,
    pub memo: String,
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub entries: Vec<EntryView>,
}

/// Whether `order_id` already has a transaction of `kind`.
pub async fn has_transaction(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    kind: TransactionKind,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        ledger_transactions::table
            .filter(ledger_transactions::order_id.eq(order_id))
            .filter(ledger_transactions::kind.eq(kind.as_str())),
    ))
    .get_result(conn)
    .await
}

/// Transactions (with their entries) in creation order.
pub async fn transactions_where(
    conn: &mut AsyncPgConnection,
    order_id: Option<OrderId>,
    ids: Option<&[Uuid]>,
) -> QueryResult<Vec<TransactionView>> {
    let mut query = ledger_transactions::table
        .order((ledger_transactions::created_at, ledger_transactions::id))
        .select((
            ledger_transactions::id,
            ledger_transactions::order_id,
            ledger_transactions::kind,
            ledger_transactions::memo,
            ledger_transactions::reference,
            ledger_transactions::created_at,
        ))
        .into_boxed();
    if let Some(order_id) = order_id {
        query = query.filter(ledger_transactions::order_id.eq(order_id));
    }
    if let Some(ids) = ids {
        query = query.filter(ledger_transactions::id.eq_any(ids));
    }
    type Header = (Uuid, Option<OrderId>, String, String, Option<String>, DateTime<Utc>);
    let headers: Vec<Header> = query.load(conn).await?;
    let ids: Vec<Uuid> = headers.iter().map(|h| h.0).collect();
    let entries: Vec<(Uuid, String, i64)> = ledger_entries::table
        .filter(ledger_entries::transaction_id.eq_any(&ids))
        .order(ledger_entries::id)
        .select((ledger_entries::transaction_id, ledger_entries::account, ledger_entries::amount_cents))
        .load(conn)
        .await?;
    Ok(headers
        .into_iter()
        .map(|(id, order_id, kind, memo, reference, created_at)| TransactionView {
            id,
            order_id,
            kind,
            memo,
            reference,
            created_at,
            entries: entries
                .iter()
                .filter(|(tx, ..)| *tx == id)
                .map(|(_, account, amount_cents)| EntryView { account: account.clone(), amount_cents: *amount_cents })
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_round_trip() {
        let id = Uuid::now_v7();
        for account in [
            Account::External,
            Account::PlatformFees,
            Account::Escrow(OrderId(id)),
            Account::SellerPayable(UserId(id)),
            Account::BuyerRefund(UserId(id)),
        ] {
            assert_eq!(Account::parse(&account.to_string()), Some(account));
        }
        assert_eq!(Account::parse("escrow:nope"), None);
        assert_eq!(Account::parse("vault"), None);
    }

    #[test]
    fn a_transfer_is_two_entries_that_cancel_out() {
        let id = OrderId::new();
        let posting = Posting::new(TransactionKind::Payment, Some(id), "paid")
            .transfer(Account::External, Account::Escrow(id), 500)
            .transfer(Account::External, Account::BuyerRefund(UserId(id.0)), 0);
        assert_eq!(posting.entries, vec![(Account::External, -500), (Account::Escrow(id), 500)]);
    }
}
