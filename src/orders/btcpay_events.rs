//! BTCPay Server webhooks: `POST /v1/payments/btcpay/webhook` deliveries,
//! verified, de-duplicated and applied to their order.
//!
//! A body is never trusted alone: after its HMAC signature checks out, the
//! invoice is read back from BTCPay's API, and only an invoice settled in full,
//! for this order's amount and currency, pays it. What BTCPay received beyond the
//! total, or for an order that closed unpaid (paid late, or part of it before the
//! invoice expired), is owed back to the buyer in the ledger, once per order.
//! Deliveries are recorded by id in the transaction of their effect, so a replay
//! is a no-op.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::context::OrderContext;
use super::flow;
use super::model::OrderRow;
use super::payins::{btcpay, invoice_matches, received_cents, unavailable};
use super::queries::{self, Actor};
use super::state::{ActorRole, Move, OrderStatus};
use crate::clock::Clock;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::ledger::{self, Account, Posting, TransactionKind};
use crate::payments::btcpay::deliveries;
use crate::payments::btcpay::{parse_webhook, verify_signature, PaymentCheck, WebhookEvent, WebhookEventType};

/// What a webhook delivery did, for BTCPay's delivery log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookOutcome {
    Paid,
    Duplicate,
    Ignored,
    UnknownInvoice,
    Underpaid,
    Mismatch,
    LatePaymentRefundable,
    Expired,
    Noted,
}

impl WebhookOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
            Self::UnknownInvoice => "unknown_invoice",
            Self::Underpaid => "underpaid",
            Self::Mismatch => "mismatch",
            Self::LatePaymentRefundable => "late_payment_refundable",
            Self::Expired => "expired",
            Self::Noted => "noted",
        }
    }
}

/// Verifies, de-duplicates and applies one webhook delivery.
pub async fn handle_webhook(
    pool: &DbPool,
    clock: &Clock,
    ctx: &OrderContext,
    raw_body: &[u8],
    signature: Option<&str>,
) -> Result<WebhookOutcome, ApiError> {
    let client = btcpay(&ctx.payments)?;
    if !verify_signature(client.webhook_secret(), raw_body, signature) {
        return Err(ApiError::unauthorized("invalid_signature", "The BTCPay-Sig header does not match the body."));
    }
    let event = parse_webhook(raw_body)
        .map_err(|_| ApiError::bad_request("malformed_webhook", "The body is not a BTCPay webhook delivery."))?;
    if event.is_test() || event.store_id != client.config().store_id {
        return Ok(WebhookOutcome::Ignored);
    }
    let money_moved = money_may_have_moved(&event);
    let check = match event.invoice_id.as_deref() {
        // Invoices no order made (the store's other sales, archived ones) are not
        // looked up: BTCPay may not even know them, and they are not ours to pay.
        Some(invoice) if money_moved && invoice_has_order(pool, invoice).await? => {
            Some(client.payment_check(invoice).await.map_err(unavailable)?)
        }
        _ => None,
    };
    let now = clock.now();
    let mut conn = pool.get().await?;
    conn.transaction(async |conn| apply_webhook(ctx, conn, &event, check.as_ref(), now).await).await
}

/// A settlement, or an expiry with part of the amount paid: BTCPay is asked
/// what arrived before anything is recorded.
fn money_may_have_moved(event: &WebhookEvent) -> bool {
    match event.kind {
        WebhookEventType::InvoiceSettled => true,
        WebhookEventType::InvoiceExpired => event.partially_paid == Some(true),
        _ => false,
    }
}

async fn invoice_has_order(pool: &DbPool, invoice_id: &str) -> Result<bool, ApiError> {
    let mut conn = pool.get().await?;
    Ok(queries::has_invoice(&mut conn, invoice_id).await?)
}

async fn apply_webhook(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    event: &WebhookEvent,
    check: Option<&PaymentCheck>,
    now: DateTime<Utc>,
) -> Result<WebhookOutcome, ApiError> {
    if !deliveries::claim(conn, event, now).await? {
        return Ok(WebhookOutcome::Duplicate);
    }
    let order = match event.invoice_id.as_deref() {
        Some(invoice) => queries::lock_by_invoice(conn, invoice).await?,
        None => None,
    };
    let outcome = match order {
        None => WebhookOutcome::UnknownInvoice,
        Some(order) => apply_to_order(ctx, conn, event, check, &order, now).await?,
    };
    deliveries::record_outcome(conn, event, outcome.as_str()).await?;
    tracing::info!(btcpay.delivery = %event.delivery_id, btcpay.event = %event.kind, outcome = outcome.as_str(), "BTCPay webhook");
    Ok(outcome)
}

async fn apply_to_order(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    event: &WebhookEvent,
    check: Option<&PaymentCheck>,
    order: &OrderRow,
    now: DateTime<Utc>,
) -> Result<WebhookOutcome, ApiError> {
    deliveries::link_order(conn, event, order.id).await?;
    let details =
        json!({ "delivery_id": event.delivery_id, "invoice_id": event.invoice_id, "event": event.kind.as_str() });
    let status = order.status();
    if money_may_have_moved(event) && check.is_none() {
        // The invoice was attached to this order after `handle_webhook` looked:
        // refuse, and the redelivery checks it with BTCPay.
        return Err(ApiError::Unavailable(format!("invoice of order {} was not checked", order.id)));
    }
    if let Some(check) = check {
        if !invoice_matches(check, order) {
            flow::note(conn, order, Actor::btcpay(), "btcpay_invoice_mismatch", details, false, now).await?;
            return Ok(WebhookOutcome::Mismatch);
        }
    }
    match (&event.kind, check) {
        (WebhookEventType::InvoiceSettled, Some(check)) => settled(ctx, conn, order, check, details, now).await,
        (WebhookEventType::InvoiceExpired, check) if status == OrderStatus::AwaitingPayment => {
            let expiry = json!({ "partially_paid": event.partially_paid, "delivery_id": event.delivery_id });
            let expired = flow::close_without_sale(
                conn,
                order,
                Move::Expire,
                Actor::system(),
                "btcpay_invoice_expired",
                expiry,
                now,
            )
            .await?;
            record_partial_payment(conn, &expired, check, details, now).await?;
            Ok(WebhookOutcome::Expired)
        }
        (WebhookEventType::InvoiceExpired, check @ Some(_))
            if matches!(status, OrderStatus::Expired | OrderStatus::Cancelled) =>
        {
            // The order closed first (its payment deadline, a cancellation); the
            // part that was paid is owed back all the same.
            if record_partial_payment(conn, order, check, details, now).await? {
                Ok(WebhookOutcome::LatePaymentRefundable)
            } else {
                Ok(WebhookOutcome::Duplicate)
            }
        }
        (WebhookEventType::InvoiceInvalid, _) if status.holds_funds() => invalid(conn, order, details, now).await,
        (WebhookEventType::InvoiceExpired | WebhookEventType::InvoiceInvalid, _) => {
            flow::note(conn, order, Actor::btcpay(), &format!("btcpay_{}", event.kind.as_str()), details, false, now)
                .await?;
            Ok(WebhookOutcome::Noted)
        }
        _ => Ok(WebhookOutcome::Ignored),
    }
}

/// An invoice BTCPay reports settled: paid in full pays the order (or, for an
/// order that closed unpaid meanwhile, is owed back); short is noted.
async fn settled(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    check: &PaymentCheck,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<WebhookOutcome, ApiError> {
    if !check.fully_paid {
        flow::note(conn, order, Actor::btcpay(), "btcpay_underpaid", details, false, now).await?;
        let text = "BTCPay reports the invoice as not paid in full, so the order is still awaiting payment.";
        super::notify::tell(conn, order, ActorRole::Buyer, "payment incomplete", text, now).await?;
        return Ok(WebhookOutcome::Underpaid);
    }
    // Settled in full: at least the total arrived, possibly more (owed back).
    let received = received_cents(check, order);
    match order.status() {
        OrderStatus::AwaitingPayment => {
            flow::pay(ctx, conn, order, Actor::btcpay(), received, details, now).await?;
            Ok(WebhookOutcome::Paid)
        }
        OrderStatus::Expired | OrderStatus::Cancelled => {
            if late_payment_recorded(conn, order).await? {
                return Ok(WebhookOutcome::Duplicate);
            }
            record_late_payment(conn, order, received, details, now).await?;
            Ok(WebhookOutcome::LatePaymentRefundable)
        }
        // Already paid (by this invoice or an admin): nothing more to do.
        _ => Ok(WebhookOutcome::Duplicate),
    }
}

/// A payment BTCPay now calls invalid (a double spend, a reversed mark): the
/// money is not certain, so the seller must hold the rigs until an admin has
/// looked.
async fn invalid(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<WebhookOutcome, ApiError> {
    flow::note(conn, order, Actor::btcpay(), "btcpay_payment_invalid", details, false, now).await?;
    let text = "BTCPay marked this order's payment as invalid. Do not ship (or hand over) anything until \
                an administrator has confirmed the payment; the order stays in escrow meanwhile.";
    for party in [ActorRole::Buyer, ActorRole::Seller] {
        super::notify::tell(conn, order, party, "payment marked invalid", text, now).await?;
    }
    Ok(WebhookOutcome::Noted)
}

/// Whether money that arrived for this closed order is already owed back (at
/// most one such transaction per order; the order's row lock is held).
async fn late_payment_recorded(conn: &mut AsyncPgConnection, order: &OrderRow) -> QueryResult<bool> {
    ledger::has_transaction(conn, order.id, TransactionKind::LatePayment).await
}

/// Part of the amount arrived before the invoice expired: it is owed back.
/// Returns whether anything was recorded now.
async fn record_partial_payment(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    check: Option<&PaymentCheck>,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let received = check.and_then(|c| c.paid_cents).unwrap_or(0);
    if received <= 0 || late_payment_recorded(conn, order).await? {
        return Ok(false);
    }
    record_late_payment(conn, order, received, details, now).await?;
    Ok(true)
}

/// Money for an order that already closed unpaid: all of it is owed back.
async fn record_late_payment(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    amount_cents: i64,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let posting = Posting::new(TransactionKind::LatePayment, Some(order.id), "paid for a closed order").transfer(
        Account::External,
        Account::BuyerRefund(order.buyer_id),
        amount_cents,
    );
    ledger::post(conn, &posting, now).await?;
    flow::note(conn, order, Actor::btcpay(), "late_payment_refundable", details, false, now).await?;
    let text = format!(
        "BTCPay received {} for this order, which closed without being paid in full. All of it is owed back to \
         you and will be returned.",
        super::notify::money(amount_cents)
    );
    super::notify::tell(conn, order, ActorRole::Buyer, "late payment", &text, now).await?;
    Ok(())
}
