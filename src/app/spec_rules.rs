//! What the generated document cannot know from one handler's annotations: the
//! answers every operation of a given shape can give, and the headers and
//! descriptions every response carries. Applied once to the collected spec, so
//! the served `/openapi.json`, the committed copy and the 405 table agree.
//!
//! Each rule's codes come from the module that answers them (`http` for bodies,
//! paths and queries, `accounts` for credentials, `idempotency` for keys).

use serde_json::{json, Map, Value};
use utoipa::openapi::OpenApi as OpenApiDoc;

use crate::accounts::{BEARER_PROBLEMS, KEY_OR_BEARER_PROBLEMS};
use crate::http::pagination::PAGE_PROBLEMS;
use crate::http::problems::{
    merge_into, Declared, JSON_BODY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS, SCREENED_PROBLEMS, UNAVAILABLE_PROBLEMS,
};
use crate::http::routes::OPERATION_METHODS;
use crate::idempotency::IDEMPOTENCY_PROBLEMS;

pub fn complete(doc: OpenApiDoc) -> Value {
    let mut json = serde_json::to_value(&doc).expect("the document serializes");
    if let Some(paths) = json.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for (_, operation) in item.iter_mut().filter(|(key, _)| is_operation(key)) {
                complete_operation(operation);
            }
        }
    }
    json
}

/// A path item's key that names an operation (not `parameters`, `summary`...).
fn is_operation(key: &str) -> bool {
    OPERATION_METHODS.iter().any(|method| method.as_str().eq_ignore_ascii_case(key))
}

fn complete_operation(operation: &mut Value) {
    // No requirement declared means anonymous callers are welcome; say so.
    if operation.get("security").is_none_or(Value::is_null) {
        operation["security"] = json!([{}]);
    }
    let shape = Shape::of(operation);
    let responses = operation["responses"].as_object_mut().expect("every operation has responses");
    for problems in shape.problems() {
        merge_into(responses, problems);
    }
    let throttled = responses.contains_key("429");
    for (status, response) in responses.iter_mut() {
        describe(status, response);
        let headers = response.as_object_mut().unwrap().entry("headers").or_insert_with(|| json!({}));
        let headers = headers.as_object_mut().unwrap();
        add_header(
            headers,
            "x-request-id",
            "This request's id, also in the service's logs; quote it when reporting a problem.",
        );
        if status == "429" || status == "503" {
            add_header(headers, "Retry-After", "Seconds to wait before retrying (rounded up).");
        }
        if throttled {
            add_header(headers, "RateLimit-Limit", "Requests allowed in the current window.");
            add_header(headers, "RateLimit-Remaining", "Requests left in the current window.");
            add_header(headers, "RateLimit-Reset", "Seconds until the window resets.");
        }
        if shape.idempotent && status.starts_with('2') {
            add_header(
                headers,
                "Idempotent-Replayed",
                "`true` when this is the stored answer to an earlier request with the same key.",
            );
        }
    }
}

/// What an operation takes, as far as the cross-cutting answers care.
struct Shape {
    json_body: bool,
    path_params: bool,
    query_params: bool,
    paginated: bool,
    idempotent: bool,
    bearer_only: bool,
    key_or_bearer: bool,
}

impl Shape {
    fn of(operation: &Value) -> Self {
        let params: Vec<&Value> = operation["parameters"].as_array().map(|p| p.iter().collect()).unwrap_or_default();
        let has = |place: &str| params.iter().any(|p| p["in"] == place);
        let schemes: Vec<&str> = operation["security"]
            .as_array()
            .map(|reqs| reqs.iter().filter_map(Value::as_object).flat_map(Map::keys).map(String::as_str).collect())
            .unwrap_or_default();
        Self {
            json_body: operation.pointer("/requestBody/content/application~1json").is_some(),
            path_params: has("path"),
            query_params: has("query"),
            paginated: params.iter().any(|p| p["in"] == "query" && (p["name"] == "cursor" || p["name"] == "limit")),
            idempotent: params.iter().any(|p| p["in"] == "header" && p["name"] == "Idempotency-Key"),
            bearer_only: schemes == ["bearer"],
            key_or_bearer: schemes.contains(&"api_key"),
        }
    }

    fn problems(&self) -> Vec<Declared<'static>> {
        [
            (self.json_body, JSON_BODY_PROBLEMS),
            (self.path_params, PATH_PROBLEMS),
            (self.query_params, QUERY_PROBLEMS),
            (self.paginated, PAGE_PROBLEMS),
            (self.idempotent, IDEMPOTENCY_PROBLEMS),
            (self.bearer_only, BEARER_PROBLEMS),
            (self.key_or_bearer, KEY_OR_BEARER_PROBLEMS),
            (true, SCREENED_PROBLEMS),
            (true, UNAVAILABLE_PROBLEMS),
        ]
        .into_iter()
        .filter_map(|(applies, problems)| applies.then_some(problems))
        .collect()
    }
}

fn add_header(headers: &mut Map<String, Value>, name: &str, description: &str) {
    let kind = if name == "x-request-id" || name == "Idempotent-Replayed" { "string" } else { "integer" };
    headers.entry(name.to_string()).or_insert_with(|| json!({"description": description, "schema": {"type": kind}}));
}

/// Success answers without a description of their own get the status's meaning.
fn describe(status: &str, response: &mut Value) {
    let described = response["description"].as_str().is_some_and(|d| !d.trim().is_empty());
    if !described {
        let meaning = match status {
            "200" => "Success.",
            "201" => "Created.",
            "202" => "Accepted; the work continues in the background.",
            "204" => "Done; no content.",
            "304" => "Not modified since the `ETag` sent in `If-None-Match`.",
            _ => "The answer.",
        };
        response["description"] = json!(meaning);
    }
}
