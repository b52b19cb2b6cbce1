//! Proofs of lots sold by serial, unit by unit: a proof expects each unit to
//! mine under its serial (`<token>.<serial>`), shares from any other worker
//! are rejected (`unknown_worker`), and the verdict judges every unit on its
//! own shares: `ok`, `under_90` or `not_connected`. The lot's claim is the
//! connected units times the per-unit nominal hashrate.
//!
//! The share difficulty is sized so that each unit yields about
//! [`SHARES_PER_UNIT`] shares in the window (a 95 % interval of about ±10 %)
//! and the lot at least [`super::estimate::DEFAULT_TARGET_SHARES`] (±5 %).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;

use super::estimate::{self, Confidence, VERIFY_FRACTION_OF_CLAIM};
use super::share::Difficulty;
use crate::db::ids::{OrderId, ProofId};
use crate::db::schema::{hashrate_proofs, proof_units};
use crate::db::text_enum;

/// Shares each unit should yield: `1.96 / sqrt(400)` is a ±9.8 % interval.
pub const SHARES_PER_UNIT: f64 = 400.0;

text_enum! {
    /// One unit's verdict (stored in `proof_units.status`).
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum UnitVerdict {
        /// The unit's 95 % interval reaches 90 % of its nominal hashrate.
        Ok = "ok",
        /// It mined, but measurably under 90 % of nominal.
        #[serde(rename = "under_90")]
        Under90 = "under_90",
        /// No share from this serial.
        NotConnected = "not_connected",
    }
}

/// Shares the whole proof should yield for `units` units sold by serial.
pub fn target_shares(units: usize) -> f64 {
    (SHARES_PER_UNIT * units as f64).max(estimate::DEFAULT_TARGET_SHARES)
}

/// One unit's measurement, as the verdict lists it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({
    "serial": "JYZZB3NBCJHJB0ZK1", "shares_accepted": 397, "estimated_hashrate_hs": 109175000000000.0,
    "ci95_low_hs": 98698254289728.0, "ci95_high_hs": 120461053997097.0, "status": "ok"
}))]
pub struct UnitResult {
    pub serial: String,
    pub shares_accepted: i64,
    pub estimated_hashrate_hs: f64,
    pub ci95_low_hs: f64,
    pub ci95_high_hs: f64,
    #[schema(value_type = String, example = "ok")]
    pub status: UnitVerdict,
}

/// Judges one unit on its `shares` against its `nominal_hs`.
pub fn judge_unit(serial: &str, shares: u64, difficulty: Difficulty, seconds: f64, nominal_hs: f64) -> UnitResult {
    let estimated = estimate::estimate_hashrate(shares, difficulty, seconds);
    let (low, high) = estimate::hashrate_interval(shares, difficulty, seconds, Confidence::NINETY_FIVE);
    let status = if shares == 0 {
        UnitVerdict::NotConnected
    } else if high >= VERIFY_FRACTION_OF_CLAIM * nominal_hs {
        UnitVerdict::Ok
    } else {
        UnitVerdict::Under90
    };
    UnitResult {
        serial: serial.to_string(),
        shares_accepted: shares as i64,
        estimated_hashrate_hs: estimated,
        ci95_low_hs: low,
        ci95_high_hs: high,
        status,
    }
}

/// Records the serials a new proof expects.
pub async fn expect(conn: &mut AsyncPgConnection, proof_id: ProofId, serials: &[String]) -> QueryResult<()> {
    for chunk in serials.chunks(5_000) {
        let rows: Vec<_> =
            chunk.iter().map(|s| (proof_units::proof_id.eq(proof_id), proof_units::serial.eq(s))).collect();
        diesel::insert_into(proof_units::table).values(rows).execute(conn).await?;
    }
    Ok(())
}

/// Whom a worker name credits on a proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerCheck {
    /// The proof is not by serial: any worker name is a label.
    AnyName,
    /// One of the proof's units, by its normalised serial.
    Unit(String),
    /// The proof is by serial and no unit has this serial.
    Unknown,
}

/// Checks worker names against the units a proof expects (two indexed
/// lookups, whatever the number of names); answers one check per name.
pub async fn check_workers(
    conn: &mut AsyncPgConnection,
    proof_id: ProofId,
    workers: &[&str],
) -> QueryResult<Vec<WorkerCheck>> {
    let expected = proof_units::table.filter(proof_units::proof_id.eq(proof_id));
    let by_serial: bool = diesel::select(diesel::dsl::exists(expected)).get_result(conn).await?;
    if !by_serial {
        return Ok(vec![WorkerCheck::AnyName; workers.len()]);
    }
    let serials: Vec<Option<String>> = workers.iter().map(|w| crate::units::rules::normalise_serial(w).ok()).collect();
    let wanted: Vec<&str> = serials.iter().flatten().map(String::as_str).collect();
    let known: Vec<String> =
        expected.filter(proof_units::serial.eq_any(&wanted)).select(proof_units::serial).load(conn).await?;
    Ok(serials
        .into_iter()
        .map(|serial| match serial {
            Some(serial) if known.contains(&serial) => WorkerCheck::Unit(serial),
            _ => WorkerCheck::Unknown,
        })
        .collect())
}

/// The serials a proof expects, in order (empty when it is not by serial).
pub async fn expected(conn: &mut AsyncPgConnection, proof_id: ProofId) -> QueryResult<Vec<String>> {
    proof_units::table
        .filter(proof_units::proof_id.eq(proof_id))
        .order(proof_units::serial.asc())
        .select(proof_units::serial)
        .load(conn)
        .await
}

/// Stores every unit's verdict.
pub async fn record(conn: &mut AsyncPgConnection, proof_id: ProofId, results: &[UnitResult]) -> QueryResult<()> {
    // One statement for the lot: unnest the columns rather than one UPDATE per unit.
    let serials: Vec<&str> = results.iter().map(|r| r.serial.as_str()).collect();
    let shares: Vec<i64> = results.iter().map(|r| r.shares_accepted).collect();
    let estimated: Vec<f64> = results.iter().map(|r| r.estimated_hashrate_hs).collect();
    let lows: Vec<f64> = results.iter().map(|r| r.ci95_low_hs).collect();
    let highs: Vec<f64> = results.iter().map(|r| r.ci95_high_hs).collect();
    let statuses: Vec<&str> = results.iter().map(|r| r.status.as_str()).collect();
    use diesel::sql_types::{Array, Float8, Int8, Text, Uuid as SqlUuid};
    diesel::sql_query(
        "UPDATE proof_units AS u SET shares_accepted = v.shares, estimated_hashrate_hs = v.estimated, \
         ci95_low_hs = v.low, ci95_high_hs = v.high, status = v.status \
         FROM unnest($2, $3, $4, $5, $6, $7) AS v (serial, shares, estimated, low, high, status) \
         WHERE u.proof_id = $1 AND u.serial = v.serial",
    )
    .bind::<SqlUuid, _>(proof_id.0)
    .bind::<Array<Text>, _>(serials)
    .bind::<Array<Int8>, _>(shares)
    .bind::<Array<Float8>, _>(estimated)
    .bind::<Array<Float8>, _>(lows)
    .bind::<Array<Float8>, _>(highs)
    .bind::<Array<Text>, _>(statuses)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = proof_units)]
struct StoredResult {
    serial: String,
    shares_accepted: Option<i64>,
    estimated_hashrate_hs: Option<f64>,
    ci95_low_hs: Option<f64>,
    ci95_high_hs: Option<f64>,
    status: Option<UnitVerdict>,
}

/// A decided proof's per-unit verdicts, by serial (empty before the verdict).
pub async fn results(conn: &mut AsyncPgConnection, proof_id: ProofId) -> QueryResult<Vec<UnitResult>> {
    let rows: Vec<StoredResult> = proof_units::table
        .filter(proof_units::proof_id.eq(proof_id))
        .filter(proof_units::status.is_not_null())
        .order(proof_units::serial.asc())
        .select(StoredResult::as_select())
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(UnitResult {
                serial: r.serial,
                shares_accepted: r.shares_accepted?,
                estimated_hashrate_hs: r.estimated_hashrate_hs?,
                ci95_low_hs: r.ci95_low_hs?,
                ci95_high_hs: r.ci95_high_hs?,
                status: r.status?,
            })
        })
        .collect())
}

/// One unit's standing in a proof: which order's delivery it checked (if
/// any) and the unit's verdict once decided.
pub struct UnitStanding {
    pub order_id: Option<OrderId>,
    pub status: Option<UnitVerdict>,
}

/// Where `serial` stands in proof `proof_id`, if the proof expected it.
pub async fn verdict_of(
    conn: &mut AsyncPgConnection,
    proof_id: ProofId,
    serial: &str,
) -> QueryResult<Option<UnitStanding>> {
    let row: Option<(Option<OrderId>, Option<UnitVerdict>)> = proof_units::table
        .inner_join(hashrate_proofs::table)
        .filter(proof_units::proof_id.eq(proof_id))
        .filter(proof_units::serial.eq(serial))
        .select((hashrate_proofs::order_id, proof_units::status))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(order_id, status)| UnitStanding { order_id, status }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOMINAL: f64 = 100e12;
    const WINDOW: f64 = 600.0;

    /// The difficulty that gives 400 shares per unit at nominal over the window.
    fn difficulty() -> Difficulty {
        let d = NOMINAL * WINDOW / (SHARES_PER_UNIT * estimate::HASHES_PER_DIFF1_SHARE);
        Difficulty::new(d).unwrap()
    }

    #[test]
    fn a_unit_at_nominal_is_ok_and_its_interval_is_about_ten_percent() {
        let result = judge_unit("A1", 400, difficulty(), WINDOW, NOMINAL);
        assert_eq!(result.status, UnitVerdict::Ok);
        let half_width = (result.ci95_high_hs - result.ci95_low_hs) / 2.0 / result.estimated_hashrate_hs;
        assert!((0.09..=0.105).contains(&half_width), "{half_width}");
    }

    #[test]
    fn a_unit_at_three_quarters_is_under_90_and_a_silent_one_not_connected() {
        assert_eq!(judge_unit("A2", 300, difficulty(), WINDOW, NOMINAL).status, UnitVerdict::Under90);
        assert_eq!(judge_unit("A3", 0, difficulty(), WINDOW, NOMINAL).status, UnitVerdict::NotConnected);
    }

    #[test]
    fn a_bad_luck_window_at_nominal_still_passes() {
        // 360 shares is two standard deviations under 400.
        assert_eq!(judge_unit("A4", 360, difficulty(), WINDOW, NOMINAL).status, UnitVerdict::Ok);
    }

    #[test]
    fn the_lot_target_is_400_per_unit_and_never_under_1600() {
        assert_eq!(target_shares(1), 1600.0);
        assert_eq!(target_shares(4), 1600.0);
        assert_eq!(target_shares(1000), 400_000.0);
    }
}
