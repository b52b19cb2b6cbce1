//! Lag-tolerant reads on a real streaming replica (a private primary and a
//! `pg_basebackup -R` replica started by the harness): read-your-writes while
//! replay is paused, health (a stopped replica and its return), and which
//! endpoints the replica answers, counted per target.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::listings::{create_active, create_listing, get_as, id_of, model_id, publish};
use crate::support::replica::ReplicatedCluster;
use crate::support::{ReplicaOptions, TestApp};

/// A lag limit no test reaches while replay is paused, and a health loop that
/// stays out of the way (tests run a check themselves: one interval's work).
const PATIENT: ReplicaOptions =
    ReplicaOptions { max_lag: Duration::from_secs(3600), health_interval: Duration::from_secs(3600) };

async fn replicated_app(options: ReplicaOptions) -> TestApp {
    let app = TestApp::builder().with_replica(options).spawn().await;
    cluster(&app).wait_for_replay().await;
    app.state.reads.check_health().await;
    assert!(app.state.reads.statuses().iter().all(|r| r.healthy), "{:?}", app.state.reads.statuses());
    app
}

fn cluster(app: &TestApp) -> &ReplicatedCluster {
    app.cluster.as_ref().expect("a replicated app")
}

/// Reads routed so far: (primary, replica).
fn routed(app: &TestApp) -> (u64, u64) {
    let counts = app.state.reads.reads_routed();
    (counts[0].1, counts[1].1)
}

async fn search_ids(app: &TestApp, token: Option<&str>) -> Vec<String> {
    let (status, page) = get_as(app, "/v1/listings?limit=100", token).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().iter().map(id_of).collect()
}

#[tokio::test]
async fn a_seller_sees_a_listing_just_published_while_anonymous_search_waits_for_replay() {
    let app = replicated_app(PATIENT).await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let model = model_id(&app, "Antminer S19 Pro").await;
    cluster(&app).pause_replay().await;
    app.state.reads.check_health().await;

    let draft = create_listing(&app, &seller, json!({ "rig_model_id": model })).await;
    let id = id_of(&draft);
    publish(&app, &seller, &admin, &id).await;

    // The seller's own reads wait for nobody.
    assert!(search_ids(&app, Some(&seller)).await.contains(&id));
    let (status, own) = get_as(&app, &format!("/v1/listings/{id}"), Some(&seller)).await;
    assert_eq!((status, own["status"].as_str()), (200, Some("active")), "{own}");
    // Anonymous readers get the replica, which has not replayed the listing.
    let (primary_before, replica_before) = routed(&app);
    assert!(!search_ids(&app, None).await.contains(&id), "the paused replica cannot know the listing yet");
    let (status, _) = get_as(&app, &format!("/v1/listings/{id}"), None).await;
    assert_eq!(status, 404);
    assert_eq!(routed(&app), (primary_before, replica_before + 2), "both anonymous reads went to the replica");

    cluster(&app).resume_replay().await;
    cluster(&app).wait_for_replay().await;
    app.state.reads.check_health().await;
    assert!(search_ids(&app, None).await.contains(&id));
    let (status, public) = get_as(&app, &format!("/v1/listings/{id}"), None).await;
    assert_eq!((status, public["status"].as_str()), (200, Some("active")), "{public}");
}

#[tokio::test]
async fn read_your_writes_holds_across_instances() {
    let app = replicated_app(PATIENT).await;
    let (seller_id, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let (reader_id, _) = app.create_user("reader@rigmarket.test", &[]).await;
    let model = model_id(&app, "Antminer S19 Pro").await;
    let other = app.another_instance().await;
    other.state.reads.check_health().await;
    cluster(&app).pause_replay().await;

    // The write goes through this instance; the other one learns of it from
    // the primary's write marks.
    create_listing(&app, &seller, json!({ "rig_model_id": model })).await;
    assert_eq!(other.state.reads.route(Some(seller_id)).await.target(), "primary");
    assert_ne!(other.state.reads.route(Some(reader_id)).await.target(), "primary", "a caller who never wrote");
    assert_ne!(other.state.reads.route(None).await.target(), "primary", "anonymous");

    cluster(&app).resume_replay().await;
    cluster(&app).wait_for_replay().await;
    other.state.reads.check_health().await;
    assert_ne!(other.state.reads.route(Some(seller_id)).await.target(), "primary", "replayed: the replica will do");
}

#[tokio::test]
async fn a_stopped_replica_sends_reads_to_the_primary_and_gets_them_back_when_it_returns() {
    let interval = Duration::from_millis(200);
    let app = replicated_app(ReplicaOptions { max_lag: Duration::from_secs(3600), health_interval: interval }).await;

    let (primary, replica) = routed(&app);
    search_ids(&app, None).await;
    assert_eq!(routed(&app), (primary, replica + 1));

    cluster(&app).stop_replica();
    // The health loop notices by itself (polled; no timing asserted).
    wait_until(&app, false).await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.lines().any(|l| l.starts_with("rigmarket_db_replica_healthy{") && l.ends_with(" 0")), "{metrics}");
    let (primary, replica) = routed(&app);
    search_ids(&app, None).await;
    assert_eq!(routed(&app), (primary + 1, replica), "the primary answered");

    cluster(&app).start_replica();
    wait_until(&app, true).await;
    let (primary, replica) = routed(&app);
    search_ids(&app, None).await;
    assert_eq!(routed(&app), (primary, replica + 1), "back on the replica");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("rigmarket_db_reads_routed_total{target=\"primary\"}"), "{metrics}");
    assert!(metrics.lines().any(|l| l.starts_with("rigmarket_db_replica_lag_seconds{")), "{metrics}");
}

/// Polls the health the background loop keeps until the replica is (not) healthy.
async fn wait_until(app: &TestApp, healthy: bool) {
    for _ in 0..600 {
        if app.state.reads.statuses()[0].healthy == healthy {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the replica never became {}", if healthy { "healthy" } else { "unhealthy" });
}

#[tokio::test]
async fn a_replica_that_lags_past_the_limit_is_skipped_until_it_catches_up() {
    let app = replicated_app(ReplicaOptions {
        max_lag: Duration::from_millis(1),
        health_interval: Duration::from_secs(3600),
    })
    .await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let model = model_id(&app, "Antminer S19 Pro").await;
    cluster(&app).pause_replay().await;
    create_listing(&app, &seller, json!({ "rig_model_id": model })).await;
    app.state.reads.check_health().await;
    // Behind since the write, which is more than a millisecond ago by the
    // second check.
    tokio::time::sleep(Duration::from_millis(5)).await;
    app.state.reads.check_health().await;
    assert!(!app.state.reads.statuses()[0].healthy, "{:?}", app.state.reads.statuses());
    assert_eq!(app.state.reads.route(None).await.target(), "primary");

    cluster(&app).resume_replay().await;
    cluster(&app).wait_for_replay().await;
    app.state.reads.check_health().await;
    assert!(app.state.reads.statuses()[0].healthy, "{:?}", app.state.reads.statuses());
}

#[tokio::test]
async fn the_lag_tolerant_endpoints_are_answered_by_the_replica() {
    let app = replicated_app(PATIENT).await;
    let (seller_id, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let model = model_id(&app, "Antminer S19 Pro").await;
    let listing = id_of(&create_active(&app, &seller, &admin, json!({ "rig_model_id": model })).await);
    // A reader who has written nothing through the API.
    let (_, reader) = app.create_user("reader@rigmarket.test", &[]).await;
    cluster(&app).wait_for_replay().await;
    app.state.reads.check_health().await;

    let anonymous: Vec<String> = vec![
        "/v1/listings".into(),
        format!("/v1/listings/{listing}"),
        format!("/v1/listings/{listing}/price-history"),
        format!("/v1/listings/{listing}/condition-reports"),
        "/v1/rig-models".into(),
        format!("/v1/rig-models/{model}"),
        format!("/v1/rig-models/{model}/reference-prices"),
        format!("/v1/users/{seller_id}"),
        "/v1/price-index/latest".into(),
    ];
    let signed_in = ["/v1/price-index/series?from=2025-12-01", "/v1/price-index/fire-sales?from=2025-12-01"];
    let calls =
        anonymous.iter().map(|p| (p.as_str(), None)).chain(signed_in.iter().map(|p| (*p, Some(reader.as_str()))));
    for (path, token) in calls {
        let (primary, replica) = routed(&app);
        let (status, body): (u16, Value) = get_as(&app, path, token).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(routed(&app), (primary, replica + 1), "{path} read from the replica");
    }
}
