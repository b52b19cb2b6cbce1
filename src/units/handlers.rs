//! The units' HTTP API: a lot's units (owner), the public serial registry and
//! the admins' stolen reports. Each handler extracts, authorises, calls one use
//! case and renders.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::model::{SerialLookup, SerialReportView, UnitStatus, UnitView, UnitsAdded};
use super::queries::{self, UnitChanges};
use super::register::{self, UnitEdit};
use super::registry;
use super::rules::{normalise_grade, normalise_mac, normalise_serial, RowProblem, UnitInput};
use crate::accounts::{AuthUser, ReplicaReads};
use crate::db::ids::ListingId;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::client_info;
use crate::http::input::BULK_JSON_LIMIT_BYTES;
use crate::http::pagination::{page_from, Page, PageParams};
use crate::state::AppState;

/// `POST /v1/listings/{id}/units`: 1 to 5,000 units.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddUnits {
    pub units: Vec<UnitInput>,
}

/// Reads a JSON body of up to the bulk limit (the default JSON limit is too
/// small for 5,000 units).
async fn bulk_json<T: serde::de::DeserializeOwned>(mut payload: web::Payload) -> ApiResult<T> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::bad_request("unreadable_body", "The request body could not be read."))?;
        if body.len() + chunk.len() > BULK_JSON_LIMIT_BYTES {
            return Err(ApiError::PayloadTooLarge { limit_bytes: BULK_JSON_LIMIT_BYTES });
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|err| {
        if err.is_data() || err.is_eof() && !body.is_empty() {
            ApiError::unprocessable("invalid_body", format!("The JSON body does not fit the schema: {err}"))
        } else {
            ApiError::bad_request("malformed_json", format!("The body is not valid JSON: {err}"))
        }
    })
}

crate::http::problems::problems!(AddUnitsProblems {
    400: malformed_json,
    403: email_not_verified | not_listing_owner,
    404: listing_not_found,
    409: invalid_listing_status | serial_in_open_lot | lot_not_sold_by_serial,
    413: payload_too_large,
    422: validation_failed | invalid_body,
});

/// Register units of a lot by serial (owner; draft, rejected or live lots).
/// The whole call is refused when any row is bad: `errors` names every bad row
/// (`row` is the index in `units`), and nothing is written.
#[utoipa::path(
    tag = "units",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = AddUnits,
    responses(
        (status = 201, body = UnitsAdded),
        AddUnitsProblems,
    )
)]
#[post("/listings/{id}/units")]
async fn add_units(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<ListingId>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    user.require_verified()?;
    let body: AddUnits = bulk_json(payload).await?;
    let new = register::check_inputs(&body.units, |i| i)?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let batch = register::Batch { seller: Some(&user), dry_run: false, progress: &mut |_| {} };
    let added = register::add_units(&mut conn, *id, new, |i| i, batch, now).await?;
    Ok(HttpResponse::Created().json(added))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitFilter {
    /// Only units in this status.
    #[param(inline)]
    pub status: Option<UnitStatus>,
}

crate::http::problems::problems!(ListUnitsProblems { 404: listing_not_found, 422: validation_failed });

/// The units of a lot, by serial (anyone who may see the lot).
#[utoipa::path(
    tag = "units",
    params(("id" = Uuid, Path, description = "Listing id"), UnitFilter, PageParams),
    responses(
        (status = 200, body = inline(Page<UnitView>)),
        ListUnitsProblems,
    )
)]
#[get("/listings/{id}/units")]
async fn list_units(
    state: web::Data<AppState>,
    user: Option<AuthUser>,
    id: web::Path<ListingId>,
    filter: web::Query<UnitFilter>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<UnitView>>> {
    let limit = page.limit()?;
    let after: Option<String> = page.cursor()?;
    let mut conn = state.pool.get().await?;
    let lot = crate::listings::find_visible(&mut conn, *id, user.as_ref()).await?;
    let rows = queries::page(&mut conn, lot.id, filter.status, after.as_deref(), limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |u| u.serial.clone());
    Ok(web::Json(Page { items: rows.into_iter().map(UnitView::from).collect(), next_cursor }))
}

/// `PATCH .../units/{serial}`: absent leaves a field, `null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grade": "C", "hashboards_working": 2, "notes": "one hashboard dead"}))]
pub struct UpdateUnit {
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    mac: Option<Option<String>>,
    hashboard_serials: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    psu_serial: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    grade: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<i32>)]
    hashboards_working: Option<Option<i32>>,
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    notes: Option<Option<String>>,
}

impl UpdateUnit {
    /// The same rules as registration, field by field.
    fn check(self) -> ApiResult<UnitEdit> {
        let mut errors: Vec<FieldError> = Vec::new();
        let mut field =
            |name: &str, result: Result<String, RowProblem>| result.map_err(|p| errors.push(p.at(0, name))).ok();
        let changes = UnitChanges {
            mac: self.mac.map(|m| m.and_then(|m| field("mac", normalise_mac(&m)))),
            hashboard_serials: self
                .hashboard_serials
                .map(|all| all.iter().filter_map(|s| field("hashboard_serials", normalise_serial(s))).collect()),
            psu_serial: self.psu_serial.map(|p| p.and_then(|p| field("psu_serial", normalise_serial(&p)))),
            grade: self.grade.map(|g| g.and_then(|g| field("grade", normalise_grade(&g)))),
            hashboards_working: self.hashboards_working,
            notes: self.notes.map(|n| n.map(|n| n.trim().to_string()).filter(|n| !n.is_empty())),
            updated_at: None,
        };
        if let Some(Some(n)) = changes.hashboards_working {
            if !(0..=16).contains(&n) {
                errors.push(RowProblem::OutOfRange.at(0, "hashboards_working"));
            }
        }
        if changes.notes.as_ref().and_then(|n| n.as_ref()).is_some_and(|n| n.chars().count() > 1_000) {
            errors.push(RowProblem::TooLong.at(0, "notes"));
        }
        if errors.is_empty() {
            Ok(UnitEdit { changes })
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

crate::http::problems::problems!(ChangeUnitProblems {
    403: not_listing_owner,
    404: listing_not_found | unit_not_found,
    409: invalid_listing_status | unit_not_available | last_unit,
    422: validation_failed,
});

/// Change an available unit of a lot (owner).
#[utoipa::path(
    tag = "units",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id"), ("serial" = String, Path, description = "Unit serial")),
    request_body = UpdateUnit,
    responses(
        (status = 200, body = UnitView),
        ChangeUnitProblems,
    )
)]
#[patch("/listings/{id}/units/{serial}")]
async fn update_unit(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(ListingId, String)>,
    body: web::Json<UpdateUnit>,
) -> ApiResult<web::Json<UnitView>> {
    let (id, serial) = path.into_inner();
    let serial = registry::checked_serial(&serial)?;
    let edit = body.into_inner().check()?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    Ok(web::Json(register::update_unit(&mut conn, &user, id, &serial, edit, now).await?))
}

/// Remove an available unit from a lot (owner); a live lot's quantity goes
/// down by one.
#[utoipa::path(
    tag = "units",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id"), ("serial" = String, Path, description = "Unit serial")),
    responses(
        (status = 204, description = "Removed"),
        ChangeUnitProblems,
    )
)]
#[delete("/listings/{id}/units/{serial}")]
async fn delete_unit(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(ListingId, String)>,
) -> ApiResult<HttpResponse> {
    let (id, serial) = path.into_inner();
    let serial = registry::checked_serial(&serial)?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    register::delete_unit(&mut conn, &user, id, &serial, now).await?;
    Ok(HttpResponse::NoContent().finish())
}

crate::http::problems::problems!(SerialLookupProblems { 422: validation_failed });

/// What rigmarket knows of a serial: unknown, listed (with the lot), sold or
/// reported stolen. Public, so any buyer can check a rig before paying.
#[utoipa::path(
    tag = "units",
    params(("serial" = String, Path, description = "Unit serial (any case)")),
    responses(
        (status = 200, body = SerialLookup),
        SerialLookupProblems,
    )
)]
#[get("/serials/{serial}")]
async fn lookup_serial(reads: ReplicaReads, serial: web::Path<String>) -> ApiResult<web::Json<SerialLookup>> {
    let serial = registry::checked_serial(&serial)?;
    // Public and lag-tolerant: a healthy replica answers (docs/SCALING.md).
    let mut conn = reads.conn().await?;
    Ok(web::Json(registry::lookup(&mut conn, &serial).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Reported by the Baton Rouge police, case 24-1187"}))]
pub struct StolenReport {
    note: String,
}

crate::http::problems::problems!(ReportStolenProblems {
    403: admin_required,
    409: serial_already_reported,
    422: validation_failed,
});

/// Record a serial as reported stolen (admin): lots holding it are flagged,
/// live ones go back to review, and none can be submitted or published.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("serial" = String, Path, description = "Unit serial")),
    request_body = StolenReport,
    responses(
        (status = 201, body = SerialReportView),
        ReportStolenProblems,
    )
)]
#[post("/admin/serials/{serial}/stolen")]
async fn report_stolen(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AuthUser,
    serial: web::Path<String>,
    body: web::Json<StolenReport>,
) -> ApiResult<HttpResponse> {
    admin.require_admin()?;
    let serial = registry::checked_serial(&serial)?;
    let note = crate::listings::moderation::checked_note("note", &body.note)?;
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let report = registry::report_stolen(&mut conn, admin.id(), &serial, &note, ip.as_deref(), now).await?;
    Ok(HttpResponse::Created().json(report))
}

crate::http::problems::problems!(RevokeStolenProblems {
    403: admin_required,
    404: serial_report_not_found,
    422: validation_failed,
});

/// Revoke a serial's stolen report (admin); its flags are dismissed.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("serial" = String, Path, description = "Unit serial")),
    responses(
        (status = 200, body = SerialReportView),
        RevokeStolenProblems,
    )
)]
#[delete("/admin/serials/{serial}/stolen")]
async fn revoke_stolen(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AuthUser,
    serial: web::Path<String>,
) -> ApiResult<web::Json<SerialReportView>> {
    admin.require_admin()?;
    let serial = registry::checked_serial(&serial)?;
    let ip = client_info(&req, state.config.trust_forwarded_for).ip;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    Ok(web::Json(registry::revoke(&mut conn, admin.id(), &serial, ip.as_deref(), now).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(add_units)
        .service(list_units)
        .service(update_unit)
        .service(delete_unit)
        .service(lookup_serial)
        .service(report_stolen)
        .service(revoke_stolen);
}
