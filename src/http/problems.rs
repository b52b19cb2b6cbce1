//! The problem+json answers an operation documents, each with the exact `code`s
//! it can carry, so a generated client can branch on a closed set.
//!
//! A handler declares only its own codes, next to its `#[utoipa::path]`:
//!
//! ```ignore
//! http::problems::problems!(UpdateListingProblems {
//!     403: not_listing_owner,
//!     409: invalid_listing_status | listing_has_open_orders,
//! });
//! ```
//!
//! and lists `UpdateListingProblems` in `responses(...)`. The answers every
//! operation of a given shape can give (a JSON body can be malformed, a path id
//! unparseable, a bearer token expired...) are added to the document by the
//! composition root from the `*_PROBLEMS` tables their owners publish, such as
//! [`JSON_BODY_PROBLEMS`]; the merge goes through [`merge_into`].

use std::collections::BTreeMap;

use serde_json::{json, Value};
use utoipa::openapi::{RefOr, Response};

/// Statuses with the codes an operation can answer them with.
pub type Declared<'a> = &'a [(u16, &'a [&'a str])];

/// Any operation with a JSON request body (`http::json_config`, `http::input`).
pub const JSON_BODY_PROBLEMS: Declared<'static> = &[
    (400, &["malformed_json", "unreadable_body"]),
    (413, &["payload_too_large"]),
    (415, &["unsupported_media_type"]),
    (422, &["invalid_body", "invalid_characters"]),
];
/// Any operation with path parameters (`http::path_error`).
pub const PATH_PROBLEMS: Declared<'static> = &[(400, &["invalid_path"])];
/// Any operation with query parameters (`http::query_error`, `http::input`).
pub const QUERY_PROBLEMS: Declared<'static> = &[(400, &["invalid_query"])];
/// Every operation: `http::input` screens every query string (and JSON body)
/// for control characters before routing.
pub const SCREENED_PROBLEMS: Declared<'static> = &[(422, &["invalid_characters"])];
/// Every operation: the database (or another dependency) can be away.
pub const UNAVAILABLE_PROBLEMS: Declared<'static> = &[(503, &["service_unavailable"])];

/// Declares an operation's own problem answers as a type for
/// `#[utoipa::path(responses(...))]`; see the module docs.
macro_rules! problems {
    ($name:ident { $($status:literal : $($code:ident)|+),* $(,)? }) => {
        #[doc = concat!("The problem answers `", stringify!($name), "` documents beyond the cross-cutting ones.")]
        struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
                $crate::http::problems::declared(&[$(($status, &[$(stringify!($code)),+])),*])
            }
        }
    };
}
pub(crate) use problems;

/// The responses a declaration stands for.
pub fn declared(problems: Declared<'_>) -> BTreeMap<String, RefOr<Response>> {
    problems
        .iter()
        .map(|(status, codes)| {
            let response =
                serde_json::from_value(response_json(*status, codes)).expect("a problem response deserializes");
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

/// Adds `problems` to an operation's `responses` object (JSON), merging codes
/// into any problem response already there.
pub fn merge_into(responses: &mut serde_json::Map<String, Value>, problems: Declared<'_>) {
    for (status, codes) in problems {
        let mut all = responses.get(&status.to_string()).map(codes_of).unwrap_or_default();
        for code in *codes {
            if !all.iter().any(|known| known == code) {
                all.push(code.to_string());
            }
        }
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let mut merged = response_json(*status, &all);
        if let Some(headers) = responses.get(&status.to_string()).and_then(|r| r.get("headers")) {
            merged["headers"] = headers.clone();
        }
        responses.insert(status.to_string(), merged);
    }
}

/// The codes a problem response (as built here) documents.
pub fn codes_of(response: &Value) -> Vec<String> {
    response
        .pointer("/content/application~1problem+json/schema/allOf/1/properties/code/enum")
        .and_then(Value::as_array)
        .map(|codes| codes.iter().filter_map(|code| code.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// `status` with a problem+json body whose `code` is one of `codes`.
fn response_json(status: u16, codes: &[&str]) -> Value {
    let listed = codes.iter().map(|code| format!("`{code}`")).collect::<Vec<_>>().join(", ");
    let mut example = json!({
        "type": format!("https://rigmarket.dev/problems/{}", codes[0]),
        "title": reason(status),
        "status": status,
        "detail": example_detail(status),
        "code": codes[0],
    });
    if matches!(codes[0], "validation_failed" | "invalid_characters") {
        example["errors"] = json!([{"field": "title", "message": "must be 1 to 120 characters"}]);
    }
    json!({
        "description": format!("{} Codes: {listed}.", meaning(status)),
        "content": {
            "application/problem+json": {
                "schema": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Problem"},
                        {
                            "type": "object",
                            "required": ["code", "status"],
                            "properties": {
                                "code": {"type": "string", "enum": codes},
                                "status": {"type": "integer", "enum": [status]}
                            }
                        }
                    ]
                },
                "example": example
            }
        }
    })
}

fn reason(status: u16) -> &'static str {
    actix_web::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error")
}

/// What a status means for a client, for the response description.
fn meaning(status: u16) -> &'static str {
    match status {
        400 => "The request could not be read.",
        401 => "Credentials are missing, invalid or expired.",
        403 => "The caller may not do this.",
        404 => "The resource does not exist or is not visible to the caller.",
        405 => "The path does not answer this method; see `Allow`.",
        409 => "The request conflicts with the resource's current state.",
        412 => "The resource changed since the `ETag` the caller sent.",
        413 => "The body is larger than the service accepts.",
        415 => "The body is not in a media type the operation accepts.",
        422 => "The request is well-formed but its content is refused.",
        429 => "Too many requests; retry after `Retry-After` seconds.",
        503 => "Temporarily unavailable; retry after `Retry-After` seconds.",
        _ => "The request failed.",
    }
}

fn example_detail(status: u16) -> &'static str {
    match status {
        400 => "The JSON body is malformed at line 1, column 9.",
        401 => "The access token has expired.",
        403 => "You may not do this.",
        404 => "Nothing with this id is visible to you.",
        409 => "This cannot be done in the resource's current state.",
        412 => "The listing changed since your copy; fetch it again.",
        413 => "The body exceeds the 65536-byte limit.",
        415 => "Send the body as application/json.",
        422 => "1 field(s) are invalid; see `errors`.",
        429 => "Too many requests; retry after 30 s.",
        503 => "The service is temporarily unavailable; please retry shortly.",
        _ => "The request failed.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_codes_once_and_keeps_declared_ones_first() {
        let mut responses = serde_json::Map::new();
        responses.insert("422".into(), response_json(422, &["validation_failed"]));
        merge_into(&mut responses, &[(422, &["invalid_body", "validation_failed"]), (400, &["invalid_path"])]);
        assert_eq!(codes_of(&responses["422"]), ["validation_failed", "invalid_body"]);
        assert_eq!(codes_of(&responses["400"]), ["invalid_path"]);
        assert_eq!(responses["422"]["content"]["application/problem+json"]["example"]["code"], "validation_failed");
    }

    #[test]
    fn a_declaration_documents_its_codes() {
        let responses = declared(&[(404, &["listing_not_found"]), (409, &["a", "b"])]);
        let as_json = serde_json::to_value(&responses).unwrap();
        assert_eq!(codes_of(&as_json["409"]), ["a", "b"]);
        assert!(as_json["404"]["description"].as_str().unwrap().contains("`listing_not_found`"));
    }
}
