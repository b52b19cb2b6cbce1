//! Unit and serial report rows and the JSON shapes of the units API.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::ids::{ListingId, UserId};
use crate::db::schema::{serial_reports, units};
use crate::db::text_enum;

// Where a unit is (stored in `units.status`).
text_enum! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum UnitStatus {
        Available = "available",
        Reserved = "reserved",
        Shipped = "shipped",
        Accepted = "accepted",
        Rejected = "rejected",
        Returned = "returned",
        WrittenOff = "written_off",
    }
}

impl UnitStatus {
    /// The statuses in which a unit still holds its serial in its lot.
    pub const HOLDING: [UnitStatus; 3] = [Self::Available, Self::Reserved, Self::Shipped];
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = units)]
pub struct UnitRow {
    pub id: Uuid,
    pub listing_id: ListingId,
    pub seller_id: UserId,
    pub serial: String,
    pub mac: Option<String>,
    pub hashboard_serials: Vec<String>,
    pub psu_serial: Option<String>,
    pub grade: Option<String>,
    pub hashboards_working: Option<i32>,
    pub notes: Option<String>,
    pub status: UnitStatus,
    pub in_open_lot: bool,
    pub order_id: Option<Uuid>,
    pub sold_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A unit of a lot as its seller and buyers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "serial": "HTM3X1234567", "mac": "A4:5E:60:12:34:56", "hashboard_serials": ["HB1A001", "HB1A002", "HB1A003"],
    "psu_serial": "APW12-0042", "grade": "B", "hashboards_working": 3, "notes": "one fan replaced",
    "status": "available", "order_id": null, "created_at": "2026-05-05T09:10:00Z", "updated_at": "2026-05-05T09:10:00Z"
}))]
pub struct UnitView {
    pub serial: String,
    pub mac: Option<String>,
    pub hashboard_serials: Vec<String>,
    pub psu_serial: Option<String>,
    pub grade: Option<String>,
    pub hashboards_working: Option<i32>,
    pub notes: Option<String>,
    #[schema(value_type = String, example = "available")]
    pub status: UnitStatus,
    /// The order that reserved, shipped or bought the unit.
    pub order_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UnitRow> for UnitView {
    fn from(row: UnitRow) -> Self {
        Self {
            serial: row.serial,
            mac: row.mac,
            hashboard_serials: row.hashboard_serials,
            psu_serial: row.psu_serial,
            grade: row.grade,
            hashboards_working: row.hashboards_working,
            notes: row.notes,
            status: row.status,
            order_id: row.order_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// What `POST /v1/listings/{id}/units` created.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitsAdded {
    /// Units registered to the lot now, these included.
    pub lot_units: i32,
    pub items: Vec<UnitView>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = serial_reports)]
#[schema(example = json!({
    "id": "0192f7e1-8c9d-7a0b-9c1d-2e3f4a5b6c7d", "serial": "HTM3X1234567",
    "note": "Reported by the Baton Rouge police, case 24-1187", "reported_by": "0192f6a0-0c1d-7f55-9e2a-4b3c6d8e1f02",
    "reported_at": "2026-05-06T12:40:00Z", "revoked_by": null, "revoked_at": null
}))]
pub struct SerialReportView {
    pub id: Uuid,
    pub serial: String,
    pub note: String,
    #[schema(value_type = uuid::Uuid)]
    pub reported_by: UserId,
    pub reported_at: DateTime<Utc>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub revoked_by: Option<UserId>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What the registry knows of a serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SerialStatus {
    Unknown,
    Listed,
    Sold,
    ReportedStolen,
}

/// `GET /v1/serials/{serial}`: what any buyer may learn before paying.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "serial": "HTM3X1234567", "status": "listed", "listing_id": "0192f7a4-8f1e-7cc2-9a55-3c1f0e2b8a01",
    "last_seen_at": "2026-05-05T09:10:00Z"
}))]
pub struct SerialLookup {
    pub serial: String,
    pub status: SerialStatus,
    /// The public lot that lists (or sold) the serial.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub listing_id: Option<ListingId>,
    /// When rigmarket last saw the serial change (registered, sold, reported).
    pub last_seen_at: Option<DateTime<Utc>>,
}
