//! Catalog endpoints: public reads of rig models and reference prices, and the
//! admin writes that maintain them.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::NaiveDate;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::csv_import::check_model_spec;
use super::events::SpecFollowers;
use super::model::{EffectiveReference, NewReferencePrice, PriceBasis, ReferencePrice, ReferenceSource, RigModelView};
use super::queries::{self, ModelCursor, ModelFilter, ModelSpec, OnExisting};
use super::tiers::EfficiencyTier;
use crate::accounts::AuthUser;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::http::pagination::{page_from, Page, PageParams};
use crate::state::AppState;

const MAX_BATCH: usize = 1000;
const MAX_AMOUNT_CENTS: i64 = 1_000_000_000_000;

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

fn model_not_found() -> ApiError {
    ApiError::not_found("rig_model_not_found", "No rig model has this id.")
}

/// List rig models, ordered by manufacturer and name.
#[utoipa::path(
    tag = "catalog",
    params(ModelQuery, PageParams),
    responses(
        (status = 200, body = inline(Page<RigModelView>)),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/rig-models")]
async fn list_rig_models(
    state: web::Data<AppState>,
    filter: web::Query<ModelQuery>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<RigModelView>>> {
    let limit = page.limit()?;
    let after = page.cursor::<ModelCursor>()?;
    let filter = filter.into_inner();
    let filter = ModelFilter { manufacturer: filter.manufacturer, algorithm: filter.algorithm, tier: filter.tier };
    let mut conn = state.pool.get().await?;
    let rows = queries::list_models(&mut conn, &filter, after, limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |(row, maker)| (maker.clone(), row.name.clone(), row.id));
    Ok(web::Json(Page {
        items: rows.into_iter().map(|(row, maker)| RigModelView::from_row(row, maker)).collect(),
        next_cursor,
    }))
}

/// One rig model, with its effective reference price today.
#[utoipa::path(
    tag = "catalog",
    params(("id" = Uuid, Path, description = "Rig model id")),
    responses(
        (status = 200, body = RigModelView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/rig-models/{id}")]
async fn get_rig_model(state: web::Data<AppState>, id: web::Path<Uuid>) -> ApiResult<web::Json<RigModelView>> {
    let mut conn = state.pool.get().await?;
    let (row, maker) = queries::find_model(&mut conn, *id).await?.ok_or_else(model_not_found)?;
    let reference = queries::effective_reference(&mut conn, &row, state.clock.now().date_naive()).await?;
    let mut view = RigModelView::from_row(row, maker);
    view.reference = reference;
    Ok(web::Json(view))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferencePricesView {
    /// The reference used for discounts today (`null` when none exists).
    pub effective: Option<EffectiveReference>,
    /// The model's own reference prices, newest first (at most 500).
    pub items: Vec<ReferencePrice>,
}

/// A model's reference prices and the one in effect today.
#[utoipa::path(
    tag = "catalog",
    params(("id" = Uuid, Path, description = "Rig model id")),
    responses(
        (status = 200, body = ReferencePricesView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/rig-models/{id}/reference-prices")]
async fn list_reference_prices(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ReferencePricesView>> {
    let mut conn = state.pool.get().await?;
    let (row, _) = queries::find_model(&mut conn, *id).await?.ok_or_else(model_not_found)?;
    let effective = queries::effective_reference(&mut conn, &row, state.clock.now().date_naive()).await?;
    let items = queries::reference_history(&mut conn, row.id, 500).await?;
    Ok(web::Json(ReferencePricesView { effective, items }))
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

fn spec_errors(spec: &ModelSpec) -> Result<(), ApiError> {
    let problems = check_model_spec(spec);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(
            problems.into_iter().map(|(field, message)| FieldError::new(field, message)).collect(),
        ))
    }
}

fn model_exists() -> ApiError {
    ApiError::conflict("rig_model_exists", "This manufacturer already has a model with this name.")
}

fn duplicate_model(err: DieselError) -> ApiError {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => model_exists(),
        other => other.into(),
    }
}

/// Add a rig model (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body = CreateRigModel,
    responses(
        (status = 201, body = RigModelView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/rig-models")]
async fn create_rig_model(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<CreateRigModel>,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let body = body.into_inner();
    let spec = ModelSpec {
        manufacturer: body.manufacturer.trim().to_string(),
        name: body.name.trim().to_string(),
        algorithm: body.algorithm.trim().to_string(),
        hashrate_hs: body.hashrate_hs,
        power_w: body.power_w,
        release_year: body.release_year,
        source: body.source,
    };
    spec_errors(&spec)?;
    let mut conn = state.pool.get().await?;
    if !queries::save_model(&mut conn, &spec, OnExisting::Keep).await? {
        return Err(model_exists());
    }
    let row =
        queries::find_model_by_name(&mut conn, &spec.manufacturer, &spec.name).await?.ok_or_else(model_not_found)?;
    tracing::info!(rig_model.id = %row.id, admin.id = %user.id(), "rig model created");
    Ok(HttpResponse::Created().json(RigModelView::from_row(row, spec.manufacturer)))
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

/// Change a rig model's specification (admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Rig model id")),
    request_body = UpdateRigModel,
    responses(
        (status = 200, body = RigModelView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/admin/rig-models/{id}")]
async fn update_rig_model(
    state: web::Data<AppState>,
    followers: web::Data<SpecFollowers>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateRigModel>,
) -> ApiResult<web::Json<RigModelView>> {
    user.require_admin()?;
    let body = body.into_inner();
    let mut conn = state.pool.get().await?;
    let (row, maker) = queries::find_model(&mut conn, *id).await?.ok_or_else(model_not_found)?;
    let spec = ModelSpec {
        manufacturer: maker.clone(),
        name: body.name.map(|n| n.trim().to_string()).unwrap_or(row.name),
        algorithm: body.algorithm.map(|a| a.trim().to_string()).unwrap_or(row.algorithm),
        hashrate_hs: body.hashrate_hs.unwrap_or(row.hashrate_hs),
        power_w: body.power_w.unwrap_or(row.power_w),
        release_year: body.release_year.or(row.release_year),
        source: body.source.or(row.source),
    };
    spec_errors(&spec)?;
    let now = state.clock.now();
    let updated = conn
        .transaction(async |conn| {
            let updated = queries::update_model(conn, row.id, &spec, now).await.map_err(duplicate_model)?;
            // Open listings carry the model's specs for search; they follow in step.
            followers.0.specs_changed(conn, &updated, now).await?;
            Ok::<_, ApiError>(updated)
        })
        .await?;
    tracing::info!(rig_model.id = %row.id, admin.id = %user.id(), "rig model updated");
    Ok(web::Json(RigModelView::from_row(updated, maker)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReferencePriceInput {
    rig_model_id: Uuid,
    #[schema(example = "2021-05-07")]
    priced_on: NaiveDate,
    basis: PriceBasis,
    /// USD cents per unit or per TH/s, depending on `basis`.
    #[schema(example = 1311750)]
    amount_cents: i64,
    note: Option<String>,
}

/// One reference price, or an array of up to 1,000 (written all or nothing).
#[derive(Debug, ToSchema)]
pub enum ReferencePricesInput {
    One(NewReferencePriceInput),
    Many(Vec<NewReferencePriceInput>),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedReferencePrices {
    pub items: Vec<ReferencePrice>,
}

impl ReferencePricesInput {
    /// Parsed by hand rather than `#[serde(untagged)]`, whose errors do not say
    /// which field is wrong.
    fn parse(body: serde_json::Value) -> Result<Self, ApiError> {
        let parsed = if body.is_array() {
            serde_json::from_value(body).map(Self::Many)
        } else {
            serde_json::from_value(body).map(Self::One)
        };
        parsed.map_err(|err| {
            ApiError::unprocessable("invalid_body", format!("The JSON body does not fit the schema: {err}"))
        })
    }

    fn into_vec(self) -> Vec<NewReferencePriceInput> {
        match self {
            Self::One(one) => vec![one],
            Self::Many(many) => many,
        }
    }
}

/// Add reference prices (admin): one object or an array.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body = ReferencePricesInput,
    responses(
        (status = 201, body = SavedReferencePrices),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/reference-prices")]
async fn create_reference_prices(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let inputs = ReferencePricesInput::parse(body.into_inner())?.into_vec();
    if inputs.is_empty() || inputs.len() > MAX_BATCH {
        return Err(ApiError::validation("items", format!("send between 1 and {MAX_BATCH} prices")));
    }
    let today = state.clock.now().date_naive();
    let mut conn = state.pool.get().await?;
    let requested: Vec<Uuid> = inputs.iter().map(|input| input.rig_model_id).collect();
    let known = queries::existing_model_ids(&mut conn, &requested).await?;
    let mut errors = Vec::new();
    let mut prices = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.into_iter().enumerate() {
        let field = |name: &str| format!("[{index}].{name}");
        if !known.contains(&input.rig_model_id) {
            errors.push(FieldError::new(field("rig_model_id"), "no rig model has this id"));
        }
        if input.priced_on > today {
            errors.push(FieldError::new(field("priced_on"), "must not be in the future"));
        }
        if !(1..=MAX_AMOUNT_CENTS).contains(&input.amount_cents) {
            errors.push(FieldError::new(field("amount_cents"), format!("must be between 1 and {MAX_AMOUNT_CENTS}")));
        }
        if input.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            errors.push(FieldError::new(field("note"), "must be at most 500 characters"));
        }
        prices.push(NewReferencePrice {
            id: Uuid::now_v7(),
            rig_model_id: input.rig_model_id,
            priced_on: input.priced_on,
            basis: input.basis.as_str().to_string(),
            amount_cents: input.amount_cents,
            source: ReferenceSource::Manual.as_str().to_string(),
            note: input.note,
            created_by: Some(user.id()),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = state.clock.now();
    let items = conn
        .transaction(async move |conn| {
            let saved = queries::save_reference_prices(conn, &prices).await?;
            // Listings of these models show the new discount once the job runs.
            let mut models: Vec<Uuid> = saved.iter().map(|p| p.rig_model_id).collect();
            models.sort();
            models.dedup();
            for model in models {
                let changed = super::events::ReferencesChanged { rig_model_id: Some(model) };
                crate::jobs::enqueue(conn, &changed, now).await?;
            }
            Ok::<_, anyhow::Error>(saved)
        })
        .await?;
    tracing::info!(admin.id = %user.id(), count = items.len(), "reference prices saved");
    Ok(HttpResponse::Created().json(SavedReferencePrices { items }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_rig_models)
        .service(get_rig_model)
        .service(list_reference_prices)
        .service(create_rig_model)
        .service(update_rig_model)
        .service(create_reference_prices);
}
