//! Which methods each route answers, so that a request for a known path with
//! the wrong method is `405 Method Not Allowed` with an `Allow` header (RFC 9110
//! §15.5.6) rather than a `404` that suggests the path does not exist.
//!
//! The table is built from the OpenAPI document, which `utoipa-actix-web`
//! collects from the very registrations the server routes by, plus the few
//! routes that are not API operations (the docs page, the spec itself).

use std::sync::Arc;

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{web, HttpRequest};
use serde_json::Value;

use crate::error::ApiError;

#[derive(Clone, Default)]
pub struct KnownRoutes(Arc<Vec<(ResourceDef, Vec<Method>)>>);

impl KnownRoutes {
    /// Every operation of `spec` (an OpenAPI document as JSON), plus `extra`
    /// (pattern, methods) pairs.
    pub fn new(spec: &Value, extra: &[(&str, &[Method])]) -> Self {
        let paths = spec["paths"].as_object().into_iter().flatten();
        let mut routes: Vec<(ResourceDef, Vec<Method>)> = paths
            .map(|(path, item)| {
                let item = item.as_object().into_iter().flatten();
                let mut methods: Vec<Method> =
                    item.filter_map(|(method, _)| Method::from_bytes(method.to_uppercase().as_bytes()).ok()).collect();
                methods.retain(|m| OPERATION_METHODS.contains(m));
                methods.sort_by(|a, b| a.as_str().cmp(b.as_str()));
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        routes.extend(extra.iter().map(|(pattern, methods)| (ResourceDef::new(*pattern), methods.to_vec())));
        Self(Arc::new(routes))
    }

    /// The methods some route answers on `path`, or `None` for an unknown path.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let mut allowed: Vec<Method> = Vec::new();
        for (_, methods) in self.0.iter().filter(|(route, _)| route.is_match(path)) {
            for method in methods {
                if !allowed.contains(method) {
                    allowed.push(method.clone());
                }
            }
        }
        (!allowed.is_empty()).then_some(allowed)
    }
}

/// The keys of a path item that are operations (others: `parameters`, `summary`...).
pub const OPERATION_METHODS: [Method; 8] = [
    Method::GET,
    Method::PUT,
    Method::POST,
    Method::DELETE,
    Method::OPTIONS,
    Method::HEAD,
    Method::PATCH,
    Method::TRACE,
];

/// The default service: 405 with `Allow` for a known path, else 404.
pub async fn unmatched(
    req: HttpRequest,
    routes: Option<web::Data<KnownRoutes>>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let allowed = routes.and_then(|routes| routes.allowed(req.path()));
    match allowed {
        Some(methods) => Err(method_not_allowed(methods)),
        None => Err(ApiError::not_found("route_not_found", "No such route.")),
    }
}

pub fn method_not_allowed(methods: Vec<Method>) -> ApiError {
    ApiError::MethodNotAllowed { allowed: methods.iter().map(|m| m.as_str().to_string()).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_path_lists_its_methods_and_an_unknown_one_none() {
        let spec = serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/v1/listings": {"get": {"responses": {}}, "post": {"responses": {}}},
                "/v1/listings/{id}": {"get": {"responses": {}}, "patch": {"responses": {}}},
                "/v1/listings/{id}/submit": {"post": {"responses": {}}}
            }
        });
        let routes = KnownRoutes::new(&spec, &[("/openapi.json", &[Method::GET])]);
        assert_eq!(routes.allowed("/v1/listings"), Some(vec![Method::GET, Method::POST]));
        assert_eq!(routes.allowed("/v1/listings/abc"), Some(vec![Method::GET, Method::PATCH]));
        assert_eq!(routes.allowed("/v1/listings/abc/submit"), Some(vec![Method::POST]));
        assert_eq!(routes.allowed("/openapi.json"), Some(vec![Method::GET]));
        assert_eq!(routes.allowed("/v1/listings/abc/nothing"), None);
        assert_eq!(routes.allowed("/v2/listings"), None);
    }
}
