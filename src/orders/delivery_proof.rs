//! Delivery proofs: during inspection the buyer runs the same Stratum hashrate
//! proof as sellers do, claimed at the model's nominal hashrate times the units
//! bought. Its verdict job turns a shortfall into dispute evidence
//! (`disputes::record_shortfall`), and the inspection does not end while one is
//! still running.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;

use super::model::OrderRow;
use super::queries::Actor;
use super::state::OrderStatus;
use crate::db::ids::{OrderId, UserId};
use crate::error::ApiError;
use crate::proofs::lifecycle;
use crate::proofs::model::{IssuedProof, ProofPurpose, ProofRequest};

pub async fn request(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    buyer: UserId,
    duration_secs: i32,
    now: DateTime<Utc>,
) -> Result<IssuedProof, ApiError> {
    if order.status() != OrderStatus::Delivered {
        return Err(ApiError::conflict(
            "invalid_order_status",
            "A delivery proof runs during the inspection of a delivered order.",
        ));
    }
    if pending_verdict_at(conn, order.id, now).await?.is_some() {
        return Err(ApiError::conflict("proof_in_progress", "A delivery proof for this order is already running."));
    }
    let listing = crate::listings::queries::find(conn, order.listing_id).await?.ok_or(diesel::NotFound)?;
    let nominal = listing.model_hashrate_hs;
    // A lot sold by serial is checked unit by unit: the order's shipped units.
    let serials = crate::units::allocation::shipped_serials(conn, order.id).await?;
    let units = if serials.is_empty() { order.quantity } else { serials.len() as i32 };
    let request = ProofRequest {
        listing_id: order.listing_id,
        requested_by: buyer,
        purpose: ProofPurpose::Delivery { order_id: order.id },
        units,
        claimed_hashrate_hs: nominal.saturating_mul(i64::from(units)),
        duration_secs,
        serials,
    };
    let issued = lifecycle::issue(conn, &request, now).await?;
    let details = serde_json::json!({ "proof_id": issued.id, "claimed_hashrate_hs": issued.claimed_hashrate_hs });
    super::flow::note(
        conn,
        order,
        Actor::user(super::state::ActorRole::Buyer, buyer),
        "delivery_proof_requested",
        details,
        false,
        now,
    )
    .await?;
    Ok(issued)
}

/// How long after a delivery proof's window its verdict is waited for.
pub const VERDICT_GRACE: chrono::Duration = chrono::Duration::minutes(5);

/// When the verdict of the order's undecided delivery proof is due (its window's
/// end, or its connect deadline, plus [`VERDICT_GRACE`]), while that is still
/// ahead of `now`.
pub async fn pending_verdict_at(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    Ok(crate::proofs::queries::undecided_delivery_proofs(conn, order_id)
        .await?
        .into_iter()
        .map(|decided_by| decided_by + VERDICT_GRACE)
        .filter(|due| *due > now)
        .max())
}
