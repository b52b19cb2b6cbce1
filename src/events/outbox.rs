//! Writing events in the caller's transaction, and handing them to consumers.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::catalog::EventKind;
use crate::db::ids::{EventId, UserId};
use crate::db::schema::domain_events;
use crate::jobs::{Job, PeriodicJob, Tick};

/// A recorded event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = domain_events)]
pub struct DomainEvent {
    pub id: EventId,
    pub seq: i64,
    #[diesel(column_name = type_)]
    pub kind: String,
    /// The resource the event is about (an order, a proof, a listing).
    pub subject_id: Uuid,
    /// The users concerned (buyer and seller, a listing's seller ...): they may
    /// receive it.
    pub parties: Vec<Uuid>,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl DomainEvent {
    pub fn kind(&self) -> Option<EventKind> {
        EventKind::parse(&self.kind)
    }
}

/// Records an event in the caller's transaction (pass the transaction's
/// connection: the event must commit or roll back with the change), with every
/// party's inbox entry, in one statement. Takes a shared connection so a caller
/// may send it pipelined beside its own last statement.
pub async fn record(
    conn: &AsyncPgConnection,
    kind: EventKind,
    subject_id: impl Into<Uuid>,
    parties: &[UserId],
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> QueryResult<EventId> {
    let mut parties: Vec<Uuid> = parties.iter().map(|p| p.0).collect();
    parties.sort();
    parties.dedup();
    let id = EventId::new();
    super::inbox::write_event(conn, id, kind.as_str(), subject_id.into(), &parties, &data, now).await?;
    Ok(id)
}

pub async fn find(conn: &mut AsyncPgConnection, id: EventId) -> QueryResult<Option<DomainEvent>> {
    domain_events::table.find(id).select(DomainEvent::as_select()).first(conn).await.optional()
}

/// Locks up to `limit` events not fanned out yet, oldest first, for the rest of
/// the caller's transaction; concurrent callers skip them.
pub async fn claim_waiting(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<DomainEvent>> {
    domain_events::table
        .filter(domain_events::fanned_out_at.is_null())
        .order(domain_events::seq)
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(DomainEvent::as_select())
        .load(conn)
        .await
}

pub async fn mark_fanned_out(conn: &mut AsyncPgConnection, ids: &[EventId], now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(domain_events::table.filter(domain_events::id.eq_any(ids)))
        .set(domain_events::fanned_out_at.eq(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Every second: hands the waiting events to their consumers (the handler is
/// the composition root's). Also enqueued by hand where a caller wants the
/// fan-out now.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FanOutEvents(pub Tick);

impl Job for FanOutEvents {
    const KIND: &'static str = "fan_out_events";
}

impl PeriodicJob for FanOutEvents {
    const EVERY: Duration = Duration::seconds(1);
}
