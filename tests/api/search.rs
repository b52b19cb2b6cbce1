//! Listing search: only live listings of sellers in good standing, every filter,
//! every sort against an order worked out by hand from the seeded catalog, and
//! keyset pagination that neither repeats nor skips, even while listings are
//! being published.

use std::collections::HashMap;

use chrono::Duration;
use serde_json::{json, Value};

use crate::support::listings::{
    add_report, approve, at, create_active, create_listing, id_of, model_id, ok_json, post_empty, publish, search,
    search_all, set_units, submit,
};
use crate::support::{assert_problem, spawn_app, TestApp};

/// One lot of the test market. References on 2026-01-05 (latest tier points of
/// 2022-12-25: under38 $15.71/TH, 38to68 $10.23/TH, above68 $4.72/TH):
///
/// | lot | model (tier, J/TH) | price | $/TH | reference | discount |
/// |---|---|---|---|---|---|
/// | L1 | S19 Pro (25to38, 29.55) | 95,000 | 8.64 | 172,810 | 45.03 |
/// | L2 | S21 (under19, 17.5) | 300,000 | 15.00 | 314,200 | 4.52 |
/// | L3 | M30S 88T (38to68, 38.0) | 60,000 | 6.82 | 90,024 | 33.35 |
/// | L4 | S9 (above68, 98.0) | 8,000 | 5.93 | 6,372 | -25.55 |
/// | L5 | A1366 (25to38, 25.0) | 150,000 | 11.54 | 204,230 | 26.55 |
/// | L6 | M56S++ (19to25, 22.0) | 350,000 | 15.22 | 361,330 | 3.14 |
/// | L7 | S19 Pro (25to38, 29.55) | 95,000 | 8.64 | 172,810 | 45.03 |
struct Lot {
    label: &'static str,
    model: &'static str,
    title: &'static str,
    description: &'static str,
    country: &'static str,
    price: i64,
    quantity: i32,
    power_off_at: Option<&'static str>,
    grades: &'static [&'static str],
}

const LOTS: [Lot; 7] = [
    Lot {
        label: "L1",
        model: "Antminer S19 Pro",
        title: "Antminer S19 Pro lot, Ekibastuz",
        description: "Air cooled, stock firmware.",
        country: "KZ",
        price: 95_000,
        quantity: 10,
        power_off_at: Some("2026-02-01T12:00:00Z"),
        grades: &["B"],
    },
    Lot {
        label: "L2",
        model: "Antminer S21",
        title: "S21 fresh from the warehouse",
        description: "Sealed boxes.",
        country: "US",
        price: 300_000,
        quantity: 2,
        power_off_at: None,
        grades: &["A"],
    },
    Lot {
        label: "L3",
        model: "Whatsminer M30S 88T",
        title: "Whatsminer M30S lot, Sichuan",
        description: "Hydro season is over.",
        country: "CN",
        price: 60_000,
        quantity: 50,
        power_off_at: Some("2026-01-20T00:00:00Z"),
        grades: &["D"],
    },
    Lot {
        label: "L4",
        model: "Antminer S9",
        title: "Old S9 units",
        description: "Good for heating a greenhouse.",
        country: "KZ",
        price: 8_000,
        quantity: 100,
        power_off_at: None,
        grades: &[],
    },
    Lot {
        label: "L5",
        model: "Avalon A1366",
        title: "Avalon A1366 batch",
        description: "Two years in a container.",
        country: "CA",
        price: 150_000,
        quantity: 5,
        power_off_at: Some("2026-03-15T00:00:00Z"),
        grades: &["C"],
    },
    Lot {
        label: "L6",
        model: "Whatsminer M56S++",
        title: "Whatsminer M56S++ hydro unit",
        description: "Single unit, tested.",
        country: "KZ",
        price: 350_000,
        quantity: 1,
        power_off_at: None,
        // The latest report decides: B, not A.
        grades: &["A", "B"],
    },
    Lot {
        label: "L7",
        model: "Antminer S19 Pro",
        title: "S19 Pro spares, Texas",
        description: "Same model and price as L1.",
        country: "US",
        price: 95_000,
        quantity: 3,
        power_off_at: None,
        grades: &[],
    },
];

struct Market {
    app: TestApp,
    seller: String,
    admin: String,
    labels: HashMap<String, &'static str>,
}

impl Market {
    fn label(&self, id: &str) -> &'static str {
        self.labels.get(id).copied().unwrap_or("new")
    }

    fn labels_of(&self, items: &[Value]) -> Vec<&'static str> {
        items.iter().map(|item| self.label(item["id"].as_str().unwrap())).collect()
    }

    async fn labels(&self, query: &str) -> Vec<&'static str> {
        self.labels_of(&search_all(&self.app, query).await)
    }

    async fn sorted_labels(&self, query: &str) -> Vec<&'static str> {
        let mut labels = self.labels(query).await;
        labels.sort();
        labels
    }
}

/// Publishes L1..L7: L1-L5 one second apart, then L7 and L6 in the same instant
/// (so `newest` must break the tie by id).
async fn market() -> Market {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let mut ids = HashMap::new();
    for lot in &LOTS {
        let model = model_id(&app, lot.model).await;
        let mut overrides = json!({
            "rig_model_id": model, "title": lot.title, "description": lot.description,
            "country": lot.country, "unit_price_cents": lot.price, "quantity": lot.quantity,
        });
        if let Some(power_off_at) = lot.power_off_at {
            overrides["hosting"] =
                json!({"facility": "Hosting DC", "country": lot.country, "power_off_at": power_off_at});
        }
        let id = id_of(&create_listing(&app, &seller, overrides).await);
        for grade in lot.grades {
            add_report(&app, &seller, &id, grade).await;
        }
        submit(&app, &seller, &id).await;
        ids.insert(lot.label, id);
    }
    for label in ["L1", "L2", "L3", "L4", "L5"] {
        app.clock.advance(Duration::seconds(1));
        approve(&app, &admin, &ids[label]).await;
    }
    app.clock.advance(Duration::seconds(1));
    approve(&app, &admin, &ids["L7"]).await;
    approve(&app, &admin, &ids["L6"]).await;
    let labels = ids.iter().map(|(label, id)| (id.clone(), *label)).collect();
    Market { app, seller, admin, labels }
}

const SORTS: [(&str, [&str; 7]); 6] = [
    ("newest", ["L7", "L6", "L5", "L4", "L3", "L2", "L1"]),
    ("price_asc", ["L4", "L3", "L1", "L7", "L5", "L2", "L6"]),
    ("price_desc", ["L6", "L2", "L5", "L7", "L1", "L3", "L4"]),
    ("usd_per_th_asc", ["L4", "L3", "L1", "L7", "L5", "L2", "L6"]),
    ("discount_desc", ["L7", "L1", "L3", "L5", "L2", "L6", "L4"]),
    ("efficiency_asc", ["L2", "L6", "L5", "L1", "L7", "L3", "L4"]),
];

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
