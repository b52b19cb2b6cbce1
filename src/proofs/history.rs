//! Proofs written at historic timestamps (the demo market): a verified listing
//! proof as it would have ended, without a rig mining it now.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::model::{ProofKind, ProofStatus, VALIDITY};
use crate::db::ids::{ListingId, ProofId, UserId};
use crate::db::schema::hashrate_proofs;

/// A verified proof of `units` units of a listing that ended at `ended`.
pub struct HistoricProof {
    pub id: ProofId,
    pub listing_id: ListingId,
    pub requested_by: UserId,
    pub units: i32,
    pub claimed_hashrate_hs: i64,
    /// Measured over claimed.
    pub ratio: f64,
    pub ended: DateTime<Utc>,
}

/// What a historic proof measured.
struct Measured {
    units: i32,
    share_difficulty: f64,
    shares: i64,
    estimate: f64,
    ci95: (f64, f64),
    ratio_to_claim: f64,
}

/// Writes `proof` as verified with `measured`, its 10-minute window ending at
/// `proof.ended`; returns until when it is valid.
async fn insert_verified(
    conn: &mut AsyncPgConnection,
    proof: &HistoricProof,
    measured: &Measured,
) -> QueryResult<DateTime<Utc>> {
    let valid_until = proof.ended + VALIDITY;
    let ended = proof.ended;
    diesel::insert_into(hashrate_proofs::table)
        .values((
            hashrate_proofs::id.eq(proof.id),
            hashrate_proofs::listing_id.eq(proof.listing_id),
            hashrate_proofs::requested_by.eq(proof.requested_by),
            hashrate_proofs::purpose.eq(ProofKind::Listing),
            hashrate_proofs::token_hash.eq(crate::accounts::secret_token::digest(&format!("demo-proof-{}", proof.id))),
            hashrate_proofs::status.eq(ProofStatus::Verified),
            hashrate_proofs::units.eq(measured.units),
            hashrate_proofs::claimed_hashrate_hs.eq(proof.claimed_hashrate_hs),
            hashrate_proofs::share_difficulty.eq(measured.share_difficulty),
            hashrate_proofs::duration_secs.eq(WINDOW_SECS as i32),
            hashrate_proofs::challenge.eq(proof.listing_id.0.as_bytes().to_vec()),
            hashrate_proofs::created_at.eq(ended - Duration::minutes(40)),
            hashrate_proofs::connect_deadline.eq(ended - Duration::minutes(10)),
            hashrate_proofs::started_at.eq(ended - Duration::minutes(10)),
            hashrate_proofs::ends_at.eq(ended),
            hashrate_proofs::ended_at.eq(ended),
            hashrate_proofs::shares_accepted.eq(measured.shares),
            hashrate_proofs::estimated_hashrate_hs.eq(measured.estimate),
            hashrate_proofs::ci95_low_hs.eq(measured.ci95.0),
            hashrate_proofs::ci95_high_hs.eq(measured.ci95.1),
            hashrate_proofs::ratio_to_claim.eq(measured.ratio_to_claim),
            hashrate_proofs::valid_until.eq(valid_until),
        ))
        .execute(conn)
        .await?;
    Ok(valid_until)
}

/// The window of a historic proof.
const WINDOW_SECS: f64 = 600.0;

/// Records the proof (1,600 shares over 10 minutes, an interval of about
/// +-5 %); returns until when it is valid.
pub async fn record_verified(conn: &mut AsyncPgConnection, proof: &HistoricProof) -> QueryResult<DateTime<Utc>> {
    let estimate = proof.claimed_hashrate_hs as f64 * proof.ratio;
    let measured = Measured {
        units: proof.units,
        share_difficulty: 65_536.0,
        shares: 1600,
        estimate,
        ci95: (estimate * 0.951, estimate * 1.05),
        ratio_to_claim: proof.ratio,
    };
    insert_verified(conn, proof, &measured).await
}

/// A verified proof of a lot sold by serial, as it would have ended: each unit
/// mined `ratio` of its nominal hashrate (0 for a unit that never connected),
/// about 400 shares per unit at nominal, judged unit by unit as a live proof
/// is. Returns until when it is valid and the measured H/s per connected unit.
pub async fn record_verified_by_unit(
    conn: &mut AsyncPgConnection,
    proof: &HistoricProof,
    unit_ratios: &[(String, f64)],
) -> anyhow::Result<(DateTime<Utc>, i64)> {
    use super::by_unit::{judge_unit, UnitVerdict, SHARES_PER_UNIT};
    use super::estimate::{hashrate_interval, Confidence, HASHES_PER_DIFF1_SHARE};
    let units = unit_ratios.len().max(1);
    let unit_nominal = proof.claimed_hashrate_hs as f64 / units as f64;
    let difficulty =
        super::share::Difficulty::new(unit_nominal * WINDOW_SECS / (SHARES_PER_UNIT * HASHES_PER_DIFF1_SHARE))?;
    let results: Vec<_> = unit_ratios
        .iter()
        .map(|(serial, ratio)| {
            let shares = (SHARES_PER_UNIT * ratio).round().max(0.0) as u64;
            judge_unit(serial, shares, difficulty, WINDOW_SECS, unit_nominal)
        })
        .collect();
    let connected = results.iter().filter(|r| r.status != UnitVerdict::NotConnected).count().max(1);
    let shares: i64 = results.iter().map(|r| r.shares_accepted).sum();
    let estimate = shares as f64 * difficulty.value() * HASHES_PER_DIFF1_SHARE / WINDOW_SECS;
    let (low, high) = hashrate_interval(shares as u64, difficulty, WINDOW_SECS, Confidence::NINETY_FIVE);
    let claimed = unit_nominal * connected as f64;
    let measured = Measured {
        units: units as i32,
        share_difficulty: difficulty.value(),
        shares,
        estimate,
        ci95: (low, high),
        ratio_to_claim: estimate / claimed,
    };
    let valid_until = insert_verified(conn, proof, &measured).await?;
    let serials: Vec<String> = unit_ratios.iter().map(|(serial, _)| serial.clone()).collect();
    super::by_unit::expect(conn, proof.id, &serials).await?;
    super::by_unit::record(conn, proof.id, &results).await?;
    Ok((valid_until, (estimate / connected as f64).round() as i64))
}
