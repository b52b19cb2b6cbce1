//! Alerts fire when a matching listing is published, gets cheaper or crosses a
//! discount threshold: once per (search, listing, trigger), however many
//! instances drain the queue and however often the job runs again.

use serde_json::json;

use super::{fired, save_ok, unsubscribe_url, Watchers};
use crate::notifications::{inbox_of, types};
use crate::orders::json_with_status;
use crate::support::accounts::{get_bearer, mails_for};
use crate::support::listings::ids;
use crate::support::TestApp;

/// Runs the queue on both instances at once, then once more on each.
async fn drain_both(w: &Watchers, other: &rigmarket::Instance) {
    let (a, b) = tokio::join!(w.app.instance.drain_jobs(), other.drain_jobs());
    a.unwrap();
    b.unwrap();
    w.app.drain_jobs().await;
}

/// The job a listing change enqueued, enqueued again (a retry after a crash,
/// or a duplicate): it must not fire anything twice.
async fn announce_again(w: &Watchers, listing: &str, change: rigmarket::listings::MarketChange) {
    let job = rigmarket::listings::ListingMarketChange { listing_id: listing.parse().unwrap(), change };
    rigmarket::jobs::enqueue(&mut *w.app.conn().await, &job, w.app.clock.now()).await.unwrap();
}

#[tokio::test]
async fn each_trigger_fires_exactly_once_per_search_listing_and_trigger_with_two_instances() {
    let w = Watchers::open(TestApp::builder().with_smtp()).await;
    let app = &w.app;
    let other = app.another_instance().await;
    let token = w.buyer.token.as_str();
    let all = json!(["new_match", "price_drop", {"discount_at_least": 30}]);
    // The S19 Pro's reference is about $1,728: $1,700 is ~2 % off, $1,000 ~42 %.
    let watch = save_ok(
        app,
        token,
        json!({"name": "S19 Pro", "query": {"rig_model_id": w.s19, "max_price_cents": 180_000}, "alert": "instant", "triggers": all}),
    )
    .await;
    let by_text = save_ok(
        app,
        token,
        json!({"name": "s19 words", "query": {"q": "s19"}, "alert": "daily", "triggers": ["new_match"]}),
    )
    .await;
    let _other_words = save_ok(
        app,
        token,
        json!({"name": "hydro", "query": {"q": "hydro"}, "alert": "instant", "triggers": ["new_match"]}),
    )
    .await;
    let too_dear = save_ok(
        app,
        token,
        json!({"name": "under $900", "query": {"max_price_cents": 90_000}, "alert": "instant", "triggers": ["new_match", "price_drop"]}),
    )
    .await;
    let _in_us = save_ok(
        app,
        token,
        json!({"name": "US only", "query": {"country": "US"}, "alert": "instant", "triggers": ["new_match"]}),
    )
    .await;
    let _off =
        save_ok(app, token, json!({"name": "muted", "query": {}, "alert": "off", "triggers": ["new_match"]})).await;

    let lot = w.publish(json!({"unit_price_cents": 170_000})).await;
    announce_again(&w, &lot, rigmarket::listings::MarketChange::Published).await;
    drain_both(&w, &other).await;
    assert_eq!(
        fired(app).await,
        sorted(vec![(watch.clone(), lot.clone(), "new_match"), (by_text.clone(), lot.clone(), "new_match")])
    );

    // Down to $1,000: a price drop, and the 30 % discount is crossed.
    w.reprice(&lot, 100_000).await;
    let drop = rigmarket::listings::MarketChange::PriceDropped { old_unit_price_cents: 170_000 };
    announce_again(&w, &lot, drop).await;
    drain_both(&w, &other).await;
    // Further down: both already fired for this listing; the $900 search now
    // matches, but only a drop of a lot it matches is news to it.
    w.reprice(&lot, 85_000).await;
    drain_both(&w, &other).await;
    let expected = sorted(vec![
        (watch.clone(), lot.clone(), "new_match"),
        (watch.clone(), lot.clone(), "price_drop"),
        (watch.clone(), lot.clone(), "discount_at_least"),
        (by_text.clone(), lot.clone(), "new_match"),
        (too_dear.clone(), lot.clone(), "price_drop"),
    ]);
    assert_eq!(fired(app).await, expected);

    // Each fire is one notification (daily ones too) and each instant one email.
    let inbox = inbox_of(app, token, "").await;
    assert_eq!(types(&inbox).iter().filter(|t| *t == "saved_search.matched").count(), 5, "{inbox}");
    let first =
        inbox["items"].as_array().unwrap().iter().find(|n| n["data"]["trigger"] == "discount_at_least").unwrap();
    assert_eq!(first["subject_id"], lot.as_str());
    assert_eq!(first["data"]["saved_search_id"], watch.as_str());
    assert_eq!(first["data"]["unit_price_cents"], 100_000);
    let mails = mails_for(app, &w.buyer.email, "").await;
    let subjects: Vec<String> = mails.iter().map(|m| m.header("Subject").unwrap_or_default()).collect();
    assert_eq!(mails.len(), 4, "{subjects:?}");
    assert_eq!(subjects.iter().filter(|s| s.starts_with("New match")).count(), 1, "{subjects:?}");
    assert_eq!(subjects.iter().filter(|s| s.starts_with("Price drop")).count(), 2, "{subjects:?}");
    assert_eq!(subjects.iter().filter(|s| s.starts_with("Fire sale")).count(), 1, "{subjects:?}");
    for mail in &mails {
        unsubscribe_url(mail);
    }
}

fn sorted(mut rows: Vec<(String, String, &str)>) -> Vec<(String, String, String)> {
    rows.sort();
    rows.into_iter().map(|(s, l, t)| (s, l, t.to_string())).collect()
}

#[tokio::test]
async fn a_listing_no_search_would_list_fires_nothing() {
    let w = Watchers::open(TestApp::builder()).await;
    let app = &w.app;
    save_ok(
        app,
        &w.buyer.token,
        json!({"name": "grade A only", "query": {"condition_grade": "A"}, "alert": "instant", "triggers": ["new_match"]}),
    )
    .await;
    save_ok(
        app,
        &w.buyer.token,
        json!({"name": "verified", "query": {"verified_only": true}, "alert": "instant", "triggers": ["new_match"]}),
    )
    .await;
    w.publish(json!({})).await;
    app.drain_jobs().await;
    assert_eq!(fired(app).await, vec![]);
}

/// The lots a saved search lists now (`/matches`), by id.
async fn listed_by(w: &Watchers, search: &str) -> Vec<String> {
    let path = format!("/v1/me/saved-searches/{search}/matches?limit=100");
    let page = json_with_status(get_bearer(&w.app, &path, &w.buyer.token).await, 200).await;
    let mut lots = ids(page["items"].as_array().unwrap());
    lots.sort();
    lots
}

#[tokio::test]
async fn new_match_fires_for_exactly_the_lots_the_search_lists() {
    // The index narrows by bucket, country, maximum price and discount floor;
    // none of that may hide a lot the search itself would list.
    let w = Watchers::open(TestApp::builder()).await;
    let app = &w.app;
    let token = w.buyer.token.as_str();
    let queries = [
        json!({"country": "KZ"}),
        json!({"country": "us"}),
        json!({"min_discount_pct": 30}),
        json!({"min_discount_pct": -20}),
        json!({"min_discount_pct": -10}),
        json!({"country": "US", "max_price_cents": 120_000}),
        json!({"rig_model_id": w.s19, "country": "KZ", "min_discount_pct": 40}),
        json!({"tier": "25to38", "max_price_cents": 170_000}),
        json!({"fire_sale": true}),
        json!({"q": "s19", "min_discount_pct": 1}),
        json!({"country": "DE"}),
    ];
    let mut searches = Vec::new();
    for (i, query) in queries.iter().enumerate() {
        let body = json!({"name": format!("search {i}"), "query": query, "alert": "daily", "triggers": ["new_match"]});
        searches.push(save_ok(app, token, body).await);
    }
    // The S19 Pro's reference is about $1,728.
    let near = w.publish(json!({"unit_price_cents": 170_000})).await; // KZ, ~2 % off
    let us = w.publish(json!({"unit_price_cents": 120_000, "country": "US"})).await; // ~31 % off
    let cheap = w.publish(json!({"unit_price_cents": 100_000})).await; // KZ, ~42 % off
    let dear = w.publish(json!({"unit_price_cents": 200_000})).await; // KZ, ~16 % above
    app.drain_jobs().await;

    let alerts = fired(app).await;
    let mut total = 0;
    for (search, query) in searches.iter().zip(&queries) {
        let mut alerted: Vec<String> =
            alerts.iter().filter(|(s, _, _)| s == search).map(|(_, l, _)| l.clone()).collect();
        alerted.sort();
        assert_eq!(alerted, listed_by(&w, search).await, "{query}");
        total += alerted.len();
    }
    let lots = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<_>>()
    };
    assert_eq!(listed_by(&w, &searches[0]).await, lots(vec![&near, &cheap, &dear]));
    assert_eq!(listed_by(&w, &searches[1]).await, lots(vec![&us]));
    assert_eq!(listed_by(&w, &searches[2]).await, lots(vec![&us, &cheap]));
    assert_eq!(listed_by(&w, &searches[6]).await, lots(vec![&cheap]));
    assert!(listed_by(&w, &searches[10]).await.is_empty());
    assert!(total >= 10, "{total}");

    // A changed query is indexed anew: the US search now watches KZ.
    let patch = json!({"query": {"country": "KZ", "max_price_cents": 90_000}});
    let path = format!("/v1/me/saved-searches/{}", searches[1]);
    json_with_status(app.patch_json(&path, Some(token), &patch).await, 200).await;
    let bargain = w.publish(json!({"unit_price_cents": 90_000})).await;
    app.drain_jobs().await;
    let new: Vec<_> = fired(app).await.into_iter().filter(|(_, l, _)| *l == bargain).map(|(s, _, _)| s).collect();
    assert!(new.contains(&searches[1]), "{new:?}");
}
