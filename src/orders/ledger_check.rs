//! The orders' part of `rigmarket ledger verify`: besides the book's own
//! invariants (`ledger::verify_book`),
//!
//! 1. an order's escrow holds its total exactly while it holds funds, and zero
//!    otherwise (so a terminal order's escrow is empty);
//! 2. the money moved matches the order: paid in = total, and at closing the
//!    refund, seller credit and fee recorded on the order are what the ledger moved.

use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::state::OrderStatus;
use crate::db::ids::{OrderId, UserId};
use crate::ledger::{self, Account, OrderFlow, Violation};

#[derive(QueryableByName)]
struct OrderMoney {
    #[diesel(sql_type = SqlUuid)]
    id: OrderId,
    #[diesel(sql_type = SqlUuid)]
    buyer_id: UserId,
    #[diesel(sql_type = SqlUuid)]
    seller_id: UserId,
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

/// Every violation in the ledger (the book's and the orders'), empty when it is sound.
pub async fn verify_ledger(conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<Violation>> {
    let mut violations = ledger::verify_book(conn).await?;
    let mut flows = ledger::order_flows(conn).await?;
    let with_money: Vec<OrderId> = flows.keys().copied().collect();
    let orders: Vec<OrderMoney> = diesel::sql_query(
        "SELECT id, buyer_id, seller_id, status, total_cents, paid_amount_cents, refund_cents,
                seller_credit_cents, platform_fee_cents
           FROM orders WHERE paid_at IS NOT NULL OR status IN ('paid', 'shipped', 'delivered', 'disputed')
              OR id = ANY($1)",
    )
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(&with_money)
    .load(conn)
    .await?;
    for order in orders {
        let flows = flows.remove(&order.id).unwrap_or_default();
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
