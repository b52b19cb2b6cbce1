//! `/v1/me/notifications` (the inbox) and `/v1/me/notification-settings`.

use std::collections::BTreeMap;

use actix_web::{get, patch, post, web};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{InboxPage, NotificationSettingsView, NotificationView};
use super::settings;
use crate::accounts::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::events::inbox::{self, ReadSelection};
use crate::http::pagination::{page_from, PageParams};
use crate::state::AppState;

/// Ids one `read` call may name.
const MAX_READ_IDS: usize = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxFilter {
    /// Only the entries not read yet.
    unread_only: Option<bool>,
}

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    params(PageParams, InboxFilter),
    responses((status = 200, body = InboxPage))
)]
#[get("/me/notifications")]
async fn list_notifications(
    state: web::Data<AppState>,
    user: AuthUser,
    page: web::Query<PageParams>,
    filter: web::Query<InboxFilter>,
) -> ApiResult<web::Json<InboxPage>> {
    let limit = page.limit()?;
    let before: Option<i64> = page.cursor()?;
    let mut conn = state.pool.get().await?;
    let rows = inbox::list(&mut conn, user.id(), filter.unread_only.unwrap_or(false), before, limit + 1).await?;
    let unread_count = inbox::unread_count(&mut conn, user.id()).await?;
    let (rows, next_cursor) = page_from(rows, limit, |row| row.seq);
    Ok(web::Json(InboxPage {
        items: rows.into_iter().map(NotificationView::from).collect(),
        next_cursor,
        unread_count,
    }))
}

/// Give exactly one of `ids` and `up_to`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"up_to": 4211}))]
pub struct MarkRead {
    /// These entries (at most 100); ids that are not the caller's are ignored.
    ids: Option<Vec<i64>>,
    /// Every entry up to and including this id.
    up_to: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"marked": 2, "unread_count": 1}))]
pub struct MarkedRead {
    /// Entries that were unread and are read now.
    #[schema(example = 2)]
    pub marked: usize,
    #[schema(example = 1)]
    pub unread_count: i64,
}

crate::http::problems::problems!(MarkReadProblems { 422: validation_failed });

/// Mark notifications read: by id, or everything up to an id. Idempotent.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    request_body = MarkRead,
    responses((status = 200, body = MarkedRead), MarkReadProblems)
)]
#[post("/me/notifications/read")]
async fn mark_read(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<MarkRead>,
) -> ApiResult<web::Json<MarkedRead>> {
    let selection = match body.into_inner() {
        MarkRead { ids: Some(ids), up_to: None } if ids.len() <= MAX_READ_IDS => ReadSelection::Ids(ids),
        MarkRead { ids: Some(_), up_to: None } => {
            return Err(ApiError::validation("ids", format!("at most {MAX_READ_IDS} ids")));
        }
        MarkRead { ids: None, up_to: Some(up_to) } => ReadSelection::UpTo(up_to),
        _ => return Err(ApiError::validation("ids", "give exactly one of ids and up_to")),
    };
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let (marked, unread_count) = conn
        .transaction(async |conn| {
            let marked = inbox::mark_read(conn, user.id(), &selection, now).await?;
            Ok::<_, ApiError>((marked, inbox::unread_count(conn, user.id()).await?))
        })
        .await?;
    Ok(web::Json(MarkedRead { marked, unread_count }))
}

/// Which event types email the caller (every one lands in the inbox).
#[utoipa::path(tag = "me", security(("bearer" = [])), responses((status = 200, body = NotificationSettingsView)))]
#[get("/me/notification-settings")]
async fn get_settings(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<NotificationSettingsView>> {
    let mut conn = state.pool.get().await?;
    Ok(web::Json(NotificationSettingsView::of(&settings::muted(&mut conn, user.id()).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": {"order.message_posted": false, "order.shipped": true}}))]
pub struct UpdateSettings {
    /// Event type -> whether it emails; types not named keep their setting.
    email: BTreeMap<String, bool>,
}

crate::http::problems::problems!(UpdateSettingsProblems { 422: validation_failed });

/// Turn emails of some event types off or on again. Emails the recipient may
/// have to act on (`can_mute: false`) cannot be turned off.
#[utoipa::path(
    tag = "me",
    security(("bearer" = [])),
    request_body = UpdateSettings,
    responses((status = 200, body = NotificationSettingsView), UpdateSettingsProblems)
)]
#[patch("/me/notification-settings")]
async fn update_settings(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<UpdateSettings>,
) -> ApiResult<web::Json<NotificationSettingsView>> {
    let now = state.clock.now();
    let mut conn = state.pool.get().await?;
    let muted = conn
        .transaction(async |conn| {
            let current = settings::muted(conn, user.id()).await?;
            let muted = settings::apply(&current, &body.email)?;
            settings::save(conn, user.id(), &muted, now).await?;
            Ok::<_, ApiError>(muted)
        })
        .await?;
    Ok(web::Json(NotificationSettingsView::of(&muted)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_notifications).service(mark_read).service(get_settings).service(update_settings);
}
