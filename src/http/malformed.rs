//! Problem+json for requests refused before any middleware sees them.
//!
//! actix-http's HTTP/1 parser answers a request it cannot parse (a NUL or
//! another control character in a header, a header name that is not a token,
//! a broken request line), a head that is too large, or a head that arrives
//! too slowly with a hard-coded empty response (`content-length: 0`, no
//! content type) and closes the connection; it offers no hook to render it.
//! [`ProblemOnRefusal`] wraps the connection's socket and, on the way out,
//! replaces exactly those empty refusals with the same problem+json body every
//! other error has. Our own handlers never send an empty 400/408/431, so a
//! real response is never touched.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::ApiError;

/// The problem a bare refusal of this status stands for.
fn problem_for(status: u16) -> Option<ApiError> {
    match status {
        400 => Some(ApiError::bad_request(
            "malformed_request",
            "The request line or a header could not be parsed: header values may not contain control \
             characters such as NUL, and header names must be tokens.",
        )),
        408 => Some(ApiError::RequestTimeout),
        431 => Some(ApiError::HeadersTooLarge),
        _ => None,
    }
}

/// Where the bare refusal head starts in `written`, and its status, if the
/// buffer ends with one. The parser's refusal is always the last response of
/// its connection, so it is only looked for at the end; it is recognised by
/// its exact shape (an empty body and no header but `content-length: 0`,
/// `connection` and `date`), which no response of ours has: every one carries
/// `x-request-id`, and a JSON body cannot contain a raw line break.
fn bare_refusal(written: &[u8]) -> Option<(usize, u16)> {
    if !written.ends_with(b"\r\n\r\n") {
        return None;
    }
    let head_start = find_last(written, b"HTTP/1.1 ")?;
    let head = std::str::from_utf8(&written[head_start..]).ok()?;
    let status: u16 = head.get(9..12)?.parse().ok()?;
    let mut headers = head.trim_end().lines().skip(1).map(str::to_ascii_lowercase);
    let only_framing = headers
        .all(|line| line == "content-length: 0" || line.starts_with("connection: ") || line.starts_with("date: "));
    let empty = head.to_ascii_lowercase().contains("\r\ncontent-length: 0\r\n");
    (only_framing && empty && problem_for(status).is_some()).then_some((head_start, status))
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|window| window == needle)
}

/// The complete response that replaces a bare refusal.
fn problem_response(status: u16) -> Vec<u8> {
    let error = problem_for(status).expect("only called for a known refusal");
    let body = serde_json::to_vec(&error.to_problem()).expect("a problem serializes");
    let reason = actix_web::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
    let mut response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    response
}

/// A connection whose parser refusals go out as problem+json.
pub struct ProblemOnRefusal<T> {
    io: T,
    /// Bytes accepted from the dispatcher but not yet written (only after a
    /// refusal was rewritten, when the replacement is longer than what the
    /// dispatcher handed over).
    pending: Vec<u8>,
}

impl<T> ProblemOnRefusal<T> {
    pub fn new(io: T) -> Self {
        Self { io, pending: Vec::new() }
    }
}

impl<T: AsyncWrite + Unpin> ProblemOnRefusal<T> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let written = ready!(Pin::new(&mut self.io).poll_write(cx, &self.pending))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..written);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemOnRefusal<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemOnRefusal<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        match bare_refusal(buf) {
            Some((head_start, status)) => {
                let mut replaced = buf[..head_start].to_vec();
                replaced.extend(problem_response(status));
                self.pending = replaced;
                // The dispatcher's bytes are ours now; a pending remainder is
                // written by the flush and shutdown that follow a refusal.
                if let Poll::Ready(Err(err)) = self.poll_pending(cx) {
                    return Poll::Ready(Err(err));
                }
                Poll::Ready(Ok(buf.len()))
            }
            None => Pin::new(&mut self.io).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BARE_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\
        date: Mon, 07 Dec 2026 03:00:00 GMT\r\n\r\n";

    #[test]
    fn a_bare_parser_refusal_is_found_at_the_start_or_after_a_previous_response() {
        assert_eq!(bare_refusal(BARE_400), Some((0, 400)));
        let previous = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-request-id: 1\r\n\r\n{}".to_vec();
        let pipelined = [previous.clone(), BARE_400.to_vec()].concat();
        assert_eq!(bare_refusal(&pipelined), Some((previous.len(), 400)));
    }

    #[test]
    fn responses_with_a_body_or_a_content_type_are_left_alone() {
        let problem = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\n\
            content-length: 0\r\n\r\n";
        assert_eq!(bare_refusal(problem), None);
        let not_found = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(bare_refusal(not_found), None);
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(bare_refusal(with_body), None);
        let no_modified = b"HTTP/1.1 304 Not Modified\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(bare_refusal(no_modified), None);
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-request-id: 1\r\n\r\n";
        assert_eq!(bare_refusal(ours), None);
    }

    #[test]
    fn the_replacement_is_a_complete_problem_response() {
        let response = String::from_utf8(problem_response(431)).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["code"], "headers_too_large");
        assert_eq!(problem["status"], 431);
    }
}
