//! Email templates: each is a small struct that renders a subject, a plain-text
//! body and an HTML body. The HTML layout and escaping live here so no template
//! can forget them.

use super::OutgoingEmail;

pub trait EmailTemplate {
    fn subject(&self) -> String;
    fn text(&self) -> String;
    /// The inner HTML; every interpolated value must go through [`escape`].
    fn html_body(&self) -> String;
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

/// Sent when `rigmarket admin grant` gives an account the admin role: a role change
/// the account owner must always hear about.
pub struct AdminRoleGranted {
    pub display_name: String,
}

impl EmailTemplate for AdminRoleGranted {
    fn subject(&self) -> String {
        "You are now a rigmarket administrator".into()
    }
    fn text(&self) -> String {
        format!(
            "Hello {},\n\nYour account was given the admin role. If you did not expect this, \
             contact the rigmarket operators at once.",
            self.display_name
        )
    }
    fn html_body(&self) -> String {
        format!(
            "<p>Hello {},</p><p>Your account was given the <b>admin</b> role. If you did not \
             expect this, contact the rigmarket operators at once.</p>",
            escape(&self.display_name)
        )
    }
}

/// The link that proves an address belongs to the new account.
pub struct VerifyEmail {
    pub display_name: String,
    pub link: String,
}

impl EmailTemplate for VerifyEmail {
    fn subject(&self) -> String {
        "Confirm your email for rigmarket".into()
    }
    fn text(&self) -> String {
        format!(
            "Hello {},\n\nConfirm your email address to start listing and buying rigs:\n\n{}\n\n\
             The link works once and expires in 24 hours.",
            self.display_name, self.link
        )
    }
    fn html_body(&self) -> String {
        format!(
            "<p>Hello {},</p><p>Confirm your email address to start listing and buying rigs:</p>\
             <p><a href=\"{link}\">{link}</a></p><p>The link works once and expires in 24 hours.</p>",
            escape(&self.display_name),
            link = escape(&self.link)
        )
    }
}

/// Someone tried to register an address that already has an account.
pub struct RegistrationAttempted;

impl EmailTemplate for RegistrationAttempted {
    fn subject(&self) -> String {
        "Someone tried to sign up with your email".into()
    }
    fn text(&self) -> String {
        "Someone tried to create a rigmarket account with this email address, which already has one. \
         If it was you, log in or reset your password instead. Otherwise you can ignore this message."
            .into()
    }
    fn html_body(&self) -> String {
        format!("<p>{}</p>", escape(&self.text()))
    }
}

pub struct PasswordResetLink {
    pub link: String,
}

impl EmailTemplate for PasswordResetLink {
    fn subject(&self) -> String {
        "Reset your rigmarket password".into()
    }
    fn text(&self) -> String {
        format!(
            "Someone asked to reset the password of this account. If it was you, choose a new one here:\n\n{}\n\n\
             The link works once and expires in 1 hour. Otherwise ignore this message.",
            self.link
        )
    }
    fn html_body(&self) -> String {
        format!(
            "<p>Someone asked to reset the password of this account. If it was you, choose a new one:</p>\
             <p><a href=\"{link}\">{link}</a></p><p>The link works once and expires in 1 hour.</p>",
            link = escape(&self.link)
        )
    }
}

/// Sent after a password change or reset; every session was signed out.
pub struct PasswordChanged;

impl EmailTemplate for PasswordChanged {
    fn subject(&self) -> String {
        "Your rigmarket password was changed".into()
    }
    fn text(&self) -> String {
        "The password of your rigmarket account was changed and every session was signed out. \
         If you did not do this, reset your password now and contact us."
            .into()
    }
    fn html_body(&self) -> String {
        format!("<p>{}</p>", escape(&self.text()))
    }
}

pub struct AccountSuspended {
    pub reason: String,
}

impl EmailTemplate for AccountSuspended {
    fn subject(&self) -> String {
        "Your rigmarket account was suspended".into()
    }
    fn text(&self) -> String {
        format!(
            "Your rigmarket account was suspended. Reason: {}\n\nYour listings are hidden and you cannot \
             make changes until an administrator reinstates the account. Reply to this email to appeal.",
            self.reason
        )
    }
    fn html_body(&self) -> String {
        format!(
            "<p>Your rigmarket account was suspended.</p><p>Reason: {}</p><p>Your listings are hidden and you \
             cannot make changes until an administrator reinstates the account. Reply to appeal.</p>",
            escape(&self.reason)
        )
    }
}

/// The seller hears about every moderation decision.
pub struct ListingReviewed {
    pub title: String,
    pub approved: bool,
    pub reason: Option<String>,
}

impl EmailTemplate for ListingReviewed {
    fn subject(&self) -> String {
        if self.approved {
            format!("Your listing is live: {}", self.title)
        } else {
            format!("Your listing was not approved: {}", self.title)
        }
    }
    fn text(&self) -> String {
        match (&self.reason, self.approved) {
            (_, true) => format!("\"{}\" passed review and is now visible to buyers.", self.title),
            (Some(reason), false) => {
                format!("\"{}\" was not approved. Reason: {reason}\n\nEdit it and submit it again.", self.title)
            }
            (None, false) => format!("\"{}\" was not approved. Edit it and submit it again.", self.title),
        }
    }
    fn html_body(&self) -> String {
        format!("<p>{}</p>", escape(&self.text()).replace('\n', "<br>"))
    }
}

/// Sent 7 days and 1 day before a hosting deadline expires a listing.
pub struct PowerOffReminder {
    pub title: String,
    pub power_off_at: chrono::DateTime<chrono::Utc>,
}

impl EmailTemplate for PowerOffReminder {
    fn subject(&self) -> String {
        format!("Hosting deadline {}: {}", self.power_off_at.format("%Y-%m-%d %H:%M UTC"), self.title)
    }
    fn text(&self) -> String {
        format!(
            "Your listing \"{}\" expires at {} when the rigs must be powered off. Adjust the price or the \
             hosting details if you still want to sell before then.",
            self.title,
            self.power_off_at.format("%Y-%m-%d %H:%M UTC")
        )
    }
    fn html_body(&self) -> String {
        format!("<p>{}</p>", escape(&self.text()))
    }
}

pub struct ListingExpired {
    pub title: String,
}

impl EmailTemplate for ListingExpired {
    fn subject(&self) -> String {
        format!("Listing expired: {}", self.title)
    }
    fn text(&self) -> String {
        format!("\"{}\" expired: its hosting power-off time has passed.", self.title)
    }
    fn html_body(&self) -> String {
        format!("<p>{}</p>", escape(&self.text()))
    }
}

/// The verdict of a hashrate proof, for the seller (or buyer) who asked for it.
pub struct ProofVerdict {
    pub verified: bool,
    pub estimated_ths: f64,
    pub low_ths: f64,
    pub high_ths: f64,
    pub claimed_ths: f64,
    pub shares: i64,
}

impl EmailTemplate for ProofVerdict {
    fn subject(&self) -> String {
        if self.verified {
            format!("Hashrate verified: {:.2} TH/s", self.estimated_ths)
        } else {
            format!("Hashrate proof failed: {:.2} of {:.2} TH/s", self.estimated_ths, self.claimed_ths)
        }
    }
    fn text(&self) -> String {
        format!(
            "{}\n\nMeasured {:.3} TH/s (95 % interval {:.3} to {:.3} TH/s) from {} shares, against a claim of {:.3} TH/s.",
            if self.verified { "Your rigs passed the hashrate proof." } else { "Your rigs did not pass the hashrate proof." },
            self.estimated_ths,
            self.low_ths,
            self.high_ths,
            self.shares,
            self.claimed_ths
        )
    }
    fn html_body(&self) -> String {
        format!("<p>{}</p>", escape(&self.text()).replace('\n', "<br>"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let email = render("a@example.com", &AdminRoleGranted { display_name: "<script>x</script> & co".into() });
        assert!(email.html.contains("&lt;script&gt;x&lt;/script&gt; &amp; co"));
        assert!(!email.html.contains("<script>"));
        assert!(email.text.contains("<script>x</script> & co"));
        assert!(email.message_id.starts_with('<') && email.message_id.ends_with("@rigmarket>"));
    }
}
