//! Endpoint signing secrets: `whsec_` + base64 of 32 random bytes (Standard
//! Webhooks), shown once and stored sealed with AES-256-GCM under the key of
//! `RIGMARKET_WEBHOOK_SECRET_KEY`.
//!
//! Without that variable the key is derived from the JWT secret (SHA-256 with a
//! label): good enough for development and tests, which then need no extra
//! setting, and never a key committed anywhere; but rotating the JWT secret
//! would then make every stored webhook secret unreadable, so production sets
//! its own key (`serve` logs a warning when it does not).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::config::Config;

pub const SECRET_PREFIX: &str = "whsec_";
const SECRET_BYTES: usize = 32;

/// A signing secret in its wire form (`whsec_...`).
pub fn generate() -> SecretString {
    let bytes: [u8; SECRET_BYTES] = rand::random();
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)).into()
}

/// The HMAC key a `whsec_` secret stands for.
pub fn key_bytes(secret: &str) -> anyhow::Result<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    Ok(STANDARD.decode(encoded)?)
}

/// Seals and opens secrets with the deployment's key.
#[derive(Clone)]
pub struct Sealer {
    key: [u8; 32],
}

impl Sealer {
    pub fn from_config(config: &Config) -> Self {
        let key = match &config.webhooks.secret_key {
            Some(key) => key.0,
            None => {
                let mut hasher = Sha256::new();
                hasher.update(b"rigmarket webhook secret key v1\0");
                hasher.update(config.jwt_secret.expose_secret().as_bytes());
                hasher.finalize().into()
            }
        };
        Self { key }
    }

    fn cipher(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.key).expect("a 32-byte AES key"))
    }

    /// The nonce followed by the ciphertext and its tag.
    pub fn seal(&self, secret: &SecretString) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let mut sealed = secret.expose_secret().as_bytes().to_vec();
        self.cipher()
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::empty(), &mut sealed)
            .expect("sealing a short secret");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, sealed: &[u8]) -> anyhow::Result<SecretString> {
        anyhow::ensure!(sealed.len() > NONCE_LEN, "a sealed secret is too short");
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let mut buffer = ciphertext.to_vec();
        let plain = self.cipher().open_in_place(nonce, Aad::empty(), &mut buffer).map_err(|_| {
            anyhow::anyhow!("a webhook secret does not open with this key (RIGMARKET_WEBHOOK_SECRET_KEY changed?)")
        })?;
        Ok(String::from_utf8(plain.to_vec())?.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> Sealer {
        Sealer { key: [byte; 32] }
    }

    #[test]
    fn secrets_are_whsec_base64_of_32_bytes_and_differ() {
        let a = generate();
        assert!(a.expose_secret().starts_with("whsec_"));
        assert_eq!(key_bytes(a.expose_secret()).unwrap().len(), 32);
        assert_ne!(a.expose_secret(), generate().expose_secret());
    }

    #[test]
    fn sealed_secrets_open_with_the_same_key_only() {
        let secret = generate();
        let sealed = sealer(1).seal(&secret);
        assert!(!sealed.windows(6).any(|w| w == b"whsec_"), "the secret is not stored in clear");
        assert_eq!(sealer(1).open(&sealed).unwrap().expose_secret(), secret.expose_secret());
        assert!(sealer(2).open(&sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(sealer(1).open(&tampered).is_err());
        assert_ne!(sealer(1).seal(&secret), sealed, "a fresh nonce every time");
    }
}
