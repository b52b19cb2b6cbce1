//! Money coming in: admins confirm wire transfers; BTCPay invoices are created
//! for `btcpay` orders and their signed webhooks pay them. Both paths take the
//! order's row lock and go through `flow::pay`, and the ledger allows one payment
//! per order, so a webhook racing an admin pays the order once.
//!
//! A webhook body is never trusted alone: after its HMAC signature checks out,
//! the invoice is read back from BTCPay's API, and only an invoice settled in
//! full, for this order's amount and currency, pays it. What BTCPay received
//! beyond the total, or for an order that closed unpaid (paid late, or part of
//! it before the invoice expired), is owed back to the buyer in the ledger, once
//! per order. Deliveries are recorded by id in the transaction of their effect,
//! so a replay is a no-op.

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
        // The placement email went out before the invoice existed; this one has its link.
        tell_invoice_link(conn, &updated, &invoice.checkout_link, now).await?;
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
        tell_invoice_link(conn, &updated, &invoice.checkout_link, now).await?;
        // A replay of the placement now answers with the invoice too.
        let view = serde_json::to_value(super::view::render_one(state, conn, updated).await?)?;
        super::idempotency::refresh_answer(conn, order.id, &view).await?;
    }
    Ok(())
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
    state: &AppState,
    order_id: uuid::Uuid,
) -> Result<Option<PaymentCheck>, ApiError> {
    let mut conn = state.pool.get().await?;
    let Some(order) = queries::find(&mut conn, order_id).await? else { return Ok(None) };
    if order.payment_method != "btcpay" {
        return Ok(None);
    }
    let invoice = order.btcpay_invoice_id.ok_or_else(invoice_pending)?;
    Ok(Some(btcpay(state)?.payment_check(&invoice).await.map_err(unavailable)?))
}

fn invoice_pending() -> ApiError {
    ApiError::conflict("invoice_pending", "This order's BTCPay invoice is still being created; retry shortly.")
}

/// The invoice BTCPay describes is this order's, for its amount and currency.
fn invoice_matches(check: &PaymentCheck, order: &OrderRow) -> bool {
    check.order_id == Some(order.id) && check.amount_cents == order.total_cents && check.currency == order.currency
}

/// What arrived for an invoice settled in full: at least the total (an excess is owed back).
fn received_cents(check: &PaymentCheck, order: &OrderRow) -> i64 {
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
    state: &AppState,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    admin: Actor,
    confirmation: AdminConfirmation<'_>,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let AdminConfirmation { amount_cents, check, details } = confirmation;
    if order.payment_method != "btcpay" {
        return flow::pay(state, conn, order, admin, amount_cents, details, now).await;
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
    flow::pay(state, conn, order, admin, received_cents(check, order), details, now).await
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
    let money_moved = money_may_have_moved(&event);
    let check = match event.invoice_id.as_deref() {
        // Invoices no order made (the store's other sales, archived ones) are not
        // looked up: BTCPay may not even know them, and they are not ours to pay.
        Some(invoice) if money_moved && invoice_has_order(state, invoice).await? => {
            Some(client.payment_check(invoice).await.map_err(unavailable)?)
        }
        _ => None,
    };
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    conn.transaction(async |conn| apply_webhook(state, conn, &event, check.as_ref(), now).await).await
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

async fn invoice_has_order(state: &AppState, invoice_id: &str) -> Result<bool, ApiError> {
    let mut conn = state.pool.get().await?;
    let found = diesel::select(diesel::dsl::exists(orders::table.filter(orders::btcpay_invoice_id.eq(invoice_id))))
        .get_result(&mut conn)
        .await?;
    Ok(found)
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
        (WebhookEventType::InvoiceSettled, Some(check)) => {
            if !check.fully_paid {
                flow::note(conn, order, Actor::btcpay(), "btcpay_underpaid", details, false, now).await?;
                let text = "BTCPay reports the invoice as not paid in full, so the order is still awaiting payment.";
                super::notify::tell(conn, order, ActorRole::Buyer, "payment incomplete", text, now).await?;
                return Ok(WebhookOutcome::Underpaid);
            }
            // Settled in full: at least the total arrived, possibly more (owed back).
            let received = received_cents(check, order);
            match status {
                OrderStatus::AwaitingPayment => {
                    flow::pay(state, conn, order, Actor::btcpay(), received, details, now).await?;
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
        (WebhookEventType::InvoiceExpired, _) if status == OrderStatus::AwaitingPayment => {
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
        (WebhookEventType::InvoiceInvalid, _) if status.holds_funds() => {
            // A payment BTCPay now calls invalid (a double spend, a reversed mark):
            // the money is not certain, so the seller must hold the rigs until an
            // admin has looked.
            flow::note(conn, order, Actor::btcpay(), "btcpay_payment_invalid", details, false, now).await?;
            let text = "BTCPay marked this order's payment as invalid. Do not ship (or hand over) anything until \
                        an administrator has confirmed the payment; the order stays in escrow meanwhile.";
            for party in [ActorRole::Buyer, ActorRole::Seller] {
                super::notify::tell(conn, order, party, "payment marked invalid", text, now).await?;
            }
            Ok(WebhookOutcome::Noted)
        }
        (WebhookEventType::InvoiceExpired | WebhookEventType::InvoiceInvalid, _) => {
            flow::note(conn, order, Actor::btcpay(), &format!("btcpay_{}", event.kind.as_str()), details, false, now)
                .await?;
            Ok(WebhookOutcome::Noted)
        }
        _ => Ok(WebhookOutcome::Ignored),
    }
}

/// Whether money that arrived for this closed order is already owed back (at
/// most one such transaction per order; the order's row lock is held).
async fn late_payment_recorded(conn: &mut AsyncPgConnection, order: &OrderRow) -> QueryResult<bool> {
    use crate::db::schema::ledger_transactions;
    diesel::select(diesel::dsl::exists(
        ledger_transactions::table
            .filter(ledger_transactions::order_id.eq(order.id))
            .filter(ledger_transactions::kind.eq(TransactionKind::LatePayment.as_str())),
    ))
    .get_result(conn)
    .await
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
