//! Turning thread rows into the JSON their parties see, in batches (one query
//! for the versions and one for the names, whatever the page size).

use std::collections::HashMap;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{ThreadRow, ThreadView, VersionView};
use crate::db::ids::UserId;
use crate::orders::model::PartySummary;

pub async fn render(conn: &mut AsyncPgConnection, rows: Vec<ThreadRow>) -> anyhow::Result<Vec<ThreadView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut versions: HashMap<Uuid, Vec<VersionView>> = HashMap::new();
    for version in super::queries::versions_of(conn, &ids).await? {
        versions.entry(version.thread_id).or_default().push(version.into());
    }
    let users: Vec<UserId> = rows.iter().flat_map(|r| [r.buyer_id, r.seller_id]).collect();
    let names = crate::accounts::display_names(conn, &users).await?;
    let party = |id: UserId| PartySummary { id, display_name: names.get(&id).cloned().unwrap_or_default() };
    Ok(rows
        .into_iter()
        .map(|row| ThreadView {
            id: row.id,
            listing_id: row.listing_id,
            buyer: party(row.buyer_id),
            seller: party(row.seller_id),
            status: row.status,
            close_reason: row.close_reason,
            close_note: row.close_note,
            payment_method: row.payment_method,
            versions: versions.remove(&row.id).unwrap_or_default(),
            expires_at: row.expires_at,
            order_id: row.order_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
        .collect())
}

pub async fn render_one(conn: &mut AsyncPgConnection, row: ThreadRow) -> anyhow::Result<ThreadView> {
    Ok(render(conn, vec![row]).await?.remove(0))
}
