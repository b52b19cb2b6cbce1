//! In-process benchmarks of the CPU-bound domain code (no database, no HTTP):
//! password hashing (the cost that dominates login), Stratum share verification
//! (what bounds how many rigs one core can serve) and the verdict statistics.
//!
//! Run: `cargo bench --bench domain` (results in docs/BENCHMARKS.md).

use criterion::{criterion_group, criterion_main, Criterion};
use rigmarket::accounts::password;
use rigmarket::proofs::estimate::{verdict, DEFAULT_MIN_SHARES};
use rigmarket::proofs::share::{verify_share, Difficulty, Job, NotifyParams, Submission};
use std::hint::black_box;

fn password_hashing(c: &mut Criterion) {
    let mut group = c.benchmark_group("argon2id m=19MiB t=2 p=1");
    group.sample_size(20);
    let hash = password::hash_blocking("correct horse battery staple").unwrap();
    group.bench_function("hash", |b| b.iter(|| password::hash_blocking(black_box("correct horse battery staple"))));
    group.bench_function("verify", |b| {
        b.iter(|| password::verify_blocking(black_box("correct horse battery staple"), &hash))
    });
    group.finish();
}

/// The slush testnet3 share from data/stratum_vectors.json: a valid share at
/// difficulty 1, so the full check (header rebuild, double SHA-256, target) runs.
fn share_verification(c: &mut Criterion) {
    let branch: [&str; 0] = [];
    let job = Job::from_notify(&NotifyParams {
        job_id: "bf",
        prevhash: "4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000",
        coinb1: "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008",
        coinb2: "072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",
        merkle_branch: &branch,
        version: "00000002",
        nbits: "1c2ac4af",
        ntime: "504e86b9",
    })
    .unwrap();
    let extranonce1 = hex::decode("08000002").unwrap();
    let submission = Submission::from_stratum("00000001", "504e86ed", "b2957c02", None).unwrap();
    let difficulty = Difficulty::new(1.0).unwrap();
    c.bench_function("verify one stratum share", |b| {
        b.iter(|| verify_share(black_box(&job), &extranonce1, 4, black_box(&submission), 0x1fffe000, difficulty, 7000))
    });
    c.bench_function("proof verdict (Garwood interval)", |b| {
        b.iter(|| verdict(black_box(1_600), difficulty, 600.0, 11.0e6, DEFAULT_MIN_SHARES))
    });
}

criterion_group!(benches, password_hashing, share_verification);
criterion_main!(benches);
