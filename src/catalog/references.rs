//! Reference prices: a model's history with the one in effect today, and the
//! admin's batches of new prices (written all or nothing, each model's listings
//! then refreshed by the [`ReferencesChanged`] job).

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::events::ReferencesChanged;
use super::model::{NewReferencePrice, PriceBasis, ReferencePricesView, ReferenceSource, SavedReferencePrices};
use super::models::model_not_found;
use super::queries;
use crate::db::ids::{RigModelId, UserId};
use crate::error::{ApiError, FieldError};

const MAX_BATCH: usize = 1000;
const MAX_AMOUNT_CENTS: i64 = 1_000_000_000_000;
/// How much of a model's history its reference-price page shows.
const HISTORY_LIMIT: i64 = 500;

/// A model's reference prices, newest first, and the one in effect on `today`.
pub async fn history(
    conn: &mut AsyncPgConnection,
    model_id: RigModelId,
    today: NaiveDate,
) -> Result<ReferencePricesView, ApiError> {
    let (row, _) = queries::find_model(conn, model_id).await?.ok_or_else(model_not_found)?;
    let effective = queries::effective_reference(conn, &row, today).await?;
    let items = queries::reference_history(conn, row.id, HISTORY_LIMIT).await?;
    Ok(ReferencePricesView { effective, items })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReferencePriceInput {
    #[schema(value_type = uuid::Uuid)]
    rig_model_id: RigModelId,
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

impl ReferencePricesInput {
    /// The prices of a request body: one object or an array of 1 to 1,000.
    /// Parsed by hand rather than `#[serde(untagged)]`, whose errors do not say
    /// which field is wrong.
    pub fn parse(body: serde_json::Value) -> Result<Vec<NewReferencePriceInput>, ApiError> {
        let parsed = if body.is_array() {
            serde_json::from_value(body).map(Self::Many)
        } else {
            serde_json::from_value(body).map(Self::One)
        };
        let inputs = parsed
            .map_err(|err| {
                ApiError::unprocessable("invalid_body", format!("The JSON body does not fit the schema: {err}"))
            })?
            .into_vec();
        if inputs.is_empty() || inputs.len() > MAX_BATCH {
            return Err(ApiError::validation("items", format!("send between 1 and {MAX_BATCH} prices")));
        }
        Ok(inputs)
    }

    fn into_vec(self) -> Vec<NewReferencePriceInput> {
        match self {
            Self::One(one) => vec![one],
            Self::Many(many) => many,
        }
    }
}

/// Checks every price against the catalog and `today`, reporting all problems
/// at once (fields named `[index].field`), and makes them rows.
async fn checked_prices(
    conn: &mut AsyncPgConnection,
    admin_id: UserId,
    inputs: Vec<NewReferencePriceInput>,
    today: NaiveDate,
) -> Result<Vec<NewReferencePrice>, ApiError> {
    let requested: Vec<RigModelId> = inputs.iter().map(|input| input.rig_model_id).collect();
    let known = queries::existing_model_ids(conn, &requested).await?;
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
            created_by: Some(admin_id),
        });
    }
    if errors.is_empty() {
        Ok(prices)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Saves an admin's prices in one transaction, with one refresh job per model.
pub async fn add(
    conn: &mut AsyncPgConnection,
    admin_id: UserId,
    inputs: Vec<NewReferencePriceInput>,
    now: DateTime<Utc>,
) -> Result<SavedReferencePrices, ApiError> {
    let prices = checked_prices(conn, admin_id, inputs, now.date_naive()).await?;
    let items = conn
        .transaction(async move |conn| {
            let saved = queries::save_reference_prices(conn, &prices).await?;
            // Listings of these models show the new discount once the job runs.
            let mut models: Vec<RigModelId> = saved.iter().map(|p| p.rig_model_id).collect();
            models.sort();
            models.dedup();
            for model in models {
                crate::jobs::enqueue(conn, &ReferencesChanged { rig_model_id: Some(model) }, now).await?;
            }
            Ok::<_, anyhow::Error>(saved)
        })
        .await?;
    tracing::info!(admin.id = %admin_id, count = items.len(), "reference prices saved");
    Ok(SavedReferencePrices { items })
}
