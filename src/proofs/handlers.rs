//! Proof endpoints: a seller asks for a proof on a listing, anyone reads its
//! verdict.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::by_unit::{self, UnitResult};
use super::lifecycle;
use super::model::{IssuedProof, ProofPurpose, ProofRequest, ProofRow, ProofStatus, WorkerResult};
use super::queries;
use crate::accounts::AuthUser;
use crate::db::ids::{ListingId, ProofId};
use crate::error::{ApiError, ApiResult};
use crate::http::conditional;
use crate::http::pagination::{page_from, Page, PageParams};
use crate::listings::lifecycle::ListingStatus;
use crate::state::AppState;

pub use super::model::DEFAULT_DURATION_SECS;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"units": 2, "duration_secs": 600}))]
pub struct NewProof {
    /// Units that will mine together (default 1, at most the listing's quantity).
    /// Ignored for a lot sold by serial: every unit still held is expected,
    /// each mining as `<token>.<serial>`, and the claim is the units that connect.
    units: Option<i32>,
    /// Window length once the first share arrives (60-3600, default 600).
    duration_secs: Option<i32>,
}

/// The window a proof runs for, checked.
pub fn proof_duration(requested: Option<i32>) -> Result<i32, ApiError> {
    let duration = requested.unwrap_or(DEFAULT_DURATION_SECS);
    if (60..=3600).contains(&duration) {
        Ok(duration)
    } else {
        Err(ApiError::validation("duration_secs", "must be between 60 and 3600"))
    }
}

/// What a seller points the rigs at. `password` is not a secret: the token in
/// `username` is; keep it private until the proof has run.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f7d9-6c3a-7e85-b1f2-3a4b5c6d7e8f", "listing_id": "0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01",
    "status": "awaiting_shares", "stratum_url": "stratum+tcp://rigmarket.example.com:3333",
    "username": "pX2Zk9vQm1mN2c3b4a5d6e7f8g9h0i1j2k3l4m5n6o7.worker", "password": "x", "share_difficulty": 38417.06,
    "claimed_hashrate_hs": 440000000000000_i64, "duration_secs": 600, "expires_at": "2026-05-05T09:28:00Z"
}))]
pub struct ProofTicket {
    #[schema(value_type = uuid::Uuid)]
    pub id: ProofId,
    #[schema(value_type = uuid::Uuid)]
    pub listing_id: ListingId,
    #[schema(example = "awaiting_shares")]
    pub status: String,
    #[schema(example = "stratum+tcp://stratum.rigmarket.example:3333")]
    pub stratum_url: String,
    /// `<proof token>.<worker>`: replace `worker` with each unit's serial or label.
    #[schema(example = "pX2Zk9vQm1mN2c3b4a5d6e7f8g9h0i1j2k3l4m5n6o7.worker")]
    pub username: String,
    #[schema(example = "x")]
    pub password: String,
    pub share_difficulty: f64,
    pub claimed_hashrate_hs: i64,
    pub duration_secs: i32,
    /// The proof expires if no share arrives by then.
    pub expires_at: DateTime<Utc>,
}

/// A proof and its verdict.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f7d9-6c3a-7e85-b1f2-3a4b5c6d7e8f", "listing_id": "0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01",
    "status": "verified", "claimed_hashrate_hs": 440000000000000_i64, "share_difficulty": 38417.06, "duration_secs": 600,
    "started_at": "2026-05-05T09:00:00Z", "ended_at": "2026-05-05T09:10:00Z", "shares_accepted": 1572,
    "shares_rejected": {"stale_job": 3, "duplicate": 1}, "estimated_hashrate_hs": 432300000000000.0,
    "ci95_low_hs": 411191410515846.0, "ci95_high_hs": 454211283181737.0, "ratio_to_claim": 0.9825,
    "valid_until": "2026-06-04T09:10:00Z",
    "workers": [
        {
            "name": "JYZZB3NBCJHJB0ZK1", "shares_accepted": 397, "estimated_hashrate_hs": 109175000000000.0,
            "ci95_low_hs": 98698254289728.0, "ci95_high_hs": 120461053997097.0
        },
        {
            "name": "JYZZB3NBCJHJB0ZK2", "shares_accepted": 391, "estimated_hashrate_hs": 107525000000000.0,
            "ci95_low_hs": 97129732058689.0, "ci95_high_hs": 118729677244218.0
        },
        {
            "name": "JYZZB3NBCJHJB0ZK3", "shares_accepted": 388, "estimated_hashrate_hs": 106700000000000.0,
            "ci95_low_hs": 96345705465975.0, "ci95_high_hs": 117863755214140.0
        },
        {
            "name": "JYZZB3NBCJHJB0ZK4", "shares_accepted": 396, "estimated_hashrate_hs": 108900000000000.0,
            "ci95_low_hs": 98436790928258.0, "ci95_high_hs": 120172534036318.0
        }
    ]
}))]
pub struct ProofView {
    #[schema(value_type = uuid::Uuid)]
    pub id: ProofId,
    #[schema(value_type = uuid::Uuid)]
    pub listing_id: ListingId,
    #[schema(example = "verified")]
    pub status: String,
    pub claimed_hashrate_hs: i64,
    pub share_difficulty: f64,
    pub duration_secs: i32,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub shares_accepted: i64,
    /// Rejected shares by reason (`low_difficulty`, `duplicate`, `stale_job` ...).
    #[schema(value_type = Object)]
    pub shares_rejected: serde_json::Value,
    pub estimated_hashrate_hs: Option<f64>,
    pub ci95_low_hs: Option<f64>,
    pub ci95_high_hs: Option<f64>,
    pub ratio_to_claim: Option<f64>,
    pub workers: Vec<WorkerResult>,
    /// A decided proof of a lot sold by serial: every expected unit's verdict
    /// (`ok`, `under_90`, `not_connected`), by serial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_verdicts: Option<Vec<UnitResult>>,
    pub valid_until: Option<DateTime<Utc>>,
}

pub async fn view(conn: &mut diesel_async::AsyncPgConnection, proof: ProofRow) -> QueryResult<ProofView> {
    let decided = matches!(proof.status, ProofStatus::Verified | ProofStatus::Failed);
    let workers = if decided { lifecycle::worker_results(conn, &proof).await? } else { Vec::new() };
    let unit_verdicts = if decided { Some(by_unit::results(conn, proof.id).await?) } else { None };
    Ok(ProofView {
        id: proof.id,
        listing_id: proof.listing_id,
        status: proof.status.to_string(),
        claimed_hashrate_hs: proof.claimed_hashrate_hs,
        share_difficulty: proof.share_difficulty,
        duration_secs: proof.duration_secs,
        started_at: proof.started_at,
        ended_at: proof.ended_at,
        shares_accepted: proof.shares_accepted,
        shares_rejected: proof.shares_rejected,
        estimated_hashrate_hs: proof.estimated_hashrate_hs,
        ci95_low_hs: proof.ci95_low_hs,
        ci95_high_hs: proof.ci95_high_hs,
        ratio_to_claim: proof.ratio_to_claim,
        workers,
        unit_verdicts: unit_verdicts.filter(|units| !units.is_empty()),
        valid_until: proof.valid_until,
    })
}

fn stratum_url(state: &AppState) -> String {
    let host = state.config.public_url.host_str().unwrap_or("127.0.0.1").to_string();
    format!("stratum+tcp://{host}:{}", state.stratum_port())
}

/// What the requester points the rigs at, for a freshly issued proof.
pub fn ticket(state: &AppState, issued: IssuedProof) -> ProofTicket {
    ProofTicket {
        id: issued.id,
        listing_id: issued.listing_id,
        status: ProofStatus::AwaitingShares.to_string(),
        stratum_url: stratum_url(state),
        username: format!("{}.worker", issued.token),
        password: "x".into(),
        share_difficulty: issued.share_difficulty,
        claimed_hashrate_hs: issued.claimed_hashrate_hs,
        duration_secs: issued.duration_secs,
        expires_at: issued.expires_at,
    }
}

crate::http::problems::problems!(RequestProofProblems {
    403: email_not_verified,
    404: listing_not_found,
    409: invalid_listing_status,
    422: validation_failed,
});

/// Ask for a hashrate proof on one of your listings.
#[utoipa::path(
    tag = "proofs",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = NewProof,
    responses(
        (status = 201, body = ProofTicket),
        RequestProofProblems,
    )
)]
#[post("/listings/{id}/hashrate-proofs")]
async fn request_proof(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<ListingId>,
    body: web::Json<NewProof>,
) -> ApiResult<HttpResponse> {
    user.require_verified()?;
    let body = body.into_inner();
    let duration = proof_duration(body.duration_secs)?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let issued = conn
        .transaction(async |conn| {
            let listing = crate::listings::queries::lock(conn, *id)
                .await?
                .filter(|l| l.seller_id == user.id())
                .ok_or_else(|| ApiError::not_found("listing_not_found", "You have no listing with this id."))?;
            if !matches!(listing.status(), ListingStatus::Draft | ListingStatus::PendingReview | ListingStatus::Active)
            {
                return Err(ApiError::conflict(
                    "invalid_listing_status",
                    "Proofs run on draft, pending or active listings.",
                ));
            }
            // A lot sold by serial is proven unit by unit: every unit still
            // held is expected, each mining under its serial.
            let serials = crate::units::allocation::held_serials(conn, listing.id).await?;
            if listing.sold_by_serial() && serials.is_empty() {
                return Err(ApiError::conflict("invalid_listing_status", "No unit of this lot is left to prove."));
            }
            let units = if serials.is_empty() { body.units.unwrap_or(1) } else { serials.len() as i32 };
            if serials.is_empty() && !(1..=listing.quantity).contains(&units) {
                return Err(ApiError::validation("units", format!("must be between 1 and {}", listing.quantity)));
            }
            let claimed = listing.model_hashrate_hs.saturating_mul(i64::from(units));
            let request = ProofRequest {
                listing_id: listing.id,
                requested_by: user.id(),
                purpose: ProofPurpose::Listing,
                units,
                claimed_hashrate_hs: claimed,
                duration_secs: duration,
                serials,
            };
            Ok::<_, ApiError>(lifecycle::issue(conn, &request, now).await?)
        })
        .await?;
    Ok(HttpResponse::Created().json(ticket(&state, issued)))
}

crate::http::problems::problems!(GetProofProblems { 404: proof_not_found });

/// A proof, its verdict and per-worker results (public).
#[utoipa::path(
    tag = "proofs",
    params(("id" = Uuid, Path, description = "Proof id"), ("If-None-Match" = Option<String>, Header, description = "ETags of copies the client holds; 304 when one is current")),
    responses(
        (status = 200, body = ProofView, headers(("ETag" = String), ("Cache-Control" = String, description = "public, no-cache"))),
        (status = 304, description = "Not modified: If-None-Match names the current ETag", headers(("ETag" = String))),
        GetProofProblems,
    )
)]
#[get("/hashrate-proofs/{id}")]
async fn get_proof(state: web::Data<AppState>, req: HttpRequest, id: web::Path<ProofId>) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let proof = queries::find(&mut conn, *id)
        .await?
        .ok_or_else(|| ApiError::not_found("proof_not_found", "No hashrate proof has this id."))?;
    // Proofs are public, and change while their window runs.
    conditional::respond_json(&req, &view(&mut conn, proof).await?, conditional::PUBLIC_REVALIDATE)
}

crate::http::problems::problems!(ListingProofsProblems { 404: listing_not_found });

/// Every proof of a listing, newest first.
#[utoipa::path(
    tag = "proofs",
    params(("id" = Uuid, Path, description = "Listing id"), PageParams),
    responses(
        (status = 200, body = inline(Page<ProofView>)),
        ListingProofsProblems,
    )
)]
#[get("/listings/{id}/hashrate-proofs")]
async fn listing_proofs(
    state: web::Data<AppState>,
    viewer: Option<AuthUser>,
    id: web::Path<ListingId>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<ProofView>>> {
    let limit = page.limit()?;
    let before = page.cursor()?;
    let mut conn = state.pool.get().await?;
    let listing = crate::listings::find_visible(&mut conn, *id, viewer.as_ref()).await?;
    let rows = queries::of_listing(&mut conn, listing.id, before, limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |proof| (proof.created_at, proof.id));
    let mut items = Vec::with_capacity(rows.len());
    for proof in rows {
        items.push(view(&mut conn, proof).await?);
    }
    Ok(web::Json(Page { items, next_cursor }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(request_proof).service(get_proof).service(listing_proofs);
}
