//! Opaque secrets handed to clients (refresh tokens, email links, API keys):
//! 256 random bits, shown once, stored only as a SHA-256 digest. A fast hash is
//! enough here because the input is random, unlike a password.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub struct IssuedSecret {
    /// What the client receives.
    pub plaintext: String,
    /// What the database stores.
    pub digest: Vec<u8>,
}

pub fn digest(plaintext: &str) -> Vec<u8> {
    Sha256::digest(plaintext.as_bytes()).to_vec()
}

fn random_part() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A secret with a recognisable prefix (`rmr_` refresh, `rmk_` API key), which
/// lets secret scanners spot leaked ones.
pub fn issue(prefix: &str) -> IssuedSecret {
    let plaintext = format!("{prefix}{}", random_part());
    IssuedSecret { digest: digest(&plaintext), plaintext }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_prefixed_and_stored_as_digests() {
        let a = issue("rmr_");
        let b = issue("rmr_");
        assert!(a.plaintext.starts_with("rmr_") && a.plaintext.len() == 4 + 43);
        assert_ne!(a.plaintext, b.plaintext);
        assert_eq!(a.digest, digest(&a.plaintext));
        assert_eq!(a.digest.len(), 32);
    }
}
