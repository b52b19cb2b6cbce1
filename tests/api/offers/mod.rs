//! Offers and counter-offers over HTTP: every transition and every refusal, the
//! floor tied to the price index, auto-accept, the order an offer makes carrying
//! its terms through payment, shipping and acceptance, the timers, and the races
//! with two instances on one database.
//!
//! Fixtures: the orders' market (a verified seller, buyer and admin around one
//! active S19 Pro lot) and a helper per step of a thread.

mod concurrency;
mod floor;
mod forbidden;
mod lifecycle;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};
use uuid::Uuid;

pub use crate::orders::{address, json_with_status, order_count, units, Market};
use crate::support::TestApp;

/// An offer body: `quantity` units at `price` cents, paid by wire.
pub fn offer(quantity: i32, price: i64) -> Value {
    json!({"quantity": quantity, "unit_price_cents": price, "payment_method": "wire", "shipping_address": address()})
}

/// `POST /v1/listings/{listing}/offers` with a fresh Idempotency-Key.
pub async fn make(app: &TestApp, token: &str, listing: &str, body: &Value) -> reqwest::Response {
    make_with_key(app, token, listing, body, &Uuid::new_v4().to_string()).await
}

pub async fn make_with_key(app: &TestApp, token: &str, listing: &str, body: &Value, key: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/listings/{listing}/offers")))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

/// The buyer's offer on the market's listing; panics unless 201.
pub async fn make_ok(market: &Market, body: &Value) -> Value {
    json_with_status(make(&market.app, &market.buyer.token, &market.listing, body).await, 201).await
}

/// `POST /v1/offers/{id}/{action}`.
pub async fn move_on(
    app: &TestApp,
    token: &str,
    thread: &Value,
    action: &str,
    body: Option<Value>,
) -> reqwest::Response {
    crate::orders::act(app, token, &format!("/v1/offers/{}/{action}", tid(thread)), body).await
}

pub async fn move_ok(app: &TestApp, token: &str, thread: &Value, action: &str, body: Option<Value>) -> Value {
    json_with_status(move_on(app, token, thread, action, body).await, 200).await
}

pub fn tid(thread: &Value) -> String {
    thread["id"].as_str().unwrap_or_else(|| panic!("no id in {thread}")).to_string()
}

pub async fn get_thread(app: &TestApp, token: &str, thread: &Value) -> Value {
    let (status, body) =
        crate::support::listings::get_as(app, &format!("/v1/offers/{}", tid(thread)), Some(token)).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// How many threads and versions exist.
pub async fn counts(app: &TestApp) -> (i64, i64) {
    use rigmarket::db::schema::{offer_threads, offer_versions};
    let mut conn = app.conn().await;
    let threads = offer_threads::table.count().get_result(&mut *conn).await.unwrap();
    let versions = offer_versions::table.count().get_result(&mut *conn).await.unwrap();
    (threads, versions)
}
