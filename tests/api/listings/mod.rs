//! Listings: the draft -> review -> live lifecycle with its role checks, editing
//! rules and price history, suspended sellers, discounts and fire sales against
//! hand-computed references, bad input, condition reports, flags and moderation,
//! and the hosting-deadline sweep.

mod deadlines;
mod discount;
mod editing;
mod flags;
mod input;
mod reports;
mod review;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::support::listings::{
    add_report, approve, at, condition_report, create_active, create_listing, get_as, get_response, id_of, ids,
    listing_count, model_id, ok_json, post_empty, publish, search, search_all, set_units, subjects_for, submit,
    try_create_listing, unverify,
};
use crate::support::{assert_problem, spawn_app, TestApp};

fn time(value: &Value) -> DateTime<Utc> {
    at(value.as_str().unwrap_or_else(|| panic!("not a timestamp: {value}")))
}

async fn reject(app: &TestApp, admin: &str, id: &str, reason: &str) -> reqwest::Response {
    app.post_json(&format!("/v1/admin/listings/{id}/reject"), Some(admin), &json!({ "reason": reason })).await
}

async fn resolve(app: &TestApp, admin: &str, flag: &str, body: Value) -> reqwest::Response {
    app.post_json(&format!("/v1/admin/flags/{flag}/resolve"), Some(admin), &body).await
}

async fn search_ids(app: &TestApp, query: &str) -> Vec<String> {
    ids(&search_all(app, query).await)
}

// ---------------------------------------------------------------- lifecycle

fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().map(|e| e["field"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}
