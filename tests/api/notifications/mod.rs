//! The notifications inbox and email preferences: every domain event lands in
//! the inbox of each party, in the event's transaction; informational emails
//! can be kept to the inbox.

mod direct;
mod inbox;
mod live;
mod settings;

use serde_json::Value;

use crate::orders::json_with_status;
use crate::support::accounts::get_bearer;
use crate::support::TestApp;

/// `GET /v1/me/notifications{query}` as `token`; panics unless 200.
pub async fn inbox_of(app: &TestApp, token: &str, query: &str) -> Value {
    json_with_status(get_bearer(app, &format!("/v1/me/notifications{query}"), token).await, 200).await
}

/// The types in a page of the inbox, newest first.
pub fn types(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap().to_string()).collect()
}
