//! The conversation on an order (parties and admins) and its evidence files.
//! Files go straight to object storage through presigned URLs, are checked
//! (size, real type by their first bytes) when the client says the upload is
//! complete, and are served back through short-lived signed URLs.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::queries::Actor;
use crate::db::ids::{OrderId, UserId};
use crate::db::schema::{order_evidence, order_messages};
use crate::db::text_enum;
use crate::error::ApiError;
use crate::listings::photo_check::PhotoType;
use crate::storage::ObjectStore;

pub const MAX_EVIDENCE_BYTES: i64 = 50 * 1024 * 1024;
pub const MAX_EVIDENCE_PER_ORDER: i64 = 100;
pub const MAX_EVIDENCE_PER_MESSAGE: usize = 20;
pub const MAX_MESSAGE_CHARS: usize = 5000;
/// Enough bytes to recognise every accepted type.
pub const EVIDENCE_MAGIC_LEN: u64 = 12;
pub const EVIDENCE_URL_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum EvidenceType {
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/webp")]
    Webp,
    #[serde(rename = "application/pdf")]
    Pdf,
    #[serde(rename = "video/mp4")]
    Mp4,
}

impl EvidenceType {
    pub const ALL: [EvidenceType; 5] = [Self::Jpeg, Self::Png, Self::Webp, Self::Pdf, Self::Mp4];

    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
            Self::Mp4 => "video/mp4",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Pdf => "pdf",
            Self::Mp4 => "mp4",
        }
    }

    /// What the bytes really are.
    pub fn sniff(prefix: &[u8]) -> Option<Self> {
        if let Some(photo) = PhotoType::sniff(prefix) {
            return Some(match photo {
                PhotoType::Jpeg => Self::Jpeg,
                PhotoType::Png => Self::Png,
                PhotoType::Webp => Self::Webp,
            });
        }
        if prefix.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else if prefix.len() >= 8 && &prefix[4..8] == b"ftyp" {
            Some(Self::Mp4)
        } else {
            None
        }
    }
}

text_enum! {
    /// An evidence upload: started, or checked and attachable.
    pub enum EvidenceStatus {
        Pending = "pending",
        Attached = "attached",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = order_evidence)]
pub struct EvidenceRow {
    pub id: Uuid,
    pub order_id: OrderId,
    pub uploaded_by: UserId,
    pub object_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub status: EvidenceStatus,
    pub created_at: DateTime<Utc>,
    pub attached_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f9c4-7a8b-7e9c-b0d1-2e3f4a5b6c13", "uploaded_by": "0192f6e8-71c4-7a93-b2d5-0e4f8a6c3d21",
    "content_type": "image/jpeg", "size_bytes": 1843200,
    "url": "https://rigmarket-media.s3.eu-central-1.amazonaws.com/orders/0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72/evidence/0192f9c4-7a8b-7e9c-b0d1-2e3f4a5b6c13.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260504%2Feu-central-1%2Fs3%2Faws4_request&X-Amz-Date=20260504T081500Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    "created_at": "2026-06-02T10:05:00Z"
}))]
pub struct EvidenceView {
    pub id: Uuid,
    #[schema(value_type = uuid::Uuid)]
    pub uploaded_by: UserId,
    pub content_type: String,
    pub size_bytes: i64,
    /// A short-lived signed URL (15 minutes).
    pub url: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = order_messages)]
pub struct MessageRow {
    pub id: Uuid,
    pub order_id: OrderId,
    pub author_id: Option<UserId>,
    pub author_role: String,
    pub body: String,
    pub evidence_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f9c6-3b4c-7d5e-a6f7-8091a2b3c4d5", "author_id": "0192f6e8-71c4-7a93-b2d5-0e4f8a6c3d21",
    "author_role": "buyer",
    "body": "Units JYZZB3NBCJHJB0ZK7, ZK9 and ZK12 show chain 2 missing; photos of the kernel logs attached.",
    "evidence": [
        {
            "id": "0192f9c4-7a8b-7e9c-b0d1-2e3f4a5b6c13", "uploaded_by": "0192f6e8-71c4-7a93-b2d5-0e4f8a6c3d21",
            "content_type": "image/jpeg", "size_bytes": 1843200,
            "url": "https://rigmarket-media.s3.eu-central-1.amazonaws.com/orders/0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72/evidence/0192f9c4-7a8b-7e9c-b0d1-2e3f4a5b6c13.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260504%2Feu-central-1%2Fs3%2Faws4_request&X-Amz-Date=20260504T081500Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            "created_at": "2026-06-02T10:05:00Z"
        }
    ],
    "created_at": "2026-06-02T10:12:00Z"
}))]
pub struct MessageView {
    pub id: Uuid,
    /// `null` for messages the system wrote (a delivery proof's verdict).
    #[schema(value_type = Option<uuid::Uuid>)]
    pub author_id: Option<UserId>,
    #[schema(example = "buyer")]
    pub author_role: String,
    pub body: String,
    pub evidence: Vec<EvidenceView>,
    pub created_at: DateTime<Utc>,
}

/// Refuses evidence ids that are not completed uploads of this order.
pub async fn check_evidence(conn: &mut AsyncPgConnection, order_id: OrderId, ids: &[Uuid]) -> Result<(), ApiError> {
    if ids.len() > MAX_EVIDENCE_PER_MESSAGE {
        return Err(ApiError::validation("evidence_ids", format!("at most {MAX_EVIDENCE_PER_MESSAGE} files")));
    }
    let found = attached_evidence(conn, order_id, ids).await?;
    let missing: Vec<crate::error::FieldError> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !found.contains(id))
        .map(|(i, _)| {
            crate::error::FieldError::new(format!("evidence_ids[{i}]"), "is not a completed upload of this order")
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(missing))
    }
}

/// Which of `ids` are completed uploads of this order.
pub async fn attached_evidence(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    ids: &[Uuid],
) -> QueryResult<Vec<Uuid>> {
    order_evidence::table
        .filter(order_evidence::order_id.eq(order_id))
        .filter(order_evidence::id.eq_any(ids))
        .filter(order_evidence::status.eq(EvidenceStatus::Attached))
        .select(order_evidence::id)
        .load(conn)
        .await
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    author: Actor,
    body: &str,
    evidence_ids: &[Uuid],
    now: DateTime<Utc>,
) -> QueryResult<MessageRow> {
    diesel::insert_into(order_messages::table)
        .values((
            order_messages::id.eq(Uuid::now_v7()),
            order_messages::order_id.eq(order_id),
            order_messages::author_id.eq(author.user_id),
            order_messages::author_role.eq(author.role.as_str()),
            order_messages::body.eq(body),
            order_messages::evidence_ids.eq(evidence_ids),
            order_messages::created_at.eq(now),
        ))
        .returning(MessageRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn evidence_view(storage: &ObjectStore, row: &EvidenceRow) -> anyhow::Result<EvidenceView> {
    Ok(EvidenceView {
        id: row.id,
        uploaded_by: row.uploaded_by,
        content_type: row.content_type.clone(),
        size_bytes: row.size_bytes,
        url: storage.presign_get(&row.object_key, EVIDENCE_URL_TTL).await?.to_string(),
        created_at: row.created_at,
    })
}

/// Messages (oldest first, after `after`) with their evidence as signed URLs.
pub async fn page(
    storage: &ObjectStore,
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    after: Option<Uuid>,
    limit: i64,
) -> anyhow::Result<Vec<MessageView>> {
    let mut query = order_messages::table
        .filter(order_messages::order_id.eq(order_id))
        .order(order_messages::id.asc())
        .limit(limit)
        .select(MessageRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(order_messages::id.gt(after));
    }
    let rows: Vec<MessageRow> = query.load(conn).await?;
    render(storage, conn, rows).await
}

/// A message in a domain event: its fields without the evidence download links
/// (which expire), for subscribers who fetch the files through the API.
pub fn event_data(row: &MessageRow) -> serde_json::Value {
    serde_json::json!({
        "id": row.id,
        "order_id": row.order_id,
        "author_id": row.author_id,
        "author_role": row.author_role,
        "body": row.body,
        "evidence_ids": row.evidence_ids,
        "created_at": row.created_at,
    })
}

pub async fn render(
    storage: &ObjectStore,
    conn: &mut AsyncPgConnection,
    rows: Vec<MessageRow>,
) -> anyhow::Result<Vec<MessageView>> {
    let ids: Vec<Uuid> = rows.iter().flat_map(|m| m.evidence_ids.iter().copied()).collect();
    let evidence: Vec<EvidenceRow> = order_evidence::table
        .filter(order_evidence::id.eq_any(&ids))
        .select(EvidenceRow::as_select())
        .load(conn)
        .await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        let mut files = Vec::new();
        for id in &row.evidence_ids {
            if let Some(file) = evidence.iter().find(|e| e.id == *id) {
                files.push(evidence_view(storage, file).await?);
            }
        }
        views.push(MessageView {
            id: row.id,
            author_id: row.author_id,
            author_role: row.author_role,
            body: row.body,
            evidence: files,
            created_at: row.created_at,
        });
    }
    Ok(views)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_types_are_recognised_by_their_bytes() {
        assert_eq!(EvidenceType::sniff(b"%PDF-1.7\n%...."), Some(EvidenceType::Pdf));
        assert_eq!(EvidenceType::sniff(b"\0\0\0\x18ftypmp42"), Some(EvidenceType::Mp4));
        assert_eq!(EvidenceType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(EvidenceType::Jpeg));
        assert_eq!(EvidenceType::sniff(b"PK\x03\x04zipfile"), None);
        for kind in EvidenceType::ALL {
            let mime = serde_json::to_value(kind).unwrap();
            assert_eq!(mime, kind.mime());
        }
    }
}
