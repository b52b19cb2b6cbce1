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
