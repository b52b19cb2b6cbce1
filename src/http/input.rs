//! Text input screened at the edge, in one place for every endpoint: a JSON
//! body, a query string or a path carrying NUL or another control character is
//! refused with 422 `invalid_characters`, naming each offending field, before
//! any handler runs. PostgreSQL cannot store NUL in `text` (the insert would
//! fail mid-request); the other control characters (tab and line breaks
//! excepted) have no business in names, titles or notes and would reach logs
//! and admin screens verbatim.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::HttpMessage;
use futures_util::StreamExt;
use serde_json::Value;

use crate::error::{ApiError, FieldError};

const MESSAGE: &str =
    "must not contain control characters (U+0000 to U+001F other than tab and line breaks, or U+007F)";

/// Marks a request whose JSON body parsed: whatever the extractor then refuses
/// is a type error (`invalid_body`), even where serde_json calls it a syntax
/// error (an enum given a number or `null` is "expected value" to it).
#[derive(Debug, Clone, Copy)]
pub struct WellFormedJson;

/// Whether `text` holds a character no text field accepts.
pub fn has_control_characters(text: &str) -> bool {
    text.chars().any(|c| (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}')
}

/// The JSON paths (`title`, `hosting.facility`, `items[3].serial`) of every
/// string, key included, that holds a control character.
pub fn fields_with_control_characters(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(value, String::new(), &mut found);
    found
}

fn walk(value: &Value, path: String, found: &mut Vec<String>) {
    match value {
        Value::String(text) if has_control_characters(text) => found.push(path),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                walk(item, format!("{path}[{index}]"), found);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                if has_control_characters(key) {
                    found.push(child.clone());
                }
                walk(item, child, found);
            }
        }
        _ => {}
    }
}

fn refusal(fields: Vec<String>) -> ApiError {
    ApiError::InvalidCharacters(fields.into_iter().map(|f| FieldError::new(f, MESSAGE)).collect())
}

/// The query parameters (by name) and the path, if they hold control characters.
fn url_problems(req: &ServiceRequest) -> Vec<String> {
    let mut fields: Vec<String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(key, value)| has_control_characters(key) || has_control_characters(value))
        .map(|(key, _)| key.into_owned())
        .collect();
    let path = percent_encoding_decode(req.path());
    if has_control_characters(&path) {
        fields.push("path".into());
    }
    fields
}

fn percent_encoding_decode(path: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", path.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

fn is_json(req: &ServiceRequest) -> bool {
    req.mime_type()
        .ok()
        .flatten()
        .is_some_and(|mime| mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
}

/// Reads the body up to `limit` bytes (more is left to the JSON extractor's
/// 413), returning it to put back.
async fn read_body(payload: &mut Payload, limit: usize) -> Result<Bytes, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::bad_request("unreadable_body", "The request body could not be read."))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit_bytes: limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The body limit of bulk uploads (a lot's units: up to 5,000 rows per call).
pub const BULK_JSON_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// The JSON body limit of a request to `path`: `limit`, or the bulk limit for
/// routes whose handlers read their (larger) bodies themselves.
pub fn body_limit(path: &str, limit: usize) -> usize {
    if path.starts_with("/v1/listings/") && path.ends_with("/units") {
        limit.max(BULK_JSON_LIMIT_BYTES)
    } else {
        limit
    }
}

/// Middleware (through `middleware::from_fn`): refuses control characters in
/// the URL and in JSON bodies of up to `limit` bytes (see [`body_limit`]).
pub async fn screen_text<B: MessageBody>(
    limit: usize,
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let limit = body_limit(req.path(), limit);
    let mut fields = url_problems(&req);
    if is_json(&req) {
        let body = match read_body(&mut req.take_payload(), limit).await {
            Ok(body) => body,
            Err(err) => return Ok(req.error_response(err).map_into_right_body()),
        };
        // Only well-formed JSON is screened; anything else goes on to the
        // extractor, which answers `malformed_json`.
        if let Ok(value) = serde_json::from_slice::<Value>(&body) {
            fields.extend(fields_with_control_characters(&value));
            req.extensions_mut().insert(WellFormedJson);
        }
        req.set_payload(Payload::from(body));
    }
    if !fields.is_empty() {
        return Ok(req.error_response(refusal(fields)).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_by_their_json_path() {
        let value = serde_json::json!({
            "title": "ok\ttab\nline",
            "hosting": {"facility": "DC\u{0}2", "country": "KZ"},
            "serials": ["A1", "B\u{1b}[31m"],
            "k\u{7f}ey": 1
        });
        let mut found = fields_with_control_characters(&value);
        found.sort();
        assert_eq!(found, vec!["hosting.facility", "k\u{7f}ey", "serials[1]"]);
    }

    #[test]
    fn tabs_and_line_breaks_are_text_but_nul_is_not() {
        assert!(!has_control_characters("two\tcolumns\r\nand lines"));
        assert!(has_control_characters("a\0b"));
        assert!(has_control_characters("bell\u{7}"));
        assert!(!has_control_characters("Ekibastuz — Қазақстан"));
    }
}
