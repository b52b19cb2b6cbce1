//! Conditional GET for the price index: every answer carries a strong `ETag` (a
//! SHA-256 of the body) and `Cache-Control`; a matching `If-None-Match` gets 304
//! with no body. Public answers may be cached by shared caches for a minute,
//! authenticated ones only by the caller's own client.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

pub const MAX_AGE_SECS: u32 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// `Cache-Control: public, max-age=60` (tiers, latest).
    Public,
    /// `Cache-Control: private, max-age=60` (series and fire sales need a key).
    Private,
}

pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for
/// this header; `*` matches anything).
fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

pub const CSV: &str = "text/csv; charset=utf-8";
pub const JSON: &str = "application/json";

pub fn respond(req: &HttpRequest, body: Vec<u8>, content_type: &'static str, audience: Audience) -> HttpResponse {
    let etag = etag_of(&body);
    let cache_control = match audience {
        Audience::Public => format!("public, max-age={MAX_AGE_SECS}"),
        Audience::Private => format!("private, max-age={MAX_AGE_SECS}"),
    };
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| matches(value, &etag));
    let mut response = if not_modified { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        // The body depends on Accept (CSV or JSON).
        .insert_header((header::VARY, HeaderValue::from_static("Accept")));
    if not_modified {
        response.finish()
    } else {
        response.content_type(content_type).body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_strong_hashes_and_if_none_match_compares_weakly() {
        let tag = etag_of(b"{}");
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34, "{tag}");
        assert_ne!(tag, etag_of(b"[]"));
        assert!(matches(&tag, &tag));
        assert!(matches(&format!("\"other\", W/{tag}"), &tag));
        assert!(matches("*", &tag));
        assert!(!matches("\"other\"", &tag));
    }
}
