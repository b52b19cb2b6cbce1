//! `rigmarket ledger verify`: every invariant the escrow ledger must keep, checked
//! against the whole database. Each violation names the order (or transaction,
//! or account) so an operator can go straight to it.
//!
//! 1. every transaction has entries and they sum to zero;
//! 2. an order's escrow holds its total exactly while it holds funds, and zero
//!    otherwise (so a terminal order's escrow is empty);
//! 3. no seller payable, buyer refund or fee balance is negative;
//! 4. the money moved matches the order: paid in = total, and at closing the
//!    refund, seller credit and fee recorded on the order are what the ledger moved.

use std::collections::HashMap;
use std::fmt;

use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::Account;
use crate::orders::state::OrderStatus;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub order_id: Option<Uuid>,
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
    order_id: Option<Uuid>,
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

#[derive(QueryableByName)]
struct OrderMoney {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    buyer_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    seller_id: Uuid,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    total_cents: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    paid_amount_cents: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    refund_cents: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    seller_credit_cents: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    platform_fee_cents: Option<i64>,
}

#[derive(QueryableByName)]
struct OrderFlow {
    #[diesel(sql_type = SqlUuid)]
    order_id: Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    account: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
}

/// Every violation in the ledger, empty when it is sound.
pub async fn verify(conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<Violation>> {
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

    let orders: Vec<OrderMoney> = diesel::sql_query(
        "SELECT id, buyer_id, seller_id, status, total_cents, paid_amount_cents, refund_cents,
                seller_credit_cents, platform_fee_cents
           FROM orders WHERE paid_at IS NOT NULL OR status IN ('paid', 'shipped', 'delivered', 'disputed')
              OR id IN (SELECT order_id FROM ledger_transactions WHERE order_id IS NOT NULL)",
    )
    .load(conn)
    .await?;
    let flows: Vec<OrderFlow> = diesel::sql_query(
        "SELECT t.order_id, t.kind, e.account, sum(e.amount_cents)::bigint AS amount
           FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
          WHERE t.order_id IS NOT NULL GROUP BY t.order_id, t.kind, e.account",
    )
    .load(conn)
    .await?;
    let mut by_order: HashMap<Uuid, Vec<OrderFlow>> = HashMap::new();
    for flow in flows {
        by_order.entry(flow.order_id).or_default().push(flow);
    }
    for order in orders {
        let flows = by_order.remove(&order.id).unwrap_or_default();
        check_order(&order, &flows, &mut violations);
    }
    Ok(violations)
}

fn check_order(order: &OrderMoney, flows: &[OrderFlow], violations: &mut Vec<Violation>) {
    let mut report = |subject: &str, problem: String| {
        violations.push(Violation { order_id: Some(order.id), subject: subject.to_string(), problem });
    };
    let moved = |kinds: &[&str], account: Account| -> i64 {
        let name = account.to_string();
        flows.iter().filter(|f| kinds.contains(&f.kind.as_str()) && f.account == name).map(|f| f.amount).sum()
    };
    let Some(status) = OrderStatus::parse(&order.status) else {
        report("status", format!("unknown status {:?}", order.status));
        return;
    };
    let escrow = Account::Escrow(order.id);
    let paid_in = moved(&["payment"], escrow);
    let escrow_balance: i64 = flows.iter().filter(|f| f.account == escrow.to_string()).map(|f| f.amount).sum();
    let was_paid = order.paid_amount_cents.is_some();

    let expected_escrow = if status.holds_funds() { order.total_cents } else { 0 };
    if escrow_balance != expected_escrow {
        report(
            "escrow",
            format!("holds {escrow_balance} cents in status {}, expected {expected_escrow}", order.status),
        );
    }
    let expected_in = if was_paid { order.total_cents } else { 0 };
    if paid_in != expected_in {
        report("payment", format!("{paid_in} cents paid into escrow, expected {expected_in}"));
    }
    if let Some(paid) = order.paid_amount_cents.filter(|paid| *paid > order.total_cents) {
        let excess = moved(&["overpayment"], Account::BuyerRefund(order.buyer_id));
        if excess != paid - order.total_cents {
            report("overpayment", format!("{excess} cents owed back for an excess of {}", paid - order.total_cents));
        }
    }
    if !status.is_terminal() || !was_paid {
        return;
    }
    let closing = ["release", "refund", "settlement"];
    let refunded = moved(&closing, Account::BuyerRefund(order.buyer_id));
    let credited = moved(&closing, Account::SellerPayable(order.seller_id));
    let fees = moved(&closing, Account::PlatformFees);
    let recorded = (
        order.refund_cents.unwrap_or(0),
        order.seller_credit_cents.unwrap_or(0),
        order.platform_fee_cents.unwrap_or(0),
    );
    if (refunded, credited, fees) != recorded {
        report(
            "closing",
            format!(
                "ledger moved refund {refunded}, seller {credited}, fee {fees}; the order records {}, {}, {}",
                recorded.0, recorded.1, recorded.2
            ),
        );
    }
    if refunded + credited + fees != order.total_cents {
        report(
            "closing",
            format!("{} cents distributed of a total of {}", refunded + credited + fees, order.total_cents),
        );
    }
}
