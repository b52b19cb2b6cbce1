//! Order rows into the JSON parties see, in batches (one query each for names,
//! units and listing titles, whatever the page size, sent together: pipelined
//! on the page's connection).

use diesel::prelude::*;
use diesel_async::AsyncPgConnection;

use super::context::OrderContext;
use super::model::{
    Deadlines, DisputeView, OrderRow, OrderUnit, OrderView, PartySummary, PaymentMethod, PaymentView, SettlementView,
    ShipmentView, ShippingAddress,
};
use crate::catalog::discount::bps_to_pct;
use crate::db::ids::{ListingId, UserId};
use crate::units::model::UnitStatus;

pub async fn render(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    rows: Vec<OrderRow>,
) -> QueryResult<Vec<OrderView>> {
    let user_ids: Vec<UserId> = rows.iter().flat_map(|r| [r.buyer_id, r.seller_id]).collect();
    let listing_ids: Vec<ListingId> = rows.iter().map(|r| r.listing_id).collect();
    let order_ids: Vec<_> = rows.iter().map(|r| r.id).collect();
    let shared: &AsyncPgConnection = conn;
    let (names, mut units, titles) = futures_util::try_join!(
        crate::accounts::display_names(shared, &user_ids),
        crate::units::allocation::of_orders(shared, &order_ids),
        crate::listings::titles(shared, &listing_ids),
    )?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let labels = Labels {
                listing_title: titles.get(&row.listing_id).map_or("", String::as_str),
                buyer_name: names.get(&row.buyer_id).map_or("", String::as_str),
                seller_name: names.get(&row.seller_id).map_or("", String::as_str),
            };
            let units = units.remove(&row.id);
            view_of(ctx, &row, labels, units)
        })
        .collect())
}

/// The names and title an order is shown with.
pub struct Labels<'a> {
    pub listing_title: &'a str,
    pub buyer_name: &'a str,
    pub seller_name: &'a str,
}

/// One order as parties see it, from its row, its labels and (for a lot sold
/// by serial) its units: no reads, for callers that have them in hand.
pub fn view_of(
    ctx: &OrderContext,
    row: &OrderRow,
    labels: Labels<'_>,
    units: Option<Vec<(String, UnitStatus)>>,
) -> OrderView {
    let party = |id: UserId, name: &str| PartySummary { id, display_name: name.to_owned() };
    OrderView {
        id: row.id,
        listing_id: row.listing_id,
        listing_title: labels.listing_title.to_owned(),
        buyer: party(row.buyer_id, labels.buyer_name),
        seller: party(row.seller_id, labels.seller_name),
        quantity: row.quantity,
        unit_price_cents: row.unit_price_cents,
        subtotal_cents: row.subtotal_cents,
        fee_cents: row.fee_cents,
        total_cents: row.total_cents,
        currency: row.currency.clone(),
        status: row.status(),
        reference_unit_price_cents: row.reference_unit_price_cents,
        discount_pct: row.discount_bps.map(bps_to_pct),
        payment: payment(row, &ctx.settings.wire_instructions),
        deadlines: Deadlines {
            pay_by: row.pay_by,
            ship_by: row.ship_by,
            auto_refund_at: row.auto_refund_at,
            auto_delivery_at: row.auto_delivery_at,
            inspect_until: row.inspect_until,
            rejections_answer_by: row.rejections_answer_by,
        },
        shipping_address: shipping_address(row),
        shipment: shipment(row),
        delivered_at: row.delivered_at,
        dispute: dispute(row),
        settlement: settlement(row),
        doa_allowance_pct: row.doa_allowance_pct,
        agreed_ship_by: row.agreed_ship_by,
        offer_id: row.offer_thread_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
        units: units.map(|units| units.into_iter().map(|(serial, status)| OrderUnit { serial, status }).collect()),
    }
}

fn payment(row: &OrderRow, wire_instructions: &str) -> PaymentView {
    let method = row.payment_method;
    PaymentView {
        method,
        instructions: (method == PaymentMethod::Wire)
            .then(|| format!("{wire_instructions} Reference: {}.", row.payment_reference)),
        invoice_url: row.btcpay_checkout_url.clone(),
        reference: row.payment_reference.clone(),
        paid_at: row.paid_at,
        paid_amount_cents: row.paid_amount_cents,
    }
}

fn shipment(row: &OrderRow) -> Option<ShipmentView> {
    match (&row.carrier, &row.tracking_number, row.shipped_at) {
        (Some(carrier), Some(tracking), Some(at)) => {
            Some(ShipmentView { carrier: carrier.clone(), tracking_number: tracking.clone(), shipped_at: at })
        }
        _ => None,
    }
}

fn dispute(row: &OrderRow) -> Option<DisputeView> {
    row.disputed_at.map(|opened_at| DisputeView {
        reason: row.dispute_reason.clone().unwrap_or_default(),
        description: row.dispute_description.clone().unwrap_or_default(),
        opened_at,
    })
}

fn settlement(row: &OrderRow) -> Option<SettlementView> {
    row.closed_at.and(row.refund_cents).map(|refund_cents| SettlementView {
        refund_cents,
        seller_credit_cents: row.seller_credit_cents.unwrap_or(0),
        platform_fee_cents: row.platform_fee_cents.unwrap_or(0),
    })
}

/// The stored address (an empty one should the stored JSON ever not parse).
fn shipping_address(row: &OrderRow) -> ShippingAddress {
    serde_json::from_value(row.shipping_address.clone()).unwrap_or_else(|_| ShippingAddress {
        name: String::new(),
        line1: String::new(),
        line2: None,
        city: String::new(),
        postal_code: String::new(),
        country: String::new(),
        phone: String::new(),
    })
}

pub async fn render_one(ctx: &OrderContext, conn: &mut AsyncPgConnection, row: OrderRow) -> QueryResult<OrderView> {
    Ok(render(ctx, conn, vec![row]).await?.remove(0))
}
