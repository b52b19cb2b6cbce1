//! BTCPay payments end to end: invoices created through the Greenfield mock at
//! placement (or by the invoice timer when BTCPay is down), and real HMAC-signed
//! webhook deliveries that pay, are refused, replayed, underpaid, expired, paid
//! late or overpaid, with the ledger checked after every movement of money.

mod invoices;
mod races;
mod webhooks;

use rigmarket::ledger::Account;
use serde_json::json;

use super::*;
use crate::support::accounts::{mails_for, text_of};
use crate::support::assert_problem;
use crate::support::btcpay::{self, redelivery_body, sign, webhook_body, BtcpayMock, WEBHOOK_SECRET};

async fn btcpay_market() -> Market {
    Market::open(TestApp::builder().with_smtp().with_btcpay(), json!({})).await
}

fn mock(market: &Market) -> &BtcpayMock {
    market.app.btcpay.as_ref().expect("the market was opened with_btcpay()")
}

async fn place_btcpay(market: &Market, quantity: i32) -> Value {
    let key = Uuid::new_v4().to_string();
    let body = order_body(&market.listing, quantity, "btcpay");
    json_with_status(place(&market.app, &market.buyer.token, Some(&key), &body).await, 201).await
}

/// The invoice id behind the order's checkout link (`{mock}/i/{id}`).
fn invoice_of(market: &Market, order: &Value) -> String {
    let url = order["payment"]["invoice_url"].as_str().unwrap_or_else(|| panic!("no invoice_url in {order}"));
    let prefix = format!("{}/i/", mock(market).base_url);
    url.strip_prefix(&prefix).unwrap_or_else(|| panic!("{url} is not a checkout link of the mock")).to_string()
}

fn new_delivery_id() -> String {
    Uuid::new_v4().simple().to_string()
}

async fn post_webhook(app: &TestApp, body: &str, signature: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/v1/payments/btcpay/webhook"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(signature) = signature {
        request = request.header("BTCPay-Sig", signature);
    }
    request.send().await.expect("request sent")
}

/// Delivers `body` signed with the configured secret: status and JSON answer.
async fn deliver(app: &TestApp, body: &str) -> (u16, Value) {
    let response = post_webhook(app, body, Some(&sign(WEBHOOK_SECRET, body))).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Delivers a signed body and returns the outcome; panics unless 200.
async fn outcome_of(app: &TestApp, body: &str) -> String {
    let (status, answer) = deliver(app, body).await;
    assert_eq!(status, 200, "{answer}");
    answer["outcome"].as_str().unwrap_or_else(|| panic!("no outcome in {answer}")).to_string()
}

/// A signed `InvoiceSettled` delivery with a fresh id; returns the outcome.
async fn settled_webhook(market: &Market, invoice: &str) -> String {
    outcome_of(&market.app, &webhook_body("InvoiceSettled", invoice, &new_delivery_id())).await
}

/// The kinds of the order's ledger transactions, oldest first, and its escrow balance.
async fn ledger_of(market: &Market, order: &Value) -> (Vec<String>, i64) {
    let path = format!("/v1/orders/{}/ledger", oid(order));
    let (status, ledger) = crate::support::listings::get_as(&market.app, &path, Some(&market.buyer.token)).await;
    assert_eq!(status, 200, "{ledger}");
    let kinds = ledger["transactions"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap().into()).collect();
    (kinds, ledger["escrow_balance_cents"].as_i64().unwrap())
}

async fn status_of(market: &Market, order: &Value) -> String {
    let (status, body) = get_order(&market.app, &market.buyer.token, &oid(order)).await;
    assert_eq!(status, 200, "{body}");
    body["status"].as_str().unwrap().to_string()
}

/// Rows in `btcpay_deliveries`.
async fn deliveries_recorded(app: &TestApp) -> i64 {
    use rigmarket::db::schema::btcpay_deliveries;
    btcpay_deliveries::table.count().get_result(&mut *app.conn().await).await.unwrap()
}

fn reference_of(order: &Value) -> String {
    order["payment"]["reference"].as_str().unwrap().to_string()
}

/// The order emails `address` received with this status (or notice) in the subject.
async fn order_mails(market: &Market, order: &Value, address: &str, what: &str) -> usize {
    mails_for(&market.app, address, &format!("Order {}: {what}", reference_of(order))).await.len()
}

fn total(order: &Value) -> i64 {
    order["total_cents"].as_i64().unwrap()
}

/// Counts what one order went through: payment transactions and `paid` events.
async fn payments_and_paid_events(market: &Market, order: &Value) -> (usize, usize) {
    let (kinds, _) = ledger_of(market, order).await;
    let payments = kinds.iter().filter(|k| *k == "payment").count();
    let paid = events(&market.app, &market.buyer.token, &oid(order))
        .await
        .into_iter()
        .filter(|(_, to, reason, _)| to == "paid" && reason == "paid")
        .count();
    (payments, paid)
}
