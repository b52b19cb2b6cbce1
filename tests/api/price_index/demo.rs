//! `rigmarket seed-demo`: a market with orders in every status and a non-empty
//! index, coherent with the ledger, the fire sale deepening through June 2021;
//! a second run creates nothing.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rigmarket::db::schema::{listings, orders, price_observations, users};
use serde_json::Value;

use super::get_json_with_key;
use crate::support::TestApp;

async fn counts(app: &TestApp) -> (i64, i64, i64, i64) {
    let mut conn = app.conn().await;
    (
        users::table.count().get_result(&mut *conn).await.unwrap(),
        listings::table.count().get_result(&mut *conn).await.unwrap(),
        orders::table.count().get_result(&mut *conn).await.unwrap(),
        price_observations::table.count().get_result(&mut *conn).await.unwrap(),
    )
}

/// The fire-sale share of CN's new listings over a range of ISO weeks.
fn share(body: &Value, country: &str, weeks: std::ops::Range<&str>) -> f64 {
    let series = body["series"].as_array().unwrap().iter().find(|s| s["key"] == country).unwrap();
    let (mut fire, mut new) = (0, 0);
    for point in series["points"].as_array().unwrap() {
        let start = point["bucket_start"].as_str().unwrap();
        if weeks.contains(&&start[..10]) {
            fire += point["fire_sales"].as_i64().unwrap();
            new += point["new_listings"].as_i64().unwrap();
        }
    }
    assert!(new > 0, "{country} listed nothing in {weeks:?}");
    fire as f64 / new as f64
}

#[tokio::test]
async fn seed_demo_builds_a_coherent_market_once() {
    // seed-demo runs on the system clock (today's lots are recent), so does this app.
    let app = TestApp::builder().at(chrono::Utc::now()).spawn().await;
    let mut config = (*app.state.config).clone();
    config.database_url = app.direct_database_url.clone().into();
    let before = counts(&app).await;

    let first = rigmarket::demo::seed(config.clone()).await.expect("seed the demo");
    assert!(first.created_anything(), "{first}");
    for status in [
        "awaiting_payment",
        "paid",
        "shipped",
        "delivered",
        "completed",
        "disputed",
        "resolved",
        "cancelled",
        "expired",
        "refunded",
    ] {
        assert!(first.orders.get(status).copied().unwrap_or(0) > 0, "no {status} order: {first}");
    }
    assert!(first.observations_created["asking"] > 100 && first.observations_created["settled"] > 50, "{first}");
    let printed = first.to_string();
    assert!(
        printed.contains("/v1/price-index/fire-sales?group_by=country&interval=week") && printed.contains("rmk_demo_")
    );

    let mut conn = app.conn().await;
    let queued_mail: i64 = rigmarket::db::schema::jobs::table
        .filter(rigmarket::db::schema::jobs::kind.eq("send_email"))
        .count()
        .get_result(&mut *conn)
        .await
        .unwrap();
    assert_eq!(queued_mail, 0, "the demo accounts' historic events queued mail");
    let violations = rigmarket::orders::verify_ledger(&mut conn).await.unwrap();
    assert!(violations.is_empty(), "the demo orders break the ledger: {violations:?}");
    let sellers: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> = listings::table
        .filter(listings::hosting_facility.is_not_null())
        .select((listings::country, listings::power_off_at))
        .load(&mut *conn)
        .await
        .unwrap();
    assert!(!sellers.is_empty());
    for (country, power_off) in sellers {
        assert!(["CN", "KZ"].contains(&country.as_str()));
        let month = power_off.unwrap().format("%Y-%m").to_string();
        assert!(["2021-05", "2021-06", "2021-07"].contains(&month.as_str()), "{month}");
    }
    drop(conn);

    // The index tells the story: CN's fire-sale share of new listings jumps from May to June.
    let key = first.analyst_key.clone();
    let path = "/v1/price-index/fire-sales?group_by=country&interval=week&from=2021-05-03&to=2021-08-01";
    let fire_sales = get_json_with_key(&app, path, &key).await;
    let may = share(&fire_sales, "CN", "2021-05-03".."2021-05-24");
    let june = share(&fire_sales, "CN", "2021-05-31".."2021-06-28");
    assert!(june > may + 0.3, "May {may}, June {june}");
    let settled =
        get_json_with_key(&app, "/v1/price-index/series?basis=settled&from=2021-05-01&to=2021-08-31", &key).await;
    assert!(!settled["series"].as_array().unwrap().is_empty(), "{settled}");
    let (status, latest) = app.get_json("/v1/price-index/latest").await;
    assert_eq!(status, 200);
    assert!(latest.as_array().unwrap().iter().any(|t| t["count"].as_i64().unwrap() > 0), "today's market: {latest}");

    let after_first = counts(&app).await;
    assert!(after_first.1 > before.1 && after_first.2 > before.2);
    let second = rigmarket::demo::seed(config).await.expect("seed again");
    assert!(!second.created_anything(), "{second}");
    assert!(second.to_string().contains("nothing created"));
    assert_eq!(counts(&app).await, after_first, "a second run writes nothing");
}
