//! The HTTP server: every capability's routes under `/v1`, the kernel's
//! middleware, and the services handlers extract.

use std::net::TcpListener;
use std::rc::Rc;
use std::time::Duration;

use actix_http::KeepAlive;
use actix_service::{
    fn_factory, fn_service, map_config, IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt,
};
use actix_web::dev::{AppConfig, Server};
use actix_web::http::Method;
use actix_web::{middleware, web, App};
use tokio::net::TcpStream;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;

use super::{openapi, Instance};
use crate::http;
use crate::http::routes::KnownRoutes;
use crate::notifications::DirectStreams;

/// Every documented route. Used by the server and by `openapi::spec()`.
pub fn configure_api(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    crate::ops::configure(cfg);
    cfg.service(
        utoipa_actix_web::scope("/v1")
            .configure(crate::catalog::configure)
            .configure(crate::accounts::configure)
            .configure(crate::listings::configure)
            .configure(crate::units::configure)
            .configure(crate::proofs::configure)
            .configure(crate::orders::configure)
            .configure(crate::offers::configure)
            .configure(crate::ledger::configure)
            .configure(crate::price_index::configure)
            .configure(crate::webhooks::configure)
            .configure(crate::notifications::configure)
            .configure(crate::alerts::configure),
    );
}

/// The API's operations, the docs routes and the email-link pages, for 405 answers.
fn known_routes(spec: &serde_json::Value) -> KnownRoutes {
    use crate::accounts::pages::{RESET_PASSWORD_PAGE, VERIFY_EMAIL_PAGE};
    let get = &[Method::GET][..];
    let pages = [
        ("/openapi.json", get),
        ("/docs", get),
        ("/docs/{_:.*}", get),
        (VERIFY_EMAIL_PAGE, get),
        (RESET_PASSWORD_PAGE, get),
    ];
    KnownRoutes::new(spec, &pages)
}

pub fn http_server(instance: Instance, listener: TcpListener) -> anyhow::Result<Server> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let spec = openapi::spec();
    let routes = known_routes(&spec);
    // Built once: collecting and completing the document is start-up work.
    let spec_json = web::Bytes::from(openapi::committed_form(&spec));
    let streams = DirectStreams { state: instance.state.clone(), live: instance.live.clone() };
    let app = move || {
        let (app, _) = App::new().into_utoipa_app().openapi(openapi::base()).configure(configure_api).split_for_parts();
        let state = &instance.state;
        let metrics = state.metrics.clone();
        let json_limit = state.config.json_limit_bytes;
        app.app_data(web::Data::new(state.clone()))
            .app_data(web::Data::new(state.storage.clone()))
            .app_data(web::Data::new(instance.orders.clone()))
            .app_data(web::Data::new(instance.dummy_hash.clone()))
            .app_data(web::Data::new(instance.reputations.clone()))
            .app_data(web::Data::new(instance.listing_pages.clone()))
            .app_data(web::Data::new(instance.spec_followers.clone()))
            .app_data(web::Data::new(instance.catalog_pages.clone()))
            .app_data(web::Data::new(instance.search_runs.clone()))
            .app_data(web::Data::new(instance.index_answers.clone()))
            .app_data(web::Data::new(instance.shares.clone()))
            .app_data(web::Data::new(instance.live.clone()))
            .app_data(web::Data::new(routes.clone()))
            .app_data(http::json_config(state.config.json_limit_bytes))
            .app_data(web::PathConfig::default().error_handler(http::path_error))
            .app_data(web::QueryConfig::default().error_handler(http::query_error))
            .configure(crate::storage::local_routes)
            .configure(|cfg| openapi::docs_routes(cfg, spec_json.clone()))
            .configure(crate::accounts::pages::routes)
            .default_service(web::to(http::routes::unmatched))
            // Innermost: runs when the handler's transactions have committed.
            .wrap_fn(crate::accounts::remember_writes)
            .wrap(middleware::from_fn(move |req, next| http::input::screen_text(json_limit, req, next)))
            .wrap(middleware::Compress::default())
            .wrap(middleware::from_fn(http::conditional::encoding_specific_etag))
            .wrap(http::cors(&state.config.cors_origins))
            .wrap(middleware::from_fn(http::cors_refusal_as_problem))
            .wrap_fn(move |req, srv| crate::metrics::record(&metrics, req, srv))
            .wrap_fn(http::response_headers)
            .wrap(middleware::from_fn(http::access_log::log_request))
            .wrap(TracingLogger::default())
    };
    // actix-web's `HttpServer::listen`, assembled by hand for two differences:
    // a connection that opens with an event stream is served directly
    // (`notifications::direct`: a stream without actix-web's per-connection
    // buffers), and each other connection's socket is wrapped so the HTTP/1
    // parser's bare refusals (a NUL in a header, an oversized or too slow
    // head) answer problem+json.
    // Timeouts are actix-web's defaults (keep-alive 5 s, head 5 s, disconnect 1 s).
    let local_addr = listener.local_addr()?;
    let builder = actix_server::Server::build();
    // Told when a graceful stop begins, so idle keep-alive connections close
    // at once instead of holding the stop for their keep-alive timeout.
    let stopping = builder.graceful_shutdown_signal();
    let server = builder
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(30)
        .listen("rigmarket-http", listener, move || {
            let app = app().into_factory().map_err(|err: actix_web::Error| err.error_response());
            let stopping = stopping.clone();
            let h1 = actix_http::HttpService::build()
                .graceful_shutdown_signal(move || {
                    let stopping = stopping.clone();
                    async move { stopping.notified().await }
                })
                .keep_alive(KeepAlive::default())
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(local_addr)
                // No request reads the app's host fallback (requests carry `Host`).
                .h1(map_config(app, |_| AppConfig::default()));
            let streams = streams.clone();
            fn_factory(move || {
                let (h1, streams) = (h1.new_service(()), streams.clone());
                async move {
                    let h1 = Rc::new(h1.await?);
                    Ok::<_, ()>(fn_service(move |io: TcpStream| {
                        let (h1, streams) = (h1.clone(), streams.clone());
                        async move {
                            let io = match streams.serve(io).await {
                                Ok(()) => return Ok(()),
                                Err(io) => io,
                            };
                            let peer = io.peer_addr().ok();
                            // Boxed: a directly served stream's task keeps no room for a dispatcher.
                            Box::pin(h1.call((http::malformed::ProblemOnRefusal::new(io), peer))).await
                        }
                    }))
                }
            })
        })?
        .run();
    Ok(server)
}
