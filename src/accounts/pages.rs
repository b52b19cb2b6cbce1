//! The pages that email links open when no client web app is configured
//! (`RIGMARKET_WEB_URL` unset): `GET /verify-email` and `GET /reset-password`.
//! Each is one self-contained HTML document (no external scripts, styles or
//! fonts) whose small inline script posts the link's token to the API and says
//! what happened. They are not API operations, so they stay out of the OpenAPI
//! document, like `/docs`.
//!
//! A button, not the page load, sends the token: mail scanners that fetch links
//! must not use them up.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The path of the verification link (`<web URL>/verify-email?token=`).
pub const VERIFY_EMAIL_PAGE: &str = "/verify-email";
/// The path of the password-reset link (`<web URL>/reset-password?token=`).
pub const RESET_PASSWORD_PAGE: &str = "/reset-password";

/// The API routes the pages post to, relative so that a public URL with a path
/// prefix (behind a proxy) still reaches them.
const VERIFY_EMAIL_API: &str = "v1/auth/verify-email";
const RESET_PASSWORD_API: &str = "v1/auth/password-reset/confirm";

const STYLE: &str = "body{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em;line-height:1.4}\
label{display:block;margin:.8em 0}input{display:block;width:100%;padding:.4em;box-sizing:border-box}\
button{margin-top:1em;padding:.5em 1.2em}#result{margin-top:1.2em;font-weight:bold}";

/// Shared by both pages: the token from the link, the API call, and the answer
/// in words (the problem's `detail` and field errors on failure).
const SCRIPT_COMMON: &str = r#"
const token = new URLSearchParams(location.search).get("token");
const form = document.getElementById("form");
const result = document.getElementById("result");
function say(text) { result.textContent = text; }
if (!token) { say("This link has no token. Open the link from the email exactly as it was sent."); form.hidden = true; }
async function post(api, body, done) {
  try {
    const response = await fetch(api, {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(body)});
    if (response.ok) { form.hidden = true; say(done); return; }
    const problem = await response.json().catch(() => ({}));
    const fields = (problem.errors || []).map((e) => e.message).join(" ");
    say([problem.detail || problem.title || ("The service answered " + response.status + "."), fields].join(" ").trim());
  } catch (error) {
    say("The service could not be reached; try again.");
  }
}
"#;

fn verify_script() -> String {
    format!(
        r#"{SCRIPT_COMMON}
form.addEventListener("submit", (event) => {{
  event.preventDefault();
  post("{VERIFY_EMAIL_API}", {{token}}, "Your email address is verified. You can close this page and sign in.");
}});
"#
    )
}

fn reset_script() -> String {
    format!(
        r#"{SCRIPT_COMMON}
form.addEventListener("submit", (event) => {{
  event.preventDefault();
  const password = document.getElementById("password").value;
  if (password !== document.getElementById("repeat").value) {{ say("The two passwords differ."); return; }}
  post("{RESET_PASSWORD_API}", {{token, new_password: password}}, "Your password is changed and every session was signed out. Sign in with the new one.");
}});
"#
    )
}

const VERIFY_FORM: &str = r#"<h1>Confirm your email</h1>
<form id="form"><p>Confirm the email address of your rigmarket account.</p><button type="submit">Confirm my email</button></form>"#;

const RESET_FORM: &str = r#"<h1>Choose a new password</h1>
<form id="form">
<label>New password (10 to 128 characters)<input id="password" type="password" autocomplete="new-password" minlength="10" maxlength="128" required></label>
<label>Repeat it<input id="repeat" type="password" autocomplete="new-password" minlength="10" maxlength="128" required></label>
<button type="submit">Set the password</button></form>"#;

/// One rendered page and the header that allows exactly its inline code.
struct Page {
    html: String,
    content_security_policy: String,
}

fn csp_hash(source: &str) -> String {
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(source.as_bytes())))
}

fn page(title: &str, body: &str, script: &str) -> Page {
    Page {
        html: format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <meta name=\"referrer\" content=\"no-referrer\"><title>{title} - rigmarket</title>\
             <style>{STYLE}</style></head>\n<body>\n{body}\n<p id=\"result\" role=\"status\"></p>\n\
             <script>{script}</script>\n</body></html>\n"
        ),
        // Nothing but this page's own style and script; fetch only to this origin.
        content_security_policy: format!(
            "default-src 'none'; style-src {}; script-src {}; connect-src 'self'; form-action 'none'; \
             base-uri 'none'; frame-ancestors 'none'",
            csp_hash(STYLE),
            csp_hash(script)
        ),
    }
}

static VERIFY_PAGE: LazyLock<Page> = LazyLock::new(|| page("Confirm your email", VERIFY_FORM, &verify_script()));
static RESET_PAGE: LazyLock<Page> = LazyLock::new(|| page("Choose a new password", RESET_FORM, &reset_script()));

fn respond(page: &Page) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, page.content_security_policy.as_str()))
        // The token is in the URL: keep it out of caches and other sites' logs.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(page.html.clone())
}

/// Registers the pages (plain actix routes, outside the OpenAPI document).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(VERIFY_EMAIL_PAGE, web::get().to(|| async { respond(&VERIFY_PAGE) }))
        .route(RESET_PASSWORD_PAGE, web::get().to(|| async { respond(&RESET_PAGE) }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_allow_only_their_own_inline_code() {
        for page in [&*VERIFY_PAGE, &*RESET_PAGE] {
            assert!(!page.html.contains("src="), "no external resources");
            assert!(page.content_security_policy.contains(&csp_hash(STYLE)));
            assert!(page.content_security_policy.starts_with("default-src 'none'"));
        }
        assert!(VERIFY_PAGE.content_security_policy.contains(&csp_hash(&verify_script())));
        assert!(RESET_PAGE.content_security_policy.contains(&csp_hash(&reset_script())));
        assert!(VERIFY_PAGE.html.contains(&format!("<script>{}</script>", verify_script())));
    }
}
