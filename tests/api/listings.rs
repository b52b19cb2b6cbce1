//! Listings: the draft -> review -> live lifecycle with its role checks, editing
//! rules and price history, suspended sellers, discounts and fire sales against
//! hand-computed references, bad input, condition reports, flags and moderation,
//! and the hosting-deadline sweep.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::support::listings::{
    add_report, approve, at, condition_report, create_active, create_listing, get_as, get_response, id_of, ids,
    listing_count, model_id, ok_json, post_empty, publish, search, search_all, set_units, subjects_for, submit,
    try_create_listing, unverify,
};
use crate::support::{assert_problem, spawn_app, TestApp};

fn time(value: &Value) -> DateTime<Utc> {
    at(value.as_str().unwrap_or_else(|| panic!("not a timestamp: {value}")))
}

async fn reject(app: &TestApp, admin: &str, id: &str, reason: &str) -> reqwest::Response {
    app.post_json(&format!("/v1/admin/listings/{id}/reject"), Some(admin), &json!({ "reason": reason })).await
}

async fn resolve(app: &TestApp, admin: &str, flag: &str, body: Value) -> reqwest::Response {
    app.post_json(&format!("/v1/admin/flags/{flag}/resolve"), Some(admin), &body).await
}

async fn search_ids(app: &TestApp, query: &str) -> Vec<String> {
    ids(&search_all(app, query).await)
}

// ---------------------------------------------------------------- lifecycle

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
    assert_eq!(draft["seller"], json!({"id": seller_id, "display_name": "seller"}));
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
    assert_eq!(app.drain_jobs().await, 1, "one email to the seller");
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
    assert_eq!(app.drain_jobs().await, 1);
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
    assert_eq!(get_as(&app, &format!("{listing}/price-history"), None).await.1, json!([]));
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

#[tokio::test]
async fn a_live_listing_changes_only_price_quantity_and_description_and_price_changes_are_recorded() {
    let app = spawn_app().await;
    let (seller_id, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    // A price change while still a draft is not history.
    let draft = create_listing(&app, &seller, json!({"unit_price_cents": 99_000})).await;
    let id = id_of(&draft);
    let path = format!("/v1/listings/{id}");
    ok_json(app.patch_json(&path, Some(&seller), &json!({"unit_price_cents": 95_000})).await).await;
    publish(&app, &seller, &admin, &id).await;
    assert_eq!(get_as(&app, &format!("{path}/price-history"), None).await.1, json!([]));

    let first_change = app.clock.now();
    let cut = ok_json(app.patch_json(&path, Some(&seller), &json!({"unit_price_cents": 90_000})).await).await;
    assert_eq!(cut["unit_price_cents"], 90_000);
    app.clock.advance(Duration::minutes(3));
    let second_change = app.clock.now();
    let body = json!({"unit_price_cents": 85_000, "quantity": 8, "description": "Price cut, must go."});
    let edited = ok_json(app.patch_json(&path, Some(&seller), &body).await).await;
    assert_eq!(edited["status"], "active");
    assert_eq!((edited["quantity"].as_i64(), edited["quantity_available"].as_i64()), (Some(8), Some(8)));
    assert_eq!(edited["description"], "Price cut, must go.");
    // 1 - 85,000 / 172,810 = 50.81 %; 85,000 / 110 TH = $7.73/TH.
    assert_eq!(edited["discount_pct"], 50.81);
    assert_eq!(edited["usd_per_th"], 7.73);
    assert_eq!(edited["discount_at_publication_pct"], 45.03, "the discount at publication stays");
    // The same price again is not a change.
    ok_json(app.patch_json(&path, Some(&seller), &json!({"unit_price_cents": 85_000})).await).await;

    for (locked, fields) in [
        (json!({"title": "New title"}), vec!["title"]),
        (json!({"hosting": null, "title": "x y z", "unit_price_cents": 1}), vec!["title", "hosting"]),
        (json!({"country": "US", "serial_numbers": ["A1"]}), vec!["country", "serial_numbers"]),
    ] {
        let body = assert_problem(app.patch_json(&path, Some(&seller), &locked).await, 422, "validation_failed").await;
        let named: Vec<&str> =
            body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(named, fields, "{body}");
    }
    let (_, after) = get_as(&app, &path, None).await;
    assert_eq!(after["title"], "Antminer S19 Pro lot");
    assert_eq!(after["unit_price_cents"], 85_000, "a refused edit changes nothing, not even the price");
    assert_eq!(after["country"], "KZ");

    let (status, history) = get_as(&app, &format!("{path}/price-history"), None).await;
    assert_eq!(status, 200);
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(
        (history[0]["old_price_cents"].as_i64(), history[0]["new_price_cents"].as_i64()),
        (Some(95_000), Some(90_000))
    );
    assert_eq!(
        (history[1]["old_price_cents"].as_i64(), history[1]["new_price_cents"].as_i64()),
        (Some(90_000), Some(85_000))
    );
    assert_eq!(time(&history[0]["changed_at"]), first_change);
    assert_eq!(time(&history[1]["changed_at"]), second_change);
    assert!(!history[0].to_string().contains(&seller_id.to_string()), "who changed it is not public: {history:?}");
}

#[tokio::test]
async fn quantity_never_drops_below_the_units_reserved_or_sold() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let id = id_of(&create_active(&app, &seller, &admin, json!({"quantity": 10})).await);
    let path = format!("/v1/listings/{id}");
    set_units(&app, &id, 2, 4).await;

    for quantity in [5, 0, -1] {
        let body = assert_problem(
            app.patch_json(&path, Some(&seller), &json!({ "quantity": quantity })).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(body["errors"].as_array().unwrap().iter().all(|e| e["field"] == "quantity"), "{body}");
    }
    let (_, unchanged) = get_as(&app, &path, None).await;
    assert_eq!((unchanged["quantity"].as_i64(), unchanged["quantity_available"].as_i64()), (Some(10), Some(4)));

    // Exactly the committed units: nothing left to buy, so the listing is sold out.
    let sold_out = ok_json(app.patch_json(&path, Some(&seller), &json!({"quantity": 6})).await).await;
    assert_eq!((sold_out["status"].as_str(), sold_out["quantity_available"].as_i64()), (Some("sold_out"), Some(0)));
    assert!(search_ids(&app, "limit=100").await.is_empty(), "a sold-out lot is not offered");
    let restocked = ok_json(app.patch_json(&path, Some(&seller), &json!({"quantity": 9})).await).await;
    assert_eq!((restocked["status"].as_str(), restocked["quantity_available"].as_i64()), (Some("active"), Some(3)));
    assert_eq!(search_ids(&app, "limit=100").await, vec![id.clone()]);
    // Units held by open orders keep the listing from being withdrawn.
    let withdraw = post_empty(&app, &format!("{path}/withdraw"), Some(&seller)).await;
    assert_problem(withdraw, 409, "listing_has_open_orders").await;
    assert_eq!(get_as(&app, &path, None).await.1["status"], "active");
}

// ---------------------------------------------------------------- suspension

#[tokio::test]
async fn a_suspended_sellers_listings_disappear_until_the_account_is_reinstated() {
    let app = spawn_app().await;
    let (banned_id, banned) = app.create_user("banned@rigmarket.test", &[]).await;
    let (_, honest) = app.create_user("honest@rigmarket.test", &[]).await;
    let (_, buyer) = app.create_user("buyer@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let hidden = id_of(&create_active(&app, &banned, &admin, json!({})).await);
    add_report(&app, &banned, &hidden, "B").await;
    let shown = id_of(&create_active(&app, &honest, &admin, json!({})).await);
    let mut both = vec![hidden.clone(), shown.clone()];
    both.sort();
    let mut found = search_ids(&app, "limit=100").await;
    found.sort();
    assert_eq!(found, both);

    let suspend = app
        .post_json(&format!("/v1/admin/users/{banned_id}/suspend"), Some(&admin), &json!({"reason": "fake lots"}))
        .await;
    assert_eq!(suspend.status(), 200, "{}", suspend.text().await.unwrap());
    assert_eq!(search_ids(&app, "limit=100").await, vec![shown.clone()]);
    assert_eq!(search(&app, "with_total=true").await["total"], 1);
    assert_eq!(search_ids(&app, "limit=100&condition_grade=D").await, Vec::<String>::new());
    let listing = format!("/v1/listings/{hidden}");
    for path in [listing.clone(), format!("{listing}/price-history"), format!("{listing}/condition-reports")] {
        assert_problem(get_response(&app, &path, None).await, 404, "listing_not_found").await;
        assert_problem(get_response(&app, &path, Some(&buyer)).await, 404, "listing_not_found").await;
    }
    assert_eq!(get_as(&app, &listing, Some(&admin)).await.0, 200, "admins still see it");

    let reinstate = post_empty(&app, &format!("/v1/admin/users/{banned_id}/reinstate"), Some(&admin)).await;
    assert_eq!(reinstate.status(), 200);
    let mut found = search_ids(&app, "limit=100").await;
    found.sort();
    assert_eq!(found, both, "reinstated, the listing is back");
    assert_eq!(get_as(&app, &listing, None).await.0, 200);
}

#[tokio::test]
async fn a_suspended_sellers_hidden_listing_cannot_be_flagged() {
    let app = spawn_app().await;
    let (banned_id, banned) = app.create_user("banned@rigmarket.test", &[]).await;
    let (_, buyer) = app.create_user("buyer@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let hidden = id_of(&create_active(&app, &banned, &admin, json!({})).await);
    let suspend = app
        .post_json(&format!("/v1/admin/users/{banned_id}/suspend"), Some(&admin), &json!({"reason": "fake lots"}))
        .await;
    assert_eq!(suspend.status(), 200);
    assert_problem(get_response(&app, &format!("/v1/listings/{hidden}"), Some(&buyer)).await, 404, "listing_not_found")
        .await;
    // Hidden means hidden: answering 201 here would confirm the listing exists.
    let flag = app.post_json(&format!("/v1/listings/{hidden}/flags"), Some(&buyer), &json!({"reason": "scam"})).await;
    assert_problem(flag, 404, "listing_not_found").await;
}

// ---------------------------------------------------------------- discount

#[tokio::test]
async fn discount_and_fire_sale_match_the_tier_reference_computed_by_hand() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;

    // S19 Pro, 110 TH at 29.5 J/TH: no price of its own, so the latest under38 tier
    // point on or before 2026-01-05 (2022-12-25, $15.71/TH) x 110 TH = $1,728.10.
    let draft = create_listing(&app, &seller, json!({"unit_price_cents": 95_000})).await;
    assert_eq!(draft["reference_unit_price_cents"], 172_810);
    // 1 - 95,000 / 172,810 = 0.450263 -> 45.03 %; 95,000 / 110 = 863.64 cents/TH.
    assert_eq!(draft["discount_pct"], 45.03);
    assert_eq!(draft["fire_sale"], true);
    assert_eq!(draft["usd_per_th_cents"], 864);
    assert_eq!(draft["usd_per_th"], 8.64);
    assert!(draft["discount_at_publication_pct"].is_null(), "not published yet: {draft}");
    let live = publish(&app, &seller, &admin, &id_of(&draft)).await;
    assert_eq!(live["discount_pct"], 45.03);
    assert_eq!(live["discount_at_publication_pct"], 45.03);
    assert_eq!(live["fire_sale"], true);

    // 1 - 150,000 / 172,810 = 13.20 %: a discount, not a fire sale.
    let modest = create_active(&app, &seller, &admin, json!({"unit_price_cents": 150_000})).await;
    assert_eq!(modest["discount_pct"], 13.2);
    assert_eq!(modest["discount_at_publication_pct"], 13.2);
    assert_eq!(modest["fire_sale"], false);
    assert_eq!(modest["usd_per_th"], 13.64); // 1,363.64 cents

    // Whatsminer M30S 88T is exactly 38.0 J/TH: the 38to68 band, $10.23/TH x 88 =
    // $900.24. At $720.19 the discount rounds to exactly 20.00 %: a fire sale;
    // at $720.30 it is 19.99 %: not one.
    let m30s = model_id(&app, "Whatsminer M30S 88T").await;
    let edge = create_listing(&app, &seller, json!({"rig_model_id": m30s, "unit_price_cents": 72_019})).await;
    assert_eq!(edge["reference_unit_price_cents"], 90_024);
    assert_eq!((edge["discount_pct"].as_f64(), edge["fire_sale"].as_bool()), (Some(20.0), Some(true)));
    let below = create_listing(&app, &seller, json!({"rig_model_id": m30s, "unit_price_cents": 72_030})).await;
    assert_eq!((below["discount_pct"].as_f64(), below["fire_sale"].as_bool()), (Some(19.99), Some(false)));

    // Antminer S9 (98 J/TH, above68): $4.72 x 13.5 TH = $63.72; asking more is a
    // negative discount.
    let s9 = model_id(&app, "Antminer S9").await;
    let dear = create_listing(&app, &seller, json!({"rig_model_id": s9, "unit_price_cents": 8_000})).await;
    assert_eq!(dear["reference_unit_price_cents"], 6_372);
    assert_eq!((dear["discount_pct"].as_f64(), dear["fire_sale"].as_bool()), (Some(-25.55), Some(false)));

    let fire = search_ids(&app, "fire_sale=true&limit=100").await;
    assert_eq!(fire, vec![id_of(&live)]);
}

#[tokio::test]
async fn a_new_reference_price_moves_the_discount_but_not_the_one_at_publication() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let s19 = model_id(&app, "Antminer S19 Pro").await;
    let live = create_active(&app, &seller, &admin, json!({"unit_price_cents": 95_000})).await;
    let id = id_of(&live);
    assert_eq!(search_ids(&app, "fire_sale=true").await, vec![id.clone()]);

    let price = json!({"rig_model_id": s19, "priced_on": "2026-01-02", "basis": "unit", "amount_cents": 100_000});
    let response = app.post_json("/v1/admin/reference-prices", Some(&admin), &price).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    app.drain_jobs().await;

    let (_, now) = get_as(&app, &format!("/v1/listings/{id}"), None).await;
    assert_eq!(now["reference_unit_price_cents"], 100_000);
    assert_eq!(now["discount_pct"], 5.0, "1 - 95,000 / 100,000");
    assert_eq!(now["fire_sale"], false);
    assert_eq!(now["discount_at_publication_pct"], 45.03, "publication is history");
    assert!(search_ids(&app, "fire_sale=true").await.is_empty());
    assert!(search_ids(&app, "min_discount_pct=10").await.is_empty());
    assert_eq!(search_ids(&app, "min_discount_pct=5").await, vec![id.clone()]);
    assert_eq!(search_ids(&app, "fire_sale=false").await, vec![id.clone()]);

    // Listings published after the change freeze the new reference.
    let later = create_active(&app, &seller, &admin, json!({"unit_price_cents": 70_000})).await;
    assert_eq!(later["discount_at_publication_pct"], 30.0);
    assert_eq!(later["fire_sale"], true);
}

#[tokio::test]
async fn the_discount_follows_the_tier_index_as_new_points_take_effect() {
    // On 2022-12-24 the latest under38 point is 2022-11-15 ($20.01/TH): the S19 Pro
    // references $2,201.10 and $950 is 1 - 95,000 / 220,110 = 56.84 % off.
    let app = TestApp::builder().at(at("2022-12-24T12:00:00Z")).spawn().await;
    rigmarket::jobs::register_periodic(&app.state).await.expect("register the periodic schedule");
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let live = create_active(&app, &seller, &admin, json!({"unit_price_cents": 95_000})).await;
    assert_eq!(live["reference_unit_price_cents"], 220_110);
    assert_eq!(live["discount_pct"], 56.84);
    assert_eq!(live["discount_at_publication_pct"], 56.84);

    // A day later the 2022-12-25 point ($15.71/TH) applies once the periodic
    // reference refresh has run.
    app.clock.advance(Duration::days(1));
    app.drain_jobs().await;
    let (_, now) = get_as(&app, &format!("/v1/listings/{}", id_of(&live)), None).await;
    assert_eq!(now["reference_unit_price_cents"], 172_810);
    assert_eq!(now["discount_pct"], 45.03);
    assert_eq!(now["discount_at_publication_pct"], 56.84);
    assert_eq!(search_ids(&app, "min_discount_pct=50").await, Vec::<String>::new());
}

#[tokio::test]
async fn without_any_reference_there_is_no_discount_and_never_a_fire_sale() {
    // Before the first tier point (2021-05-07) and with no model price, the S19 Pro
    // has no reference at all.
    let app = TestApp::builder().at(at("2021-01-01T12:00:00Z")).spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let live = create_active(&app, &seller, &admin, json!({"unit_price_cents": 95_000})).await;
    let id = id_of(&live);
    assert!(live["reference_unit_price_cents"].is_null(), "{live}");
    assert!(live["discount_pct"].is_null(), "{live}");
    assert!(live["discount_at_publication_pct"].is_null(), "{live}");
    assert_eq!(live["fire_sale"], false);
    assert_eq!(live["usd_per_th"], 8.64, "$/TH needs no reference");

    assert_eq!(search_ids(&app, "limit=100").await, vec![id.clone()]);
    assert!(search_ids(&app, "fire_sale=true").await.is_empty());
    assert!(search_ids(&app, "min_discount_pct=-100").await.is_empty());
    assert_eq!(search_ids(&app, "fire_sale=false").await, vec![id.clone()]);
    assert_eq!(search_ids(&app, "sort=discount_desc").await, vec![id]);
}

// ---------------------------------------------------------------- bad input

fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().map(|e| e["field"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn bad_listing_input_gets_a_clear_422_and_nothing_is_written() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let unknown_model = uuid::Uuid::new_v4().to_string();
    let past = "2026-01-05T08:59:59Z";
    let cases: Vec<(Value, &str, Vec<&str>)> = vec![
        (json!({"quantity": 0}), "validation_failed", vec!["quantity"]),
        (json!({"quantity": -1}), "validation_failed", vec!["quantity"]),
        (json!({"unit_price_cents": 0}), "validation_failed", vec!["unit_price_cents"]),
        (json!({"unit_price_cents": -95_000}), "validation_failed", vec!["unit_price_cents"]),
        (json!({"rig_model_id": unknown_model}), "validation_failed", vec!["rig_model_id"]),
        (json!({"country": "XX"}), "validation_failed", vec!["country"]),
        (json!({"country": "Kazakhstan"}), "validation_failed", vec!["country"]),
        (
            json!({"hosting": {"facility": "DC-2", "country": "KZ", "power_off_at": past}}),
            "validation_failed",
            vec!["hosting.power_off_at"],
        ),
        (json!({"description": "x".repeat(25_000)}), "validation_failed", vec!["description"]),
        (json!({"title": "  "}), "validation_failed", vec!["title"]),
        (json!({"inspection_days": 15}), "validation_failed", vec!["inspection_days"]),
        (json!({"serial_numbers": ["A1", "A2", "A3"], "quantity": 2}), "validation_failed", vec!["serial_numbers"]),
        (json!({"colour": "red"}), "invalid_body", vec![]),
        (json!({"currency": "EUR"}), "invalid_body", vec![]),
        (json!({"incoterm": "FOO"}), "invalid_body", vec![]),
        (json!({"quantity": "ten"}), "invalid_body", vec![]),
        (json!({"rig_model_id": "not-a-uuid"}), "invalid_body", vec![]),
    ];
    for (overrides, code, fields) in cases {
        let response = try_create_listing(&app, &seller, overrides.clone()).await;
        let body = assert_problem(response, 422, code).await;
        if code == "validation_failed" {
            assert_eq!(error_fields(&body), fields, "{overrides}: {body}");
        }
        assert_eq!(listing_count(&app).await, 0, "{overrides} wrote a listing");
    }
    let missing = app.post_json("/v1/listings", Some(&seller), &json!({"title": "No model"})).await;
    assert_problem(missing, 422, "invalid_body").await;
    assert_eq!(listing_count(&app).await, 0);

    // Lower-case country codes are normalised, not refused.
    let lower = create_listing(
        &app,
        &seller,
        json!({"country": "kz", "hosting": {"facility": " DC-2 ", "country": "kz", "power_off_at": "2026-03-01T00:00:00Z"}}),
    )
    .await;
    assert_eq!(lower["country"], "KZ");
    assert_eq!(lower["hosting"]["country"], "KZ");
    assert_eq!(lower["hosting"]["facility"], "DC-2");
    assert_eq!(listing_count(&app).await, 1);
}

#[tokio::test]
async fn ten_megabytes_of_description_are_refused_as_too_large() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let response = try_create_listing(&app, &seller, json!({"description": "x".repeat(10 * 1024 * 1024)})).await;
    assert_problem(response, 413, "payload_too_large").await;
    assert_eq!(listing_count(&app).await, 0);
}

#[tokio::test]
async fn a_thousand_garbage_serial_numbers_get_a_short_answer() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let garbage: Vec<String> = (0..1000).map(|i| format!("serial #{i} <script>")).collect();
    let response = try_create_listing(&app, &seller, json!({"quantity": 2000, "serial_numbers": garbage})).await;
    let body = assert_problem(response, 422, "validation_failed").await;
    let fields = error_fields(&body);
    assert!(!fields.is_empty() && fields.len() <= 5, "at most five errors, not a thousand: {fields:?}");
    assert_eq!(fields[0], "serial_numbers[0]");
    assert_eq!(listing_count(&app).await, 0);

    let good: Vec<String> = (0..3).map(|i| format!("SN-2021-{i:04}")).collect();
    let listing = create_listing(&app, &seller, json!({"quantity": 3, "serial_numbers": good})).await;
    assert_eq!(listing["serial_numbers"], json!(["SN-2021-0000", "SN-2021-0001", "SN-2021-0002"]));
}

// ---------------------------------------------------------------- condition reports

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

    let (status, all) = get_as(&app, &reports_path, None).await;
    assert_eq!(status, 200);
    let versions: Vec<i64> = all.as_array().unwrap().iter().map(|r| r["version"].as_i64().unwrap()).collect();
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
    assert_eq!(get_as(&app, &reports_path, None).await.1.as_array().unwrap().len(), 2);
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
    let (_, all) = get_as(&app, &reports(&live), None).await;
    assert_eq!(all.as_array().unwrap().len(), 1, "refused reports were not stored: {all}");
    assert_eq!(search_ids(&app, "condition_grade=A").await, Vec::<String>::new());

    ok_json(post_empty(&app, &format!("/v1/listings/{live}/withdraw"), Some(&seller)).await).await;
    assert_problem(app.post_json(&reports(&live), Some(&seller), &body).await, 409, "invalid_listing_status").await;
}

// ---------------------------------------------------------------- flags

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

#[tokio::test]
async fn hosting_deadlines_remind_the_seller_twice_then_expire_the_listing() {
    let app = TestApp::builder().with_smtp().spawn().await;
    // What a worker does when it starts: put the production schedule (with the
    // hourly `listing_deadlines` sweep) in place; `drain_jobs` then runs what is due.
    rigmarket::jobs::register_periodic(&app.state).await.expect("register the periodic schedule");
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let power_off_at = app.clock.now() + Duration::days(8);
    let hosted = create_active(
        &app,
        &seller,
        &admin,
        json!({"title": "Hosted S19 Pro lot",
               "hosting": {"facility": "DC-2", "country": "KZ", "contract_ends_on": "2026-01-31",
                           "power_off_at": power_off_at.to_rfc3339()}}),
    )
    .await;
    assert_eq!(time(&hosted["hosting"]["power_off_at"]), power_off_at);
    let unhosted = id_of(&create_active(&app, &seller, &admin, json!({"title": "Warehouse lot"})).await);
    let id = id_of(&hosted);
    app.drain_jobs().await;
    let reminder = "Hosting deadline 2026-01-13 09:00 UTC: Hosted S19 Pro lot";
    let live = |title: &str| format!("Your listing is live: {title}");
    let subjects = || subjects_for(&app, "seller@rigmarket.test");
    assert_eq!(subjects(), vec![live("Hosted S19 Pro lot"), live("Warehouse lot")]);

    // 6.5 days before the deadline: the 7-day reminder, once.
    app.clock.advance(Duration::hours(36));
    app.drain_jobs().await;
    assert_eq!(subjects()[2..], [reminder.to_string()]);
    app.clock.advance(Duration::hours(2));
    app.drain_jobs().await;
    assert_eq!(subjects().len(), 3, "{:?}", subjects());

    // 18 hours before: the 1-day reminder, once.
    app.clock.advance(Duration::hours(8 * 24 - 36 - 2 - 18));
    app.drain_jobs().await;
    assert_eq!(subjects()[2..], [reminder.to_string(), reminder.to_string()]);
    app.clock.advance(Duration::hours(2));
    app.drain_jobs().await;
    assert_eq!(subjects().len(), 4, "{:?}", subjects());
    assert_eq!(get_as(&app, &format!("/v1/listings/{id}"), None).await.1["status"], "active");

    // Past the deadline: expired, with an email.
    app.clock.advance(Duration::hours(17));
    app.drain_jobs().await;
    let (_, expired) = get_as(&app, &format!("/v1/listings/{id}"), None).await;
    assert_eq!(expired["status"], "expired");
    assert_eq!(subjects()[4..], ["Listing expired: Hosted S19 Pro lot".to_string()]);
    assert_eq!(search_ids(&app, "limit=100").await, vec![unhosted.clone()]);
    assert_eq!(get_as(&app, &format!("/v1/listings/{unhosted}"), None).await.1["status"], "active");

    app.clock.advance(Duration::days(2));
    app.drain_jobs().await;
    assert_eq!(subjects().len(), 5, "nothing more is sent: {:?}", subjects());
}

#[tokio::test]
async fn a_listing_already_within_a_day_of_its_deadline_gets_one_reminder_not_two() {
    let app = TestApp::builder().with_smtp().spawn().await;
    rigmarket::jobs::register_periodic(&app.state).await.expect("register the periodic schedule");
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let power_off_at = app.clock.now() + Duration::hours(12);
    let id = id_of(
        &create_active(
            &app,
            &seller,
            &admin,
            json!({"title": "Urgent lot",
                   "hosting": {"facility": "DC-2", "country": "KZ", "power_off_at": power_off_at.to_rfc3339()}}),
        )
        .await,
    );
    app.clock.advance(Duration::hours(1));
    app.drain_jobs().await;
    assert_eq!(
        subjects_for(&app, "seller@rigmarket.test"),
        vec!["Your listing is live: Urgent lot", "Hosting deadline 2026-01-05 21:00 UTC: Urgent lot"]
    );
    app.clock.advance(Duration::hours(12));
    app.drain_jobs().await;
    assert_eq!(get_as(&app, &format!("/v1/listings/{id}"), None).await.1["status"], "expired");
    assert_eq!(subjects_for(&app, "seller@rigmarket.test")[2..], ["Listing expired: Urgent lot".to_string()]);
}

#[tokio::test]
async fn sweeps_running_at_once_on_two_instances_send_each_reminder_once() {
    let app = TestApp::builder().with_smtp().spawn().await;
    rigmarket::jobs::register_periodic(&app.state).await.expect("register the periodic schedule");
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let power_off_at = app.clock.now() + Duration::days(3);
    create_active(
        &app,
        &seller,
        &admin,
        json!({"title": "Contested lot",
               "hosting": {"facility": "DC-2", "country": "KZ", "power_off_at": power_off_at.to_rfc3339()}}),
    )
    .await;
    app.drain_jobs().await;
    // Besides the scheduled run, two stray sweeps (a retry, a manual run) are due.
    for _ in 0..2 {
        rigmarket::jobs::enqueue(
            &mut *app.conn().await,
            rigmarket::jobs::KIND_LISTING_DEADLINES,
            &json!({}),
            app.clock.now(),
        )
        .await
        .unwrap();
    }
    app.clock.advance(Duration::hours(1));
    let other = app.another_instance().await;
    let (here, there) = tokio::join!(app.drain_jobs(), rigmarket::jobs::drain(&other));
    assert!(here + there.unwrap() >= 4, "three sweeps and the email ran");
    app.drain_jobs().await;
    assert_eq!(
        subjects_for(&app, "seller@rigmarket.test"),
        vec!["Your listing is live: Contested lot", "Hosting deadline 2026-01-08 09:00 UTC: Contested lot"]
    );
}
