//! A proof's life: issued with a challenge and a share difficulty sized for the
//! claim, collecting shares (the first starts its window; every share is
//! committed before the miner hears "accepted", so a restart loses at most the
//! line in flight), then decided, with the listing told and the requester
//! emailed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::estimate::{verdict, VerdictStatus, DEFAULT_MIN_SHARES, VERIFY_FRACTION_OF_CLAIM};
use super::jobs::ExpireProof;
use super::model::{
    DeliveryShortfall, IssuedProof, ProofKind, ProofPurpose, ProofRequest, ProofRow, ProofStatus, ShareOutcome,
    WorkerResult, CONNECT_WINDOW, MIN_SHARE_DIFFICULTY, VALIDITY,
};
use super::queries;
use super::share::Difficulty;
use crate::db::ids::ProofId;
use crate::db::schema::hashrate_proofs;
use crate::events::EventKind;

/// Creates a proof with a fresh challenge and a share difficulty sized for the
/// claim, and schedules its expiry if nothing connects.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    request: &ProofRequest,
    now: DateTime<Utc>,
) -> anyhow::Result<IssuedProof> {
    use rand::RngCore;
    let target_shares = if request.serials.is_empty() {
        super::estimate::DEFAULT_TARGET_SHARES
    } else {
        super::by_unit::target_shares(request.serials.len())
    };
    let difficulty = super::estimate::choose_share_difficulty(
        request.claimed_hashrate_hs as f64,
        f64::from(request.duration_secs),
        target_shares,
        Difficulty::new(MIN_SHARE_DIFFICULTY)?,
    )?;
    let token = crate::accounts::secret_token::issue("p");
    let mut challenge = vec![0u8; 16];
    rand::rng().fill_bytes(&mut challenge);
    let id = ProofId::new();
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
            hashrate_proofs::purpose.eq(request.purpose.kind()),
            hashrate_proofs::order_id.eq(order_id),
            hashrate_proofs::token_hash.eq(&token.digest),
            hashrate_proofs::status.eq(ProofStatus::AwaitingShares),
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
    super::by_unit::expect(conn, id, &request.serials).await?;
    crate::jobs::enqueue(conn, &ExpireProof { proof_id: id }, deadline).await?;
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

/// Records one accepted share (a batch of one, see [`super::share_batch`]); the
/// first one starts the proof's window and schedules its verdict.
pub async fn record_share(
    conn: &mut AsyncPgConnection,
    proof_id: ProofId,
    worker: &str,
    header_hash: &[u8],
    now: DateTime<Utc>,
) -> anyhow::Result<ShareOutcome> {
    let share =
        super::share_batch::NewShare { proof_id, worker: worker.to_string(), header_hash: header_hash.to_vec() };
    let recorded = super::share_batch::record_batch(conn, &[share], &[], now).await?;
    Ok(recorded.into_iter().next().map(|r| r.outcome).unwrap_or(ShareOutcome::Closed))
}

/// Per-worker estimates over the proof's window.
pub async fn worker_results(conn: &mut AsyncPgConnection, proof: &ProofRow) -> QueryResult<Vec<WorkerResult>> {
    let counts = queries::shares_per_worker(conn, proof.id).await?;
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

/// A proof by serial's per-unit verdicts, as recorded.
struct UnitTally {
    /// Units with at least one accepted share.
    connected: usize,
    unit_nominal_hs: f64,
}

/// Judges and records every unit of a proof by serial (`None` for other proofs).
async fn judge_units(
    conn: &mut AsyncPgConnection,
    proof: &ProofRow,
    difficulty: Difficulty,
) -> anyhow::Result<Option<UnitTally>> {
    let serials = super::by_unit::expected(conn, proof.id).await?;
    if serials.is_empty() {
        return Ok(None);
    }
    let counts: std::collections::HashMap<String, i64> =
        queries::shares_per_worker(conn, proof.id).await?.into_iter().collect();
    let unit_nominal_hs = proof.claimed_hashrate_hs as f64 / serials.len() as f64;
    let seconds = f64::from(proof.duration_secs);
    let results: Vec<_> = serials
        .iter()
        .map(|serial| {
            let shares = counts.get(serial).copied().unwrap_or(0).max(0) as u64;
            super::by_unit::judge_unit(serial, shares, difficulty, seconds, unit_nominal_hs)
        })
        .collect();
    super::by_unit::record(conn, proof.id, &results).await?;
    let connected = results.iter().filter(|r| r.status != super::by_unit::UnitVerdict::NotConnected).count();
    Ok(Some(UnitTally { connected, unit_nominal_hs }))
}

/// Decides a proof whose window has ended (a job at `ends_at`), records the
/// verdict, marks the listing verified when it passed, and tells the seller.
/// Returns the shortfall when a delivery proof of a lot sold as a count fell
/// short of the claim (a lot sold by serial is judged unit by unit instead).
pub async fn finalize(
    conn: &mut AsyncPgConnection,
    proof_id: ProofId,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<DeliveryShortfall>> {
    let proof: ProofRow =
        hashrate_proofs::table.find(proof_id).select(ProofRow::as_select()).for_update().first(conn).await?;
    if proof.status != ProofStatus::Collecting {
        return Ok(None);
    }
    let difficulty = Difficulty::new(proof.share_difficulty)?;
    let units = judge_units(conn, &proof, difficulty).await?;
    // By serial, the lot is claimed for the units that connected.
    let (claimed, measured_units) = match &units {
        Some(tally) => {
            let connected = tally.connected.max(1);
            (tally.unit_nominal_hs * connected as f64, connected)
        }
        None => (proof.claimed_hashrate_hs as f64, proof.units.max(1) as usize),
    };
    let result =
        verdict(proof.shares_accepted as u64, difficulty, f64::from(proof.duration_secs), claimed, DEFAULT_MIN_SHARES)?;
    let verified = result.status == VerdictStatus::Verified;
    let ended_at = proof.ends_at.unwrap_or(now);
    diesel::update(hashrate_proofs::table.find(proof.id))
        .set((
            hashrate_proofs::status.eq(if verified { ProofStatus::Verified } else { ProofStatus::Failed }),
            hashrate_proofs::ended_at.eq(ended_at),
            hashrate_proofs::estimated_hashrate_hs.eq(result.estimate),
            hashrate_proofs::ci95_low_hs.eq(result.ci95_low),
            hashrate_proofs::ci95_high_hs.eq(result.ci95_high),
            hashrate_proofs::ratio_to_claim.eq(result.ratio_to_claim),
            hashrate_proofs::valid_until.eq(verified.then_some(ended_at + VALIDITY)),
        ))
        .execute(conn)
        .await?;
    if proof.purpose == ProofKind::Listing {
        // The listing is "verified" exactly while its latest verified proof is valid.
        let per_unit = result.estimate / measured_units as f64;
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
    let kind = if verified { EventKind::ProofVerified } else { EventKind::ProofFailed };
    let facts = serde_json::json!({ "proof_id": proof.id, "listing_id": proof.listing_id, "order_id": proof.order_id });
    crate::events::record(conn, kind, proof.id, &[proof.requested_by], facts, now).await?;
    tracing::info!(proof.id = %proof.id, verified, shares = proof.shares_accepted, "hashrate proof decided");
    // The rigs delivered hash measurably less than sold: dispute evidence. A
    // lot sold by serial is judged unit by unit instead: the buyer rejects the
    // units the verdict puts under 90 %, citing this proof.
    let short = units.is_none() && result.ci95_high < VERIFY_FRACTION_OF_CLAIM * claimed;
    let shortfall = proof.order_id.filter(|_| short).map(|order_id| {
        let summary = format!(
            "measured {:.3} TH/s (95 % interval {:.3} to {:.3}) against {:.3} TH/s claimed for {} unit(s)",
            result.estimate / 1e12,
            result.ci95_low / 1e12,
            result.ci95_high / 1e12,
            claimed / 1e12,
            measured_units
        );
        DeliveryShortfall { order_id, proof_id: proof.id, summary }
    });
    Ok(shortfall)
}
