//! The first demo buyer's saved searches: a fire-sale hunt and a model watch,
//! so `/v1/me/saved-searches/{id}/matches` has something to show. Their alerts
//! are off: the demo's people stand for nobody and must not be mailed (turn
//! one on with `PATCH` to try the alerts). Created once: a buyer who already
//! has saved searches gets none added.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;

use crate::alerts::rules::{AlertMode, Triggers};
use crate::alerts::searches::{self, NewSearch};
use crate::db::ids::UserId;

/// Saves the demo searches for `buyer`; returns how many were created.
pub async fn ensure_saved_searches(
    conn: &mut AsyncPgConnection,
    buyer: UserId,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    if !searches::list(conn, buyer, None, 1).await?.is_empty() {
        return Ok(0);
    }
    let wanted = [
        (
            "Fire sales, 19-25 J/TH, under $30/TH",
            json!({"tier": "19to25", "max_usd_per_th": 30, "fire_sale": true, "sort": "discount_desc"}),
            Triggers { new_match: true, price_drop: false, discount_at_least_bps: Some(3000) },
        ),
        (
            "Antminer lots in Kazakhstan",
            json!({"q": "antminer", "country": "KZ", "sort": "usd_per_th_asc"}),
            Triggers { new_match: true, price_drop: true, discount_at_least_bps: None },
        ),
    ];
    for (name, query, triggers) in wanted {
        let query = searches::checked_query(&query).map_err(|err| anyhow::anyhow!("demo search {name}: {err}"))?;
        let new = NewSearch { name: name.to_string(), query, alert: AlertMode::Off, triggers };
        searches::create(conn, buyer, new, now).await.map_err(|err| anyhow::anyhow!("demo search {name}: {err}"))?;
    }
    Ok(2)
}
