//! Editing live listings (price history, quantity floor) and what suspension hides.

use super::*;

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
    assert_eq!(crate::support::pages::items(&app, &format!("{path}/price-history"), None).await, Vec::<Value>::new());

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

    let history = crate::support::pages::walk_one_by_one(&app, &format!("{path}/price-history"), None).await;
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
