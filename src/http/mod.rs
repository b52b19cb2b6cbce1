//! The HTTP layer: middleware (request ids, metrics, CORS, gzip, body limits),
//! problem+json for every framework-level rejection, and route registration.
//!
//! Routes are registered through `utoipa-actix-web`, so the OpenAPI document is
//! collected from the same registrations that serve traffic and cannot drift.

pub mod health;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod patch;

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::{Server, Service, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{middleware, web, App, HttpMessage, HttpRequest, HttpServer};
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa_actix_web::AppExt;

use crate::error::ApiError;
use crate::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Every documented route. Used by the server and by `openapi::spec()`.
pub fn configure_api(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    health::configure(cfg);
    cfg.service(
        utoipa_actix_web::scope("/v1")
            .configure(crate::catalog::configure)
            .configure(crate::accounts::configure)
            .configure(crate::listings::configure)
            .configure(crate::proofs::configure)
            .configure(crate::orders::configure)
            .configure(crate::ledger::configure)
            .configure(crate::index::configure),
    );
}

pub fn server(state: AppState, listener: TcpListener) -> anyhow::Result<Server> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let server = HttpServer::new(move || {
        let (app, spec) =
            App::new().into_utoipa_app().openapi(openapi::base()).configure(configure_api).split_for_parts();
        app.app_data(web::Data::new(state.clone()))
            .app_data(json_config(state.config.json_limit_bytes))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .configure(crate::storage::local_routes)
            .configure(|cfg| openapi::docs_routes(cfg, spec))
            .default_service(web::to(not_found))
            .wrap(middleware::Compress::default())
            .wrap(cors(&state.config.cors_origins))
            .wrap_fn(metrics::record)
            .wrap_fn(|req, srv| {
                let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
                let fut = srv.call(req);
                async move {
                    let mut res: ServiceResponse<_> = fut.await?;
                    let quota = res.request().extensions().get::<crate::ratelimit::Quota>().copied();
                    let headers = res.headers_mut();
                    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                        headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), id);
                    }
                    if let Some(quota) = quota {
                        for (name, value) in [
                            ("ratelimit-limit", quota.limit as u64),
                            ("ratelimit-remaining", quota.remaining as u64),
                            ("ratelimit-reset", quota.reset_secs),
                        ] {
                            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
                        }
                    }
                    Ok(res)
                }
            })
            .wrap(TracingLogger::default())
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(30)
    .listen(listener)?
    .run();
    Ok(server)
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-api-key"),
        ])
        .expose_headers([
            HeaderName::from_static(REQUEST_ID_HEADER),
            header::RETRY_AFTER,
            header::ETAG,
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
            HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = if origin == "*" { cors.allow_any_origin() } else { cors.allowed_origin(origin) };
    }
    cors
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(move |err, _req| json_error(err, limit).into())
}

/// Syntax errors are 400; a well-formed body with wrong types, unknown fields or
/// unknown enum values is 422 with serde's message, which names the field but
/// nothing internal.
fn json_error(err: JsonPayloadError, limit: usize) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::PayloadTooLarge { limit_bytes: limit }
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType { detail: "Send the body as application/json.".into() }
        }
        JsonPayloadError::Deserialize(err) if err.is_data() => {
            ApiError::unprocessable("invalid_body", format!("The JSON body does not fit the schema: {err}"))
        }
        JsonPayloadError::Deserialize(err) => {
            ApiError::bad_request("malformed_json", format!("The body is not valid JSON: {err}"))
        }
        _ => ApiError::bad_request("unreadable_body", "The request body could not be read."),
    }
}

fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    let PathError::Deserialize(err) = err else {
        return ApiError::bad_request("invalid_path", "Invalid path parameter.").into();
    };
    ApiError::bad_request("invalid_path", format!("Invalid path parameter: {err}")).into()
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request("invalid_query", format!("Invalid query string: {err}")).into()
}

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found("route_not_found", "No such route."))
}
