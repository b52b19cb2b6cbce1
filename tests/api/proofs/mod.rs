//! Hashrate proofs end to end: a CPU miner written here does real double-SHA-256
//! work and speaks Stratum V1 over TCP to the service's listener. Time in the
//! proof window is the app's manual clock: the miner does `rate` hashes per
//! clock second and then advances the clock, so a 60-second window runs in well
//! under a second of real time while every share is genuinely mined.

mod by_unit;
mod lifecycle;
mod pool_scale;
mod pool_scale_process;
mod shares;
mod verdict;

use std::time::Duration;

use chrono::Duration as ChronoDuration;
use rigmarket::proofs::share::{header_bytes, share_target, Difficulty, Job, NotifyParams, Submission};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use crate::support::{assert_problem, TestApp};

/// A model of a tiny "rig": 20 kH/s, so a 60 s proof is 1.2 M hashes.
pub(crate) const RIG_HASHRATE_HS: i64 = 20_000;

pub(crate) struct Miner {
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
        self.try_call(method, params).await.expect("a response")
    }

    /// As [`Self::call`]; `None` when the server closed the connection instead.
    async fn try_call(&mut self, method: &str, params: Value) -> Option<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let line = format!("{}\n", json!({"id": id, "method": method, "params": params}));
        self.writer.write_all(line.as_bytes()).await.ok()?;
        loop {
            let message = self.read_message().await?;
            if message["id"] == json!(id) {
                return Some(message);
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

    pub(crate) async fn start(port: u16, username: &str) -> Self {
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
        self.try_submit(username, share).await.expect("a response")
    }

    /// As [`Self::submit`]; `None` when the server closed the connection.
    async fn try_submit(&mut self, username: &str, share: &Submission) -> Option<Value> {
        let job_id = self.job.as_ref().unwrap().job_id.clone();
        let params = json!([
            username,
            job_id,
            hex::encode(&share.extranonce2),
            format!("{:08x}", share.ntime),
            format!("{:08x}", share.nonce)
        ]);
        self.try_call("mining.submit", params).await
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

pub(crate) fn port_of(ticket: &Value) -> u16 {
    ticket["stratum_url"].as_str().unwrap().rsplit(':').next().unwrap().parse().unwrap()
}

/// Mines at `rate` hashes per clock second until the proof window has closed
/// (the server then ends the session: the share in flight is refused and the
/// connection closed, instead of every later share being refused).
pub(crate) async fn mine_window(
    app: &TestApp,
    miner: &mut Miner,
    username: &str,
    rate: u32,
    seconds: i64,
) -> (u64, u64) {
    let (mut accepted, mut refused) = (0, 0);
    let mut nonce = 0u32;
    'mining: for second in 0..=seconds + 1 {
        for share in miner.mine(nonce, second as u32, rate) {
            let Some(answer) = miner.try_submit(username, &share).await else {
                break 'mining;
            };
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

/// Several rigs mining one window together, each at its own `rate` hashes per
/// clock second (0: it never connects); answers `(accepted, refused)` per rig.
pub(crate) async fn mine_together(app: &TestApp, rigs: &mut [(Miner, String, u32)], seconds: i64) -> Vec<(u64, u64)> {
    let mut tally = vec![(0u64, 0u64); rigs.len()];
    let mut closed = vec![false; rigs.len()];
    for second in 0..=seconds + 1 {
        for (i, (miner, username, rate)) in rigs.iter_mut().enumerate() {
            if closed[i] {
                continue;
            }
            let nonce = (second as u32).wrapping_mul(*rate);
            for share in miner.mine(nonce, second as u32, *rate) {
                match miner.try_submit(username, &share).await {
                    None => {
                        closed[i] = true;
                        break;
                    }
                    Some(answer) if answer["result"] == true => tally[i].0 += 1,
                    Some(_) => tally[i].1 += 1,
                }
            }
        }
        app.clock.advance(ChronoDuration::seconds(1));
    }
    tally
}

/// A fresh session for the seller created by `proof_setup`.
async fn seller_token(app: &TestApp) -> String {
    app.session_for("seller@rigmarket.test").await
}
