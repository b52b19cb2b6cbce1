//! A crowd on one search (a fire sale's link posted to a channel of buyers):
//! identical searches arriving together share a run (`listings::SearchRuns`),
//! and none answers from a run that started before it arrived. A crowd of
//! different searches shares the statements that decorate its pages
//! (`ListingRenderer::render_shared`), and each page keeps its own decorations.

use serde_json::{json, Value};

use crate::support::listings::{create_active, id_of, model_id, search};
use crate::support::TestApp;

const QUERY: &str = "country=KZ&sort=newest&limit=50&with_total=true";

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_crowd_on_one_search_gets_one_answer_and_every_later_search_sees_each_publication() {
    let app = TestApp::builder().spawn().await;
    let (_, seller) = app.create_user("crowd-seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let model = model_id(&app, "Antminer S19 Pro").await;
    let lot = |n: i64| json!({ "rig_model_id": model, "country": "KZ", "unit_price_cents": 90_000 + n });
    create_active(&app, &seller, &admin, lot(0)).await;

    // Forty at once: one answer for all, the same as a lone search's.
    let path = format!("/v1/listings?{QUERY}");
    let crowd = futures_util::future::join_all((0..40).map(|_| app.get_json(&path))).await;
    let alone = search(&app, QUERY).await;
    for (status, page) in &crowd {
        assert_eq!(*status, 200, "{page}");
        assert_eq!(page, &alone);
    }

    // A crowd that never stops while lots are published: each search made
    // after a publication answered lists it, whatever runs were in flight.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let crowd: Vec<_> = (0..8)
        .map(|_| {
            let (client, url, stop) = (app.client.clone(), app.url(&format!("/v1/listings?{QUERY}")), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
                }
            })
        })
        .collect();
    for n in 1..=5 {
        let published = id_of(&create_active(&app, &seller, &admin, lot(n)).await);
        let page = search(&app, QUERY).await;
        assert!(ids(&page).contains(&published), "lot {n} missing from a search made after it: {page}");
        assert_eq!(page["total"], n + 1);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for searcher in crowd {
        searcher.await.unwrap();
    }
}

#[tokio::test]
async fn different_searches_at_once_each_get_the_page_they_get_alone() {
    let market = super::market().await;
    let app = &market.app;
    // Pages of every sort and size: different lots, models, tiers and
    // condition grades from page to page.
    let queries: Vec<String> = super::SORTS
        .iter()
        .flat_map(|(sort, _)| (1..=4).map(move |limit| format!("sort={sort}&limit={limit}")))
        .collect();
    let mut alone = Vec::new();
    for query in &queries {
        alone.push(search(app, query).await);
    }
    for round in 0..3 {
        // Each request its own query string, so none shares another's run:
        // only the decorations statement can be shared.
        let crowd = futures_util::future::join_all(queries.iter().enumerate().map(|(n, query)| {
            let path = format!("/v1/listings?{query}&max_price_cents={}", 1_000_000_000 + round * 100 + n);
            async move { app.get_json(&path).await }
        }))
        .await;
        for ((query, expected), (status, page)) in queries.iter().zip(&alone).zip(&crowd) {
            assert_eq!(*status, 200, "{query}: {page}");
            assert_eq!(page["items"], expected["items"], "{query}, searched with {} others", queries.len() - 1);
        }
    }
}
