//! Review and moderation: draft -> review -> live, rejection, withdrawal, who may act and who may see.

use super::*;

#[tokio::test]
async fn a_draft_goes_through_review_to_live_and_the_seller_is_emailed() {
    let app = TestApp::builder().with_smtp().spawn().await;
    let (seller_id, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let s19 = model_id(&app, "Antminer S19 Pro").await;

    let draft = create_listing(
        &app,
        &seller,
        json!({"title": "S19 Pro lot, Pavlodar", "region": "Pavlodar", "incoterm": "EXW", "lead_time_days": 5}),
    )
    .await;
    let id = id_of(&draft);
    assert_eq!(draft["status"], "draft");
    let no_reputation = json!({"average_rating": null, "review_count": 0, "completed_sales": 0});
    assert_eq!(draft["seller"], json!({"id": seller_id, "display_name": "seller", "reputation": no_reputation}));
    assert_eq!(draft["rig_model"]["id"], s19.as_str());
    assert_eq!(draft["rig_model"]["manufacturer"], "Bitmain");
    assert_eq!(draft["rig_model"]["name"], "Antminer S19 Pro");
    assert_eq!(draft["rig_model"]["hashrate_ths"], 110.0);
    assert_eq!(draft["rig_model"]["power_w"], 3250);
    assert_eq!(draft["rig_model"]["efficiency_j_per_th"], 29.5);
    assert_eq!(draft["rig_model"]["tier"], "25to38");
    assert_eq!((draft["quantity"].as_i64(), draft["quantity_available"].as_i64()), (Some(10), Some(10)));
    assert_eq!(draft["unit_price_cents"], 95_000);
    assert_eq!(draft["currency"], "USD");
    assert_eq!((draft["country"].as_str(), draft["region"].as_str()), (Some("KZ"), Some("Pavlodar")));
    assert_eq!(draft["incoterm"], "EXW");
    assert_eq!(draft["lead_time_days"], 5);
    assert_eq!(draft["inspection_days"], 3, "the default inspection window");
    assert_eq!(draft["serial_numbers"], json!([]));
    assert_eq!(draft["photos"], json!([]));
    for empty in ["hosting", "condition", "hashrate_proof", "published_at", "rejection_reason"] {
        assert!(draft[empty].is_null(), "{empty} should be null: {draft}");
    }
    assert_eq!(time(&draft["created_at"]), app.clock.now());

    // Nobody but the seller (and admins) knows about it yet.
    assert_eq!(get_as(&app, &format!("/v1/listings/{id}"), None).await.0, 404);
    assert!(search_ids(&app, "limit=100").await.is_empty());

    let pending = submit(&app, &seller, &id).await;
    assert_eq!(pending["status"], "pending_review");
    assert_eq!(time(&pending["submitted_at"]), app.clock.now());
    assert!(pending["published_at"].is_null());
    let (status, queue) = get_as(&app, "/v1/admin/listings?status=pending_review", Some(&admin)).await;
    assert_eq!(status, 200, "{queue}");
    assert_eq!(ids(queue["items"].as_array().unwrap()), vec![id.clone()]);
    assert_eq!(get_as(&app, &format!("/v1/listings/{id}"), None).await.0, 404, "under review is not public");

    app.clock.advance(Duration::minutes(5));
    let live = approve(&app, &admin, &id).await;
    assert_eq!(live["status"], "active");
    assert_eq!(time(&live["published_at"]), app.clock.now());
    // The seller's email, and the saved-search matching the publication enqueues.
    assert_eq!(app.drain_jobs().await, 2, "one email to the seller, one alert match");
    assert_eq!(subjects_for(&app, "seller@rigmarket.test"), vec!["Your listing is live: S19 Pro lot, Pavlodar"]);

    let (status, public) = get_as(&app, &format!("/v1/listings/{id}"), None).await;
    assert_eq!((status, public["status"].as_str()), (200, Some("active")));
    assert_eq!(search_ids(&app, "limit=100").await, vec![id.clone()]);
    let (_, mine) = get_as(&app, "/v1/me/listings", Some(&seller)).await;
    assert_eq!(ids(mine["items"].as_array().unwrap()), vec![id.clone()]);
    assert_eq!(mine["items"][0]["status"], "active");
    let (_, queue) = get_as(&app, "/v1/admin/listings", Some(&admin)).await;
    assert!(queue["items"].as_array().unwrap().is_empty(), "the review queue is empty again: {queue}");
    let (_, active) = get_as(&app, "/v1/admin/listings?status=active", Some(&admin)).await;
    assert_eq!(ids(active["items"].as_array().unwrap()), vec![id]);
}

#[tokio::test]
async fn a_rejected_listing_shows_the_reason_and_returns_to_review_after_edits() {
    let app = TestApp::builder().with_smtp().spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let draft = create_listing(&app, &seller, json!({"title": "S19 Pro lot"})).await;
    let id = id_of(&draft);
    submit(&app, &seller, &id).await;

    assert_problem(reject(&app, &admin, &id, "   ").await, 422, "validation_failed").await;
    let rejected = ok_json(reject(&app, &admin, &id, "Photos do not show the serial plates").await).await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["rejection_reason"], "Photos do not show the serial plates");
    assert!(rejected["published_at"].is_null());

    assert_eq!(app.drain_jobs().await, 1);
    let smtp = app.smtp.as_ref().unwrap();
    let mails = smtp.received_for("seller@rigmarket.test");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].header("Subject").as_deref(), Some("Your listing was not approved: S19 Pro lot"));
    let text = mails[0].part("text/plain").expect("a text part");
    assert!(text.contains("Photos do not show the serial plates"), "{text}");

    assert_eq!(get_as(&app, &format!("/v1/listings/{id}"), None).await.0, 404);
    assert!(search_ids(&app, "limit=100").await.is_empty());
    let (status, own) = get_as(&app, &format!("/v1/listings/{id}"), Some(&seller)).await;
    assert_eq!((status, own["rejection_reason"].as_str()), (200, Some("Photos do not show the serial plates")));

    // A rejected listing is edited freely, then goes back to review.
    let edit = json!({"title": "S19 Pro lot with serial plates", "quantity": 12,
                      "hosting": {"facility": "DC-2", "country": "kz", "power_off_at": "2026-03-01T00:00:00Z"}});
    let edited = ok_json(app.patch_json(&format!("/v1/listings/{id}"), Some(&seller), &edit).await).await;
    assert_eq!(edited["title"], "S19 Pro lot with serial plates");
    assert_eq!(edited["quantity"], 12);
    assert_eq!(edited["hosting"]["country"], "KZ");
    assert_eq!(submit(&app, &seller, &id).await["status"], "pending_review");
    let live = approve(&app, &admin, &id).await;
    assert_eq!(live["status"], "active");
    assert!(live["rejection_reason"].is_null(), "{live}");
    assert_eq!(app.drain_jobs().await, 2, "the seller's email and the alert match");
    assert_eq!(
        subjects_for(&app, "seller@rigmarket.test"),
        vec!["Your listing was not approved: S19 Pro lot", "Your listing is live: S19 Pro lot with serial plates"]
    );
}

#[tokio::test]
async fn the_review_queue_serves_the_oldest_submission_first() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let created_first = id_of(&create_listing(&app, &seller, json!({"title": "Created first"})).await);
    let created_second = id_of(&create_listing(&app, &seller, json!({"title": "Created second"})).await);
    let created_third = id_of(&create_listing(&app, &seller, json!({"title": "Created third"})).await);
    // Submitted in the order second, third, first.
    for id in [&created_second, &created_third, &created_first] {
        app.clock.advance(Duration::minutes(1));
        submit(&app, &seller, id).await;
    }
    let expected = vec![created_second, created_third, created_first];
    let (_, queue) = get_as(&app, "/v1/admin/listings?status=pending_review&limit=100", Some(&admin)).await;
    assert_eq!(ids(queue["items"].as_array().unwrap()), expected, "the openapi promises oldest submission first");
    let mut walked = Vec::new();
    let mut path = "/v1/admin/listings?limit=1".to_string();
    loop {
        let (status, page) = get_as(&app, &path, Some(&admin)).await;
        assert_eq!(status, 200, "{page}");
        walked.extend(ids(page["items"].as_array().unwrap()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/admin/listings?limit=1&cursor={cursor}"),
            None => break,
        }
        assert!(walked.len() <= 3, "the walk does not end: {walked:?}");
    }
    assert_eq!(walked, expected, "one at a time, in the same order");
}

#[tokio::test]
async fn withdrawing_ends_a_listing_and_wrong_transitions_conflict() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let path = |id: &str, action: &str| format!("/v1/listings/{id}/{action}");
    let admin_path = |id: &str, action: &str| format!("/v1/admin/listings/{id}/{action}");
    let reject_body = json!({"reason": "no"});

    let a = id_of(&create_listing(&app, &seller, json!({})).await);
    assert_problem(post_empty(&app, &admin_path(&a, "approve"), Some(&admin)).await, 409, "invalid_listing_status")
        .await;
    assert_problem(
        app.post_json(&admin_path(&a, "reject"), Some(&admin), &reject_body).await,
        409,
        "invalid_listing_status",
    )
    .await;
    submit(&app, &seller, &a).await;
    assert_problem(post_empty(&app, &path(&a, "submit"), Some(&seller)).await, 409, "invalid_listing_status").await;
    let patch = app.patch_json(&format!("/v1/listings/{a}"), Some(&seller), &json!({"unit_price_cents": 1})).await;
    assert_problem(patch, 409, "invalid_listing_status").await;
    approve(&app, &admin, &a).await;
    assert_problem(post_empty(&app, &admin_path(&a, "approve"), Some(&admin)).await, 409, "invalid_listing_status")
        .await;
    assert_problem(
        app.post_json(&admin_path(&a, "reject"), Some(&admin), &reject_body).await,
        409,
        "invalid_listing_status",
    )
    .await;
    assert_problem(post_empty(&app, &path(&a, "submit"), Some(&seller)).await, 409, "invalid_listing_status").await;

    let withdrawn = ok_json(post_empty(&app, &path(&a, "withdraw"), Some(&seller)).await).await;
    assert_eq!(withdrawn["status"], "withdrawn");
    assert!(search_ids(&app, "limit=100").await.is_empty(), "a withdrawn listing leaves search");
    assert_eq!(get_as(&app, &format!("/v1/listings/{a}"), None).await.0, 404);
    assert_eq!(get_as(&app, &format!("/v1/listings/{a}"), Some(&seller)).await.1["status"], "withdrawn");
    for action in ["withdraw", "submit"] {
        assert_problem(post_empty(&app, &path(&a, action), Some(&seller)).await, 409, "invalid_listing_status").await;
    }
    let patch = app.patch_json(&format!("/v1/listings/{a}"), Some(&seller), &json!({"description": "x"})).await;
    assert_problem(patch, 409, "invalid_listing_status").await;

    // Drafts and listings under review can be withdrawn too.
    let b = id_of(&create_listing(&app, &seller, json!({})).await);
    assert_eq!(ok_json(post_empty(&app, &path(&b, "withdraw"), Some(&seller)).await).await["status"], "withdrawn");
    let c = id_of(&create_listing(&app, &seller, json!({})).await);
    submit(&app, &seller, &c).await;
    assert_eq!(ok_json(post_empty(&app, &path(&c, "withdraw"), Some(&seller)).await).await["status"], "withdrawn");
    assert_problem(post_empty(&app, &admin_path(&c, "approve"), Some(&admin)).await, 409, "invalid_listing_status")
        .await;
}

#[tokio::test]
async fn only_an_admin_who_is_not_the_seller_can_approve_or_reject() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let (_, other_user) = app.create_user("other@rigmarket.test", &[]).await;
    let (_, selling_admin) = app.create_user("selling-admin@rigmarket.test", &["admin"]).await;
    let admin = app.admin_token().await;

    let plain = id_of(&create_listing(&app, &seller, json!({})).await);
    submit(&app, &seller, &plain).await;
    let approve_path = format!("/v1/admin/listings/{plain}/approve");
    assert_problem(post_empty(&app, &approve_path, Some(&seller)).await, 403, "admin_required").await;
    assert_problem(post_empty(&app, &approve_path, Some(&other_user)).await, 403, "admin_required").await;
    assert_problem(post_empty(&app, &approve_path, None).await, 401, "authentication_required").await;
    let reject = app
        .post_json(&format!("/v1/admin/listings/{plain}/reject"), Some(&other_user), &json!({"reason": "spam"}))
        .await;
    assert_problem(reject, 403, "admin_required").await;
    assert_problem(get_response(&app, "/v1/admin/listings", Some(&seller)).await, 403, "admin_required").await;

    let own = id_of(&create_listing(&app, &selling_admin, json!({})).await);
    submit(&app, &selling_admin, &own).await;
    let own_approve = post_empty(&app, &format!("/v1/admin/listings/{own}/approve"), Some(&selling_admin)).await;
    assert_problem(own_approve, 403, "own_listing").await;
    let own_reject = app
        .post_json(&format!("/v1/admin/listings/{own}/reject"), Some(&selling_admin), &json!({"reason": "meh"}))
        .await;
    assert_problem(own_reject, 403, "own_listing").await;

    for id in [&plain, &own] {
        let (_, listing) = get_as(&app, &format!("/v1/listings/{id}"), Some(&admin)).await;
        assert_eq!(listing["status"], "pending_review", "refused approvals changed nothing");
    }
    assert_eq!(approve(&app, &admin, &own).await["status"], "active", "another admin can approve it");
    assert_eq!(approve(&app, &selling_admin, &plain).await["status"], "active", "and it can approve others'");
}

#[tokio::test]
async fn others_cannot_see_drafts_or_change_someone_elses_listing() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let (_, buyer) = app.create_user("buyer@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let id = id_of(&create_listing(&app, &seller, json!({})).await);
    let listing = format!("/v1/listings/{id}");

    for path in [listing.clone(), format!("{listing}/price-history"), format!("{listing}/condition-reports")] {
        assert_problem(get_response(&app, &path, Some(&buyer)).await, 404, "listing_not_found").await;
        assert_problem(get_response(&app, &path, None).await, 404, "listing_not_found").await;
        assert_eq!(get_as(&app, &path, Some(&seller)).await.0, 200, "{path} for its seller");
        assert_eq!(get_as(&app, &path, Some(&admin)).await.0, 200, "{path} for an admin");
    }
    let price_cut = json!({"unit_price_cents": 1000});
    assert_problem(app.patch_json(&listing, Some(&buyer), &price_cut).await, 404, "listing_not_found").await;
    assert_problem(post_empty(&app, &format!("{listing}/submit"), Some(&buyer)).await, 404, "listing_not_found").await;
    assert_problem(post_empty(&app, &format!("{listing}/withdraw"), Some(&buyer)).await, 404, "listing_not_found")
        .await;
    assert_problem(app.patch_json(&listing, None, &price_cut).await, 401, "authentication_required").await;

    submit(&app, &seller, &id).await;
    assert_problem(get_response(&app, &listing, Some(&buyer)).await, 404, "listing_not_found").await;
    approve(&app, &admin, &id).await;
    assert_eq!(get_as(&app, &listing, Some(&buyer)).await.0, 200, "a live listing is public");
    assert_problem(app.patch_json(&listing, Some(&buyer), &price_cut).await, 403, "not_listing_owner").await;
    assert_problem(post_empty(&app, &format!("{listing}/withdraw"), Some(&buyer)).await, 403, "not_listing_owner")
        .await;

    let (_, unchanged) = get_as(&app, &listing, None).await;
    assert_eq!((unchanged["status"].as_str(), unchanged["unit_price_cents"].as_i64()), (Some("active"), Some(95_000)));
    assert_eq!(
        crate::support::pages::items(&app, &format!("{listing}/price-history"), None).await,
        Vec::<Value>::new()
    );
    let (_, mine) = get_as(&app, "/v1/me/listings", Some(&buyer)).await;
    assert!(mine["items"].as_array().unwrap().is_empty(), "{mine}");
}

#[tokio::test]
async fn an_unverified_account_can_neither_list_nor_flag() {
    let app = spawn_app().await;
    let (seller_id, seller) = app.create_user("new@rigmarket.test", &[]).await;
    let (_, other) = app.create_user("other@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let live = create_active(&app, &other, &admin, json!({})).await;
    let draft = create_listing(&app, &seller, json!({})).await;
    unverify(&app, seller_id).await;

    assert_problem(try_create_listing(&app, &seller, json!({})).await, 403, "email_not_verified").await;
    let submit = post_empty(&app, &format!("/v1/listings/{}/submit", id_of(&draft)), Some(&seller)).await;
    assert_problem(submit, 403, "email_not_verified").await;
    let flag =
        app.post_json(&format!("/v1/listings/{}/flags", id_of(&live)), Some(&seller), &json!({"reason": "scam"})).await;
    assert_problem(flag, 403, "email_not_verified").await;
    assert_eq!(listing_count(&app).await, 2, "only the two earlier listings exist");
    let (_, own) = get_as(&app, &format!("/v1/listings/{}", id_of(&draft)), Some(&seller)).await;
    assert_eq!(own["status"], "draft");
}

// ---------------------------------------------------------------- editing
