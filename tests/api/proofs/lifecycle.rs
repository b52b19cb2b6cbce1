//! Who asks for proofs, expiry, a second stratum process, and the HTTP relay.

use super::*;

#[tokio::test]
async fn unknown_tokens_are_not_authorized_and_proofs_without_shares_expire() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let mut miner = Miner::connect(port_of(&ticket)).await;
    miner.call("mining.subscribe", json!([])).await;
    let denied = miner.call("mining.authorize", json!(["pNotARealToken.w1", "x"])).await;
    assert_eq!(denied["result"], false);
    app.clock.advance(ChronoDuration::minutes(31));
    app.drain_jobs().await;
    let (_, proof) = app.get_json(&format!("/v1/hashrate-proofs/{}", ticket["id"].as_str().unwrap())).await;
    assert_eq!(proof["status"], "expired");
    let late = miner.call("mining.authorize", json!([ticket["username"], "x"])).await;
    assert_eq!(late["result"], false, "an expired proof takes no miners");
}

#[tokio::test]
async fn only_the_seller_asks_for_a_proof_and_bad_windows_are_refused() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (listing_id, _) = proof_setup(&app, 60, 1).await;
    let (_, stranger) = app.create_user("stranger@rigmarket.test", &[]).await;
    let path = format!("/v1/listings/{listing_id}/hashrate-proofs");
    assert_problem(app.post_json(&path, Some(&stranger), &json!({})).await, 404, "listing_not_found").await;
    assert_problem(app.post_json(&path, None, &json!({})).await, 401, "authentication_required").await;
    let seller = seller_token(&app).await;
    for bad in [json!({"duration_secs": 59}), json!({"duration_secs": 3601}), json!({"units": 6}), json!({"units": 0})]
    {
        assert_problem(app.post_json(&path, Some(&seller), &bad).await, 422, "validation_failed").await;
    }
}

#[tokio::test]
async fn a_proof_revalidates_with_its_etag_until_it_changes() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let path = format!("/v1/hashrate-proofs/{}", ticket["id"].as_str().unwrap());
    let first = app.get(&path).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "public, no-cache");
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let again = app.client.get(app.url(&path)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    // Unused, it expires: a new representation, a new ETag.
    app.clock.advance(ChronoDuration::minutes(31));
    app.drain_jobs().await;
    let expired = app.client.get(app.url(&path)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(expired.status(), 200);
    assert_eq!(expired.json::<Value>().await.unwrap()["status"], "expired");
}

#[tokio::test]
async fn a_listings_proofs_are_pages_newest_first() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (listing_id, oldest) = proof_setup(&app, 60, 1).await;
    let seller = seller_token(&app).await;
    let path = format!("/v1/listings/{listing_id}/hashrate-proofs");
    app.clock.advance(ChronoDuration::minutes(1));
    // Two proofs asked at the same instant: the page order still has one place
    // for each.
    let mut newest = Vec::new();
    for _ in 0..2 {
        let response = app.post_json(&path, Some(&seller), &json!({"units": 1, "duration_secs": 60})).await;
        assert_eq!(response.status(), 201);
        newest.push(response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string());
    }
    newest.sort();
    newest.reverse();
    let proofs = crate::support::pages::walk_one_by_one(&app, &path, Some(&seller)).await;
    let ids: Vec<&str> = proofs.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [newest[0].as_str(), newest[1].as_str(), oldest["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn accepted_shares_survive_a_restart_of_the_listener() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let username = ticket["username"].as_str().unwrap().to_string();
    let mut miner = Miner::start(port_of(&ticket), &username).await;
    let shares = miner.mine(0, 1, 100_000);
    for share in &shares[..5] {
        assert_eq!(miner.submit(&username, share).await["result"], true);
    }
    let proof_id = ticket["id"].as_str().unwrap().to_string();
    // A second stratum process (a restart, or another instance) picks the proof
    // up from PostgreSQL: its window, its count and its recorded shares.
    let second = rigmarket::Application::build(
        {
            let mut config = crate::support::base_config(&app.direct_database_url);
            config.mail = app.state.config.mail.clone();
            config.storage = app.state.config.storage.clone();
            config
        },
        app.clock.clone(),
        rigmarket::Roles { http: false, worker: false, stratum: true },
    )
    .await
    .unwrap();
    let port = second.state().stratum_port();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(second.run_until_stopped(stopped));
    // The rig reconnects to the other process: its new shares add to the ones
    // already recorded, in the same window.
    let mut again = Miner::start(port, &username).await;
    let fresh = again.mine(0, 2, 100_000);
    for share in &fresh[..3] {
        assert_eq!(again.submit(&username, share).await["result"], true);
    }
    assert_eq!(miner.submit(&username, &shares[0]).await["error"][0], 22, "already recorded");
    let (_, proof) = app.get_json(&format!("/v1/hashrate-proofs/{proof_id}")).await;
    assert_eq!(proof["shares_accepted"], 7, "eight accepted, the one that opened the window not counted");
    assert_eq!(proof["status"], "collecting");
    let _ = stop.send(true);
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_relay_fetches_jobs_and_posts_shares_checked_like_stratum_ones() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let proof_id = ticket["id"].as_str().unwrap().to_string();
    let token = ticket["username"].as_str().unwrap().split('.').next().unwrap().to_string();
    let job_path = app.url(&format!("/v1/hashrate-proofs/{proof_id}/job"));
    assert_eq!(app.client.get(&job_path).send().await.unwrap().status(), 401);
    assert_eq!(app.client.get(&job_path).bearer_auth("pWrong").send().await.unwrap().status(), 401);
    let job: Value = app.client.get(&job_path).bearer_auth(&token).send().await.unwrap().json().await.unwrap();

    let text = |k: &str| job[k].as_str().unwrap().to_string();
    let branch: [&str; 0] = [];
    let parsed = Job::from_notify(&NotifyParams {
        job_id: &text("job_id"),
        prevhash: &text("prevhash"),
        coinb1: &text("coinb1"),
        coinb2: &text("coinb2"),
        merkle_branch: &branch,
        version: &text("version"),
        nbits: &text("nbits"),
        ntime: &text("ntime"),
    })
    .unwrap();
    let extranonce1 = hex::decode(text("extranonce1")).unwrap();
    let found = mine_job(&parsed, &extranonce1, job["share_difficulty"].as_f64().unwrap(), 0, 5, 200_000);
    let as_json = |s: &Submission, en1: &str| {
        json!({"worker": "SN-9", "job_id": text("job_id"), "extranonce1": en1, "extranonce2": hex::encode(&s.extranonce2),
               "ntime": format!("{:08x}", s.ntime), "nonce": format!("{:08x}", s.nonce)})
    };
    let body = json!([
        as_json(&found[0], &text("extranonce1")),
        as_json(&found[1], &text("extranonce1")),
        as_json(&found[0], &text("extranonce1")),
        as_json(&found[2], "deadbeef")
    ]);
    let shares_path = app.url(&format!("/v1/hashrate-proofs/{proof_id}/shares"));
    let receipt: Value =
        app.client.post(&shares_path).bearer_auth(&token).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(receipt["accepted"], 2, "{receipt}");
    assert_eq!(receipt["results"][2]["reason"], "duplicate");
    assert_eq!(receipt["results"][3]["reason"], "stale_job", "a job is bound to its extranonce1");
    let (_, proof) = app.get_json(&format!("/v1/hashrate-proofs/{proof_id}")).await;
    assert_eq!(proof["shares_accepted"], 1, "two accepted, the one that opened the window not counted");
    assert_eq!(proof["status"], "collecting");
}
