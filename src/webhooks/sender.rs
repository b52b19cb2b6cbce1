//! One HTTP attempt: resolve and check the host (`address`), connect only to
//! the checked addresses, POST the signed body, never follow a redirect, give
//! up after 15 s, and keep at most 64 KB of the answer.

use std::time::{Duration, Instant};

use url::Url;

use super::address;

pub const TIMEOUT: Duration = Duration::from_secs(15);
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// The signed request of one attempt.
pub struct Outgoing<'a> {
    pub url: &'a str,
    pub message_id: &'a str,
    pub timestamp: i64,
    pub signature: &'a str,
    pub body: &'a str,
}

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: Option<u16>,
    /// At most [`MAX_RESPONSE_BYTES`], lossily decoded.
    pub body: Option<String>,
    pub retry_after: Option<String>,
    /// Why there is no status: timeout, refused address, connection error.
    pub error: Option<String>,
    pub duration: Duration,
}

impl Answer {
    fn failed(error: String, started: Instant) -> Self {
        Self { status: None, body: None, retry_after: None, error: Some(error), duration: started.elapsed() }
    }
}

pub async fn send(outgoing: &Outgoing<'_>, allow_private: bool) -> Answer {
    let started = Instant::now();
    let url = match Url::parse(outgoing.url) {
        Ok(url) => url,
        Err(err) => return Answer::failed(format!("invalid URL: {err}"), started),
    };
    let addresses = match address::resolve_checked(&url, allow_private).await {
        Ok(addresses) => addresses,
        Err(refusal) => return Answer::failed(format!("refused: {refusal}"), started),
    };
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(concat!("rigmarket-webhooks/", env!("CARGO_PKG_VERSION")));
    if let Some(host) = url.host_str().filter(|_| matches!(url.host(), Some(url::Host::Domain(_)))) {
        // The checked addresses, so the connection cannot go through a second lookup.
        builder = builder.resolve_to_addrs(host, &addresses);
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(err) => return Answer::failed(format!("HTTP client: {err}"), started),
    };
    let request = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", outgoing.message_id)
        .header("webhook-timestamp", outgoing.timestamp.to_string())
        .header("webhook-signature", outgoing.signature)
        .body(outgoing.body.to_string());
    let reading = async {
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
        let mut body = Vec::new();
        while body.len() < MAX_RESPONSE_BYTES {
            match response.chunk().await? {
                Some(chunk) => body.extend_from_slice(&chunk),
                None => break,
            }
        }
        body.truncate(MAX_RESPONSE_BYTES);
        Ok::<_, reqwest::Error>((status, retry_after, body))
    };
    match tokio::time::timeout(TIMEOUT, reading).await {
        Ok(Ok((status, retry_after, body))) => Answer {
            status: Some(status),
            body: Some(String::from_utf8_lossy(&body).replace('\0', "")),
            retry_after,
            error: None,
            duration: started.elapsed(),
        },
        Ok(Err(err)) if err.is_timeout() => Answer::failed("timed out after 15 s".into(), started),
        Ok(Err(err)) => Answer::failed(format!("{:#}", anyhow::Error::from(err)), started),
        Err(_) => Answer::failed("timed out after 15 s".into(), started),
    }
}
