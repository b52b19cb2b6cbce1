//! Condition reports: versioned and append-only. The seller or a user with the
//! `inspector` role adds one; nobody edits or deletes one.

use actix_web::{get, post, web, HttpResponse};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;

use crate::accounts::{AuthUser, ROLE_INSPECTOR};
use crate::db::schema::{condition_reports, listings};
use crate::error::{ApiError, ApiResult, Problem};
use crate::listings::access::{find_visible, listing_not_found, wrong_status};
use crate::listings::input::{validate_condition_report, ConditionReportInput, Cooling, CosmeticGrade, Firmware};
use crate::listings::model::ConditionReport;
use crate::listings::queries;
use crate::state::AppState;

fn grade(g: CosmeticGrade) -> &'static str {
    match g {
        CosmeticGrade::A => "A",
        CosmeticGrade::B => "B",
        CosmeticGrade::C => "C",
        CosmeticGrade::D => "D",
    }
}

/// Add a condition report (the listing's seller, or an inspector).
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = ConditionReportInput,
    responses(
        (status = 201, body = ConditionReport),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/{id}/condition-reports")]
async fn add_condition_report(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<ConditionReportInput>,
) -> ApiResult<HttpResponse> {
    user.require_verified()?;
    let body = body.into_inner();
    validate_condition_report(&body).into_result()?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let report = conn
        .transaction(async |conn| {
            let listing = queries::lock(conn, *id).await?.ok_or_else(listing_not_found)?;
            let role = if listing.seller_id == user.id() {
                "seller"
            } else if user.has_role(ROLE_INSPECTOR) {
                "inspector"
            } else if listing.status().is_public() {
                return Err(ApiError::forbidden(
                    "not_listing_owner",
                    "Only the seller or an inspector can report on this listing.",
                ));
            } else {
                return Err(listing_not_found());
            };
            if !listing.status().is_open() {
                return Err(wrong_status(&listing, "reported on"));
            }
            let version = queries::next_report_version(conn, listing.id).await?;
            let report: ConditionReport = diesel::insert_into(condition_reports::table)
                .values((
                    condition_reports::id.eq(Uuid::now_v7()),
                    condition_reports::listing_id.eq(listing.id),
                    condition_reports::version.eq(version),
                    condition_reports::author_id.eq(user.id()),
                    condition_reports::author_role.eq(role),
                    condition_reports::cosmetic_grade.eq(grade(body.cosmetic_grade)),
                    condition_reports::hashboards_total.eq(body.hashboards_total),
                    condition_reports::hashboards_working.eq(body.hashboards_working),
                    condition_reports::fans_total.eq(body.fans_total),
                    condition_reports::fans_working.eq(body.fans_working),
                    condition_reports::psu_included.eq(body.psu_included),
                    condition_reports::psu_model.eq(&body.psu_model),
                    condition_reports::firmware.eq(match body.firmware {
                        Firmware::Stock => "stock",
                        Firmware::Custom => "custom",
                    }),
                    condition_reports::firmware_version.eq(&body.firmware_version),
                    condition_reports::cooling_history.eq(match body.cooling_history {
                        Cooling::Air => "air",
                        Cooling::Hydro => "hydro",
                        Cooling::Immersion => "immersion",
                    }),
                    condition_reports::operating_hours.eq(body.operating_hours),
                    condition_reports::last_hashrate_hs.eq(body.last_hashrate_hs),
                    condition_reports::last_power_w.eq(body.last_power_w),
                    condition_reports::max_chip_temp_c.eq(body.max_chip_temp_c),
                    condition_reports::repairs.eq(&body.repairs),
                    condition_reports::notes.eq(&body.notes),
                    condition_reports::created_at.eq(now),
                ))
                .returning(ConditionReport::as_returning())
                .get_result(conn)
                .await?;
            diesel::update(listings::table.find(listing.id))
                .set((listings::latest_condition_grade.eq(&report.cosmetic_grade), listings::updated_at.eq(now)))
                .execute(conn)
                .await?;
            Ok::<_, ApiError>(report)
        })
        .await?;
    Ok(HttpResponse::Created().json(report))
}

/// Every condition report of a listing, newest first.
#[utoipa::path(
    tag = "listings",
    params(("id" = Uuid, Path, description = "Listing id")),
    responses(
        (status = 200, body = Vec<ConditionReport>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings/{id}/condition-reports")]
async fn list_condition_reports(
    state: web::Data<AppState>,
    viewer: Option<AuthUser>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Vec<ConditionReport>>> {
    let mut conn = state.pool.get().await?;
    let listing = find_visible(&mut conn, *id, viewer.as_ref()).await?;
    Ok(web::Json(queries::condition_reports(&mut conn, listing.id).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(add_condition_report).service(list_condition_reports);
}
