//! The bucket view and the job that folds pending observations into it: a read
//! is exact before, during and after a fold; folds run one at a time and take
//! only what their snapshot sees; writers of one bucket never wait for each other.

use chrono::Duration;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use rigmarket::price_index::materialize::{materialize, Materialized};

use super::{date, insert, random_observations, Fixture, Obs};
use crate::support::listings::at;
use crate::support::TestApp;

#[derive(diesel::QueryableByName, PartialEq, Debug)]
struct Digest {
    #[diesel(sql_type = BigInt)]
    buckets: i64,
    #[diesel(sql_type = Text)]
    digest: String,
}

/// Count and digest of every bucket row of `relation`, the way the API reads them.
async fn digest(conn: &mut AsyncPgConnection, relation: &str) -> Digest {
    diesel::sql_query(format!(
        "SELECT count(*) AS buckets, COALESCE(md5(string_agg(b::text, '|' ORDER BY b::text)), '') AS digest
           FROM (SELECT basis, period, cell, country, tier, rig_model_id, bucket_start, observations, fire_sales,
                        discounted, p25_lo, p25_hi, p50_lo, p50_hi, p75_lo, p75_hi, discount_p50_lo, discount_p50_hi,
                        new_listings, new_fire_sales, new_discounted, new_discount_p50_lo, new_discount_p50_hi,
                        new_fire_discount_p50_lo, new_fire_discount_p50_hi FROM {relation}) b"
    ))
    .get_result(conn)
    .await
    .unwrap()
}

/// `price_index_materialized` packed by key and month from scratch, the way the
/// migration first filled `price_index_months`.
const PACKED_FROM_SCRATCH: &str = "(SELECT basis, period, cell, country, tier, rig_model_id,
            date_trunc('month', bucket_start::timestamp)::date AS month,
            string_agg(price_index_pack_prices(bucket_start, observations, fire_sales, discounted, p25_lo, p25_hi,
                           p50_lo, p50_hi, p75_lo, p75_hi, discount_p50_lo, discount_p50_hi),
                       ''::bytea ORDER BY bucket_start) AS prices,
            string_agg(price_index_pack_new_listings(bucket_start, new_listings, new_fire_sales, new_discounted,
                           new_discount_p50_lo, new_discount_p50_hi, new_fire_discount_p50_lo,
                           new_fire_discount_p50_hi),
                       ''::bytea ORDER BY bucket_start) AS new_listings
       FROM price_index_materialized GROUP BY 1, 2, 3, 4, 5, 6, 7) packed";

/// The packed months, as kept up to date by their triggers, are what packing
/// the materialized buckets from scratch gives.
async fn assert_months_match(conn: &mut AsyncPgConnection) {
    let months = |relation: &str| {
        format!(
            "SELECT count(*) AS buckets, COALESCE(md5(string_agg(m::text, '|' ORDER BY m::text)), '') AS digest
               FROM (SELECT basis, period, cell, country, tier, rig_model_id, month, prices, new_listings
                       FROM {relation}) m"
        )
    };
    let kept: Digest = diesel::sql_query(months("price_index_months")).get_result(conn).await.unwrap();
    let packed: Digest = diesel::sql_query(months(PACKED_FROM_SCRATCH)).get_result(conn).await.unwrap();
    assert!(kept.buckets > 0, "nothing packed");
    assert_eq!(kept, packed, "price_index_months");
}

async fn pending(conn: &mut AsyncPgConnection) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let count: Count =
        diesel::sql_query("SELECT count(*) AS n FROM price_index_pending").get_result(conn).await.unwrap();
    count.n
}

/// What a full rebuild from the observations says, taken in a transaction that
/// is rolled back so the data under test stays as it was.
async fn rebuilt(conn: &mut AsyncPgConnection) -> Digest {
    conn.batch_execute("BEGIN; SELECT price_index_rebuild();").await.unwrap();
    let rebuilt = digest(conn, "price_index_buckets").await;
    assert_months_match(conn).await;
    conn.batch_execute("ROLLBACK").await.unwrap();
    rebuilt
}

async fn market(app: &TestApp, count: usize, seed: u64) -> (Fixture, Vec<Obs>) {
    let fixture = Fixture::new(app).await;
    let observations = random_observations(
        &fixture.models,
        &["CN", "KZ", "US"],
        count,
        date("2021-05-24"),
        21,
        date("2021-06-02"),
        seed,
    );
    (fixture, observations)
}

async fn series(app: &TestApp, key: &str) -> String {
    let path = "/v1/price-index/series?group_by=tier&interval=week&from=2021-05-20T00:00:00Z&to=2021-06-20T00:00:00Z";
    let response = app.client.get(app.url(path)).header("X-Api-Key", key).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn folding_pending_observations_changes_no_answer() {
    let app = TestApp::builder().at(at("2021-07-01T12:00:00Z")).spawn().await;
    let (fixture, observations) = market(&app, 300, 11).await;
    let (first, rest) = observations.split_at(150);
    let (second, third) = rest.split_at(100);
    let mut conn = app.conn().await;

    // Folded in batches smaller than a bucket, so some buckets are half folded
    // between calls.
    insert(&app, fixture.listing, first).await;
    assert_eq!(pending(&mut conn).await, 150);
    assert_eq!(materialize(&mut conn, 40).await.unwrap(), Materialized::Took(40));
    assert_eq!(pending(&mut conn).await, 110);
    assert_months_match(&mut conn).await;
    assert_eq!(digest(&mut conn, "price_index_buckets").await, rebuilt(&mut conn).await);
    assert_eq!(materialize(&mut conn, 1000).await.unwrap(), Materialized::Took(110));
    assert_eq!(materialize(&mut conn, 1000).await.unwrap(), Materialized::Took(0));
    let folded = digest(&mut conn, "price_index_materialized").await;
    assert_eq!(folded, digest(&mut conn, "price_index_buckets").await, "nothing pending: the view is the table");
    assert_eq!(folded, rebuilt(&mut conn).await);

    // New observations into buckets that are already folded: the view counts them
    // at once, the API answers the same before and after the fold.
    insert(&app, fixture.listing, second).await;
    let before = series(&app, &fixture.key).await;
    assert_ne!(digest(&mut conn, "price_index_materialized").await, digest(&mut conn, "price_index_buckets").await);
    assert_eq!(digest(&mut conn, "price_index_buckets").await, rebuilt(&mut conn).await);
    assert_eq!(materialize(&mut conn, 1000).await.unwrap(), Materialized::Took(100));
    assert_eq!(series(&app, &fixture.key).await, before);
    assert_months_match(&mut conn).await;

    // The periodic job does the same.
    drop(conn);
    insert(&app, fixture.listing, third).await;
    app.register_periodic().await;
    app.clock.advance(Duration::seconds(2));
    app.drain_jobs().await;
    let mut conn = app.conn().await;
    assert_eq!(pending(&mut conn).await, 0);
    let folded = digest(&mut conn, "price_index_materialized").await;
    assert!(folded.buckets > 100, "{folded:?}");
    assert_eq!(folded, rebuilt(&mut conn).await);
    assert_months_match(&mut conn).await;
}

#[tokio::test]
async fn folds_run_one_at_a_time_and_take_only_what_they_can_see() {
    let app = TestApp::builder().at(at("2021-07-01T12:00:00Z")).spawn().await;
    let (fixture, observations) = market(&app, 60, 12).await;
    let (committed, late) = observations.split_at(50);
    insert(&app, fixture.listing, committed).await;

    // A writer whose observation is not committed yet ...
    let mut writer = app.conn().await;
    writer.batch_execute("BEGIN").await.unwrap();
    super::insert_on(&mut writer, fixture.listing, late).await;
    // ... a fold, and a second fold while the first is open.
    let mut first = app.conn().await;
    let mut second = app.conn().await;
    first.batch_execute("BEGIN").await.unwrap();
    second.batch_execute("BEGIN").await.unwrap();
    assert_eq!(materialize(&mut first, 1000).await.unwrap(), Materialized::Took(50), "the writer's row is unseen");
    assert_eq!(materialize(&mut second, 1000).await.unwrap(), Materialized::Busy);
    second.batch_execute("ROLLBACK").await.unwrap();
    first.batch_execute("COMMIT").await.unwrap();
    writer.batch_execute("COMMIT").await.unwrap();

    // The late observation stays pending, and the view counts it.
    let mut conn = app.conn().await;
    assert_eq!(pending(&mut conn).await, 10);
    assert_eq!(digest(&mut conn, "price_index_buckets").await, rebuilt(&mut conn).await);
    assert_eq!(materialize(&mut conn, 1000).await.unwrap(), Materialized::Took(10));
    assert_eq!(digest(&mut conn, "price_index_materialized").await, rebuilt(&mut conn).await);
    assert_months_match(&mut conn).await;
}

#[tokio::test]
async fn writers_of_one_bucket_do_not_wait_for_each_other() {
    let app = TestApp::builder().at(at("2021-07-01T12:00:00Z")).spawn().await;
    let (fixture, observations) = market(&app, 40, 13).await;
    insert(&app, fixture.listing, &observations).await;
    let mut conn = app.conn().await;
    materialize(&mut conn, 1000).await.unwrap();
    // Two observations of the same model, country and day: every bucket shared.
    let same = observations[0].clone();
    let mut first = app.conn().await;
    let mut second = app.conn().await;
    first.batch_execute("BEGIN").await.unwrap();
    super::insert_on(&mut first, fixture.listing, std::slice::from_ref(&same)).await;
    second.batch_execute("BEGIN; SET LOCAL lock_timeout = '200ms'").await.unwrap();
    // Would time out if the second writer queued behind the first's bucket rows.
    super::insert_on(&mut second, fixture.listing, std::slice::from_ref(&same)).await;
    second.batch_execute("COMMIT").await.unwrap();
    first.batch_execute("COMMIT").await.unwrap();
    assert_eq!(digest(&mut conn, "price_index_buckets").await, rebuilt(&mut conn).await);
}
