//! Condition reports: versioned, append-only, by the seller or an inspector.

use super::*;

#[tokio::test]
async fn condition_reports_are_versioned_and_the_latest_one_describes_the_listing() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let id = id_of(&create_active(&app, &seller, &admin, json!({})).await);
    let reports_path = format!("/v1/listings/{id}/condition-reports");

    let first = add_report(&app, &seller, &id, "A").await;
    assert_eq!((first["version"].as_i64(), first["author_role"].as_str()), (Some(1), Some("seller")));
    assert_eq!(first["hashboards_working"], 3);
    assert_eq!(first["psu_model"], "APW12");
    assert_eq!(search_ids(&app, "condition_grade=A").await, vec![id.clone()]);

    app.clock.advance(Duration::minutes(1));
    let mut worse = condition_report("C");
    worse["hashboards_working"] = json!(2);
    worse["notes"] = json!("one hashboard died in transit");
    let response = app.post_json(&reports_path, Some(&seller), &worse).await;
    assert_eq!(response.status(), 201);
    let second: Value = response.json().await.unwrap();
    assert_eq!(second["version"], 2);

    let all = crate::support::pages::walk_one_by_one(&app, &reports_path, None).await;
    let versions: Vec<i64> = all.iter().map(|r| r["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, vec![2, 1], "newest first");
    assert_eq!(all[1]["cosmetic_grade"], "A", "the first report is kept as it was");

    let (_, listing) = get_as(&app, &format!("/v1/listings/{id}"), None).await;
    let condition = &listing["condition"];
    assert_eq!(condition["report_id"], second["id"]);
    assert_eq!(condition["version"], 2);
    assert_eq!(condition["cosmetic_grade"], "C");
    assert_eq!((condition["hashboards_working"].as_i64(), condition["hashboards_total"].as_i64()), (Some(2), Some(3)));
    assert_eq!(condition["author_role"], "seller");

    assert!(search_ids(&app, "condition_grade=B").await.is_empty(), "the latest report (C) decides");
    assert_eq!(search_ids(&app, "condition_grade=C").await, vec![id.clone()]);
    assert_eq!(search_ids(&app, "condition_grade=D").await, vec![id.clone()]);

    // There is no way to change or remove a report.
    let report_path = format!("{reports_path}/{}", first["id"].as_str().unwrap());
    let patch = app.patch_json(&report_path, Some(&seller), &json!({"cosmetic_grade": "A"})).await;
    assert!(patch.status().is_client_error(), "{}", patch.status());
    let delete = app.client.delete(app.url(&report_path)).bearer_auth(&seller).send().await.unwrap();
    assert!(delete.status().is_client_error(), "{}", delete.status());
    assert_eq!(crate::support::pages::items(&app, &reports_path, None).await.len(), 2);
}

#[tokio::test]
async fn inspectors_report_on_any_listing_and_other_users_cannot() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let (inspector_id, inspector) = app.create_user("inspector@rigmarket.test", &["inspector"]).await;
    let (_, buyer) = app.create_user("buyer@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let live = id_of(&create_active(&app, &seller, &admin, json!({})).await);
    let draft = id_of(&create_listing(&app, &seller, json!({})).await);
    let reports = |id: &str| format!("/v1/listings/{id}/condition-reports");

    let by_inspector = add_report(&app, &inspector, &live, "B").await;
    assert_eq!(by_inspector["author_role"], "inspector");
    assert_eq!(by_inspector["author_id"], inspector_id.to_string());
    let (_, listing) = get_as(&app, &format!("/v1/listings/{live}"), None).await;
    assert_eq!(listing["condition"]["author_role"], "inspector");
    assert_eq!(add_report(&app, &inspector, &draft, "A").await["author_role"], "inspector");

    let body = condition_report("A");
    assert_problem(app.post_json(&reports(&live), Some(&buyer), &body).await, 403, "not_listing_owner").await;
    assert_problem(app.post_json(&reports(&draft), Some(&buyer), &body).await, 404, "listing_not_found").await;
    assert_problem(app.post_json(&reports(&live), None, &body).await, 401, "authentication_required").await;

    let mut impossible = condition_report("A");
    impossible["hashboards_working"] = json!(4);
    impossible["fans_working"] = json!(5);
    let refused =
        assert_problem(app.post_json(&reports(&live), Some(&seller), &impossible).await, 422, "validation_failed")
            .await;
    assert_eq!(error_fields(&refused), vec!["hashboards_working", "fans_working"]);
    let mut bad_grade = condition_report("A");
    bad_grade["cosmetic_grade"] = json!("E");
    assert_problem(app.post_json(&reports(&live), Some(&seller), &bad_grade).await, 422, "invalid_body").await;
    let all = crate::support::pages::items(&app, &reports(&live), None).await;
    assert_eq!(all.len(), 1, "refused reports were not stored: {all:?}");
    assert_eq!(search_ids(&app, "condition_grade=A").await, Vec::<String>::new());

    ok_json(post_empty(&app, &format!("/v1/listings/{live}/withdraw"), Some(&seller)).await).await;
    assert_problem(app.post_json(&reports(&live), Some(&seller), &body).await, 409, "invalid_listing_status").await;
}

// ---------------------------------------------------------------- flags
