//! The HTTP route for rigs that cannot reach the stratum port: a relay fetches
//! jobs and posts shares with the proof token as its bearer credential. Shares
//! are checked by the same intake as stratum submissions and committed by the
//! same writer (group commit).

use actix_web::{get, post, web, HttpRequest};
use chrono::Duration;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::by_unit::WorkerCheck;
use super::intake::{self, Credit, Intake};
use super::model::ProofRow;
use super::queries;
use super::share::{Difficulty, Job, ShareReject, Submission};
use super::share_writer::ShareWriter;
use super::stratum::protocol::SERVER_VERSION_MASK;
use super::stratum::work::{self, EXTRANONCE2_BYTES};
use crate::accounts::secret_token;
use crate::db::ids::ProofId;
use crate::db::schema::relay_jobs;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long a relay job accepts shares.
const RELAY_JOB_TTL: Duration = Duration::minutes(5);
const MAX_SHARES_PER_POST: usize = 1000;

/// The proof the bearer token opens, if it is still taking shares.
async fn open_proof(state: &AppState, req: &HttpRequest, id: ProofId) -> ApiResult<ProofRow> {
    let token = crate::http::bearer_token(req).ok_or_else(|| {
        ApiError::unauthorized("authentication_required", "Send `Authorization: Bearer <proof token>`.")
    })?;
    let mut conn = state.pool.get().await?;
    let proof = queries::find(&mut conn, id).await?.filter(|p| p.token_hash == secret_token::digest(&token));
    let proof =
        proof.ok_or_else(|| ApiError::unauthorized("invalid_proof_token", "The token does not open this proof."))?;
    if !proof.is_open(state.clock.now()) {
        return Err(ApiError::conflict("proof_closed", "This proof no longer takes shares."));
    }
    Ok(proof)
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "job_id": "6a1f", "extranonce1": "5f3c09a2", "extranonce2_size": 8,
    "prevhash": "4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000",
    "coinb1": "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff2003e8a50d",
    "coinb2": "2f7269676d61726b65742f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",
    "merkle_branch": [], "version": "20000000", "nbits": "17034219", "ntime": "69f9b2a0", "share_difficulty": 38417.06,
    "version_mask": "1fffe000"
}))]
pub struct RelayJob {
    pub job_id: String,
    pub extranonce1: String,
    pub extranonce2_size: usize,
    pub prevhash: String,
    pub coinb1: String,
    pub coinb2: String,
    pub merkle_branch: Vec<String>,
    pub version: String,
    pub nbits: String,
    pub ntime: String,
    pub share_difficulty: f64,
    /// Version bits the relay may roll.
    pub version_mask: String,
}

crate::http::problems::problems!(RelayJobProblems {
    401: authentication_required | invalid_proof_token,
    409: proof_closed,
});

/// A job to mine for a proof (relay; proof token as bearer). Valid 5 minutes.
#[utoipa::path(
    tag = "proofs",
    params(("id" = Uuid, Path, description = "Proof id")),
    responses(
        (status = 200, body = RelayJob),
        RelayJobProblems,
    )
)]
#[get("/hashrate-proofs/{id}/job")]
async fn relay_job(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<ProofId>,
) -> ApiResult<web::Json<RelayJob>> {
    let proof = open_proof(&state, &req, *id).await?;
    let now = state.clock.now();
    let mut extranonce1 = [0u8; 4];
    rand::rng().fill_bytes(&mut extranonce1);
    let job_id = Uuid::new_v4().simple().to_string()[..16].to_string();
    let job = work::new_job(job_id.clone(), &proof.challenge, now.timestamp().clamp(0, i64::from(u32::MAX)) as u32);
    let mut conn = state.pool.get().await?;
    diesel::insert_into(relay_jobs::table)
        .values((
            relay_jobs::proof_id.eq(proof.id),
            relay_jobs::job_id.eq(&job_id),
            relay_jobs::extranonce1.eq(extranonce1.to_vec()),
            relay_jobs::prevhash.eq(job.prevhash.to_vec()),
            relay_jobs::ntime.eq(i64::from(job.ntime)),
            relay_jobs::created_at.eq(now),
        ))
        .execute(&mut conn)
        .await?;
    let notify = work::notify_params(&job, true);
    let text = |i: usize| notify[i].as_str().unwrap_or_default().to_string();
    Ok(web::Json(RelayJob {
        job_id,
        extranonce1: hex::encode(extranonce1),
        extranonce2_size: EXTRANONCE2_BYTES,
        prevhash: text(1),
        coinb1: text(2),
        coinb2: text(3),
        merkle_branch: Vec::new(),
        version: text(5),
        nbits: text(6),
        ntime: text(7),
        share_difficulty: proof.share_difficulty,
        version_mask: format!("{SERVER_VERSION_MASK:08x}"),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelayShare {
    #[schema(example = "SN-0001")]
    worker: String,
    job_id: String,
    extranonce1: String,
    #[schema(example = "00000003")]
    extranonce2: String,
    #[schema(example = "60b5b6c0")]
    ntime: String,
    #[schema(example = "1a2b3c4d")]
    nonce: String,
    version_bits: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"index": 2, "accepted": false, "reason": "duplicate"}))]
pub struct ShareResult {
    pub index: usize,
    pub accepted: bool,
    /// The reject reason code when not accepted.
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "accepted": 2, "rejected": 1,
    "results": [
        {"index": 0, "accepted": true, "reason": null}, {"index": 1, "accepted": true, "reason": null},
        {"index": 2, "accepted": false, "reason": "duplicate"}
    ]
}))]
pub struct RelayReceipt {
    pub accepted: usize,
    pub rejected: usize,
    pub results: Vec<ShareResult>,
}

crate::http::problems::problems!(RelaySharesProblems {
    401: invalid_proof_token | authentication_required,
    409: proof_closed,
    422: validation_failed,
});

/// Submit shares mined on relay jobs (proof token as bearer; up to 1,000 per call).
#[utoipa::path(
    tag = "proofs",
    params(("id" = Uuid, Path, description = "Proof id")),
    request_body = Vec<RelayShare>,
    responses(
        (status = 200, body = RelayReceipt),
        RelaySharesProblems,
    )
)]
#[post("/hashrate-proofs/{id}/shares")]
async fn relay_shares(
    state: web::Data<AppState>,
    writer: web::Data<ShareWriter>,
    req: HttpRequest,
    id: web::Path<ProofId>,
    body: web::Json<Vec<RelayShare>>,
) -> ApiResult<web::Json<RelayReceipt>> {
    let shares = body.into_inner();
    if shares.is_empty() || shares.len() > MAX_SHARES_PER_POST {
        return Err(ApiError::validation("shares", format!("send 1 to {MAX_SHARES_PER_POST} shares")));
    }
    let proof = open_proof(&state, &req, *id).await?;
    let difficulty = Difficulty::new(proof.share_difficulty).map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    let now = state.clock.now();
    let jobs = stored_jobs(&state, proof.id, &shares).await?;
    let names: Vec<&str> = shares.iter().map(|s| s.worker.as_str()).collect();
    let workers = crate::proofs::by_unit::check_workers(&mut *state.pool.get().await?, proof.id, &names).await?;
    // All of a post's shares go to the writer together (one batch, usually),
    // queued in the order they were posted: of two copies the first is accepted.
    let outcomes = futures_util::future::join_all(shares.iter().zip(&workers).map(|(share, worker)| {
        take_relay_share(&writer, &proof, difficulty, share, worker, jobs.get(&share.job_id), now)
    }))
    .await;
    let mut results = Vec::with_capacity(shares.len());
    for (index, outcome) in outcomes.into_iter().enumerate() {
        results.push(match outcome {
            Intake::Accepted { .. } => ShareResult { index, accepted: true, reason: None },
            Intake::Rejected(reason) => ShareResult { index, accepted: false, reason: Some(reason.code().into()) },
            Intake::Closed => ShareResult { index, accepted: false, reason: Some("proof_closed".into()) },
            Intake::Unavailable => return Err(ApiError::Unavailable("share intake".into())),
        });
    }
    let accepted = results.iter().filter(|r| r.accepted).count();
    Ok(web::Json(RelayReceipt { accepted, rejected: results.len() - accepted, results }))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = relay_jobs)]
struct StoredJob {
    job_id: String,
    extranonce1: Vec<u8>,
    prevhash: Vec<u8>,
    ntime: i64,
    created_at: chrono::DateTime<chrono::Utc>,
}

/// The relay jobs the post's shares name, by job id.
async fn stored_jobs(
    state: &AppState,
    proof_id: ProofId,
    shares: &[RelayShare],
) -> ApiResult<std::collections::HashMap<String, StoredJob>> {
    let job_ids: std::collections::BTreeSet<&str> = shares.iter().map(|s| s.job_id.as_str()).collect();
    let mut conn = state.pool.get().await?;
    let stored: Vec<StoredJob> = relay_jobs::table
        .filter(relay_jobs::proof_id.eq(proof_id))
        .filter(relay_jobs::job_id.eq_any(job_ids))
        .select(StoredJob::as_select())
        .load(&mut conn)
        .await?;
    Ok(stored.into_iter().map(|job| (job.job_id.clone(), job)).collect())
}

/// Checks one posted share against its stored job; no await before the writer,
/// so shares reach it in the order they were posted.
async fn take_relay_share(
    writer: &ShareWriter,
    proof: &ProofRow,
    difficulty: Difficulty,
    share: &RelayShare,
    worker: &WorkerCheck,
    stored: Option<&StoredJob>,
    now: chrono::DateTime<chrono::Utc>,
) -> Intake {
    let worker = match worker {
        WorkerCheck::Unknown => return intake::reject(writer, proof.id, ShareReject::UnknownWorker).await,
        WorkerCheck::Unit(serial) => serial.clone(),
        WorkerCheck::AnyName => {
            let label: String = share.worker.chars().take(64).collect();
            if label.is_empty() {
                "default".into()
            } else {
                label
            }
        }
    };
    let fresh = stored.filter(|job| {
        job.created_at > now - RELAY_JOB_TTL
            && hex::decode(&share.extranonce1).is_ok_and(|given| given == job.extranonce1)
    });
    let Some(StoredJob { extranonce1, prevhash, ntime, .. }) = fresh else {
        return intake::reject(writer, proof.id, ShareReject::StaleJob).await;
    };
    let submission =
        match Submission::from_stratum(&share.extranonce2, &share.ntime, &share.nonce, share.version_bits.as_deref()) {
            Ok(submission) => submission,
            Err(reason) => return intake::reject(writer, proof.id, reason).await,
        };
    let (coinb1, coinb2) = work::coinbase_parts(&proof.challenge);
    let job = Job {
        job_id: share.job_id.clone(),
        prevhash: prevhash.clone().try_into().unwrap_or([0u8; 32]),
        coinb1,
        coinb2,
        merkle_branch: Vec::new(),
        version: work::JOB_VERSION,
        nbits: work::JOB_NBITS,
        ntime: *ntime as u32,
    };
    let credit = Credit { proof_id: proof.id, worker, difficulty };
    intake::take_share(writer, &credit, &job, extranonce1, EXTRANONCE2_BYTES, &submission, SERVER_VERSION_MASK).await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(relay_job).service(relay_shares);
}
