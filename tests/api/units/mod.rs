//! Farms by serial: units registered whole or not at all, one open lot per
//! serial, the public registry, stolen reports, and lots sold by serial kept
//! off the market until their units are complete and clean.

mod cli;
mod registration;
mod registry;

use serde_json::{json, Value};

use crate::support::listings::{create_listing, get_as, id_of, post_empty};
use crate::support::{assert_problem, TestApp};

/// `count` unit bodies with serials `{prefix}0001`...
fn units(prefix: &str, count: usize) -> Vec<Value> {
    (1..=count).map(|i| json!({ "serial": format!("{prefix}{i:04}") })).collect()
}

async fn add_units(app: &TestApp, token: &str, listing: &str, units: &[Value]) -> reqwest::Response {
    app.post_json(&format!("/v1/listings/{listing}/units"), Some(token), &json!({ "units": units })).await
}

/// Adds units and expects a 201.
async fn added(app: &TestApp, token: &str, listing: &str, units: &[Value]) -> Value {
    let response = add_units(app, token, listing, units).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "add units: {body}");
    body
}

/// A draft lot of `quantity` units.
async fn draft_lot(app: &TestApp, seller: &str, quantity: usize) -> String {
    id_of(&create_listing(app, seller, json!({ "quantity": quantity })).await)
}

/// Every unit of a lot, following the cursor.
async fn all_units(app: &TestApp, token: Option<&str>, listing: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let limit = if query.contains("limit=") { "" } else { "limit=100" };
        let mut path = format!("/v1/listings/{listing}/units?{limit}{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = get_as(app, &path, token).await;
        assert_eq!(status, 200, "{page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return items,
        }
    }
}

async fn unit_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use rigmarket::db::schema::units;
    units::table.count().get_result(&mut *app.conn().await).await.unwrap()
}

async fn lookup(app: &TestApp, serial: &str) -> Value {
    let (status, body) = app.get_json(&format!("/v1/serials/{serial}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Open flags on `listing` (admin queue), as (reason, serial, related lot).
async fn open_flags_on(app: &TestApp, admin: &str, listing: &str) -> Vec<(String, String, Option<String>)> {
    let (_, queue) = get_as(app, "/v1/admin/flags?limit=100", Some(admin)).await;
    let mut flags: Vec<_> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["listing_id"] == listing)
        .map(|f| {
            (
                f["reason"].as_str().unwrap().to_string(),
                f["serial"].as_str().unwrap_or_default().to_string(),
                f["related_listing_id"].as_str().map(String::from),
            )
        })
        .collect();
    flags.sort();
    flags
}

async fn submit_problem(app: &TestApp, seller: &str, listing: &str, code: &str) {
    assert_problem(post_empty(app, &format!("/v1/listings/{listing}/submit"), Some(seller)).await, 409, code).await;
}
