//! Rig models: reading one with its reference price today, and the admin's
//! additions and specification changes. Listings copy a model's specs, so a
//! change is passed to the [`FollowModelSpecs`] in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::csv_import::check_model_spec;
use super::events::FollowModelSpecs;
use super::model::RigModelView;
use super::queries::{self, ModelSpec, OnExisting};
use crate::db::ids::{RigModelId, UserId};
use crate::error::{ApiError, FieldError};

pub fn model_not_found() -> ApiError {
    ApiError::not_found("rig_model_not_found", "No rig model has this id.")
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

/// Every problem with a specification, as one validation error.
fn check_spec(spec: &ModelSpec) -> Result<(), ApiError> {
    let problems = check_model_spec(spec);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(
            problems.into_iter().map(|(field, message)| FieldError::new(field, message)).collect(),
        ))
    }
}

/// A specification as an admin submitted it: the names trimmed, then checked.
pub fn submitted_spec(spec: ModelSpec) -> Result<ModelSpec, ApiError> {
    let spec = ModelSpec {
        manufacturer: spec.manufacturer.trim().to_string(),
        name: spec.name.trim().to_string(),
        algorithm: spec.algorithm.trim().to_string(),
        ..spec
    };
    check_spec(&spec)?;
    Ok(spec)
}

/// One model, with its effective reference price on `today`.
pub async fn model_with_reference(
    conn: &mut AsyncPgConnection,
    id: RigModelId,
    today: NaiveDate,
) -> Result<RigModelView, ApiError> {
    let (row, maker) = queries::find_model(conn, id).await?.ok_or_else(model_not_found)?;
    let reference = queries::effective_reference(conn, &row, today).await?;
    let mut view = RigModelView::from_row(row, maker);
    view.reference = reference;
    Ok(view)
}

/// Adds a model (its manufacturer too, on first use); 409 when the manufacturer
/// already has a model of that name.
pub async fn create(conn: &mut AsyncPgConnection, admin_id: UserId, spec: ModelSpec) -> Result<RigModelView, ApiError> {
    let row = conn
        .transaction(async |conn| {
            if !queries::save_model(conn, &spec, OnExisting::Keep).await? {
                return Err(model_exists());
            }
            queries::find_model_by_name(conn, &spec.manufacturer, &spec.name).await?.ok_or_else(model_not_found)
        })
        .await?;
    tracing::info!(rig_model.id = %row.id, admin.id = %admin_id, "rig model created");
    Ok(RigModelView::from_row(row, spec.manufacturer))
}

/// The fields an admin may change; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct ModelChanges {
    pub name: Option<String>,
    pub algorithm: Option<String>,
    pub hashrate_hs: Option<i64>,
    pub power_w: Option<i32>,
    pub release_year: Option<i16>,
    pub source: Option<String>,
}

/// Changes a model's specification; open listings of it follow in step.
pub async fn update(
    conn: &mut AsyncPgConnection,
    followers: &dyn FollowModelSpecs,
    admin_id: UserId,
    id: RigModelId,
    changes: ModelChanges,
    now: DateTime<Utc>,
) -> Result<RigModelView, ApiError> {
    let (row, maker) = queries::find_model(conn, id).await?.ok_or_else(model_not_found)?;
    let spec = ModelSpec {
        manufacturer: maker.clone(),
        name: changes.name.map(|n| n.trim().to_string()).unwrap_or(row.name),
        algorithm: changes.algorithm.map(|a| a.trim().to_string()).unwrap_or(row.algorithm),
        hashrate_hs: changes.hashrate_hs.unwrap_or(row.hashrate_hs),
        power_w: changes.power_w.unwrap_or(row.power_w),
        release_year: changes.release_year.or(row.release_year),
        source: changes.source.or(row.source),
    };
    check_spec(&spec)?;
    let updated = conn
        .transaction(async |conn| {
            let updated = queries::update_model(conn, row.id, &spec, now).await.map_err(duplicate_model)?;
            // Open listings carry the model's specs for search; they follow in step.
            followers.specs_changed(conn, &updated, now).await?;
            Ok::<_, ApiError>(updated)
        })
        .await?;
    tracing::info!(rig_model.id = %row.id, admin.id = %admin_id, "rig model updated");
    Ok(RigModelView::from_row(updated, maker))
}
