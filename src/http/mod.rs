//! HTTP plumbing every capability shares: problem+json for every
//! framework-level rejection (bad JSON, path, query, unknown route), CORS,
//! the response headers added to every answer (request id, `RateLimit-*`),
//! cursor pagination, conditional requests (`ETag`, `If-None-Match`,
//! `If-Match`) and PATCH fields. The server itself is assembled by the
//! composition root (`app`).

pub mod access_log;
pub mod conditional;
pub mod direct;
pub mod input;
pub mod kept;
pub mod malformed;
pub mod pagination;
pub mod patch;
pub mod problems;
pub mod routes;

use std::future::Future;

use actix_cors::{Cors, CorsError};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, ResponseError};
use tracing_actix_web::RequestId;

use crate::error::ApiError;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    bearer_of(req.headers().get(header::AUTHORIZATION)?.as_bytes())
}

/// The token of an `Authorization: Bearer <token>` value.
pub fn bearer_of(authorization: &[u8]) -> Option<String> {
    let value = header::HeaderValue::from_bytes(authorization).ok()?;
    value.to_str().ok()?.strip_prefix("Bearer ").map(|t| t.trim().to_string())
}

/// Where a request came from, for sessions, throttling and the audit log.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The caller's IP (the socket peer, or `X-Forwarded-For`'s first hop when the
/// service runs behind a trusted proxy) and user agent.
pub fn client_info(req: &HttpRequest, trust_forwarded_for: bool) -> ClientInfo {
    let forwarded = trust_forwarded_for
        .then(|| req.headers().get("x-forwarded-for")?.to_str().ok()?.split(',').next().map(|ip| ip.trim().to_string()))
        .flatten();
    ClientInfo {
        ip: forwarded.or_else(|| req.peer_addr().map(|addr| addr.ip().to_string())),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|ua| ua.to_str().ok())
            .map(str::to_string),
    }
}

/// Middleware (through `wrap_fn`): copies the request id onto the response, and
/// the quota a rate-limited route recorded (`ratelimit::Quota` in the request's
/// extensions) as `RateLimit-*` headers.
pub fn response_headers<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
    let fut = srv.call(req);
    async move {
        let mut res: ServiceResponse<B> = fut.await?;
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
}

pub fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_NONE_MATCH,
            header::IF_MATCH,
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

/// actix-cors refuses a disallowed origin, method or header with a text/plain
/// 400 (a response carrying the `CorsError`); this turns the refusal into the
/// problem+json every other rejection is. Wrapped directly outside [`cors`].
pub async fn cors_refusal_as_problem<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let res = next.call(req).await?;
    let refusal = res.response().error().and_then(|err| err.as_error::<CorsError>()).map(ToString::to_string);
    Ok(match refusal {
        Some(refusal) => {
            let problem = ApiError::bad_request("cors_refused", format!("Cross-origin request refused: {refusal}"));
            res.into_response(problem.error_response()).map_into_right_body()
        }
        None => res.map_into_left_body(),
    })
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(move |err, req| {
        let well_formed = req.extensions().get::<input::WellFormedJson>().is_some();
        json_error(err, limit, well_formed).into()
    })
}

/// Syntax errors are 400; a well-formed body with wrong types, unknown fields or
/// unknown enum values is 422 `invalid_body` with serde's message, which names
/// the field but nothing internal.
fn json_error(err: JsonPayloadError, limit: usize, well_formed: bool) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::PayloadTooLarge { limit_bytes: limit }
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType { detail: "Send the body as application/json.".into() }
        }
        JsonPayloadError::Deserialize(err) if well_formed || err.is_data() => {
            ApiError::unprocessable("invalid_body", format!("The JSON body does not fit the schema: {err}"))
        }
        JsonPayloadError::Deserialize(err) => {
            ApiError::bad_request("malformed_json", format!("The body is not valid JSON: {err}"))
        }
        _ => ApiError::bad_request("unreadable_body", "The request body could not be read."),
    }
}

pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    let PathError::Deserialize(err) = err else {
        return ApiError::bad_request("invalid_path", "Invalid path parameter.").into();
    };
    ApiError::bad_request("invalid_path", format!("Invalid path parameter: {err}")).into()
}

pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    invalid_query(err).into()
}

/// A query string that does not deserialize.
pub fn invalid_query(err: QueryPayloadError) -> ApiError {
    ApiError::bad_request("invalid_query", format!("Invalid query string: {err}"))
}
