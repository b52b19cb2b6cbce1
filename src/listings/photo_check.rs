//! What an uploaded photo must be: JPEG, PNG or WebP by its first bytes (not by
//! what the client claims), at most 10 MB.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const MAX_PHOTO_BYTES: i64 = 10 * 1024 * 1024;
pub const MAX_PHOTOS_PER_LISTING: i64 = 30;
/// Enough bytes to recognise any accepted format.
pub const MAGIC_LEN: u64 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum PhotoType {
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/webp")]
    Webp,
}

impl PhotoType {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
        }
    }

    pub fn from_mime(mime: &str) -> Option<Self> {
        [Self::Jpeg, Self::Png, Self::Webp].into_iter().find(|t| t.mime() == mime)
    }

    /// The format the bytes actually are.
    pub fn sniff(prefix: &[u8]) -> Option<Self> {
        if prefix.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if prefix.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(Self::Png)
        } else if prefix.len() >= 12 && &prefix[0..4] == b"RIFF" && &prefix[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_their_bytes() {
        assert_eq!(PhotoType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(PhotoType::Jpeg));
        assert_eq!(PhotoType::sniff(b"\x89PNG\r\n\x1a\n...."), Some(PhotoType::Png));
        assert_eq!(PhotoType::sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(PhotoType::Webp));
        assert_eq!(PhotoType::sniff(b"GIF89a......"), None);
        assert_eq!(PhotoType::sniff(b"RIFF\x10\0\0\0WAVE"), None);
        assert_eq!(PhotoType::sniff(b""), None);
    }
}
