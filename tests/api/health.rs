use crate::support::spawn_app;

#[tokio::test]
async fn live_and_ready_answer_with_a_request_id() {
    let app = spawn_app().await;
    let live = app.get("/health/live").await;
    assert_eq!(live.status(), 200);
    let first_id = live.headers()["x-request-id"].to_str().unwrap().to_string();
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), 200);
    let second_id = ready.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(first_id, second_id, "each request gets its own id");
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_and_report_the_pool_and_queue() {
    let app = spawn_app().await;
    app.get("/v1/rig-models").await;
    app.get(&format!("/v1/rig-models/{}", uuid::Uuid::new_v4())).await;
    let body = app.get("/metrics").await.text().await.unwrap();
    assert!(
        body.contains(r#"rigmarket_http_requests_total{method="GET",route="/v1/rig-models",status="200"} 1"#),
        "{body}"
    );
    assert!(body.contains(r#"route="/v1/rig-models/{id}",status="404"} 1"#), "{body}");
    assert!(body.contains("rigmarket_db_pool_connections"));
    assert!(body.contains("rigmarket_jobs_due 0"));
}

#[tokio::test]
async fn metrics_report_the_process_and_the_build() {
    let app = spawn_app().await;
    let body = app.get("/metrics").await.text().await.unwrap();
    for name in
        ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"]
    {
        let value = body
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{name} is reported: {body}"));
        let value: f64 = value.parse().unwrap();
        if name != "process_cpu_seconds_total" {
            assert!(value > 0.0, "{name} is measured, not a placeholder: {value}");
        }
    }
    let version = env!("CARGO_PKG_VERSION");
    let build_info = body.lines().find(|line| line.starts_with("rigmarket_build_info{")).expect("build info");
    assert!(build_info.contains(&format!(r#"version="{version}""#)) && build_info.ends_with("} 1"), "{build_info}");
}

#[tokio::test]
async fn shutdown_stops_accepting_connections() {
    let app = spawn_app().await;
    let address = app.address.clone();
    assert_eq!(app.get("/health/live").await.status(), 200);
    app.shutdown().await;
    let after = reqwest::Client::new().get(format!("{address}/health/live")).send().await;
    assert!(after.is_err(), "the listener is closed after shutdown");
}
