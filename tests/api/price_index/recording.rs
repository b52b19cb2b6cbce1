//! Observations come from the events themselves: a publication and each price
//! change of a live listing (asking), a settled order (settled, through
//! `record_settled_price`), in the transaction of the event.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rigmarket::db::schema::{hashrate_proofs, listings, price_index_buckets, price_observations};
use rigmarket::listings::{record_settled_price, HashrateVerification};
use rigmarket::price_index::observations::SettledSale;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{api_key, get_json_with_key};
use crate::support::listings::{at, create_listing, id_of, ok_json, publish};
use crate::support::TestApp;

#[derive(Debug, Queryable)]
#[allow(dead_code)]
struct Observation {
    basis: String,
    event: String,
    order_id: Option<Uuid>,
    rig_model_id: Uuid,
    tier: String,
    country: String,
    units: i32,
    unit_price_cents: i64,
    usd_per_th_cents: i64,
    verified_hashrate_hs: Option<i64>,
    usd_per_verified_th_cents: Option<i64>,
    reference_unit_price_cents: Option<i64>,
    discount_bps: Option<i64>,
    fire_sale: bool,
    observed_at: DateTime<Utc>,
}

async fn observations_of(app: &TestApp, listing: Uuid) -> Vec<Observation> {
    use price_observations as o;
    o::table
        .filter(o::listing_id.eq(listing))
        .order(o::id)
        .select((
            o::basis,
            o::event,
            o::order_id,
            o::rig_model_id,
            o::tier,
            o::country,
            o::units,
            o::unit_price_cents,
            o::usd_per_th_cents,
            o::verified_hashrate_hs,
            o::usd_per_verified_th_cents,
            o::reference_unit_price_cents,
            o::discount_bps,
            o::fire_sale,
            o::observed_at,
        ))
        .load(&mut *app.conn().await)
        .await
        .unwrap()
}

fn assert_matches_listing(observation: &Observation, listing: &Value, event: &str, now: DateTime<Utc>) {
    assert_eq!((observation.basis.as_str(), observation.event.as_str()), ("asking", event));
    assert_eq!(observation.unit_price_cents, listing["unit_price_cents"].as_i64().unwrap());
    assert_eq!(observation.usd_per_th_cents, listing["usd_per_th_cents"].as_i64().unwrap());
    assert_eq!(observation.rig_model_id.to_string(), listing["rig_model"]["id"].as_str().unwrap());
    assert_eq!(observation.tier, listing["rig_model"]["tier"].as_str().unwrap());
    assert_eq!(observation.country, listing["country"].as_str().unwrap());
    assert_eq!(observation.units, listing["quantity"].as_i64().unwrap() as i32);
    assert_eq!(observation.reference_unit_price_cents, listing["reference_unit_price_cents"].as_i64());
    let discount_pct = listing["discount_pct"].as_f64().unwrap();
    assert_eq!(observation.discount_bps, Some((discount_pct * 100.0).round() as i64));
    assert_eq!(observation.fire_sale, listing["fire_sale"].as_bool().unwrap());
    assert_eq!(observation.observed_at, now);
    assert_eq!((observation.order_id, observation.verified_hashrate_hs), (None, None));
}

async fn reprice(app: &TestApp, seller: &str, id: Uuid, price: i64) -> Value {
    ok_json(app.patch_json(&format!("/v1/listings/{id}"), Some(seller), &json!({"unit_price_cents": price})).await)
        .await
}

#[tokio::test]
async fn publishing_and_repricing_a_live_listing_record_asking_observations() {
    let app = TestApp::builder().at(at("2021-06-02T10:00:00Z")).spawn().await;
    let (_, seller) = app.create_user("altai@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let draft = create_listing(&app, &seller, json!({"unit_price_cents": 1_250_000, "quantity": 40})).await;
    let id: Uuid = id_of(&draft).parse().unwrap();
    reprice(&app, &seller, id, 1_200_000).await;
    assert!(observations_of(&app, id).await.is_empty(), "a draft has no asking price yet");

    let live = publish(&app, &seller, &admin, &id.to_string()).await;
    let recorded = observations_of(&app, id).await;
    assert_eq!(recorded.len(), 1);
    assert_matches_listing(&recorded[0], &live, "published", app.clock.now());
    assert!(!recorded[0].fire_sale, "{live}");

    app.clock.advance(Duration::days(1));
    let seller = app.session_for("altai@rigmarket.test").await;
    let cut = reprice(&app, &seller, id, 500_000).await;
    assert_eq!(cut["fire_sale"], true, "{cut}");
    let recorded = observations_of(&app, id).await;
    assert_eq!(recorded.len(), 2);
    assert_matches_listing(&recorded[1], &cut, "price_changed", app.clock.now());

    reprice(&app, &seller, id, 500_000).await;
    ok_json(
        app.patch_json(&format!("/v1/listings/{id}"), Some(&seller), &json!({"description": "now with PSUs"})).await,
    )
    .await;
    assert_eq!(observations_of(&app, id).await.len(), 2, "no new price, no observation");

    let (_, reader) = app.create_user("fund@rigmarket.test", &[]).await;
    let key = api_key(&app, &reader, 60).await;
    let body = get_json_with_key(&app, "/v1/price-index/series?from=2021-06-02&to=2021-06-03", &key).await;
    let points = body["series"][0]["points"].as_array().unwrap();
    assert_eq!(body["series"][0]["key"], live["rig_model"]["tier"]);
    assert_eq!(points.iter().map(|p| p["count"].as_i64().unwrap()).collect::<Vec<_>>(), [1, 1]);
    assert_eq!(points[0]["median_usd_per_th"].as_f64().unwrap(), live["usd_per_th_cents"].as_f64().unwrap() / 100.0);
    assert_eq!(points[1]["median_usd_per_th"].as_f64().unwrap(), cut["usd_per_th_cents"].as_f64().unwrap() / 100.0);
    assert_eq!(points[1]["fire_sale_share"], 1.0);
}

async fn live_listing(app: &TestApp) -> Uuid {
    let (_, seller) = app.create_user("kz-seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let draft = create_listing(app, &seller, json!({"unit_price_cents": 100_000})).await;
    let id = id_of(&draft);
    publish(app, &seller, &admin, &id).await;
    id.parse().unwrap()
}

#[tokio::test]
async fn a_settled_order_is_recorded_once_at_the_price_the_seller_got() {
    let app = TestApp::builder().at(at("2021-06-20T08:00:00Z")).spawn().await;
    let listing = live_listing(&app).await;
    let order_id = Uuid::new_v4();
    let sale = SettledSale {
        order_id: order_id.into(),
        quantity: 4,
        settled_unit_price_cents: 80_000,
        reference_unit_price_cents: Some(100_000),
        at: at("2021-06-21T23:59:59Z"),
    };
    let mut conn = app.conn().await;
    record_settled_price(&mut conn, listing.into(), &sale, 2000).await.unwrap();
    record_settled_price(&mut conn, listing.into(), &sale, 2000).await.unwrap();
    let nothing_paid = SettledSale { order_id: Uuid::new_v4().into(), settled_unit_price_cents: 0, ..sale.clone() };
    record_settled_price(&mut conn, listing.into(), &nothing_paid, 2000).await.unwrap();
    let unknown = SettledSale { order_id: Uuid::new_v4().into(), ..sale.clone() };
    assert!(matches!(
        record_settled_price(&mut conn, Uuid::new_v4().into(), &unknown, 2000).await,
        Err(diesel::NotFound)
    ));
    drop(conn);

    let settled: Vec<Observation> =
        observations_of(&app, listing).await.into_iter().filter(|o| o.basis == "settled").collect();
    assert_eq!(settled.len(), 1, "once per order, and a full refund is no price");
    let o = &settled[0];
    assert_eq!((o.event.as_str(), o.order_id, o.units), ("order_settled", Some(order_id), 4));
    assert_eq!(o.usd_per_th_cents, 727, "$800 / 110 TH = $7.2727");
    assert_eq!((o.discount_bps, o.fire_sale), (Some(2000), true), "20 % is the threshold");
    assert_eq!((o.country.as_str(), o.tier.as_str()), ("KZ", "25to38"));
    assert_eq!(o.observed_at, sale.at);

    let (_, reader) = app.create_user("settled@rigmarket.test", &[]).await;
    let key = api_key(&app, &reader, 60).await;
    let body = get_json_with_key(
        &app,
        "/v1/price-index/series?basis=settled&interval=week&from=2021-06-14&to=2021-06-27",
        &key,
    )
    .await;
    let points = body["series"][0]["points"].as_array().unwrap();
    // 23:59:59 on Monday June 21 is in the week starting that Monday.
    assert_eq!(points.iter().map(|p| p["count"].as_i64().unwrap()).collect::<Vec<_>>(), [0, 1], "{body}");
    assert_eq!(
        (points[1]["median_usd_per_th"].as_f64(), points[1]["median_discount_pct"].as_f64()),
        (Some(7.27), Some(20.0))
    );
}

#[tokio::test]
async fn a_valid_verified_proof_adds_the_price_per_verified_th() {
    let app = TestApp::builder().at(at("2021-06-20T08:00:00Z")).spawn().await;
    let listing = live_listing(&app).await;
    let now = app.clock.now();
    let mut conn = app.conn().await;
    let seller: Uuid = listings::table.find(listing).select(listings::seller_id).first(&mut *conn).await.unwrap();
    diesel::insert_into(hashrate_proofs::table)
        .values((
            hashrate_proofs::id.eq(Uuid::new_v4()),
            hashrate_proofs::listing_id.eq(listing),
            hashrate_proofs::requested_by.eq(seller),
            hashrate_proofs::purpose.eq("listing"),
            hashrate_proofs::token_hash.eq(vec![7u8; 32]),
            hashrate_proofs::status.eq("verified"),
            hashrate_proofs::units.eq(2),
            hashrate_proofs::claimed_hashrate_hs.eq(220_000_000_000_000_i64),
            hashrate_proofs::share_difficulty.eq(1024.0),
            hashrate_proofs::duration_secs.eq(600),
            hashrate_proofs::challenge.eq(vec![1u8; 8]),
            hashrate_proofs::created_at.eq(now - Duration::hours(1)),
            hashrate_proofs::connect_deadline.eq(now),
            hashrate_proofs::ended_at.eq(now - Duration::minutes(30)),
            hashrate_proofs::estimated_hashrate_hs.eq(216_000_000_000_000.0),
            hashrate_proofs::valid_until.eq(now + Duration::days(30)),
        ))
        .execute(&mut *conn)
        .await
        .unwrap();
    // What the proofs report to the listing with that verdict (216 TH/s over 2 units).
    let verification =
        HashrateVerification { until: Some(now + Duration::days(30)), unit_hashrate_hs: Some(108_000_000_000_000) };
    rigmarket::listings::record_hashrate_verification(&mut conn, listing.into(), verification).await.unwrap();
    let sale = SettledSale {
        order_id: Uuid::new_v4().into(),
        quantity: 1,
        settled_unit_price_cents: 80_000,
        reference_unit_price_cents: None,
        at: now,
    };
    record_settled_price(&mut conn, listing.into(), &sale, 2000).await.unwrap();
    // After the proof lapses, a sale has no verified price.
    let later = SettledSale { order_id: Uuid::new_v4().into(), at: now + Duration::days(31), ..sale.clone() };
    record_settled_price(&mut conn, listing.into(), &later, 2000).await.unwrap();
    drop(conn);
    let settled: Vec<Observation> =
        observations_of(&app, listing).await.into_iter().filter(|o| o.basis == "settled").collect();
    assert_eq!(settled[0].verified_hashrate_hs, Some(108_000_000_000_000), "per unit");
    assert_eq!(settled[0].usd_per_verified_th_cents, Some(741), "$800 / 108 TH = $7.407");
    assert_eq!((settled[0].discount_bps, settled[0].fire_sale), (None, false), "no reference, no discount");
    assert_eq!((settled[1].verified_hashrate_hs, settled[1].usd_per_verified_th_cents), (None, None));
}

#[tokio::test]
async fn an_observation_and_its_buckets_roll_back_with_the_event() {
    let app = TestApp::builder().at(at("2021-06-20T08:00:00Z")).spawn().await;
    let listing = live_listing(&app).await;
    let mut conn = app.conn().await;
    let buckets_before: i64 = price_index_buckets::table.count().get_result(&mut *conn).await.unwrap();
    assert!(buckets_before > 0, "the publication filled buckets");
    let sale = SettledSale {
        order_id: Uuid::new_v4().into(),
        quantity: 1,
        settled_unit_price_cents: 90_000,
        reference_unit_price_cents: None,
        at: at("2021-06-20T08:00:00Z"),
    };
    let failed: Result<(), diesel::result::Error> = conn
        .transaction(async |conn| {
            record_settled_price(conn, listing.into(), &sale, 2000).await?;
            Err(diesel::result::Error::RollbackTransaction)
        })
        .await;
    assert!(failed.is_err());
    drop(conn);
    assert!(observations_of(&app, listing).await.iter().all(|o| o.basis == "asking"));
    let mut conn = app.conn().await;
    let buckets_after: i64 = price_index_buckets::table.count().get_result(&mut *conn).await.unwrap();
    assert_eq!(buckets_after, buckets_before, "no settled bucket survived the rollback");
}

#[tokio::test]
async fn orders_closed_through_the_api_are_settled_observations() {
    use crate::orders::{act_ok, delivered_order, oid, place_ok, Market};
    let market =
        Market::open(TestApp::builder().at(at("2021-06-10T09:00:00Z")), json!({"unit_price_cents": 95_000})).await;
    let app = &market.app;
    let listing: Uuid = market.listing.parse().unwrap();

    let accepted = delivered_order(&market, 4).await;
    act_ok(app, &market.buyer.token, &format!("/v1/orders/{}/accept", oid(&accepted)), None).await;
    let disputed = delivered_order(&market, 2).await;
    let dispute = json!({"reason": "not_as_described", "description": "Two fans were missing"});
    act_ok(app, &market.buyer.token, &format!("/v1/orders/{}/disputes", oid(&disputed)), Some(dispute)).await;
    let resolution = json!({"refund_cents": 50_000, "note": "refund for the missing fans"});
    act_ok(app, &market.admin, &format!("/v1/admin/orders/{}/resolve", oid(&disputed)), Some(resolution)).await;
    let abandoned = place_ok(&market, 1).await;
    act_ok(app, &market.buyer.token, &format!("/v1/orders/{}/cancel", oid(&abandoned)), None).await;

    let settled: Vec<Observation> =
        observations_of(app, listing).await.into_iter().filter(|o| o.basis == "settled").collect();
    assert_eq!(settled.len(), 2, "a completion and a resolution; a cancellation settles nothing");
    assert_eq!(settled[0].order_id.unwrap().to_string(), oid(&accepted));
    assert_eq!((settled[0].unit_price_cents, settled[0].units), (95_000, 4));
    assert_eq!(settled[0].reference_unit_price_cents, accepted["reference_unit_price_cents"].as_i64());
    assert_eq!(settled[1].order_id.unwrap().to_string(), oid(&disputed));
    assert_eq!(settled[1].unit_price_cents, (2 * 95_000 - 50_000) / 2, "what the seller got per unit");
}
