//! The work handed to miners: a coinbase that carries the proof's challenge, a
//! random previous-block hash per job, and an nbits far harder than any share
//! difficulty, so nothing a miner finds is a block and nothing can be precomputed.

use rand::RngCore;
use serde_json::{json, Value};

use crate::proofs::share::Job;

pub const JOB_VERSION: u32 = 0x2000_0000;
/// A mainnet-like target (difficulty in the trillions): shares never make blocks.
pub const JOB_NBITS: u32 = 0x1703_4219;
pub const EXTRANONCE1_BYTES: usize = 4;
pub const EXTRANONCE2_BYTES: usize = 4;
const TAG: &[u8] = b"/rigmarket proof/";

/// coinb1 | extranonce1 | extranonce2 | coinb2 is a one-input, one-output
/// transaction whose scriptSig is `PUSH(challenge) extranonce1 extranonce2 PUSH(tag)`.
pub fn coinbase_parts(challenge: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let script_len = 1 + challenge.len() + EXTRANONCE1_BYTES + EXTRANONCE2_BYTES + 1 + TAG.len();
    let mut coinb1 = Vec::with_capacity(64);
    coinb1.extend_from_slice(&1u32.to_le_bytes()); // tx version
    coinb1.push(1); // one input
    coinb1.extend_from_slice(&[0u8; 32]); // null prevout
    coinb1.extend_from_slice(&u32::MAX.to_le_bytes());
    coinb1.push(script_len as u8);
    coinb1.push(challenge.len() as u8);
    coinb1.extend_from_slice(challenge);
    let mut coinb2 = Vec::with_capacity(48);
    coinb2.push(TAG.len() as u8);
    coinb2.extend_from_slice(TAG);
    coinb2.extend_from_slice(&u32::MAX.to_le_bytes()); // sequence
    coinb2.push(1); // one output
    coinb2.extend_from_slice(&0u64.to_le_bytes()); // value 0
    coinb2.push(0); // empty script
    coinb2.extend_from_slice(&0u32.to_le_bytes()); // lock time
    (coinb1, coinb2)
}

/// A fresh job for a proof at `ntime`.
pub fn new_job(job_id: String, challenge: &[u8], ntime: u32) -> Job {
    let mut prevhash = [0u8; 32];
    rand::rng().fill_bytes(&mut prevhash);
    let (coinb1, coinb2) = coinbase_parts(challenge);
    Job { job_id, prevhash, coinb1, coinb2, merkle_branch: Vec::new(), version: JOB_VERSION, nbits: JOB_NBITS, ntime }
}

/// The `mining.notify` parameters announcing `job`.
pub fn notify_params(job: &Job, clean_jobs: bool) -> Value {
    json!([
        job.job_id,
        hex::encode(job.prevhash),
        hex::encode(&job.coinb1),
        hex::encode(&job.coinb2),
        job.merkle_branch.iter().map(hex::encode).collect::<Vec<_>>(),
        format!("{:08x}", job.version),
        format!("{:08x}", job.nbits),
        format!("{:08x}", job.ntime),
        clean_jobs
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proofs::share::{Job as ShareJob, NotifyParams};

    #[test]
    fn the_coinbase_is_a_well_formed_transaction_carrying_the_challenge() {
        let challenge = [7u8; 16];
        let (coinb1, coinb2) = coinbase_parts(&challenge);
        let tx = [coinb1.clone(), vec![1; 4], vec![2; 4], coinb2].concat();
        let script_len = coinb1[41] as usize;
        assert_eq!(41 + 1 + script_len + 4 + 1 + 8 + 1 + 4, tx.len(), "lengths add up");
        assert!(tx.windows(16).any(|w| w == challenge));
    }

    #[test]
    fn notify_parameters_parse_back_into_the_same_job() {
        let job = new_job("1a".into(), &[9u8; 16], 1_622_505_600);
        let params = notify_params(&job, true);
        let text = |i: usize| params[i].as_str().unwrap().to_string();
        let branch: [&str; 0] = [];
        let parsed = ShareJob::from_notify(&NotifyParams {
            job_id: &text(0),
            prevhash: &text(1),
            coinb1: &text(2),
            coinb2: &text(3),
            merkle_branch: &branch,
            version: &text(5),
            nbits: &text(6),
            ntime: &text(7),
        })
        .unwrap();
        assert_eq!(parsed, job);
        assert_eq!(params[8], true);
    }
}
