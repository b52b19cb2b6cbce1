//! What a proof is: its row, why it runs, what a request asks for, and what a
//! share or a verdict comes to.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::ids::{ListingId, OrderId, ProofId, UserId};
use crate::db::schema::hashrate_proofs;
use crate::db::text_enum;

/// The smallest share difficulty the server hands out: it bounds the share rate
/// (and so the work per proof) whatever hashrate is claimed.
pub const MIN_SHARE_DIFFICULTY: f64 = 1e-9;
pub const DEFAULT_DURATION_SECS: i32 = 600;

/// No share within this long after creation ends a proof as `expired`.
pub const CONNECT_WINDOW: Duration = Duration::minutes(30);
/// A verified proof speaks for the listing this long.
pub const VALIDITY: Duration = Duration::days(30);

text_enum! {
    /// Where a proof is in its life (stored in `hashrate_proofs.status`).
    pub enum ProofStatus {
        /// Issued; no rig has connected yet.
        AwaitingShares = "awaiting_shares",
        /// The window is running.
        Collecting = "collecting",
        Verified = "verified",
        Failed = "failed",
        /// Nothing connected before the deadline.
        Expired = "expired",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = hashrate_proofs)]
pub struct ProofRow {
    pub id: ProofId,
    pub listing_id: ListingId,
    pub requested_by: UserId,
    pub purpose: ProofKind,
    pub token_hash: Vec<u8>,
    pub status: ProofStatus,
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
    pub order_id: Option<OrderId>,
}

text_enum! {
    /// What a proof row measures (stored in `hashrate_proofs.purpose`).
    pub enum ProofKind {
        /// A seller's proof, backing a listing.
        Listing = "listing",
        /// A buyer's proof of a delivery, during an order's inspection.
        Delivery = "delivery",
    }
}

/// Why a proof runs: to back a listing, or to check a delivery during an order's
/// inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofPurpose {
    Listing,
    Delivery { order_id: OrderId },
}

impl ProofPurpose {
    pub fn kind(self) -> ProofKind {
        match self {
            Self::Listing => ProofKind::Listing,
            Self::Delivery { .. } => ProofKind::Delivery,
        }
    }
}

pub struct ProofRequest {
    pub listing_id: ListingId,
    pub requested_by: UserId,
    pub purpose: ProofPurpose,
    pub units: i32,
    pub claimed_hashrate_hs: i64,
    pub duration_secs: i32,
    /// For a lot sold by serial: the units expected to mine, each under its
    /// serial (then `units` is their count). Empty otherwise.
    pub serials: Vec<String>,
}

/// A new proof and the token (shown once) its miners authorize with.
pub struct IssuedProof {
    pub id: ProofId,
    pub listing_id: ListingId,
    pub token: String,
    pub share_difficulty: f64,
    pub claimed_hashrate_hs: i64,
    pub duration_secs: i32,
    pub expires_at: DateTime<Utc>,
}

impl ProofRow {
    /// Still taking shares at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        match self.status {
            ProofStatus::AwaitingShares => now < self.connect_deadline,
            ProofStatus::Collecting => self.ends_at.is_some_and(|end| now < end),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareOutcome {
    Accepted,
    Duplicate,
    /// The proof stopped taking shares (window over, expired, decided).
    Closed,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "name": "JYZZB3NBCJHJB0ZK1", "shares_accepted": 397, "estimated_hashrate_hs": 109175000000000.0,
    "ci95_low_hs": 98698254289728.0, "ci95_high_hs": 120461053997097.0
}))]
pub struct WorkerResult {
    pub name: String,
    pub shares_accepted: i64,
    pub estimated_hashrate_hs: f64,
    pub ci95_low_hs: f64,
    pub ci95_high_hs: f64,
}

/// A delivery proof that measured the rigs below what was sold: evidence for
/// the order's dispute (the composition root hands it to the orders).
#[derive(Debug, Clone)]
pub struct DeliveryShortfall {
    pub order_id: OrderId,
    pub proof_id: ProofId,
    /// The measurement in words, for the dispute's evidence.
    pub summary: String,
}
