//! API keys: shown once, listed without the secret, accepted as `X-Api-Key` or
//! `Authorization: Bearer rmk_...` where a key is allowed, revocable by their
//! owner only, and a per-key requests-per-minute quota that two instances on one
//! database enforce together.

use chrono::Duration;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::accounts::{audit_entries_for, get_bearer, get_with_key, SecondInstance};
use crate::support::{assert_problem, spawn_app, TestApp};

async fn create_key(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let response = app.post_json("/v1/me/api-keys", Some(token), &body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Creates a key and returns `(id, key)`.
async fn new_key(app: &TestApp, token: &str, requests_per_minute: Option<i32>) -> (String, String) {
    let mut body = json!({"name": "research desk"});
    if let Some(rpm) = requests_per_minute {
        body["requests_per_minute"] = json!(rpm);
    }
    let (status, created) = create_key(app, token, body).await;
    assert_eq!(status, 201, "{created}");
    (created["id"].as_str().unwrap().to_string(), created["key"].as_str().unwrap().to_string())
}

async fn delete_key(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.client.delete(app.url(&format!("/v1/me/api-keys/{id}"))).bearer_auth(token).send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> i64 {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header: {:?}", response.headers()))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_key_is_shown_once_listed_by_prefix_and_authenticates_by_either_header() {
    let app = spawn_app().await;
    let (user_id, token) = app.create_user("ivan@rigmarket.test", &[]).await;

    let (status, created) = create_key(&app, &token, json!({"name": " research desk "})).await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(key.starts_with("rmk_") && key.len() >= 40, "{key}");
    assert_eq!(created["name"], "research desk");
    assert_eq!(created["requests_per_minute"], 60, "the default quota");
    let prefix = created["prefix"].as_str().unwrap().to_string();
    assert!(key.starts_with(&prefix) && prefix.len() < key.len() / 2, "{prefix}");
    assert!(created["created_at"].is_string());

    let (status, list) = {
        let response = get_bearer(&app, "/v1/me/api-keys", &token).await;
        (response.status().as_u16(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 200);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["prefix"], prefix.as_str());
    assert!(items[0].get("key").is_none(), "{list}");
    assert!(!list.to_string().contains(&key), "the key is shown only once: {list}");

    for response in [
        get_with_key(&app, "/v1/me", &key).await,
        app.client.get(app.url("/v1/me")).bearer_auth(&key).send().await.unwrap(),
    ] {
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(header(&response, "ratelimit-limit"), 60);
        let me: Value = response.json().await.unwrap();
        assert_eq!(me["id"], user_id.to_string());
        assert_eq!(me["email"], "ivan@rigmarket.test");
    }

    let list = get_bearer(&app, "/v1/me/api-keys", &token).await.json::<Value>().await.unwrap();
    let last_used: chrono::DateTime<chrono::Utc> = list["items"][0]["last_used_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(last_used, app.clock.now(), "{list}");

    let created_events = audit_entries_for(&app, "api_key.created").await;
    assert_eq!(created_events.len(), 1);
    assert_eq!(created_events[0].actor_id, Some(user_id.into()));
    assert_eq!(created_events[0].target_id.as_deref(), Some(id.as_str()));
    assert!(!serde_json::to_string(&created_events[0].details).unwrap().contains(&key));

    assert_problem(get_with_key(&app, "/v1/me", "rmk_made-up-key").await, 401, "invalid_api_key").await;
}

#[tokio::test]
async fn a_key_sent_as_bearer_is_refused_where_a_signed_in_user_is_required() {
    let app = spawn_app().await;
    let (_, token) = app.create_user("jon@rigmarket.test", &[]).await;
    let (_, key) = new_key(&app, &token, None).await;

    let create = app.post_json("/v1/me/api-keys", Some(&key), &json!({"name": "minted by a key"})).await;
    assert_problem(create, 401, "api_key_not_accepted").await;
    let patch = app.patch_json("/v1/me", Some(&key), &json!({"company": "Key Corp"})).await;
    assert_problem(patch, 401, "api_key_not_accepted").await;
    let change = app
        .post_json("/v1/me/password", Some(&key), &json!({"current_password": "x", "new_password": "whatever else"}))
        .await;
    assert_problem(change, 401, "api_key_not_accepted").await;

    let list = get_bearer(&app, "/v1/me/api-keys", &token).await.json::<Value>().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "a key cannot mint keys: {list}");
}

#[tokio::test]
async fn a_key_sent_as_x_api_key_is_refused_where_a_signed_in_user_is_required() {
    let app = spawn_app().await;
    let (_, token) = app.create_user("kai@rigmarket.test", &[]).await;
    let (_, key) = new_key(&app, &token, None).await;
    let create = app
        .client
        .post(app.url("/v1/me/api-keys"))
        .header("x-api-key", &key)
        .json(&json!({"name": "minted by a key"}))
        .send()
        .await
        .unwrap();
    assert_problem(create, 401, "api_key_not_accepted").await;
}

#[tokio::test]
async fn only_the_owner_can_revoke_a_key_and_a_revoked_key_stops_working() {
    let app = spawn_app().await;
    let (owner_id, owner) = app.create_user("lars@rigmarket.test", &[]).await;
    let (_, stranger) = app.create_user("mona@rigmarket.test", &[]).await;
    let (id, key) = new_key(&app, &owner, None).await;

    assert_problem(delete_key(&app, &stranger, &id).await, 404, "api_key_not_found").await;
    assert_eq!(get_with_key(&app, "/v1/me", &key).await.status().as_u16(), 200, "still works");

    assert_eq!(delete_key(&app, &owner, &id).await.status().as_u16(), 204);
    assert_problem(get_with_key(&app, "/v1/me", &key).await, 401, "invalid_api_key").await;
    let as_bearer = app.client.get(app.url("/v1/me")).bearer_auth(&key).send().await.unwrap();
    assert_problem(as_bearer, 401, "invalid_api_key").await;
    let list = get_bearer(&app, "/v1/me/api-keys", &owner).await.json::<Value>().await.unwrap();
    assert_eq!(list, json!({"items": [], "next_cursor": null}));
    assert_problem(delete_key(&app, &owner, &id).await, 404, "api_key_not_found").await;
    assert_problem(delete_key(&app, &owner, &Uuid::now_v7().to_string()).await, 404, "api_key_not_found").await;
    let bad = delete_key(&app, &owner, "not-a-uuid").await;
    assert_eq!(bad.status().as_u16(), 400);

    let revoked = audit_entries_for(&app, "api_key.revoked").await;
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!((revoked[0].actor_id, revoked[0].target_id.as_deref()), (Some(owner_id.into()), Some(id.as_str())));
}

#[tokio::test]
async fn key_names_quotas_and_the_number_of_keys_are_checked() {
    let app = spawn_app().await;
    let (_, token) = app.create_user("nils@rigmarket.test", &[]).await;
    for (body, field) in [
        (json!({"name": "  "}), "name"),
        (json!({"name": "x".repeat(81)}), "name"),
        (json!({"name": "ok", "requests_per_minute": 0}), "requests_per_minute"),
        (json!({"name": "ok", "requests_per_minute": 6001}), "requests_per_minute"),
    ] {
        let response = app.post_json("/v1/me/api-keys", Some(&token), &body).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let response = app.post_json("/v1/me/api-keys", Some(&token), &json!({"name": "x", "scope": "all"})).await;
    assert_problem(response, 422, "invalid_body").await;

    for _ in 0..20 {
        new_key(&app, &token, Some(6000)).await;
    }
    let response = app.post_json("/v1/me/api-keys", Some(&token), &json!({"name": "one too many"})).await;
    assert_problem(response, 409, "too_many_api_keys").await;
    // Created within the same instant: newest first still gives each one place.
    let keys = crate::support::pages::walk_one_by_one(&app, "/v1/me/api-keys", Some(&token)).await;
    assert_eq!(keys.len(), 20);
}

#[tokio::test]
async fn the_per_key_quota_is_enforced_across_two_instances_sharing_one_database() {
    let app = spawn_app().await;
    let second = SecondInstance::start(&app, app.clock.now()).await;
    let (_, token) = app.create_user("olaf@rigmarket.test", &[]).await;
    let (_, key) = new_key(&app, &token, Some(5)).await;
    let (_, other_key) = new_key(&app, &token, Some(5)).await;
    let instances = [app.address.clone(), second.address.clone()];
    let call = |n: usize, key: &str| {
        app.client.get(format!("{}/v1/me", instances[n % 2])).header("x-api-key", key.to_string()).send()
    };

    for n in 0..5 {
        let response = call(n, &key).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "request {} on instance {}", n + 1, n % 2);
        assert_eq!(header(&response, "ratelimit-limit"), 5);
        assert_eq!(header(&response, "ratelimit-remaining"), 4 - n as i64);
        let reset = header(&response, "ratelimit-reset");
        assert!((1..=60).contains(&reset), "{reset}");
    }
    for n in 5..7 {
        let response = call(n, &key).await.unwrap();
        assert_eq!(response.status().as_u16(), 429, "request {} on instance {}", n + 1, n % 2);
        let retry_after = header(&response, "retry-after");
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        assert_eq!(header(&response, "ratelimit-remaining"), 0);
        assert_problem(response, 429, "rate_limited").await;
    }
    // The quota is per key, not per user.
    assert_eq!(call(0, &other_key).await.unwrap().status().as_u16(), 200);

    app.clock.advance(Duration::minutes(1));
    second.clock.advance(Duration::minutes(1));
    for n in 0..2 {
        let response = call(n, &key).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "a new minute, instance {n}");
        assert_eq!(header(&response, "ratelimit-remaining"), 4 - n as i64);
    }
    second.shutdown().await;
}

#[tokio::test]
async fn a_refused_key_is_told_to_wait_until_the_window_really_ends() {
    let app = spawn_app().await;
    let (_, token) = app.create_user("pia@rigmarket.test", &[]).await;
    let (_, key) = new_key(&app, &token, Some(1)).await;
    // 0.3 s into the minute: the window ends in 59.7 s.
    app.clock.advance(Duration::milliseconds(300));
    assert_eq!(get_with_key(&app, "/v1/me", &key).await.status().as_u16(), 200);
    let refused = get_with_key(&app, "/v1/me", &key).await;
    assert_eq!(header(&refused, "retry-after"), 60, "59.7 s rounds up to 60");
    assert_eq!(header(&refused, "ratelimit-reset"), 60);
    assert_eq!(header(&refused, "ratelimit-remaining"), 0);
    assert_problem(refused, 429, "rate_limited").await;
    app.clock.advance(Duration::seconds(60));
    assert_eq!(get_with_key(&app, "/v1/me", &key).await.status().as_u16(), 200, "waiting as told is enough");
}
