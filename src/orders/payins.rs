//! Money coming in: BTCPay invoices for `btcpay` orders (created after
//! placement, or by the invoice timer), and admins confirming payments (a wire
//! transfer, or a BTCPay invoice read back from BTCPay). Webhooks are in
//! [`super::btcpay_events`]. Every path takes the order's row lock and goes through
//! `flow::pay`, and the ledger allows one payment per order, so an admin and a
//! webhook racing on an order pay it once.

use chrono::{DateTime, Utc};

use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;

use super::context::OrderContext;
use super::flow;
use super::model::{OrderRow, PaymentMethod};
use super::queries::{self, Actor};
use super::state::{ActorRole, OrderStatus};
use crate::clock::Clock;
use crate::db::ids::OrderId;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::payments::btcpay::{BtcpayClient, BtcpayError, Invoice, InvoiceRequest, PaymentCheck};
use crate::payments::Payments;

pub(super) fn btcpay(payments: &Payments) -> Result<&BtcpayClient, ApiError> {
    payments
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

/// Right after placement: creates the invoice and records it on the order. On
/// failure the order keeps waiting for its invoice timer, and the answer says the
/// invoice is still being created.
pub async fn attach_invoice_after_placement(
    pool: &DbPool,
    clock: &Clock,
    ctx: &OrderContext,
    order: OrderRow,
) -> Result<OrderRow, ApiError> {
    let client = btcpay(&ctx.payments)?;
    let mut conn = pool.get().await?;
    let email = crate::accounts::email_of(&mut conn, order.buyer_id).await?;
    let invoice = match client.create_invoice(&invoice_request(&order, email, clock.now())).await {
        Ok(invoice) => invoice,
        Err(err) => {
            tracing::warn!(order.id = %order.id, error = %err, "BTCPay invoice not created; the invoice timer retries");
            return Ok(order);
        }
    };
    // BTCPay took its time: the invoice is recorded as of now.
    let now = clock.now();
    conn.transaction(async |conn| {
        let Some(locked) = queries::lock(conn, order.id).await? else { return Ok(order.clone()) };
        if locked.status() != OrderStatus::AwaitingPayment {
            return Ok(locked);
        }
        Ok(record_invoice(ctx, conn, &locked, &invoice, now).await?.unwrap_or(locked))
    })
    .await
}

/// The invoice timer: creates the invoice placement could not. Fails (and is
/// retried with backoff) while BTCPay is down.
pub async fn create_missing_invoice(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let client = ctx.payments.btcpay.as_ref().ok_or_else(|| anyhow::anyhow!("BTCPay is not configured"))?;
    let email = crate::accounts::email_of(conn, order.buyer_id).await?;
    let invoice = client.create_invoice(&invoice_request(order, email, now)).await?;
    record_invoice(ctx, conn, order, &invoice, now).await?;
    Ok(())
}

/// Stores a new invoice on its (locked, still unpaid) order, emails the buyer the
/// checkout link, and updates the placement's stored idempotent answer so that a
/// replay answers with the invoice too. `None` when the order already had one.
async fn record_invoice(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    invoice: &Invoice,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<OrderRow>> {
    let Some(updated) = queries::store_invoice(conn, order.id, &invoice.id, &invoice.checkout_link, now).await? else {
        return Ok(None);
    };
    tell_invoice_link(conn, &updated, &invoice.checkout_link, now).await?;
    let view = serde_json::to_value(super::view::render_one(ctx, conn, updated.clone()).await?)?;
    crate::idempotency::refresh_answer(conn, order.id, &view).await?;
    Ok(Some(updated))
}

async fn tell_invoice_link(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    checkout_link: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let text = format!("Pay with bitcoin here: {checkout_link}");
    super::notify::tell(conn, order, ActorRole::Buyer, "your BTCPay invoice", &text, now).await
}

/// Before an admin confirms a BTCPay order: BTCPay's own account of its invoice,
/// read before the order is locked (the row lock is never held across a call
/// to BTCPay). `None` for wire orders.
pub async fn check_before_admin_confirmation(
    conn: &mut AsyncPgConnection,
    payments: &Payments,
    order_id: OrderId,
) -> Result<Option<PaymentCheck>, ApiError> {
    let Some(order) = queries::find(conn, order_id).await? else { return Ok(None) };
    if order.payment_method != PaymentMethod::Btcpay {
        return Ok(None);
    }
    let invoice = order.btcpay_invoice_id.ok_or_else(invoice_pending)?;
    Ok(Some(btcpay(payments)?.payment_check(&invoice).await.map_err(unavailable)?))
}

fn invoice_pending() -> ApiError {
    ApiError::conflict("invoice_pending", "This order's BTCPay invoice is still being created; retry shortly.")
}

/// The invoice BTCPay describes is this order's, for its amount and currency.
pub(super) fn invoice_matches(check: &PaymentCheck, order: &OrderRow) -> bool {
    check.order_id == Some(order.id) && check.amount_cents == order.total_cents && check.currency == order.currency
}

/// What arrived for an invoice settled in full: at least the total (an excess is owed back).
pub(super) fn received_cents(check: &PaymentCheck, order: &OrderRow) -> i64 {
    check.paid_cents.unwrap_or(check.amount_cents).max(order.total_cents)
}

/// What an admin states about a payment, with BTCPay's view for BTCPay orders.
pub struct AdminConfirmation<'a> {
    pub amount_cents: i64,
    pub check: Option<&'a PaymentCheck>,
    pub details: serde_json::Value,
}

/// Admin: the money arrived. A wire order is paid with the amount the bank
/// received. A BTCPay order is paid only when BTCPay itself reports its invoice
/// settled in full (`check`, read just before): the admin confirms what BTCPay
/// saw, for example while its webhook is stuck, and can never pay an invoice
/// that is not. Either way the order's row lock and the ledger's one payment
/// per order make an admin and a webhook racing on it pay it once.
pub async fn confirm_by_admin(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    admin: Actor,
    confirmation: AdminConfirmation<'_>,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let AdminConfirmation { amount_cents, check, details } = confirmation;
    if order.payment_method != PaymentMethod::Btcpay {
        return flow::pay(ctx, conn, order, admin, amount_cents, details, now).await;
    }
    flow::check(order, super::state::Move::Pay, admin)?;
    // The invoice was attached between the check and the lock: look again.
    let check = check.ok_or_else(invoice_pending)?;
    if !invoice_matches(check, order) || !check.fully_paid {
        return Err(ApiError::unprocessable(
            "payment_not_settled",
            "BTCPay does not report this order's invoice as settled in full, so it cannot be confirmed.",
        ));
    }
    let mut details = details;
    details["confirmed_against"] = json!("btcpay");
    flow::pay(ctx, conn, order, admin, received_cents(check, order), details, now).await
}

pub(super) fn unavailable(err: BtcpayError) -> ApiError {
    // 503 makes BTCPay redeliver later; nothing was recorded.
    ApiError::Unavailable(format!("confirming the invoice with BTCPay: {err}"))
}
