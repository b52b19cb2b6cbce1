//! The email an endpoint's owner gets when deliveries to it stop.

use crate::mail::{escape, EmailTemplate};

pub struct EndpointDisabled {
    pub url: String,
    /// `gone` (the receiver answered 410) or `failing` (three days of failures).
    pub reason: &'static str,
}

impl EmailTemplate for EndpointDisabled {
    fn subject(&self) -> String {
        format!("Webhook endpoint disabled: {}", self.url)
    }
    fn text(&self) -> String {
        let why = match self.reason {
            "gone" => "answered 410 Gone".to_string(),
            _ => "has failed every delivery for three days".to_string(),
        };
        format!(
            "Your webhook endpoint {} {why}, so rigmarket stopped sending to it.\n\n\
             Fix the receiver, send a test (POST /v1/me/webhooks/{{id}}/test) and enable it again \
             (PATCH /v1/me/webhooks/{{id}} with {{\"enabled\": true}}). Missed deliveries can be sent \
             again from the delivery log.",
            self.url
        )
    }
    fn html_body(&self) -> String {
        format!("<p>{}</p>", escape(&self.text()).replace("\n\n", "</p><p>"))
    }
}
