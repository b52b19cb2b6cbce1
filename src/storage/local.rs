//! The local-directory backend (its routes are in `routes.rs`). URLs are signed with
//! HMAC-SHA256 over method, key, expiry and (for PUT) content type, mirroring what
//! a presigned S3 URL guarantees, so clients use one upload flow for both backends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::io::AsyncReadExt;
use url::Url;

use super::object::ObjectMeta;
use crate::error::ApiError;

/// Largest object the local backend accepts; the capability that completes an
/// upload applies its own, smaller limit.
pub(super) const MAX_OBJECT_BYTES: usize = 50 * 1024 * 1024;

pub struct LocalStore {
    dir: PathBuf,
    public_url: Url,
    signing_key: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct SidecarMeta {
    content_type: String,
}

#[derive(Deserialize)]
pub struct SignedQuery {
    expires: i64,
    sig: String,
}

impl LocalStore {
    pub fn new(dir: PathBuf, public_url: Url, secret: &SecretString) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating storage directory {}", dir.display()))?;
        // A key distinct from the JWT key, derived from the same secret.
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).context("storage key")?;
        mac.update(b"rigmarket local storage url signing");
        Ok(Self { dir, public_url, signing_key: mac.finalize().into_bytes().to_vec() })
    }

    /// The MAC over what a URL grants: method, key, expiry and content type.
    fn mac(&self, method: &str, key: &str, expires: i64, content_type: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.signing_key).expect("HMAC takes any key length");
        mac.update(format!("{method}\n{key}\n{expires}\n{content_type}").as_bytes());
        mac
    }

    pub(super) fn verify(
        &self,
        method: &str,
        key: &str,
        query: &SignedQuery,
        content_type: &str,
    ) -> Result<(), ApiError> {
        let given = hex::decode(&query.sig).map_err(|_| signature_error())?;
        // verify_slice compares in constant time.
        self.mac(method, key, query.expires, content_type).verify_slice(&given).map_err(|_| signature_error())?;
        if query.expires < chrono::Utc::now().timestamp() {
            return Err(ApiError::forbidden("signature_expired", "This URL has expired."));
        }
        Ok(())
    }

    pub fn signed_url(&self, method: &str, key: &str, content_type: &str, expires: Duration) -> Url {
        let expires_at = chrono::Utc::now().timestamp() + expires.as_secs() as i64;
        let mut url = self.public_url.clone();
        url.set_path(&format!("/storage/{key}"));
        url.query_pairs_mut()
            .append_pair("expires", &expires_at.to_string())
            .append_pair("sig", &hex::encode(self.mac(method, key, expires_at, content_type).finalize().into_bytes()));
        url
    }

    pub(super) fn path(&self, key: &str) -> PathBuf {
        self.dir.join(key)
    }

    fn meta_path(path: &Path) -> PathBuf {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".meta.json");
        path.with_file_name(name)
    }

    pub async fn head(&self, key: &str) -> anyhow::Result<Option<ObjectMeta>> {
        let path = self.path(key);
        let size = match tokio::fs::metadata(&path).await {
            Ok(meta) => meta.len(),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let content_type = tokio::fs::read(Self::meta_path(&path))
            .await
            .ok()
            .and_then(|raw| serde_json::from_slice::<SidecarMeta>(&raw).ok())
            .map(|meta| meta.content_type);
        Ok(Some(ObjectMeta { size, content_type }))
    }

    pub async fn read_prefix(&self, key: &str, len: u64) -> anyhow::Result<Vec<u8>> {
        let file = tokio::fs::File::open(self.path(key)).await?;
        let mut buf = Vec::new();
        file.take(len).read_to_end(&mut buf).await?;
        Ok(buf)
    }

    pub async fn write(&self, key: &str, bytes: &[u8], content_type: &str) -> anyhow::Result<()> {
        let path = self.path(key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Write to a temporary name first so a reader never sees half an object.
        let tmp = path.with_extension(format!("partial-{}", uuid::Uuid::new_v4()));
        tokio::fs::write(&tmp, bytes).await?;
        let meta = serde_json::to_vec(&SidecarMeta { content_type: content_type.to_string() })?;
        tokio::fs::write(Self::meta_path(&path), meta).await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let path = self.path(key);
        for target in [Self::meta_path(&path), path] {
            match tokio::fs::remove_file(&target).await {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }
}

fn signature_error() -> ApiError {
    ApiError::forbidden("signature_invalid", "The URL signature does not match.")
}
