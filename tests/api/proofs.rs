//! Hashrate proofs end to end: a CPU miner written here does real double-SHA-256
//! work and speaks Stratum V1 over TCP to the service's listener. Time in the
//! proof window is the app's manual clock: the miner does `rate` hashes per
//! clock second and then advances the clock, so a 60-second window runs in well
//! under a second of real time while every share is genuinely mined.

use std::time::Duration;

use chrono::Duration as ChronoDuration;
use rigmarket::proofs::share::{header_bytes, share_target, Difficulty, Job, NotifyParams, Submission};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use crate::support::{assert_problem, TestApp};

/// A model of a tiny "rig": 20 kH/s, so a 60 s proof is 1.2 M hashes.
const RIG_HASHRATE_HS: i64 = 20_000;

struct Miner {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    next_id: u64,
    extranonce1: Vec<u8>,
    difficulty: f64,
    job: Option<Job>,
    /// Notifications that arrived while waiting for a response.
    pending: Vec<Value>,
}

impl Miner {
    async fn connect(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.expect("stratum listener answers");
        let (read, write) = stream.into_split();
        Self {
            reader: BufReader::new(read),
            writer: write,
            next_id: 0,
            extranonce1: Vec::new(),
            difficulty: 0.0,
            job: None,
            pending: Vec::new(),
        }
    }

    async fn send_raw(&mut self, line: &str) {
        self.writer.write_all(format!("{line}\n").as_bytes()).await.unwrap();
    }

    async fn read_message(&mut self) -> Option<Value> {
        let mut line = String::new();
        let read = tokio::time::timeout(Duration::from_secs(10), self.reader.read_line(&mut line)).await.ok()?.ok()?;
        if read == 0 {
            return None;
        }
        Some(serde_json::from_str(&line).expect("the server writes JSON lines"))
    }

    fn absorb(&mut self, message: &Value) {
        match message["method"].as_str() {
            Some("mining.set_difficulty") => self.difficulty = message["params"][0].as_f64().unwrap(),
            Some("mining.notify") => {
                let p = &message["params"];
                let text = |i: usize| p[i].as_str().unwrap().to_string();
                let branch: [&str; 0] = [];
                self.job = Some(
                    Job::from_notify(&NotifyParams {
                        job_id: &text(0),
                        prevhash: &text(1),
                        coinb1: &text(2),
                        coinb2: &text(3),
                        merkle_branch: &branch,
                        version: &text(5),
                        nbits: &text(6),
                        ntime: &text(7),
                    })
                    .unwrap(),
                );
            }
            _ => {}
        }
    }

    /// Sends a request and returns its response, absorbing notifications.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send_raw(&json!({"id": id, "method": method, "params": params}).to_string()).await;
        loop {
            let message = self.read_message().await.expect("a response");
            if message["id"] == json!(id) {
                return message;
            }
            self.absorb(&message);
            self.pending.push(message);
        }
    }

    /// Reads notifications until a job is known.
    async fn wait_for_job(&mut self) {
        while self.job.is_none() {
            let message = self.read_message().await.expect("a job");
            self.absorb(&message);
        }
    }

    async fn start(port: u16, username: &str) -> Self {
        let mut miner = Self::connect(port).await;
        let subscribed = miner.call("mining.subscribe", json!(["rigmarket-test-miner/1.0"])).await;
        miner.extranonce1 = hex::decode(subscribed["result"][1].as_str().unwrap()).unwrap();
        assert_eq!(subscribed["result"][2], 4, "extranonce2 size");
        let authorized = miner.call("mining.authorize", json!([username, "x"])).await;
        assert_eq!(authorized["result"], true, "{authorized}");
        miner.wait_for_job().await;
        miner
    }

    /// Does `hashes` real double-SHA-256 attempts from `start_nonce`; returns the
    /// submissions that meet the share target.
    fn mine(&self, start_nonce: u32, extranonce2: u32, hashes: u32) -> Vec<Submission> {
        mine_job(self.job.as_ref().unwrap(), &self.extranonce1, self.difficulty, start_nonce, extranonce2, hashes)
    }

    /// Whether a submission meets this connection's share target.
    fn meets_target(&self, share: &Submission) -> bool {
        meets_target(self.job.as_ref().unwrap(), &self.extranonce1, self.difficulty, share)
    }

    async fn submit(&mut self, username: &str, share: &Submission) -> Value {
        let job_id = self.job.as_ref().unwrap().job_id.clone();
        let params = json!([
            username,
            job_id,
            hex::encode(&share.extranonce2),
            format!("{:08x}", share.ntime),
            format!("{:08x}", share.nonce)
        ]);
        self.call("mining.submit", params).await
    }
}

fn meets_target(job: &Job, extranonce1: &[u8], difficulty: f64, share: &Submission) -> bool {
    let target = share_target(Difficulty::new(difficulty).unwrap());
    let header = header_bytes(job, extranonce1, share, job.version);
    let hash = <bitcoin::hashes::sha256d::Hash as bitcoin::hashes::Hash>::hash(&header);
    bitcoin::Target::from_le_bytes(*bitcoin::hashes::Hash::as_byte_array(&hash)) <= target
}

/// `hashes` real double-SHA-256 attempts from `start_nonce`; the submissions
/// that meet the share target.
fn mine_job(
    job: &Job,
    extranonce1: &[u8],
    difficulty: f64,
    start: u32,
    extranonce2: u32,
    hashes: u32,
) -> Vec<Submission> {
    let mut submission =
        Submission { extranonce2: extranonce2.to_be_bytes().to_vec(), ntime: job.ntime, nonce: 0, version_bits: None };
    let mut found = Vec::new();
    for nonce in start..start.saturating_add(hashes) {
        submission.nonce = nonce;
        if meets_target(job, extranonce1, difficulty, &submission) {
            found.push(submission.clone());
        }
    }
    found
}

async fn proof_setup(app: &TestApp, duration_secs: i32, units: i32) -> (String, Value) {
    let admin = app.admin_token().await;
    let model =
        json!({"manufacturer": "rigmarket", "name": "CPU test rig", "hashrate_hs": RIG_HASHRATE_HS, "power_w": 65});
    let model: Value = app.post_json("/v1/admin/rig-models", Some(&admin), &model).await.json().await.unwrap();
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let listing = json!({"rig_model_id": model["id"], "title": "CPU rigs", "quantity": 5, "unit_price_cents": 1000,
                         "currency": "USD", "country": "KZ"});
    let listing: Value = app.post_json("/v1/listings", Some(&seller), &listing).await.json().await.unwrap();
    let path = format!("/v1/listings/{}/hashrate-proofs", listing["id"].as_str().unwrap());
    let response = app.post_json(&path, Some(&seller), &json!({"units": units, "duration_secs": duration_secs})).await;
    assert_eq!(response.status(), 201);
    (listing["id"].as_str().unwrap().to_string(), response.json().await.unwrap())
}

fn port_of(ticket: &Value) -> u16 {
    ticket["stratum_url"].as_str().unwrap().rsplit(':').next().unwrap().parse().unwrap()
}

/// Mines at `rate` hashes per clock second until the proof window has closed.
async fn mine_window(app: &TestApp, miner: &mut Miner, username: &str, rate: u32, seconds: i64) -> (u64, u64) {
    let (mut accepted, mut refused) = (0, 0);
    let mut nonce = 0u32;
    for second in 0..=seconds + 1 {
        for share in miner.mine(nonce, second as u32, rate) {
            let answer = miner.submit(username, &share).await;
            if answer["result"] == true {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        nonce = nonce.wrapping_add(rate);
        app.clock.advance(ChronoDuration::seconds(1));
    }
    (accepted, refused)
}

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
    assert!(low < RIG_HASHRATE_HS as f64 && (RIG_HASHRATE_HS as f64) < high, "{low} < claim < {high}");
    assert!((estimate / RIG_HASHRATE_HS as f64 - 1.0).abs() < 0.1, "estimate {estimate}");
    assert_eq!(proof["workers"][0]["name"], "SN-0001");
    assert_eq!(proof["shares_accepted"].as_u64().unwrap(), accepted);

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

/// A fresh session for the seller created by `proof_setup`.
async fn seller_token(app: &TestApp) -> String {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use rigmarket::db::schema::users;
    let user: rigmarket::accounts::model::UserRow = users::table
        .filter(users::email.eq("seller@rigmarket.test"))
        .select(rigmarket::accounts::model::UserRow::as_select())
        .first(&mut *app.conn().await)
        .await
        .unwrap();
    rigmarket::accounts::sessions::start(
        &mut *app.conn().await,
        &app.state.config,
        &user,
        &Default::default(),
        app.clock.now(),
    )
    .await
    .unwrap()
    .access_token
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

#[tokio::test]
async fn bad_shares_are_refused_with_their_stratum_codes_and_counted() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let username = ticket["username"].as_str().unwrap().to_string();
    let mut miner = Miner::start(port_of(&ticket), &username).await;
    let good = miner.mine(0, 7, 400_000).into_iter().next().expect("a share within 400k hashes");
    assert_eq!(miner.submit(&username, &good).await["result"], true);
    // Replayed: the same share again.
    assert_eq!(miner.submit(&username, &good).await["error"][0], 22);
    // Low difficulty: a nonce whose hash misses the target.
    let mut weak = good.clone();
    weak.nonce = (0..).find(|n| miner.mine(*n, 7, 1).is_empty()).unwrap();
    assert_eq!(miner.submit(&username, &weak).await["error"][0], 23);
    // Stale: an unknown job id.
    let stale = miner
        .call("mining.submit", json!([username, "ffff", "00000007", format!("{:08x}", good.ntime), "00000000"]))
        .await;
    assert_eq!(stale["error"][0], 21);
    // Malformed: extranonce2 of the wrong size.
    let job_id = miner.job.as_ref().unwrap().job_id.clone();
    let short =
        miner.call("mining.submit", json!([username, job_id, "0007", format!("{:08x}", good.ntime), "00000000"])).await;
    assert_eq!(short["error"][0], 20);
    // A share mined on another connection (another extranonce1) does not carry
    // its work over: on this connection its header hashes differently. (Pick one
    // that also misses this connection's target: 1 in ~750 would pass by luck.)
    let other = Miner::start(port_of(&ticket), &username).await;
    let foreign = other
        .mine(0, 9, 2_000_000)
        .into_iter()
        .find(|share| !miner.meets_target(share))
        .expect("a foreign share that is worthless here");
    let foreign_job = other.job.as_ref().unwrap().job_id.clone();
    assert_eq!(foreign_job, miner.job.as_ref().unwrap().job_id, "same job id, different work");
    let params = json!([
        username,
        foreign_job,
        hex::encode(&foreign.extranonce2),
        format!("{:08x}", foreign.ntime),
        format!("{:08x}", foreign.nonce)
    ]);
    assert_eq!(miner.call("mining.submit", params).await["error"][0], 23);

    let (_, proof) = app.get_json(&format!("/v1/hashrate-proofs/{}", ticket["id"].as_str().unwrap())).await;
    assert_eq!(proof["shares_accepted"], 1, "{proof}");
    assert_eq!(proof["shares_rejected"]["duplicate"], 1);
    assert_eq!(proof["shares_rejected"]["low_difficulty"], 2, "the weak share and the foreign one");
    assert_eq!(proof["shares_rejected"]["stale_job"], 1);
    assert_eq!(proof["shares_rejected"]["bad_extranonce2_size"], 1);
}

#[tokio::test]
async fn garbage_gets_errors_and_a_flood_closes_only_that_connection() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let username = ticket["username"].as_str().unwrap().to_string();
    let mut healthy = Miner::start(port_of(&ticket), &username).await;
    let mut noisy = Miner::connect(port_of(&ticket)).await;
    noisy.send_raw("hello?").await;
    let answer = noisy.read_message().await.unwrap();
    assert_eq!(answer["error"][0], 20);
    let unknown = noisy.call("mining.teleport", json!([])).await;
    assert_eq!(unknown["error"][0], 20, "unknown methods get an error, not a disconnect");
    for _ in 0..20 {
        noisy.send_raw("{{{{ not json").await;
    }
    let mut closed = false;
    for _ in 0..25 {
        if noisy.read_message().await.is_none() {
            closed = true;
            break;
        }
    }
    assert!(closed, "a flood of garbage closes the connection");
    let share = healthy.mine(0, 1, 400_000).into_iter().next().unwrap();
    assert_eq!(healthy.submit(&username, &share).await["result"], true, "other miners are unaffected");
}

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
async fn a_version_rolling_miner_is_accepted_within_the_negotiated_mask_only() {
    let app = TestApp::builder().with_stratum().spawn().await;
    let (_, ticket) = proof_setup(&app, 60, 1).await;
    let username = ticket["username"].as_str().unwrap().to_string();
    let mut miner = Miner::connect(port_of(&ticket)).await;
    // As ASIC firmware does (BIP 310): configure before subscribing.
    let configured =
        miner.call("mining.configure", json!([["version-rolling"], {"version-rolling.mask": "ffffffff"}])).await;
    assert_eq!(configured["result"]["version-rolling"], true);
    assert_eq!(configured["result"]["version-rolling.mask"], "1fffe000");
    let subscribed = miner.call("mining.subscribe", json!(["bmminer/2.0.0"])).await;
    miner.extranonce1 = hex::decode(subscribed["result"][1].as_str().unwrap()).unwrap();
    assert_eq!(miner.call("mining.authorize", json!([username, "x"])).await["result"], true);
    assert_eq!(miner.call("mining.suggest_difficulty", json!([512])).await["result"], true, "acknowledged");
    miner.wait_for_job().await;

    let job = miner.job.clone().unwrap();
    let target = share_target(Difficulty::new(miner.difficulty).unwrap());
    let rolled_bits = 0x0000_6000_u32; // inside the mask
    let rolled_version = (job.version & !0x1fff_e000) | rolled_bits;
    let share = (0u32..2_000_000)
        .map(|nonce| Submission {
            extranonce2: vec![0, 0, 0, 3],
            ntime: job.ntime,
            nonce,
            version_bits: Some(rolled_bits),
        })
        .find(|s| {
            let header = header_bytes(&job, &miner.extranonce1, s, rolled_version);
            let hash = <bitcoin::hashes::sha256d::Hash as bitcoin::hashes::Hash>::hash(&header);
            bitcoin::Target::from_le_bytes(*bitcoin::hashes::Hash::as_byte_array(&hash)) <= target
        })
        .expect("a rolled share");
    let submit = |bits: u32| {
        json!([
            username,
            job.job_id,
            hex::encode(&share.extranonce2),
            format!("{:08x}", share.ntime),
            format!("{:08x}", share.nonce),
            format!("{bits:08x}")
        ])
    };
    assert_eq!(miner.call("mining.submit", submit(rolled_bits)).await["result"], true, "six-parameter submit");
    let outside = miner.call("mining.submit", submit(0x0000_0001)).await;
    assert_eq!(outside["error"][0], 20, "{outside}");
    let (_, proof) = app.get_json(&format!("/v1/hashrate-proofs/{}", ticket["id"].as_str().unwrap())).await;
    assert_eq!(proof["shares_rejected"]["version_bits_outside_mask"], 1);
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
    assert_eq!(proof["shares_accepted"], 8);
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
    assert_eq!(proof["shares_accepted"], 2);
    assert_eq!(proof["status"], "collecting");
}
