//! The local backend's signed routes: `PUT`/`GET /storage/{key}` (answering
//! only when the local backend is configured).

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use anyhow::Context;
use futures_util::StreamExt;

use super::local::{LocalStore, SignedQuery, MAX_OBJECT_BYTES};
use super::object::is_valid_key;
use super::store::ObjectStore;
use crate::error::ApiError;

fn store(storage: &ObjectStore) -> Result<&LocalStore, ApiError> {
    storage.local().ok_or_else(|| ApiError::not_found("route_not_found", "No such route."))
}

fn checked_key(raw: &str) -> Result<&str, ApiError> {
    if is_valid_key(raw) {
        Ok(raw)
    } else {
        Err(ApiError::not_found("object_not_found", "No such object."))
    }
}

async fn put_object(
    storage: web::Data<ObjectStore>,
    key: web::Path<String>,
    query: web::Query<SignedQuery>,
    request: HttpRequest,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let store = store(&storage)?;
    let key = checked_key(&key)?;
    let content_type = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    store.verify("PUT", key, &query, &content_type)?;
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("unreadable_body", "The upload was interrupted."))?;
        if bytes.len() + chunk.len() > MAX_OBJECT_BYTES {
            return Err(ApiError::PayloadTooLarge { limit_bytes: MAX_OBJECT_BYTES });
        }
        bytes.extend_from_slice(&chunk);
    }
    store.write(key, &bytes, &content_type).await?;
    Ok(HttpResponse::Ok().finish())
}

async fn get_object(
    storage: web::Data<ObjectStore>,
    key: web::Path<String>,
    query: web::Query<SignedQuery>,
) -> Result<HttpResponse, ApiError> {
    let store = store(&storage)?;
    let key = checked_key(&key)?;
    store.verify("GET", key, &query, "")?;
    let Some(meta) = store.head(key).await? else {
        return Err(ApiError::not_found("object_not_found", "No such object."));
    };
    let bytes = tokio::fs::read(store.path(key)).await.context("reading object")?;
    Ok(HttpResponse::Ok()
        .content_type(meta.content_type.unwrap_or_else(|| "application/octet-stream".into()))
        .insert_header(("Cache-Control", "private, max-age=60"))
        .body(bytes))
}

/// `PUT`/`GET /storage/{key}`: only answers when the local backend is configured.
pub fn local_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/storage/{key:.+}")
            .app_data(web::PayloadConfig::new(MAX_OBJECT_BYTES))
            .route(web::put().to(put_object))
            .route(web::get().to(get_object))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(crate::http::routes::method_not_allowed(vec![Method::GET, Method::PUT]))
            })),
    );
}
