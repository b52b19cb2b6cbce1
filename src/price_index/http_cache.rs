//! Conditional GET for the price index through the kernel's
//! [`crate::http::conditional`]: every answer carries a strong `ETag` and
//! `Cache-Control`; a matching `If-None-Match` gets 304 with no body. Public
//! answers may be cached by shared caches for a minute, authenticated ones only
//! by the caller's own client.

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};

use crate::http::conditional;

pub const MAX_AGE_SECS: u32 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// `Cache-Control: public, max-age=60` (tiers, latest).
    Public,
    /// `Cache-Control: private, max-age=60` (series and fire sales need a key).
    Private,
}

pub const CSV: &str = "text/csv; charset=utf-8";
pub const JSON: &str = conditional::JSON;

pub fn respond(req: &HttpRequest, body: Vec<u8>, content_type: &'static str, audience: Audience) -> HttpResponse {
    let etag = conditional::etag_of(&body);
    respond_tagged(req, Bytes::from(body), etag, content_type, audience)
}

/// [`respond`] for a body whose ETag is already known (a kept answer).
pub fn respond_tagged(
    req: &HttpRequest,
    body: Bytes,
    etag: String,
    content_type: &'static str,
    audience: Audience,
) -> HttpResponse {
    let cache_control = match audience {
        Audience::Public => format!("public, max-age={MAX_AGE_SECS}"),
        Audience::Private => format!("private, max-age={MAX_AGE_SECS}"),
    };
    let mut response = conditional::respond_tagged(req, body, etag, content_type, &cache_control);
    // The body depends on Accept (CSV or JSON).
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}
