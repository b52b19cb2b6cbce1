//! Email templates: each is a small struct that renders a subject, a plain-text
//! body and an HTML body. The HTML layout and escaping live here so no template
//! can forget them.

use serde::{Deserialize, Serialize};

/// A rendered email, ready to send (the outbox job's payload).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
    /// Extra header fields (`List-Unsubscribe` ...); absent from jobs queued
    /// before they existed, hence the default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

pub trait EmailTemplate {
    fn subject(&self) -> String;
    fn text(&self) -> String;
    /// The inner HTML; every interpolated value must go through [`escape`].
    fn html_body(&self) -> String;
    /// Header fields beyond From/To/Subject (name, value), e.g. RFC 8058's
    /// `List-Unsubscribe` pair. Names must be ASCII; values one line.
    fn headers(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// An email that is a subject and a few plain sentences (paragraphs split by
/// blank lines), its HTML part the same text escaped.
pub struct PlainNotice {
    pub subject: String,
    pub text: String,
}

impl EmailTemplate for PlainNotice {
    fn subject(&self) -> String {
        self.subject.clone()
    }
    fn text(&self) -> String {
        self.text.clone()
    }
    fn html_body(&self) -> String {
        format!("<p>{}</p>", escape(&self.text).replace("\n\n", "</p><p>").replace('\n', "<br>"))
    }
}

pub fn render(to: &str, template: &impl EmailTemplate) -> OutgoingEmail {
    let subject = template.subject();
    OutgoingEmail {
        to: to.to_string(),
        text: format!("{}\n\n-- \nrigmarket\n", template.text()),
        html: format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body style=\"font-family:sans-serif;max-width:40em\">{body}\
             <p style=\"color:#666\">rigmarket</p></body></html>",
            title = escape(&subject),
            body = template.html_body()
        ),
        subject,
        message_id: format!("<{}@rigmarket>", uuid::Uuid::new_v4()),
        headers: template.headers(),
    }
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Greeting(&'static str);

    impl EmailTemplate for Greeting {
        fn subject(&self) -> String {
            format!("Hello {}", self.0)
        }
        fn text(&self) -> String {
            format!("Hello {}.", self.0)
        }
        fn html_body(&self) -> String {
            format!("<p>Hello {}.</p>", escape(self.0))
        }
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let email = render("a@example.com", &Greeting("<script>x</script> & co"));
        assert!(email.html.contains("&lt;script&gt;x&lt;/script&gt; &amp; co"));
        assert!(!email.html.contains("<script>"));
        assert!(email.text.contains("<script>x</script> & co"));
        assert!(email.message_id.starts_with('<') && email.message_id.ends_with("@rigmarket>"));
    }
}
