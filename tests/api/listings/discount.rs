//! Discount and fire-sale values against hand-computed references.

use super::*;

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
    app.register_periodic().await;
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
