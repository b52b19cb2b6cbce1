//! Condition reports: adding one (the seller or an inspector) and reading a
//! listing's reports.

use actix_web::{get, post, web, HttpResponse};

use crate::accounts::AuthUser;
use crate::accounts::ReplicaReads;
use crate::db::ids::ListingId;
use crate::error::ApiResult;
use crate::http::pagination::{page_from, Page, PageParams};
use crate::listings::condition_reports;
use crate::listings::input::{validate_condition_report, ConditionReportInput};
use crate::listings::model::ConditionReport;
use crate::state::AppState;

crate::http::problems::problems!(AddConditionReportProblems {
    403: not_listing_owner | email_not_verified,
    404: listing_not_found,
    409: invalid_listing_status,
    422: validation_failed,
});

/// Add a condition report (the listing's seller, or an inspector).
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = ConditionReportInput,
    responses(
        (status = 201, body = ConditionReport),
        AddConditionReportProblems,
    )
)]
#[post("/listings/{id}/condition-reports")]
async fn add_condition_report(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<ListingId>,
    body: web::Json<ConditionReportInput>,
) -> ApiResult<HttpResponse> {
    user.require_verified()?;
    validate_condition_report(&body).into_result()?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let report = condition_reports::add(&mut conn, &user, *id, &body, now).await?;
    Ok(HttpResponse::Created().json(report))
}

crate::http::problems::problems!(ListConditionReportsProblems { 404: listing_not_found });

/// Every condition report of a listing, newest first.
#[utoipa::path(
    tag = "listings",
    params(("id" = Uuid, Path, description = "Listing id"), PageParams),
    responses(
        (status = 200, body = inline(Page<ConditionReport>)),
        ListConditionReportsProblems,
    )
)]
#[get("/listings/{id}/condition-reports")]
async fn list_condition_reports(
    reads: ReplicaReads,
    viewer: Option<AuthUser>,
    id: web::Path<ListingId>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<ConditionReport>>> {
    let limit = page.limit()?;
    let before = page.cursor::<i32>()?;
    let mut conn = reads.conn().await?;
    let rows = condition_reports::of_listing(&mut conn, *id, viewer.as_ref(), before, limit + 1).await?;
    let (items, next_cursor) = page_from(rows, limit, |report| report.version);
    Ok(web::Json(Page { items, next_cursor }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(add_condition_report).service(list_condition_reports);
}
