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

/// The versions of `migrations/`, as diesel records them (`2026-11-23-000001_x` -> `20261123000001`).
fn migration_versions_on_disk() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut versions: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().split('_').next().unwrap().replace('-', ""))
        .collect();
    versions.sort();
    versions
}

#[tokio::test]
async fn ready_says_the_version_and_the_migration_state() {
    let app = spawn_app().await;
    let on_disk = migration_versions_on_disk();
    let (status, body) = app.get_json("/health/ready").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let migrations = &body["migrations"];
    assert_eq!(migrations["applied"], on_disk.len(), "{body}");
    assert_eq!(migrations["embedded"], on_disk.len(), "{body}");
    assert_eq!(migrations["latest"], on_disk.last().unwrap().as_str(), "{body}");
    assert_eq!(migrations["pending"], serde_json::json!([]), "{body}");

    // A database one migration behind this build: the newest is pending.
    let newest = on_disk.last().unwrap();
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("DELETE FROM __diesel_schema_migrations WHERE version = $1")
            .bind::<diesel::sql_types::Text, _>(newest),
        &mut app.conn().await,
    )
    .await
    .unwrap();
    let (_, body) = app.get_json("/health/ready").await;
    let migrations = &body["migrations"];
    assert_eq!(migrations["applied"], on_disk.len() - 1, "{body}");
    assert_eq!(migrations["latest"], on_disk[on_disk.len() - 2].as_str(), "{body}");
    assert_eq!(migrations["pending"], serde_json::json!([newest]), "{body}");
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
