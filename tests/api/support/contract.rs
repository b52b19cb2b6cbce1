//! Every answer a test saw is one the spec documents: the harness checks the
//! access log of each test against `openapi/openapi.json` when the app drops,
//! so the whole suite doubles as a contract test of statuses and problem codes.

use std::sync::OnceLock;

use serde_json::Value;

use super::access_log::{self, AccessRecord};

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(rigmarket::app::openapi::spec)
}

/// Why `record` is not what the spec documents, if it is not. Requests outside
/// the documented operations (the docs page, the local storage backend, unknown
/// routes) are not the spec's business.
pub fn undocumented(record: &AccessRecord) -> Option<String> {
    let route = record.route.as_deref()?;
    let operation = spec()["paths"].get(route)?.get(record.method.to_lowercase())?;
    let seen = format!("{} {route} answered {} {}", record.method, record.status, record.code.as_deref().unwrap_or(""));
    let Some(response) = operation["responses"].get(record.status.to_string()) else {
        return Some(format!("{seen}: status undocumented"));
    };
    let code = record.code.as_deref()?;
    let documented = rigmarket::http::problems::codes_of(response).iter().any(|known| known == code);
    (!documented).then(|| format!("{seen}: code undocumented"))
}

/// Every undocumented answer captured so far in this process.
pub fn findings() -> Vec<String> {
    let mut findings: Vec<String> = access_log::records().iter().filter_map(undocumented).collect();
    findings.sort();
    findings.dedup();
    findings
}
