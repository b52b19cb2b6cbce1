//! Catalog endpoints: public reads of rig models and reference prices, and the
//! admin writes that maintain them.

use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::events::SpecFollowers;
use super::model::{ReferencePricesView, RigModelView, SavedReferencePrices};
use super::models::{self, ModelChanges};
use super::page_cache::{self, CatalogPages};
use super::queries::{self, ModelCursor, ModelFilter, ModelSpec};
use super::references::{self, ReferencePricesInput};
use super::tiers::EfficiencyTier;
use crate::accounts::AuthUser;
use crate::accounts::ReplicaReads;
use crate::db::ids::RigModelId;
use crate::error::ApiResult;
use crate::http::pagination::{page_from, Page, PageParams};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModelQuery {
    /// Manufacturer name, case-insensitive (e.g. `bitmain`).
    manufacturer: Option<String>,
    /// Algorithm, case-insensitive (e.g. `SHA-256`).
    algorithm: Option<String>,
    /// Efficiency tier.
    #[param(inline)]
    tier: Option<EfficiencyTier>,
}

crate::http::problems::problems!(ListRigModelsProblems { 422: validation_failed });

/// List rig models, ordered by manufacturer and name.
#[utoipa::path(
    tag = "catalog",
    params(ModelQuery, PageParams),
    responses(
        (status = 200, body = inline(Page<RigModelView>)),
        ListRigModelsProblems,
    )
)]
#[get("/rig-models")]
async fn list_rig_models(
    pages: web::Data<CatalogPages>,
    req: HttpRequest,
    reads: ReplicaReads,
    filter: web::Query<ModelQuery>,
    page: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let key = req.query_string().to_string();
    // A page kept for this query is checked against a fresh version read;
    // without one, the version is read with the page, on one connection.
    if pages.has(&key) {
        let version = pages.version(&reads).await?;
        if let Some(body) = pages.get(&key, version) {
            return Ok(json_page(body));
        }
    }
    let (limit, after) = (page.limit()?, page.cursor::<ModelCursor>()?);
    let mut conn = reads.conn().await?;
    let version = page_cache::current_version(&mut conn).await?;
    let ModelQuery { manufacturer, algorithm, tier } = filter.into_inner();
    let filter = ModelFilter { manufacturer, algorithm, tier };
    let rows = queries::list_models(&mut conn, &filter, after, limit + 1).await?;
    drop(conn);
    let (rows, next_cursor) = page_from(rows, limit, |(row, maker)| (maker.clone(), row.name.clone(), row.id));
    let page =
        Page { items: rows.into_iter().map(|(row, maker)| RigModelView::from_row(row, maker)).collect(), next_cursor };
    let body = Bytes::from(serde_json::to_vec(&page).map_err(anyhow::Error::from)?);
    pages.put(key, version, body.clone());
    Ok(json_page(body))
}

fn json_page(body: Bytes) -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::json()).body(body)
}

crate::http::problems::problems!(GetRigModelProblems { 404: rig_model_not_found });

/// One rig model, with its effective reference price today.
#[utoipa::path(
    tag = "catalog",
    params(("id" = Uuid, Path, description = "Rig model id")),
    responses(
        (status = 200, body = RigModelView),
        GetRigModelProblems,
    )
)]
#[get("/rig-models/{id}")]
async fn get_rig_model(
    state: web::Data<AppState>,
    reads: ReplicaReads,
    id: web::Path<RigModelId>,
) -> ApiResult<web::Json<RigModelView>> {
    let today = state.clock.now().date_naive();
    let mut conn = reads.conn().await?;
    Ok(web::Json(models::model_with_reference(&mut conn, *id, today).await?))
}

crate::http::problems::problems!(ListReferencePricesProblems { 404: rig_model_not_found });

/// A model's reference prices and the one in effect today.
#[utoipa::path(
    tag = "catalog",
    params(("id" = Uuid, Path, description = "Rig model id")),
    responses(
        (status = 200, body = ReferencePricesView),
        ListReferencePricesProblems,
    )
)]
#[get("/rig-models/{id}/reference-prices")]
async fn list_reference_prices(
    state: web::Data<AppState>,
    reads: ReplicaReads,
    id: web::Path<RigModelId>,
) -> ApiResult<web::Json<ReferencePricesView>> {
    let today = state.clock.now().date_naive();
    let mut conn = reads.conn().await?;
    Ok(web::Json(references::history(&mut conn, *id, today).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRigModel {
    #[schema(example = "Bitmain")]
    manufacturer: String,
    #[schema(example = "Antminer S19k Pro")]
    name: String,
    #[schema(example = "SHA-256")]
    #[serde(default = "default_algorithm")]
    algorithm: String,
    /// Nominal hashrate in H/s.
    #[schema(example = 120000000000000_i64)]
    hashrate_hs: i64,
    #[schema(example = 2760)]
    power_w: i32,
    #[schema(example = 2023)]
    release_year: Option<i16>,
    source: Option<String>,
}

fn default_algorithm() -> String {
    "SHA-256".into()
}

crate::http::problems::problems!(CreateRigModelProblems {
    403: admin_required,
    409: rig_model_exists,
    422: validation_failed,
});

/// Add a rig model (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body = CreateRigModel,
    responses(
        (status = 201, body = RigModelView),
        CreateRigModelProblems,
    )
)]
#[post("/admin/rig-models")]
async fn create_rig_model(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<CreateRigModel>,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let CreateRigModel { manufacturer, name, algorithm, hashrate_hs, power_w, release_year, source } =
        body.into_inner();
    let spec = models::submitted_spec(ModelSpec {
        manufacturer,
        name,
        algorithm,
        hashrate_hs,
        power_w,
        release_year,
        source,
    })?;
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Created().json(models::create(&mut conn, user.id(), spec).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRigModel {
    name: Option<String>,
    algorithm: Option<String>,
    hashrate_hs: Option<i64>,
    power_w: Option<i32>,
    release_year: Option<i16>,
    source: Option<String>,
}

crate::http::problems::problems!(UpdateRigModelProblems {
    403: admin_required,
    404: rig_model_not_found,
    409: rig_model_exists,
});

/// Change a rig model's specification (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Rig model id")),
    request_body = UpdateRigModel,
    responses(
        (status = 200, body = RigModelView),
        UpdateRigModelProblems,
    )
)]
#[patch("/admin/rig-models/{id}")]
async fn update_rig_model(
    state: web::Data<AppState>,
    followers: web::Data<SpecFollowers>,
    user: AuthUser,
    id: web::Path<RigModelId>,
    body: web::Json<UpdateRigModel>,
) -> ApiResult<web::Json<RigModelView>> {
    user.require_admin()?;
    let UpdateRigModel { name, algorithm, hashrate_hs, power_w, release_year, source } = body.into_inner();
    let changes = ModelChanges { name, algorithm, hashrate_hs, power_w, release_year, source };
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    Ok(web::Json(models::update(&mut conn, followers.0.as_ref(), user.id(), *id, changes, now).await?))
}

crate::http::problems::problems!(CreateReferencePricesProblems { 403: admin_required, 422: validation_failed });

/// Add reference prices (admin): one object or an array.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body = ReferencePricesInput,
    responses(
        (status = 201, body = SavedReferencePrices),
        CreateReferencePricesProblems,
    )
)]
#[post("/admin/reference-prices")]
async fn create_reference_prices(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let inputs = ReferencePricesInput::parse(body.into_inner())?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    Ok(HttpResponse::Created().json(references::add(&mut conn, user.id(), inputs, now).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_rig_models)
        .service(get_rig_model)
        .service(list_reference_prices)
        .service(create_rig_model)
        .service(update_rig_model)
        .service(create_reference_prices);
}
