//! Verdicts: an honest claim verifies, an over-claim fails.

use super::*;

#[tokio::test]
async fn an_honest_claim_verifies_and_the_listing_shows_it() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (listing_id, ticket) = proof_setup(&app, 60, 1).await;
    assert_eq!(ticket["status"], "awaiting_shares");
    assert_eq!(ticket["claimed_hashrate_hs"], RIG_HASHRATE_HS);
    let username = ticket["username"].as_str().unwrap().replace(".worker", ".SN-0001");
    let mut miner = Miner::start(port_of(&ticket), &username).await;
    assert_eq!(miner.difficulty, ticket["share_difficulty"].as_f64().unwrap());

    let (accepted, _) = mine_window(&app, &mut miner, &username, RIG_HASHRATE_HS as u32, 60).await;
    assert!((1400..=1800).contains(&accepted), "about 1,600 shares expected, got {accepted}");
    app.drain_jobs().await;

    let (status, proof) = app.get_json(&format!("/v1/hashrate-proofs/{}", ticket["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert_eq!(proof["status"], "verified", "{proof}");
    let estimate = proof["estimated_hashrate_hs"].as_f64().unwrap();
    let (low, high) = (proof["ci95_low_hs"].as_f64().unwrap(), proof["ci95_high_hs"].as_f64().unwrap());
    // The interval brackets the estimate and is as wide as ~1,600 Poisson counts
    // make it (about +-4.9 %). Whether it covers the true rate is a 95 % event,
    // so that is checked over 2,000 simulated proofs in the unit tests, not here.
    assert!(low < estimate && estimate < high, "{low} < {estimate} < {high}");
    let relative_width = (high - low) / estimate;
    let expected_width = 2.0 * 1.96 / (accepted as f64).sqrt();
    assert!((relative_width / expected_width - 1.0).abs() < 0.05, "width {relative_width} vs {expected_width}");
    assert!((estimate / RIG_HASHRATE_HS as f64 - 1.0).abs() < 0.1, "estimate {estimate}");
    assert_eq!(proof["workers"][0]["name"], "SN-0001");
    // The share that opened the window was mined before it: accepted (and kept,
    // so a copy would be a duplicate) but not counted in N.
    assert_eq!(proof["shares_accepted"].as_u64().unwrap(), accepted - 1);
    assert_eq!(proof["workers"][0]["shares_accepted"].as_u64().unwrap(), accepted - 1);

    // The seller's (draft) listing shows the verdict.
    let listing: Value = app
        .client
        .get(app.url(&format!("/v1/listings/{listing_id}")))
        .bearer_auth(&seller_token(&app).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listing["hashrate_proof"]["status"], "verified", "{listing}");
    assert_eq!(listing["hashrate_proof"]["id"], ticket["id"]);
}

#[tokio::test]
async fn a_claim_three_times_the_real_rate_fails() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 3).await;
    let username = ticket["username"].as_str().unwrap().to_string();
    let mut miner = Miner::start(port_of(&ticket), &username).await;
    // Three units claimed, one unit's worth of work.
    mine_window(&app, &mut miner, &username, RIG_HASHRATE_HS as u32, 60).await;
    app.drain_jobs().await;
    let (_, proof) = app.get_json(&format!("/v1/hashrate-proofs/{}", ticket["id"].as_str().unwrap())).await;
    assert_eq!(proof["status"], "failed", "{proof}");
    let ratio = proof["ratio_to_claim"].as_f64().unwrap();
    assert!((0.25..0.42).contains(&ratio), "ratio {ratio}");
}
