//! Today's farms: three whole-warehouse lots sold by serial (hundreds of units
//! each, registered one by one), each with a per-unit proof, and on the first
//! one two orders accepted unit by unit: one whose dead units fall inside the
//! lot's DOA allowance (settled without a refund), one beyond it (rejections
//! waiting for the seller's answer, which the demo seller can give live).
//!
//! Each farm is written in one transaction (see `Seeder::lot` for why), through
//! the units, proofs and orders code; a farm that exists is left alone.

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use anyhow::Context;

use super::orders::Parties;
use super::scenario::Scenario;
use crate::db::ids::{ListingId, ProofId};
use crate::listings::input::CreateListing;
use crate::listings::model::{Currency, Incoterm};
use crate::orders::rejection_rules::RejectionReason;
use crate::orders::rejections::{RejectUnits, RejectionItem};
use crate::units::rules::NewUnit;

/// One farm: a today's seller clearing a warehouse.
struct FarmPlan {
    key: &'static str,
    /// Index into the scenario's sellers (today's are 18..30).
    seller: usize,
    model: &'static str,
    units: i32,
    serial_prefix: &'static str,
    doa_allowance_pct: i32,
    discount_bps: i64,
}

const FARMS: [FarmPlan; 3] = [
    FarmPlan {
        key: "farm-ekibastuz",
        seller: 18,
        model: "Antminer S19j Pro 100T",
        units: 240,
        serial_prefix: "JYZZB3NB",
        doa_allowance_pct: 5,
        discount_bps: 3_200,
    },
    FarmPlan {
        key: "farm-pavlodar",
        seller: 21,
        model: "Antminer S19 XP",
        units: 300,
        serial_prefix: "HTXPA7K2",
        doa_allowance_pct: 3,
        discount_bps: 2_600,
    },
    FarmPlan {
        key: "farm-karaganda",
        seller: 24,
        model: "Whatsminer M50",
        units: 160,
        serial_prefix: "MWM50KZ9",
        doa_allowance_pct: 2,
        discount_bps: 2_100,
    },
];

/// One order on the first farm, accepted unit by unit.
struct UnitOrderPlan {
    key: &'static str,
    buyer: usize,
    quantity: i32,
    /// The serial number its units start at.
    first_unit: i32,
    placed_days_ago: i64,
    /// Units the buyer rejects.
    rejected: usize,
    /// Whether the seller has answered (accepted) the rejections.
    answered: bool,
}

/// 40 units at 5 %: 2 dead units are the allowance, nothing refunded, settled;
/// 30 units at 5 %: 4 rejected, 1 allowed, 3 refunded once the seller answers.
const UNIT_ORDERS: [UnitOrderPlan; 2] = [
    UnitOrderPlan {
        key: "farm-order-inside-allowance",
        buyer: 1,
        quantity: 40,
        first_unit: 1,
        placed_days_ago: 8,
        rejected: 2,
        answered: true,
    },
    UnitOrderPlan {
        key: "farm-order-beyond-allowance",
        buyer: 2,
        quantity: 30,
        first_unit: 41,
        placed_days_ago: 4,
        rejected: 4,
        answered: false,
    },
];

/// The status each farm order ends the seeding in.
pub fn planned_statuses() -> Vec<&'static str> {
    UNIT_ORDERS.iter().map(|plan| if plan.answered { "completed" } else { "delivered" }).collect()
}

/// What the farms added.
#[derive(Debug, Default)]
pub(super) struct FarmsWritten {
    pub lots: usize,
    pub units: usize,
    pub orders: Vec<&'static str>,
}

/// An identity derived from the farm's key, the same on every run.
fn stable_id(key: &str) -> Uuid {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("rigmarket-demo/{key}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

fn serial(plan: &FarmPlan, n: i32) -> String {
    format!("{}{n:06}", plan.serial_prefix)
}

/// The farm's units: graded, with hashboard and PSU serials.
fn units_of(plan: &FarmPlan, rng: &mut ChaCha8Rng) -> Vec<NewUnit> {
    (1..=plan.units)
        .map(|n| {
            let grade = ["A", "A", "B", "B", "C"][rng.random_range(0..5)];
            NewUnit {
                serial: serial(plan, n),
                mac: None,
                hashboard_serials: (1..=3).map(|b| format!("{}HB{n:05}{b}", &plan.serial_prefix[..4])).collect(),
                psu_serial: Some(format!("APW12-{n:05}")),
                grade: Some(grade.into()),
                hashboards_working: Some(if grade == "C" { 2 } else { 3 }),
                notes: None,
            }
        })
        .collect()
}

/// Measured over nominal for each unit of a healthy farm: most near 100 %, a
/// few tired units under 90 %, one or two that never connected.
fn unit_ratios(plan: &FarmPlan, rng: &mut ChaCha8Rng) -> Vec<(String, f64)> {
    (1..=plan.units)
        .map(|n| {
            let roll: f64 = rng.random();
            let ratio = if roll < 0.006 {
                0.0
            } else if roll < 0.03 {
                rng.random_range(0.55..0.8)
            } else {
                rng.random_range(0.94..1.04)
            };
            (serial(plan, n), ratio)
        })
        .collect()
}

pub(super) async fn write(
    conn: &mut AsyncPgConnection,
    seeder: &super::Seeder<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<FarmsWritten> {
    let mut written = FarmsWritten::default();
    for (i, plan) in FARMS.iter().enumerate() {
        conn.transaction(async |conn| farm(conn, seeder, plan, i == 0, now, &mut written).await).await?;
    }
    Ok(written)
}

async fn farm(
    conn: &mut AsyncPgConnection,
    seeder: &super::Seeder<'_>,
    plan: &FarmPlan,
    with_orders: bool,
    now: DateTime<Utc>,
    written: &mut FarmsWritten,
) -> anyhow::Result<()> {
    // A farm is known by its units: one registered earlier means it exists.
    if !crate::units::queries::history(conn, &serial(plan, 1)).await?.is_empty() {
        return Ok(());
    }
    let Some(model) = crate::catalog::queries::model_named(conn, plan.model).await? else {
        return Ok(());
    };
    let published_at = now - Duration::days(10);
    let Some(reference) = crate::listings::queries::reference_for(conn, &model, published_at).await? else {
        return Ok(());
    };
    let scenario: &Scenario = seeder.scenario;
    let seller = &scenario.sellers[plan.seller];
    let seller_id = seeder.people.seller_ids[plan.seller];
    // The way a seller does it: a draft, its units, submitted, approved.
    let body = CreateListing {
        rig_model_id: model.id,
        title: format!("{}x {}, whole hosting floor, every unit by serial", plan.units, model.name),
        description: "Demo farm: one hosting floor cleared at once. Every unit registered by serial with its \
                      hashboard and PSU serials; per-unit hashrate proof; DOA allowance on the lot."
            .into(),
        quantity: plan.units,
        unit_price_cents: ((reference * (10_000 - plan.discount_bps) / 10_000 + 500) / 1000 * 1000).max(1000),
        currency: Currency::USD,
        country: seller.person.country.into(),
        region: Some(seller.region.into()),
        incoterm: Some(Incoterm::EXW),
        lead_time_days: Some(3),
        inspection_days: None,
        doa_allowance_pct: Some(plan.doa_allowance_pct),
        serial_numbers: Vec::new(),
        hosting: None,
        offers: None,
    };
    let drafted_at = published_at - Duration::days(1);
    let draft =
        crate::listings::queries::insert_draft(conn, seller_id, &body, &model, Some(reference), drafted_at).await?;
    let mut rng = ChaCha8Rng::seed_from_u64(stable_id(plan.key).as_u128() as u64);
    let batch = crate::units::register::Batch { seller: None, dry_run: false, progress: &mut |_| {} };
    crate::units::register::add_units(conn, draft.id, units_of(plan, &mut rng), |i| i + 1, batch, drafted_at)
        .await
        .map_err(|err| anyhow::anyhow!("registering the units of {}: {err}", plan.key))?;
    let proof = crate::proofs::history::HistoricProof {
        id: ProofId(stable_id(&format!("{}-proof", plan.key))),
        listing_id: draft.id,
        requested_by: seller_id,
        units: plan.units,
        claimed_hashrate_hs: model.hashrate_hs.saturating_mul(i64::from(plan.units)),
        ratio: 1.0,
        ended: published_at - Duration::hours(12),
    };
    let (until, per_unit) =
        crate::proofs::history::record_verified_by_unit(conn, &proof, &unit_ratios(plan, &mut rng)).await?;
    let verification = crate::listings::HashrateVerification { until: Some(until), unit_hashrate_hs: Some(per_unit) };
    crate::listings::record_hashrate_verification(conn, draft.id, verification).await?;
    let account = crate::accounts::load_account(conn, seller_id).await?.context("a demo seller vanished")?;
    let seller_user = crate::accounts::AuthUser { account, session_id: Uuid::nil() };
    let fail = |err: crate::error::ApiError| anyhow::anyhow!("publishing {}: {err}", plan.key);
    crate::listings::editing::submit(conn, &seller_user, draft.id, published_at - Duration::hours(6))
        .await
        .map_err(fail)?;
    crate::listings::moderation::approve(conn, seeder.people.admin_id, draft.id, seeder.threshold, published_at)
        .await
        .map_err(fail)?;
    written.lots += 1;
    written.units += plan.units as usize;
    if with_orders {
        written.orders.extend(unit_orders(conn, seeder, plan, draft.id, now).await?);
    }
    Ok(())
}

/// Two orders on a farm, accepted unit by unit: dead units inside the
/// allowance (settled, no refund), and beyond it (waiting for the seller).
async fn unit_orders(
    conn: &mut AsyncPgConnection,
    seeder: &super::Seeder<'_>,
    plan: &FarmPlan,
    listing_id: ListingId,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<&'static str>> {
    use crate::orders::flow::{self, Shipment};
    use crate::orders::queries::Actor;
    use crate::orders::rejection_flow;
    use crate::orders::state::{ActorRole, Move};
    let mut statuses = Vec::new();
    for unit_order in &UNIT_ORDERS {
        let UnitOrderPlan { key, buyer, quantity, first_unit: first, rejected, answered, .. } = *unit_order;
        let placed_at = now - Duration::days(unit_order.placed_days_ago);
        let parties = Parties {
            buyer: &seeder.people.buyers[buyer],
            buyer_person: &seeder.scenario.buyers[buyer],
            seller_id: seeder.people.seller_ids[plan.seller],
            admin_id: seeder.people.admin_id,
        };
        let Some(order) =
            super::orders::place_only(conn, &seeder.orders, listing_id, key, quantity, placed_at, &parties).await?
        else {
            continue;
        };
        let buyer = Actor::user(ActorRole::Buyer, parties.buyer.id());
        let seller = Actor::user(ActorRole::Seller, parties.seller_id);
        let admin = Actor::user(ActorRole::Admin, parties.admin_id);
        let ctx = &seeder.orders;
        let fail = |err: crate::error::ApiError| anyhow::anyhow!("demo farm order {key}: {err}");
        let mut at = placed_at + Duration::hours(1);
        let wire = serde_json::json!({ "method": "wire", "reference": order.payment_reference });
        let order = flow::pay(ctx, conn, &order, admin, order.total_cents, wire, at).await.map_err(fail)?;
        at += Duration::days(1);
        let serials: Vec<String> = (first..first + quantity).map(|n| serial(plan, n)).collect();
        let shipment = Shipment {
            carrier: "Kazpost EMS Freight".into(),
            tracking_number: format!("KZ{}", &order.id.0.simple().to_string()[..12].to_uppercase()),
            shipped_at: at,
            serials: Some(serials.clone()),
        };
        let order = flow::ship(ctx, conn, &order, seller, shipment, at).await.map_err(fail)?;
        at += Duration::days(2);
        let order = flow::deliver(conn, &order, Move::ConfirmDelivery, buyer, at).await.map_err(fail)?;
        at += Duration::hours(20);
        let reasons = [
            RejectionReason::DeadOnArrival,
            RejectionReason::HashboardMissing,
            RejectionReason::DeadOnArrival,
            RejectionReason::NotAsDescribed,
        ];
        let items = serials
            .iter()
            .rev()
            .take(rejected)
            .zip(reasons.iter().cycle())
            .map(|(serial, reason)| RejectionItem {
                serial: serial.clone(),
                reason: *reason,
                evidence_ids: Vec::new(),
                proof_id: None,
                note: match reason {
                    RejectionReason::DeadOnArrival => {
                        "No power LED; PSU swapped with a working unit, still dead.".into()
                    }
                    RejectionReason::HashboardMissing => "Only two hashboards detected; slot 3 empty.".into(),
                    _ => "Sold as grade A, arrived with a cracked chassis and a dead fan.".into(),
                },
            })
            .collect();
        let order = rejection_flow::reject(conn, &order, buyer, &RejectUnits { items }, at).await.map_err(fail)?;
        let order = if answered {
            rejection_flow::accept(ctx, conn, &order, seller, at + Duration::days(1)).await.map_err(fail)?
        } else {
            order
        };
        statuses.push(order.status().as_str());
    }
    Ok(statuses)
}
