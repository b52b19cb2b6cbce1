//! The order's conversation: messages between the parties and admins, and the
//! evidence files attached to them (uploaded through presigned URLs).

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::accounts::AuthUser;
use crate::db::schema::order_evidence;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::pagination::{page_from, Page, PageParams};
use crate::orders::access::find_for;
use crate::orders::messages::{
    self, EvidenceRow, EvidenceType, EvidenceView, MessageView, EVIDENCE_MAGIC_LEN, MAX_EVIDENCE_BYTES,
    MAX_EVIDENCE_PER_ORDER, MAX_MESSAGE_CHARS,
};
use crate::orders::notify;
use crate::orders::state::ActorRole;
use crate::state::AppState;
use crate::validation::check_text;

const UPLOAD_URL_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Messages on the order, oldest first.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), PageParams),
    responses(
        (status = 200, body = inline(Page<MessageView>)),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orders/{id}/messages")]
async fn list_messages(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<MessageView>>> {
    let limit = page.limit()?;
    let after = page.cursor::<Uuid>()?;
    let mut conn = state.pool.get().await?;
    let (order, _) = find_for(&mut conn, *id, &user).await?;
    let items = messages::page(&state.storage, &mut conn, order.id, after, limit + 1).await?;
    let (items, next_cursor) = page_from(items, limit, |m| m.id);
    Ok(web::Json(Page { items, next_cursor }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Tracking shows the pallet in customs at Khorgos.", "evidence_ids": []}))]
pub struct NewMessage {
    body: String,
    #[serde(default)]
    evidence_ids: Vec<Uuid>,
}

/// Write on the order (parties and admins); the other side is emailed.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = NewMessage,
    responses(
        (status = 201, body = MessageView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{id}/messages")]
async fn post_message(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<NewMessage>,
) -> ApiResult<HttpResponse> {
    check_text("body", &body.body, MAX_MESSAGE_CHARS)?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let (order, actor) = find_for(&mut conn, *id, &user).await?;
    let message = diesel_async::AsyncConnection::transaction(&mut *conn, async |conn| {
        messages::check_evidence(conn, order.id, &body.evidence_ids).await?;
        let message = messages::insert(conn, order.id, actor, body.body.trim(), &body.evidence_ids, now).await?;
        let text = format!("New message from the {}:\n\n{}", actor.role.as_str(), body.body.trim());
        for recipient in [ActorRole::Buyer, ActorRole::Seller].into_iter().filter(|r| *r != actor.role) {
            notify::tell(conn, &order, recipient, "new message", &text, now).await?;
        }
        Ok::<_, ApiError>(message)
    })
    .await?;
    let view = messages::render(&state.storage, &mut conn, vec![message]).await?.remove(0);
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"content_type": "image/jpeg", "size_bytes": 482113}))]
pub struct NewEvidence {
    content_type: EvidenceType,
    /// Exact size of the file (at most 50 MB).
    size_bytes: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceUpload {
    pub evidence_id: Uuid,
    /// PUT the file here with the same `Content-Type`.
    pub upload_url: String,
    pub expires_at: DateTime<Utc>,
}

/// Start an evidence upload (photos, PDFs, MP4 video): returns a presigned PUT URL.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = NewEvidence,
    responses(
        (status = 201, body = EvidenceUpload),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{id}/evidence")]
async fn start_evidence_upload(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<NewEvidence>,
) -> ApiResult<HttpResponse> {
    if !(1..=MAX_EVIDENCE_BYTES).contains(&body.size_bytes) {
        return Err(ApiError::validation("size_bytes", format!("must be between 1 and {MAX_EVIDENCE_BYTES}")));
    }
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let (order, _) = find_for(&mut conn, *id, &user).await?;
    let count: i64 =
        order_evidence::table.filter(order_evidence::order_id.eq(order.id)).count().get_result(&mut conn).await?;
    if count >= MAX_EVIDENCE_PER_ORDER {
        return Err(ApiError::conflict(
            "too_much_evidence",
            format!("An order takes at most {MAX_EVIDENCE_PER_ORDER} files."),
        ));
    }
    let evidence_id = Uuid::now_v7();
    let key = format!("orders/{}/evidence/{evidence_id}.{}", order.id, body.content_type.extension());
    diesel::insert_into(order_evidence::table)
        .values((
            order_evidence::id.eq(evidence_id),
            order_evidence::order_id.eq(order.id),
            order_evidence::uploaded_by.eq(user.id()),
            order_evidence::object_key.eq(&key),
            order_evidence::content_type.eq(body.content_type.mime()),
            order_evidence::size_bytes.eq(body.size_bytes),
            order_evidence::status.eq("pending"),
            order_evidence::created_at.eq(now),
        ))
        .execute(&mut conn)
        .await?;
    let upload_url = state.storage.presign_put(&key, body.content_type.mime(), UPLOAD_URL_TTL).await?;
    Ok(HttpResponse::Created().json(EvidenceUpload {
        evidence_id,
        upload_url: upload_url.to_string(),
        expires_at: now + chrono::Duration::from_std(UPLOAD_URL_TTL).unwrap_or_default(),
    }))
}

/// Check an uploaded evidence file (exists, declared size, real type) and make
/// it attachable to messages and disputes. A refused file is deleted.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), ("evidence_id" = Uuid, Path, description = "Evidence id")),
    responses(
        (status = 200, body = EvidenceView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{id}/evidence/{evidence_id}/complete")]
async fn complete_evidence_upload(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<EvidenceView>> {
    let (id, evidence_id) = path.into_inner();
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let (order, _) = find_for(&mut conn, id, &user).await?;
    let not_found = || ApiError::not_found("evidence_not_found", "This order has no such evidence upload.");
    let evidence: EvidenceRow = order_evidence::table
        .find(evidence_id)
        .filter(order_evidence::order_id.eq(order.id))
        .filter(order_evidence::uploaded_by.eq(user.id()))
        .select(EvidenceRow::as_select())
        .first(&mut conn)
        .await
        .optional()?
        .ok_or_else(not_found)?;
    if evidence.status == "pending" {
        if let Err(refusal) = check_upload(&state, &evidence).await {
            if !matches!(refusal, ApiError::Unprocessable { code: "upload_missing", .. }) {
                state.storage.delete(&evidence.object_key).await?;
            }
            return Err(refusal);
        }
        diesel::update(order_evidence::table.find(evidence.id))
            .set((order_evidence::status.eq("attached"), order_evidence::attached_at.eq(now)))
            .execute(&mut conn)
            .await?;
    }
    Ok(web::Json(messages::evidence_view(&state.storage, &evidence).await?))
}

async fn check_upload(state: &AppState, evidence: &EvidenceRow) -> Result<(), ApiError> {
    let Some(meta) = state.storage.head(&evidence.object_key).await? else {
        return Err(ApiError::unprocessable("upload_missing", "Nothing was uploaded to the upload URL yet."));
    };
    if meta.size as i64 != evidence.size_bytes {
        return Err(ApiError::unprocessable(
            "upload_size_mismatch",
            format!("The uploaded file has {} bytes; {} were declared.", meta.size, evidence.size_bytes),
        ));
    }
    let prefix = state.storage.read_prefix(&evidence.object_key, EVIDENCE_MAGIC_LEN).await?;
    match EvidenceType::sniff(&prefix) {
        Some(actual) if actual.mime() == evidence.content_type => Ok(()),
        _ => Err(ApiError::unprocessable(
            "upload_type_mismatch",
            format!("The uploaded file is not {}.", evidence.content_type),
        )),
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_messages).service(post_message).service(start_evidence_upload).service(complete_evidence_upload);
}
