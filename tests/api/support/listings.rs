//! Listing helpers: catalog lookups, a valid listing body with overrides, the
//! seller/admin steps that publish a listing, search page walks, and direct
//! database reads for "nothing was written" checks.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rigmarket::db::schema::listings;
use serde_json::{json, Value};
use uuid::Uuid;

use super::TestApp;

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// The id of a seeded (or admin-created) model, by its name.
pub async fn model_id(app: &TestApp, name: &str) -> String {
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/rig-models?limit=100&cursor={c}"),
            None => "/v1/rig-models?limit=100".to_string(),
        };
        let (status, page) = app.get_json(&path).await;
        assert_eq!(status, 200, "{page}");
        if let Some(model) = page["items"].as_array().unwrap().iter().find(|m| m["name"] == name) {
            return model["id"].as_str().unwrap().to_string();
        }
        cursor = Some(page["next_cursor"].as_str().unwrap_or_else(|| panic!("no model named {name}")).to_string());
    }
}

/// A valid listing body for `model` (an S19 Pro lot in KZ unless overridden).
pub fn listing_body(model: &str) -> Value {
    json!({
        "rig_model_id": model,
        "title": "Antminer S19 Pro lot",
        "description": "Air-cooled since 2021, stock firmware.",
        "quantity": 10,
        "unit_price_cents": 95_000,
        "currency": "USD",
        "country": "KZ",
    })
}

/// `base` with each key of `overrides` set (a `null` override removes the key).
pub fn merged(mut base: Value, overrides: &Value) -> Value {
    let object = base.as_object_mut().expect("an object body");
    for (key, value) in overrides.as_object().expect("an object of overrides") {
        if value.is_null() {
            object.remove(key);
        } else {
            object.insert(key.clone(), value.clone());
        }
    }
    base
}

/// `POST /v1/listings` with a valid body changed by `overrides` (the model is the
/// Antminer S19 Pro unless `rig_model_id` is given).
pub async fn try_create_listing(app: &TestApp, token: &str, overrides: Value) -> reqwest::Response {
    let model = match overrides.get("rig_model_id").and_then(Value::as_str) {
        Some(id) => id.to_string(),
        None => model_id(app, "Antminer S19 Pro").await,
    };
    app.post_json("/v1/listings", Some(token), &merged(listing_body(&model), &overrides)).await
}

/// Creates a draft and returns its JSON; panics unless the answer is 201.
pub async fn create_listing(app: &TestApp, token: &str, overrides: Value) -> Value {
    let response = try_create_listing(app, token, overrides).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "create listing: {body}");
    body
}

/// POST without a body, optionally with a bearer token.
pub async fn post_empty(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.post(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request sent")
}

/// GET with an optional bearer token: status and JSON body.
pub async fn get_as(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// GET with an optional bearer token (for `assert_problem`).
pub async fn get_response(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request sent")
}

pub async fn delete_as(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client.delete(app.url(path)).bearer_auth(token).send().await.expect("request sent")
}

/// Expects a 200 with a JSON body and returns the body.
pub async fn ok_json(response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{body}");
    body
}

pub fn id_of(listing: &Value) -> String {
    listing["id"].as_str().unwrap_or_else(|| panic!("no id in {listing}")).to_string()
}

pub async fn submit(app: &TestApp, seller: &str, id: &str) -> Value {
    ok_json(post_empty(app, &format!("/v1/listings/{id}/submit"), Some(seller)).await).await
}

pub async fn approve(app: &TestApp, admin: &str, id: &str) -> Value {
    ok_json(post_empty(app, &format!("/v1/admin/listings/{id}/approve"), Some(admin)).await).await
}

/// Submits (as the seller) and approves (as an admin) a draft; returns the
/// active listing.
pub async fn publish(app: &TestApp, seller: &str, admin: &str, id: &str) -> Value {
    submit(app, seller, id).await;
    let listing = approve(app, admin, id).await;
    assert_eq!(listing["status"], "active", "{listing}");
    listing
}

/// Creates and publishes a listing.
pub async fn create_active(app: &TestApp, seller: &str, admin: &str, overrides: Value) -> Value {
    let draft = create_listing(app, seller, overrides).await;
    publish(app, seller, admin, &id_of(&draft)).await
}

/// A valid condition report body with this cosmetic grade.
pub fn condition_report(grade: &str) -> Value {
    json!({
        "cosmetic_grade": grade,
        "hashboards_total": 3,
        "hashboards_working": 3,
        "fans_total": 4,
        "fans_working": 4,
        "psu_included": true,
        "psu_model": "APW12",
        "firmware": "stock",
        "firmware_version": "2021-03-12",
        "cooling_history": "air",
        "operating_hours": 9800,
        "last_hashrate_hs": 108_000_000_000_000_i64,
        "last_power_w": 3270,
        "max_chip_temp_c": 78,
        "repairs": "one fan replaced",
        "notes": "dusty"
    })
}

pub async fn add_report(app: &TestApp, token: &str, id: &str, grade: &str) -> Value {
    let response =
        app.post_json(&format!("/v1/listings/{id}/condition-reports"), Some(token), &condition_report(grade)).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "add condition report: {body}");
    body
}

/// One search page (`query` without the leading `?`).
pub async fn search(app: &TestApp, query: &str) -> Value {
    let (status, page) = app.get_json(&format!("/v1/listings?{query}")).await;
    assert_eq!(status, 200, "GET /v1/listings?{query}: {page}");
    page
}

/// Every item of a search, following `next_cursor` (`query` must not set a
/// cursor). Panics if it does not end within 1,000 pages.
pub async fn search_all(app: &TestApp, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let path = match &cursor {
            Some(c) => format!("{query}&cursor={c}"),
            None => query.to_string(),
        };
        let page = search(app, &path).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return items,
        }
    }
    panic!("search {query} did not end");
}

pub fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(id_of).collect()
}

/// Listings in the database, whatever their status.
pub async fn listing_count(app: &TestApp) -> i64 {
    listings::table.count().get_result(&mut *app.conn().await).await.expect("count listings")
}

/// Marks units of a listing as reserved and sold, as orders would.
pub async fn set_units(app: &TestApp, id: &str, reserved: i32, sold: i32) {
    let id: Uuid = id.parse().unwrap();
    diesel::update(listings::table.find(id))
        .set((listings::quantity_reserved.eq(reserved), listings::quantity_sold.eq(sold)))
        .execute(&mut *app.conn().await)
        .await
        .expect("set units");
}

/// Takes the email verification away from an account.
pub async fn unverify(app: &TestApp, user: Uuid) {
    use rigmarket::db::schema::users;
    diesel::update(users::table.find(user))
        .set(users::email_verified_at.eq(None::<DateTime<Utc>>))
        .execute(&mut *app.conn().await)
        .await
        .expect("unverify user");
}

/// The subjects of every message delivered to `address` so far (needs
/// `with_smtp()`; run the outbox first with `drain_jobs`).
pub fn subjects_for(app: &TestApp, address: &str) -> Vec<String> {
    let smtp = app.smtp.as_ref().expect("the app was built with_smtp()");
    smtp.received_for(address).iter().map(|m| m.header("Subject").unwrap_or_default()).collect()
}
