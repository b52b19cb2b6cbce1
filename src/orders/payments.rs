//! Money coming in: admins confirm wire transfers; BTCPay invoices are created
//! for `btcpay` orders and their signed webhooks pay them. Both paths take the
//! order's row lock and go through `flow::pay`, and the ledger allows one payment
//! per order, so a webhook racing an admin pays the order once.
//!
//! A webhook body is never trusted alone: after its HMAC signature checks out,
//! the invoice is read back from BTCPay's API, and only an invoice settled in
//! full, for this order's amount and currency, pays it. Deliveries are recorded
//! by id in the transaction of their effect, so a replay is a no-op.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::flow;
use super::model::OrderRow;
use super::queries::{self, Actor};
use super::state::{ActorRole, Move, OrderStatus};
use crate::db::schema::{btcpay_deliveries, orders};
use crate::error::ApiError;
use crate::ledger::{self, Account, Posting, TransactionKind};
use crate::payments::btcpay::{
    parse_webhook, verify_signature, BtcpayClient, BtcpayError, InvoiceRequest, PaymentCheck, WebhookEvent,
    WebhookEventType,
};
use crate::AppState;

fn btcpay(state: &AppState) -> Result<&BtcpayClient, ApiError> {
    state
        .btcpay
        .as_ref()
        .ok_or_else(|| ApiError::not_found("btcpay_not_configured", "BTCPay payments are not enabled on this server."))
}

fn invoice_request(order: &OrderRow, buyer_email: String, now: DateTime<Utc>) -> InvoiceRequest {
    InvoiceRequest {
        order_id: order.id,
        amount_cents: order.total_cents,
        currency: order.currency.clone(),
        buyer_email: Some(buyer_email),
        // The invoice lives as long as the order waits for payment.
        expiration_minutes: Some((order.pay_by - now).num_minutes().max(1)),
        redirect_url: None,
    }
}

async fn store_invoice(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    invoice_id: &str,
    checkout_link: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<OrderRow>> {
    diesel::update(orders::table.find(order.id).filter(orders::btcpay_invoice_id.is_null()))
        .set((
            orders::btcpay_invoice_id.eq(invoice_id),
            orders::btcpay_checkout_url.eq(checkout_link),
            orders::updated_at.eq(now),
        ))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Right after placement: creates the invoice and stores it on the order (and in
/// the stored idempotent answer). On failure the order keeps waiting for its
/// invoice timer, and the answer says the invoice is still being created.
pub async fn attach_invoice_after_placement(
    state: &AppState,
    order: OrderRow,
    key: super::idempotency::KeyUse<'_>,
) -> Result<OrderRow, ApiError> {
    let client = btcpay(state)?;
    let mut conn = state.pool.get().await?;
    let email = crate::accounts::email_of(&mut conn, order.buyer_id).await?;
    let invoice = match client.create_invoice(&invoice_request(&order, email, state.clock.now())).await {
        Ok(invoice) => invoice,
        Err(err) => {
            tracing::warn!(order.id = %order.id, error = %err, "BTCPay invoice not created; the invoice timer retries");
            return Ok(order);
        }
    };
    let now = state.clock.now();
    conn.transaction(async |conn| {
        let Some(locked) = queries::lock(conn, order.id).await? else { return Ok(order.clone()) };
        if locked.status() != OrderStatus::AwaitingPayment {
            return Ok(locked);
        }
        let Some(updated) = store_invoice(conn, &locked, &invoice.id, &invoice.checkout_link, now).await? else {
            return Ok(locked);
        };
        let view = super::view::render_one(state, conn, updated.clone()).await?;
        let json = serde_json::to_value(&view).map_err(anyhow::Error::from)?;
        super::idempotency::store(conn, key, 201, &json, Some(order.id), now).await?;
        Ok(updated)
    })
    .await
}

/// The invoice timer: creates the invoice placement could not, and emails the
/// buyer its link. Fails (and is retried with backoff) while BTCPay is down.
pub async fn create_missing_invoice(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let client = state.btcpay.as_ref().ok_or_else(|| anyhow::anyhow!("BTCPay is not configured"))?;
    let email = crate::accounts::email_of(conn, order.buyer_id).await?;
    let invoice = client.create_invoice(&invoice_request(order, email, now)).await?;
    if let Some(updated) = store_invoice(conn, order, &invoice.id, &invoice.checkout_link, now).await? {
        let text = format!("Pay with bitcoin here: {}", invoice.checkout_link);
        super::notify::tell(conn, &updated, ActorRole::Buyer, "your BTCPay invoice", &text, now).await?;
    }
    Ok(())
}

/// Admin: a wire transfer arrived for this order.
pub async fn confirm_wire(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    admin: Actor,
    amount_cents: i64,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    if order.payment_method != "wire" {
        return Err(ApiError::conflict(
            "wrong_payment_method",
            "This order is paid through BTCPay; its invoice confirms the payment.",
        ));
    }
    flow::pay(state, conn, order, admin, amount_cents, details, now).await
}

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

fn unavailable(err: BtcpayError) -> ApiError {
    // 503 makes BTCPay redeliver later; nothing was recorded.
    ApiError::Unavailable(format!("confirming the invoice with BTCPay: {err}"))
}

/// Verifies, de-duplicates and applies one webhook delivery.
pub async fn handle_webhook(
    state: &AppState,
    raw_body: &[u8],
    signature: Option<&str>,
) -> Result<WebhookOutcome, ApiError> {
    let client = btcpay(state)?;
    if !verify_signature(client.webhook_secret(), raw_body, signature) {
        return Err(ApiError::unauthorized("invalid_signature", "The BTCPay-Sig header does not match the body."));
    }
    let event = parse_webhook(raw_body)
        .map_err(|_| ApiError::bad_request("malformed_webhook", "The body is not a BTCPay webhook delivery."))?;
    if event.is_test() || event.store_id != client.config().store_id {
        return Ok(WebhookOutcome::Ignored);
    }
    let check = match (&event.kind, event.invoice_id.as_deref()) {
        (WebhookEventType::InvoiceSettled, Some(invoice)) => {
            Some(client.payment_check(invoice).await.map_err(unavailable)?)
        }
        _ => None,
    };
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    conn.transaction(async |conn| apply_webhook(state, conn, &event, check.as_ref(), now).await).await
}

async fn apply_webhook(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    event: &WebhookEvent,
    check: Option<&PaymentCheck>,
    now: DateTime<Utc>,
) -> Result<WebhookOutcome, ApiError> {
    let inserted = diesel::insert_into(btcpay_deliveries::table)
        .values((
            btcpay_deliveries::delivery_id.eq(event.dedup_key()),
            btcpay_deliveries::event_type.eq(event.kind.as_str()),
            btcpay_deliveries::invoice_id.eq(&event.invoice_id),
            btcpay_deliveries::outcome.eq("processing"),
            btcpay_deliveries::received_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 0 {
        return Ok(WebhookOutcome::Duplicate);
    }
    let order = match event.invoice_id.as_deref() {
        Some(invoice) => queries::lock_by_invoice(conn, invoice).await?,
        None => None,
    };
    let outcome = match order {
        None => WebhookOutcome::UnknownInvoice,
        Some(order) => apply_to_order(state, conn, event, check, &order, now).await?,
    };
    diesel::update(btcpay_deliveries::table.find(event.dedup_key()))
        .set(btcpay_deliveries::outcome.eq(outcome.as_str()))
        .execute(conn)
        .await?;
    tracing::info!(btcpay.delivery = %event.delivery_id, btcpay.event = %event.kind, outcome = outcome.as_str(), "BTCPay webhook");
    Ok(outcome)
}

async fn apply_to_order(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    event: &WebhookEvent,
    check: Option<&PaymentCheck>,
    order: &OrderRow,
    now: DateTime<Utc>,
) -> Result<WebhookOutcome, ApiError> {
    diesel::update(btcpay_deliveries::table.find(event.dedup_key()))
        .set(btcpay_deliveries::order_id.eq(order.id))
        .execute(conn)
        .await?;
    let details =
        json!({ "delivery_id": event.delivery_id, "invoice_id": event.invoice_id, "event": event.kind.as_str() });
    let status = order.status();
    match (&event.kind, check) {
        (WebhookEventType::InvoiceSettled, Some(check)) => {
            let matches = check.order_id == Some(order.id)
                && check.amount_cents == order.total_cents
                && check.currency == order.currency;
            if !matches {
                flow::note(conn, order, Actor::btcpay(), "btcpay_invoice_mismatch", details, false, now).await?;
                return Ok(WebhookOutcome::Mismatch);
            }
            if !check.fully_paid {
                flow::note(conn, order, Actor::btcpay(), "btcpay_underpaid", details, false, now).await?;
                let text = "BTCPay reports the invoice as not paid in full, so the order is still awaiting payment.";
                super::notify::tell(conn, order, ActorRole::Buyer, "payment incomplete", text, now).await?;
                return Ok(WebhookOutcome::Underpaid);
            }
            match status {
                OrderStatus::AwaitingPayment => {
                    flow::pay(state, conn, order, Actor::btcpay(), check.amount_cents, details, now).await?;
                    Ok(WebhookOutcome::Paid)
                }
                OrderStatus::Expired | OrderStatus::Cancelled => {
                    record_late_payment(conn, order, check.amount_cents, details, now).await?;
                    Ok(WebhookOutcome::LatePaymentRefundable)
                }
                // Already paid (by this invoice or an admin): nothing more to do.
                _ => Ok(WebhookOutcome::Duplicate),
            }
        }
        (WebhookEventType::InvoiceExpired, _) if status == OrderStatus::AwaitingPayment => {
            let details = json!({ "partially_paid": event.partially_paid, "delivery_id": event.delivery_id });
            flow::close_without_sale(
                conn,
                order,
                Move::Expire,
                Actor::system(),
                "btcpay_invoice_expired",
                details,
                now,
            )
            .await?;
            Ok(WebhookOutcome::Expired)
        }
        (WebhookEventType::InvoiceExpired | WebhookEventType::InvoiceInvalid, _) => {
            flow::note(conn, order, Actor::btcpay(), &format!("btcpay_{}", event.kind.as_str()), details, false, now)
                .await?;
            Ok(WebhookOutcome::Noted)
        }
        _ => Ok(WebhookOutcome::Ignored),
    }
}

/// Money for an order that already closed unpaid: all of it is owed back.
async fn record_late_payment(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    amount_cents: i64,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let posting = Posting::new(TransactionKind::LatePayment, Some(order.id), "paid after the order closed").transfer(
        Account::External,
        Account::BuyerRefund(order.buyer_id),
        amount_cents,
    );
    ledger::post(conn, &posting, now).await?;
    flow::note(conn, order, Actor::btcpay(), "late_payment_refundable", details, false, now).await?;
    let text = "Your payment arrived after the order had closed. It is owed back to you in full and will be returned.";
    super::notify::tell(conn, order, ActorRole::Buyer, "late payment", text, now).await?;
    Ok(())
}
