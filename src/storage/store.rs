//! `ObjectStore`: one interface over S3 (rust-s3, SigV4 presigned URLs) or the
//! local directory.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use s3::creds::Credentials;
use s3::error::S3Error;
use s3::{Bucket, BucketConfiguration, Region};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::local::LocalStore;
use super::object::{is_valid_key, ObjectMeta};
use crate::config::StorageConfig;

#[derive(Clone)]
pub struct ObjectStore {
    backend: Arc<Backend>,
}

enum Backend {
    S3(Box<Bucket>),
    Local(LocalStore),
}

impl ObjectStore {
    /// Builds the configured backend; for S3, creates the bucket when it is missing.
    pub async fn from_config(
        config: &StorageConfig,
        public_url: &Url,
        signing_secret: &SecretString,
    ) -> anyhow::Result<Self> {
        let backend = match config {
            StorageConfig::S3(s3) => {
                let region = Region::Custom {
                    region: s3.region.clone(),
                    endpoint: s3.endpoint.as_str().trim_end_matches('/').to_string(),
                };
                let credentials =
                    Credentials::new(Some(&s3.access_key), Some(s3.secret_key.expose_secret()), None, None, None)
                        .context("S3 credentials")?;
                let bucket = Bucket::new(&s3.bucket, region.clone(), credentials.clone())
                    .context("S3 bucket")?
                    .with_path_style();
                // Create-and-tolerate-409 rather than listing buckets: it needs one
                // request and no ListAllMyBuckets permission, and works the same on
                // AWS, MinIO and s3s.
                match Bucket::create_with_path_style(&s3.bucket, region, credentials, BucketConfiguration::default())
                    .await
                {
                    Ok(_) => tracing::info!(s3.bucket = %s3.bucket, "created bucket"),
                    Err(S3Error::HttpFailWithBody(409, _)) => {}
                    Err(err) => {
                        tracing::warn!(s3.bucket = %s3.bucket, error = %err, "could not create the bucket; assuming it exists")
                    }
                }
                Backend::S3(bucket)
            }
            StorageConfig::Local { dir } => {
                Backend::Local(LocalStore::new(dir.clone(), public_url.clone(), signing_secret)?)
            }
        };
        Ok(Self { backend: Arc::new(backend) })
    }

    pub fn describe(&self) -> &'static str {
        match *self.backend {
            Backend::S3(_) => "s3",
            Backend::Local(_) => "local",
        }
    }

    pub fn local(&self) -> Option<&LocalStore> {
        match &*self.backend {
            Backend::Local(store) => Some(store),
            Backend::S3(_) => None,
        }
    }

    /// A URL the client PUTs the object to, with `Content-Type: content_type`.
    pub async fn presign_put(&self, key: &str, content_type: &str, expires: Duration) -> anyhow::Result<Url> {
        anyhow::ensure!(is_valid_key(key), "invalid object key");
        let raw = match &*self.backend {
            Backend::S3(bucket) => {
                let mut headers = http::HeaderMap::new();
                headers.insert(http::header::CONTENT_TYPE, content_type.parse()?);
                bucket.presign_put(key, expiry_secs(expires), Some(headers), None).await.context("presigning PUT")?
            }
            Backend::Local(store) => store.signed_url("PUT", key, content_type, expires).to_string(),
        };
        Ok(Url::parse(&raw)?)
    }

    pub async fn presign_get(&self, key: &str, expires: Duration) -> anyhow::Result<Url> {
        anyhow::ensure!(is_valid_key(key), "invalid object key");
        let raw = match &*self.backend {
            Backend::S3(bucket) => {
                bucket.presign_get(key, expiry_secs(expires), None).await.context("presigning GET")?
            }
            Backend::Local(store) => store.signed_url("GET", key, "", expires).to_string(),
        };
        Ok(Url::parse(&raw)?)
    }

    /// Size and type of a stored object, or `None` when it does not exist.
    pub async fn head(&self, key: &str) -> anyhow::Result<Option<ObjectMeta>> {
        match &*self.backend {
            Backend::S3(bucket) => match bucket.head_object(key).await {
                Ok((head, _)) => Ok(Some(ObjectMeta {
                    size: head.content_length.unwrap_or(0).max(0) as u64,
                    content_type: head.content_type,
                })),
                Err(err) if is_not_found(&err) => Ok(None),
                Err(err) => Err(err).context("HEAD object"),
            },
            Backend::Local(store) => store.head(key).await,
        }
    }

    /// The first `len` bytes of an object (to check magic bytes without
    /// downloading it all).
    pub async fn read_prefix(&self, key: &str, len: u64) -> anyhow::Result<Vec<u8>> {
        match &*self.backend {
            Backend::S3(bucket) => Ok(bucket
                .get_object_range(key, 0, Some(len.saturating_sub(1)))
                .await
                .context("GET object range")?
                .to_vec()),
            Backend::Local(store) => store.read_prefix(key, len).await,
        }
    }

    /// Stores a server-generated object.
    pub async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> anyhow::Result<()> {
        anyhow::ensure!(is_valid_key(key), "invalid object key");
        match &*self.backend {
            Backend::S3(bucket) => {
                bucket.put_object_with_content_type(key, bytes, content_type).await.context("PUT object")?;
                Ok(())
            }
            Backend::Local(store) => store.write(key, bytes, content_type).await,
        }
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match &*self.backend {
            Backend::S3(bucket) => match bucket.delete_object(key).await {
                Ok(_) => Ok(()),
                Err(err) if is_not_found(&err) => Ok(()),
                Err(err) => Err(err).context("DELETE object"),
            },
            Backend::Local(store) => store.delete(key).await,
        }
    }
}

fn expiry_secs(expires: Duration) -> u32 {
    // S3 allows presigned URLs of at most 7 days.
    expires.as_secs().clamp(1, 7 * 24 * 3600) as u32
}

fn is_not_found(err: &S3Error) -> bool {
    matches!(err, S3Error::HttpFailWithBody(404, _))
}
