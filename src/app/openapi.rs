//! The OpenAPI document (collected from the registered handlers) and the docs
//! page. Swagger UI's assets are vendored into the binary, so `/docs` renders with
//! no internet access.

use actix_web::http::Method;
use actix_web::web;

use crate::http::routes::method_not_allowed;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "rigmarket API",
        description = "Marketplace for secondhand ASIC mining rigs: listings with verified hashrate, \
                       escrow orders, fire-sale tracking and a $/TH price index. Errors are \
                       application/problem+json with a stable `code`.",
        license(name = "AGPL-3.0-only", url = "https://www.gnu.org/licenses/agpl-3.0.html")
    ),
    servers((url = "/", description = "This service (the document is served by the API it describes)")),
    modifiers(&SecuritySchemes),
    // Every problem answer refers to these; `spec_rules` adds the answers.
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    tags(
        (name = "auth", description = "Registration, email verification, log-in with rotating refresh tokens, password reset"),
        (name = "me", description = "The signed-in account: profile, password, API keys, own listings and balances"),
        (name = "users", description = "Public profiles and reputation"),
        (name = "catalog", description = "Rig models, efficiency tiers and reference prices"),
        (name = "listings", description = "Lots of one rig model: drafts, moderation, photos, condition reports, flags, fire-sale discount"),
        (name = "units", description = "Units of a lot by serial, and the public serial registry (listed, sold, reported stolen)"),
        (name = "proofs", description = "Hashrate proofs: a rig mines against the Stratum endpoint (or a relay) and the shares are verified"),
        (name = "orders", description = "Escrow orders: placement, payment, shipping, inspection, disputes, reviews"),
        (name = "offers", description = "Offers and counter-offers on lots: price, quantity, DOA allowance, ship-by; an acceptance places the escrow order"),
        (name = "payments", description = "Payment provider callbacks (BTCPay Server)"),
        (name = "price-index", description = "$/TH price index by efficiency tier and fire-sale series, for API-key consumers"),
        (name = "webhooks", description = "Outbound webhooks: endpoints, event types, signed deliveries and their log"),
        (name = "admin", description = "Operations reserved to administrators"),
        (name = "health", description = "Liveness, readiness, metrics"),
    )
)]
struct BaseDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components
            .add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))));
    }
}

pub fn base() -> OpenApiDoc {
    BaseDoc::openapi()
}

/// The full document, built from the same route registrations the server uses.
/// Kept as JSON: `spec_rules` edits it as JSON, and utoipa's types do not read
/// every schema they write back (inline array items are lost).
pub fn spec() -> serde_json::Value {
    super::spec_rules::complete(collected())
}

/// What the handlers' annotations say, before `spec_rules`.
fn collected() -> OpenApiDoc {
    let (_app, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(super::server::configure_api)
        .split_for_parts();
    spec
}

/// The committed form of the spec (`openapi/openapi.json`).
pub fn spec_json() -> String {
    committed_form(&spec())
}

/// `spec` as pretty JSON with a final newline.
pub fn committed_form(spec: &serde_json::Value) -> String {
    let mut json = serde_json::to_string_pretty(spec).expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

/// `/openapi.json` (the completed document) and the Swagger UI page reading it.
pub fn docs_routes(cfg: &mut web::ServiceConfig, spec_json: web::Bytes) {
    let only_get = || web::to(|| async { Err::<actix_web::HttpResponse, _>(method_not_allowed(vec![Method::GET])) });
    cfg.service(
        web::resource("/openapi.json")
            .route(web::get().to(move || {
                let body = spec_json.clone();
                async move { actix_web::HttpResponse::Ok().content_type("application/json").body(body) }
            }))
            .default_service(only_get()),
    )
    .service(
        web::resource("/docs")
            .route(web::get().to(|| async {
                actix_web::HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
            }))
            .default_service(only_get()),
    )
    .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")));
}
