use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::support::{assert_problem, spawn_app, TestApp};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

async fn model_id(app: &TestApp, name: &str) -> String {
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/rig-models?limit=100&cursor={c}"),
            None => "/v1/rig-models?limit=100".to_string(),
        };
        let (_, page) = app.get_json(&path).await;
        if let Some(model) = page["items"].as_array().unwrap().iter().find(|m| m["name"] == name) {
            return model["id"].as_str().unwrap().to_string();
        }
        cursor = Some(page["next_cursor"].as_str().expect("model exists").to_string());
    }
}

#[tokio::test]
async fn all_31_seeded_models_page_through_without_gaps_or_duplicates() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/rig-models?limit=7&cursor={c}"),
            None => "/v1/rig-models?limit=7".into(),
        };
        let (status, page) = app.get_json(&path).await;
        assert_eq!(status, 200);
        for item in page["items"].as_array().unwrap() {
            seen.push(format!("{} {}", item["manufacturer"].as_str().unwrap(), item["name"].as_str().unwrap()));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 31);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "ordered by manufacturer then name, each once");
}

#[tokio::test]
async fn filters_by_manufacturer_algorithm_and_tier() {
    let app = spawn_app().await;
    let (_, canaan) = app.get_json("/v1/rig-models?manufacturer=canaan&limit=100").await;
    assert_eq!(canaan["items"].as_array().unwrap().len(), 7);
    let (_, under19) = app.get_json("/v1/rig-models?tier=under19&limit=100").await;
    let names: Vec<&str> = under19["items"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Antminer S21", "Avalon A16", "Avalon A16 XP"]); // Bitmain before Canaan
    let (_, sha) = app.get_json("/v1/rig-models?algorithm=sha-256&limit=100").await;
    assert_eq!(sha["items"].as_array().unwrap().len(), 31);
    let (_, none) = app.get_json("/v1/rig-models?manufacturer=B%25").await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0, "LIKE wildcards are literal");
    let bad_tier = app.get("/v1/rig-models?tier=19-25").await;
    assert_problem(bad_tier, 400, "invalid_query").await;
    assert_problem(app.get("/v1/rig-models?limit=0").await, 422, "validation_failed").await;
    assert_problem(app.get("/v1/rig-models?cursor=garbage").await, 422, "validation_failed").await;
}

#[tokio::test]
async fn a_model_shows_specs_tier_and_the_tier_index_reference() {
    let app = spawn_app().await;
    let id = model_id(&app, "Antminer S19 Pro").await;
    let (status, model) = app.get_json(&format!("/v1/rig-models/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(model["hashrate_hs"], 110_000_000_000_000_i64);
    assert_eq!(model["power_w"], 3250);
    assert_eq!(model["efficiency_j_per_th"], 29.5);
    assert_eq!(model["tier"], "25to38");
    // No own price: the latest tier point on or before today (2022-12-25, under38,
    // $15.71/TH) x 110 TH = $1,728.10.
    assert_eq!(model["reference"]["unit_price_cents"], 172_810);
    assert_eq!(model["reference"]["origin"], "tier_index");
    assert_eq!(model["reference"]["tier_band"], "under38");
    assert_eq!(model["reference"]["priced_on"], "2022-12-25");
}

#[tokio::test]
async fn the_reference_follows_the_date_and_the_band_boundaries() {
    // During the May 2021 exodus the S19 Pro referenced the all-time high.
    let app = TestApp::builder().at(at("2021-06-01T00:00:00Z")).spawn().await;
    let s19 = model_id(&app, "Antminer S19 Pro").await;
    let (_, model) = app.get_json(&format!("/v1/rig-models/{s19}")).await;
    assert_eq!(model["reference"]["unit_price_cents"], 1_311_750); // 119.25 x 110
                                                                   // M30S 88T is exactly 38.0 J/TH: the 38to68 band, $96.24/TH on 2021-05-07.
    let m30s = model_id(&app, "Whatsminer M30S 88T").await;
    let (_, model) = app.get_json(&format!("/v1/rig-models/{m30s}")).await;
    assert_eq!(model["tier"], "38to68");
    assert_eq!(model["reference"]["unit_price_cents"], 846_912); // 96.24 x 88
                                                                 // Before the first tier point there is no reference at all.
    let early = TestApp::builder().at(at("2021-01-01T00:00:00Z")).spawn().await;
    let s9 = model_id(&early, "Antminer S9").await;
    let (_, model) = early.get_json(&format!("/v1/rig-models/{s9}")).await;
    assert!(model.get("reference").is_none(), "{model}");
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_problems() {
    let app = spawn_app().await;
    let missing = app.get(&format!("/v1/rig-models/{}", uuid::Uuid::new_v4())).await;
    assert_problem(missing, 404, "rig_model_not_found").await;
    assert_problem(app.get("/v1/rig-models/not-a-uuid").await, 400, "invalid_path").await;
    assert_problem(app.get("/v1/rig-models/not-a-uuid/reference-prices").await, 400, "invalid_path").await;
    assert_problem(app.get("/v1/nothing-here").await, 404, "route_not_found").await;
}

fn new_model(name: &str) -> Value {
    json!({"manufacturer": "Bitmain", "name": name, "hashrate_hs": 120_000_000_000_000_i64, "power_w": 2760, "release_year": 2023})
}

#[tokio::test]
async fn only_admins_add_and_change_models() {
    let app = spawn_app().await;
    let anonymous = app.post_json("/v1/admin/rig-models", None, &new_model("S19k Pro")).await;
    assert_problem(anonymous, 401, "authentication_required").await;
    let (_, user_token) = app.create_user("seller@rigmarket.test", &[]).await;
    let seller = app.post_json("/v1/admin/rig-models", Some(&user_token), &new_model("S19k Pro")).await;
    assert_problem(seller, 403, "admin_required").await;
    let forged = app.post_json("/v1/admin/rig-models", Some("eyJhbGciOiJub25lIn0.e30."), &new_model("x")).await;
    assert_problem(forged, 401, "invalid_token").await;

    let admin = app.admin_token().await;
    let created = app.post_json("/v1/admin/rig-models", Some(&admin), &new_model("Antminer S19k Pro")).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["efficiency_j_per_th"], 23.0);
    assert_eq!(created["tier"], "19to25");
    let again = app.post_json("/v1/admin/rig-models", Some(&admin), &new_model("Antminer S19k Pro")).await;
    assert_problem(again, 409, "rig_model_exists").await;

    // A MH/s-class test rig is a legitimate model (used to test proofs with CPUs).
    let tiny = json!({"manufacturer": "rigmarket", "name": "CPU test rig", "hashrate_hs": 2_000_000, "power_w": 65});
    assert_eq!(app.post_json("/v1/admin/rig-models", Some(&admin), &tiny).await.status(), 201);

    let id = created["id"].as_str().unwrap();
    let patched = app.patch_json(&format!("/v1/admin/rig-models/{id}"), Some(&admin), &json!({"power_w": 2280})).await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["efficiency_j_per_th"], 19.0);
    let (_, fetched) = app.get_json(&format!("/v1/rig-models/{id}")).await;
    assert_eq!(fetched["power_w"], 2280);
    let clash =
        app.patch_json(&format!("/v1/admin/rig-models/{id}"), Some(&admin), &json!({"name": "Antminer S9"})).await;
    assert_problem(clash, 409, "rig_model_exists").await;
}

#[tokio::test]
async fn invalid_models_are_rejected_field_by_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let bad = json!({"manufacturer": " ", "name": "X", "hashrate_hs": 0, "power_w": -3, "release_year": 1999});
    let body =
        assert_problem(app.post_json("/v1/admin/rig-models", Some(&admin), &bad).await, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["manufacturer", "hashrate_hs", "power_w", "release_year"]);
    let (_, page) = app.get_json("/v1/rig-models?limit=100").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 31);
}

#[tokio::test]
async fn reference_prices_override_the_tier_index_and_batches_are_all_or_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let s19 = model_id(&app, "Antminer S19 Pro").await;
    let s9 = model_id(&app, "Antminer S9").await;

    let one = json!({"rig_model_id": s19, "priced_on": "2025-12-01", "basis": "unit", "amount_cents": 250_000, "note": "broker quote"});
    let response = app.post_json("/v1/admin/reference-prices", Some(&admin), &one).await;
    assert_eq!(response.status(), 201);
    let (_, prices) = app.get_json(&format!("/v1/rig-models/{s19}/reference-prices")).await;
    assert_eq!(prices["effective"]["unit_price_cents"], 250_000);
    assert_eq!(prices["effective"]["origin"], "model");
    assert_eq!(prices["items"][0]["source"], "manual");

    // Per-TH basis: $20.00/TH x 13.5 TH = $270.00.
    let batch = json!([
        {"rig_model_id": s9, "priced_on": "2025-11-01", "basis": "th", "amount_cents": 2000},
        {"rig_model_id": s19, "priced_on": "2025-12-15", "basis": "unit", "amount_cents": 240_000}
    ]);
    assert_eq!(app.post_json("/v1/admin/reference-prices", Some(&admin), &batch).await.status(), 201);
    let (_, s9_model) = app.get_json(&format!("/v1/rig-models/{s9}")).await;
    assert_eq!(s9_model["reference"]["unit_price_cents"], 27_000);

    let mixed = json!([
        {"rig_model_id": s9, "priced_on": "2025-12-20", "basis": "unit", "amount_cents": 9_999},
        {"rig_model_id": uuid::Uuid::new_v4(), "priced_on": "2030-01-01", "basis": "unit", "amount_cents": 0}
    ]);
    let body = assert_problem(
        app.post_json("/v1/admin/reference-prices", Some(&admin), &mixed).await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["[1].rig_model_id", "[1].priced_on", "[1].amount_cents"]);
    let (_, s9_prices) = app.get_json(&format!("/v1/rig-models/{s9}/reference-prices")).await;
    assert_eq!(s9_prices["items"].as_array().unwrap().len(), 1, "the valid first row was not written either");

    let unknown_basis = json!({"rig_model_id": s9, "priced_on": "2025-12-20", "basis": "kg", "amount_cents": 1});
    assert_problem(
        app.post_json("/v1/admin/reference-prices", Some(&admin), &unknown_basis).await,
        422,
        "invalid_body",
    )
    .await;
}

#[tokio::test]
async fn a_kept_catalog_page_gives_way_to_a_change_made_anywhere_at_once() {
    use diesel_async::RunQueryDsl;
    let app = spawn_app().await;
    let power_of_s9 = |page: &Value| {
        page["items"].as_array().unwrap().iter().find(|m| m["name"] == "Antminer S9").map(|m| m["power_w"].clone())
    };
    let (_, first) = app.get_json("/v1/rig-models?tier=above68&limit=100").await;
    let (_, again) = app.get_json("/v1/rig-models?tier=above68&limit=100").await;
    assert_eq!(first, again, "the same catalog, the same page");
    let before = power_of_s9(&first).expect("the seed has the S9");
    // Another instance, or the CLI's import, writes the catalog: not through
    // this instance's handlers.
    diesel::sql_query("UPDATE rig_models SET power_w = power_w + 1 WHERE name = 'Antminer S9'")
        .execute(&mut *app.conn().await)
        .await
        .unwrap();
    let (_, after) = app.get_json("/v1/rig-models?tier=above68&limit=100").await;
    assert_eq!(power_of_s9(&after), Some(json!(before.as_i64().unwrap() + 1)), "no stale page once the change commits");
}
