//! `/v1/me/webhooks` (the caller's endpoints and their delivery logs) and
//! `/v1/webhook-event-types`.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use utoipa::ToSchema;

use super::deliveries;
use super::endpoints::{self, EndpointChanges, NewEndpoint};
use super::model::{DeliveryView, EndpointView, EndpointWithSecret};
use super::secrets::Sealer;
use crate::accounts::AuthUser;
use crate::db::ids::{WebhookDeliveryId, WebhookEndpointId};
use crate::error::ApiResult;
use crate::events::catalog::EventTypeView;
use crate::http::pagination::{page_from, Page, PageParams};
use crate::state::AppState;

/// Every event type an endpoint can subscribe to.
#[utoipa::path(tag = "webhooks", responses((status = 200, body = Vec<EventTypeView>)))]
#[get("/webhook-event-types")]
async fn list_event_types() -> web::Json<Vec<EventTypeView>> {
    web::Json(EventTypeView::all())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://erp.example.com/hooks/rigmarket", "event_types": ["order.paid"], "description": "ERP"}))]
pub struct CreateEndpoint {
    /// `https://` and a public address (see `RIGMARKET_WEBHOOK_ALLOW_PRIVATE`).
    url: String,
    /// Names from `GET /v1/webhook-event-types`.
    event_types: Vec<String>,
    description: Option<String>,
}

crate::http::problems::problems!(CreateEndpointProblems {
    403: email_not_verified,
    409: too_many_webhook_endpoints,
    422: validation_failed | webhook_url_refused | webhook_url_unresolvable,
});

/// Register an endpoint. The signing secret is shown only in this answer.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    request_body = CreateEndpoint,
    responses((status = 201, body = EndpointWithSecret), CreateEndpointProblems)
)]
#[post("/me/webhooks")]
async fn create_endpoint(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<CreateEndpoint>,
) -> ApiResult<HttpResponse> {
    user.require_verified()?;
    let event_types = endpoints::checked_types(&body.event_types)?;
    let description = endpoints::checked_description(body.description.as_deref())?;
    let url = endpoints::checked_url(&body.url, state.config.webhooks.allow_private).await?;
    let sealer = Sealer::from_config(&state.config);
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let created =
        endpoints::create(&mut conn, &sealer, user.id(), NewEndpoint { url, event_types, description }, now).await?;
    Ok(HttpResponse::Created().json(created))
}

/// The caller's endpoints, newest first.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = inline(Page<EndpointView>)))
)]
#[get("/me/webhooks")]
async fn list_endpoints(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<EndpointView>>> {
    let limit = page.limit()?;
    let before = page.cursor()?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let rows = endpoints::list(&mut conn, user.id(), before, limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |row| (row.created_at, row.id));
    Ok(web::Json(Page { items: rows.iter().map(|r| EndpointView::of(r, now)).collect(), next_cursor }))
}

crate::http::problems::problems!(EndpointProblems { 404: webhook_endpoint_not_found });

/// One of the caller's endpoints.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 200, body = EndpointView), EndpointProblems)
)]
#[get("/me/webhooks/{id}")]
async fn get_endpoint(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<WebhookEndpointId>,
) -> ApiResult<web::Json<EndpointView>> {
    let mut conn = state.pool.get().await?;
    let row = endpoints::find_own(&mut conn, user.id(), *id).await?;
    Ok(web::Json(EndpointView::of(&row, state.clock.now())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true, "event_types": ["order.paid", "order.shipped"]}))]
pub struct UpdateEndpoint {
    url: Option<String>,
    event_types: Option<Vec<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    /// `true` after fixing a disabled endpoint (its failure count starts again).
    enabled: Option<bool>,
}

crate::http::problems::problems!(UpdateEndpointProblems {
    404: webhook_endpoint_not_found,
    422: validation_failed | webhook_url_refused | webhook_url_unresolvable,
});

/// Change an endpoint's URL, event types, description, or enable/disable it.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    request_body = UpdateEndpoint,
    responses((status = 200, body = EndpointView), UpdateEndpointProblems)
)]
#[patch("/me/webhooks/{id}")]
async fn update_endpoint(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<WebhookEndpointId>,
    body: web::Json<UpdateEndpoint>,
) -> ApiResult<web::Json<EndpointView>> {
    let UpdateEndpoint { url, event_types, description, enabled } = body.into_inner();
    let changes = EndpointChanges {
        event_types: event_types.as_deref().map(endpoints::checked_types).transpose()?,
        description: description.map(|d| endpoints::checked_description(d.as_deref())).transpose()?,
        url: match url {
            Some(url) => Some(endpoints::checked_url(&url, state.config.webhooks.allow_private).await?),
            None => None,
        },
        enabled,
    };
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let row = endpoints::update(&mut conn, user.id(), *id, changes, now).await?;
    Ok(web::Json(EndpointView::of(&row, now)))
}

/// Delete an endpoint and its delivery log.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 204, description = "Deleted"), EndpointProblems)
)]
#[delete("/me/webhooks/{id}")]
async fn delete_endpoint(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<WebhookEndpointId>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    endpoints::delete(&mut conn, user.id(), *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new signing secret, shown only in this answer; the old one keeps signing
/// alongside it for 24 hours (`webhook-signature` then carries both).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 200, body = EndpointWithSecret), EndpointProblems)
)]
#[post("/me/webhooks/{id}/rotate-secret")]
async fn rotate_secret(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<WebhookEndpointId>,
) -> ApiResult<web::Json<EndpointWithSecret>> {
    let sealer = Sealer::from_config(&state.config);
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    Ok(web::Json(endpoints::rotate_secret(&mut conn, &sealer, user.id(), *id, now).await?))
}

/// The endpoint's deliveries, newest first.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id"), PageParams),
    responses((status = 200, body = inline(Page<DeliveryView>)), EndpointProblems)
)]
#[get("/me/webhooks/{id}/deliveries")]
async fn list_deliveries(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<WebhookEndpointId>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<DeliveryView>>> {
    let limit = page.limit()?;
    let before = page.cursor()?;
    let mut conn = state.pool.get().await?;
    let endpoint = endpoints::find_own(&mut conn, user.id(), *id).await?;
    let rows = deliveries::list(&mut conn, endpoint.id, before, limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |row| (row.created_at, row.id));
    Ok(web::Json(Page { items: rows.into_iter().map(DeliveryView::from).collect(), next_cursor }))
}

crate::http::problems::problems!(RedeliverProblems { 404: webhook_endpoint_not_found | webhook_delivery_not_found });

/// Send a delivery again now, with the same `webhook-id` and body.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Endpoint id"),
        ("delivery_id" = Uuid, Path, description = "Delivery id"),
    ),
    responses((status = 202, body = DeliveryView), RedeliverProblems)
)]
#[post("/me/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
async fn redeliver(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(WebhookEndpointId, WebhookDeliveryId)>,
) -> ApiResult<HttpResponse> {
    let (endpoint_id, delivery_id) = path.into_inner();
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let row = conn
        .transaction(async |conn| deliveries::redeliver(conn, user.id(), endpoint_id, delivery_id, now).await)
        .await?;
    Ok(HttpResponse::Accepted().json(DeliveryView::from(row)))
}

/// Send a `webhook.test` message to the endpoint now.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 202, body = DeliveryView), EndpointProblems)
)]
#[post("/me/webhooks/{id}/test")]
async fn send_test(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<WebhookEndpointId>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let row = conn.transaction(async |conn| deliveries::send_test(conn, user.id(), *id, now).await).await?;
    Ok(HttpResponse::Accepted().json(DeliveryView::from(row)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_event_types)
        .service(create_endpoint)
        .service(list_endpoints)
        .service(get_endpoint)
        .service(update_endpoint)
        .service(delete_endpoint)
        .service(rotate_secret)
        .service(list_deliveries)
        .service(redeliver)
        .service(send_test);
}
