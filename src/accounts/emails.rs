//! The emails accounts send: verification, resets, security notices.

use crate::mail::{escape, EmailTemplate};

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
