//! Stratum V1 framing: newline-delimited JSON-RPC requests from miners, and the
//! responses and notifications the server writes back. Pure: no sockets.

use serde_json::{json, Value};

/// The hard ceiling on a line a miner may send (real requests are a few hundred
/// bytes); the listener's cap, `RIGMARKET_STRATUM_MAX_LINE_BYTES` (default
/// 4096), is at most this.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// The version-rolling bits the server allows (BIP 310's usual mask).
pub const SERVER_VERSION_MASK: u32 = 0x1fff_e000;

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: Value,
    pub method: String,
    pub params: Vec<Value>,
}

/// Stratum V1 error numbers (braiins' documentation).
pub mod codes {
    pub const OTHER: i32 = 20;
    pub const JOB_NOT_FOUND: i32 = 21;
    pub const DUPLICATE_SHARE: i32 = 22;
    pub const LOW_DIFFICULTY: i32 = 23;
    pub const UNAUTHORIZED: i32 = 24;
    pub const NOT_SUBSCRIBED: i32 = 25;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON, or not a JSON-RPC request object.
    Malformed,
    TooLong,
}

pub fn parse_line(line: &str) -> Result<Request, ParseError> {
    if line.len() > MAX_LINE_BYTES {
        return Err(ParseError::TooLong);
    }
    let value: Value = serde_json::from_str(line.trim()).map_err(|_| ParseError::Malformed)?;
    let method = value.get("method").and_then(Value::as_str).ok_or(ParseError::Malformed)?.to_string();
    let params = match value.get("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err(ParseError::Malformed),
    };
    Ok(Request { id: value.get("id").cloned().unwrap_or(Value::Null), method, params })
}

pub fn ok(id: &Value, result: Value) -> String {
    format!("{}\n", json!({ "id": id, "result": result, "error": null }))
}

pub fn error(id: &Value, code: i32, message: &str) -> String {
    format!("{}\n", json!({ "id": id, "result": null, "error": [code, message, null] }))
}

pub fn notification(method: &str, params: Value) -> String {
    format!("{}\n", json!({ "id": null, "method": method, "params": params }))
}

/// `mining.configure` with `version-rolling`: the mask the miner may roll is the
/// server's mask AND the miner's. Returns the negotiated mask, or `None` when the
/// miner did not ask for version rolling.
pub fn negotiate_version_rolling(params: &[Value]) -> Option<u32> {
    let extensions = params.first()?.as_array()?;
    if !extensions.iter().any(|e| e.as_str() == Some("version-rolling")) {
        return None;
    }
    let requested = params
        .get(1)
        .and_then(|p| p.get("version-rolling.mask"))
        .and_then(Value::as_str)
        .and_then(|m| u32::from_str_radix(m, 16).ok())
        .unwrap_or(u32::MAX);
    Some(SERVER_VERSION_MASK & requested)
}

/// The string parameter at `index`, if present.
pub fn param_str(params: &[Value], index: usize) -> Option<&str> {
    params.get(index).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_garbage_does_not() {
        let request = parse_line(r#"{"id": 1, "method": "mining.subscribe", "params": ["cpuminer/2.5"]}"#).unwrap();
        assert_eq!(request.method, "mining.subscribe");
        assert_eq!(request.params, vec![json!("cpuminer/2.5")]);
        assert_eq!(parse_line("GET / HTTP/1.1"), Err(ParseError::Malformed));
        assert_eq!(parse_line(r#"{"id": 1}"#), Err(ParseError::Malformed));
        assert_eq!(parse_line(r#"{"id":1,"method":"x","params":"no"}"#), Err(ParseError::Malformed));
        assert_eq!(parse_line(&"x".repeat(MAX_LINE_BYTES + 1)), Err(ParseError::TooLong));
    }

    #[test]
    fn version_rolling_is_the_intersection_of_masks() {
        let params = vec![json!(["version-rolling"]), json!({"version-rolling.mask": "ffffffff"})];
        assert_eq!(negotiate_version_rolling(&params), Some(0x1fffe000));
        let params = vec![json!(["version-rolling"]), json!({"version-rolling.mask": "00fff000"})];
        assert_eq!(negotiate_version_rolling(&params), Some(0x00ffe000));
        assert_eq!(negotiate_version_rolling(&[json!(["minimum-difficulty"])]), None);
    }

    #[test]
    fn errors_follow_the_stratum_shape() {
        let line = error(&json!(7), codes::DUPLICATE_SHARE, "Duplicate share");
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["error"], json!([22, "Duplicate share", null]));
        assert!(line.ends_with('\n'));
    }
}
