//! Share verification against the shared Stratum V1 vectors, plus hand-made edge cases.

use super::*;
use bitcoin::Target;
use serde::Deserialize;

/// The one place that knows where the vectors live; update it when the crate moves.
const VECTORS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/stratum_vectors.json");

#[derive(Deserialize)]
struct VectorFile {
    diff1_target_hex: String,
    shares: Vec<ShareVector>,
    merkle: Vec<MerkleVector>,
}

#[derive(Deserialize)]
struct ShareVector {
    name: String,
    extranonce1: String,
    extranonce2_size: usize,
    notify: NotifyVector,
    submit: SubmitVector,
    share_difficulty: f64,
    expected: ExpectedShare,
}

#[derive(Deserialize)]
struct NotifyVector {
    job_id: String,
    prevhash: String,
    coinb1: String,
    coinb2: String,
    merkle_branch: Vec<String>,
    version: String,
    nbits: String,
    ntime: String,
}

#[derive(Deserialize)]
struct SubmitVector {
    job_id: String,
    extranonce2: String,
    ntime: String,
    nonce: String,
}

#[derive(Deserialize)]
struct ExpectedShare {
    header: String,
    hash_display: String,
    valid: bool,
    achieved_difficulty: f64,
}

#[derive(Deserialize)]
struct MerkleVector {
    name: String,
    extranonce1: String,
    extranonce2: String,
    coinb1: String,
    coinb2: String,
    merkle_branch: Vec<String>,
    expected_merkle_root_raw: String,
}

fn load_vectors() -> VectorFile {
    let text = std::fs::read_to_string(VECTORS_PATH).unwrap_or_else(|err| panic!("reading {VECTORS_PATH}: {err}"));
    serde_json::from_str(&text).expect("vector file parses")
}

fn job_from(notify: &NotifyVector) -> Job {
    let branch: Vec<&str> = notify.merkle_branch.iter().map(String::as_str).collect();
    Job::from_notify(&NotifyParams {
        job_id: &notify.job_id,
        prevhash: &notify.prevhash,
        coinb1: &notify.coinb1,
        coinb2: &notify.coinb2,
        merkle_branch: &branch,
        version: &notify.version,
        nbits: &notify.nbits,
        ntime: &notify.ntime,
    })
    .expect("notify parses")
}

fn submission_from(submit: &SubmitVector) -> Submission {
    Submission::from_stratum(&submit.extranonce2, &submit.ntime, &submit.nonce, None).expect("submit parses")
}

fn difficulty(value: f64) -> Difficulty {
    Difficulty::new(value).expect("valid difficulty")
}

/// The vectors print achieved difficulty rounded (6 decimals for valid shares, 9 for
/// the invalid twins); accept anything within half a unit of the last printed digit.
fn assert_matches_printed(actual: f64, printed: f64, context: &str) {
    let scientific = format!("{printed:e}");
    let (digits, exponent) = scientific.split_once('e').expect("scientific notation");
    let decimals = digits.split_once('.').map_or(0, |(_, fraction)| fraction.len());
    let exponent: i32 = exponent.parse().expect("integer exponent");
    let last_place = 10f64.powi(exponent - i32::try_from(decimals).expect("few digits"));
    assert!(
        (actual - printed).abs() <= last_place / 2.0,
        "{context}: achieved difficulty {actual} does not round to {printed}"
    );
}

#[test]
fn every_share_vector_reproduces() {
    let vectors = load_vectors();
    assert!(vectors.shares.iter().any(|v| v.expected.valid));
    assert!(vectors.shares.iter().any(|v| !v.expected.valid));

    for vector in &vectors.shares {
        let name = &vector.name;
        assert_eq!(vector.submit.job_id, vector.notify.job_id, "{name}");
        let job = job_from(&vector.notify);
        let extranonce1 = hex::decode(&vector.extranonce1).expect("extranonce1 hex");
        let submission = submission_from(&vector.submit);

        let header = header_bytes(&job, &extranonce1, &submission, job.version);
        assert_eq!(hex::encode(header), vector.expected.header, "{name}: header");
        let hash = BlockHash::hash(&header);
        assert_eq!(hash.to_string(), vector.expected.hash_display, "{name}: hash");
        assert_matches_printed(achieved_difficulty(hash), vector.expected.achieved_difficulty, name);

        let outcome = verify_share(
            &job,
            &extranonce1,
            vector.extranonce2_size,
            &submission,
            0,
            difficulty(vector.share_difficulty),
            NTIME_MAX_AHEAD_SECS,
        );
        match outcome {
            Ok(ok) => {
                assert!(vector.expected.valid, "{name}: accepted an invalid share");
                assert_eq!(ok.hash, hash, "{name}");
                assert_eq!(ok.achieved_difficulty, achieved_difficulty(hash), "{name}");
            }
            Err(reject) => {
                assert!(!vector.expected.valid, "{name}: rejected a valid share: {reject}");
                assert_eq!(reject.code(), "low_difficulty", "{name}");
                assert_eq!(reject.stratum_error_code(), 23, "{name}");
            }
        }
    }
}

#[test]
fn merkle_vector_reproduces() {
    let vectors = load_vectors();
    assert!(!vectors.merkle.is_empty());
    for vector in &vectors.merkle {
        let decode = |s: &str| hex::decode(s).expect("hex");
        let coinbase = coinbase(
            &decode(&vector.coinb1),
            &decode(&vector.extranonce1),
            &decode(&vector.extranonce2),
            &decode(&vector.coinb2),
        );
        let branch: Vec<[u8; 32]> =
            vector.merkle_branch.iter().map(|step| decode(step).try_into().expect("32-byte step")).collect();
        let root = merkle_root(sha256d::Hash::hash(&coinbase).to_byte_array(), &branch);
        assert_eq!(hex::encode(root), vector.expected_merkle_root_raw, "{}", vector.name);
    }
}

#[test]
fn difficulty_one_target_is_the_vectors_diff1() {
    let vectors = load_vectors();
    let from_file = Target::from_unprefixed_hex(&vectors.diff1_target_hex).expect("hex");
    assert_eq!(DIFF1_TARGET, from_file);
    assert_eq!(share_target(difficulty(1.0)), from_file);
}

/// The slush vector's job, extranonce1 and share, for the hand-made edge cases.
struct Slush {
    job: Job,
    extranonce1: Vec<u8>,
    submission: Submission,
}

fn slush() -> Slush {
    let vectors = load_vectors();
    let vector = &vectors.shares[0];
    Slush {
        job: job_from(&vector.notify),
        extranonce1: hex::decode(&vector.extranonce1).expect("hex"),
        submission: submission_from(&vector.submit),
    }
}

impl Slush {
    /// Verifies at a difficulty so low that every hash passes, so that a test sees
    /// only the check it is about, not the proof of work.
    fn verify_any_hash(&self, submission: &Submission, version_mask: u32) -> Option<&'static str> {
        verify_share(&self.job, &self.extranonce1, 4, submission, version_mask, difficulty(1e-12), NTIME_MAX_AHEAD_SECS)
            .err()
            .map(|reject| reject.code())
    }
}

#[test]
fn ntime_window_is_job_ntime_to_7000_seconds_later() {
    let slush = slush();
    let job_ntime = slush.job.ntime;
    let cases = [
        (job_ntime - 1, Some("ntime_out_of_range")),
        (job_ntime, None),
        (job_ntime + 7000, None),
        (job_ntime + 7001, Some("ntime_out_of_range")),
    ];
    for (ntime, expected) in cases {
        let submission = Submission { ntime, ..slush.submission.clone() };
        assert_eq!(slush.verify_any_hash(&submission, 0), expected, "ntime {ntime:08x}");
    }
}

#[test]
fn ntime_window_does_not_wrap_at_the_end_of_u32_time() {
    let slush = slush();
    let job = Job { ntime: u32::MAX - 10, ..slush.job };
    let last_second = Submission { ntime: u32::MAX, ..slush.submission.clone() };
    assert_eq!(check_ntime(&job, &last_second, NTIME_MAX_AHEAD_SECS), Ok(()));
    let wrapped = Submission { ntime: 5, ..slush.submission };
    assert!(check_ntime(&job, &wrapped, NTIME_MAX_AHEAD_SECS).is_err());
}

#[test]
fn extranonce2_must_have_the_negotiated_size() {
    let slush = slush();
    for (extranonce2, expected) in [
        (vec![0, 0, 1], Some("bad_extranonce2_size")),
        (vec![0, 0, 0, 1], None),
        (vec![0, 0, 0, 0, 1], Some("bad_extranonce2_size")),
    ] {
        let submission = Submission { extranonce2, ..slush.submission.clone() };
        assert_eq!(slush.verify_any_hash(&submission, 0), expected);
    }
}

#[test]
fn version_bits_must_stay_inside_the_mask() {
    const BIP320_MASK: u32 = 0x1fff_e000;
    const OUTSIDE: Option<&str> = Some("version_bits_outside_mask");
    let cases = [
        (None, BIP320_MASK, None),
        (Some(0x0000_2000), BIP320_MASK, None),
        (Some(0x1fff_e000), BIP320_MASK, None),
        (Some(0x0000_1000), BIP320_MASK, OUTSIDE),
        (Some(0x2000_2000), BIP320_MASK, OUTSIDE),
        (Some(0), 0, None),
        (Some(0x0000_2000), 0, OUTSIDE),
    ];
    let slush = slush();
    for (version_bits, mask, expected) in cases {
        let submission = Submission { version_bits, ..slush.submission.clone() };
        let outcome = slush.verify_any_hash(&submission, mask);
        assert_eq!(outcome, expected, "{version_bits:?} / {mask:08x}");
    }
}

#[test]
fn rolled_version_replaces_only_the_masked_bits_and_is_what_gets_hashed() {
    let mask = 0x1fff_e000;
    let rolled_bits = 0x0000_a000;
    assert_eq!(effective_version(0x2000_4000, Some(rolled_bits), mask), Ok(0x2000_a000));
    assert_eq!(effective_version(0x2000_4000, None, mask), Ok(0x2000_4000));

    let slush = slush();
    let submission = Submission { version_bits: Some(rolled_bits), ..slush.submission };
    let outcome =
        verify_share(&slush.job, &slush.extranonce1, 4, &submission, mask, difficulty(1e-12), NTIME_MAX_AHEAD_SECS);
    let rolled = (slush.job.version & !mask) | rolled_bits;
    let header = header_bytes(&slush.job, &slush.extranonce1, &submission, rolled);
    assert_eq!(header[..4], rolled.to_le_bytes());
    assert_eq!(outcome.map(|ok| ok.hash), Ok(BlockHash::hash(&header)));
}

#[test]
fn submit_params_must_be_exact_hex() {
    let parse =
        |ntime: &str, version_bits: Option<&str>| Submission::from_stratum("00000001", ntime, "b2957c02", version_bits);
    assert_eq!(
        parse("504e86ed", Some("1fffe000")).map(|s| (s.ntime, s.version_bits)),
        Ok((0x504e_86ed, Some(0x1fff_e000)))
    );
    for bad_ntime in ["+04e86ed", "504e86e", "504e86ed00", "504e86eg", ""] {
        let reject = parse(bad_ntime, None).expect_err(bad_ntime);
        assert_eq!(reject.code(), "malformed_submission");
        assert_eq!(reject.stratum_error_code(), 20);
    }
    assert!(parse("504e86ed", Some("2000")).is_err());
    assert!(Submission::from_stratum("0000001", "504e86ed", "b2957c02", None).is_err());
}

#[test]
fn notify_params_must_be_exact_hex() {
    let vectors = load_vectors();
    let notify = &vectors.shares[0].notify;
    let short_prevhash = &notify.prevhash[2..];
    let params = NotifyParams {
        job_id: &notify.job_id,
        prevhash: short_prevhash,
        coinb1: &notify.coinb1,
        coinb2: &notify.coinb2,
        merkle_branch: &[],
        version: &notify.version,
        nbits: &notify.nbits,
        ntime: &notify.ntime,
    };
    let error = Job::from_notify(&params).expect_err("prevhash is one byte short");
    assert_eq!(error.field, "prevhash");
}

#[test]
fn every_reject_has_a_stable_code_and_stratum_number() {
    let malformed = ShareReject::from(HexFieldError { field: "nonce", source: hex::FromHexError::OddLength });
    let cases = [
        (malformed, "malformed_submission", 20),
        (ShareReject::StaleJob, "stale_job", 21),
        (ShareReject::Duplicate, "duplicate", 22),
        (ShareReject::BadExtranonce2Size { expected: 4, actual: 3 }, "bad_extranonce2_size", 20),
        (ShareReject::NtimeOutOfRange { ntime: 1, job_ntime: 2 }, "ntime_out_of_range", 20),
        (ShareReject::VersionBitsOutsideMask { version_bits: 1, mask: 0 }, "version_bits_outside_mask", 20),
        (ShareReject::LowDifficulty { achieved: 0.5, required: 1.0 }, "low_difficulty", 23),
        (ShareReject::Unauthorized, "unauthorized", 24),
        (ShareReject::NotSubscribed, "not_subscribed", 25),
    ];
    for (reject, code, number) in cases {
        assert_eq!((reject.code(), reject.stratum_error_code()), (code, number));
    }
}
