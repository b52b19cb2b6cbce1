//! The crate's layering, stated once: which modules exist, in which order they
//! may depend on each other, and which tables each one owns.
//!
//! A module may use the modules listed *before* it, never one listed after it,
//! and the composition root (`lib.rs`, `app`, `cli`, `demo`) may use everything
//! while nothing uses it. A table is read and written only by the module that
//! owns it; everyone else goes through that module's public API. The test
//! `tests/api/architecture.rs` reads `src/` and fails on any import or SQL that
//! breaks these rules, and on any import cycle between files;
//! `docs/ARCHITECTURE.md` draws the same picture for people.

/// Where a module sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Plumbing every capability shares: errors, database, clock, configuration,
    /// HTTP helpers, the job queue, mail, storage, validation.
    Kernel,
    /// One slice of the product (accounts, listings, orders ...).
    Capability,
}

/// One top-level module of the crate.
#[derive(Debug, Clone, Copy)]
pub struct Module {
    pub name: &'static str,
    pub layer: Layer,
    /// The tables whose SQL lives in this module only.
    pub tables: &'static [&'static str],
    /// What it is, in a phrase (for the architecture document).
    pub holds: &'static str,
}

const fn kernel(name: &'static str, tables: &'static [&'static str], holds: &'static str) -> Module {
    Module { name, layer: Layer::Kernel, tables, holds }
}

const fn capability(name: &'static str, tables: &'static [&'static str], holds: &'static str) -> Module {
    Module { name, layer: Layer::Capability, tables, holds }
}

/// Every module below the composition root, bottom first.
pub const MODULES: &[Module] = &[
    kernel("clock", &[], "the source of now (system or manual in tests)"),
    kernel("decimal", &[], "exact decimal text to scaled integers"),
    kernel("geo", &[], "ISO 3166-1 country codes"),
    kernel("telemetry", &[], "log set-up"),
    kernel("config", &[], "settings from the environment"),
    kernel(
        "db",
        &["caller_write_lsns"],
        "pools, read routing to replicas (health, read-your-writes), schema, typed ids and text enums, migrations",
    ),
    kernel("error", &[], "ApiError and problem+json"),
    kernel("validation", &[], "field checks that report every problem at once"),
    kernel("metrics", &[], "the Prometheus registry and request metrics"),
    kernel("jobs", &["jobs", "periodic_tasks"], "the PostgreSQL job queue, typed jobs and the worker"),
    kernel("ratelimit", &["rate_limit_windows"], "fixed-window quotas shared by all instances"),
    kernel("http", &[], "HTTP plumbing: pagination, PATCH fields, extractor errors, shared responses"),
    kernel("storage", &[], "object storage (S3 or a local directory) and signed URLs"),
    kernel("mail", &[], "the mail outbox (a job) and its transports"),
    kernel("audit", &["audit_log"], "the append-only audit log"),
    kernel(
        "events",
        &["domain_events", "notifications"],
        "the domain events outbox, its catalog of event types and every party's inbox entry",
    ),
    kernel("idempotency", &["idempotency_keys"], "Idempotency-Key storage and replay"),
    kernel("state", &[], "AppState: the kernel services a handler can extract"),
    capability("ops", &[], "health, readiness and the metrics endpoint"),
    capability(
        "accounts",
        &["users", "sessions", "refresh_tokens", "email_tokens", "api_keys", "login_throttle"],
        "users, sessions, who is calling (AuthUser, Principal), API keys, admin of users",
    ),
    capability(
        "notifications",
        &["notification_settings", "event_stream_tickets"],
        "the notifications inbox API, email preferences, the live event stream",
    ),
    capability(
        "catalog",
        &["manufacturers", "rig_models", "reference_prices", "tier_reference_prices", "catalog_version"],
        "rig models, efficiency tiers, reference prices and discounts against them",
    ),
    capability(
        "price_index",
        &[
            "price_observations",
            "price_index_buckets",
            "price_index_materialized",
            "price_index_pending",
            "price_index_generation",
            "price_index_months",
        ],
        "USD per TH/s observations, bucket aggregates and the index API",
    ),
    capability(
        "listings",
        &["listings", "listing_price_changes", "condition_reports", "listing_photos", "listing_flags"],
        "lots, condition reports, photos, moderation, search",
    ),
    capability(
        "units",
        &["units", "serial_reports"],
        "units of a lot by serial, the serial registry and stolen reports",
    ),
    capability(
        "proofs",
        &["hashrate_proofs", "proof_shares", "relay_jobs", "proof_units"],
        "hashrate proofs: share checks, the Stratum listener, verdicts",
    ),
    capability("payments", &["btcpay_deliveries"], "payment providers (BTCPay Server)"),
    capability("ledger", &["ledger_transactions", "ledger_entries"], "the double-entry ledger"),
    capability(
        "orders",
        &[
            "orders",
            "order_events",
            "settlement_offers",
            "order_evidence",
            "order_messages",
            "order_reviews",
            "unit_rejections",
        ],
        "escrow orders, timers, payments, disputes, reviews, reputation",
    ),
    capability(
        "offers",
        &["offer_threads", "offer_versions"],
        "offers and counter-offers on lots; an acceptance places the order",
    ),
    capability(
        "alerts",
        &["saved_searches", "saved_search_alerts", "alert_digests", "alert_unsubscribe_tokens"],
        "saved searches, their alerts (instant and daily digests) and one-click unsubscribe",
    ),
    capability(
        "webhooks",
        &["webhook_endpoints", "webhook_deliveries"],
        "outbound webhooks: endpoints, signed deliveries, retries, SSRF checks",
    ),
];

/// The composition root: wires capabilities together; nothing imports it.
pub const ROOT: &[&str] = &["app", "cli", "demo"];

/// The module that owns `table`.
pub fn owner_of(table: &str) -> Option<&'static Module> {
    MODULES.iter().find(|m| m.tables.contains(&table))
}

/// The position of `module` in [`MODULES`] (lower may not use higher).
pub fn rank(module: &str) -> Option<usize> {
    MODULES.iter().position(|m| m.name == module)
}
