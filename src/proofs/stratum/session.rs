//! One miner connection: the Stratum V1 conversation (configure, subscribe,
//! authorize, notify, submit) and share checks that need session state (job
//! known and current, worker authorized, duplicates via the database).

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::context::Context;
use super::protocol::{self, codes, Request};
use super::work::{self, EXTRANONCE2_BYTES};
use crate::db::ids::ProofId;
use crate::proofs::by_unit::{self, WorkerCheck};
use crate::proofs::intake::{self, Credit, Intake};
use crate::proofs::queries;
use crate::proofs::share::{Difficulty, Job, ShareReject, Submission};
use crate::proofs::share_writer::ShareWriter;
use crate::state::AppState;

/// Malformed lines in a row after which the connection is closed.
pub const MAX_CONSECUTIVE_ERRORS: u32 = 10;
/// Jobs kept per connection: the current one and a few before it, for shares
/// already in flight when a new job was sent.
const JOBS_KEPT: usize = 3;

#[derive(Debug, Clone)]
struct Authorized {
    proof_id: ProofId,
    username: String,
    worker: String,
    /// The proof is by serial and `worker` is none of its units: every share is
    /// rejected as `unknown_worker` (and counted), which a miner's log shows.
    unknown_worker: bool,
    difficulty: Difficulty,
    challenge: Vec<u8>,
}

pub struct Session {
    extranonce1: [u8; 4],
    subscribed: bool,
    version_mask: u32,
    authorized: Option<Authorized>,
    jobs: VecDeque<Job>,
    jobs_sent: u64,
    consecutive_errors: u32,
    /// When the authorized proof's window ends, once it has started.
    window_ends_at: Option<DateTime<Utc>>,
    /// The proof stopped taking shares: the connection closes.
    finished: bool,
}

impl Session {
    pub fn new(extranonce1: [u8; 4]) -> Self {
        Self {
            extranonce1,
            subscribed: false,
            version_mask: 0,
            authorized: None,
            jobs: VecDeque::new(),
            jobs_sent: 0,
            consecutive_errors: 0,
            window_ends_at: None,
            finished: false,
        }
    }

    pub fn should_close(&self) -> bool {
        self.finished || self.consecutive_errors >= MAX_CONSECUTIVE_ERRORS
    }

    /// Real time until the proof's window ends by the service's clock, once known.
    pub fn window_ends_in(&self, state: &AppState) -> Option<std::time::Duration> {
        let ends_at = self.window_ends_at.filter(|_| self.authorized.is_some())?;
        Some((ends_at - state.clock.now()).to_std().unwrap_or_default())
    }

    pub fn window_ended(&self, state: &AppState) -> bool {
        self.authorized.is_some() && self.window_ends_at.is_some_and(|end| state.clock.now() >= end)
    }

    /// Ready for work: both subscribed and authorized.
    pub fn is_mining(&self) -> bool {
        self.subscribed && self.authorized.is_some()
    }

    pub fn count_garbage(&mut self) -> String {
        self.consecutive_errors += 1;
        protocol::error(&Value::Null, codes::OTHER, "Malformed request")
    }

    /// Answers one line; returns the lines to send back, in order.
    pub async fn handle(&mut self, context: &Context, line: &str) -> Vec<String> {
        let state = &context.state;
        let request = match protocol::parse_line(line) {
            Ok(request) => request,
            Err(_) => return vec![self.count_garbage()],
        };
        self.consecutive_errors = 0;
        match request.method.as_str() {
            "mining.configure" => vec![self.configure(&request)],
            "mining.subscribe" => {
                self.subscribed = true;
                let id = hex::encode(self.extranonce1);
                let result = json!([
                    [["mining.set_difficulty", id], ["mining.notify", id]],
                    hex::encode(self.extranonce1),
                    EXTRANONCE2_BYTES
                ]);
                let mut out = vec![protocol::ok(&request.id, result)];
                out.extend(self.start_work(state));
                out
            }
            "mining.authorize" => self.authorize(state, &request).await,
            "mining.submit" => vec![self.submit(context, &request).await],
            // Acknowledged; during a proof the difficulty is the server's choice.
            "mining.suggest_difficulty" | "mining.extranonce.subscribe" => vec![protocol::ok(&request.id, json!(true))],
            _ => vec![protocol::error(&request.id, codes::OTHER, "Unknown method")],
        }
    }

    fn configure(&mut self, request: &Request) -> String {
        match protocol::negotiate_version_rolling(&request.params) {
            Some(mask) => {
                self.version_mask = mask;
                protocol::ok(
                    &request.id,
                    json!({ "version-rolling": true, "version-rolling.mask": format!("{mask:08x}") }),
                )
            }
            None => protocol::ok(&request.id, json!({})),
        }
    }

    async fn authorize(&mut self, state: &AppState, request: &Request) -> Vec<String> {
        let Some(username) = protocol::param_str(&request.params, 0) else {
            return vec![protocol::error(&request.id, codes::OTHER, "Expected [username, password]")];
        };
        let (token, worker) = username.split_once('.').unwrap_or((username, "default"));
        let worker = if worker.is_empty() { "default" } else { worker };
        if worker.len() > 64 || token.is_empty() {
            return vec![protocol::ok(&request.id, json!(false))];
        }
        let found = match state.pool.get().await {
            Ok(mut conn) => match queries::find_by_token(&mut conn, token).await.ok().flatten() {
                Some(proof) => by_unit::check_workers(&mut conn, proof.id, &[worker])
                    .await
                    .ok()
                    .and_then(|mut checks| checks.pop())
                    .map(|check| (proof, check)),
                None => None,
            },
            Err(_) => None,
        };
        let Some((proof, check)) = found.filter(|(p, _)| p.is_open(state.clock.now())) else {
            return vec![protocol::ok(&request.id, json!(false))];
        };
        let Ok(difficulty) = Difficulty::new(proof.share_difficulty) else {
            return vec![protocol::ok(&request.id, json!(false))];
        };
        self.window_ends_at = proof.ends_at;
        self.authorized = Some(Authorized {
            proof_id: proof.id,
            username: username.to_string(),
            worker: match &check {
                WorkerCheck::Unit(serial) => serial.clone(),
                _ => worker.to_string(),
            },
            unknown_worker: check == WorkerCheck::Unknown,
            difficulty,
            challenge: proof.challenge,
        });
        let mut out = vec![protocol::ok(&request.id, json!(true))];
        out.extend(self.start_work(state));
        out
    }

    /// The difficulty and a first job, once the miner is subscribed and authorized.
    fn start_work(&mut self, state: &AppState) -> Vec<String> {
        let Some(authorized) = self.authorized.clone().filter(|_| self.subscribed) else {
            return Vec::new();
        };
        vec![
            protocol::notification("mining.set_difficulty", json!([authorized.difficulty.value()])),
            self.new_job(state),
        ]
    }

    /// A fresh job (`clean_jobs`: earlier ones are no longer worth mining).
    pub fn new_job(&mut self, state: &AppState) -> String {
        let Some(authorized) = &self.authorized else {
            return String::new();
        };
        self.jobs_sent += 1;
        let ntime = state.clock.now().timestamp().clamp(0, i64::from(u32::MAX)) as u32;
        let job = work::new_job(format!("{:x}", self.jobs_sent), &authorized.challenge, ntime);
        let line = protocol::notification("mining.notify", work::notify_params(&job, true));
        self.jobs.push_back(job);
        while self.jobs.len() > JOBS_KEPT {
            self.jobs.pop_front();
        }
        line
    }

    async fn submit(&mut self, context: &Context, request: &Request) -> String {
        let (state, writer) = (&context.state, &context.writer);
        let id = &request.id;
        if !self.subscribed {
            return protocol::error(id, codes::NOT_SUBSCRIBED, "Not subscribed");
        }
        let Some(authorized) = self.authorized.clone() else {
            return protocol::error(id, codes::UNAUTHORIZED, "Unauthorized worker");
        };
        if self.window_ended(state) {
            // Mined after the window: not counted either way; the session ends.
            self.finished = true;
            return protocol::error(id, codes::UNAUTHORIZED, "The proof's window has ended");
        }
        let params = &request.params;
        if !(5..=6).contains(&params.len()) {
            return self.reject(writer, &authorized, id, ShareReject::Malformed(malformed("params"))).await;
        }
        if protocol::param_str(params, 0) != Some(authorized.username.as_str()) {
            return protocol::error(id, codes::UNAUTHORIZED, "Unauthorized worker");
        }
        if authorized.unknown_worker {
            return self.reject(writer, &authorized, id, ShareReject::UnknownWorker).await;
        }
        let field = |i| protocol::param_str(params, i).unwrap_or("");
        let Some(job) = self.jobs.iter().find(|j| j.job_id == field(1)).cloned() else {
            return self.reject(writer, &authorized, id, ShareReject::StaleJob).await;
        };
        let version_bits = params.get(5).and_then(Value::as_str);
        let submission = match Submission::from_stratum(field(2), field(3), field(4), version_bits) {
            Ok(submission) => submission,
            Err(reject) => return self.reject(writer, &authorized, id, reject).await,
        };
        let credit = Credit {
            proof_id: authorized.proof_id,
            worker: authorized.worker.clone(),
            difficulty: authorized.difficulty,
        };
        let taken = intake::take_share(
            writer,
            &credit,
            &job,
            &self.extranonce1,
            EXTRANONCE2_BYTES,
            &submission,
            self.version_mask,
        )
        .await;
        match taken {
            Intake::Accepted { window_ends_at } => {
                self.window_ends_at = window_ends_at;
                protocol::ok(id, json!(true))
            }
            Intake::Rejected(reason) => protocol::error(id, reason.stratum_error_code(), reason.code()),
            Intake::Closed => {
                // Answered, then the connection closes (see `should_close`).
                self.finished = true;
                protocol::error(id, codes::UNAUTHORIZED, "The proof is no longer taking shares")
            }
            Intake::Unavailable => protocol::error(id, codes::OTHER, "Temporarily unable to record shares"),
        }
    }

    async fn reject(&self, writer: &ShareWriter, authorized: &Authorized, id: &Value, reason: ShareReject) -> String {
        intake::reject(writer, authorized.proof_id, reason.clone()).await;
        protocol::error(id, reason.stratum_error_code(), reason.code())
    }
}

fn malformed(field: &'static str) -> crate::proofs::share::HexFieldError {
    crate::proofs::share::HexFieldError { field, source: hex::FromHexError::InvalidStringLength }
}
