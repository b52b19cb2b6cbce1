//! Flags: any verified user flags a listing; admins see the open flags and
//! resolve them.

use actix_web::{get, post, web, HttpResponse};
use uuid::Uuid;

use crate::accounts::AuthUser;
use crate::db::ids::ListingId;
use crate::error::ApiResult;
use crate::http::pagination::{page_from, Page, PageParams};
use crate::listings::flags::{self, NewFlag, ResolveFlag};
use crate::listings::model::FlagView;
use crate::listings::{flag_queries, moderation};
use crate::state::AppState;

crate::http::problems::problems!(FlagListingProblems {
    403: email_not_verified,
    404: listing_not_found,
    409: already_flagged | own_listing,
});

/// Flag a listing for moderators (one flag per user per listing).
#[utoipa::path(
    tag = "listings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = NewFlag,
    responses(
        (status = 201, body = FlagView),
        FlagListingProblems,
    )
)]
#[post("/listings/{id}/flags")]
async fn flag_listing(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<ListingId>,
    body: web::Json<NewFlag>,
) -> ApiResult<HttpResponse> {
    user.require_verified()?;
    body.check()?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let flag = flags::raise(&mut conn, &user, *id, &body, now).await?;
    Ok(HttpResponse::Created().json(flag))
}

crate::http::problems::problems!(FlagQueueProblems { 403: admin_required });

/// Open flags, newest first (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = inline(Page<FlagView>)),
        FlagQueueProblems,
    )
)]
#[get("/admin/flags")]
async fn flag_queue(
    state: web::Data<AppState>,
    admin: AuthUser,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<FlagView>>> {
    admin.require_admin()?;
    let limit = page.limit()?;
    let before = page.cursor::<Uuid>()?;
    let mut conn = state.pool.get().await?;
    let rows = flag_queries::open_flags(&mut conn, before, limit + 1).await?;
    let (items, next_cursor) = page_from(rows, limit, |flag| flag.id);
    Ok(web::Json(Page { items, next_cursor }))
}

crate::http::problems::problems!(ResolveFlagProblems { 403: admin_required, 404: flag_not_found, 409: flag_resolved });

/// Resolve a flag: dismiss it, or unpublish the listing (admin). Unpublishing
/// resolves every other open flag on that listing too.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Flag id")),
    request_body = ResolveFlag,
    responses(
        (status = 200, body = FlagView),
        ResolveFlagProblems,
    )
)]
#[post("/admin/flags/{id}/resolve")]
async fn resolve_flag(
    state: web::Data<AppState>,
    admin: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<ResolveFlag>,
) -> ApiResult<web::Json<FlagView>> {
    admin.require_admin()?;
    let note = moderation::checked_note("note", &body.note)?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let flag = flags::resolve(&mut conn, admin.id(), *id, body.action, &note, now).await?;
    Ok(web::Json(flag))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(flag_listing).service(flag_queue).service(resolve_flag);
}
