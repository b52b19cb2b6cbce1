//! Saved searches and their alerts: the query checked by the search's parser,
//! alerts fired once per (search, listing, trigger) even with two instances
//! draining the queue, the daily digest, and RFC 8058 one-click unsubscribe.

mod batches;
mod digest;
mod firing;
mod saved_searches;
mod unsubscribe;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::orders::{json_with_status, party, party_with_roles, Party};
use crate::support::listings::{create_active, id_of, model_id};
use crate::support::smtp::ReceivedMail;
use crate::support::{TestApp, TestAppBuilder};

/// A seller, an admin and a buyer who saves searches.
pub struct Watchers {
    pub app: TestApp,
    pub seller: Party,
    pub admin: String,
    pub buyer: Party,
    /// The Antminer S19 Pro's id (the default listing's model).
    pub s19: String,
}

impl Watchers {
    pub async fn open(builder: TestAppBuilder) -> Self {
        let app = builder.spawn().await;
        let seller = party(&app, "seller").await;
        let buyer = party(&app, "buyer").await;
        let admin = party_with_roles(&app, "admin", &["admin"]).await.token;
        let s19 = model_id(&app, "Antminer S19 Pro").await;
        Self { app, seller, admin, buyer, s19 }
    }

    /// Publishes a lot (S19 Pro, 10 units, KZ unless overridden); returns its id.
    pub async fn publish(&self, overrides: Value) -> String {
        id_of(&create_active(&self.app, &self.seller.token, &self.admin, overrides).await)
    }

    /// Sets a live lot's unit price.
    pub async fn reprice(&self, listing: &str, cents: i64) {
        let body = json!({"unit_price_cents": cents});
        let response = self.app.patch_json(&format!("/v1/listings/{listing}"), Some(&self.seller.token), &body).await;
        json_with_status(response, 200).await;
    }
}

pub async fn save(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.post_json("/v1/me/saved-searches", Some(token), body).await
}

/// Saves a search; returns its id.
pub async fn save_ok(app: &TestApp, token: &str, body: Value) -> String {
    let saved = json_with_status(save(app, token, &body).await, 201).await;
    saved["id"].as_str().unwrap().to_string()
}

/// Every alert fired so far as (search, listing, trigger), sorted.
pub async fn fired(app: &TestApp) -> Vec<(String, String, String)> {
    use rigmarket::db::schema::saved_search_alerts as a;
    let mut rows: Vec<(Uuid, Uuid, String)> =
        a::table.select((a::saved_search_id, a::listing_id, a::trigger)).load(&mut *app.conn().await).await.unwrap();
    rows.sort();
    rows.into_iter().map(|(s, l, t)| (s.to_string(), l.to_string(), t)).collect()
}

/// A header field as sent, continuation lines unfolded.
pub fn header(mail: &ReceivedMail, name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let mut lines = mail.data.lines().take_while(|l| !l.is_empty()).peekable();
    while let Some(line) = lines.next() {
        if line.to_ascii_lowercase().starts_with(&prefix) {
            let mut value = line[prefix.len()..].trim().to_string();
            while let Some(next) = lines.peek().filter(|l| l.starts_with(' ') || l.starts_with('\t')) {
                value.push_str(next.trim());
                lines.next();
            }
            return Some(value);
        }
    }
    None
}

/// The one-click URL of an alert email (checking RFC 8058's pair is there).
pub fn unsubscribe_url(mail: &ReceivedMail) -> String {
    assert_eq!(header(mail, "List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let value = header(mail, "List-Unsubscribe").expect("a List-Unsubscribe header");
    let url = value.strip_prefix('<').and_then(|v| v.strip_suffix('>')).unwrap_or_else(|| panic!("{value}"));
    assert!(url.contains("/v1/unsubscribe?token=rmu_"), "{url}");
    url.to_string()
}
