//! Prometheus metrics: request counts and latency by route pattern and status,
//! job outcomes, reads routed per database target and each replica's lag and
//! health (as the read router reports them), and gauges (pool usage, job queue depth) that whoever serves
//! the scrape sets just before rendering; `rigmarket_build_info` (the version),
//! and the standard `process_*` metrics (CPU, memory, file descriptors, start
//! time, read from `/proc/self` on Linux at each scrape).

use std::future::Future;
use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::db::reads::ReadObserver;

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Unprefixed, so the process metrics keep their standard `process_*` names.
    process: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub jobs_finished: IntCounterVec,
    /// Lag-tolerant reads by where they went (`primary` or a replica).
    pub db_reads: IntCounterVec,
    replica_lag: GaugeVec,
    replica_healthy: IntGaugeVec,
    pool_size: IntGauge,
    pool_available: IntGauge,
    pool_waiting: IntGauge,
    jobs_due: IntGauge,
    jobs_scheduled: IntGauge,
    jobs_dead: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// One answered request, by its route pattern.
    pub fn count_request(&self, method: &str, route: &str, status: u16, took: std::time::Duration) {
        self.http_requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.http_duration.with_label_values(&[method, route]).observe(took.as_secs_f64());
    }

    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("rigmarket".into()), None).expect("valid prefix");
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method, route pattern and status"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route pattern")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["method", "route"],
        )
        .expect("valid metric");
        let jobs_finished = IntCounterVec::new(
            Opts::new("jobs_finished_total", "Job runs by kind and outcome (ok, retry, dead)"),
            &["kind", "outcome"],
        )
        .expect("valid metric");
        let db_reads = IntCounterVec::new(
            Opts::new("db_reads_routed_total", "Lag-tolerant reads by target (primary or a replica)"),
            &["target"],
        )
        .expect("valid metric");
        let replica_lag = GaugeVec::new(
            Opts::new(
                "db_replica_lag_seconds",
                "How far each replica's replay is behind the primary at its last check",
            ),
            &["replica"],
        )
        .expect("valid metric");
        let replica_healthy = IntGaugeVec::new(
            Opts::new("db_replica_healthy", "1 when the replica takes reads, 0 when down or lagging"),
            &["replica"],
        )
        .expect("valid metric");
        let build_info = IntGauge::with_opts(
            Opts::new("build_info", "The running build; always 1")
                .const_label("version", env!("CARGO_PKG_VERSION"))
                .const_label("profile", if cfg!(debug_assertions) { "debug" } else { "release" }),
        )
        .expect("valid metric");
        build_info.set(1);
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("valid metric");
        let metrics = Self {
            pool_size: gauge("db_pool_connections", "Open database connections"),
            pool_available: gauge("db_pool_available", "Idle database connections"),
            pool_waiting: gauge("db_pool_waiting", "Requests waiting for a database connection"),
            jobs_due: gauge("jobs_due", "Queued jobs whose run time has come"),
            jobs_scheduled: gauge("jobs_scheduled", "Queued jobs scheduled in the future"),
            jobs_dead: gauge("jobs_dead", "Jobs that exhausted their attempts"),
            http_requests,
            http_duration,
            jobs_finished,
            db_reads,
            replica_lag,
            replica_healthy,
            registry,
            process: process_registry(),
        };
        for collector in [
            Box::new(metrics.http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(metrics.http_duration.clone()),
            Box::new(metrics.jobs_finished.clone()),
            Box::new(metrics.db_reads.clone()),
            Box::new(metrics.replica_lag.clone()),
            Box::new(metrics.replica_healthy.clone()),
            Box::new(metrics.pool_size.clone()),
            Box::new(metrics.pool_available.clone()),
            Box::new(metrics.pool_waiting.clone()),
            Box::new(metrics.jobs_due.clone()),
            Box::new(metrics.jobs_scheduled.clone()),
            Box::new(metrics.jobs_dead.clone()),
            Box::new(build_info),
        ] {
            metrics.registry.register(collector).expect("metric registered once");
        }
        metrics
    }

    pub fn set_pool(&self, size: usize, available: usize, waiting: usize) {
        self.pool_size.set(size as i64);
        self.pool_available.set(available as i64);
        self.pool_waiting.set(waiting as i64);
    }

    pub fn set_queue_depth(&self, due: i64, scheduled: i64, dead: i64) {
        self.jobs_due.set(due);
        self.jobs_scheduled.set(scheduled);
        self.jobs_dead.set(dead);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let mut families = self.registry.gather();
        families.extend(self.process.gather());
        TextEncoder::new().encode(&families, &mut out).expect("text encoding cannot fail");
        String::from_utf8(out).expect("prometheus text is UTF-8")
    }
}

impl ReadObserver for Metrics {
    fn read_routed(&self, target: &str) {
        self.db_reads.with_label_values(&[target]).inc();
    }

    fn replica_checked(&self, replica: &str, healthy: bool, lag: Option<std::time::Duration>) {
        self.replica_healthy.with_label_values(&[replica]).set(i64::from(healthy));
        // An unreachable replica's lag is unknown: NaN, not a misleading number.
        self.replica_lag.with_label_values(&[replica]).set(lag.map_or(f64::NAN, |lag| lag.as_secs_f64()));
    }
}

/// `process_cpu_seconds_total`, `process_resident_memory_bytes`,
/// `process_open_fds`, `process_start_time_seconds` and the like, as every
/// Prometheus client reports them; empty where `/proc` does not exist.
fn process_registry() -> Registry {
    let registry = Registry::new();
    #[cfg(target_os = "linux")]
    registry
        .register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))
        .expect("process metrics registered once");
    registry
}

/// Middleware (used through `wrap_fn`) that counts and times every request by
/// its route pattern, never by raw path, so ids do not explode label cardinality.
pub fn record<S, B>(
    metrics: &Metrics,
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let started = Instant::now();
    let metrics = metrics.clone();
    let method = req.method().to_string();
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
        metrics.count_request(&method, &route, res.status().as_u16(), started.elapsed());
        Ok(res)
    }
}
