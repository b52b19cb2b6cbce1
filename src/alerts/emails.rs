//! The alert emails: one per instant alert, one digest per user per day. Each
//! carries RFC 8058's header pair, so mail clients show an unsubscribe button
//! that works with one click (`POST` to the link, no login).

use crate::mail::{escape, EmailTemplate};

/// An alert or digest email with its one-click unsubscribe link.
pub struct AlertEmail {
    pub subject: String,
    pub text: String,
    pub unsubscribe_url: String,
}

impl EmailTemplate for AlertEmail {
    fn subject(&self) -> String {
        self.subject.clone()
    }

    fn text(&self) -> String {
        format!(
            "{}\n\nTo stop these alerts, unsubscribe with your mail client's button or POST \
             \"List-Unsubscribe=One-Click\" to:\n{}",
            self.text, self.unsubscribe_url
        )
    }

    fn html_body(&self) -> String {
        format!(
            "<p>{}</p><p style=\"color:#666\">To stop these alerts, use your mail client's unsubscribe button.</p>",
            escape(&self.text).replace("\n\n", "</p><p>").replace('\n', "<br>")
        )
    }

    fn headers(&self) -> Vec<(String, String)> {
        vec![
            ("List-Unsubscribe".to_string(), format!("<{}>", self.unsubscribe_url)),
            ("List-Unsubscribe-Post".to_string(), super::unsubscribe::ONE_CLICK_BODY.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_the_rfc_8058_pair_and_escapes_html() {
        let email = AlertEmail {
            subject: "New match".into(),
            text: "<b>S19</b> & co".into(),
            unsubscribe_url: "https://x.test/v1/unsubscribe?token=rmu_a".into(),
        };
        assert_eq!(
            email.headers(),
            [
                ("List-Unsubscribe".to_string(), "<https://x.test/v1/unsubscribe?token=rmu_a>".to_string()),
                ("List-Unsubscribe-Post".to_string(), "List-Unsubscribe=One-Click".to_string())
            ]
        );
        assert!(email.html_body().contains("&lt;b&gt;S19&lt;/b&gt; &amp; co"));
        assert!(email.text().ends_with("https://x.test/v1/unsubscribe?token=rmu_a"));
    }
}
