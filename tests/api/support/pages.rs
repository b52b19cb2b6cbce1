//! Collections answer `{items, next_cursor}` pages: helpers that read one page
//! and that walk a whole collection one item per page.

use serde_json::Value;

use super::listings::{get_as, get_response};
use super::{assert_problem, TestApp};

fn with_query(path: &str, query: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}{query}")
}

/// The items of the collection at `path`, all on one page (at most 100).
pub async fn items(app: &TestApp, path: &str, token: Option<&str>) -> Vec<Value> {
    let (status, page) = get_as(app, &with_query(path, "limit=100"), token).await;
    assert_eq!(status, 200, "GET {path}: {page}");
    assert!(page["next_cursor"].is_null(), "GET {path}: fits on one page: {page}");
    page["items"].as_array().unwrap_or_else(|| panic!("GET {path} is a page: {page}")).clone()
}

/// Walks the collection at `path` with `limit=1` and checks the walk: every page
/// holds exactly one item, the last one says `next_cursor: null`, and together
/// they are the one-page answer in the same order (no duplicate, no gap). Also
/// checks that a cursor this endpoint never issued and a limit out of bounds are
/// refused. Returns the items; the caller makes sure there are at least two.
pub async fn walk_one_by_one(app: &TestApp, path: &str, token: Option<&str>) -> Vec<Value> {
    let all = items(app, path, token).await;
    assert!(all.len() >= 2, "GET {path}: a walk needs two items at least, got {all:?}");
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..all.len() {
        let query = match &cursor {
            Some(cursor) => format!("limit=1&cursor={cursor}"),
            None => "limit=1".to_string(),
        };
        let (status, page) = get_as(app, &with_query(path, &query), token).await;
        assert_eq!(status, 200, "GET {path}?{query}: {page}");
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "GET {path}?{query}: one item per page: {page}");
        walked.push(items[0].clone());
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(cursor, None, "GET {path}: the page with the last item has no next_cursor");
    assert_eq!(walked, all, "GET {path}: limit=1 pages are the one-page answer, no duplicate, no gap");

    for refused in ["cursor=not-a-cursor", "cursor=eyJ4Ijp0cnVlfQ", "limit=0", "limit=101"] {
        let response = get_response(app, &with_query(path, refused), token).await;
        let body = assert_problem(response, 422, "validation_failed").await;
        let field = refused.split('=').next().unwrap();
        assert_eq!(body["errors"][0]["field"], field, "GET {path}?{refused}: {body}");
    }
    all
}
