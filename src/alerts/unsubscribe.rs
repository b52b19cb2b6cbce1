//! One-click unsubscribe (RFC 8058): every alert email carries a fresh token in
//! `List-Unsubscribe`; a POST of `List-Unsubscribe=One-Click` to that URL turns
//! the alerts of the searches it names off, without a login. Tokens are 256
//! random bits stored as SHA-256 digests (`accounts::secret_token`), kept while
//! their searches exist, so a second POST (mail providers retry) is answered
//! the same way: idempotent.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use url::Url;

use super::searches;
use crate::accounts::secret_token;
use crate::db::ids::SavedSearchId;
use crate::db::schema::alert_unsubscribe_tokens;
use crate::error::{ApiError, ApiResult};

/// The prefix of unsubscribe tokens (secret scanners can spot them).
const PREFIX: &str = "rmu_";

/// The body RFC 8058 has mail providers POST.
pub const ONE_CLICK_BODY: &str = "List-Unsubscribe=One-Click";

/// A new token for `searches` (one email's), stored hashed in the caller's
/// transaction; returns the URL to POST to.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    public_url: &Url,
    searches: &[SavedSearchId],
    now: DateTime<Utc>,
) -> QueryResult<String> {
    let secret = secret_token::issue(PREFIX);
    let rows: Vec<_> = searches
        .iter()
        .map(|id| {
            (
                alert_unsubscribe_tokens::token_digest.eq(secret.digest.clone()),
                alert_unsubscribe_tokens::saved_search_id.eq(*id),
                alert_unsubscribe_tokens::created_at.eq(now),
            )
        })
        .collect();
    diesel::insert_into(alert_unsubscribe_tokens::table).values(rows).execute(conn).await?;
    Ok(link(public_url, &secret.plaintext))
}

/// `<public URL>/v1/unsubscribe?token=...`.
pub fn link(public_url: &Url, token: &str) -> String {
    let mut url = public_url.clone();
    url.set_path("/v1/unsubscribe");
    url.query_pairs_mut().clear().append_pair("token", token);
    url.to_string()
}

/// Whether a POST body is RFC 8058's one-click request (form-encoded, or the
/// same field in a multipart form).
pub fn is_one_click(body: &str) -> bool {
    let form = url::form_urlencoded::parse(body.trim().as_bytes())
        .any(|(name, value)| name == "List-Unsubscribe" && value == "One-Click");
    form || (body.contains("name=\"List-Unsubscribe\"") && body.contains("One-Click"))
}

pub fn invalid_token() -> ApiError {
    ApiError::bad_request(
        "invalid_unsubscribe_token",
        "This unsubscribe link is not valid (mistyped, or its saved search was deleted).",
    )
}

/// Turns off the alerts of the searches `token` names; the same answer every
/// time for a valid token.
pub async fn redeem(conn: &mut AsyncPgConnection, token: &str, now: DateTime<Utc>) -> ApiResult<Vec<SavedSearchId>> {
    if !token.starts_with(PREFIX) || token.len() > 100 {
        return Err(invalid_token());
    }
    let ids: Vec<SavedSearchId> = alert_unsubscribe_tokens::table
        .filter(alert_unsubscribe_tokens::token_digest.eq(secret_token::digest(token)))
        .select(alert_unsubscribe_tokens::saved_search_id)
        .load(conn)
        .await?;
    if ids.is_empty() {
        return Err(invalid_token());
    }
    let changed = searches::turn_off(conn, &ids, now).await?;
    tracing::info!(saved_searches = ids.len(), turned_off = changed, "alerts unsubscribed by one click");
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_click_body_is_recognised_in_both_encodings() {
        assert!(is_one_click("List-Unsubscribe=One-Click"));
        assert!(is_one_click("List-Unsubscribe=One-Click\r\n"));
        assert!(is_one_click(
            "--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--"
        ));
        assert!(!is_one_click(""));
        assert!(!is_one_click("List-Unsubscribe=Later"));
    }

    #[test]
    fn links_carry_the_token_on_the_public_url() {
        let url: Url = "https://api.rigmarket.example/".parse().unwrap();
        assert_eq!(link(&url, "rmu_abc"), "https://api.rigmarket.example/v1/unsubscribe?token=rmu_abc");
    }
}
