//! Every sort, and keyset pages that neither repeat nor skip.

use super::*;

#[tokio::test]
async fn every_sort_orders_as_computed_by_hand_and_pages_walk_it_without_gaps() {
    let market = market().await;
    for (sort, expected) in SORTS {
        let one_page = search(&market.app, &format!("sort={sort}&limit=100")).await;
        assert!(one_page["next_cursor"].is_null(), "{sort}: all fit on one page");
        let labels = market.labels_of(one_page["items"].as_array().unwrap());
        assert_eq!(labels, expected, "sort={sort}");
        for limit in [1, 2, 3, 6, 7] {
            assert_eq!(
                market.labels(&format!("sort={sort}&limit={limit}")).await,
                expected,
                "sort={sort} limit={limit}"
            );
        }
    }
    // The default sort is newest.
    assert_eq!(market.labels("limit=3").await, SORTS[0].1);
    // Pages of a filtered search: the filter holds on every page.
    assert_eq!(market.labels("sort=price_asc&limit=1&manufacturer=bitmain").await, vec!["L4", "L1", "L7", "L2"]);
}

#[tokio::test]
async fn efficiency_pages_cover_every_seeded_model_exactly_once() {
    // Efficiencies such as 3,472 W / 106 TH are not round numbers: the cursor must
    // carry them exactly or a page boundary skips or repeats a listing.
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let (_, models) = app.get_json("/v1/rig-models?limit=100").await;
    let models = models["items"].as_array().unwrap();
    assert_eq!(models.len(), 31);
    for model in models {
        let id = model["id"].as_str().unwrap();
        let listing = create_listing(&app, &seller, json!({"rig_model_id": id, "unit_price_cents": 50_000})).await;
        publish(&app, &seller, &admin, &id_of(&listing)).await;
    }
    let all = search_all(&app, "sort=efficiency_asc&limit=100").await;
    assert_eq!(all.len(), 31);
    let efficiency = |item: &Value| {
        item["rig_model"]["power_w"].as_f64().unwrap() * 1e12 / item["rig_model"]["hashrate_hs"].as_f64().unwrap()
    };
    assert!(all.windows(2).all(|w| efficiency(&w[0]) <= efficiency(&w[1])), "most efficient first");
    let expected: Vec<String> = all.iter().map(id_of).collect();
    for limit in [1, 4] {
        let walked: Vec<String> =
            search_all(&app, &format!("sort=efficiency_asc&limit={limit}")).await.iter().map(id_of).collect();
        assert_eq!(walked, expected, "limit={limit}");
    }
}

#[tokio::test]
async fn with_total_counts_every_match_on_every_page() {
    let market = market().await;
    let app = &market.app;
    let first = search(app, "limit=1&with_total=true&manufacturer=bitmain").await;
    assert_eq!(first["total"], 4);
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = search(app, &format!("limit=1&with_total=true&manufacturer=bitmain&cursor={cursor}")).await;
    assert_eq!(second["total"], 4, "the total does not shrink as pages advance");
    assert_eq!(search(app, "with_total=true").await["total"], 7);
    assert_eq!(search(app, "with_total=true&verified_only=true").await["total"], 0);
    assert!(search(app, "limit=1").await["total"].is_null(), "counted only when asked");
}

#[tokio::test]
async fn pages_neither_repeat_nor_skip_while_listings_are_published_between_fetches() {
    let market = market().await;
    let app = &market.app;
    let (seller, admin) = (&market.seller, &market.admin);
    let pending = |price: i64| async move {
        let id = id_of(&create_listing(app, seller, json!({"unit_price_cents": price})).await);
        submit(app, seller, &id).await;
        id
    };

    // Newest first: what is published meanwhile is newer than the cursor, so the
    // walk shows exactly the listings that were there when it started.
    let mut later = Vec::new();
    for _ in 0..4 {
        later.push(pending(90_000).await);
    }
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("sort=newest&limit=2&cursor={c}"),
            None => "sort=newest&limit=2".into(),
        };
        let page = search(app, &query).await;
        walked.extend(market.labels_of(page["items"].as_array().unwrap()));
        if let Some(id) = later.pop() {
            app.clock.advance(Duration::seconds(1));
            approve(app, admin, &id).await;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(walked, SORTS[0].1, "no repeats, no gaps, nothing from after the first page");

    // Cheapest first: a listing published below the cursor is not shown, one above
    // it is, in its place.
    let cheap = pending(1_000).await;
    let same_price = pending(95_000).await; // same price as L1 and L7, a later id
    let dearest = pending(400_000).await;
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    let mut publish_next = vec![dearest.clone(), same_price.clone(), cheap.clone()];
    loop {
        let query = match &cursor {
            Some(c) => format!("sort=price_asc&limit=2&cursor={c}"),
            None => "sort=price_asc&limit=2".into(),
        };
        let page = search(app, &query).await;
        for item in page["items"].as_array().unwrap() {
            let id = item["id"].as_str().unwrap();
            walked.push(match id {
                id if id == cheap => "cheap",
                id if id == same_price => "same_price",
                id if id == dearest => "dearest",
                id => market.label(id),
            });
        }
        if let Some(id) = publish_next.pop() {
            approve(app, admin, &id).await;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    // The four 90,000 listings published above sit between L3 and L1.
    assert_eq!(
        walked,
        vec!["L4", "L3", "new", "new", "new", "new", "L1", "L7", "same_price", "L5", "L2", "L6", "dearest"],
        "the cheap listing was published behind the cursor"
    );
}

#[tokio::test]
async fn a_cursor_only_continues_the_sort_that_made_it() {
    let market = market().await;
    let app = &market.app;
    let mut cursors = Vec::new();
    for (sort, _) in SORTS {
        let page = search(app, &format!("sort={sort}&limit=1")).await;
        cursors.push((sort, page["next_cursor"].as_str().expect("more than one page").to_string()));
    }
    let mut accepted = Vec::new();
    for (made_by, cursor) in &cursors {
        for (sort, _) in SORTS {
            if sort == *made_by {
                continue;
            }
            let response = app.get(&format!("/v1/listings?sort={sort}&limit=1&cursor={cursor}")).await;
            if response.status() != 422 {
                accepted.push(format!("a {made_by} cursor with sort={sort}: {}", response.status()));
            } else {
                assert_problem(response, 422, "validation_failed").await;
            }
        }
    }
    assert!(accepted.is_empty(), "cursors accepted by another sort:\n{}", accepted.join("\n"));
}

#[tokio::test]
async fn listings_without_a_reference_sort_last_by_discount() {
    // 2021-05-01 is before the first tier point: only the model price an admin
    // adds gives the S19 Pro a reference; the S9 and S17 have none.
    let app = TestApp::builder().at(at("2021-05-01T00:00:00Z")).spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let s19 = model_id(&app, "Antminer S19 Pro").await;
    let price = json!({"rig_model_id": s19, "priced_on": "2021-04-30", "basis": "unit", "amount_cents": 1_000_000});
    assert_eq!(app.post_json("/v1/admin/reference-prices", Some(&admin), &price).await.status(), 201);
    let s9 = model_id(&app, "Antminer S9").await;
    let s17 = model_id(&app, "Antminer S17").await;
    let mut lots = HashMap::new();
    for (label, model, price) in
        [("s9", &s9, 10_000), ("cheap", &s19, 800_000), ("s17", &s17, 20_000), ("dear", &s19, 1_100_000)]
    {
        let listing = create_listing(&app, &seller, json!({"rig_model_id": model, "unit_price_cents": price})).await;
        publish(&app, &seller, &admin, &id_of(&listing)).await;
        lots.insert(id_of(&listing), label);
    }
    let label = |items: Vec<Value>| -> Vec<&str> { items.iter().map(|i| lots[i["id"].as_str().unwrap()]).collect() };
    // 20 % and -10 % first, then the two without a reference, newest id first.
    assert_eq!(label(search_all(&app, "sort=discount_desc&limit=100").await), vec!["cheap", "dear", "s17", "s9"]);
    assert_eq!(label(search_all(&app, "sort=discount_desc&limit=1").await), vec!["cheap", "dear", "s17", "s9"]);
    assert_eq!(label(search_all(&app, "fire_sale=true").await), vec!["cheap"]);
    let mut rest = label(search_all(&app, "fire_sale=false").await);
    rest.sort();
    assert_eq!(rest, vec!["dear", "s17", "s9"]);
}
