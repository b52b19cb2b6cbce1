//! Recording a batch of verified shares and reject counts in ONE transaction
//! (group commit, see [`super::share_writer`]), with exactly the rules of one
//! share at a time:
//!
//! - the proofs the batch touches are locked (`FOR UPDATE`, in id order so two
//!   processes' batches cannot deadlock) before anything is decided, so a proof
//!   that closes meanwhile (its verdict job locks the same row) is seen closed,
//!   and two processes serialise on it;
//! - a share is a duplicate when its row exists already or an earlier copy is in
//!   the same batch (the later copy is refused, never both accepted);
//! - the first share a proof ever accepts opens its window: it is stored (a copy
//!   of it is still a duplicate) but not counted, because it was mined before
//!   `started_at` (counting it biased N by +1).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::jobs::FinalizeProof;
use super::model::{ProofRow, ProofStatus, ShareOutcome};
use super::queries;
use super::share::ShareReject;
use crate::db::ids::ProofId;
use crate::db::schema::{hashrate_proofs, proof_shares};

/// A verified share waiting to be recorded.
#[derive(Debug, Clone)]
pub struct NewShare {
    pub proof_id: ProofId,
    pub worker: String,
    pub header_hash: Vec<u8>,
}

/// What became of one share of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub outcome: ShareOutcome,
    /// When the proof's window ends (known once it has started), so that a
    /// stratum session can end with it.
    pub window_ends_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = SqlUuid)]
    proof_id: ProofId,
    #[diesel(sql_type = Bytea)]
    header_hash: Vec<u8>,
}

/// Records `shares` (answers in the same order) and adds `rejects` (proof,
/// reason code) to the proofs' reject counters, all in one transaction at `now`.
pub async fn record_batch(
    conn: &mut AsyncPgConnection,
    shares: &[NewShare],
    rejects: &[(ProofId, String)],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Recorded>> {
    conn.transaction(async |conn| {
        let ids: BTreeSet<ProofId> = shares.iter().map(|s| s.proof_id).chain(rejects.iter().map(|r| r.0)).collect();
        let proofs: HashMap<ProofId, ProofRow> = hashrate_proofs::table
            .filter(hashrate_proofs::id.eq_any(ids.iter().copied().collect::<Vec<_>>()))
            .order(hashrate_proofs::id)
            .select(ProofRow::as_select())
            .for_update()
            .load(conn)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();

        // Decide closed and in-batch duplicates; the rest are candidates.
        let mut outcomes: Vec<Option<ShareOutcome>> = vec![None; shares.len()];
        let mut seen: HashSet<(ProofId, &[u8])> = HashSet::with_capacity(shares.len());
        let mut candidates = Vec::with_capacity(shares.len());
        for (index, share) in shares.iter().enumerate() {
            if !proofs.get(&share.proof_id).is_some_and(|p| p.is_open(now)) {
                outcomes[index] = Some(ShareOutcome::Closed);
            } else if !seen.insert((share.proof_id, share.header_hash.as_slice())) {
                outcomes[index] = Some(ShareOutcome::Duplicate);
            } else {
                candidates.push(index);
            }
        }
        let inserted = insert_shares(conn, shares, &candidates, now).await?;
        let mut accepted_per_proof: BTreeMap<ProofId, Vec<usize>> = BTreeMap::new();
        for &index in &candidates {
            let share = &shares[index];
            let fresh = inserted.contains(&(share.proof_id, share.header_hash.clone()));
            outcomes[index] = Some(if fresh { ShareOutcome::Accepted } else { ShareOutcome::Duplicate });
            if fresh {
                accepted_per_proof.entry(share.proof_id).or_default().push(index);
            }
        }

        let mut window_ends: HashMap<ProofId, Option<DateTime<Utc>>> =
            proofs.values().map(|p| (p.id, p.ends_at)).collect();
        for (proof_id, indexes) in &accepted_per_proof {
            let proof = &proofs[proof_id];
            let count = indexes.len() as i64;
            if proof.started_at.is_none() {
                let opener = &shares[indexes[0]];
                let ends_at = open_window(conn, proof, &opener.header_hash, count - 1, now).await?;
                window_ends.insert(*proof_id, Some(ends_at));
            } else {
                diesel::update(hashrate_proofs::table.find(proof_id))
                    .set(hashrate_proofs::shares_accepted.eq(hashrate_proofs::shares_accepted + count))
                    .execute(conn)
                    .await?;
            }
        }

        // Duplicates are rejects too: counted in the same transaction.
        let duplicate = ShareReject::Duplicate.code();
        let mut reject_counts: BTreeMap<(ProofId, &str), i64> = BTreeMap::new();
        for (proof_id, reason) in rejects {
            *reject_counts.entry((*proof_id, reason.as_str())).or_default() += 1;
        }
        for (share, outcome) in shares.iter().zip(&outcomes) {
            if *outcome == Some(ShareOutcome::Duplicate) {
                *reject_counts.entry((share.proof_id, duplicate)).or_default() += 1;
            }
        }
        for ((proof_id, reason), count) in reject_counts {
            queries::add_rejects(conn, proof_id, reason, count).await?;
        }

        Ok(shares
            .iter()
            .zip(outcomes)
            .map(|(share, outcome)| Recorded {
                outcome: outcome.unwrap_or(ShareOutcome::Closed),
                window_ends_at: window_ends.get(&share.proof_id).copied().flatten(),
            })
            .collect())
    })
    .await
}

/// One multi-row insert of the candidates (`unnest` of four arrays: four
/// parameters whatever the batch size); returns the rows that were new.
async fn insert_shares(
    conn: &mut AsyncPgConnection,
    shares: &[NewShare],
    candidates: &[usize],
    now: DateTime<Utc>,
) -> QueryResult<HashSet<(ProofId, Vec<u8>)>> {
    if candidates.is_empty() {
        return Ok(HashSet::new());
    }
    let proof_ids: Vec<ProofId> = candidates.iter().map(|&i| shares[i].proof_id).collect();
    let hashes: Vec<&[u8]> = candidates.iter().map(|&i| shares[i].header_hash.as_slice()).collect();
    let workers: Vec<&str> = candidates.iter().map(|&i| shares[i].worker.as_str()).collect();
    let rows: Vec<Inserted> = diesel::sql_query(
        "INSERT INTO proof_shares (proof_id, header_hash, worker, accepted_at) \
         SELECT p, h, w, $4 FROM unnest($1::uuid[], $2::bytea[], $3::text[]) AS s(p, h, w) \
         ON CONFLICT DO NOTHING RETURNING proof_id, header_hash",
    )
    .bind::<Array<SqlUuid>, _>(proof_ids)
    .bind::<Array<Bytea>, _>(hashes)
    .bind::<Array<Text>, _>(workers)
    .bind::<Timestamptz, _>(now)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.proof_id, r.header_hash)).collect())
}

/// The proof's first accepted share: the window starts now and its verdict is
/// scheduled; the opener is marked uncounted and `counted` more are counted.
async fn open_window(
    conn: &mut AsyncPgConnection,
    proof: &ProofRow,
    opener_hash: &[u8],
    counted: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<DateTime<Utc>> {
    let ends_at = now + Duration::seconds(i64::from(proof.duration_secs));
    diesel::update(proof_shares::table.find((proof.id, opener_hash)))
        .set(proof_shares::counted.eq(false))
        .execute(conn)
        .await?;
    diesel::update(hashrate_proofs::table.find(proof.id))
        .set((
            hashrate_proofs::status.eq(ProofStatus::Collecting),
            hashrate_proofs::started_at.eq(now),
            hashrate_proofs::ends_at.eq(ends_at),
            hashrate_proofs::shares_accepted.eq(counted),
        ))
        .execute(conn)
        .await?;
    crate::jobs::enqueue(conn, &FinalizeProof { proof_id: proof.id }, ends_at).await?;
    Ok(ends_at)
}
