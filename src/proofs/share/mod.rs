//! Stratum V1 share verification.
//!
//! Owns the job (`mining.notify`) and submission (`mining.submit`) types, the rebuild
//! of the 80-byte block header a miner hashed (coinbase, merkle root, header), the
//! exact share target for a possibly fractional difficulty, and [`ShareReject`]: the
//! one list of reasons a share is refused, each with a stable snake_case code and its
//! Stratum V1 error number.
//!
//! Whether the job exists and is current, and whether the share is a duplicate, needs
//! session state, so the caller checks those; their reasons live here anyway so that
//! every reject is counted through the same enum.
//!
//! Reads no environment variables and does no I/O.

use bitcoin::hashes::{sha256d, Hash};
use bitcoin::BlockHash;
use thiserror::Error;

mod target;
#[cfg(test)]
mod tests;

pub use target::{achieved_difficulty, share_target, Difficulty, InvalidDifficulty, DIFF1_TARGET};

/// How many seconds a share's ntime may run ahead of its job's ntime. The same
/// bound as ckpool: roomy enough for firmware that rolls ntime during a long job,
/// tight enough that a share cannot claim a time far from when it was mined.
pub const NTIME_MAX_AHEAD_SECS: u32 = 7000;

/// A job as announced to miners with `mining.notify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub job_id: String,
    /// The previous block hash exactly as `mining.notify` carries it: the header's
    /// bytes with each 4-byte word reversed. [`header_bytes`] undoes that swap.
    pub prevhash: [u8; 32],
    pub coinb1: Vec<u8>,
    pub coinb2: Vec<u8>,
    /// Sibling hashes in raw (header) byte order, folded onto the coinbase hash.
    pub merkle_branch: Vec<[u8; 32]>,
    pub version: u32,
    pub nbits: u32,
    pub ntime: u32,
}

/// The hex parameters of `mining.notify`, in the order the message carries them.
#[derive(Debug, Clone, Copy)]
pub struct NotifyParams<'a> {
    pub job_id: &'a str,
    pub prevhash: &'a str,
    pub coinb1: &'a str,
    pub coinb2: &'a str,
    pub merkle_branch: &'a [&'a str],
    pub version: &'a str,
    pub nbits: &'a str,
    pub ntime: &'a str,
}

impl Job {
    /// Parses the hex parameters of a `mining.notify`. Integers are 8 hex digits,
    /// big-endian, as pools send them.
    pub fn from_notify(params: &NotifyParams<'_>) -> Result<Self, HexFieldError> {
        Ok(Self {
            job_id: params.job_id.to_owned(),
            prevhash: decode_array("prevhash", params.prevhash)?,
            coinb1: decode_bytes("coinb1", params.coinb1)?,
            coinb2: decode_bytes("coinb2", params.coinb2)?,
            merkle_branch: params
                .merkle_branch
                .iter()
                .map(|step| decode_array("merkle_branch", step))
                .collect::<Result<_, _>>()?,
            version: decode_u32_be("version", params.version)?,
            nbits: decode_u32_be("nbits", params.nbits)?,
            ntime: decode_u32_be("ntime", params.ntime)?,
        })
    }
}

/// The share-specific parameters of a `mining.submit` (worker name and job id are
/// the caller's business).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub extranonce2: Vec<u8>,
    pub ntime: u32,
    pub nonce: u32,
    /// BIP 310 version rolling: the rolled bits, present only when the miner rolls.
    pub version_bits: Option<u32>,
}

impl Submission {
    /// Parses the hex parameters of a `mining.submit`. `ntime`, `nonce` and
    /// `version_bits` must be exactly 8 hex digits, big-endian, as miners send them;
    /// anything else is refused rather than guessed at.
    pub fn from_stratum(
        extranonce2: &str,
        ntime: &str,
        nonce: &str,
        version_bits: Option<&str>,
    ) -> Result<Self, ShareReject> {
        Ok(Self {
            extranonce2: decode_bytes("extranonce2", extranonce2)?,
            ntime: decode_u32_be("ntime", ntime)?,
            nonce: decode_u32_be("nonce", nonce)?,
            version_bits: version_bits.map(|bits| decode_u32_be("version_bits", bits)).transpose()?,
        })
    }
}

/// A stratum parameter that is not hex of the expected length.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("parameter `{field}`: {source}")]
pub struct HexFieldError {
    pub field: &'static str,
    pub source: hex::FromHexError,
}

/// A share that met its target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShareOk {
    /// sha256d of the header; its `Display` is the usual reversed (explorer) hex.
    pub hash: BlockHash,
    pub achieved_difficulty: f64,
}

/// Why a share was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ShareReject {
    #[error("malformed submit: {0}")]
    Malformed(#[from] HexFieldError),
    #[error("job not found or no longer current")]
    StaleJob,
    #[error("duplicate share")]
    Duplicate,
    #[error("extranonce2 is {actual} bytes, expected {expected}")]
    BadExtranonce2Size { expected: usize, actual: usize },
    #[error("ntime {ntime:08x} is outside the window of the job's ntime {job_ntime:08x}")]
    NtimeOutOfRange { ntime: u32, job_ntime: u32 },
    #[error("version bits {version_bits:08x} fall outside the negotiated mask {mask:08x}")]
    VersionBitsOutsideMask { version_bits: u32, mask: u32 },
    #[error("share difficulty {achieved} is below the assigned {required}")]
    LowDifficulty { achieved: f64, required: f64 },
    #[error("worker not authorized")]
    Unauthorized,
    #[error("the worker name is not the serial of a unit this proof expects")]
    UnknownWorker,
    #[error("connection not subscribed")]
    NotSubscribed,
}

impl ShareReject {
    /// Stable snake_case name, used to count rejects by reason and in API bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_submission",
            Self::StaleJob => "stale_job",
            Self::Duplicate => "duplicate",
            Self::BadExtranonce2Size { .. } => "bad_extranonce2_size",
            Self::NtimeOutOfRange { .. } => "ntime_out_of_range",
            Self::VersionBitsOutsideMask { .. } => "version_bits_outside_mask",
            Self::LowDifficulty { .. } => "low_difficulty",
            Self::Unauthorized => "unauthorized",
            Self::UnknownWorker => "unknown_worker",
            Self::NotSubscribed => "not_subscribed",
        }
    }

    /// The Stratum V1 error number for the `mining.submit` error reply: 20 other,
    /// 21 job not found (stale), 22 duplicate, 23 low difficulty, 24 unauthorized,
    /// 25 not subscribed.
    pub fn stratum_error_code(&self) -> i32 {
        match self {
            Self::Malformed(_)
            | Self::BadExtranonce2Size { .. }
            | Self::NtimeOutOfRange { .. }
            | Self::VersionBitsOutsideMask { .. } => 20,
            Self::StaleJob => 21,
            Self::Duplicate => 22,
            Self::LowDifficulty { .. } => 23,
            Self::Unauthorized | Self::UnknownWorker => 24,
            Self::NotSubscribed => 25,
        }
    }
}

/// The coinbase transaction the miner hashed: `coinb1 | extranonce1 | extranonce2 | coinb2`.
pub fn coinbase(coinb1: &[u8], extranonce1: &[u8], extranonce2: &[u8], coinb2: &[u8]) -> Vec<u8> {
    [coinb1, extranonce1, extranonce2, coinb2].concat()
}

/// Folds the merkle branch onto the coinbase hash: `root = sha256d(root | step)`.
/// The coinbase is always the left-most leaf, so it is always the left operand.
/// Input and output are in raw (header) byte order.
pub fn merkle_root(coinbase_hash: [u8; 32], branch: &[[u8; 32]]) -> [u8; 32] {
    branch.iter().fold(coinbase_hash, |root, step| {
        let mut pair = [0u8; 64];
        pair[..32].copy_from_slice(&root);
        pair[32..].copy_from_slice(step);
        sha256d::Hash::hash(&pair).to_byte_array()
    })
}

/// The 80-byte header: `LE32(version) | wordswap(prevhash) | merkle root |
/// LE32(ntime) | LE32(nbits) | LE32(nonce)`. `version` is the effective version,
/// after any version rolling (see [`effective_version`]).
pub fn header_bytes(job: &Job, extranonce1: &[u8], submission: &Submission, version: u32) -> [u8; 80] {
    let coinbase = coinbase(&job.coinb1, extranonce1, &submission.extranonce2, &job.coinb2);
    let coinbase_hash = sha256d::Hash::hash(&coinbase).to_byte_array();
    let root = merkle_root(coinbase_hash, &job.merkle_branch);

    let mut header = [0u8; 80];
    header[0..4].copy_from_slice(&version.to_le_bytes());
    header[4..36].copy_from_slice(&word_swapped(job.prevhash));
    header[36..68].copy_from_slice(&root);
    header[68..72].copy_from_slice(&submission.ntime.to_le_bytes());
    header[72..76].copy_from_slice(&job.nbits.to_le_bytes());
    header[76..80].copy_from_slice(&submission.nonce.to_le_bytes());
    header
}

/// The version the miner hashed under BIP 310: the job's bits outside the mask, the
/// miner's bits inside it. A miner that does not roll (`None`) hashed the job's version.
pub fn effective_version(job_version: u32, version_bits: Option<u32>, mask: u32) -> Result<u32, ShareReject> {
    match version_bits {
        None => Ok(job_version),
        Some(bits) if bits & !mask != 0 => Err(ShareReject::VersionBitsOutsideMask { version_bits: bits, mask }),
        Some(bits) => Ok((job_version & !mask) | bits),
    }
}

/// Verifies one share against its job, given the connection's extranonce1, the
/// negotiated extranonce2 size and version-rolling mask, the assigned difficulty and
/// how far ntime may run ahead of the job (normally [`NTIME_MAX_AHEAD_SECS`]).
///
/// Cheap checks run before hashing so that garbage costs no sha256d.
pub fn verify_share(
    job: &Job,
    extranonce1: &[u8],
    extranonce2_size: usize,
    submission: &Submission,
    version_mask: u32,
    difficulty: Difficulty,
    ntime_max_ahead_secs: u32,
) -> Result<ShareOk, ShareReject> {
    check_extranonce2_size(submission, extranonce2_size)?;
    check_ntime(job, submission, ntime_max_ahead_secs)?;
    let version = effective_version(job.version, submission.version_bits, version_mask)?;

    // BlockHash is a sha256d newtype, so this is the header's proof-of-work hash.
    let hash = BlockHash::hash(&header_bytes(job, extranonce1, submission, version));
    let achieved = achieved_difficulty(hash);
    if share_target(difficulty).is_met_by(hash) {
        Ok(ShareOk { hash, achieved_difficulty: achieved })
    } else {
        Err(ShareReject::LowDifficulty { achieved, required: difficulty.value() })
    }
}

fn check_extranonce2_size(submission: &Submission, expected: usize) -> Result<(), ShareReject> {
    let actual = submission.extranonce2.len();
    if actual == expected {
        Ok(())
    } else {
        Err(ShareReject::BadExtranonce2Size { expected, actual })
    }
}

fn check_ntime(job: &Job, submission: &Submission, max_ahead_secs: u32) -> Result<(), ShareReject> {
    // Widened so a job near the end of u32 time cannot wrap the upper bound.
    let latest = u64::from(job.ntime) + u64::from(max_ahead_secs);
    if (u64::from(job.ntime)..=latest).contains(&u64::from(submission.ntime)) {
        Ok(())
    } else {
        Err(ShareReject::NtimeOutOfRange { ntime: submission.ntime, job_ntime: job.ntime })
    }
}

/// Stratum sends prevhash with each 4-byte word byte-reversed relative to the header;
/// reversing each word again gives the header's bytes.
fn word_swapped(mut prevhash: [u8; 32]) -> [u8; 32] {
    prevhash.chunks_exact_mut(4).for_each(<[u8]>::reverse);
    prevhash
}

fn decode_bytes(field: &'static str, hex_str: &str) -> Result<Vec<u8>, HexFieldError> {
    hex::decode(hex_str).map_err(|source| HexFieldError { field, source })
}

fn decode_array<const N: usize>(field: &'static str, hex_str: &str) -> Result<[u8; N], HexFieldError> {
    let mut bytes = [0u8; N];
    hex::decode_to_slice(hex_str, &mut bytes).map_err(|source| HexFieldError { field, source })?;
    Ok(bytes)
}

fn decode_u32_be(field: &'static str, hex_str: &str) -> Result<u32, HexFieldError> {
    decode_array(field, hex_str).map(u32::from_be_bytes)
}
