//! Kept series answers: reused while the data they show is unchanged, and
//! rendered again as soon as an observation of their range commits, a fold
//! runs or the catalog changes.

use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use rigmarket::price_index::materialize::{materialize, Materialized};
use serde_json::Value;

use super::{date, get_json_with_key, get_with_key, insert, random_observations, Fixture, Obs};
use crate::support::listings::at;
use crate::support::TestApp;

const WEEKS: &str = "/v1/price-index/series?group_by=model&interval=week&from=2021-05-24&to=2021-06-14";

fn counts(answer: &Value) -> i64 {
    let series = answer["series"].as_array().unwrap();
    series.iter().flat_map(|s| s["points"].as_array().unwrap()).map(|p| p["count"].as_i64().unwrap()).sum()
}

fn labels(answer: &Value) -> Vec<String> {
    answer["series"].as_array().unwrap().iter().map(|s| s["label"].as_str().unwrap().to_string()).collect()
}

/// An observation of the fixture's first model on `day`.
fn one_on(fixture: &Fixture, template: &Obs, day: &str) -> Obs {
    let (model, tier) = fixture.models[0].clone();
    Obs { model, tier, at: at(&format!("{day}T12:00:00Z")), ..template.clone() }
}

#[tokio::test]
async fn a_kept_answer_is_reused_until_its_data_changes() {
    let app = TestApp::builder().at(at("2021-07-01T12:00:00Z")).spawn().await;
    let fixture = Fixture::new(&app).await;
    let observations =
        random_observations(&fixture.models, &["CN", "US"], 120, date("2021-05-24"), 21, date("2021-06-02"), 21);
    insert(&app, fixture.listing, &observations).await;
    let mut conn = app.conn().await;
    materialize(&mut conn, 1000).await.unwrap();
    let first = get_json_with_key(&app, WEEKS, &fixture.key).await;
    let asking = observations.iter().filter(|o| o.basis == "asking").count() as i64;
    assert_eq!(counts(&first), asking, "each asking observation, once");

    // Reused: a bucket changed behind the index's back (no fold, no
    // observation) does not show ...
    conn.batch_execute("UPDATE price_index_materialized SET observations = observations + 1000 WHERE cell = 'model'")
        .await
        .unwrap();
    assert_eq!(get_json_with_key(&app, WEEKS, &fixture.key).await, first, "served from the kept answer");
    // ... until the generation moves, as a fold or a rebuild moves it.
    conn.batch_execute("UPDATE price_index_generation SET generation = generation + 1").await.unwrap();
    let tampered = get_json_with_key(&app, WEEKS, &fixture.key).await;
    assert!(counts(&tampered) > counts(&first) + 1000, "rendered again");
    diesel::sql_query("SELECT price_index_rebuild()").execute(&mut *conn).await.unwrap();
    assert_eq!(get_json_with_key(&app, WEEKS, &fixture.key).await, first);

    // An observation in the range shows at once, before any fold; one outside
    // it changes nothing.
    let template = observations.iter().find(|o| o.basis == "asking").unwrap();
    insert(&app, fixture.listing, &[one_on(&fixture, template, "2021-06-08")]).await;
    let with_one = get_json_with_key(&app, WEEKS, &fixture.key).await;
    assert_eq!(counts(&with_one), counts(&first) + 1);
    insert(&app, fixture.listing, &[one_on(&fixture, template, "2021-04-01")]).await;
    assert_eq!(get_json_with_key(&app, WEEKS, &fixture.key).await, with_one);
    // The fold changes the version, not the answer.
    assert_eq!(materialize(&mut conn, 1000).await.unwrap(), Materialized::Took(2));
    assert_eq!(get_json_with_key(&app, WEEKS, &fixture.key).await, with_one);

    // A catalog change (a model renamed) shows in the labels.
    let (renamed, _) = fixture.models[0].clone();
    diesel::sql_query("UPDATE rig_models SET name = 'Renamed Rig' WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(renamed)
        .execute(&mut *conn)
        .await
        .unwrap();
    let relabelled = get_json_with_key(&app, WEEKS, &fixture.key).await;
    assert!(labels(&relabelled).iter().any(|l| l.ends_with("Renamed Rig")), "{:?}", labels(&relabelled));
    assert_eq!(counts(&relabelled), counts(&with_one));
}

#[tokio::test]
async fn kept_answers_are_per_format_and_keep_their_etag() {
    let app = TestApp::builder().at(at("2021-07-01T12:00:00Z")).spawn().await;
    let fixture = Fixture::new(&app).await;
    let observations =
        random_observations(&fixture.models, &["CN"], 40, date("2021-05-24"), 21, date("2021-06-02"), 22);
    insert(&app, fixture.listing, &observations).await;
    let json = get_with_key(&app, WEEKS, &fixture.key).await;
    let etag = json.headers()["etag"].to_str().unwrap().to_string();
    assert!(json.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let csv = app.client.get(app.url(WEEKS)).header("x-api-key", &fixture.key).header("accept", "text/csv");
    let csv = csv.send().await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"), "not the kept JSON");
    assert_ne!(csv.headers()["etag"], etag.as_str());
    let again = app.client.get(app.url(WEEKS)).header("x-api-key", &fixture.key).header("if-none-match", &etag);
    assert_eq!(again.send().await.unwrap().status().as_u16(), 304, "a kept answer revalidates");
}

#[tokio::test]
async fn a_crowd_on_one_series_gets_one_answer_and_every_later_request_sees_each_observation() {
    let app = TestApp::builder().at(at("2021-07-01T12:00:00Z")).spawn().await;
    let fixture = Fixture::new(&app).await;
    let observations =
        random_observations(&fixture.models, &["CN", "US"], 80, date("2021-05-24"), 21, date("2021-06-02"), 23);
    insert(&app, fixture.listing, &observations).await;

    // Forty at once: one answer for all, the same as a lone request's.
    let crowd = futures_util::future::join_all((0..40).map(|_| get_json_with_key(&app, WEEKS, &fixture.key))).await;
    let alone = get_json_with_key(&app, WEEKS, &fixture.key).await;
    assert!(crowd.iter().all(|answer| answer == &alone));

    // A crowd that never stops while observations commit: each request made
    // after an observation committed counts it, whatever looks were in flight.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pollers: Vec<_> = (0..8)
        .map(|_| {
            let (client, url, key, stop) = (app.client.clone(), app.url(WEEKS), fixture.key.clone(), stop.clone());
            tokio::spawn(async move {
                while !std::sync::atomic::AtomicBool::load(&stop, std::sync::atomic::Ordering::Relaxed) {
                    assert_eq!(client.get(&url).header("x-api-key", &key).send().await.unwrap().status(), 200);
                }
            })
        })
        .collect();
    let template = observations.iter().find(|o| o.basis == "asking").unwrap();
    let mut expected = counts(&alone);
    let mut conn = app.conn().await;
    for n in 1..=6 {
        insert(&app, fixture.listing, &[one_on(&fixture, template, "2021-06-09")]).await;
        expected += 1;
        if n % 2 == 0 {
            materialize(&mut conn, 1000).await.unwrap();
        }
        let answer = get_json_with_key(&app, WEEKS, &fixture.key).await;
        assert_eq!(counts(&answer), expected, "observation {n} missing from a request made after it");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for poller in pollers {
        poller.await.unwrap();
    }
}
