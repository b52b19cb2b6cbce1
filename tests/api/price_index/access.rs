//! Access to the index: series and fire sales need a live key or a signed-in
//! user, each with a quota; latest and tiers are public under a per-IP quota;
//! every answer has RateLimit-* headers, an ETag and Cache-Control, and
//! revalidates with 304; bad input is a problem, never a 500.

use chrono::Duration;
use serde_json::{json, Value};

use super::{get_with_key, insert, random_observations, Fixture};
use crate::support::listings::at;
use crate::support::{assert_problem, TestApp};

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header: {:?}", response.headers()))
        .to_str()
        .unwrap()
        .to_string()
}

fn quota(response: &reqwest::Response) -> (u32, u32) {
    (header(response, "ratelimit-limit").parse().unwrap(), header(response, "ratelimit-remaining").parse().unwrap())
}

async fn new_key(app: &TestApp, token: &str, requests_per_minute: i32) -> (String, String) {
    let body = json!({"name": "quota probe", "requests_per_minute": requests_per_minute});
    let created: Value = app.post_json("/v1/me/api-keys", Some(token), &body).await.json().await.unwrap();
    (created["id"].as_str().unwrap().to_string(), created["key"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn series_need_a_live_key_or_a_user_and_each_has_a_quota() {
    let app = TestApp::builder().at(at("2021-06-20T08:00:00Z")).spawn().await;
    let (_, token) = app.create_user("desk@rigmarket.test", &[]).await;

    for path in ["/v1/price-index/series", "/v1/price-index/fire-sales"] {
        let anonymous = app.get(path).await;
        assert_eq!(quota(&anonymous).0, 30, "a refusal counts against the IP");
        assert_problem(anonymous, 401, "authentication_required").await;
    }

    let (id, key) = new_key(&app, &token, 2).await;
    let first = get_with_key(&app, "/v1/price-index/series", &key).await;
    assert_eq!((first.status().as_u16(), quota(&first)), (200, (2, 1)));
    let second = get_with_key(&app, "/v1/price-index/fire-sales", &key).await;
    assert_eq!((second.status().as_u16(), quota(&second)), (200, (2, 0)));
    let third = get_with_key(&app, "/v1/price-index/series", &key).await;
    assert_eq!(quota(&third), (2, 0));
    assert!(header(&third, "retry-after").parse::<u64>().unwrap() >= 1);
    assert_problem(third, 429, "rate_limited").await;
    app.clock.advance(Duration::minutes(1));
    assert_eq!(get_with_key(&app, "/v1/price-index/series", &key).await.status().as_u16(), 200, "a new window");

    let revoke = app.client.delete(app.url(&format!("/v1/me/api-keys/{id}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(revoke.status().as_u16(), 204);
    let revoked = get_with_key(&app, "/v1/price-index/series", &key).await;
    assert!(revoked.headers().contains_key("ratelimit-remaining"));
    assert_problem(revoked, 401, "invalid_api_key").await;
    assert_problem(get_with_key(&app, "/v1/price-index/series", "rmk_guessed").await, 401, "invalid_api_key").await;

    // A signed-in user has a per-user quota (60 a minute by default).
    let mut last = None;
    for _ in 0..61 {
        last = Some(app.client.get(app.url("/v1/price-index/series")).bearer_auth(&token).send().await.unwrap());
    }
    let last = last.unwrap();
    assert_eq!(quota(&last), (60, 0));
    assert_problem(last, 429, "rate_limited").await;
}

#[tokio::test]
async fn latest_and_tiers_are_public_under_a_tight_per_ip_quota() {
    let app = TestApp::builder().at(at("2021-06-20T08:00:00Z")).spawn().await;
    let tiers = app.get("/v1/price-index/tiers").await;
    assert_eq!((tiers.status().as_u16(), quota(&tiers)), (200, (30, 29)));
    let bands: Value = tiers.json().await.unwrap();
    assert_eq!(
        bands,
        json!([
            {"tier": "under19", "min_j_per_th": 0, "max_j_per_th": 19},
            {"tier": "19to25", "min_j_per_th": 19, "max_j_per_th": 25},
            {"tier": "25to38", "min_j_per_th": 25, "max_j_per_th": 38},
            {"tier": "38to68", "min_j_per_th": 38, "max_j_per_th": 68},
            {"tier": "above68", "min_j_per_th": 68, "max_j_per_th": null},
        ])
    );
    for expected_remaining in (0..29).rev() {
        let response = app.get("/v1/price-index/latest").await;
        assert_eq!((response.status().as_u16(), quota(&response)), (200, (30, expected_remaining)));
    }
    assert_problem(app.get("/v1/price-index/latest").await, 429, "rate_limited").await;
    assert_problem(app.get("/v1/price-index/tiers").await, 429, "rate_limited").await;
    app.clock.advance(Duration::seconds(61));
    assert_eq!(app.get("/v1/price-index/latest").await.status().as_u16(), 200);
}

async fn conditional(app: &TestApp, path: &str, key: Option<&str>, etag: &str) -> reqwest::Response {
    let mut request = app.client.get(app.url(path)).header("if-none-match", etag);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    request.send().await.unwrap()
}

/// The default series window ends "now" to the minute, as `latest` does: a
/// consumer polling within the minute revalidates instead of downloading.
#[tokio::test]
async fn the_default_series_window_ends_on_the_minute_so_polling_revalidates() {
    let app = TestApp::builder().at(at("2021-06-20T08:00:07.123456789Z")).spawn().await;
    let fixture = Fixture::new(&app).await;
    let path = "/v1/price-index/series";
    let first = app.client.get(app.url(path)).header("x-api-key", &fixture.key).send().await.unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let etag = header(&first, "etag");
    let body: serde_json::Value = first.json().await.unwrap();
    assert_eq!(body["to"], "2021-06-20T08:00:00Z", "{body}");
    app.clock.advance(Duration::seconds(40));
    assert_eq!(conditional(&app, path, Some(&fixture.key), &etag).await.status().as_u16(), 304);
    app.clock.advance(Duration::seconds(20));
    let next_minute = conditional(&app, path, Some(&fixture.key), &etag).await;
    assert_eq!(next_minute.status().as_u16(), 200, "a new minute is a new window");
}

/// An index on 2021-06-20 with a week of asking and settled prices in KZ.
async fn a_week_of_kazakh_observations() -> (TestApp, Fixture, Vec<super::Obs>) {
    let app = TestApp::builder().at(at("2021-06-20T08:00:00Z")).spawn().await;
    let fixture = Fixture::new(&app).await;
    let some = random_observations(
        &fixture.models,
        &["KZ"],
        30,
        "2021-06-14".parse().unwrap(),
        6,
        "2021-06-01".parse().unwrap(),
        3,
    );
    insert(&app, fixture.listing, &some).await;
    (app, fixture, some)
}

#[tokio::test]
async fn answers_carry_an_etag_and_revalidate_with_304() {
    let (app, fixture, some) = a_week_of_kazakh_observations().await;

    for (path, key, cache) in [
        ("/v1/price-index/latest", None, "public, max-age=60"),
        ("/v1/price-index/tiers", None, "public, max-age=60"),
        ("/v1/price-index/series?from=2021-06-14", Some(fixture.key.as_str()), "private, max-age=60"),
        ("/v1/price-index/series?from=2021-06-14&format=csv", Some(fixture.key.as_str()), "private, max-age=60"),
        ("/v1/price-index/fire-sales?from=2021-06-14", Some(fixture.key.as_str()), "private, max-age=60"),
    ] {
        let mut request = app.client.get(app.url(path));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        let first = request.send().await.unwrap();
        assert_eq!(first.status().as_u16(), 200, "{path}");
        assert_eq!(header(&first, "cache-control"), cache, "{path}");
        let etag = header(&first, "etag");
        assert!(etag.starts_with('"') && etag.len() > 10, "{path}: a strong validator, {etag}");
        let body = first.bytes().await.unwrap();
        let again = conditional(&app, path, key, &etag).await;
        assert_eq!(again.status().as_u16(), 304, "{path}");
        assert_eq!(header(&again, "etag"), etag);
        assert!(again.headers().contains_key("ratelimit-remaining"), "{path}");
        assert!(again.bytes().await.unwrap().is_empty());
        let stale = conditional(&app, path, key, "\"something-else\"").await;
        assert_eq!(stale.status().as_u16(), 200);
        assert_eq!(stale.bytes().await.unwrap(), body, "{path}: same answer, same bytes");
    }

    // A new observation changes the answer and its ETag.
    let path = "/v1/price-index/series?from=2021-06-14";
    let before = header(&get_with_key(&app, path, &fixture.key).await, "etag");
    let mut one = some[0].clone();
    one.usd_cents += 1;
    insert(&app, fixture.listing, &[one]).await;
    let changed = conditional(&app, path, Some(&fixture.key), &before).await;
    assert_eq!(changed.status().as_u16(), 200);
    assert_ne!(header(&changed, "etag"), before);
}

#[tokio::test]
async fn bad_input_is_a_problem_never_a_500() {
    let app = TestApp::builder().at(at("2021-06-20T08:00:00Z")).spawn().await;
    let fixture = Fixture::new(&app).await;
    for (query, status, code) in [
        ("group_by=region", 400, "invalid_query"),
        ("basis=bid", 400, "invalid_query"),
        ("interval=month", 400, "invalid_query"),
        ("tier=under20", 400, "invalid_query"),
        ("format=xml", 400, "invalid_query"),
        ("rig_model_id=not-a-uuid", 400, "invalid_query"),
        ("rig_model_id=00000000-0000-4000-8000-000000000000", 422, "validation_failed"),
        ("country=XX", 422, "validation_failed"),
        ("from=last-tuesday", 422, "validation_failed"),
        ("to=2021-02-30", 422, "validation_failed"),
        ("from=2021-06-02&to=2021-06-01", 422, "invalid_time_range"),
        ("from=2021-06-01T00:00:00Z&to=2021-06-01T00:00:00Z", 422, "invalid_time_range"),
        ("from=2018-01-01&to=2021-06-01", 422, "time_range_too_long"),
    ] {
        for endpoint in ["series", "fire-sales"] {
            if endpoint == "fire-sales" && query.starts_with("basis") {
                continue; // fire sales have no basis (new listings only)
            }
            let response = get_with_key(&app, &format!("/v1/price-index/{endpoint}?{query}"), &fixture.key).await;
            assert!(response.headers().contains_key("ratelimit-remaining"), "{query}");
            assert_eq!(response.status().as_u16(), status, "{endpoint}?{query}");
            assert_problem(response, status, code).await;
        }
    }
    assert_problem(app.get("/v1/price-index/latest?basis=bid").await, 400, "invalid_query").await;
    let lower = get_with_key(&app, "/v1/price-index/series?country=kz&from=2021-06-01", &fixture.key).await;
    assert_eq!(lower.status().as_u16(), 200, "country codes are case-insensitive");
}

/// A gzip answer is another representation: its ETag says so, `Vary` names
/// `Accept-Encoding`, and revalidating with either tag still gives 304.
#[tokio::test]
async fn compressed_answers_carry_an_encoding_specific_etag_and_vary_on_accept_encoding() {
    let (app, fixture, _) = a_week_of_kazakh_observations().await;
    let path = "/v1/price-index/series?from=2021-06-14";
    let get = |encoding: &'static str| {
        app.client.get(app.url(path)).header("x-api-key", &fixture.key).header("accept-encoding", encoding).send()
    };

    let plain = get("identity").await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_tag = header(&plain, "etag");
    let gzipped = get("gzip").await.unwrap();
    assert_eq!(header(&gzipped, "content-encoding"), "gzip");
    let gzip_tag = header(&gzipped, "etag");
    assert_eq!(gzip_tag, format!("{}-gzip\"", plain_tag.trim_end_matches('"')));
    let vary: Vec<String> =
        gzipped.headers().get_all("vary").iter().map(|v| v.to_str().unwrap().to_ascii_lowercase()).collect();
    assert!(vary.iter().any(|v| v.split(',').any(|name| name.trim() == "accept-encoding")), "{vary:?}");

    let revalidated = conditional(&app, path, Some(&fixture.key), &gzip_tag).await;
    assert_eq!(revalidated.status().as_u16(), 304, "the gzip tag names the same resource state");
}
