//! Every filter, and what search never shows.

use super::*;

#[tokio::test]
async fn the_market_fixture_has_the_numbers_in_its_table() {
    let market = market().await;
    let items = search_all(&market.app, "limit=100").await;
    let mut rows: Vec<String> = items
        .iter()
        .map(|item| {
            format!(
                "{} reference={} usd_per_th={} discount_pct={} fire_sale={} tier={}",
                market.label(item["id"].as_str().unwrap()),
                item["reference_unit_price_cents"],
                item["usd_per_th"],
                item["discount_pct"],
                item["fire_sale"],
                item["rig_model"]["tier"].as_str().unwrap(),
            )
        })
        .collect();
    rows.sort();
    let expected = [
        "L1 reference=172810 usd_per_th=8.64 discount_pct=45.03 fire_sale=true tier=25to38",
        "L2 reference=314200 usd_per_th=15.0 discount_pct=4.52 fire_sale=false tier=under19",
        "L3 reference=90024 usd_per_th=6.82 discount_pct=33.35 fire_sale=true tier=38to68",
        "L4 reference=6372 usd_per_th=5.93 discount_pct=-25.55 fire_sale=false tier=above68",
        "L5 reference=204230 usd_per_th=11.54 discount_pct=26.55 fire_sale=true tier=25to38",
        "L6 reference=361330 usd_per_th=15.22 discount_pct=3.14 fire_sale=false tier=19to25",
        "L7 reference=172810 usd_per_th=8.64 discount_pct=45.03 fire_sale=true tier=25to38",
    ];
    assert_eq!(rows, expected);
}

#[tokio::test]
async fn every_filter_returns_exactly_the_matching_listings() {
    let market = market().await;
    let s19 = &model_id(&market.app, "Antminer S19 Pro").await;
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("limit=100".into(), vec!["L1", "L2", "L3", "L4", "L5", "L6", "L7"]),
        // Full text over title and description.
        ("q=Whatsminer".into(), vec!["L3", "L6"]),
        ("q=S19%20Pro".into(), vec!["L1", "L7"]),
        ("q=S19%20-spares".into(), vec!["L1"]),
        ("q=ekibastuz".into(), vec!["L1"]),
        ("q=heating".into(), vec!["L4"]),
        ("q=%22fresh%20from%22".into(), vec!["L2"]),
        ("q=nothing-like-this".into(), vec![]),
        (format!("rig_model_id={s19}"), vec!["L1", "L7"]),
        (format!("rig_model_id={}", uuid::Uuid::new_v4()), vec![]),
        // Manufacturer names, case-insensitive.
        ("manufacturer=bitmain".into(), vec!["L1", "L2", "L4", "L7"]),
        ("manufacturer=MICROBT".into(), vec!["L3", "L6"]),
        ("manufacturer=Canaan".into(), vec!["L5"]),
        ("manufacturer=Bit".into(), vec![]),
        ("tier=under19".into(), vec!["L2"]),
        ("tier=19to25".into(), vec!["L6"]),
        ("tier=25to38".into(), vec!["L1", "L5", "L7"]),
        ("tier=38to68".into(), vec!["L3"]),
        ("tier=above68".into(), vec!["L4"]),
        ("country=KZ".into(), vec!["L1", "L4", "L6"]),
        ("country=kz".into(), vec!["L1", "L4", "L6"]),
        ("country=US".into(), vec!["L2", "L7"]),
        ("country=DE".into(), vec![]),
        // Price bounds are inclusive.
        ("min_price_cents=150000".into(), vec!["L2", "L5", "L6"]),
        ("max_price_cents=95000".into(), vec!["L1", "L3", "L4", "L7"]),
        ("min_price_cents=95000&max_price_cents=150000".into(), vec!["L1", "L5", "L7"]),
        ("max_usd_per_th=8.64".into(), vec!["L1", "L3", "L4", "L7"]),
        ("max_usd_per_th=8.63".into(), vec!["L3", "L4"]),
        ("max_usd_per_th=0".into(), vec![]),
        // At least this good, by the latest report; unreported lots never match.
        ("condition_grade=A".into(), vec!["L2"]),
        ("condition_grade=B".into(), vec!["L1", "L2", "L6"]),
        ("condition_grade=C".into(), vec!["L1", "L2", "L5", "L6"]),
        ("condition_grade=D".into(), vec!["L1", "L2", "L3", "L5", "L6"]),
        ("fire_sale=true".into(), vec!["L1", "L3", "L5", "L7"]),
        ("fire_sale=false".into(), vec!["L2", "L4", "L6"]),
        ("min_discount_pct=30".into(), vec!["L1", "L3", "L7"]),
        ("min_discount_pct=45.03".into(), vec!["L1", "L7"]),
        ("min_discount_pct=45.04".into(), vec![]),
        ("min_discount_pct=0".into(), vec!["L1", "L2", "L3", "L5", "L6", "L7"]),
        ("min_discount_pct=-30".into(), vec!["L1", "L2", "L3", "L4", "L5", "L6", "L7"]),
        // Nothing has a verified hashrate proof yet.
        ("verified_only=true".into(), vec![]),
        ("verified_only=false".into(), vec!["L1", "L2", "L3", "L4", "L5", "L6", "L7"]),
        ("power_off_before=2026-01-21".into(), vec!["L3"]),
        ("power_off_before=2026-02-01".into(), vec!["L3"]),
        ("power_off_before=2026-02-02".into(), vec!["L1", "L3"]),
        ("power_off_before=2027-01-01".into(), vec!["L1", "L3", "L5"]),
        ("min_quantity=10".into(), vec!["L1", "L3", "L4"]),
        ("min_quantity=50".into(), vec!["L3", "L4"]),
        ("min_quantity=101".into(), vec![]),
        ("manufacturer=bitmain&country=KZ&fire_sale=true".into(), vec!["L1"]),
        ("tier=25to38&max_price_cents=100000&min_quantity=5".into(), vec!["L1"]),
    ];
    let mut wrong = Vec::new();
    for (query, expected) in &cases {
        let found = market.sorted_labels(query).await;
        if &found != expected {
            wrong.push(format!("{query}: expected {expected:?}, got {found:?}"));
        }
    }
    assert!(wrong.is_empty(), "filters that answered wrongly:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn malformed_search_parameters_are_refused() {
    let app = spawn_app().await;
    for query in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "cursor=garbage",
        "cursor=eyJrZXkiOjEsImlkIjoibm9wZSJ9",
        "country=XX",
        "min_price_cents=-1",
        "max_price_cents=-5",
        "max_usd_per_th=-1",
        "max_usd_per_th=NaN",
        "min_discount_pct=101",
        "min_quantity=-1",
    ] {
        assert_problem(app.get(&format!("/v1/listings?{query}")).await, 422, "validation_failed").await;
    }
    let long_q = "a".repeat(201);
    assert_problem(app.get(&format!("/v1/listings?q={long_q}")).await, 422, "validation_failed").await;
    for query in [
        "sort=cheapest",
        "sort=PRICE_ASC",
        "tier=19-25",
        "condition_grade=E",
        "fire_sale=maybe",
        "rig_model_id=not-a-uuid",
        "power_off_before=2026-13-01",
        "limit=ten",
        "colour=red",
    ] {
        assert_problem(app.get(&format!("/v1/listings?{query}")).await, 400, "invalid_query").await;
    }
    assert_eq!(app.get("/v1/listings?limit=100").await.status(), 200);
    assert_eq!(app.get("/v1/listings?limit=1").await.status(), 200);
}

#[tokio::test]
async fn only_active_listings_of_sellers_in_good_standing_are_found() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let (banned_id, banned) = app.create_user("banned@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let active = id_of(&create_active(&app, &seller, &admin, json!({})).await);
    create_listing(&app, &seller, json!({"title": "A draft"})).await;
    let pending = id_of(&create_listing(&app, &seller, json!({"title": "Under review"})).await);
    submit(&app, &seller, &pending).await;
    let rejected = id_of(&create_listing(&app, &seller, json!({"title": "Rejected"})).await);
    submit(&app, &seller, &rejected).await;
    let reject = app
        .post_json(&format!("/v1/admin/listings/{rejected}/reject"), Some(&admin), &json!({"reason": "blurry"}))
        .await;
    assert_eq!(reject.status(), 200);
    let withdrawn = id_of(&create_active(&app, &seller, &admin, json!({"title": "Withdrawn"})).await);
    ok_json(post_empty(&app, &format!("/v1/listings/{withdrawn}/withdraw"), Some(&seller)).await).await;
    let sold_out = id_of(&create_active(&app, &seller, &admin, json!({"title": "Sold out", "quantity": 2})).await);
    set_units(&app, &sold_out, 0, 1).await;
    let patch = app.patch_json(&format!("/v1/listings/{sold_out}"), Some(&seller), &json!({"quantity": 1})).await;
    assert_eq!(ok_json(patch).await["status"], "sold_out");
    let suspended = id_of(&create_active(&app, &banned, &admin, json!({"title": "Suspended seller"})).await);
    let mut both = vec![active.clone(), suspended];
    both.sort();
    let mut found: Vec<String> = search_all(&app, "limit=100").await.iter().map(id_of).collect();
    found.sort();
    assert_eq!(found, both);

    let suspend =
        app.post_json(&format!("/v1/admin/users/{banned_id}/suspend"), Some(&admin), &json!({"reason": "fraud"})).await;
    assert_eq!(suspend.status(), 200);
    let found: Vec<String> = search_all(&app, "limit=100").await.iter().map(id_of).collect();
    assert_eq!(found, vec![active]);
    assert_eq!(search(&app, "with_total=true").await["total"], 1);
}
