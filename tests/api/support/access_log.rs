//! Captures the app's access log (`rigmarket::access` events) so tests can
//! assert what operators see: one record per request with its route pattern,
//! status, problem code, latency and request id.
//!
//! The app's actix workers run on their own threads, so the capture is the
//! process-wide default subscriber, installed once (nextest runs each test in
//! its own process; under `cargo test` tests share it, so filter the records by
//! request id). With `RUST_LOG` set, every log line is also printed, for
//! debugging a test.

use std::sync::{Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

const ACCESS_TARGET: &str = "rigmarket::access";

/// One access-log line, as the app emitted it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRecord {
    pub method: String,
    /// The matched route pattern (`/v1/listings/{id}`); `None` when no route matched.
    pub route: Option<String>,
    pub status: u16,
    /// The problem+json `code`, for problem answers.
    pub code: Option<String>,
    pub latency_ms: f64,
    pub request_id: String,
}

static RECORDS: Mutex<Vec<AccessRecord>> = Mutex::new(Vec::new());
/// Targets of WARN and ERROR events, to prove nothing else logs per request.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<()> = OnceLock::new();

/// Every access record captured so far in this process, oldest first.
pub fn records() -> Vec<AccessRecord> {
    RECORDS.lock().unwrap().clone()
}

/// The records of one request (by its `x-request-id`).
pub fn records_for(request_id: &str) -> Vec<AccessRecord> {
    records().into_iter().filter(|record| record.request_id == request_id).collect()
}

/// The targets of every WARN or ERROR event captured so far in this process.
pub fn warning_targets() -> Vec<String> {
    WARNINGS.lock().unwrap().clone()
}

/// Installs the capturing subscriber; later calls do nothing. Called by
/// `TestAppBuilder::spawn`.
pub fn install() {
    INSTALLED.get_or_init(|| {
        let printed = std::env::var("RUST_LOG")
            .is_ok()
            .then(|| tracing_subscriber::fmt::layer().with_test_writer().with_filter(EnvFilter::from_default_env()));
        let capture = Capture.with_filter(filter_fn(|meta| {
            meta.is_event() && (meta.target() == ACCESS_TARGET || *meta.level() <= Level::WARN)
        }));
        // Another global subscriber (none today) would keep its own; the capture
        // then sees nothing and the access-log tests say so.
        let _ = tracing_subscriber::registry().with(capture).with(printed).try_init();
    });
}

struct Capture;

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() <= Level::WARN {
            WARNINGS.lock().unwrap().push(meta.target().to_string());
        }
        if meta.target() != ACCESS_TARGET {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        RECORDS.lock().unwrap().push(AccessRecord {
            method: fields.method.unwrap_or_default(),
            route: fields.route,
            status: fields.status.unwrap_or_default(),
            code: fields.code,
            latency_ms: fields.latency_ms.unwrap_or(f64::NAN),
            request_id: fields.request_id.unwrap_or_default(),
        });
    }
}

#[derive(Default)]
struct Fields {
    method: Option<String>,
    route: Option<String>,
    status: Option<u16>,
    code: Option<String>,
    latency_ms: Option<f64>,
    request_id: Option<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        let slot = match field.name() {
            "method" => &mut self.method,
            "route" => &mut self.route,
            "code" => &mut self.code,
            "request_id" => &mut self.request_id,
            _ => return,
        };
        *slot = Some(value.to_string());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.status = u16::try_from(value).ok();
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "status" {
            self.status = u16::try_from(value).ok();
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "latency_ms" {
            self.latency_ms = Some(value);
        }
    }

    // Fields logged with `%`/`?` arrive here; their Debug is the Display text.
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}
