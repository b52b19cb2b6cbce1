//! Evidence files of an order: an upload starts with a presigned PUT URL, and is
//! checked (it exists, has the declared size, and is what it says by its first
//! bytes) when the client says it is complete; a refused file is deleted.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::messages::{EvidenceRow, EvidenceStatus, EvidenceType, EVIDENCE_MAGIC_LEN, MAX_EVIDENCE_PER_ORDER};
use super::model::OrderRow;
use crate::db::ids::UserId;
use crate::db::schema::order_evidence;
use crate::error::ApiError;
use crate::storage::ObjectStore;

const UPLOAD_URL_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "evidence_id": "0192f9c4-7a8b-7e9c-b0d1-2e3f4a5b6c13",
    "upload_url": "https://rigmarket-media.s3.eu-central-1.amazonaws.com/orders/0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72/evidence/0192f9c4-7a8b-7e9c-b0d1-2e3f4a5b6c13.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260504%2Feu-central-1%2Fs3%2Faws4_request&X-Amz-Date=20260504T081500Z&X-Amz-Expires=900&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    "expires_at": "2026-06-02T10:15:00Z"
}))]
pub struct EvidenceUpload {
    pub evidence_id: Uuid,
    /// PUT the file here with the same `Content-Type`.
    pub upload_url: String,
    pub expires_at: DateTime<Utc>,
}

/// Registers a pending evidence file of `order` and answers where to upload it.
pub async fn start_upload(
    conn: &mut AsyncPgConnection,
    storage: &ObjectStore,
    order: &OrderRow,
    uploader: UserId,
    content_type: EvidenceType,
    size_bytes: i64,
    now: DateTime<Utc>,
) -> Result<EvidenceUpload, ApiError> {
    let count: i64 =
        order_evidence::table.filter(order_evidence::order_id.eq(order.id)).count().get_result(conn).await?;
    if count >= MAX_EVIDENCE_PER_ORDER {
        return Err(ApiError::conflict(
            "too_much_evidence",
            format!("An order takes at most {MAX_EVIDENCE_PER_ORDER} files."),
        ));
    }
    let evidence_id = Uuid::now_v7();
    let key = format!("orders/{}/evidence/{evidence_id}.{}", order.id, content_type.extension());
    diesel::insert_into(order_evidence::table)
        .values((
            order_evidence::id.eq(evidence_id),
            order_evidence::order_id.eq(order.id),
            order_evidence::uploaded_by.eq(uploader),
            order_evidence::object_key.eq(&key),
            order_evidence::content_type.eq(content_type.mime()),
            order_evidence::size_bytes.eq(size_bytes),
            order_evidence::status.eq(EvidenceStatus::Pending),
            order_evidence::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    let upload_url = storage.presign_put(&key, content_type.mime(), UPLOAD_URL_TTL).await?;
    Ok(EvidenceUpload {
        evidence_id,
        upload_url: upload_url.to_string(),
        expires_at: now + chrono::Duration::from_std(UPLOAD_URL_TTL).unwrap_or_default(),
    })
}

/// Checks an uploaded file of `uploader` and makes it attachable (idempotent:
/// an attached file is answered as it is).
pub async fn complete_upload(
    conn: &mut AsyncPgConnection,
    storage: &ObjectStore,
    order: &OrderRow,
    uploader: UserId,
    evidence_id: Uuid,
    now: DateTime<Utc>,
) -> Result<EvidenceRow, ApiError> {
    let not_found = || ApiError::not_found("evidence_not_found", "This order has no such evidence upload.");
    let evidence: EvidenceRow = order_evidence::table
        .find(evidence_id)
        .filter(order_evidence::order_id.eq(order.id))
        .filter(order_evidence::uploaded_by.eq(uploader))
        .select(EvidenceRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(not_found)?;
    if evidence.status == EvidenceStatus::Pending {
        if let Err(refusal) = check_upload(storage, &evidence).await {
            if !matches!(refusal, ApiError::Unprocessable { code: "upload_missing", .. }) {
                storage.delete(&evidence.object_key).await?;
            }
            return Err(refusal);
        }
        diesel::update(order_evidence::table.find(evidence.id))
            .set((order_evidence::status.eq(EvidenceStatus::Attached), order_evidence::attached_at.eq(now)))
            .execute(conn)
            .await?;
    }
    Ok(evidence)
}

async fn check_upload(storage: &ObjectStore, evidence: &EvidenceRow) -> Result<(), ApiError> {
    let Some(meta) = storage.head(&evidence.object_key).await? else {
        return Err(ApiError::unprocessable("upload_missing", "Nothing was uploaded to the upload URL yet."));
    };
    if meta.size as i64 != evidence.size_bytes {
        return Err(ApiError::unprocessable(
            "upload_size_mismatch",
            format!("The uploaded file has {} bytes; {} were declared.", meta.size, evidence.size_bytes),
        ));
    }
    let prefix = storage.read_prefix(&evidence.object_key, EVIDENCE_MAGIC_LEN).await?;
    match EvidenceType::sniff(&prefix) {
        Some(actual) if actual.mime() == evidence.content_type => Ok(()),
        _ => Err(ApiError::unprocessable(
            "upload_type_mismatch",
            format!("The uploaded file is not {}.", evidence.content_type),
        )),
    }
}
