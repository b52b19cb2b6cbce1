//! The `data` of a webhook payload: the event's resource as the API renders it.
//! Rendered once per event when it is fanned out (the services that render
//! orders and listings live above the events layer), then frozen in each
//! delivery's body, so every attempt sends the same bytes. Events whose recorder
//! already stored the resource (a message) are sent as recorded.

use diesel_async::AsyncPgConnection;
use serde_json::Value;

use crate::db::ids::{ListingId, OrderId, ProofId};
use crate::events::DomainEvent;
use crate::listings::ListingRenderer;
use crate::orders::OrderContext;

/// What renders each resource.
#[derive(Clone)]
pub struct Renderers {
    pub orders: OrderContext,
    pub listings: ListingRenderer,
}

impl Renderers {
    pub async fn data(&self, conn: &mut AsyncPgConnection, event: &DomainEvent) -> anyhow::Result<Value> {
        let rendered = match event.kind.as_str() {
            "order.message_posted" => None,
            kind if kind.starts_with("order.") => {
                match crate::orders::queries::find(conn, OrderId(event.subject_id)).await? {
                    Some(row) => {
                        Some(serde_json::to_value(crate::orders::view::render_one(&self.orders, conn, row).await?)?)
                    }
                    None => None,
                }
            }
            kind if kind.starts_with("listing.") => {
                match crate::listings::queries::find(conn, ListingId(event.subject_id)).await? {
                    Some(row) => Some(serde_json::to_value(self.listings.render_one(conn, row).await?)?),
                    None => None,
                }
            }
            kind if kind.starts_with("offer.") => match crate::offers::queries::find(conn, event.subject_id).await? {
                Some(row) => Some(serde_json::to_value(crate::offers::view::render_one(conn, row).await?)?),
                None => None,
            },
            kind if kind.starts_with("proof.") => {
                match crate::proofs::queries::find(conn, ProofId(event.subject_id)).await? {
                    Some(row) => Some(serde_json::to_value(crate::proofs::render_proof(conn, row).await?)?),
                    None => None,
                }
            }
            _ => None,
        };
        Ok(rendered.unwrap_or_else(|| event.data.clone()))
    }
}
