//! Database outages: answers turn into 503 + Retry-After (never 500, never a
//! crash) and the service recovers by itself when PostgreSQL returns.

use std::time::Duration;

use crate::support::proxy::TcpProxy;
use crate::support::{assert_problem, TestApp};

#[tokio::test]
async fn a_database_outage_gives_503s_and_the_service_recovers_on_its_own() {
    let proxy = TcpProxy::start("127.0.0.1:5432").await;
    let app = TestApp::builder().database_port(proxy.port).with_worker().spawn().await;
    assert_eq!(app.get("/v1/rig-models").await.status(), 200);

    proxy.cut();
    let requests = (0..12).map(|i| {
        let path = if i % 2 == 0 { "/v1/rig-models" } else { "/health/ready" };
        app.get(path)
    });
    for response in futures_util::future::join_all(requests).await {
        assert_eq!(response.headers()["retry-after"], "2");
        assert_problem(response, 503, "service_unavailable").await;
    }
    assert_eq!(app.get("/health/live").await.status(), 200, "the process itself stays up");

    proxy.restore();
    let mut recovered = false;
    for _ in 0..40 {
        if app.get("/v1/rig-models").await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "the service serves again once PostgreSQL is back");
    assert_eq!(app.get("/health/ready").await.status(), 200);
}
