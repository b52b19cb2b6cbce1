//! What a listing page shows that other capabilities know: the seller's
//! reputation (the orders) and the lot's latest hashrate proof (the proofs).
//! Both sit above the listings, so the listings ask through traits that the
//! composition root implements with them (registered in `view::ListingRenderer`).

use crate::db::ids::ProofId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a listing shows of its latest proof.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f7d9-6c3a-7e85-b1f2-3a4b5c6d7e8f", "status": "verified", "claimed_hashrate_hs": 440000000000000_i64,
    "estimated_hashrate_hs": 432300000000000.0, "ci95_low_hs": 411191410515846.0, "ci95_high_hs": 454211283181737.0,
    "ended_at": "2026-05-05T09:10:00Z", "valid_until": "2026-06-04T09:10:00Z"
}))]
pub struct ProofSummary {
    #[schema(value_type = uuid::Uuid)]
    pub id: ProofId,
    #[schema(example = "verified")]
    pub status: String,
    pub claimed_hashrate_hs: i64,
    pub estimated_hashrate_hs: Option<f64>,
    pub ci95_low_hs: Option<f64>,
    pub ci95_high_hs: Option<f64>,
    pub ended_at: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
}

/// The latest proof of a listing and how many units it measured.
#[derive(Debug, Clone, Deserialize)]
pub struct LatestProof {
    pub summary: ProofSummary,
    pub units: i32,
    /// Its verdict was `verified`.
    pub verified: bool,
}

impl LatestProof {
    /// Measured H/s per unit, when the proof verified.
    pub fn verified_unit_hashrate_hs(&self) -> Option<f64> {
        let proof = &self.summary;
        self.verified.then_some(proof.estimated_hashrate_hs?).map(|hs| hs / f64::from(self.units.max(1)))
    }
}

/// Where listings' latest proofs come from.
pub trait LatestProofs: Send + Sync {
    /// The latest listing proofs of the listings in the `uuid[]` expression
    /// `listings`, as a scalar SQL expression a page can fold into its own
    /// statement: the JSON text of an object from listing id to [`LatestProof`],
    /// without the listings that have none (NULL when none has).
    fn latest_json_sql(&self, listings: &str) -> String;
}
