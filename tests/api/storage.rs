//! Object storage through presigned URLs, against a real S3-compatible server
//! (SigV4 enforced) and against the local backend's own signed routes.

use std::time::Duration;

use rigmarket::storage::ObjectMeta;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

use crate::support::{assert_problem, spawn_app, TestApp};

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const FIVE_MINUTES: Duration = Duration::from_secs(300);

fn png_bytes() -> Vec<u8> {
    let mut bytes = PNG_MAGIC.to_vec();
    bytes.extend((0..2000u32).map(|i| (i * 7 % 251) as u8));
    bytes
}

fn photo_key() -> String {
    format!("listings/{}/photos/main.png", uuid::Uuid::new_v4().simple())
}

/// The URL with one character of the value of `param` changed.
fn tamper(url: &Url, param: &str) -> Url {
    let mut tampered = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let mut v = v.into_owned();
            if k == param {
                let last = v.pop().expect("a non-empty value");
                v.push(if last == '0' { '1' } else { '0' });
            }
            (k.into_owned(), v)
        })
        .collect();
    assert!(pairs.iter().any(|(k, _)| k == param), "{url} has no {param}");
    tampered.query_pairs_mut().clear().extend_pairs(pairs);
    tampered
}

async fn put(app: &TestApp, url: &Url, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    app.client.put(url.as_str()).header("content-type", content_type).body(body).send().await.unwrap()
}

#[tokio::test]
async fn s3_presigned_urls_upload_and_download_and_refuse_tampering_and_expiry() {
    let app = TestApp::builder().with_s3().spawn().await;
    let storage = &app.state.storage;
    assert_eq!(storage.describe(), "s3");
    let key = photo_key();
    let bytes = png_bytes();

    let put_url = storage.presign_put(&key, "image/png", FIVE_MINUTES).await.unwrap();
    let tampered = put(&app, &tamper(&put_url, "X-Amz-Signature"), "image/png", bytes.clone()).await;
    assert_eq!(tampered.status(), 403, "{}", tampered.text().await.unwrap());
    assert_eq!(storage.head(&key).await.unwrap(), None, "a refused upload stored nothing");

    let response = put(&app, &put_url, "image/png", bytes.clone()).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(
        storage.head(&key).await.unwrap(),
        Some(ObjectMeta { size: bytes.len() as u64, content_type: Some("image/png".into()) })
    );
    assert_eq!(storage.read_prefix(&key, 8).await.unwrap(), PNG_MAGIC);

    let get_url = storage.presign_get(&key, FIVE_MINUTES).await.unwrap();
    let download = app.client.get(get_url.as_str()).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let tampered_get = app.client.get(tamper(&get_url, "X-Amz-Signature").as_str()).send().await.unwrap();
    assert_eq!(tampered_get.status(), 403);

    let other_key = photo_key();
    let short_lived = storage.presign_put(&other_key, "image/png", Duration::from_secs(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = put(&app, &short_lived, "image/png", bytes.clone()).await;
    assert_eq!(expired.status(), 403, "an expired presigned URL was accepted");
    assert_eq!(storage.head(&other_key).await.unwrap(), None);

    assert_eq!(storage.head("listings/missing/photos/none.png").await.unwrap(), None);
    storage.delete(&key).await.unwrap();
    assert_eq!(storage.head(&key).await.unwrap(), None);
    storage.delete(&key).await.expect("deleting a missing object is not an error");
}

/// Sends a request with this exact path (no client-side `..` normalisation) and
/// returns the status code and body.
async fn raw_request(app: &TestApp, method: &str, path_and_query: &str) -> (u16, String) {
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: {host}\r\nContent-Type: image/png\r\n\
         Content-Length: 5\r\nConnection: close\r\n\r\nhello"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    (status, response)
}

#[tokio::test]
async fn local_signed_routes_upload_and_download_and_refuse_bad_signatures_paths_and_types() {
    let app = spawn_app().await;
    let storage = &app.state.storage;
    assert_eq!(storage.describe(), "local");
    let key = photo_key();
    let bytes = png_bytes();

    let put_url = storage.presign_put(&key, "image/png", FIVE_MINUTES).await.unwrap();
    assert!(put_url.as_str().starts_with(&app.url(&format!("/storage/{key}?"))), "{put_url}");

    let tampered = put(&app, &tamper(&put_url, "sig"), "image/png", bytes.clone()).await;
    assert_problem(tampered, 403, "signature_invalid").await;
    let wrong_type = put(&app, &put_url, "image/jpeg", bytes.clone()).await;
    assert_problem(wrong_type, 403, "signature_invalid").await;
    assert_eq!(storage.head(&key).await.unwrap(), None, "a refused upload stored nothing");

    let response = put(&app, &put_url, "image/png", bytes.clone()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        storage.head(&key).await.unwrap(),
        Some(ObjectMeta { size: bytes.len() as u64, content_type: Some("image/png".into()) })
    );
    assert_eq!(storage.read_prefix(&key, 8).await.unwrap(), PNG_MAGIC);

    let get_url = storage.presign_get(&key, FIVE_MINUTES).await.unwrap();
    let download = app.client.get(get_url.as_str()).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let tampered_get = app.client.get(tamper(&get_url, "sig").as_str()).send().await.unwrap();
    assert_problem(tampered_get, 403, "signature_invalid").await;
    let put_url_for_get = app.client.get(put_url.as_str()).send().await.unwrap();
    assert_problem(put_url_for_get, 403, "signature_invalid").await;

    let short_lived = storage.presign_get(&key, Duration::from_secs(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_problem(app.client.get(short_lived.as_str()).send().await.unwrap(), 403, "signature_expired").await;

    storage.delete(&key).await.unwrap();
    assert_eq!(storage.head(&key).await.unwrap(), None);
    let gone = app.client.get(storage.presign_get(&key, FIVE_MINUTES).await.unwrap().as_str()).send().await.unwrap();
    assert_problem(gone, 404, "object_not_found").await;
}

#[tokio::test]
async fn local_routes_refuse_keys_that_climb_out_of_the_storage_directory() {
    let app = spawn_app().await;
    let rigmarket::config::StorageConfig::Local { dir } = &app.state.config.storage else {
        panic!("the default storage is a local directory");
    };
    let outside = dir.parent().expect("the storage dir has a parent");
    std::fs::write(outside.join("secret.txt"), "not for download").unwrap();
    let store = app.state.storage.local().expect("the local backend");
    // Validly signed, so only the key check stands between the request and the file.
    let query = |method: &str, key: &str, content_type: &str| {
        store.signed_url(method, key, content_type, FIVE_MINUTES).query().expect("a signed query").to_string()
    };

    for (path, key) in [
        ("/storage/../secret.txt", "../secret.txt"),
        ("/storage/listings/../../secret.txt", "listings/../../secret.txt"),
        ("/storage/%2e%2e/secret.txt", "../secret.txt"),
    ] {
        let (status, response) = raw_request(&app, "GET", &format!("{path}?{}", query("GET", key, ""))).await;
        assert_eq!(status, 404, "GET {path}: {response}");
        assert!(response.contains(r#""code":"object_not_found""#), "GET {path}: {response}");
        assert!(!response.contains("not for download"), "GET {path} served a file outside storage: {response}");

        let planted = key.replace("secret", "planted");
        let put_path = path.replace("secret", "planted");
        let (status, response) =
            raw_request(&app, "PUT", &format!("{put_path}?{}", query("PUT", &planted, "image/png"))).await;
        assert_eq!(status, 404, "PUT {put_path}: {response}");
        assert!(response.contains(r#""code":"object_not_found""#), "PUT {put_path}: {response}");
        assert!(!outside.join("planted.txt").exists(), "PUT {put_path} wrote outside storage");
    }
}
