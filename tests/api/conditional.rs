//! Conditional requests on single resources: `ETag` and `If-None-Match` (304)
//! on reads of a listing, an order and the caller's profile, `Cache-Control`
//! that never lets a shared cache keep a private answer, and `If-Match` on
//! listing edits (412 when stale, nothing written).

use reqwest::Response;
use serde_json::{json, Value};

use crate::orders::{oid, place_ok, Market};
use crate::support::{assert_problem, TestApp};

async fn get(app: &TestApp, path: &str, token: Option<&str>, if_none_match: Option<&str>) -> Response {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(tags) = if_none_match {
        request = request.header("if-none-match", tags);
    }
    request.send().await.expect("request sent")
}

fn header(response: &Response, name: &str) -> String {
    response.headers().get(name).unwrap_or_else(|| panic!("no {name} header")).to_str().unwrap().to_string()
}

/// Reads `path`, then checks that every way of naming its ETag gets a 304
/// without a body, and that other tags get the full answer. Returns the ETag.
async fn assert_revalidates(app: &TestApp, path: &str, token: Option<&str>, cache_control: &str) -> String {
    let first = get(app, path, token, None).await;
    assert_eq!(first.status(), 200, "GET {path}");
    let etag = header(&first, "etag");
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2, "a strong ETag: {etag}");
    assert_eq!(header(&first, "cache-control"), cache_control, "GET {path}");
    let body = first.bytes().await.unwrap();

    let inner = etag.trim_matches('"');
    for tags in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"stale\", {etag}"),
        "*".to_string(),
        format!("\"{inner}-gzip\""),
        format!("W/\"{inner}-br\""),
    ] {
        let again = get(app, path, token, Some(&tags)).await;
        assert_eq!(again.status(), 304, "GET {path} with If-None-Match: {tags}");
        assert_eq!(header(&again, "etag"), etag);
        assert!(again.bytes().await.unwrap().is_empty(), "a 304 has no body");
    }
    for tags in ["\"stale\"", "W/\"stale\"", inner] {
        let full = get(app, path, token, Some(tags)).await;
        assert_eq!(full.status(), 200, "GET {path} with If-None-Match: {tags}");
        assert_eq!(full.bytes().await.unwrap(), body);
    }
    etag
}

#[tokio::test]
async fn a_listing_revalidates_with_its_etag_and_changes_it_when_edited() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let path = format!("/v1/listings/{}", market.listing);
    let public = assert_revalidates(app, &path, None, "public, no-cache").await;
    let private = assert_revalidates(app, &path, Some(&market.seller.token), "private, no-cache").await;
    assert_eq!(public, private, "the same listing, the same representation");

    let edit = app.patch_json(&path, Some(&market.seller.token), &json!({"unit_price_cents": 90_000})).await;
    assert_eq!(edit.status(), 200);
    let stale = get(app, &path, None, Some(&public)).await;
    assert_eq!(stale.status(), 200, "the old ETag no longer matches");
    assert_ne!(header(&stale, "etag"), public);
}

#[tokio::test]
async fn an_order_and_the_callers_profile_revalidate_and_stay_private() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let order = place_ok(&market, 1).await;
    let path = format!("/v1/orders/{}", oid(&order));
    let etag = assert_revalidates(app, &path, Some(&market.buyer.token), "private, no-cache").await;
    let outsider = market.another_buyer("outsider").await;
    let hidden = get(app, &path, Some(&outsider.token), Some(&etag)).await;
    assert_problem(hidden, 404, "order_not_found").await;

    let me = assert_revalidates(app, "/v1/me", Some(&market.buyer.token), "private, no-cache").await;
    let edit = app.patch_json("/v1/me", Some(&market.buyer.token), &json!({"company": "Ekibastuz Hash LLP"})).await;
    assert_eq!(edit.status(), 200);
    assert_eq!(get(app, "/v1/me", Some(&market.buyer.token), Some(&me)).await.status(), 200, "the profile changed");
}

async fn patch_if_match(app: &TestApp, path: &str, token: &str, if_match: &str, body: &Value) -> Response {
    let request = app.client.patch(app.url(path)).bearer_auth(token).header("if-match", if_match).json(body);
    request.send().await.expect("request sent")
}

#[tokio::test]
async fn a_listing_edit_with_if_match_is_refused_when_stale_and_applied_when_current() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let seller = market.seller.token.as_str();
    let path = format!("/v1/listings/{}", market.listing);
    let read = get(app, &path, Some(seller), None).await;
    let etag = header(&read, "etag");
    let price = read.json::<Value>().await.unwrap()["unit_price_cents"].as_i64().unwrap();

    // Someone else's edit (another tab) lands first: the first read is stale.
    let other = app.patch_json(&path, Some(seller), &json!({"description": "Edited in another tab."})).await;
    assert_eq!(other.status(), 200);
    let current = header(&other, "etag");
    assert_ne!(current, etag);
    for stale in [etag.as_str(), "\"made-up\""] {
        let refused = patch_if_match(app, &path, seller, stale, &json!({"unit_price_cents": price - 1000})).await;
        assert_problem(refused, 412, "precondition_failed").await;
    }
    let weak = patch_if_match(app, &path, seller, &format!("W/{current}"), &json!({"unit_price_cents": 1})).await;
    assert_problem(weak, 412, "precondition_failed").await;
    let (_, unchanged) = crate::support::listings::get_as(app, &path, None).await;
    assert_eq!(unchanged["unit_price_cents"], price, "a refused edit writes nothing");
    assert_eq!(unchanged["description"], "Edited in another tab.");
    let history = crate::support::pages::items(app, &format!("{path}/price-history"), None).await;
    assert!(history.is_empty(), "{history:?}");

    // With the current ETag (as a compressed answer would name it, too) the edit applies.
    let gzip_tagged = format!("\"{}-gzip\"", current.trim_matches('"'));
    let applied = patch_if_match(app, &path, seller, &gzip_tagged, &json!({"unit_price_cents": price - 1000})).await;
    assert_eq!(applied.status(), 200);
    let new_etag = header(&applied, "etag");
    let edited: Value = applied.json().await.unwrap();
    assert_eq!(edited["unit_price_cents"], price - 1000);
    let reread = get(app, &path, Some(seller), None).await;
    assert_eq!(header(&reread, "etag"), new_etag, "the PATCH answers the ETag a GET gives");
    let star = patch_if_match(app, &path, seller, "*", &json!({"unit_price_cents": price - 2000})).await;
    assert_eq!(star.status(), 200, "If-Match: * holds for any current listing");

    // Without If-Match, as before: the edit applies whatever was read.
    let blind = app.patch_json(&path, Some(seller), &json!({"unit_price_cents": price - 3000})).await;
    assert_eq!(blind.status(), 200);
    let (_, last) = crate::support::listings::get_as(app, &path, None).await;
    assert_eq!(last["unit_price_cents"], price - 3000);
}

#[tokio::test]
async fn if_match_on_someone_elses_listing_is_still_refused_as_not_theirs() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let path = format!("/v1/listings/{}", market.listing);
    let refused = patch_if_match(app, &path, &market.buyer.token, "\"stale\"", &json!({"unit_price_cents": 1})).await;
    assert_problem(refused, 403, "not_listing_owner").await;
}
