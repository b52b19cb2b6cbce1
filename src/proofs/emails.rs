//! The email a proof's requester gets with its verdict.

use crate::mail::{escape, EmailTemplate};

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
