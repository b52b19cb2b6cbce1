//! Flags raised by users and resolved by admins.

use super::*;

#[tokio::test]
async fn a_flag_upheld_by_an_admin_unpublishes_the_listing_and_closes_its_other_flags() {
    let app = TestApp::builder().with_smtp().spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let (buyer_id, buyer) = app.create_user("buyer@rigmarket.test", &[]).await;
    let (_, other) = app.create_user("other@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let id = id_of(&create_active(&app, &seller, &admin, json!({"title": "S19 Pro lot"})).await);
    let draft = id_of(&create_listing(&app, &seller, json!({})).await);
    let flags = format!("/v1/listings/{id}/flags");
    app.drain_jobs().await;

    let complaint = json!({"reason": "misleading", "details": "Photos are from another listing"});
    let response = app.post_json(&flags, Some(&buyer), &complaint).await;
    assert_eq!(response.status(), 201);
    let first: Value = response.json().await.unwrap();
    assert_eq!((first["status"].as_str(), first["reason"].as_str()), (Some("open"), Some("misleading")));
    assert_eq!(first["reporter_id"], buyer_id.to_string());
    assert_problem(app.post_json(&flags, Some(&buyer), &json!({"reason": "scam"})).await, 409, "already_flagged").await;
    assert_problem(app.post_json(&flags, Some(&seller), &json!({"reason": "scam"})).await, 409, "own_listing").await;
    assert_problem(
        app.post_json(&format!("/v1/listings/{draft}/flags"), Some(&buyer), &json!({"reason": "scam"})).await,
        404,
        "listing_not_found",
    )
    .await;
    assert_problem(app.post_json(&flags, Some(&other), &json!({"reason": "rude"})).await, 422, "invalid_body").await;
    let second: Value = app.post_json(&flags, Some(&other), &json!({"reason": "scam"})).await.json().await.unwrap();

    assert_problem(get_response(&app, "/v1/admin/flags", Some(&buyer)).await, 403, "admin_required").await;
    let (_, queue) = get_as(&app, "/v1/admin/flags", Some(&admin)).await;
    let mut queued = ids(queue["items"].as_array().unwrap());
    queued.sort();
    let mut expected = vec![id_of(&first), id_of(&second)];
    expected.sort();
    assert_eq!(queued, expected);

    let upheld = ok_json(
        resolve(&app, &admin, &id_of(&first), json!({"action": "unpublish", "note": "Confirmed: copied photos"})).await,
    )
    .await;
    assert_eq!(upheld["status"], "unpublished");
    assert_eq!(upheld["resolution_note"], "Confirmed: copied photos");

    let (_, listing) = get_as(&app, &format!("/v1/listings/{id}"), Some(&seller)).await;
    assert_eq!(listing["status"], "rejected");
    assert_eq!(listing["rejection_reason"], "Confirmed: copied photos");
    assert!(search_ids(&app, "limit=100").await.is_empty());
    assert_eq!(get_as(&app, &format!("/v1/listings/{id}"), None).await.0, 404);
    let (_, queue) = get_as(&app, "/v1/admin/flags", Some(&admin)).await;
    assert!(queue["items"].as_array().unwrap().is_empty(), "every flag on the listing is resolved: {queue}");
    assert_problem(
        resolve(&app, &admin, &id_of(&second), json!({"action": "dismiss", "note": "late"})).await,
        409,
        "flag_resolved",
    )
    .await;
    app.drain_jobs().await;
    assert_eq!(
        subjects_for(&app, "seller@rigmarket.test"),
        vec!["Your listing is live: S19 Pro lot", "Your listing was not approved: S19 Pro lot"]
    );
}

#[tokio::test]
async fn a_dismissed_flag_leaves_the_listing_live() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let (_, buyer) = app.create_user("buyer@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let id = id_of(&create_active(&app, &seller, &admin, json!({})).await);
    let flag: Value = app
        .post_json(&format!("/v1/listings/{id}/flags"), Some(&buyer), &json!({"reason": "duplicate"}))
        .await
        .json()
        .await
        .unwrap();
    let resolve_path = format!("/v1/admin/flags/{}/resolve", id_of(&flag));
    assert_problem(
        app.post_json(&resolve_path, Some(&buyer), &json!({"action": "dismiss", "note": "x"})).await,
        403,
        "admin_required",
    )
    .await;
    assert_problem(
        app.post_json(&resolve_path, Some(&admin), &json!({"action": "ignore", "note": "x"})).await,
        422,
        "invalid_body",
    )
    .await;
    let dismissed = ok_json(
        app.post_json(&resolve_path, Some(&admin), &json!({"action": "dismiss", "note": "Not a duplicate"})).await,
    )
    .await;
    assert_eq!(dismissed["status"], "dismissed");
    assert_eq!(get_as(&app, &format!("/v1/listings/{id}"), None).await.1["status"], "active");
    assert_eq!(search_ids(&app, "limit=100").await, vec![id.clone()]);
    let (_, queue) = get_as(&app, "/v1/admin/flags", Some(&admin)).await;
    assert!(queue["items"].as_array().unwrap().is_empty());
    assert_eq!(flag["listing_id"], id.as_str());
    let again = app.post_json(&format!("/v1/listings/{id}/flags"), Some(&buyer), &json!({"reason": "scam"})).await;
    assert_problem(again, 409, "already_flagged").await;
}

// ---------------------------------------------------------------- expiry
