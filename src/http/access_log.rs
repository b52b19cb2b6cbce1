//! The access log: one `tracing` event per request, target `rigmarket::access`,
//! with the method, the matched route PATTERN (`/v1/listings/{id}`, never the raw
//! path, so ids do not leak into log indexes), the status, the latency, the
//! request id the response echoes in `x-request-id`, and the problem `code` for
//! problem+json answers. It is the only per-request line: tracing-actix-web's
//! own error event is switched off (`emit_event_on_error`), and the root span
//! only carries fields.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing_actix_web::RequestId;

use crate::error::{ApiError, ProblemCode};

/// The `tracing` target of access-log events, for filters (`RUST_LOG=rigmarket::access=info`).
pub const TARGET: &str = "rigmarket::access";

/// Middleware (through `middleware::from_fn`), wrapped directly inside
/// `TracingLogger` so the request id is known and the latency covers every other
/// layer.
pub async fn log_request<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let request_id = req.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
    let outcome = next.call(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match &outcome {
        Ok(res) => {
            let route = res.request().match_pattern();
            let code = res.response().extensions().get::<ProblemCode>().map(|code| code.0);
            emit(method.as_str(), route.as_deref(), res.status().as_u16(), code, latency_ms, &request_id);
        }
        // An error no inner layer turned into a response: the server renders it
        // after this point, so its status and code come from the error itself.
        // The request went with it, hence no route.
        Err(err) => {
            let code = err.as_error::<ApiError>().map(ApiError::code);
            let status = err.as_response_error().status_code().as_u16();
            emit(method.as_str(), None, status, code, latency_ms, &request_id);
        }
    }
    outcome
}

/// The access-log line of one answered request.
pub fn emit(method: &str, route: Option<&str>, status: u16, code: Option<&str>, latency_ms: f64, request_id: &str) {
    tracing::info!(target: TARGET, method, route, status, latency_ms, request_id, code, "request");
}
