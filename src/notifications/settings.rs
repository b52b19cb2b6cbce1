//! Email preferences: per event type, whether it also emails the user. Every
//! event lands in the inbox regardless. Only the emails that merely inform can
//! be turned off; the ones a party must act on (pay, ship, a dispute, a
//! deadline, a refund) and security mail are always sent.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::ids::UserId;
use crate::db::schema::notification_settings;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::events::{EventKind, EVENT_KINDS};

/// The event types whose email a user may turn off: each is informational and
/// each sender asks [`emails_wanted`] first.
pub const MUTABLE: &[EventKind] = &[
    EventKind::OrderShipped,
    EventKind::OrderDelivered,
    EventKind::OrderCompleted,
    EventKind::OrderMessagePosted,
    EventKind::ListingApproved,
    EventKind::SavedSearchMatched,
];

pub fn can_mute(kind: EventKind) -> bool {
    MUTABLE.contains(&kind)
}

/// The event types whose email the user turned off (none by default).
pub async fn muted(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<Vec<String>> {
    Ok(notification_settings::table
        .find(user.0)
        .select(notification_settings::email_muted)
        .first::<Vec<String>>(conn)
        .await
        .optional()?
        .unwrap_or_default())
}

/// Whether an email about `kind` goes to `user`. Always true for the kinds
/// that cannot be muted.
pub async fn emails_wanted(conn: &mut AsyncPgConnection, user: UserId, kind: EventKind) -> QueryResult<bool> {
    if !can_mute(kind) {
        return Ok(true);
    }
    Ok(!muted(conn, user).await?.iter().any(|m| m == kind.as_str()))
}

/// Applies `changes` (event type -> email on/off) to `current` muted types;
/// every unknown type, and every attempt to mute one that cannot be, is
/// reported at once.
pub fn apply(current: &[String], changes: &BTreeMap<String, bool>) -> ApiResult<Vec<String>> {
    let mut errors = Vec::new();
    let mut muted: Vec<String> = current.to_vec();
    for (name, email) in changes {
        let field = format!("email.{name}");
        match EventKind::parse(name) {
            None => errors.push(FieldError::new(field, "is not an event type (see GET /v1/webhook-event-types)")),
            Some(kind) if !email && !can_mute(kind) => {
                errors.push(FieldError::new(field, "this email is always sent: the recipient may have to act on it"))
            }
            Some(kind) => {
                muted.retain(|m| m != kind.as_str());
                if !email {
                    muted.push(kind.as_str().to_string());
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    // Catalog order, so the stored array does not depend on the request's.
    let order = |m: &String| EVENT_KINDS.iter().position(|(_, n, _)| n == m);
    muted.sort_by_key(order);
    Ok(muted)
}

/// Stores the user's muted types.
pub async fn save(conn: &mut AsyncPgConnection, user: UserId, muted: &[String], now: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(notification_settings::table)
        .values((
            notification_settings::user_id.eq(user.0),
            notification_settings::email_muted.eq(muted),
            notification_settings::updated_at.eq(now),
        ))
        .on_conflict(notification_settings::user_id)
        .do_update()
        .set((notification_settings::email_muted.eq(muted), notification_settings::updated_at.eq(now)))
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(pairs: &[(&str, bool)]) -> BTreeMap<String, bool> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn mutes_and_unmutes_in_catalog_order() {
        let muted = apply(&[], &changes(&[("order.message_posted", false), ("order.shipped", false)])).unwrap();
        assert_eq!(muted, ["order.shipped", "order.message_posted"]);
        let muted = apply(&muted, &changes(&[("order.shipped", true)])).unwrap();
        assert_eq!(muted, ["order.message_posted"]);
        // Idempotent.
        assert_eq!(apply(&muted, &changes(&[("order.message_posted", false)])).unwrap(), muted);
    }

    #[test]
    fn refuses_unknown_and_unmutable_types_together() {
        let Err(ApiError::Validation(errors)) = apply(&[], &changes(&[("order.nope", false), ("order.paid", false)]))
        else {
            panic!("expected a validation error");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email.order.nope", "email.order.paid"]);
        // Turning on an always-sent email is a no-op, not an error.
        assert!(apply(&[], &changes(&[("order.paid", true)])).unwrap().is_empty());
    }
}
