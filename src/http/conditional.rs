//! Conditional requests (RFC 9110 §13) for every resource that has an `ETag`:
//! the tag is a strong hash of the serialized body; `If-None-Match` (lists, `*`,
//! `W/` tags compared weakly) turns a read into `304 Not Modified`, and
//! `If-Match` guards a write. Both comparisons ignore an encoding suffix inside
//! the quotes (`"abc-gzip"` names the same representation as `"abc"`), because
//! compressed answers carry encoding-specific tags.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::error::{ApiError, ApiResult};

/// `Cache-Control` of a resource only its caller may see: stored by the
/// caller's own client, revalidated before each use.
pub const PRIVATE_REVALIDATE: &str = "private, no-cache";
/// `Cache-Control` of a resource anybody may see, revalidated before each use.
pub const PUBLIC_REVALIDATE: &str = "public, no-cache";

pub const JSON: &str = "application/json";

/// Content-codings a compressing layer appends to a tag (`"abc-gzip"`).
const ENCODING_SUFFIXES: [&str; 4] = ["-gzip", "-br", "-zstd", "-deflate"];

/// A strong ETag: the body's XXH3-128, quoted, in hex. A validator only needs
/// to change when the body does, and the same body must get the same tag on
/// every instance; XXH3 is a fixed algorithm without a seed, and hashes a
/// multi-megabyte price series an order of magnitude faster than SHA-256.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(body))
}

/// The body a JSON answer sends and its ETag.
pub fn json_with_etag<T: Serialize>(value: &T) -> ApiResult<(Vec<u8>, String)> {
    let body = serde_json::to_vec(value).map_err(|err| ApiError::Internal(err.into()))?;
    let etag = etag_of(&body);
    Ok((body, etag))
}

/// A tag without `W/` and without an encoding suffix, or `None` when it is not
/// a quoted tag at all.
fn opaque(tag: &str) -> Option<&str> {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    Some(ENCODING_SUFFIXES.iter().find_map(|suffix| inner.strip_suffix(suffix)).unwrap_or(inner))
}

fn is_weak(tag: &str) -> bool {
    tag.trim().starts_with("W/")
}

/// Whether an `If-None-Match` value names `etag`: weak comparison, as RFC 9110
/// asks for this header, and `*` matches any current representation.
pub fn none_match_hits(if_none_match: &str, etag: &str) -> bool {
    let Some(current) = opaque(etag) else { return false };
    if_none_match.split(',').any(|tag| tag.trim() == "*" || opaque(tag) == Some(current))
}

/// Whether an `If-Match` value admits a write to the representation tagged
/// `etag`: strong comparison (a `W/` tag never matches), `*` matches any.
pub fn match_holds(if_match: &str, etag: &str) -> bool {
    let Some(current) = opaque(etag) else { return false };
    if_match.split(',').any(|tag| tag.trim() == "*" || (!is_weak(tag) && opaque(tag) == Some(current)))
}

fn header_text(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|value| value.to_str().ok())
}

/// Refuses a write whose `If-Match` does not name `current_etag` (412); passes
/// when the request has no `If-Match`.
pub fn check_if_match(if_match: Option<&str>, current_etag: &str) -> ApiResult<()> {
    match if_match {
        Some(if_match) if !match_holds(if_match, current_etag) => Err(ApiError::PreconditionFailed {
            detail: "The resource changed since you read it (If-Match does not name its current ETag); read it again."
                .into(),
        }),
        _ => Ok(()),
    }
}

/// The request's `If-Match`, if any.
pub fn if_match(req: &HttpRequest) -> Option<String> {
    header_text(req, header::IF_MATCH).map(str::to_string)
}

/// `body` with its ETag and `cache_control`, or `304` with no body when the
/// request's `If-None-Match` names the ETag.
pub fn respond(req: &HttpRequest, body: Vec<u8>, content_type: &'static str, cache_control: &str) -> HttpResponse {
    let etag = etag_of(&body);
    respond_tagged(req, Bytes::from(body), etag, content_type, cache_control)
}

/// [`respond`] for a body whose [`etag_of`] is already known (a kept answer).
pub fn respond_tagged(
    req: &HttpRequest,
    body: Bytes,
    etag: String,
    content_type: &'static str,
    cache_control: &str,
) -> HttpResponse {
    let not_modified = header_text(req, header::IF_NONE_MATCH).is_some_and(|value| none_match_hits(value, &etag));
    let mut response = if not_modified { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response.insert_header((header::ETAG, etag));
    if let Ok(value) = HeaderValue::from_str(cache_control) {
        response.insert_header((header::CACHE_CONTROL, value));
    }
    if not_modified {
        response.finish()
    } else {
        response.content_type(content_type).body(body)
    }
}

/// [`respond`] for a JSON value.
pub fn respond_json<T: Serialize>(req: &HttpRequest, value: &T, cache_control: &str) -> ApiResult<HttpResponse> {
    let (body, _) = json_with_etag(value)?;
    Ok(respond(req, body, JSON, cache_control))
}

/// Middleware (through `middleware::from_fn`), wrapped directly outside
/// `Compress`: a compressed answer is a different representation (RFC 9110
/// §8.8.3), so its `ETag` gets the encoding as a suffix (`"abc-gzip"`, which the
/// comparisons above ignore) and `Vary` names `Accept-Encoding`, so no shared
/// cache hands gzip to a client that did not ask for it.
pub async fn encoding_specific_etag<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let encoding = res.headers().get(header::CONTENT_ENCODING).and_then(|e| e.to_str().ok()).map(str::to_string);
    if let Some(encoding) = encoding.filter(|e| e != "identity") {
        let headers = res.headers_mut();
        let tagged = headers.get(header::ETAG).and_then(|t| t.to_str().ok()).and_then(|t| with_encoding(t, &encoding));
        if let Some(tagged) = tagged.and_then(|t| HeaderValue::from_str(&t).ok()) {
            headers.insert(header::ETAG, tagged);
        }
        add_vary(headers, "Accept-Encoding");
    }
    Ok(res)
}

/// `"abc"` → `"abc-gzip"` (a weak tag keeps its `W/`).
fn with_encoding(tag: &str, encoding: &str) -> Option<String> {
    let (weak, strong) = tag.strip_prefix("W/").map_or(("", tag), |rest| ("W/", rest));
    let inner = strong.strip_prefix('"')?.strip_suffix('"')?;
    Some(format!("{weak}\"{inner}-{encoding}\""))
}

/// Adds `name` to `Vary` and folds every `Vary` line into one: CORS (outside)
/// reads only the first line when it adds its own names, and `Compress` appends
/// a line of its own.
fn add_vary(headers: &mut HeaderMap, name: &str) {
    let current: Vec<String> = headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    let mut names: Vec<String> = Vec::new();
    for candidate in current.into_iter().chain([name.to_string()]) {
        if !names.iter().any(|known| known.eq_ignore_ascii_case(&candidate)) {
            names.push(candidate);
        }
    }
    let joined = names.join(", ");
    headers.insert(header::VARY, HeaderValue::from_str(&joined).expect("header names are valid values"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_strong_hashes_of_the_body() {
        let tag = etag_of(b"{}");
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34, "{tag}");
        assert_ne!(tag, etag_of(b"[]"));
    }

    #[test]
    fn if_none_match_compares_weakly_over_lists_and_star() {
        let tag = etag_of(b"{}");
        assert!(none_match_hits(&tag, &tag));
        assert!(none_match_hits(&format!("\"other\", W/{tag}"), &tag));
        assert!(none_match_hits(" * ", &tag));
        assert!(!none_match_hits("\"other\"", &tag));
        assert!(!none_match_hits("", &tag));
        assert!(!none_match_hits(tag.trim_matches('"'), &tag), "an unquoted tag is not a tag");
    }

    #[test]
    fn a_compressed_answer_gets_an_encoding_specific_tag() {
        assert_eq!(with_encoding("\"abc\"", "gzip").as_deref(), Some("\"abc-gzip\""));
        assert_eq!(with_encoding("W/\"abc\"", "br").as_deref(), Some("W/\"abc-br\""));
        assert_eq!(with_encoding("abc", "gzip"), None, "not a tag");
        assert!(none_match_hits("\"abc-gzip\"", "\"abc\""), "a client revalidates with the tag it got");
        let mut headers = HeaderMap::new();
        headers.insert(header::VARY, HeaderValue::from_static("Accept"));
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        add_vary(&mut headers, "Accept-Encoding");
        add_vary(&mut headers, "Accept-Encoding");
        let vary: Vec<_> = headers.get_all(header::VARY).map(|v| v.to_str().unwrap().to_string()).collect();
        assert_eq!(vary, ["Accept, accept-encoding"], "one line, each name once");
    }

    #[test]
    fn comparisons_ignore_an_encoding_suffix() {
        let tag = etag_of(b"{}");
        let inner = tag.trim_matches('"');
        for suffix in ["gzip", "br", "zstd", "deflate"] {
            let encoded = format!("\"{inner}-{suffix}\"");
            assert!(none_match_hits(&encoded, &tag), "{encoded}");
            assert!(none_match_hits(&format!("W/{encoded}"), &tag), "{encoded}");
            assert!(match_holds(&encoded, &tag), "{encoded}");
            assert!(none_match_hits(&tag, &encoded), "the current tag may carry the suffix too");
        }
        assert!(!none_match_hits(&format!("\"{inner}-lzma\""), &tag), "only content-codings are suffixes");
    }

    #[test]
    fn if_match_compares_strongly() {
        let tag = etag_of(b"{}");
        assert!(match_holds(&tag, &tag));
        assert!(match_holds(&format!("\"other\", {tag}"), &tag));
        assert!(match_holds("*", &tag));
        assert!(!match_holds(&format!("W/{tag}"), &tag), "a weak tag never admits a write");
        assert!(!match_holds("\"other\"", &tag));
        assert!(check_if_match(None, &tag).is_ok());
        assert!(check_if_match(Some(&tag), &tag).is_ok());
        let refused = check_if_match(Some("\"other\""), &tag).unwrap_err();
        assert_eq!(refused.code(), "precondition_failed");
    }
}
