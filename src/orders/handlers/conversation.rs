//! The order's conversation: messages between the parties and admins, and the
//! evidence files attached to them (uploaded through presigned URLs).

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::accounts::AuthUser;
use crate::db::ids::OrderId;
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::{page_from, Page, PageParams};
use crate::orders::access::find_for;
use crate::orders::evidence::{self, EvidenceUpload};
use crate::orders::messages::{self, EvidenceType, EvidenceView, MessageView, MAX_EVIDENCE_BYTES, MAX_MESSAGE_CHARS};
use crate::orders::notify;
use crate::orders::state::ActorRole;
use crate::state::AppState;
use crate::validation::check_text;

crate::http::problems::problems!(ListMessagesProblems { 404: order_not_found });

/// Messages on the order, oldest first.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), PageParams),
    responses(
        (status = 200, body = inline(Page<MessageView>)),
        ListMessagesProblems,
    )
)]
#[get("/orders/{id}/messages")]
async fn list_messages(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<OrderId>,
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

crate::http::problems::problems!(PostMessageProblems { 404: order_not_found, 422: validation_failed });

/// Write on the order (parties and admins); the other side is emailed.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = NewMessage,
    responses(
        (status = 201, body = MessageView),
        PostMessageProblems,
    )
)]
#[post("/orders/{id}/messages")]
async fn post_message(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<NewMessage>,
) -> ApiResult<HttpResponse> {
    check_text("body", &body.body, MAX_MESSAGE_CHARS)?;
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let (order, actor) = find_for(&mut conn, *id, &user).await?;
    let message = diesel_async::AsyncConnection::transaction(&mut *conn, async |conn| {
        messages::check_evidence(conn, order.id, &body.evidence_ids).await?;
        let message = messages::insert(conn, order.id, actor, body.body.trim(), &body.evidence_ids, now).await?;
        crate::orders::published::message_posted(conn, &order, messages::event_data(&message), now).await?;
        let text = format!("New message from the {}:\n\n{}", actor.role.as_str(), body.body.trim());
        for recipient in [ActorRole::Buyer, ActorRole::Seller].into_iter().filter(|r| *r != actor.role) {
            let user = if recipient == ActorRole::Buyer { order.buyer_id } else { order.seller_id };
            // A user may read messages in the inbox only (notification settings).
            if crate::notifications::emails_wanted(conn, user, crate::events::EventKind::OrderMessagePosted).await? {
                notify::tell(conn, &order, recipient, "new message", &text, now).await?;
            }
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

crate::http::problems::problems!(StartEvidenceUploadProblems {
    404: order_not_found,
    409: too_much_evidence | invalid_order_status,
    422: validation_failed,
});

/// Start an evidence upload (photos, PDFs, MP4 video): returns a presigned PUT URL.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = NewEvidence,
    responses(
        (status = 201, body = EvidenceUpload),
        StartEvidenceUploadProblems,
    )
)]
#[post("/orders/{id}/evidence")]
async fn start_evidence_upload(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: web::Json<NewEvidence>,
) -> ApiResult<HttpResponse> {
    if !(1..=MAX_EVIDENCE_BYTES).contains(&body.size_bytes) {
        return Err(ApiError::validation("size_bytes", format!("must be between 1 and {MAX_EVIDENCE_BYTES}")));
    }
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let (order, _) = find_for(&mut conn, *id, &user).await?;
    let upload =
        evidence::start_upload(&mut conn, &state.storage, &order, user.id(), body.content_type, body.size_bytes, now)
            .await?;
    Ok(HttpResponse::Created().json(upload))
}

crate::http::problems::problems!(CompleteEvidenceUploadProblems {
    404: order_not_found | evidence_not_found,
    422: upload_missing | upload_size_mismatch | upload_type_mismatch,
});

/// Check an uploaded evidence file (exists, declared size, real type) and make
/// it attachable to messages and disputes. A refused file is deleted.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), ("evidence_id" = Uuid, Path, description = "Evidence id")),
    responses(
        (status = 200, body = EvidenceView),
        CompleteEvidenceUploadProblems,
    )
)]
#[post("/orders/{id}/evidence/{evidence_id}/complete")]
async fn complete_evidence_upload(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(OrderId, Uuid)>,
) -> ApiResult<web::Json<EvidenceView>> {
    let (id, evidence_id) = path.into_inner();
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let (order, _) = find_for(&mut conn, id, &user).await?;
    let evidence = evidence::complete_upload(&mut conn, &state.storage, &order, user.id(), evidence_id, now).await?;
    Ok(web::Json(messages::evidence_view(&state.storage, &evidence).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_messages).service(post_message).service(start_evidence_upload).service(complete_evidence_upload);
}
