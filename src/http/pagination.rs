//! Cursor pagination shared by list endpoints: `?limit=&cursor=` in,
//! `{items, next_cursor}` out. Cursors are opaque base64url JSON of the sort key
//! of the last item, so pages stay stable while rows are inserted.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::http::problems::Declared;

/// What an operation taking `limit`/`cursor` can answer because of them.
pub const PAGE_PROBLEMS: Declared<'static> = &[(422, &["validation_failed"])];

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::validation("limit", format!("must be between 1 and {MAX_LIMIT}"))),
        }
    }

    pub fn cursor<K: DeserializeOwned>(&self) -> Result<Option<K>, ApiError> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(example = "eyJpZCI6IjAxOTNmMmE0LTdjMWEtN2U0Mi05YjE1LTZmNGQ4YzNhMmUxMCJ9")]
    pub next_cursor: Option<String>,
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("cursor keys serialize"))
}

pub fn decode_cursor<K: DeserializeOwned>(raw: &str) -> Result<K, ApiError> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::validation("cursor", "is not a cursor returned by this endpoint"))
}

/// Builds a page from `limit + 1` fetched rows: the extra row only says whether
/// another page exists.
pub fn page_from<T, K: Serialize>(mut rows: Vec<T>, limit: i64, key_of: impl Fn(&T) -> K) -> (Vec<T>, Option<String>) {
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if has_more { rows.last().map(|last| encode_cursor(&key_of(last))) } else { None };
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let key = ("Bitmain".to_string(), 42_i64);
        let cursor = encode_cursor(&key);
        assert_eq!(decode_cursor::<(String, i64)>(&cursor).unwrap(), key);
        assert!(decode_cursor::<(String, i64)>("not-a-cursor!").is_err());
    }

    #[test]
    fn page_detects_more_from_the_extra_row() {
        let (items, next) = page_from(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(items, vec![1, 2]);
        assert_eq!(decode_cursor::<i32>(&next.unwrap()).unwrap(), 2);
        let (items, next) = page_from(vec![1, 2], 2, |n| *n);
        assert_eq!(items.len(), 2);
        assert!(next.is_none());
    }

    #[test]
    fn limit_is_bounded() {
        let params = |limit| PageParams { limit, cursor: None };
        assert_eq!(params(None).limit().unwrap(), DEFAULT_LIMIT);
        assert!(params(Some(0)).limit().is_err());
        assert!(params(Some(101)).limit().is_err());
    }
}
