//! Unit rejection rows, their JSON shapes and their SQL (`unit_rejections`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::rejection_rules::{RejectionReason, RejectionStatus};
use crate::db::ids::OrderId;
use crate::db::schema::unit_rejections;

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = unit_rejections)]
#[schema(example = json!({
    "id": "0193a1c2-5d6e-7f80-9a1b-2c3d4e5f6a7b", "serial": "HTM3X1234567", "reason": "dead_on_arrival",
    "evidence_ids": ["0193a1c0-1111-7222-8333-944455566677"], "proof_id": null,
    "note": "No power LED; PSU tested good on another unit.", "status": "pending",
    "created_at": "2026-06-02T09:00:00Z", "decided_at": null
}))]
pub struct UnitRejection {
    pub id: Uuid,
    #[serde(skip)]
    #[schema(value_type = uuid::Uuid)]
    pub order_id: OrderId,
    #[serde(skip)]
    pub unit_id: Uuid,
    pub serial: String,
    #[schema(value_type = String, example = "dead_on_arrival")]
    pub reason: RejectionReason,
    pub evidence_ids: Vec<Uuid>,
    /// The delivery proof cited by an `under_hashrate` rejection.
    pub proof_id: Option<Uuid>,
    pub note: String,
    /// `pending`, `accepted`, `contested`, `upheld` or `overruled`.
    #[schema(value_type = String, example = "pending")]
    pub status: RejectionStatus,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// An order's rejections and what accepting them now would refund.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "items": [{
        "id": "0193a1c2-5d6e-7f80-9a1b-2c3d4e5f6a7b", "serial": "HTM3X1234567", "reason": "dead_on_arrival",
        "evidence_ids": [], "proof_id": null, "note": "No power LED.", "status": "pending",
        "created_at": "2026-06-02T09:00:00Z", "decided_at": null
    }],
    "quantity": 40, "doa_allowance_pct": 5, "allowance_units": 2, "rejected_units": 1, "refunded_units": 0,
    "refund_cents": 0, "answer_by": "2026-06-05T09:00:00Z"
}))]
pub struct RejectionSummary {
    pub items: Vec<UnitRejection>,
    pub quantity: i32,
    pub doa_allowance_pct: i32,
    /// `floor(doa_allowance_pct × quantity / 100)`: rejected units the buyer takes without a refund.
    pub allowance_units: i64,
    /// Rejections pending, accepted or upheld.
    pub rejected_units: i64,
    /// Rejected units beyond the allowance.
    pub refunded_units: i64,
    /// `unit_price_cents × refunded_units`: what the buyer gets back.
    pub refund_cents: i64,
    /// While rejections are pending: the seller answers by then, or they count as accepted.
    pub answer_by: Option<DateTime<Utc>>,
}

/// One unit the buyer rejects.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "serial": "HTM3X1234567", "reason": "under_hashrate", "proof_id": "0193a0f0-2222-7333-8444-955566677788",
    "evidence_ids": [], "note": "Hashes at 61 % of nameplate in the delivery proof."
}))]
pub struct RejectionItem {
    pub serial: String,
    pub reason: RejectionReason,
    #[serde(default)]
    pub evidence_ids: Vec<Uuid>,
    /// Required for `under_hashrate`: a delivery proof of this order whose verdict puts the unit under 90 %.
    pub proof_id: Option<Uuid>,
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"items": [{"serial": "HTM3X1234567", "reason": "dead_on_arrival", "note": "No power LED."}]}))]
pub struct RejectUnits {
    /// 1 to 1,000 units of the order (more in further calls: rejections add up).
    pub items: Vec<RejectionItem>,
}

pub struct NewRejection<'a> {
    pub order_id: OrderId,
    pub unit_id: Uuid,
    pub item: &'a RejectionItem,
    pub serial: &'a str,
}

pub async fn insert(conn: &mut AsyncPgConnection, rows: &[NewRejection<'_>], now: DateTime<Utc>) -> QueryResult<()> {
    let values: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                unit_rejections::id.eq(Uuid::now_v7()),
                unit_rejections::order_id.eq(r.order_id.0),
                unit_rejections::unit_id.eq(r.unit_id),
                unit_rejections::serial.eq(r.serial),
                unit_rejections::reason.eq(r.item.reason),
                unit_rejections::evidence_ids.eq(&r.item.evidence_ids),
                unit_rejections::proof_id.eq(r.item.proof_id),
                unit_rejections::note.eq(r.item.note.trim()),
                unit_rejections::status.eq(RejectionStatus::Pending),
                unit_rejections::created_at.eq(now),
            )
        })
        .collect();
    diesel::insert_into(unit_rejections::table).values(values).execute(conn).await?;
    Ok(())
}

/// Every rejection of an order, by serial.
pub async fn of_order(conn: &mut AsyncPgConnection, order_id: OrderId) -> QueryResult<Vec<UnitRejection>> {
    unit_rejections::table
        .filter(unit_rejections::order_id.eq(order_id.0))
        .order(unit_rejections::serial.asc())
        .select(UnitRejection::as_select())
        .load(conn)
        .await
}

/// Moves an order's rejections in status `from` to `to`.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    from: RejectionStatus,
    to: RejectionStatus,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let decided = matches!(to, RejectionStatus::Accepted | RejectionStatus::Upheld | RejectionStatus::Overruled);
    diesel::update(
        unit_rejections::table
            .filter(unit_rejections::order_id.eq(order_id.0))
            .filter(unit_rejections::status.eq(from)),
    )
    .set((unit_rejections::status.eq(to), unit_rejections::decided_at.eq(decided.then_some(now))))
    .execute(conn)
    .await
}

/// Ends the order's open rejections (pending or contested) when a dispute or
/// a refund closes it: `upheld` when the buyer got money back, else
/// `overruled`. Answers the units whose rejection stands.
pub async fn decide_contested(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    upheld: bool,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    let to = if upheld { RejectionStatus::Upheld } else { RejectionStatus::Overruled };
    let decided: Vec<Uuid> = diesel::update(
        unit_rejections::table
            .filter(unit_rejections::order_id.eq(order_id.0))
            .filter(unit_rejections::status.eq_any([RejectionStatus::Pending, RejectionStatus::Contested])),
    )
    .set((unit_rejections::status.eq(to), unit_rejections::decided_at.eq(now)))
    .returning(unit_rejections::unit_id)
    .get_results(conn)
    .await?;
    Ok(if upheld { decided } else { Vec::new() })
}

/// Whether the order has rejections waiting for the seller.
pub async fn any_pending(conn: &mut AsyncPgConnection, order_id: OrderId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        unit_rejections::table
            .filter(unit_rejections::order_id.eq(order_id.0))
            .filter(unit_rejections::status.eq(RejectionStatus::Pending)),
    ))
    .get_result(conn)
    .await
}
