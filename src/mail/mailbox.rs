//! Reading back the `.eml` files the file transport writes (`rigmarket mail
//! list|show`). Bodies are quoted-printable with soft line breaks (`token=3D...`,
//! `=` at line ends), so a token copied out of the raw file is wrong; this decodes
//! them with `mail-parser` and prints each link whole on its own line.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use mail_parser::{Message, MessageParser};

/// What `mail show latest` means.
pub const LATEST: &str = "latest";

/// The directory of `.eml` files (`RIGMARKET_MAIL_DIR`).
pub struct MailDir {
    dir: PathBuf,
}

/// One message as `mail list` shows it.
#[derive(Debug, Clone)]
pub struct MailSummary {
    /// The file name without `.eml` (what `mail show` takes).
    pub id: String,
    pub path: PathBuf,
    /// RFC 3339, from the `Date` header.
    pub date: String,
    pub to: String,
    pub subject: String,
    written: SystemTime,
}

/// One message decoded for reading.
#[derive(Debug, Clone)]
pub struct ShownMail {
    pub summary: MailSummary,
    pub from: String,
    /// The decoded text/plain body.
    pub text: String,
    /// Every http(s) link of the text body, in order.
    pub links: Vec<String>,
}

impl MailDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Every message, newest first (by when its file was written, which is finer
    /// than the `Date` header's seconds), optionally only those to `to`.
    pub fn list(&self, to: Option<&str>) -> anyhow::Result<Vec<MailSummary>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error).with_context(|| format!("reading {}", self.dir.display())),
        };
        let mut mails = Vec::new();
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_none_or(|ext| ext != "eml") {
                continue;
            }
            let raw = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let Some(message) = MessageParser::default().parse(&raw) else { continue };
            let written = std::fs::metadata(&path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
            let summary = summarize(path, &message, written);
            if to.is_none_or(|to| summary.to.to_lowercase().contains(&to.trim().to_lowercase())) {
                mails.push(summary);
            }
        }
        mails.sort_by(|a, b| b.written.cmp(&a.written).then_with(|| b.date.cmp(&a.date)).then(a.id.cmp(&b.id)));
        Ok(mails)
    }

    /// The message `which` names: [`LATEST`], an id, or an id's unique prefix.
    pub fn show(&self, which: &str, to: Option<&str>) -> anyhow::Result<ShownMail> {
        let mails = self.list(to)?;
        let which = which.trim().trim_end_matches(".eml");
        let summary = if which == LATEST {
            mails.into_iter().next().with_context(|| format!("no mail in {}", self.dir.display()))?
        } else {
            let mut matching: Vec<_> = mails.into_iter().filter(|m| m.id.starts_with(which)).collect();
            match matching.len() {
                0 => anyhow::bail!("no mail {which} in {}", self.dir.display()),
                1 => matching.remove(0),
                n => match matching.iter().position(|m| m.id == which) {
                    Some(exact) => matching.remove(exact),
                    None => anyhow::bail!("{n} messages start with {which}; give more of the id"),
                },
            }
        };
        let raw = std::fs::read(&summary.path).with_context(|| format!("reading {}", summary.path.display()))?;
        let message = MessageParser::default()
            .parse(&raw)
            .with_context(|| format!("{} is not a message", summary.path.display()))?;
        let text = message.body_text(0).map(|text| text.into_owned()).unwrap_or_default();
        let from = first_address(message.from());
        Ok(ShownMail { links: links_in(&text), from, text, summary })
    }
}

fn summarize(path: PathBuf, message: &Message<'_>, written: SystemTime) -> MailSummary {
    MailSummary {
        id: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        date: message.date().map(|d| d.to_rfc3339()).unwrap_or_default(),
        to: first_address(message.to()),
        subject: message.subject().unwrap_or_default().to_string(),
        written,
        path,
    }
}

fn first_address(address: Option<&mail_parser::Address<'_>>) -> String {
    address.and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_string()
}

/// The http(s) URLs in `text`, without the punctuation a sentence may put after them.
pub fn links_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|word| word.trim_start_matches(['<', '(', '"']))
        .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
        .map(|word| word.trim_end_matches(['.', ',', ';', ')', '>', '"']).to_string())
        .collect()
}

impl fmt::Display for MailSummary {
    /// One line of `mail list`: id, date, recipient, subject, tab-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\t{}\t{}\t{}", self.id, self.date, self.to, self.subject)
    }
}

impl fmt::Display for ShownMail {
    /// Headers, the decoded text, then each link alone on its line (copyable whole).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.summary;
        writeln!(f, "Id: {}\nFile: {}", s.id, s.path.display())?;
        writeln!(f, "Date: {}\nFrom: {}\nTo: {}\nSubject: {}\n", s.date, self.from, s.to, s.subject)?;
        writeln!(f, "{}", self.text.trim_end())?;
        if !self.links.is_empty() {
            writeln!(f, "\nLinks:")?;
            for link in &self.links {
                writeln!(f, "{link}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_whole_without_trailing_punctuation() {
        let text = "Confirm here:\n\nhttp://127.0.0.1:8080/verify-email?token=abc_DEF-1\n\n(or <https://x.test/a>).";
        assert_eq!(links_in(text), ["http://127.0.0.1:8080/verify-email?token=abc_DEF-1", "https://x.test/a"]);
    }

    #[test]
    fn quoted_printable_soft_breaks_are_decoded() {
        let raw = "From: a@x.test\r\nTo: b@x.test\r\nSubject: Hi\r\nDate: Mon, 5 Jan 2026 09:00:00 +0000\r\n\
                   Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
                   http://127.0.0.1:8080/verify-email?token=3Drm_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=\r\nHIJ\r\n";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("one.eml"), raw).unwrap();
        let shown = MailDir::new(dir.path()).show(LATEST, None).unwrap();
        assert_eq!(
            shown.links,
            ["http://127.0.0.1:8080/verify-email?token=rm_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"]
        );
        assert_eq!((shown.summary.to.as_str(), shown.summary.subject.as_str()), ("b@x.test", "Hi"));
        assert_eq!(shown.summary.date, "2026-01-05T09:00:00Z");
    }
}
