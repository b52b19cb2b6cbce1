//! The book's own invariants, checked against the whole database: every
//! transaction has entries that sum to zero, and no balance but `external` is
//! negative. The orders add theirs (`orders::verify_ledger`), from the money
//! each order moved ([`order_flows`]). Each violation names the order (or
//! transaction, or account) so an operator can go straight to it.

use std::collections::HashMap;
use std::fmt;

use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::book::Account;
use crate::db::ids::OrderId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub order_id: Option<OrderId>,
    pub subject: String,
    pub problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.order_id {
            Some(order) => write!(f, "order {order}: {}: {}", self.subject, self.problem),
            None => write!(f, "{}: {}", self.subject, self.problem),
        }
    }
}

#[derive(QueryableByName)]
struct UnbalancedTransaction {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    order_id: Option<OrderId>,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    entries: i64,
}

#[derive(QueryableByName)]
struct NegativeBalance {
    #[diesel(sql_type = Text)]
    account: String,
    #[diesel(sql_type = BigInt)]
    balance: i64,
}

/// The net amount one kind of transaction moved on one account for one order.
#[derive(Debug, QueryableByName)]
pub struct OrderFlow {
    #[diesel(sql_type = SqlUuid)]
    pub order_id: OrderId,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub account: String,
    #[diesel(sql_type = BigInt)]
    pub amount: i64,
}

/// Every violation of the book's own invariants, empty when it is sound.
pub async fn verify_book(conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<Violation>> {
    let mut violations = Vec::new();
    let unbalanced: Vec<UnbalancedTransaction> = diesel::sql_query(
        "SELECT t.id, t.order_id, coalesce(sum(e.amount_cents), 0)::bigint AS total, count(e.id) AS entries
           FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id
          GROUP BY t.id, t.order_id
         HAVING coalesce(sum(e.amount_cents), 0) <> 0 OR count(e.id) = 0",
    )
    .load(conn)
    .await?;
    for tx in unbalanced {
        violations.push(Violation {
            order_id: tx.order_id,
            subject: format!("transaction {}", tx.id),
            problem: format!("{} entries sum to {} instead of 0", tx.entries, tx.total),
        });
    }

    let negative: Vec<NegativeBalance> = diesel::sql_query(
        "SELECT account, sum(amount_cents)::bigint AS balance FROM ledger_entries
          WHERE account <> 'external' GROUP BY account HAVING sum(amount_cents) < 0",
    )
    .load(conn)
    .await?;
    for account in negative {
        let order_id = match Account::parse(&account.account) {
            Some(Account::Escrow(order)) => Some(order),
            _ => None,
        };
        violations.push(Violation {
            order_id,
            subject: format!("account {}", account.account),
            problem: format!("balance is negative ({} cents)", account.balance),
        });
    }

    Ok(violations)
}

/// What every order's transactions moved, by order.
pub async fn order_flows(conn: &mut AsyncPgConnection) -> QueryResult<HashMap<OrderId, Vec<OrderFlow>>> {
    let flows: Vec<OrderFlow> = diesel::sql_query(
        "SELECT t.order_id, t.kind, e.account, sum(e.amount_cents)::bigint AS amount
           FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
          WHERE t.order_id IS NOT NULL GROUP BY t.order_id, t.kind, e.account",
    )
    .load(conn)
    .await?;
    let mut by_order: HashMap<OrderId, Vec<OrderFlow>> = HashMap::new();
    for flow in flows {
        by_order.entry(flow.order_id).or_default().push(flow);
    }
    Ok(by_order)
}
