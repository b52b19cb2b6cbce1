//! A lot that many searches match: its fires are reported in batches, each in
//! its own job and transaction (so the first notifications do not wait for the
//! last), and still every (search, listing, trigger) is reported exactly once,
//! with two instances draining the queue and the change announced twice.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};

use super::{fired, save_ok, Watchers};
use crate::orders::party;
use crate::support::accounts::mails_for;
use crate::support::TestApp;

/// Queued jobs of this kind.
async fn queued(app: &TestApp, kind: &str) -> i64 {
    use rigmarket::db::schema::jobs;
    jobs::table.filter(jobs::kind.eq(kind)).count().get_result(&mut *app.conn().await).await.unwrap()
}

/// The data of every `saved_search.matched` notification.
async fn matched_notifications(app: &TestApp) -> Vec<Value> {
    use rigmarket::db::schema::notifications as n;
    n::table.filter(n::type_.eq("saved_search.matched")).select(n::data).load(&mut *app.conn().await).await.unwrap()
}

#[tokio::test]
async fn more_fires_than_one_batch_are_reported_in_several_jobs_each_exactly_once() {
    let w = Watchers::open(TestApp::builder().with_smtp()).await;
    let app = &w.app;
    let other = app.another_instance().await;
    // 3 accounts x 50 searches (the most one may keep), each firing twice on a
    // $1,000 S19 Pro (~42 % below its reference): 300 fires, more than one batch.
    let triggers = json!(["new_match", {"discount_at_least": 30}]);
    let (buyer2, buyer3) = (party(app, "buyer2").await, party(app, "buyer3").await);
    let buyers = [&w.buyer, &buyer2, &buyer3];
    let mut searches = BTreeSet::new();
    for (b, buyer) in buyers.iter().enumerate() {
        for i in 0..50 {
            // The first account's first five searches email at once; the rest wait for the digest.
            let alert = if b == 0 && i < 5 { "instant" } else { "daily" };
            let body = json!({
                "name": format!("S19 Pro under ${}", 1_100 + i),
                "query": {"rig_model_id": w.s19, "max_price_cents": 110_000 + i * 100},
                "alert": alert,
                "triggers": triggers,
            });
            searches.insert(save_ok(app, &buyer.token, body).await);
        }
    }
    let fires_expected = 2 * searches.len();
    assert!(fires_expected > rigmarket::alerts::fire::REPORT_BATCH, "the test must span batches");

    let lot = w.publish(json!({"unit_price_cents": 100_000})).await;
    // Run jobs one by one until the change has been matched: its fires are
    // taken, and their reports wait in batches, none reported yet.
    while queued(app, "listing_market_change").await > 0 {
        app.instance.jobs.run_next().await.unwrap();
    }
    let batches = fires_expected.div_ceil(rigmarket::alerts::fire::REPORT_BATCH) as i64;
    assert_eq!(queued(app, "report_saved_search_alerts").await, batches);
    assert_eq!(fired(app).await.len(), fires_expected);
    assert!(matched_notifications(app).await.is_empty());

    // The change announced again (a duplicate, or a retry after a crash), and
    // both instances draining at once.
    let change = rigmarket::listings::MarketChange::Published;
    let job = rigmarket::listings::ListingMarketChange { listing_id: lot.parse().unwrap(), change };
    rigmarket::jobs::enqueue(&mut *app.conn().await, &job, app.clock.now()).await.unwrap();
    let (a, b) = tokio::join!(app.instance.drain_jobs(), other.drain_jobs());
    a.unwrap();
    b.unwrap();
    app.drain_jobs().await;

    let fired = fired(app).await;
    assert_eq!(fired.len(), fires_expected);
    let notified: Vec<(String, String)> = matched_notifications(app)
        .await
        .iter()
        .map(|d| (d["saved_search_id"].as_str().unwrap().to_string(), d["trigger"].as_str().unwrap().to_string()))
        .collect();
    let distinct: BTreeSet<_> = notified.iter().cloned().collect();
    assert_eq!(notified.len(), fires_expected, "one notification per fire");
    assert!(fired.iter().all(|(_, l, _)| *l == lot));
    let expected: BTreeSet<(String, String)> = fired.iter().map(|(s, _, t)| (s.clone(), t.clone())).collect();
    assert_eq!(distinct, expected, "every fire reported, none twice");
    for buyer in buyers {
        let inbox = crate::notifications::inbox_of(app, &buyer.token, "?unread_only=true").await;
        assert_eq!(inbox["unread_count"], 100, "{}", buyer.email);
    }
    // Each of the five instant searches emailed its two fires once.
    let mails = mails_for(app, &w.buyer.email, "").await;
    assert_eq!(mails.len(), 10);
    assert_eq!(queued(app, "report_saved_search_alerts").await, 0);
}
