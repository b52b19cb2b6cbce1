//! Bad listing input: clear 4xx answers and nothing written.

use super::*;

#[tokio::test]
async fn bad_listing_input_gets_a_clear_422_and_nothing_is_written() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let unknown_model = uuid::Uuid::new_v4().to_string();
    let past = "2026-01-05T08:59:59Z";
    let cases: Vec<(Value, &str, Vec<&str>)> = vec![
        (json!({"quantity": 0}), "validation_failed", vec!["quantity"]),
        (json!({"quantity": -1}), "validation_failed", vec!["quantity"]),
        (json!({"unit_price_cents": 0}), "validation_failed", vec!["unit_price_cents"]),
        (json!({"unit_price_cents": -95_000}), "validation_failed", vec!["unit_price_cents"]),
        (json!({"rig_model_id": unknown_model}), "validation_failed", vec!["rig_model_id"]),
        (json!({"country": "XX"}), "validation_failed", vec!["country"]),
        (json!({"country": "Kazakhstan"}), "validation_failed", vec!["country"]),
        (
            json!({"hosting": {"facility": "DC-2", "country": "KZ", "power_off_at": past}}),
            "validation_failed",
            vec!["hosting.power_off_at"],
        ),
        (json!({"description": "x".repeat(25_000)}), "validation_failed", vec!["description"]),
        (json!({"title": "  "}), "validation_failed", vec!["title"]),
        (json!({"inspection_days": 15}), "validation_failed", vec!["inspection_days"]),
        (json!({"serial_numbers": ["A1", "A2", "A3"], "quantity": 2}), "validation_failed", vec!["serial_numbers"]),
        (json!({"colour": "red"}), "invalid_body", vec![]),
        (json!({"currency": "EUR"}), "invalid_body", vec![]),
        (json!({"incoterm": "FOO"}), "invalid_body", vec![]),
        (json!({"quantity": "ten"}), "invalid_body", vec![]),
        (json!({"rig_model_id": "not-a-uuid"}), "invalid_body", vec![]),
    ];
    for (overrides, code, fields) in cases {
        let response = try_create_listing(&app, &seller, overrides.clone()).await;
        let body = assert_problem(response, 422, code).await;
        if code == "validation_failed" {
            assert_eq!(error_fields(&body), fields, "{overrides}: {body}");
        }
        assert_eq!(listing_count(&app).await, 0, "{overrides} wrote a listing");
    }
    let missing = app.post_json("/v1/listings", Some(&seller), &json!({"title": "No model"})).await;
    assert_problem(missing, 422, "invalid_body").await;
    assert_eq!(listing_count(&app).await, 0);

    // Lower-case country codes are normalised, not refused.
    let lower = create_listing(
        &app,
        &seller,
        json!({"country": "kz", "hosting": {"facility": " DC-2 ", "country": "kz", "power_off_at": "2026-03-01T00:00:00Z"}}),
    )
    .await;
    assert_eq!(lower["country"], "KZ");
    assert_eq!(lower["hosting"]["country"], "KZ");
    assert_eq!(lower["hosting"]["facility"], "DC-2");
    assert_eq!(listing_count(&app).await, 1);
}

#[tokio::test]
async fn ten_megabytes_of_description_are_refused_as_too_large() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let response = try_create_listing(&app, &seller, json!({"description": "x".repeat(10 * 1024 * 1024)})).await;
    assert_problem(response, 413, "payload_too_large").await;
    assert_eq!(listing_count(&app).await, 0);
}

#[tokio::test]
async fn a_thousand_garbage_serial_numbers_get_a_short_answer() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let garbage: Vec<String> = (0..1000).map(|i| format!("serial #{i} <script>")).collect();
    let response = try_create_listing(&app, &seller, json!({"quantity": 2000, "serial_numbers": garbage})).await;
    let body = assert_problem(response, 422, "validation_failed").await;
    let fields = error_fields(&body);
    assert!(!fields.is_empty() && fields.len() <= 5, "at most five errors, not a thousand: {fields:?}");
    assert_eq!(fields[0], "serial_numbers[0]");
    assert_eq!(listing_count(&app).await, 0);

    let good: Vec<String> = (0..3).map(|i| format!("SN-2021-{i:04}")).collect();
    let listing = create_listing(&app, &seller, json!({"quantity": 3, "serial_numbers": good})).await;
    assert_eq!(listing["serial_numbers"], json!(["SN-2021-0000", "SN-2021-0001", "SN-2021-0002"]));
}

// ---------------------------------------------------------------- condition reports
