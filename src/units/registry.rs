//! The serial registry: what anyone may learn of a serial before paying, and
//! the admins' reports of stolen serials. A report flags every open lot that
//! holds the serial and takes a live one back to review; revoking it dismisses
//! those flags. Both are audit-logged in their own transaction.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::model::{SerialLookup, SerialReportView, SerialStatus, UnitStatus};
use super::queries;
use super::rules::normalise_serial;
use crate::audit::{self, AuditAction, AuditEvent};
use crate::db::ids::{ListingId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::listings::serials::{self, SerialFlag};

/// A serial from a path, normalised, or 422.
pub fn checked_serial(raw: &str) -> ApiResult<String> {
    normalise_serial(raw).map_err(|problem| ApiError::validation("serial", problem.as_str()))
}

/// What the registry says about `serial` (normalised).
pub async fn lookup(conn: &mut AsyncPgConnection, serial: &str) -> ApiResult<SerialLookup> {
    let history = queries::history(conn, serial).await?;
    let reports = queries::standing_reports(conn, &[serial]).await?;
    let lot_ids: Vec<ListingId> = history.iter().map(|u| u.listing_id).collect();
    let public = serials::public_lots(conn, &lot_ids).await?;
    let live = serials::live_lots(conn, &lot_ids).await?;
    let listed = history.iter().find(|u| u.in_open_lot && live.contains(&u.listing_id));
    let sold = history.iter().find(|u| u.sold_at.is_some() && u.status == UnitStatus::Accepted);
    let seen_in_public = history.iter().filter(|u| public.contains(&u.listing_id)).map(|u| u.updated_at).max();
    let (status, listing_id, last_seen_at) = if let Some(report) = reports.first() {
        let seen = seen_in_public.map_or(report.reported_at, |at| at.max(report.reported_at));
        (SerialStatus::ReportedStolen, listed.map(|u| u.listing_id), Some(seen))
    } else if let Some(unit) = listed {
        (SerialStatus::Listed, Some(unit.listing_id), seen_in_public)
    } else if let Some(unit) = sold {
        let shown = public.contains(&unit.listing_id).then_some(unit.listing_id);
        (SerialStatus::Sold, shown, sold.and_then(|u| u.sold_at).max(seen_in_public))
    } else {
        // Drafts and closed lots stay private: the registry does not know them.
        (SerialStatus::Unknown, None, None)
    };
    Ok(SerialLookup { serial: serial.to_string(), status, listing_id, last_seen_at })
}

/// Records `serial` as reported stolen, by `admin` with `note`.
pub async fn report_stolen(
    conn: &mut AsyncPgConnection,
    admin: UserId,
    serial: &str,
    note: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<SerialReportView> {
    conn.transaction(async |conn| {
        let report = queries::insert_report(conn, serial, note, admin, now)
            .await?
            .ok_or_else(|| ApiError::conflict("serial_already_reported", "This serial is already reported stolen."))?;
        let details = format!("Serial {serial} is reported stolen: {note}");
        for unit in queries::holders(conn, &[serial]).await? {
            serials::raise(conn, unit.listing_id, SerialFlag::StolenSerial, serial, None, &details, now).await?;
            serials::hold_for_review(conn, unit.listing_id, now).await?;
        }
        let event = AuditEvent::new(AuditAction::SerialReportedStolen)
            .actor(admin)
            .target("serial", serial)
            .ip(ip)
            .details(serde_json::json!({ "note": note }));
        audit::record(conn, event, now).await?;
        Ok(report)
    })
    .await
}

/// Revokes the standing report of `serial`, by `admin`; the lots it flagged
/// have their `stolen_serial` flags dismissed (a held lot waits for review).
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    admin: UserId,
    serial: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<SerialReportView> {
    conn.transaction(async |conn| {
        let report = queries::revoke_report(conn, serial, admin, now).await?.ok_or_else(|| {
            ApiError::not_found("serial_report_not_found", "No standing stolen report for this serial.")
        })?;
        serials::dismiss(conn, SerialFlag::StolenSerial, serial, admin, "stolen report revoked", now).await?;
        let event = AuditEvent::new(AuditAction::SerialReportRevoked).actor(admin).target("serial", serial).ip(ip);
        audit::record(conn, event, now).await?;
        Ok(report)
    })
    .await
}
