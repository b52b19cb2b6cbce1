//! Listing photos: uploaded straight to object storage through a presigned URL
//! (a real S3-compatible server here, and once the local backend), checked at
//! completion (present, declared size, real image bytes) and served through
//! short-lived signed URLs.

use serde_json::{json, Value};

use crate::support::listings::{create_listing, delete_as, get_as, id_of, ok_json, post_empty, publish, submit};
use crate::support::{assert_problem, spawn_app, TestApp};

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// `size` bytes that start like a PNG file (signature and IHDR chunk).
fn png(size: usize) -> Vec<u8> {
    let mut bytes = PNG_MAGIC.to_vec();
    bytes.extend_from_slice(b"\0\0\0\x0dIHDR\0\0\x01\0\0\0\x01\0\x08\x06\0\0\0");
    bytes.extend((0..).map(|i: u32| (i * 31 % 251) as u8).take(size - bytes.len()));
    bytes
}

fn gif(size: usize) -> Vec<u8> {
    let mut bytes = b"GIF89a\x01\0\x01\0".to_vec();
    bytes.resize(size, 0x2a);
    bytes
}

fn jpeg(size: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00];
    bytes.resize(size, 0x11);
    bytes
}

async fn start_upload(app: &TestApp, token: &str, listing: &str, body: Value) -> reqwest::Response {
    app.post_json(&format!("/v1/listings/{listing}/photos"), Some(token), &body).await
}

/// Starts a PNG upload of `size` bytes; returns `(photo_id, upload_url)`.
async fn new_photo(app: &TestApp, token: &str, listing: &str, size: usize) -> (String, String) {
    let response = start_upload(app, token, listing, json!({"content_type": "image/png", "size_bytes": size})).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    (body["photo_id"].as_str().unwrap().to_string(), body["upload_url"].as_str().unwrap().to_string())
}

async fn put(app: &TestApp, url: &str, content_type: &str, bytes: Vec<u8>) -> u16 {
    let response = app.client.put(url).header("content-type", content_type).body(bytes).send().await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(status, 200, "PUT {url}: {}", response.text().await.unwrap_or_default());
    status
}

async fn complete(app: &TestApp, token: &str, listing: &str, photo: &str) -> reqwest::Response {
    post_empty(app, &format!("/v1/listings/{listing}/photos/{photo}/complete"), Some(token)).await
}

async fn download(app: &TestApp, url: &str) -> (u16, Vec<u8>) {
    let response = app.client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

async fn photos_of(app: &TestApp, token: &str, listing: &str) -> Vec<Value> {
    let (status, body) = get_as(app, &format!("/v1/listings/{listing}"), Some(token)).await;
    assert_eq!(status, 200, "{body}");
    body["photos"].as_array().unwrap().clone()
}

/// The whole upload on whichever storage backend `app` runs; returns the signed
/// URL buyers get.
async fn upload_and_serve(app: &TestApp) -> String {
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let listing = id_of(&create_listing(app, &seller, json!({})).await);
    let bytes = png(4096);

    let response = start_upload(app, &seller, &listing, json!({"content_type": "image/png", "size_bytes": 4096})).await;
    assert_eq!(response.status(), 201);
    let started: Value = response.json().await.unwrap();
    let photo = started["photo_id"].as_str().unwrap().to_string();
    let upload_url = started["upload_url"].as_str().unwrap().to_string();
    let expires_at = chrono::DateTime::parse_from_rfc3339(started["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires_at, app.clock.now() + chrono::Duration::minutes(15));
    assert!(photos_of(app, &seller, &listing).await.is_empty(), "a photo shows only once completed");

    put(app, &upload_url, "image/png", bytes.clone()).await;
    let listing_json = ok_json(complete(app, &seller, &listing, &photo).await).await;
    let photos = listing_json["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 1, "{listing_json}");
    assert_eq!(photos[0]["id"], photo.as_str());
    assert_eq!(photos[0]["content_type"], "image/png");
    assert_eq!(photos[0]["size_bytes"], 4096);
    let (status, downloaded) = download(app, photos[0]["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(downloaded, bytes, "the signed URL serves the uploaded bytes");

    // Completing twice attaches once.
    let again = ok_json(complete(app, &seller, &listing, &photo).await).await;
    assert_eq!(again["photos"].as_array().unwrap().len(), 1);

    // Buyers see it once the listing is live.
    publish(app, &seller, &admin, &listing).await;
    let (_, public) = get_as(app, &format!("/v1/listings/{listing}"), None).await;
    let url = public["photos"][0]["url"].as_str().expect("a signed URL for everyone").to_string();
    assert_eq!(download(app, &url).await, (200, bytes));
    url
}

#[tokio::test]
async fn a_photo_goes_to_s3_through_a_presigned_url_and_comes_back_signed() {
    let app = TestApp::builder().with_s3().spawn().await;
    assert_eq!(app.state.storage.describe(), "s3");
    let (_, seller) = app.create_user("probe@rigmarket.test", &[]).await;
    let probe = id_of(&create_listing(&app, &seller, json!({})).await);
    let (_, upload_url) = new_photo(&app, &seller, &probe, 10).await;
    assert!(!upload_url.starts_with(&app.address), "the bytes go to S3, not through the API: {upload_url}");
    assert!(upload_url.contains("X-Amz-Signature="), "{upload_url}");
    assert!(upload_url.contains("X-Amz-Expires=900"), "upload URLs live 15 minutes: {upload_url}");
    let served = upload_and_serve(&app).await;
    assert!(served.contains("X-Amz-Expires=900"), "photo URLs live 15 minutes: {served}");
}

#[tokio::test]
async fn the_local_storage_backend_runs_the_same_upload() {
    let app = spawn_app().await;
    assert_eq!(app.state.storage.describe(), "local");
    let served = upload_and_serve(&app).await;
    assert!(served.starts_with(&app.url("/storage/listings/")), "{served}");
}

#[tokio::test]
async fn completion_refuses_missing_mistyped_and_missized_uploads() {
    let app = TestApp::builder().with_s3().spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let listing = id_of(&create_listing(&app, &seller, json!({})).await);

    // Nothing uploaded yet.
    let (missing, url) = new_photo(&app, &seller, &listing, 2000).await;
    assert_problem(complete(&app, &seller, &listing, &missing).await, 422, "upload_missing").await;

    // Declared PNG, really a GIF or a JPEG: refused, and the object is removed.
    for (name, bytes) in [("gif", gif(2000)), ("jpeg", jpeg(2000))] {
        let (photo, photo_url) = new_photo(&app, &seller, &listing, 2000).await;
        put(&app, &photo_url, "image/png", bytes).await;
        let body = assert_problem(complete(&app, &seller, &listing, &photo).await, 422, "upload_type_mismatch").await;
        assert!(body["detail"].as_str().unwrap().contains("image/png"), "{name}: {body}");
        assert_problem(complete(&app, &seller, &listing, &photo).await, 422, "upload_missing").await;
    }

    // More or fewer bytes than declared.
    for actual in [3000, 1000, 2001] {
        let (photo, photo_url) = new_photo(&app, &seller, &listing, 2000).await;
        put(&app, &photo_url, "image/png", png(actual)).await;
        let body = assert_problem(complete(&app, &seller, &listing, &photo).await, 422, "upload_size_mismatch").await;
        assert!(body["detail"].as_str().unwrap().contains(&actual.to_string()), "{body}");
    }
    assert!(photos_of(&app, &seller, &listing).await.is_empty(), "no refused upload was attached");

    // The first photo can still be finished once its bytes arrive.
    put(&app, &url, "image/png", png(2000)).await;
    let attached = ok_json(complete(&app, &seller, &listing, &missing).await).await;
    assert_eq!(attached["photos"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn photo_requests_outside_the_limits_are_refused_up_front() {
    let app = TestApp::builder().with_s3().spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let (_, other) = app.create_user("other@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let listing = id_of(&create_listing(&app, &seller, json!({})).await);

    let ten_mb = 10 * 1024 * 1024;
    for size in [ten_mb + 1, 0, -5] {
        let response =
            start_upload(&app, &seller, &listing, json!({"content_type": "image/png", "size_bytes": size})).await;
        let body = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "size_bytes", "{body}");
    }
    for content_type in ["image/gif", "image/svg+xml", "application/pdf"] {
        let response =
            start_upload(&app, &seller, &listing, json!({"content_type": content_type, "size_bytes": 100})).await;
        assert_problem(response, 422, "invalid_body").await;
    }
    let bad_hash = json!({"content_type": "image/jpeg", "size_bytes": 100, "sha256": "abc"});
    assert_problem(start_upload(&app, &seller, &listing, bad_hash).await, 422, "validation_failed").await;
    let at_limit = json!({"content_type": "image/webp", "size_bytes": ten_mb});
    assert_eq!(start_upload(&app, &seller, &listing, at_limit).await.status(), 201, "exactly 10 MB is allowed");

    // Someone else's listing: hidden while a draft, forbidden once public.
    let png_body = json!({"content_type": "image/png", "size_bytes": 100});
    assert_problem(start_upload(&app, &other, &listing, png_body.clone()).await, 404, "listing_not_found").await;
    let (photo, url) = new_photo(&app, &seller, &listing, 100).await;
    put(&app, &url, "image/png", png(100)).await;
    assert_problem(complete(&app, &other, &listing, &photo).await, 404, "listing_not_found").await;
    publish(&app, &seller, &admin, &listing).await;
    assert_problem(start_upload(&app, &other, &listing, png_body.clone()).await, 403, "not_listing_owner").await;
    assert_problem(start_upload(&app, &seller, &listing, json!({})).await, 422, "invalid_body").await;
    let unknown = uuid::Uuid::new_v4();
    assert_problem(complete(&app, &seller, &listing, &unknown.to_string()).await, 404, "photo_not_found").await;
}

#[tokio::test]
async fn a_draft_photo_can_be_deleted_and_a_live_listings_photos_stay() {
    let app = TestApp::builder().with_s3().spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let (_, other) = app.create_user("other@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let listing = id_of(&create_listing(&app, &seller, json!({})).await);

    let (doomed, url) = new_photo(&app, &seller, &listing, 1500).await;
    put(&app, &url, "image/png", png(1500)).await;
    let with_photo = ok_json(complete(&app, &seller, &listing, &doomed).await).await;
    let signed = with_photo["photos"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(download(&app, &signed).await.0, 200);

    let photo_path = format!("/v1/listings/{listing}/photos/{doomed}");
    assert_problem(delete_as(&app, &photo_path, &other).await, 404, "listing_not_found").await;
    let deleted = delete_as(&app, &photo_path, &seller).await;
    assert_eq!(deleted.status(), 204);
    assert!(photos_of(&app, &seller, &listing).await.is_empty());
    assert_eq!(download(&app, &signed).await.0, 404, "the object is gone from storage");
    assert_problem(delete_as(&app, &photo_path, &seller).await, 404, "photo_not_found").await;

    let (kept, url) = new_photo(&app, &seller, &listing, 1500).await;
    put(&app, &url, "image/png", png(1500)).await;
    ok_json(complete(&app, &seller, &listing, &kept).await).await;
    submit(&app, &seller, &listing).await;
    let pending = delete_as(&app, &format!("/v1/listings/{listing}/photos/{kept}"), &seller).await;
    assert_problem(pending, 409, "invalid_listing_status").await;
    publish_pending(&app, &admin, &listing).await;
    let live = delete_as(&app, &format!("/v1/listings/{listing}/photos/{kept}"), &seller).await;
    assert_problem(live, 409, "invalid_listing_status").await;
    let photos = photos_of(&app, &seller, &listing).await;
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0]["id"], kept.as_str());
}

async fn publish_pending(app: &TestApp, admin: &str, listing: &str) {
    let approved = ok_json(post_empty(app, &format!("/v1/admin/listings/{listing}/approve"), Some(admin)).await).await;
    assert_eq!(approved["status"], "active");
}

#[tokio::test]
async fn a_listing_takes_at_most_thirty_photos() {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let listing = id_of(&create_listing(&app, &seller, json!({})).await);
    let mut photos = Vec::new();
    for _ in 0..30 {
        photos.push(new_photo(&app, &seller, &listing, 100).await.0);
    }
    let body = json!({"content_type": "image/png", "size_bytes": 100});
    assert_problem(start_upload(&app, &seller, &listing, body.clone()).await, 409, "too_many_photos").await;
    // Deleting one makes room for another.
    let deleted = delete_as(&app, &format!("/v1/listings/{listing}/photos/{}", photos[0]), &seller).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(start_upload(&app, &seller, &listing, body).await.status(), 201);
}
