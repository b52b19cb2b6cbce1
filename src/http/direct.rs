//! HTTP/1.1 for long-lived responses, straight off the socket.
//!
//! actix-web's dispatcher keeps an 8 KB read and an 8 KB write buffer, its
//! timers and the request's state for as long as a connection lives: right
//! for requests, heavy for ten thousand event streams that each send a line a
//! minute. The server (`app::server`) therefore looks at the first request of
//! every new connection before actix-web does ([`peek_head`]: the bytes stay
//! in the socket); a capability that recognises it takes the connection and
//! answers it here, with one response delimited by closing the connection.
//! Everything else, including anything the peek cannot settle quickly, goes
//! to actix-web untouched.
//!
//! Responses are built as actix-web `HttpResponse`s (errors through
//! `ApiError`'s own rendering) and written by [`write_head`] and
//! [`write_response`], so they carry what the full stack's answers carry
//! (`date`, `x-request-id`) plus `connection: close`.

use std::time::{Duration, SystemTime};

use actix_web::http::header::{self, HttpDate};
use actix_web::HttpResponse;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::REQUEST_ID_HEADER;

/// How long a new connection may stay silent before it is actix-web's (its
/// own head timeout then runs). As long as actix-web's head timeout: a client
/// opening thousands of streams at once (all of them reconnecting after a
/// restart) may take that long to write each request, and a stream handed to
/// actix-web costs several times the memory of one served here.
const FIRST_BYTES_WITHIN: Duration = Duration::from_secs(5);
/// How long the rest of a recognised head may take to arrive.
const HEAD_WITHIN: Duration = Duration::from_secs(2);
/// The largest head read here; bigger ones are actix-web's to refuse.
const MAX_HEAD: usize = 8 * 1024;
const MAX_HEADERS: usize = 32;

/// A request head, parsed from bytes still in the socket.
#[derive(Debug)]
pub struct Head {
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, without `?`.
    pub query: String,
    /// Header names in lower case, values as sent.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The head's length in bytes, blank line included.
    len: usize,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, value)| value.as_slice())
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }
}

/// The head of the connection's first request, if its first bytes are
/// `start` and the whole head arrives soon; nothing is read from the socket.
pub async fn peek_head(io: &TcpStream, start: &[u8]) -> Option<Head> {
    tokio::time::timeout(FIRST_BYTES_WITHIN, io.readable()).await.ok()?.ok()?;
    // Most connections are turned away here, after a few bytes.
    let mut first = [0u8; 32];
    let start = &start[..start.len().min(first.len())];
    let seen = io.peek(&mut first[..start.len()]).await.ok()?;
    if seen == 0 || !start.starts_with(&first[..seen]) {
        return None;
    }
    tokio::time::timeout(HEAD_WITHIN, peek_whole_head(io, start)).await.ok()?
}

async fn peek_whole_head(io: &TcpStream, start: &[u8]) -> Option<Head> {
    let mut buffer = vec![0u8; MAX_HEAD];
    let mut seen = 0;
    loop {
        let now_seen = io.peek(&mut buffer).await.ok()?;
        let compared = now_seen.min(start.len());
        if now_seen == 0 || buffer[..compared] != start[..compared] {
            return None;
        }
        if now_seen > seen {
            seen = now_seen;
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut request = httparse::Request::new(&mut headers);
            match request.parse(&buffer[..seen]) {
                Ok(httparse::Status::Complete(len)) => return Head::from_parsed(&request, len),
                Ok(httparse::Status::Partial) if seen < MAX_HEAD => {}
                _ => return None,
            }
        }
        // The head arrives in more than one segment (rare): peeking again at
        // once would see the same bytes.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

impl Head {
    fn from_parsed(request: &httparse::Request, len: usize) -> Option<Head> {
        if request.version != Some(1) {
            return None;
        }
        let (path, query) = match request.path?.split_once('?') {
            Some((path, query)) => (path, query),
            None => (request.path?, ""),
        };
        let headers = request.headers.iter().map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec())).collect();
        Some(Head {
            method: request.method?.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers,
            len,
        })
    }

    /// True when the request may be answered here: no body, no upgrade, no
    /// `Expect`, and no `Origin` (a browser's cross-origin request needs
    /// actix-web's CORS handling).
    pub fn is_plain_get(&self) -> bool {
        let body = self.has_header("content-length") || self.has_header("transfer-encoding");
        self.method == "GET"
            && !body
            && !self.has_header("upgrade")
            && !self.has_header("expect")
            && !self.has_header("origin")
    }

    /// Reads the head off the socket (it was only peeked).
    pub async fn consume(&self, io: &mut TcpStream) -> std::io::Result<()> {
        let mut head = vec![0u8; self.len];
        io.read_exact(&mut head).await.map(|_| ())
    }
}

/// `response`'s status line and headers, with `date`, `x-request-id` and
/// `connection: close` (the body ends when the connection does).
fn head_bytes(response: &HttpResponse, request_id: &str) -> Vec<u8> {
    let status = response.status();
    let mut head = format!("HTTP/1.1 {} {}\r\n", status.as_str(), status.canonical_reason().unwrap_or(""));
    for (name, value) in response.headers() {
        if name != header::CONNECTION && name != header::CONTENT_LENGTH && name != header::DATE {
            head.push_str(name.as_str());
            head.push_str(": ");
            head.push_str(value.to_str().unwrap_or(""));
            head.push_str("\r\n");
        }
    }
    head.push_str(&format!("date: {}\r\n{REQUEST_ID_HEADER}: {request_id}\r\n", HttpDate::from(SystemTime::now())));
    head.into_bytes()
}

/// Writes the head of a response whose body follows until the connection closes.
pub async fn write_head(
    io: &mut (impl AsyncWriteExt + Unpin),
    response: &HttpResponse,
    request_id: &str,
) -> std::io::Result<()> {
    let mut head = head_bytes(response, request_id);
    head.extend_from_slice(b"connection: close\r\n\r\n");
    io.write_all(&head).await
}

/// Writes a whole response with its body.
pub async fn write_response(
    io: &mut (impl AsyncWriteExt + Unpin),
    response: HttpResponse,
    request_id: &str,
) -> std::io::Result<()> {
    let mut bytes = head_bytes(&response, request_id);
    let body = actix_web::body::to_bytes(response.into_body()).await.unwrap_or_default();
    bytes.extend_from_slice(format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()).as_bytes());
    bytes.extend_from_slice(&body);
    io.write_all(&bytes).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Option<Head> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(raw).unwrap() {
            httparse::Status::Complete(len) => Head::from_parsed(&request, len),
            httparse::Status::Partial => None,
        }
    }

    #[test]
    fn a_head_splits_path_and_query_and_lowers_header_names() {
        let raw = b"GET /v1/me/events?ticket=rmt_x HTTP/1.1\r\nHost: a\r\nLast-Event-ID: 7\r\n\r\nrest";
        let head = parse(raw).unwrap();
        assert_eq!((head.path.as_str(), head.query.as_str()), ("/v1/me/events", "ticket=rmt_x"));
        assert_eq!(head.header("last-event-id"), Some(&b"7"[..]));
        assert_eq!(head.len, raw.len() - 4);
        assert!(head.is_plain_get());
    }

    #[test]
    fn only_plain_gets_are_answered_here() {
        for raw in [
            &b"POST /v1/me/events HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            b"GET /v1/me/events HTTP/1.1\r\nOrigin: https://app.example\r\n\r\n",
            b"GET /v1/me/events HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            b"GET /v1/me/events HTTP/1.1\r\nUpgrade: h2c\r\n\r\n",
        ] {
            assert!(!parse(raw).unwrap().is_plain_get(), "{}", String::from_utf8_lossy(raw));
        }
        assert!(parse(b"GET /v1/me/events HTTP/1.0\r\n\r\n").is_none(), "HTTP/1.0 is actix-web's");
    }

    #[tokio::test]
    async fn a_response_is_closed_delimited_and_carries_the_common_headers() {
        let mut written = Vec::new();
        let response = HttpResponse::Unauthorized().content_type("application/problem+json").body("{}");
        write_response(&mut written, response, "req-1").await.unwrap();
        let text = String::from_utf8(written).unwrap();
        assert!(text.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{text}");
        for line in ["content-type: application/problem+json\r\n", "x-request-id: req-1\r\n", "content-length: 2\r\n"] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(text.ends_with("connection: close\r\n\r\n{}"), "{text}");
    }
}
