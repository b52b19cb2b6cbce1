//! Endpoint use cases: register, list, change, delete, rotate the secret. The
//! URL is checked (form and resolved addresses) on every write; delivery checks
//! it again, because DNS answers change.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::address::{self, UrlRefusal};
use super::model::{EndpointRow, EndpointView, EndpointWithSecret};
use super::secrets::{self, Sealer};
use crate::db::ids::{UserId, WebhookEndpointId};
use crate::db::schema::webhook_endpoints;
use crate::error::ApiError;
use crate::events::EventKind;

/// Endpoints one user may have.
pub const MAX_ENDPOINTS_PER_USER: i64 = 20;
/// How long a rotated-out secret keeps signing.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
const MAX_URL_LEN: usize = 2_000;
const MAX_DESCRIPTION_CHARS: usize = 200;

pub fn endpoint_not_found() -> ApiError {
    ApiError::not_found("webhook_endpoint_not_found", "No such webhook endpoint of yours.")
}

/// Parses and checks an endpoint URL; `allow_private` lifts the https and
/// address rules.
pub async fn checked_url(text: &str, allow_private: bool) -> Result<Url, ApiError> {
    let text = text.trim();
    if text.len() > MAX_URL_LEN {
        return Err(ApiError::validation("url", format!("must be at most {MAX_URL_LEN} characters")));
    }
    let url = Url::parse(text).map_err(|_| ApiError::validation("url", "is not an absolute URL"))?;
    match address::resolve_checked(&url, allow_private).await {
        Ok(_) => Ok(url),
        Err(UrlRefusal::Unresolvable) => {
            Err(ApiError::unprocessable("webhook_url_unresolvable", "The URL's host does not resolve."))
        }
        Err(refusal @ (UrlRefusal::NotHttps | UrlRefusal::Malformed)) => {
            Err(ApiError::validation("url", refusal.to_string()))
        }
        Err(refusal @ UrlRefusal::Refused { .. }) => Err(ApiError::unprocessable(
            "webhook_url_refused",
            format!("{refusal}; webhooks go to public addresses only."),
        )),
    }
}

/// Event type names, each in the catalog, without repeats; at least one.
pub fn checked_types(names: &[String]) -> Result<Vec<String>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::validation("event_types", "name at least one event type"));
    }
    let mut types: Vec<String> = Vec::new();
    for name in names {
        if EventKind::parse(name).is_none() {
            return Err(ApiError::validation(
                "event_types",
                format!("`{name}` is not an event type (see GET /v1/webhook-event-types)"),
            ));
        }
        if !types.contains(name) {
            types.push(name.clone());
        }
    }
    Ok(types)
}

pub fn checked_description(text: Option<&str>) -> Result<Option<String>, ApiError> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|t| t.chars().count() > MAX_DESCRIPTION_CHARS) {
        return Err(ApiError::validation("description", format!("must be at most {MAX_DESCRIPTION_CHARS} characters")));
    }
    Ok(text.map(str::to_string))
}

pub struct NewEndpoint {
    pub url: Url,
    pub event_types: Vec<String>,
    pub description: Option<String>,
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    sealer: &Sealer,
    user_id: UserId,
    new: NewEndpoint,
    now: DateTime<Utc>,
) -> Result<EndpointWithSecret, ApiError> {
    let count: i64 =
        webhook_endpoints::table.filter(webhook_endpoints::user_id.eq(user_id)).count().get_result(conn).await?;
    if count >= MAX_ENDPOINTS_PER_USER {
        return Err(ApiError::conflict(
            "too_many_webhook_endpoints",
            format!("At most {MAX_ENDPOINTS_PER_USER} webhook endpoints per account; delete one first."),
        ));
    }
    let secret = secrets::generate();
    let row: EndpointRow = diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(WebhookEndpointId::new()),
            webhook_endpoints::user_id.eq(user_id),
            webhook_endpoints::url.eq(new.url.as_str()),
            webhook_endpoints::description.eq(new.description),
            webhook_endpoints::event_types.eq(new.event_types),
            webhook_endpoints::secret_sealed.eq(sealer.seal(&secret)),
            webhook_endpoints::created_at.eq(now),
            webhook_endpoints::updated_at.eq(now),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await?;
    tracing::info!(webhook.endpoint_id = %row.id, user.id = %user_id, "webhook endpoint registered");
    Ok(with_secret(&row, &secret, now))
}

fn with_secret(row: &EndpointRow, secret: &SecretString, now: DateTime<Utc>) -> EndpointWithSecret {
    EndpointWithSecret { endpoint: EndpointView::of(row, now), secret: secret.expose_secret().to_string() }
}

/// The caller's endpoint, locked for the rest of the transaction when `lock`.
pub async fn find_own(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    id: WebhookEndpointId,
) -> Result<EndpointRow, ApiError> {
    webhook_endpoints::table
        .find(id)
        .filter(webhook_endpoints::user_id.eq(user_id))
        .select(EndpointRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(endpoint_not_found)
}

pub async fn find(conn: &mut AsyncPgConnection, id: WebhookEndpointId) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table.find(id).select(EndpointRow::as_select()).first(conn).await.optional()
}

/// The caller's endpoints, newest first, after the `before` cursor.
pub async fn list(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    before: Option<(DateTime<Utc>, WebhookEndpointId)>,
    limit: i64,
) -> QueryResult<Vec<EndpointRow>> {
    let mut query = webhook_endpoints::table
        .filter(webhook_endpoints::user_id.eq(user_id))
        .order((webhook_endpoints::created_at.desc(), webhook_endpoints::id.desc()))
        .limit(limit)
        .select(EndpointRow::as_select())
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            webhook_endpoints::created_at
                .lt(at)
                .or(webhook_endpoints::created_at.eq(at).and(webhook_endpoints::id.lt(id))),
        );
    }
    query.load(conn).await
}

#[derive(Default)]
pub struct EndpointChanges {
    pub url: Option<Url>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    id: WebhookEndpointId,
    changes: EndpointChanges,
    now: DateTime<Utc>,
) -> Result<EndpointRow, ApiError> {
    let row = find_own(conn, user_id, id).await?;
    let enabled = changes.enabled.unwrap_or(row.enabled);
    // Enabling again starts a fresh count of failures.
    let reenabled = enabled && !row.enabled;
    let updated = diesel::update(webhook_endpoints::table.find(row.id))
        .set((
            webhook_endpoints::url.eq(changes.url.map_or(row.url, |u| u.to_string())),
            webhook_endpoints::event_types.eq(changes.event_types.unwrap_or(row.event_types)),
            webhook_endpoints::description.eq(changes.description.unwrap_or(row.description)),
            webhook_endpoints::enabled.eq(enabled),
            webhook_endpoints::disabled_reason.eq(if enabled {
                None
            } else {
                row.disabled_reason.or(Some("manual".into()))
            }),
            webhook_endpoints::failing_since.eq(if reenabled { None } else { row.failing_since }),
            webhook_endpoints::updated_at.eq(now),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(updated)
}

pub async fn delete(conn: &mut AsyncPgConnection, user_id: UserId, id: WebhookEndpointId) -> Result<(), ApiError> {
    let deleted = diesel::delete(webhook_endpoints::table.find(id).filter(webhook_endpoints::user_id.eq(user_id)))
        .execute(conn)
        .await?;
    if deleted == 0 {
        return Err(endpoint_not_found());
    }
    Ok(())
}

/// A new secret; the current one keeps signing alongside it for
/// [`ROTATION_OVERLAP`] so receivers can switch without missing a delivery.
pub async fn rotate_secret(
    conn: &mut AsyncPgConnection,
    sealer: &Sealer,
    user_id: UserId,
    id: WebhookEndpointId,
    now: DateTime<Utc>,
) -> Result<EndpointWithSecret, ApiError> {
    let row = find_own(conn, user_id, id).await?;
    let secret = secrets::generate();
    let updated: EndpointRow = diesel::update(webhook_endpoints::table.find(row.id))
        .set((
            webhook_endpoints::secret_sealed.eq(sealer.seal(&secret)),
            webhook_endpoints::previous_secret_sealed.eq(Some(row.secret_sealed)),
            webhook_endpoints::previous_secret_until.eq(Some(now + ROTATION_OVERLAP)),
            webhook_endpoints::updated_at.eq(now),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(with_secret(&updated, &secret, now))
}

/// The HMAC keys that sign deliveries to `row` at `now`: the current secret,
/// and the previous one during a rotation.
pub fn signing_keys(sealer: &Sealer, row: &EndpointRow, now: DateTime<Utc>) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut keys = vec![secrets::key_bytes(sealer.open(&row.secret_sealed)?.expose_secret())?];
    if let (Some(previous), Some(until)) = (&row.previous_secret_sealed, row.previous_secret_until) {
        if now < until {
            keys.push(secrets::key_bytes(sealer.open(previous)?.expose_secret())?);
        }
    }
    Ok(keys)
}

/// Enabled endpoints of any of `users` subscribed to `event_type`.
pub async fn subscribed(
    conn: &mut AsyncPgConnection,
    users: &[uuid::Uuid],
    event_type: &str,
) -> QueryResult<Vec<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::enabled.eq(true))
        .filter(webhook_endpoints::user_id.eq_any(users))
        .filter(webhook_endpoints::event_types.contains(vec![event_type.to_string()]))
        .order(webhook_endpoints::id)
        .select(EndpointRow::as_select())
        .load(conn)
        .await
}

/// Records a failed attempt on the endpoint: the failing run starts now unless
/// it already has. Returns when it started.
pub async fn note_failure(
    conn: &mut AsyncPgConnection,
    row: &EndpointRow,
    now: DateTime<Utc>,
) -> QueryResult<DateTime<Utc>> {
    let since = row.failing_since.unwrap_or(now);
    if row.failing_since.is_none() {
        diesel::update(webhook_endpoints::table.find(row.id))
            .set(webhook_endpoints::failing_since.eq(Some(now)))
            .execute(conn)
            .await?;
    }
    Ok(since)
}

pub async fn note_success(conn: &mut AsyncPgConnection, row: &EndpointRow) -> QueryResult<()> {
    if row.failing_since.is_some() {
        diesel::update(webhook_endpoints::table.find(row.id))
            .set(webhook_endpoints::failing_since.eq(None::<DateTime<Utc>>))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Stops deliveries to the endpoint (`reason`: `gone` or `failing`).
pub async fn disable(
    conn: &mut AsyncPgConnection,
    id: WebhookEndpointId,
    reason: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(id))
        .set((
            webhook_endpoints::enabled.eq(false),
            webhook_endpoints::disabled_reason.eq(Some(reason)),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the endpoint slow until `until`: its other attempts wait instead of
/// each holding a worker on a receiver that does not answer.
pub async fn mark_slow(conn: &mut AsyncPgConnection, id: WebhookEndpointId, until: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(id))
        .set(webhook_endpoints::slow_until.eq(Some(until)))
        .execute(conn)
        .await?;
    Ok(())
}
