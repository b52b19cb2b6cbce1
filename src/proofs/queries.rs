//! The proofs' SQL: lookups, share rows and reject counters, the expiry of
//! unused proofs, and the listings' latest proofs.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::model::{ProofKind, ProofRow, ProofStatus};
use crate::db::ids::{ListingId, OrderId, ProofId};
use crate::db::schema::{hashrate_proofs, proof_shares};
use crate::listings::LatestProofs;

/// When each of the order's undecided delivery proofs is decided: its window's
/// end once it collects, else its connect deadline.
pub async fn undecided_delivery_proofs(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
) -> QueryResult<Vec<DateTime<Utc>>> {
    let proofs: Vec<ProofRow> = hashrate_proofs::table
        .filter(hashrate_proofs::order_id.eq(order_id))
        .filter(hashrate_proofs::status.eq_any([ProofStatus::AwaitingShares, ProofStatus::Collecting]))
        .select(ProofRow::as_select())
        .load(conn)
        .await?;
    Ok(proofs
        .iter()
        .map(|p| match (p.status, p.ends_at) {
            (ProofStatus::Collecting, Some(ends)) => ends,
            _ => p.connect_deadline,
        })
        .collect())
}

pub async fn find(conn: &mut AsyncPgConnection, id: ProofId) -> QueryResult<Option<ProofRow>> {
    hashrate_proofs::table.find(id).select(ProofRow::as_select()).first(conn).await.optional()
}

pub async fn find_by_token(conn: &mut AsyncPgConnection, token: &str) -> QueryResult<Option<ProofRow>> {
    hashrate_proofs::table
        .filter(hashrate_proofs::token_hash.eq(crate::accounts::secret_token::digest(token)))
        .select(ProofRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// A listing's proofs newest first, from before the proof keyed `before`
/// (`created_at`, `id`), at most `limit`.
pub async fn of_listing(
    conn: &mut AsyncPgConnection,
    listing_id: ListingId,
    before: Option<(DateTime<Utc>, ProofId)>,
    limit: i64,
) -> QueryResult<Vec<ProofRow>> {
    let mut query = hashrate_proofs::table.filter(hashrate_proofs::listing_id.eq(listing_id)).into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            hashrate_proofs::created_at.lt(at).or(hashrate_proofs::created_at.eq(at).and(hashrate_proofs::id.lt(id))),
        );
    }
    query
        .order((hashrate_proofs::created_at.desc(), hashrate_proofs::id.desc()))
        .limit(limit)
        .select(ProofRow::as_select())
        .load(conn)
        .await
}

/// Counts a rejected share under its reason code.
pub async fn record_reject(conn: &mut AsyncPgConnection, proof_id: ProofId, reason: &str) -> QueryResult<()> {
    add_rejects(conn, proof_id, reason, 1).await
}

/// Adds `count` rejected shares under their reason code (a batch's worth).
pub async fn add_rejects(conn: &mut AsyncPgConnection, proof_id: ProofId, reason: &str, count: i64) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE hashrate_proofs SET shares_rejected = shares_rejected || \
         jsonb_build_object($1::text, COALESCE((shares_rejected ->> $1::text)::bigint, 0) + $3) WHERE id = $2",
    )
    .bind::<Text, _>(reason)
    .bind::<diesel::sql_types::Uuid, _>(proof_id)
    .bind::<diesel::sql_types::BigInt, _>(count)
    .execute(conn)
    .await?;
    Ok(())
}

/// Accepted shares per worker over the proof's window, by worker name (the
/// share that opened the window was mined before it and is not counted).
pub async fn shares_per_worker(conn: &mut AsyncPgConnection, proof_id: ProofId) -> QueryResult<Vec<(String, i64)>> {
    proof_shares::table
        .filter(proof_shares::proof_id.eq(proof_id))
        .filter(proof_shares::counted)
        .group_by(proof_shares::worker)
        .select((proof_shares::worker, diesel::dsl::count_star()))
        .order(proof_shares::worker)
        .load(conn)
        .await
}

/// Ends a proof no rig connected to (a job at its connect deadline).
pub async fn expire_if_unused(
    conn: &mut AsyncPgConnection,
    proof_id: ProofId,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let expired = diesel::update(
        hashrate_proofs::table.find(proof_id).filter(hashrate_proofs::status.eq(ProofStatus::AwaitingShares)),
    )
    .set((hashrate_proofs::status.eq(ProofStatus::Expired), hashrate_proofs::ended_at.eq(now)))
    .execute(conn)
    .await?;
    Ok(expired == 1)
}

/// The listings' latest proofs, for their pages (registered by the composition root).
pub struct ListingProofs;

impl LatestProofs for ListingProofs {
    fn latest_json_sql(&self, listings: &str) -> String {
        let (listing, verified) = (ProofKind::Listing.as_str(), ProofStatus::Verified.as_str());
        format!(
            "(SELECT json_object_agg(listing_id, json_build_object('summary', json_build_object('id', id, \
             'status', status, 'claimed_hashrate_hs', claimed_hashrate_hs, \
             'estimated_hashrate_hs', estimated_hashrate_hs, 'ci95_low_hs', ci95_low_hs, \
             'ci95_high_hs', ci95_high_hs, 'ended_at', ended_at, 'valid_until', valid_until), \
             'units', units, 'verified', status = '{verified}'))::text \
             FROM (SELECT DISTINCT ON (listing_id) * FROM hashrate_proofs \
                   WHERE listing_id = ANY({listings}) AND purpose = '{listing}' \
                   ORDER BY listing_id, created_at DESC) AS latest)"
        )
    }
}
