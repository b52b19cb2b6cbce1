//! Escrow orders over HTTP: placement, every transition and every refusal,
//! timers driven by the test clock, payments (wire and signed BTCPay webhooks),
//! disputes, concurrency and crash safety, with the ledger verified throughout.
//!
//! Fixtures: a market with a verified seller, buyer and admin around one active
//! S19 Pro lot, and small helpers for each step of an order.

mod btcpay;
mod concurrency;
mod crash;
mod delivery_proof;
mod disputes;
mod forbidden;
mod idempotency;
mod lifecycle;
mod reviews;
mod unit_acceptance;
mod units;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::listings::{create_active, id_of, post_empty};
use crate::support::{TestApp, TestAppBuilder};

pub struct Party {
    pub id: Uuid,
    pub email: String,
    pub token: String,
}

pub struct Market {
    pub app: TestApp,
    pub seller: Party,
    pub buyer: Party,
    pub admin: String,
    pub listing: String,
}

impl Market {
    pub async fn open(builder: TestAppBuilder, listing_overrides: Value) -> Self {
        let app = builder.spawn().await;
        let seller = party(&app, "seller").await;
        let buyer = party(&app, "buyer").await;
        let admin = party_with_roles(&app, "admin", &["admin"]).await.token;
        let listing = id_of(&create_active(&app, &seller.token, &admin, listing_overrides).await);
        Self { app, seller, buyer, admin, listing }
    }

    /// Another verified account that can buy.
    pub async fn another_buyer(&self, name: &str) -> Party {
        party(&self.app, name).await
    }
}

/// A verified account whose token outlives the clock moves of a test.
pub async fn party(app: &TestApp, name: &str) -> Party {
    party_with_roles(app, name, &[]).await
}

pub async fn party_with_roles(app: &TestApp, name: &str, roles: &[&str]) -> Party {
    let email = format!("{name}-{}@rigmarket.test", Uuid::new_v4().simple());
    let (id, _) = app.create_user(&email, roles).await;
    Party { id, token: app.long_session_for(&email).await, email }
}

pub fn address() -> Value {
    json!({"name": "Aigerim Nurlanovna", "line1": "12 Industrial Zone", "city": "Ekibastuz",
           "postal_code": "141200", "country": "KZ", "phone": "+7 701 555 0101"})
}

pub fn order_body(listing: &str, quantity: i32, method: &str) -> Value {
    json!({"listing_id": listing, "quantity": quantity, "payment_method": method, "shipping_address": address()})
}

/// `POST /v1/orders` with this key (no header when `key` is `None`).
pub async fn place(app: &TestApp, token: &str, key: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = app.client.post(app.url("/v1/orders")).bearer_auth(token).json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.expect("request sent")
}

pub async fn json_with_status(response: reqwest::Response, expected: u16) -> Value {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, expected, "{body}");
    body
}

/// Places an order for `quantity` units paid by wire; panics unless 201.
pub async fn place_ok(market: &Market, quantity: i32) -> Value {
    let key = Uuid::new_v4().to_string();
    let body = order_body(&market.listing, quantity, "wire");
    json_with_status(place(&market.app, &market.buyer.token, Some(&key), &body).await, 201).await
}

/// POST with an optional JSON body as `token`.
pub async fn act(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> reqwest::Response {
    match body {
        Some(body) => app.post_json(path, Some(token), &body).await,
        None => post_empty(app, path, Some(token)).await,
    }
}

pub async fn act_ok(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> Value {
    json_with_status(act(app, token, path, body).await, 200).await
}

pub fn oid(order: &Value) -> String {
    order["id"].as_str().unwrap_or_else(|| panic!("no id in {order}")).to_string()
}

pub async fn confirm_wire(market: &Market, order: &Value) -> Value {
    let body = json!({"amount_cents": order["total_cents"], "received_at": market.app.clock.now(), "note": "MT103 ok"});
    act_ok(&market.app, &market.admin, &format!("/v1/admin/orders/{}/confirm-payment", oid(order)), Some(body)).await
}

pub fn shipment() -> Value {
    json!({"carrier": "DHL Freight", "tracking_number": "JD014600006281234567"})
}

pub async fn ship(market: &Market, order: &Value) -> Value {
    act_ok(&market.app, &market.seller.token, &format!("/v1/orders/{}/ship", oid(order)), Some(shipment())).await
}

pub async fn confirm_delivery(market: &Market, order: &Value) -> Value {
    act_ok(&market.app, &market.buyer.token, &format!("/v1/orders/{}/confirm-delivery", oid(order)), None).await
}

/// An order walked to `delivered` (paid by wire, shipped, delivery confirmed).
pub async fn delivered_order(market: &Market, quantity: i32) -> Value {
    let order = place_ok(market, quantity).await;
    confirm_wire(market, &order).await;
    ship(market, &order).await;
    confirm_delivery(market, &order).await
}

pub async fn get_order(app: &TestApp, token: &str, id: &str) -> (u16, Value) {
    crate::support::listings::get_as(app, &format!("/v1/orders/{id}"), Some(token)).await
}

/// The order's events as `(from, to, reason, actor_role)`.
pub async fn events(app: &TestApp, token: &str, id: &str) -> Vec<(Value, String, String, String)> {
    crate::support::pages::items(app, &format!("/v1/orders/{id}/events"), Some(token))
        .await
        .iter()
        .map(|e| {
            (
                e["from_status"].clone(),
                e["to_status"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap().to_string(),
                e["actor_role"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `(available, reserved, sold)` of a listing, read from the database.
pub async fn units(app: &TestApp, listing: &str) -> (i32, i32, i32) {
    use rigmarket::db::schema::listings;
    let id: Uuid = listing.parse().unwrap();
    listings::table
        .find(id)
        .select((listings::quantity_available, listings::quantity_reserved, listings::quantity_sold))
        .first(&mut *app.conn().await)
        .await
        .unwrap()
}

/// Every ledger invariant holds.
pub async fn assert_ledger_sound(app: &TestApp) {
    let violations = rigmarket::orders::verify_ledger(&mut *app.conn().await).await.expect("verify the ledger");
    assert!(violations.is_empty(), "ledger violations: {violations:#?}");
}

/// The balance of a ledger account.
pub async fn balance(app: &TestApp, account: rigmarket::ledger::Account) -> i64 {
    rigmarket::ledger::balance(&mut *app.conn().await, account).await.unwrap()
}

pub async fn order_count(app: &TestApp) -> i64 {
    use rigmarket::db::schema::orders;
    orders::table.count().get_result(&mut *app.conn().await).await.unwrap()
}

/// Moves the clock and runs every job that became due.
pub async fn advance(app: &TestApp, by: chrono::Duration) {
    app.clock.advance(by);
    app.drain_jobs().await;
}
