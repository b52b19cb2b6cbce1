//! A real SMTP listener on a loopback port, in the test process: lettre speaks
//! SMTP to it over TCP and the test reads what arrived. It can be told to refuse
//! the next N messages with a transient error, to exercise retries.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// The raw message (headers and body) as sent in DATA.
    pub data: String,
}

impl ReceivedMail {
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    }
}

#[derive(Default)]
struct Inbox {
    mails: Vec<ReceivedMail>,
    refuse_next: usize,
}

#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    inbox: Arc<Mutex<Inbox>>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let shared = inbox.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, shared.clone()));
            }
        });
        Self { port, inbox }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.inbox.lock().unwrap().mails.clone()
    }

    pub fn received_for(&self, address: &str) -> Vec<ReceivedMail> {
        self.received().into_iter().filter(|m| m.to.iter().any(|t| t == address)).collect()
    }

    /// Answers the next `n` MAIL commands with `451` (try again later).
    pub fn refuse_next(&self, n: usize) {
        self.inbox.lock().unwrap().refuse_next = n;
    }
}

fn address(arg: &str) -> String {
    arg.split_once(':')
        .map(|(_, rest)| rest.trim().trim_start_matches('<').split('>').next().unwrap_or("").to_string())
        .unwrap_or_default()
}

async fn session(socket: tokio::net::TcpStream, inbox: Arc<Mutex<Inbox>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    let _ = write.write_all(b"220 rigmarket-test ESMTP\r\n").await;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_string();
        let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-rigmarket-test\r\n250 8BITMIME\r\n",
            "HELO" | "NOOP" => b"250 OK\r\n",
            "RSET" => {
                (from, to) = (String::new(), Vec::new());
                b"250 OK\r\n"
            }
            "MAIL" => {
                let mut inbox = inbox.lock().unwrap();
                if inbox.refuse_next > 0 {
                    inbox.refuse_next -= 1;
                    b"451 4.3.0 try again later\r\n"
                } else {
                    from = address(&command);
                    b"250 OK\r\n"
                }
            }
            "RCPT" => {
                to.push(address(&command));
                b"250 OK\r\n"
            }
            "DATA" => {
                let _ = write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
                }
                inbox.lock().unwrap().mails.push(ReceivedMail {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data: data.replace("\r\n", "\n"),
                });
                b"250 OK queued\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"502 command not implemented\r\n",
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

impl ReceivedMail {
    /// The decoded body of the first MIME part with this content type.
    pub fn part(&self, content_type: &str) -> Option<String> {
        mime_part(&self.data, content_type)
    }
}

/// Splits a raw message (as sent over SMTP or written to an `.eml` file) into its
/// header block, with folded lines joined, and its body.
fn split_headers(raw: &str) -> (String, &str) {
    let (head, body) = raw.split_once("\n\n").unwrap_or((raw, ""));
    (head.replace("\n ", " ").replace("\n\t", " "), body)
}

fn header_value(headers: &str, name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    headers.lines().find(|l| l.to_ascii_lowercase().starts_with(&prefix)).map(|l| l[prefix.len()..].trim().to_string())
}

/// The decoded body of the first part of a `multipart/*` message whose
/// Content-Type starts with `content_type` (`text/plain`, `text/html`).
pub fn mime_part(raw: &str, content_type: &str) -> Option<String> {
    let raw = raw.replace("\r\n", "\n");
    let (headers, body) = split_headers(&raw);
    let top = header_value(&headers, "content-type")?;
    let boundary = top.split("boundary=").nth(1)?.trim_matches('"').split(['"', ';']).next()?.to_string();
    body.split(&format!("--{boundary}")).find_map(|part| {
        let (headers, body) = split_headers(part.trim_start_matches('\n'));
        let part_type = header_value(&headers, "content-type")?;
        if !part_type.to_ascii_lowercase().starts_with(content_type) {
            return None;
        }
        let body = body.strip_suffix('\n').unwrap_or(body);
        match header_value(&headers, "content-transfer-encoding").unwrap_or_default().to_ascii_lowercase().as_str() {
            "quoted-printable" => Some(decode_quoted_printable(body)),
            "base64" => {
                use base64::Engine;
                let compact: String = body.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD.decode(compact).ok()?;
                String::from_utf8(bytes).ok()
            }
            _ => Some(body.to_string()),
        }
    })
}

fn decode_quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(byte) = u8::from_str_radix(hex, 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
