//! The committed OpenAPI document is the one the code generates, and the served
//! document and docs page work without internet access.

#[tokio::test]
async fn committed_spec_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap();
    let generated = rigmarket::app::openapi::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale; regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[tokio::test]
async fn the_service_serves_its_spec_and_an_offline_docs_page() {
    let app = crate::support::spawn_app().await;
    let (status, served) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    let generated: serde_json::Value = serde_json::from_str(&rigmarket::app::openapi::spec_json()).unwrap();
    assert_eq!(served, generated);
    assert!(served["paths"]["/v1/rig-models"]["get"].is_object());

    let bare = app.get("/docs").await;
    assert_eq!(bare.status(), 308);
    assert_eq!(bare.headers()["location"], "/docs/");
    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    for external in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!html.contains(external), "the docs page loads {external}... from the internet");
    }
    let script = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(script.status(), 200, "Swagger UI assets are served by the service itself");
}

fn spec() -> serde_json::Value {
    serde_json::from_str(&rigmarket::app::openapi::spec_json()).unwrap()
}

fn operations(spec: &serde_json::Value) -> Vec<(String, &serde_json::Value)> {
    let mut all = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((format!("{} {path}", method.to_uppercase()), operation));
        }
    }
    all
}

/// Codes that never answer a documented operation: unknown routes, wrong
/// methods, CORS preflights, requests the HTTP parser refuses before routing,
/// the local storage backend's signed URLs, and the opaque 500.
const NOT_OPERATION_CODES: &[&str] = &[
    "route_not_found",
    "method_not_allowed",
    "cors_refused",
    "malformed_request",
    "request_timeout",
    "headers_too_large",
    "object_not_found",
    "signature_expired",
    "signature_invalid",
    "internal_error",
    // `From<diesel::result::Error>` fallbacks: handlers map misses to specific
    // codes, and no transaction runs at SERIALIZABLE.
    "not_found",
    "concurrent_update",
];

/// The spec's codes are the code's codes: every code a handler can construct
/// is documented on some operation, and no documented code is invented.
#[test]
fn every_problem_code_in_the_source_is_documented_and_no_other() {
    let spec = spec();
    let mut documented = std::collections::BTreeSet::new();
    for (_, operation) in operations(&spec) {
        for response in operation["responses"].as_object().unwrap().values() {
            documented.extend(rigmarket::http::problems::codes_of(response));
        }
    }
    // A constructor's first argument, a `code: "..."` field, or an arm of `ApiError::code`.
    let constructors =
        ["bad_request(", "unauthorized(", "forbidden(", "not_found(", "conflict(", "unprocessable(", "code:"];
    let (mut in_source, mut sources) = (std::collections::BTreeSet::new(), String::new());
    let mut files = Vec::new();
    crate::architecture::rust_files(&crate::architecture::src_dir(), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for constructor in constructors {
            in_source.extend(quoted_after(&text, constructor));
        }
        sources.push_str(&text);
    }
    let error_rs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/error.rs")).unwrap();
    let code_fn = &error_rs[error_rs.find("pub fn code(&self)").unwrap()..];
    in_source.extend(quoted_after(&code_fn[..code_fn.find("\n    }\n").unwrap()], "=>"));

    let undocumented: Vec<_> = in_source
        .iter()
        .filter(|code| !documented.contains(*code) && !NOT_OPERATION_CODES.contains(&code.as_str()))
        .collect();
    assert!(undocumented.is_empty(), "codes the source constructs but no operation documents: {undocumented:?}");
    let invented: Vec<_> = documented.iter().filter(|code| !sources.contains(&format!("\"{code}\""))).collect();
    assert!(invented.is_empty(), "documented codes no source file mentions: {invented:?}");
}

/// The snake_case string literals that follow `prefix` (after whitespace).
fn quoted_after(text: &str, prefix: &str) -> Vec<String> {
    let snake = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    text.match_indices(prefix)
        .filter_map(|(at, _)| text[at + prefix.len()..].trim_start().strip_prefix('"'))
        .filter_map(|rest| rest.split('"').next().filter(|s| snake(s)).map(str::to_string))
        .collect()
}

/// What Redocly and generated clients need: every response described, every
/// problem answer a closed set of codes with an example, every tag described,
/// the request id header everywhere.
#[test]
fn every_response_is_described_and_every_problem_names_its_codes() {
    let spec = spec();
    let mut findings = Vec::new();
    for (operation_name, operation) in operations(&spec) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            let at = format!("{operation_name} {status}");
            if response["description"].as_str().is_none_or(|d| d.trim().is_empty()) {
                findings.push(format!("{at}: no description"));
            }
            if response.pointer("/headers/x-request-id").is_none() {
                findings.push(format!("{at}: x-request-id undocumented"));
            }
            if status.starts_with('4') || status.starts_with('5') {
                let codes = rigmarket::http::problems::codes_of(response);
                if codes.is_empty() {
                    findings.push(format!("{at}: not a problem+json answer with a code enum"));
                }
                let example = response.pointer("/content/application~1problem+json/example/code");
                if codes.first().is_some_and(|first| example.and_then(|e| e.as_str()) != Some(first.as_str())) {
                    findings.push(format!("{at}: example does not carry a documented code"));
                }
            }
            if (status == "429" || status == "503") && response.pointer("/headers/Retry-After").is_none() {
                findings.push(format!("{at}: Retry-After undocumented"));
            }
        }
        if !operation["responses"].as_object().unwrap().contains_key("503") {
            findings.push(format!("{operation_name}: 503 undocumented"));
        }
    }
    let described: Vec<&str> = spec["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|tag| tag["description"].as_str().is_some_and(|d| !d.is_empty()))
        .map(|tag| tag["name"].as_str().unwrap())
        .collect();
    for (operation_name, operation) in operations(&spec) {
        for tag in operation["tags"].as_array().into_iter().flatten() {
            if !described.contains(&tag.as_str().unwrap()) {
                findings.push(format!("{operation_name}: tag {tag} is not described"));
            }
        }
    }
    assert!(findings.is_empty(), "{} findings:\n{}", findings.len(), findings.join("\n"));
}

/// The harness's contract check (run at every app drop) can fail: an answer
/// with a code or status the operation does not document is reported.
#[test]
fn the_harness_reports_an_answer_the_spec_does_not_describe() {
    use crate::support::access_log::AccessRecord;
    use crate::support::contract::undocumented;
    let answer = |method: &str, route: &str, status: u16, code: Option<&str>| AccessRecord {
        method: method.into(),
        route: Some(route.into()),
        status,
        code: code.map(str::to_string),
        latency_ms: 1.0,
        request_id: "test".into(),
    };
    assert_eq!(undocumented(&answer("GET", "/v1/listings/{id}", 404, Some("listing_not_found"))), None);
    assert_eq!(undocumented(&answer("GET", "/v1/listings/{id}", 200, None)), None);
    let foreign = undocumented(&answer("GET", "/v1/listings/{id}", 404, Some("order_not_found"))).unwrap();
    assert!(foreign.contains("code undocumented"), "{foreign}");
    let status = undocumented(&answer("GET", "/v1/listings/{id}", 418, None)).unwrap();
    assert!(status.contains("status undocumented"), "{status}");
    assert_eq!(undocumented(&answer("GET", "/docs/{_:.*}", 200, None)), None, "not an operation");
}

/// Issue 14: a client developer reading the spec sees a realistic body for every
/// success response, and no example contradicts the schema it illustrates.
/// Prints every offender at once so one run shows all the work left.
#[tokio::test]
async fn every_success_response_has_an_example_that_fits_its_schema() {
    let spec: serde_json::Value = serde_json::from_str(&rigmarket::app::openapi::spec_json()).unwrap();
    let mut offenders = Vec::new();

    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(responses) = operation["responses"].as_object() else { continue };
            for (status, response) in responses.iter().filter(|(status, _)| status.starts_with('2')) {
                let Some(content) = response["content"].as_object() else { continue };
                for (media_type, media) in content.iter().filter(|(media_type, _)| media_type.contains("json")) {
                    let has_example = media.get("example").is_some()
                        || media["examples"].as_object().is_some_and(|examples| !examples.is_empty())
                        || example_shown_for(&spec, &media["schema"]);
                    if !has_example {
                        offenders.push(format!("{method} {path} {status} {media_type}: no example"));
                    }
                }
            }
        }
    }

    let components = &spec["components"];
    for (name, schema) in components["schemas"].as_object().unwrap() {
        let Some(example) = schema.get("example") else { continue };
        // The schema by reference, inside a document holding every component, so that
        // nested `#/components/schemas/...` references resolve without any network.
        let document = serde_json::json!({
            "$ref": format!("#/components/schemas/{name}"),
            "components": components,
        });
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&document)
            .unwrap_or_else(|e| panic!("components.schemas.{name} is not a valid JSON Schema: {e}"));
        for error in validator.iter_errors(example) {
            offenders.push(format!("{name} example at `{}`: {error}", error.instance_path()));
        }
    }

    assert!(
        offenders.is_empty(),
        "{} success responses or examples need work:\n{}",
        offenders.len(),
        offenders.join("\n")
    );
}

/// Whether Swagger UI and generated clients get a whole example for a body of this
/// schema: its own, through `$ref`, array items or `allOf`, or for a list envelope
/// (`{items, next_cursor}`, which carries no example of its own) its items'.
fn example_shown_for(spec: &serde_json::Value, schema: &serde_json::Value) -> bool {
    if schema.get("example").is_some() || schema.get("enum").is_some() {
        return true;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let target = spec.pointer(reference.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling {reference}"));
        return example_shown_for(spec, target);
    }
    if let Some(parts) = schema["allOf"].as_array() {
        return parts.iter().any(|part| example_shown_for(spec, part));
    }
    if schema["type"] == "array" {
        return example_shown_for(spec, &schema["items"]);
    }
    let items = &schema["properties"]["items"];
    items["type"] == "array" && example_shown_for(spec, &items["items"])
}
