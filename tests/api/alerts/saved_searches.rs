//! `/v1/me/saved-searches`: the query checked as the search checks it, the
//! triggers and their thresholds, the 50-search limit, ownership, and
//! `/matches` running the saved query.

use serde_json::{json, Value};

use super::{save, save_ok, Watchers};
use crate::orders::{json_with_status, party};
use crate::support::accounts::get_bearer;
use crate::support::listings::{delete_as, ids};
use crate::support::{assert_problem, TestApp};

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_saved_search_is_created_listed_changed_and_deleted_by_its_owner_only() {
    let w = Watchers::open(TestApp::builder()).await;
    let (app, token) = (&w.app, w.buyer.token.as_str());
    let body = json!({
        "name": "  S19 Pro under $1,500 ",
        "query": {"rig_model_id": w.s19, "max_price_cents": 150_000, "country": "kz", "sort": "price_asc"},
        "alert": "instant",
        "triggers": ["new_match", {"discount_at_least": 30}, "price_drop"],
    });
    let created = json_with_status(save(app, token, &body).await, 201).await;
    assert_eq!(created["name"], "S19 Pro under $1,500");
    assert_eq!(created["alert"], "instant");
    assert_eq!(created["triggers"], json!(["new_match", "price_drop", {"discount_at_least": 30.0}]));
    assert_eq!(created["query"], body["query"], "kept as given");
    let id = created["id"].as_str().unwrap().to_string();
    let second =
        save_ok(app, token, json!({"name": "Anything", "query": {}, "alert": "daily", "triggers": ["new_match"]}))
            .await;

    let page1 = json_with_status(get_bearer(app, "/v1/me/saved-searches?limit=1", token).await, 200).await;
    assert_eq!(page1["items"][0]["id"], second, "newest first");
    let cursor = page1["next_cursor"].as_str().expect("a second page");
    let page2 =
        json_with_status(get_bearer(app, &format!("/v1/me/saved-searches?limit=1&cursor={cursor}"), token).await, 200)
            .await;
    assert_eq!(page2["items"][0]["id"], id.as_str());
    assert!(page2["next_cursor"].is_null());

    let patch = json!({"alert": "daily", "triggers": [{"discount_at_least": 25.5}], "query": {"tier": "under19"}});
    let changed =
        json_with_status(app.patch_json(&format!("/v1/me/saved-searches/{id}"), Some(token), &patch).await, 200).await;
    assert_eq!(changed["alert"], "daily");
    assert_eq!(changed["triggers"], json!([{"discount_at_least": 25.5}]));
    assert_eq!(changed["query"], json!({"tier": "under19"}));
    assert_eq!(changed["name"], "S19 Pro under $1,500", "unchanged fields stay");

    // Someone else's search does not exist for them.
    let stranger = party(app, "stranger").await;
    let path = format!("/v1/me/saved-searches/{id}");
    assert_problem(get_bearer(app, &path, &stranger.token).await, 404, "saved_search_not_found").await;
    assert_problem(delete_as(app, &path, &stranger.token).await, 404, "saved_search_not_found").await;
    assert_problem(
        app.patch_json(&path, Some(&stranger.token), &json!({"name": "x"})).await,
        404,
        "saved_search_not_found",
    )
    .await;

    assert_eq!(delete_as(app, &path, token).await.status().as_u16(), 204);
    assert_problem(get_bearer(app, &path, token).await, 404, "saved_search_not_found").await;
    assert_problem(get_bearer(app, "/v1/me/saved-searches", "nope").await, 401, "invalid_token").await;
}

#[tokio::test]
async fn the_query_is_checked_by_the_search_parser_and_triggers_by_their_rules() {
    let w = Watchers::open(TestApp::builder()).await;
    let (app, token) = (&w.app, w.buyer.token.as_str());
    let with =
        |query: Value, triggers: Value| json!({"name": "n", "query": query, "alert": "instant", "triggers": triggers});

    // The same message GET /v1/listings gives for the same parameter, under `query.`.
    let search = get_bearer(app, "/v1/listings?country=XX", token).await;
    let search_problem = assert_problem(search, 422, "validation_failed").await;
    let problem = assert_problem(
        save(app, token, &with(json!({"country": "XX"}), json!(["new_match"]))).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&problem), ["query.country"]);
    assert_eq!(problem["errors"][0]["message"], search_problem["errors"][0]["message"]);

    let bad_query = json!({"min_price_cents": -1, "min_discount_pct": 500});
    let problem =
        assert_problem(save(app, token, &with(bad_query, json!(["new_match"]))).await, 422, "validation_failed").await;
    assert_eq!(fields(&problem), ["query.min_price_cents", "query.min_discount_pct"]);
    for (query, field) in [
        (json!({"colour": "red"}), "query"),
        (json!({"max_price_cents": "cheap"}), "query"),
        (json!({"limit": 5}), "query.limit"),
        (json!("S19"), "query"),
    ] {
        let problem = assert_problem(
            save(app, token, &with(query.clone(), json!(["new_match"]))).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(fields(&problem), [field], "{query}");
    }

    let problem =
        assert_problem(save(app, token, &with(json!({}), json!(["soon"]))).await, 422, "validation_failed").await;
    assert_eq!(fields(&problem), ["triggers[0]"], "an unknown trigger");
    for pct in [json!(0), json!(100), json!(150), json!(-5), json!("30")] {
        let triggers = json!(["new_match", {"discount_at_least": pct}]);
        let problem =
            assert_problem(save(app, token, &with(json!({}), triggers)).await, 422, "validation_failed").await;
        assert_eq!(fields(&problem), ["triggers[1].discount_at_least"], "threshold {pct}");
    }
    let problem = assert_problem(save(app, token, &with(json!({}), json!([]))).await, 422, "validation_failed").await;
    assert_eq!(fields(&problem), ["triggers"]);
    // Every problem of a request at once.
    let all_bad = json!({"name": "", "query": {"country": "XX"}, "alert": "instant", "triggers": ["soon"]});
    let problem = assert_problem(save(app, token, &all_bad).await, 422, "validation_failed").await;
    assert_eq!(fields(&problem), ["name", "query.country", "triggers[0]"]);
    let weekly = json!({"name": "n", "query": {}, "alert": "weekly", "triggers": ["new_match"]});
    assert_problem(save(app, token, &weekly).await, 422, "invalid_body").await;

    let listed = json_with_status(get_bearer(app, "/v1/me/saved-searches", token).await, 200).await;
    assert_eq!(listed["items"], json!([]), "nothing was saved");
}

#[tokio::test]
async fn the_51st_saved_search_is_refused() {
    let w = Watchers::open(TestApp::builder()).await;
    let (app, token) = (&w.app, w.buyer.token.as_str());
    for n in 0..50 {
        save_ok(
            app,
            token,
            json!({"name": format!("search {n}"), "query": {}, "alert": "off", "triggers": ["new_match"]}),
        )
        .await;
    }
    let body = json!({"name": "one more", "query": {}, "alert": "off", "triggers": ["new_match"]});
    assert_problem(save(app, token, &body).await, 409, "too_many_saved_searches").await;
    // Another account has its own 50.
    let other = party(app, "other").await;
    json_with_status(save(app, &other.token, &body).await, 201).await;
}

#[tokio::test]
async fn matches_runs_the_saved_query_now_in_pages() {
    let w = Watchers::open(TestApp::builder()).await;
    let (app, token) = (&w.app, w.buyer.token.as_str());
    let cheap = w.publish(json!({"unit_price_cents": 90_000})).await;
    let cheaper = w.publish(json!({"unit_price_cents": 80_000})).await;
    let _dear = w.publish(json!({"unit_price_cents": 160_000})).await;
    let id = save_ok(
        app,
        token,
        json!({"name": "cheap", "query": {"max_price_cents": 100_000, "sort": "price_asc"}, "alert": "off", "triggers": ["new_match"]}),
    )
    .await;
    let page1 =
        json_with_status(get_bearer(app, &format!("/v1/me/saved-searches/{id}/matches?limit=1"), token).await, 200)
            .await;
    assert_eq!(ids(page1["items"].as_array().unwrap()), [cheaper]);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2 = json_with_status(
        get_bearer(app, &format!("/v1/me/saved-searches/{id}/matches?limit=1&cursor={cursor}"), token).await,
        200,
    )
    .await;
    assert_eq!(ids(page2["items"].as_array().unwrap()), [cheap]);
    assert!(page2["next_cursor"].is_null());
    let bad = get_bearer(app, &format!("/v1/me/saved-searches/{id}/matches?limit=0"), token).await;
    assert_problem(bad, 422, "validation_failed").await;
    app.drain_jobs().await;
}
