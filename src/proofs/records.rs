//! Proof records in PostgreSQL: creation, the authorisation lookup by token,
//! accepted and rejected shares, and the verdict. Every share is committed
//! before the miner hears "accepted", so a restart loses at most the line in
//! flight.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::estimate::{verdict, ProofStatus as VerdictStatus, DEFAULT_MIN_SHARES, VERIFY_FRACTION_OF_CLAIM};
use super::share::Difficulty;
use crate::db::schema::{hashrate_proofs, proof_shares};
use crate::listings::{LatestProof, LatestProofs, ProofSummary};

/// The smallest share difficulty the server hands out: it bounds the share rate
/// (and so the work per proof) whatever hashrate is claimed.
pub const MIN_SHARE_DIFFICULTY: f64 = 1e-9;
pub const DEFAULT_DURATION_SECS: i32 = 600;

/// No share within this long after creation ends a proof as `expired`.
pub const CONNECT_WINDOW: Duration = Duration::minutes(30);
/// A verified proof speaks for the listing this long.
pub const VALIDITY: Duration = Duration::days(30);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = hashrate_proofs)]
pub struct ProofRow {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub requested_by: Uuid,
    pub purpose: String,
    pub token_hash: Vec<u8>,
    pub status: String,
    pub units: i32,
    pub claimed_hashrate_hs: i64,
    pub share_difficulty: f64,
    pub duration_secs: i32,
    pub challenge: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub connect_deadline: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub shares_accepted: i64,
    pub shares_rejected: serde_json::Value,
    pub estimated_hashrate_hs: Option<f64>,
    pub ci95_low_hs: Option<f64>,
    pub ci95_high_hs: Option<f64>,
    pub ratio_to_claim: Option<f64>,
    pub valid_until: Option<DateTime<Utc>>,
    pub order_id: Option<Uuid>,
}

/// Why a proof runs: to back a listing, or to check a delivery during an order's
/// inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofPurpose {
    Listing,
    Delivery { order_id: Uuid },
}

impl ProofPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Listing => "listing",
            Self::Delivery { .. } => "delivery",
        }
    }
}

pub struct ProofRequest {
    pub listing_id: Uuid,
    pub requested_by: Uuid,
    pub purpose: ProofPurpose,
    pub units: i32,
    pub claimed_hashrate_hs: i64,
    pub duration_secs: i32,
}

/// A new proof and the token (shown once) its miners authorize with.
pub struct IssuedProof {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub token: String,
    pub share_difficulty: f64,
    pub claimed_hashrate_hs: i64,
    pub duration_secs: i32,
    pub expires_at: DateTime<Utc>,
}

/// Creates a proof with a fresh challenge and a share difficulty sized for the
/// claim, and schedules its expiry if nothing connects.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    request: &ProofRequest,
    now: DateTime<Utc>,
) -> anyhow::Result<IssuedProof> {
    use rand::RngCore;
    let difficulty = super::estimate::choose_share_difficulty(
        request.claimed_hashrate_hs as f64,
        f64::from(request.duration_secs),
        super::estimate::DEFAULT_TARGET_SHARES,
        Difficulty::new(MIN_SHARE_DIFFICULTY)?,
    )?;
    let token = crate::accounts::secret_token::issue("p");
    let mut challenge = vec![0u8; 16];
    rand::rng().fill_bytes(&mut challenge);
    let id = Uuid::now_v7();
    let deadline = now + CONNECT_WINDOW;
    let order_id = match request.purpose {
        ProofPurpose::Delivery { order_id } => Some(order_id),
        ProofPurpose::Listing => None,
    };
    diesel::insert_into(hashrate_proofs::table)
        .values((
            hashrate_proofs::id.eq(id),
            hashrate_proofs::listing_id.eq(request.listing_id),
            hashrate_proofs::requested_by.eq(request.requested_by),
            hashrate_proofs::purpose.eq(request.purpose.as_str()),
            hashrate_proofs::order_id.eq(order_id),
            hashrate_proofs::token_hash.eq(&token.digest),
            hashrate_proofs::status.eq("awaiting_shares"),
            hashrate_proofs::units.eq(request.units),
            hashrate_proofs::claimed_hashrate_hs.eq(request.claimed_hashrate_hs),
            hashrate_proofs::share_difficulty.eq(difficulty.value()),
            hashrate_proofs::duration_secs.eq(request.duration_secs),
            hashrate_proofs::challenge.eq(&challenge),
            hashrate_proofs::created_at.eq(now),
            hashrate_proofs::connect_deadline.eq(deadline),
        ))
        .execute(conn)
        .await?;
    crate::jobs::enqueue(conn, &super::jobs::ExpireProof { proof_id: id }, deadline).await?;
    Ok(IssuedProof {
        id,
        listing_id: request.listing_id,
        token: token.plaintext,
        share_difficulty: difficulty.value(),
        claimed_hashrate_hs: request.claimed_hashrate_hs,
        duration_secs: request.duration_secs,
        expires_at: deadline,
    })
}

/// What a listing shows of its latest proof.

impl ProofRow {
    pub fn summary(&self) -> ProofSummary {
        ProofSummary {
            id: self.id,
            status: self.status.clone(),
            claimed_hashrate_hs: self.claimed_hashrate_hs,
            estimated_hashrate_hs: self.estimated_hashrate_hs,
            ci95_low_hs: self.ci95_low_hs,
            ci95_high_hs: self.ci95_high_hs,
            ended_at: self.ended_at,
            valid_until: self.valid_until,
        }
    }

    /// Still taking shares at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        match self.status.as_str() {
            "awaiting_shares" => now < self.connect_deadline,
            "collecting" => self.ends_at.is_some_and(|end| now < end),
            _ => false,
        }
    }
}

/// When each of the order's undecided delivery proofs is decided: its window's
/// end once it collects, else its connect deadline.
pub async fn undecided_delivery_proofs(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
) -> QueryResult<Vec<DateTime<Utc>>> {
    let proofs: Vec<ProofRow> = hashrate_proofs::table
        .filter(hashrate_proofs::order_id.eq(order_id))
        .filter(hashrate_proofs::status.eq_any(["awaiting_shares", "collecting"]))
        .select(ProofRow::as_select())
        .load(conn)
        .await?;
    Ok(proofs
        .iter()
        .map(|p| match (p.status.as_str(), p.ends_at) {
            ("collecting", Some(ends)) => ends,
            _ => p.connect_deadline,
        })
        .collect())
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ProofRow>> {
    hashrate_proofs::table.find(id).select(ProofRow::as_select()).first(conn).await.optional()
}

pub async fn find_by_token(conn: &mut AsyncPgConnection, token: &str) -> QueryResult<Option<ProofRow>> {
    hashrate_proofs::table
        .filter(hashrate_proofs::token_hash.eq(crate::accounts::secret_token::digest(token)))
        .select(ProofRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn of_listing(conn: &mut AsyncPgConnection, listing_id: Uuid) -> QueryResult<Vec<ProofRow>> {
    hashrate_proofs::table
        .filter(hashrate_proofs::listing_id.eq(listing_id))
        .order(hashrate_proofs::created_at.desc())
        .limit(100)
        .select(ProofRow::as_select())
        .load(conn)
        .await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareOutcome {
    Accepted,
    Duplicate,
    /// The proof stopped taking shares (window over, expired, decided).
    Closed,
}

/// Records an accepted share; the first one starts the proof's window and
/// schedules its verdict.
pub async fn record_share(
    conn: &mut AsyncPgConnection,
    proof_id: Uuid,
    worker: &str,
    header_hash: &[u8],
    now: DateTime<Utc>,
) -> anyhow::Result<ShareOutcome> {
    conn.transaction(async |conn| {
        let proof: ProofRow =
            hashrate_proofs::table.find(proof_id).select(ProofRow::as_select()).for_update().first(conn).await?;
        if !proof.is_open(now) {
            return Ok(ShareOutcome::Closed);
        }
        let inserted = diesel::insert_into(proof_shares::table)
            .values((
                proof_shares::proof_id.eq(proof_id),
                proof_shares::header_hash.eq(header_hash),
                proof_shares::worker.eq(worker),
                proof_shares::accepted_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if inserted == 0 {
            return Ok(ShareOutcome::Duplicate);
        }
        if proof.started_at.is_none() {
            let ends_at = now + Duration::seconds(i64::from(proof.duration_secs));
            diesel::update(hashrate_proofs::table.find(proof_id))
                .set((
                    hashrate_proofs::status.eq("collecting"),
                    hashrate_proofs::started_at.eq(now),
                    hashrate_proofs::ends_at.eq(ends_at),
                    hashrate_proofs::shares_accepted.eq(1),
                ))
                .execute(conn)
                .await?;
            crate::jobs::enqueue(conn, &super::jobs::FinalizeProof { proof_id }, ends_at).await?;
        } else {
            diesel::update(hashrate_proofs::table.find(proof_id))
                .set(hashrate_proofs::shares_accepted.eq(hashrate_proofs::shares_accepted + 1))
                .execute(conn)
                .await?;
        }
        Ok(ShareOutcome::Accepted)
    })
    .await
}

/// Counts a rejected share under its reason code.
pub async fn record_reject(conn: &mut AsyncPgConnection, proof_id: Uuid, reason: &str) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE hashrate_proofs SET shares_rejected = shares_rejected || \
         jsonb_build_object($1::text, COALESCE((shares_rejected ->> $1::text)::bigint, 0) + 1) WHERE id = $2",
    )
    .bind::<Text, _>(reason)
    .bind::<diesel::sql_types::Uuid, _>(proof_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct WorkerResult {
    pub name: String,
    pub shares_accepted: i64,
    pub estimated_hashrate_hs: f64,
    pub ci95_low_hs: f64,
    pub ci95_high_hs: f64,
}

/// Per-worker estimates over the proof's window.
pub async fn worker_results(conn: &mut AsyncPgConnection, proof: &ProofRow) -> QueryResult<Vec<WorkerResult>> {
    let counts: Vec<(String, i64)> = proof_shares::table
        .filter(proof_shares::proof_id.eq(proof.id))
        .group_by(proof_shares::worker)
        .select((proof_shares::worker, diesel::dsl::count_star()))
        .order(proof_shares::worker)
        .load(conn)
        .await?;
    let Ok(difficulty) = Difficulty::new(proof.share_difficulty) else {
        return Ok(Vec::new());
    };
    let seconds = f64::from(proof.duration_secs);
    Ok(counts
        .into_iter()
        .map(|(name, shares)| {
            let (low, high) = super::estimate::hashrate_interval(
                shares as u64,
                difficulty,
                seconds,
                super::estimate::Confidence::NINETY_FIVE,
            );
            WorkerResult {
                name,
                shares_accepted: shares,
                estimated_hashrate_hs: super::estimate::estimate_hashrate(shares as u64, difficulty, seconds),
                ci95_low_hs: low,
                ci95_high_hs: high,
            }
        })
        .collect())
}

/// A delivery proof that measured the rigs below what was sold: evidence for
/// the order's dispute (the composition root hands it to the orders).
#[derive(Debug, Clone)]
pub struct DeliveryShortfall {
    pub order_id: Uuid,
    pub proof_id: Uuid,
    /// The measurement in words, for the dispute's evidence.
    pub summary: String,
}

/// Decides a proof whose window has ended (a job at `ends_at`), records the
/// verdict, marks the listing verified when it passed, and tells the seller.
/// Returns the shortfall when a delivery proof fell short of the claim.
pub async fn finalize(
    conn: &mut AsyncPgConnection,
    proof_id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<DeliveryShortfall>> {
    let proof: ProofRow =
        hashrate_proofs::table.find(proof_id).select(ProofRow::as_select()).for_update().first(conn).await?;
    if proof.status != "collecting" {
        return Ok(None);
    }
    let difficulty = Difficulty::new(proof.share_difficulty)?;
    let result = verdict(
        proof.shares_accepted as u64,
        difficulty,
        f64::from(proof.duration_secs),
        proof.claimed_hashrate_hs as f64,
        DEFAULT_MIN_SHARES,
    )?;
    let verified = result.status == VerdictStatus::Verified;
    let ended_at = proof.ends_at.unwrap_or(now);
    diesel::update(hashrate_proofs::table.find(proof.id))
        .set((
            hashrate_proofs::status.eq(if verified { "verified" } else { "failed" }),
            hashrate_proofs::ended_at.eq(ended_at),
            hashrate_proofs::estimated_hashrate_hs.eq(result.estimate),
            hashrate_proofs::ci95_low_hs.eq(result.ci95_low),
            hashrate_proofs::ci95_high_hs.eq(result.ci95_high),
            hashrate_proofs::ratio_to_claim.eq(result.ratio_to_claim),
            hashrate_proofs::valid_until.eq(verified.then_some(ended_at + VALIDITY)),
        ))
        .execute(conn)
        .await?;
    if proof.purpose == "listing" {
        // The listing is "verified" exactly while its latest verified proof is valid.
        let per_unit = result.estimate / f64::from(proof.units.max(1));
        let verification = crate::listings::HashrateVerification {
            until: verified.then_some(ended_at + VALIDITY),
            unit_hashrate_hs: (verified && per_unit.is_finite()).then(|| per_unit.round() as i64),
        };
        crate::listings::record_hashrate_verification(conn, proof.listing_id, verification).await?;
    }
    let email = crate::accounts::email_of(conn, proof.requested_by).await?;
    let template = super::emails::ProofVerdict {
        verified,
        estimated_ths: result.estimate / 1e12,
        low_ths: result.ci95_low / 1e12,
        high_ths: result.ci95_high / 1e12,
        claimed_ths: proof.claimed_hashrate_hs as f64 / 1e12,
        shares: proof.shares_accepted,
    };
    crate::mail::enqueue(conn, &email, &template, now).await?;
    tracing::info!(proof.id = %proof.id, verified, shares = proof.shares_accepted, "hashrate proof decided");
    let claimed = proof.claimed_hashrate_hs as f64;
    // The rigs delivered hash measurably less than sold: dispute evidence.
    let shortfall = proof.order_id.filter(|_| result.ci95_high < VERIFY_FRACTION_OF_CLAIM * claimed).map(|order_id| {
        let summary = format!(
            "measured {:.3} TH/s (95 % interval {:.3} to {:.3}) against {:.3} TH/s claimed for {} unit(s)",
            result.estimate / 1e12,
            result.ci95_low / 1e12,
            result.ci95_high / 1e12,
            claimed / 1e12,
            proof.units
        );
        DeliveryShortfall { order_id, proof_id: proof.id, summary }
    });
    Ok(shortfall)
}

/// Ends a proof no rig connected to (a job at its connect deadline).
pub async fn expire_if_unused(conn: &mut AsyncPgConnection, proof_id: Uuid, now: DateTime<Utc>) -> QueryResult<bool> {
    let expired =
        diesel::update(hashrate_proofs::table.find(proof_id).filter(hashrate_proofs::status.eq("awaiting_shares")))
            .set((hashrate_proofs::status.eq("expired"), hashrate_proofs::ended_at.eq(now)))
            .execute(conn)
            .await?;
    Ok(expired == 1)
}

/// The listings' latest proofs, for their pages (registered by the composition root).
pub struct ListingProofs;

#[async_trait::async_trait]
impl LatestProofs for ListingProofs {
    async fn of_listings(
        &self,
        conn: &mut AsyncPgConnection,
        listing_ids: &[Uuid],
    ) -> QueryResult<std::collections::HashMap<Uuid, LatestProof>> {
        Ok(hashrate_proofs::table
            .filter(hashrate_proofs::listing_id.eq_any(listing_ids))
            .filter(hashrate_proofs::purpose.eq("listing"))
            .order((hashrate_proofs::listing_id, hashrate_proofs::created_at.desc()))
            .distinct_on(hashrate_proofs::listing_id)
            .select(ProofRow::as_select())
            .load::<ProofRow>(conn)
            .await?
            .into_iter()
            .map(|proof| (proof.listing_id, LatestProof { summary: proof.summary(), units: proof.units }))
            .collect())
    }
}
