//! Password policy and hashing: argon2id with OWASP's recommended parameters
//! (19 MiB, 2 iterations, 1 lane). Hashing and verifying take tens of
//! milliseconds of CPU, so they run on the blocking pool, never on the async
//! runtime's threads.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::error::ApiError;
use crate::validation::Problems;

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 128;

/// OWASP Password Storage Cheat Sheet, argon2id option 2: m=19 MiB, t=2, p=1.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks the policy; `field` names the JSON field in the error.
pub fn check_policy(problems: &mut Problems, field: &str, password: &str, email: &str) {
    let length = password.chars().count();
    let message = if length < MIN_LEN {
        Some(format!("must be at least {MIN_LEN} characters"))
    } else if length > MAX_LEN {
        Some(format!("must be at most {MAX_LEN} characters"))
    } else if password.trim().eq_ignore_ascii_case(email.trim()) {
        Some("must not be your email address".to_string())
    } else {
        None
    };
    if let Some(message) = message {
        problems.add(field, message);
    }
}

/// The policy alone, for a request whose only field is the password.
pub fn require_policy(field: &str, password: &str, email: &str) -> Result<(), ApiError> {
    let mut problems = Problems::default();
    check_policy(&mut problems, field, password, email);
    problems.into_result()
}

/// A real argon2id hash of a random password, verified against when a login
/// names an unknown email so that it costs the same time as a wrong password.
/// Made once per process at start-up.
#[derive(Clone)]
pub struct DummyHash(std::sync::Arc<str>);

impl DummyHash {
    pub async fn generate() -> anyhow::Result<Self> {
        let hash =
            tokio::task::spawn_blocking(|| hash_blocking(&super::secret_token::issue("dummy-").plaintext)).await??;
        Ok(Self(hash.into()))
    }

    pub fn phc(&self) -> String {
        self.0.to_string()
    }
}

pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    Ok(hasher().hash_password(password.as_bytes()).map_err(|e| anyhow::anyhow!("argon2: {e}"))?.to_string())
}

pub fn verify_blocking(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| hasher().verify_password(password.as_bytes(), &hash).is_ok())
}

pub async fn hash(password: SecretString) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_blocking(password.expose_secret()))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(ApiError::Internal)
}

/// Verifies against `phc`, or against `dummy_hash` when there is no account, so an
/// unknown email costs exactly as much time as a wrong password.
pub async fn verify(password: SecretString, phc: Option<String>, dummy_hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let known = phc.is_some();
        let matches = verify_blocking(password.expose_secret(), phc.as_deref().unwrap_or(&dummy_hash));
        known && matches
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let first = hash_blocking("correct horse battery").unwrap();
        let second = hash_blocking("correct horse battery").unwrap();
        assert!(first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{first}");
        assert_ne!(first, second, "a fresh salt every time");
        assert!(verify_blocking("correct horse battery", &first));
        assert!(!verify_blocking("correct horse batterY", &first));
        assert!(!verify_blocking("anything", "not a phc string"));
    }

    #[test]
    fn policy_rejects_short_long_and_email_passwords() {
        assert!(require_policy("password", "short", "a@b.c").is_err());
        assert!(require_policy("password", &"x".repeat(129), "a@b.c").is_err());
        assert!(require_policy("password", "Miner@Example.com", "miner@example.com").is_err());
        assert!(require_policy("password", "ten chars!", "a@b.c").is_ok());
    }
}
